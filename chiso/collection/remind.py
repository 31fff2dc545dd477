"""Reminders (đôn đốc) before and after the due date, escalating, never sent twice.

Each data set lists reminder offsets in days from the due date (e.g. -3, 0, 3, 7). On or
after each offset day, every report still in draft or returned gets the reminder of the
latest stage reached (a cron that missed days does not send a backlog of old stages):
- before and on the due date: the unit's focal officers (cán bộ đầu mối);
- after it: the focal officers and the unit's head (a leader member of the unit);
- at the last stage: also the standing office.
The standing office also gets one summary per data set and period on each run day with
late units. Event keys make `notify` drop anything already sent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Membership, Role, User
from chiso.collection import service
from chiso.collection.models import DataSet, Submission
from chiso.notify.service import notify, send_pending
from chiso.periods import Calendar, PeriodType, period_containing
from chiso.settings import get_settings
from chiso.text import format_date
from chiso.units.models import OrgUnit

LOOKBACK_PERIODS = 3
# After the last reminder stage the standing office keeps getting the late list for a week;
# older periods are left to the scorecard (no reminder backlog for old periods).
SUMMARY_DAYS_AFTER_LAST = 7


@dataclass
class RemindSummary:
    reminders: int = 0
    summaries: int = 0
    emails: int = 0
    events: list[str] = field(default_factory=list)


def recent_periods(data_set: DataSet, today: dt.date) -> list[str]:
    """The current period and a few before it (their due dates may be near)."""
    current = period_containing(today, PeriodType(data_set.period_type),
                                Calendar(data_set.calendar))
    periods = [current]
    for _ in range(LOOKBACK_PERIODS):
        periods.append(periods[-1].previous())
    return [p.id for p in periods]


def send_due(session: Session, *, today: dt.date | None = None) -> RemindSummary:
    """Send every reminder and summary due on `today` that was not sent before."""
    today = today or get_settings().current_date()
    summary = RemindSummary()
    summary.emails += send_pending(session)  # approvals and returns not yet e-mailed
    for data_set in session.scalars(select(DataSet).where(DataSet.active.is_(True))
                                    .order_by(DataSet.code)):
        for period in recent_periods(data_set, today):
            if not _in_reminder_window(data_set, period, today):
                continue
            pending = [s for s in service.expected_submissions(session, data_set, period)
                       if s.status in (service.DRAFT, service.RETURNED)]
            for submission in pending:
                _remind(session, data_set, submission, today, summary)
            _summarise(session, data_set, period, pending, today, summary)
    return summary


def _in_reminder_window(data_set: DataSet, period: str, today: dt.date) -> bool:
    offsets = data_set.reminder_offsets or [0]
    due = service.due_date(data_set, period)
    first = due + dt.timedelta(days=min(offsets))
    last = due + dt.timedelta(days=max(offsets) + SUMMARY_DAYS_AFTER_LAST)
    return first <= today <= last


def _stage(data_set: DataSet, submission: Submission, today: dt.date) -> int | None:
    reached = [o for o in sorted(data_set.reminder_offsets or [])
               if submission.due_date + dt.timedelta(days=o) <= today]
    return reached[-1] if reached else None


def _remind(session: Session, data_set: DataSet, submission: Submission, today: dt.date,
            summary: RemindSummary) -> None:
    offset = _stage(data_set, submission, today)
    if offset is None:
        return
    unit = session.get(OrgUnit, submission.unit_id)
    assert unit is not None
    recipients = members(session, unit.id, Role.FOCAL_OFFICER)
    if offset > 0:
        recipients += members(session, unit.id, Role.LEADER)
    if offset > 0 and offset == max(data_set.reminder_offsets):
        recipients += standing_office(session)
    key = f"collection:{data_set.code}:{submission.period}:{unit.code}:{offset:+d}"
    subject, body = _texts(data_set, submission, unit, offset)
    sent = notify(session, recipients=recipients, event_key=key, subject=subject, body=body,
                  link=f"/collection/{data_set.code}/{submission.period}/{unit.code}")
    summary.reminders += 1
    summary.emails += sent
    summary.events.append(key)


def _texts(data_set: DataSet, submission: Submission, unit: OrgUnit, offset: int
           ) -> tuple[str, str]:
    due = format_date(submission.due_date)
    if offset < 0:
        lead_vi, lead_en = f"Còn {-offset} ngày đến hạn nộp", f"{-offset} days to the due date"
    elif offset == 0:
        lead_vi, lead_en = "Hôm nay là hạn nộp", "Due today"
    else:
        lead_vi, lead_en = f"Đã quá hạn {offset} ngày", f"{offset} days overdue"
    vi_period = service.period_label(submission.period, "vi")
    en_period = service.period_label(submission.period, "en")
    subject = f"[chiso] {lead_vi}: {data_set.name_vi} {vi_period} — {unit.name}"
    body = (f"{lead_vi} báo cáo «{data_set.name_vi}» {vi_period} của {unit.name} "
            f"(hạn {due}). Đề nghị đơn vị nhập và gửi báo cáo.\n\n"
            f"{lead_en}: report “{data_set.name_en or data_set.name_vi}” for "
            f"{en_period} of {unit.name} (due {due}). Please enter and submit it.")
    return subject, body


def _summarise(session: Session, data_set: DataSet, period: str, pending: list[Submission],
               today: dt.date, summary: RemindSummary) -> None:
    late = [s for s in pending if s.due_date < today]
    if not late:
        return
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_([s.unit_id for s in late])))}
    lines = "\n".join(f"- {units[s.unit_id].name}: "
                      f"{(today - s.due_date).days} ngày / days" for s in late)
    key = f"collection:summary:{data_set.code}:{period}:{today.isoformat()}"
    sent = notify(session, recipients=standing_office(session), event_key=key,
                  subject=f"[chiso] {len(late)} đơn vị chậm báo cáo «{data_set.name_vi}» "
                          f"{service.period_label(period)}",
                  body=f"Đơn vị chưa gửi báo cáo đã quá hạn / units late:\n{lines}",
                  link=f"/collection/quality?data_set={data_set.code}&period={period}")
    summary.summaries += 1
    summary.emails += sent
    summary.events.append(key)


def members(session: Session, unit_id: int, role: Role) -> list[User]:
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.unit_id == unit_id, Membership.role == role,
                                       User.is_active.is_(True))))


def standing_office(session: Session) -> list[User]:
    return list(session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.role == Role.STANDING_OFFICE,
                                       User.is_active.is_(True))))

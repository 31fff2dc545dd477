"""Báo cáo tháng về nhiệm vụ: each unit that leads tasks reports every month on them — the
progress it recorded that month, or "không phát sinh" (nothing happened this month).

- A unit is expected to report for a month when it led at least one task that was running
  in that month (assigned by the month's end, not finished before it began, not cancelled).
- The report is due on the `DUE_DAY`-th of the following month; one recorded later is late.
- "Không phát sinh" is refused when the unit recorded progress on one of its tasks that
  month (the two cannot both be true).
- Reports are append-only (a correction is a new version), written only here, with CAPTURE
  on the unit and one audit event; a past report reads the latest version recorded by its
  cut-off, so it says who had reported then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.periods import Period, PeriodType, parse_period
from chiso.tasks.history import tasks_as_of
from chiso.tasks.models import MonthReportKind, StoredState, Task, TaskMonthReport, TaskUpdate
from chiso.tasks.service import TaskError, TaskRow, recorded_instant, today, utc
from chiso.text import nfc, to_vn
from chiso.units.models import OrgUnit

DUE_DAY = 5  # the report of a month is due on the 5th of the next month


@dataclass
class UnitMonth:
    """One unit's standing for a month: its running tasks, the progress it recorded and
    its report (None: not reported)."""

    unit_id: int
    unit_name: str
    period: str
    tasks: list[TaskRow] = field(default_factory=list)
    updates: list[TaskUpdate] = field(default_factory=list)
    report: TaskMonthReport | None = None
    due: dt.date | None = None
    unit_code: str = ""

    @property
    def reported_on(self) -> dt.date | None:
        """The day (Vietnam time) the report was recorded."""
        return None if self.report is None else to_vn(self.report.recorded_at).date()

    @property
    def nothing(self) -> bool:
        return self.report is not None and self.report.kind == MonthReportKind.NOTHING

    @property
    def late_days(self) -> int:
        """Days after the due date the report was recorded (0: on time or not reported)."""
        if self.reported_on is None or self.due is None:
            return 0
        return max(0, (self.reported_on - self.due).days)


def month_of(text: str) -> Period:
    """A month id from any spelling ('202609', 'Tháng 9/2026'); a refusal otherwise."""
    period = parse_period(text)
    if period.type is not PeriodType.MONTH:
        raise TaskError(f"Báo cáo tháng cần một tháng (ví dụ 202609), nhận '{text}'",
                        f"a monthly report needs a month (e.g. 202609), got '{text}'")
    return period


def due_date(period: Period) -> dt.date:
    return period.end() + dt.timedelta(days=DUE_DAY)


# ------------------------------------------------------------------ writing

def submit_month_report(session: Session, *, unit_id: int, period: str, access: Access,
                        nothing: bool = False, note: str = "",
                        recorded_at: dt.datetime | None = None) -> TaskMonthReport:
    """Gửi báo cáo tháng (CAPTURE on the unit): the month's progress, or "không phát
    sinh". A month that has not begun cannot be reported."""
    access.require(Action.CAPTURE, unit_id)
    month = month_of(period)
    at = recorded_instant(access, recorded_at)
    day = to_vn(at).date() if recorded_at is not None else today()
    if month.start() > day:
        raise TaskError(f"Tháng {month.label_vi().lower()} chưa bắt đầu",
                        f"{month.label_en()} has not begun")
    if nothing:
        _refuse_nothing_with_progress(session, unit_id, month, at)
    version = (session.scalar(select(func.max(TaskMonthReport.version)).where(
        TaskMonthReport.unit_id == unit_id, TaskMonthReport.period == month.id)) or 0) + 1
    report = TaskMonthReport(unit_id=unit_id, period=month.id, version=version,
                             kind=MonthReportKind.NOTHING if nothing else
                             MonthReportKind.PROGRESS, note=nfc(note).strip(),
                             recorded_at=at, recorded_by_id=access.user.id if access.user
                             else None)
    session.add(report)
    session.flush()
    record_event(session, action="task_month_report.submit", object_type="task_month_report",
                 object_id=report.id, actor=access.actor, unit_id=unit_id,
                 after={"period": month.id, "kind": report.kind, "version": version})
    return report


def _refuse_nothing_with_progress(session: Session, unit_id: int, month: Period,
                                  at: dt.datetime) -> None:
    updates = progress_in_month(session, [unit_id], month, at)
    if updates:
        codes = sorted(set(session.scalars(select(Task.code).where(
            Task.id.in_({u.task_id for u in updates})))))
        raise TaskError(
            f"Không thể báo cáo “không phát sinh”: trong {month.label_vi().lower()} đơn vị đã "
            f"cập nhật tiến độ nhiệm vụ {', '.join(codes)}",
            f"cannot report 'nothing this month': the unit recorded progress on "
            f"{', '.join(codes)} in {month.label_en()}")


# ------------------------------------------------------------------ reading

def progress_in_month(session: Session, unit_ids: Collection[int], month: Period,
                      known_at: dt.datetime) -> list[TaskUpdate]:
    """Progress reports on tasks the units led, dated in the month, recorded by
    `known_at`."""
    return list(session.scalars(select(TaskUpdate).where(
        TaskUpdate.lead_unit_id.in_(list(unit_ids)), TaskUpdate.change == "progress",
        TaskUpdate.update_date >= month.start(), TaskUpdate.update_date <= month.end(),
        TaskUpdate.changed_at <= utc(known_at)).order_by(TaskUpdate.update_date,
                                                         TaskUpdate.id)))


def latest_reports(session: Session, unit_ids: Collection[int], month: Period,
                   known_at: dt.datetime) -> dict[int, TaskMonthReport]:
    """Each unit's latest report for the month recorded by `known_at`."""
    rows = session.scalars(select(TaskMonthReport).where(
        TaskMonthReport.unit_id.in_(list(unit_ids)), TaskMonthReport.period == month.id,
        TaskMonthReport.recorded_at <= utc(known_at)).order_by(TaskMonthReport.version))
    return {row.unit_id: row for row in rows}


def running_in(row: TaskRow, month: Period) -> bool:
    """A task to report on in the month: not cancelled, not finished before it began."""
    task = row.task
    if task.state == StoredState.CANCELLED:
        return False
    return not (task.state == StoredState.DONE and task.completed_on is not None
                and task.completed_on < month.start())


def month_standing(session: Session, *, period: str, unit_ids: Collection[int] | None = None,
                   known_at: dt.datetime | None = None) -> list[UnitMonth]:
    """Every unit expected to report for the month (among `unit_ids` when given) with its
    running tasks, its progress that month and its report, as known at `known_at` (now by
    default); units that have not reported first, then by name."""
    month = month_of(period)
    known = known_at or dt.datetime.now(dt.UTC)
    rows = [r for r in tasks_as_of(session, day=month.end(), known_at=known,
                                   lead_unit_ids=unit_ids) if running_in(r, month)]
    units: dict[int, UnitMonth] = {}
    for row in rows:
        unit = units.setdefault(row.task.lead_unit_id, UnitMonth(
            row.task.lead_unit_id, row.lead_unit_name, month.id, due=due_date(month)))
        unit.tasks.append(row)
    for update in progress_in_month(session, list(units), month, known):
        units[update.lead_unit_id].updates.append(update)
    for unit_id, report in latest_reports(session, list(units), month, known).items():
        units[unit_id].report = report
    codes = dict(session.execute(select(OrgUnit.id, OrgUnit.code).where(
        OrgUnit.id.in_(list(units)))).all())
    for unit in units.values():
        unit.unit_code = codes.get(unit.unit_id, "")
    return sorted(units.values(), key=lambda u: (u.report is not None, u.unit_name))


@dataclass(frozen=True)
class MonthSummary:
    """A month's reporting in counts and names (a report's sentence)."""

    period: str
    expected: int
    reported: int
    nothing: int
    late: list[tuple[str, int]]
    missing: list[str]


def summarise(standing: list[UnitMonth]) -> MonthSummary | None:
    if not standing:
        return None
    reported = [u for u in standing if u.report is not None]
    return MonthSummary(
        period=standing[0].period, expected=len(standing), reported=len(reported),
        nothing=sum(u.nothing for u in reported),
        late=[(u.unit_name, u.late_days) for u in reported if u.late_days],
        missing=[u.unit_name for u in standing if u.report is None])

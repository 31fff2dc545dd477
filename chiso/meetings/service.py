"""Meetings: record them, number their conclusions, turn conclusions into tasks, and start
the next meeting's agenda from what is still open.

Every write takes an `Access` (a person's, or `Access.system(...)` for a job) and needs
MANAGE on the meeting's unit; tasks made from a conclusion also need MANAGE on each lead
unit. Only a system job may record a meeting at a past instant (`recorded_at`: loading
history), as for tasks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.errors import NotFound, UserError
from chiso.meetings.models import Meeting, MeetingConclusion, MeetingKind
from chiso.tasks.common import origin_of_committee
from chiso.tasks.models import Task, TaskStatus
from chiso.tasks.service import TaskFilter, TaskRow, create_task, list_tasks, recorded_instant
from chiso.text import format_date, nfc

OPEN_STATUSES = (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS, TaskStatus.OVERDUE)


class MeetingError(UserError):
    """A refused change, with a bilingual message."""


class MeetingNotFound(NotFound):
    """No such meeting or conclusion."""


def _lines(text: str | Iterable[str]) -> str:
    items = text.splitlines() if isinstance(text, str) else list(text)
    return "\n".join(nfc(i).strip() for i in items if nfc(i).strip())


def create_meeting(session: Session, *, unit_id: int, held_on: dt.date, title: str,
                   kind: str = MeetingKind.QUARTERLY, chair: str = "",
                   attendees: str | Iterable[str] = "", agenda: str | Iterable[str] = "",
                   access: Access, recorded_at: dt.datetime | None = None) -> Meeting:
    access.require(Action.MANAGE, unit_id)
    at = recorded_instant(access, recorded_at)
    if not nfc(title).strip():
        raise MeetingError("Cuộc họp cần tiêu đề", "the meeting needs a title")
    if kind not in MeetingKind.__members__.values():
        raise MeetingError(f"Loại phiên họp '{kind}' không có", f"unknown meeting kind '{kind}'")
    meeting = Meeting(unit_id=unit_id, held_on=held_on, kind=MeetingKind(kind).value,
                      title=nfc(title).strip(), chair=nfc(chair).strip(),
                      attendees=_lines(attendees), agenda=_lines(agenda), created_at=at,
                      updated_at=at)
    session.add(meeting)
    session.flush()
    record_event(session, action="meeting.create", object_type="meeting", object_id=meeting.id,
                 actor=access.actor, unit_id=unit_id,
                 after={"title": meeting.title, "held_on": held_on, "kind": meeting.kind})
    return meeting


def edit_meeting(session: Session, *, meeting_id: int, access: Access,
                 **changes: object) -> Meeting:
    meeting = get_meeting(session, meeting_id)
    access.require(Action.MANAGE, meeting.unit_id)
    before = {k: getattr(meeting, k) for k in changes}
    for name, value in changes.items():
        if name not in {"title", "chair", "attendees", "agenda", "held_on", "kind"}:
            raise MeetingError(f"Không sửa được '{name}'", f"'{name}' is not editable")
        if name in ("attendees", "agenda"):
            value = _lines(value)  # type: ignore[arg-type]
        setattr(meeting, name, nfc(value).strip() if isinstance(value, str) else value)
    record_event(session, action="meeting.edit", object_type="meeting", object_id=meeting.id,
                 actor=access.actor, unit_id=meeting.unit_id, before=before, after=changes)
    return meeting


def get_meeting(session: Session, meeting_id: int) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.deleted:
        raise MeetingNotFound(f"Không có cuộc họp {meeting_id}", f"no meeting {meeting_id}")
    return meeting


def list_meetings(session: Session, unit_id: int | None = None) -> list[Meeting]:
    query = select(Meeting).where(Meeting.deleted.is_(False)).order_by(
        Meeting.held_on.desc(), Meeting.id.desc())
    if unit_id is not None:
        query = query.where(Meeting.unit_id == unit_id)
    return list(session.scalars(query))


def add_conclusion(session: Session, *, meeting_id: int, text: str, access: Access,
                   recorded_at: dt.datetime | None = None) -> MeetingConclusion:
    meeting = get_meeting(session, meeting_id)
    access.require(Action.MANAGE, meeting.unit_id)
    at = recorded_instant(access, recorded_at)
    if not nfc(text).strip():
        raise MeetingError("Kết luận không được để trống", "a conclusion needs text")
    seq = (session.scalar(select(func.max(MeetingConclusion.seq))
                          .where(MeetingConclusion.meeting_id == meeting_id)) or 0) + 1
    conclusion = MeetingConclusion(meeting_id=meeting_id, seq=seq, text=nfc(text).strip(),
                                   created_at=at)
    session.add(conclusion)
    session.flush()
    session.refresh(meeting)
    record_event(session, action="meeting.conclusion", object_type="meeting",
                 object_id=meeting_id, actor=access.actor, unit_id=meeting.unit_id,
                 after={"seq": seq, "text": conclusion.text})
    return conclusion


@dataclass(frozen=True)
class TaskSpec:
    """One task to create from a conclusion: "giao Sở … chủ trì, phối hợp …"."""

    title: str
    lead_unit_id: int
    due_date: dt.date
    partner_unit_ids: Sequence[int] = ()
    owner_id: int | None = None
    focus_area_id: int | None = None
    start_date: dt.date | None = None
    expected_product: str = ""


def conclusion_to_tasks(session: Session, *, conclusion_id: int, specs: Sequence[TaskSpec],
                        access: Access, recorded_at: dt.datetime | None = None
                        ) -> list[Task]:
    """A conclusion becomes one or more tasks (MANAGE on the meeting's and each lead unit),
    assigned by the meeting's committee: a commune committee's tasks count as xã giao."""
    conclusion = session.get(MeetingConclusion, conclusion_id)
    if conclusion is None:
        raise MeetingNotFound(f"Không có kết luận {conclusion_id}",
                              f"no conclusion {conclusion_id}")
    meeting = get_meeting(session, conclusion.meeting_id)
    access.require(Action.MANAGE, meeting.unit_id)
    if not specs:
        raise MeetingError("Cần ít nhất một nhiệm vụ", "at least one task is needed")
    return [create_task(session, title=s.title, lead_unit_id=s.lead_unit_id,
                        due_date=s.due_date, start_date=s.start_date or meeting.held_on,
                        partner_unit_ids=s.partner_unit_ids, owner_id=s.owner_id,
                        focus_area_id=s.focus_area_id, conclusion_id=conclusion_id,
                        access=access, recorded_at=recorded_at,
                        origin=origin_of_committee(session, meeting.unit_id),
                        expected_product=s.expected_product) for s in specs]


def conclusion_tasks(session: Session, meeting: Meeting, day: dt.date) -> dict[int, list[TaskRow]]:
    ids = [c.id for c in meeting.conclusions]
    rows = list_tasks(session, TaskFilter(conclusion_ids=ids), day) if ids else []
    grouped: dict[int, list[TaskRow]] = {i: [] for i in ids}
    for row in rows:
        grouped[row.task.conclusion_id or 0].append(row)
    return grouped


def open_items(session: Session, *, unit_id: int, before: dt.date, day: dt.date
               ) -> list[TaskRow]:
    """Tasks from earlier meetings' conclusions that are not finished yet."""
    earlier = [m for m in list_meetings(session, unit_id) if m.held_on < before]
    ids = [c.id for m in earlier for c in m.conclusions]
    if not ids:
        return []
    return [r for r in list_tasks(session, TaskFilter(conclusion_ids=ids), day)
            if r.status in OPEN_STATUSES]


def proposed_agenda(session: Session, *, unit_id: int, held_on: dt.date, day: dt.date
                    ) -> list[str]:
    """The next meeting's agenda starts from the open items of the previous ones."""
    items = ["Đánh giá kết quả thực hiện các chỉ tiêu chuyển đổi số trong kỳ"]
    for row in open_items(session, unit_id=unit_id, before=held_on, day=day):
        late = " (quá hạn)" if row.status == TaskStatus.OVERDUE else ""
        items.append(f"Rà soát: {row.task.code} {row.task.title} — {row.lead_unit_name}, "
                     f"hạn {format_date(row.task.due_date)}{late}")
    items.append("Thảo luận, cho ý kiến về nhiệm vụ trọng tâm kỳ tới")
    return items

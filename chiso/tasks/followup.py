"""Đôn đốc: due-soon and overdue lists, escalating reminders, and the per-unit scorecard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Membership, Role, User
from chiso.notify.service import notify
from chiso.tasks.models import StoredState, Task, TaskStatus
from chiso.tasks.service import TaskRow, list_tasks, roll_recurring_tasks
from chiso.text import format_date
from chiso.units.tree import ancestor_ids

DUE_SOON_DAYS = 7
# Reminder ladder: a week before, three days before, on the day, then every week overdue.
BEFORE_DUE_DAYS = (7, 3)
OVERDUE_REPEAT_DAYS = 7


def due_soon(session: Session, *, day: dt.date, unit_id: int | None = None,
             days: int = DUE_SOON_DAYS) -> list[TaskRow]:
    from chiso.tasks.service import TaskFilter

    rows = list_tasks(session, TaskFilter(unit_id=unit_id, due_from=day,
                                          due_to=day + dt.timedelta(days=days),
                                          include_partner=False), day)
    return [r for r in rows if r.status in (TaskStatus.NOT_STARTED, TaskStatus.IN_PROGRESS)]


def overdue(session: Session, *, day: dt.date, unit_id: int | None = None) -> list[TaskRow]:
    from chiso.tasks.service import TaskFilter

    return list_tasks(session, TaskFilter(unit_id=unit_id, status=TaskStatus.OVERDUE,
                                          include_partner=False), day)


# ------------------------------------------------------------------ scorecard

@dataclass
class UnitScore:
    unit_id: int
    unit_name: str
    total: int = 0
    done_on_time: int = 0
    done_late: int = 0
    overdue: int = 0
    open: int = 0
    ownerless: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """Share of tasks finished or due so far that were finished on time (%)."""
        settled = self.done_on_time + self.done_late + self.overdue
        return None if settled == 0 else 100.0 * self.done_on_time / settled


def scorecard(session: Session, *, day: dt.date, unit_id: int | None = None
              ) -> list[UnitScore]:
    """Per lead unit: on time, late, overdue, open, ownerless. Worst first."""
    from chiso.tasks.service import TaskFilter

    scores: dict[int, UnitScore] = {}
    for row in list_tasks(session, TaskFilter(unit_id=unit_id, include_partner=False), day):
        if row.status == TaskStatus.CANCELLED:
            continue
        score = scores.setdefault(row.task.lead_unit_id,
                                  UnitScore(row.task.lead_unit_id, row.lead_unit_name))
        score.total += 1
        score.ownerless += row.ownerless
        match row.status:
            case TaskStatus.DONE:
                score.done_on_time += 1
            case TaskStatus.DONE_LATE:
                score.done_late += 1
            case TaskStatus.OVERDUE:
                score.overdue += 1
            case _:
                score.open += 1
    return sorted(scores.values(), key=lambda s: (-s.overdue, -s.done_late, s.unit_name))


# ------------------------------------------------------------------ reminders

@dataclass(frozen=True)
class ReminderEvent:
    task: Task
    stage: str  # before7 | before3 | due | overdue<n>
    escalate: bool  # overdue reminders also go to the standing office


def reminder_stage(task: Task, day: dt.date) -> ReminderEvent | None:
    """Which reminder, if any, this open task is owed today."""
    if task.state != StoredState.OPEN or task.deleted:
        return None
    days_left = (task.due_date - day).days
    if days_left > 0:
        due_stages = [d for d in BEFORE_DUE_DAYS if days_left <= d]
        return ReminderEvent(task, f"before{min(due_stages)}", False) if due_stages else None
    if days_left == 0:
        return ReminderEvent(task, "due", False)
    week = (-days_left - 1) // OVERDUE_REPEAT_DAYS + 1
    return ReminderEvent(task, f"overdue{week}", True)


def pending_reminders(session: Session, day: dt.date) -> list[ReminderEvent]:
    horizon = day + dt.timedelta(days=max(BEFORE_DUE_DAYS))
    tasks = session.scalars(select(Task).where(
        Task.state == StoredState.OPEN, Task.deleted.is_(False), Task.due_date <= horizon)
        .order_by(Task.due_date, Task.id))
    events = [reminder_stage(t, day) for t in tasks]
    return [e for e in events if e is not None]


def recipients_for(session: Session, event: ReminderEvent) -> list[User]:
    """The owner and the lead unit's focal officers; overdue adds the standing office."""
    task = event.task
    users: list[User] = []
    if task.owner_id:
        owner = session.get(User, task.owner_id)
        if owner is not None:
            users.append(owner)
    users += _members(session, Role.FOCAL_OFFICER, [task.lead_unit_id])
    if event.escalate:
        users += _members(session, Role.STANDING_OFFICE, ancestor_ids(session, task.lead_unit_id))
    return users


def _members(session: Session, role: Role, unit_ids: list[int]) -> list[User]:
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.role == role.value, Membership.unit_id.in_(unit_ids),
            User.is_active.is_(True)).order_by(User.id)).unique())


def event_key(event: ReminderEvent) -> str:
    # The due date is part of the key: a task whose deadline moves is reminded afresh.
    return f"task:{event.task.id}:{event.task.due_date.isoformat()}:{event.stage}"


SUBJECTS = {
    "before": "[chiso] Sắp đến hạn: {code} — hạn {due} / due soon",
    "due": "[chiso] Đến hạn hôm nay: {code} — {due} / due today",
    "overdue": "[chiso] QUÁ HẠN {days} ngày: {code} — hạn {due} / overdue",
}


def message_for(event: ReminderEvent, day: dt.date) -> tuple[str, str]:
    task = event.task
    kind = "before" if event.stage.startswith("before") else (
        "due" if event.stage == "due" else "overdue")
    due = format_date(task.due_date)
    subject = SUBJECTS[kind].format(code=task.code, due=due,
                                    days=(day - task.due_date).days)
    body = (f"Nhiệm vụ: {task.title}\nHạn hoàn thành: {due}\n"
            f"Tiến độ hiện tại: {task.progress_pct:.0f}%\n\n"
            "Đề nghị đơn vị chủ trì cập nhật tiến độ và minh chứng trên chiso.\n"
            f"Task: {task.title} — due {task.due_date.isoformat()}, "
            f"progress {task.progress_pct:.0f}%. Please update its progress in chiso.")
    return subject, body


@dataclass
class ReminderSummary:
    events: int = 0
    emails: int = 0
    new_tasks: int = 0


def send_reminders(session: Session, *, day: dt.date) -> ReminderSummary:
    """`chiso tasks remind`: roll recurring tasks, then send what is owed today, once."""
    summary = ReminderSummary(new_tasks=len(roll_recurring_tasks(session, day)))
    for event in pending_reminders(session, day):
        subject, body = message_for(event, day)
        summary.events += 1
        summary.emails += notify(session, recipients=recipients_for(session, event),
                                 event_key=event_key(event), subject=subject, body=body,
                                 link=f"/tasks/{event.task.id}")
    return summary

"""Tasks as they stood on a past day, as known at a past instant, from `task_update`.

A report for a past period must say what was true then, and say it the same way whenever
it is regenerated. Two dates matter for every change in a task's history:

- `changed_at`, when the change was recorded in chiso (the knowledge instant), and
- `update_date`, the day the change took effect (a progress report names its own date;
  other changes take effect on the day they are made).

The task as it stood on `day`, as known at `known_at`, is its history row with the highest
version among those recorded by `known_at` and taking effect by `day`. A task with no such
row did not exist yet (it was created later, or recorded later). Its status follows from
that row and `day` alone (status.status_of): overdue days are counted to `day`, never to
today.

A history row is the whole state after its change; a change entered late with an earlier
effective date (a progress report backdated past a later edit) carries the state of the
moment it was recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.tasks.models import Task, TaskPartner, TaskUpdate
from chiso.tasks.service import TaskRow, decorate, utc


def tasks_as_of(session: Session, *, day: dt.date, known_at: dt.datetime,
                lead_unit_ids: Collection[int] | None = None) -> list[TaskRow]:
    """Every task that existed on `day` as recorded by `known_at`, in its state of then,
    with its status on `day`; only those then led by one of `lead_unit_ids` when given.
    The returned tasks are detached copies: reading them never changes the store."""
    snapshots = _latest_rows(session, day, known_at)
    if lead_unit_ids is not None:
        wanted = set(lead_unit_ids)
        snapshots = [s for s in snapshots if s.lead_unit_id in wanted]
    tasks = {t.id: t for t in session.scalars(select(Task).where(
        Task.id.in_([s.task_id for s in snapshots]), Task.deleted.is_(False)))}
    copies = [_as_task(snap, tasks[snap.task_id]) for snap in snapshots
              if snap.task_id in tasks]
    copies.sort(key=lambda t: (t.due_date, t.id))
    return decorate(session, copies, day)


def _latest_rows(session: Session, day: dt.date, known_at: dt.datetime) -> list[TaskUpdate]:
    rows = session.scalars(select(TaskUpdate).where(
        TaskUpdate.changed_at <= utc(known_at), TaskUpdate.update_date <= day)
        .order_by(TaskUpdate.task_id, TaskUpdate.version))
    latest: dict[int, TaskUpdate] = {}
    for row in rows:
        latest[row.task_id] = row  # ordered by version: the last one wins
    return list(latest.values())


def _as_task(snap: TaskUpdate, current: Task) -> Task:
    """A transient Task holding the snapshot's state (never added to the session)."""
    partners = snap.partner_unit_ids if snap.partner_unit_ids is not None else [
        p.unit_id for p in current.partners]
    return Task(
        id=current.id, code=current.code, title=snap.title, description=current.description,
        plan_id=current.plan_id, conclusion_id=current.conclusion_id,
        focus_area_id=snap.focus_area_id, lead_unit_id=snap.lead_unit_id,
        owner_id=snap.owner_id, start_date=snap.start_date, due_date=snap.due_date,
        state=snap.state, completed_on=snap.completed_on, progress_pct=snap.progress_pct,
        recurrence=current.recurrence, previous_id=current.previous_id, version=snap.version,
        deleted=False, partners=[TaskPartner(unit_id=u) for u in partners], links=[],
        origin=_kept(snap.origin, current.origin),
        assigned_doc_number=_kept(snap.assigned_doc_number, current.assigned_doc_number),
        assigned_doc_date=(snap.assigned_doc_date if snap.origin is not None
                           else current.assigned_doc_date),
        expected_product=_kept(snap.expected_product, current.expected_product))


def _kept(value: str | None, current: str) -> str:
    """A history row written before these fields were kept (null) takes the task's value."""
    return current if value is None else value

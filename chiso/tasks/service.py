"""The one way to create and change tasks: permission check, history row, audit event.

Every write takes an `Access` — the signed-in user's (with an API token's scope) or an
explicit `Access.system(session, "job")` — and checks it on every unit whose task it is:
the lead unit before the change and the lead unit after it. Only a system
job may record a change at a past instant (`recorded_at`, for loading history such as
the demo's); a person's change is recorded when it is made.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.audit.service import record_event
from chiso.db.base import utcnow
from chiso.errors import Conflict, Forbidden, NotFound, UserError
from chiso.plans.models import Plan, Target
from chiso.settings import get_settings
from chiso.tasks.models import (
    FocusArea,
    Origin,
    Recurrence,
    StoredState,
    Task,
    TaskEvidence,
    TaskLink,
    TaskPartner,
    TaskStatus,
    TaskUpdate,
)
from chiso.tasks.status import is_ahead, origin_label, status_label, status_of
from chiso.text import nfc, to_vn
from chiso.units.models import OrgUnit


class TaskError(UserError):
    """A refused change, with a bilingual message."""


class TaskNotFound(NotFound):
    """No such task (or it was deleted)."""


class StaleTask(Conflict):
    """Someone else changed the task since it was read."""


@dataclass(frozen=True)
class EvidenceFile:
    file_name: str
    content: bytes
    content_type: str = ""


@dataclass
class TaskFilter:
    unit_id: int | None = None
    status: str | None = None
    focus_area_id: int | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    conclusion_ids: Sequence[int] | None = None
    include_partner: bool = True
    origin: str | None = None


@dataclass
class TaskRow:
    """A task with its derived status and the names a list needs."""

    task: Task
    status: TaskStatus
    lead_unit_name: str
    focus_area_name: str
    owner_name: str
    partner_names: list[str] = field(default_factory=list)

    @property
    def ownerless(self) -> bool:
        return self.task.owner_id is None

    def to_dict(self) -> dict[str, Any]:
        """The task as the JSON API gives it (tasks, and the tasks of a meeting)."""
        t = self.task
        return {"id": t.id, "code": t.code, "title": t.title, "status": str(self.status),
                "status_label": status_label(self.status), "lead_unit_id": t.lead_unit_id,
                "lead_unit_name": self.lead_unit_name, "focus_area": self.focus_area_name,
                "partner_unit_ids": [p.unit_id for p in t.partners],
                "start_date": _iso(t.start_date), "due_date": t.due_date.isoformat(),
                "completed_on": _iso(t.completed_on), "progress_pct": t.progress_pct,
                "owner": self.owner_name or None, "ownerless": self.ownerless,
                "recurrence": t.recurrence or None, "conclusion_id": t.conclusion_id,
                "origin": t.origin, "origin_label": origin_label(t.origin),
                "assigned_doc_number": t.assigned_doc_number or None,
                "assigned_doc_date": _iso(t.assigned_doc_date),
                "expected_product": t.expected_product or None,
                "ahead": self.ahead, "version": t.version}

    @property
    def ahead(self) -> bool:
        """Hoàn thành trước hạn (chiso/tasks/counts.py: by the documented margin)."""
        return is_ahead(self.task)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def today() -> dt.date:
    return get_settings().current_date()


# ------------------------------------------------------------------ create and change

def create_task(
    session: Session, *, title: str, lead_unit_id: int, due_date: dt.date,
    start_date: dt.date | None = None, description: str = "", code: str | None = None,
    focus_area_id: int | None = None, plan_id: int | None = None,
    conclusion_id: int | None = None, partner_unit_ids: Iterable[int] = (),
    owner_id: int | None = None, recurrence: str = "", indicator_ids: Iterable[int] = (),
    target_ids: Iterable[int] = (), access: Access, change: str = "create",
    previous_id: int | None = None, recorded_at: dt.datetime | None = None,
    origin: str = Origin.PROVINCE, assigned_doc_number: str = "",
    assigned_doc_date: dt.date | None = None, expected_product: str = "",
) -> Task:
    """Giao nhiệm vụ: MANAGE on the lead unit (partner units are only told; they gain
    sight of the task, not charge of it). `origin` is the level that assigned it (Trung
    ương / tỉnh / xã: central, province, commune), `assigned_doc_number` and
    `assigned_doc_date` the document that did (số hiệu, ngày), `expected_product` what it
    must deliver (sản phẩm dự kiến)."""
    access.require(Action.MANAGE, lead_unit_id)
    at = recorded_instant(access, recorded_at)
    title = nfc(title).strip()
    _check_fields(title, start_date, due_date)
    task = Task(code=code or f"tmp-{uuid.uuid4().hex[:20]}", title=title,
                description=nfc(description).strip(), lead_unit_id=lead_unit_id,
                due_date=due_date, start_date=start_date, focus_area_id=focus_area_id,
                plan_id=plan_id, conclusion_id=conclusion_id, owner_id=owner_id,
                recurrence=Recurrence(recurrence or "").value, previous_id=previous_id,
                origin=check_origin(origin),
                assigned_doc_number=nfc(assigned_doc_number).strip(),
                assigned_doc_date=assigned_doc_date,
                expected_product=nfc(expected_product).strip())
    task.partners = [TaskPartner(unit_id=u) for u in sorted(set(partner_unit_ids))
                     if u != lead_unit_id]
    task.links = _links(session, indicator_ids, target_ids)
    session.add(task)
    session.flush()
    if code is None:
        task.code = f"NV-{task.id:04d}"
    task.created_at = task.updated_at = at
    _append_history(session, task, change=change, note="", access=access, at=at,
                    day=_effective_day(recorded_at))
    record_event(session, action="task.create", object_type="task", object_id=task.id,
                 actor=access.actor, unit_id=lead_unit_id, after=_snapshot(task))
    return task


def recorded_instant(access: Access, recorded_at: dt.datetime | None) -> dt.datetime:
    """When a change is recorded: now, or — for a system job loading history — the past
    instant it names (a person cannot claim to have recorded something earlier)."""
    if recorded_at is None:
        return utcnow()
    if not access.system_name:
        raise Forbidden("Chỉ tác vụ hệ thống được ghi thời điểm trong quá khứ",
                        "only a system job may record a change at a past instant")
    return utc(recorded_at)


def utc(moment: dt.datetime) -> dt.datetime:
    """An instant in UTC, as stored (SQLite keeps no offset: everything stored is UTC)."""
    if moment.tzinfo is None:
        raise ValueError("an instant needs its time zone")
    return moment.astimezone(dt.UTC)


def _effective_day(recorded_at: dt.datetime | None) -> dt.date:
    """The day a change takes effect when it names none: the day a system job says it was
    recorded, else today (`CHISO_TODAY` when pinned)."""
    return to_vn(recorded_at).date() if recorded_at is not None else today()


def _links(session: Session, indicator_ids: Iterable[int], target_ids: Iterable[int]
           ) -> list[TaskLink]:
    links = [TaskLink(indicator_id=i) for i in sorted(set(indicator_ids))]
    for target_id in sorted(set(target_ids)):
        target = session.get(Target, target_id)
        if target is None:
            raise TaskError(f"Không có chỉ tiêu {target_id}", f"no target {target_id}")
        links.append(TaskLink(indicator_id=target.indicator_id, target_id=target_id))
    return links


def check_origin(origin: str) -> str:
    """One of Origin's values ('central', 'province', 'commune'), or a refusal naming them."""
    try:
        return Origin(str(origin).strip().lower()).value
    except ValueError:
        raise TaskError(f"Cấp giao '{origin}' không hợp lệ (central, province, commune)",
                        f"unknown origin '{origin}' (central, province or commune)") from None


def _check_fields(title: str, start: dt.date | None, due: dt.date) -> None:
    if not title:
        raise TaskError("Tên nhiệm vụ không được để trống", "the task needs a title")
    if start is not None and start > due:
        raise TaskError(f"Ngày bắt đầu {start:%d/%m/%Y} sau hạn {due:%d/%m/%Y}",
                        f"start date {start} is after due date {due}")


def edit_task(session: Session, *, task_id: int, access: Access,
              expected_version: int | None = None, note: str = "",
              partner_unit_ids: Iterable[int] | None = None, **changes: object) -> Task:
    """Change title, dates, lead unit, owner, focus area, partners: MANAGE on the current
    lead unit and on a new one."""
    task = _get_for_change(session, task_id, expected_version)
    access.require(Action.MANAGE, task.lead_unit_id)
    if "lead_unit_id" in changes:
        access.require(Action.MANAGE, int(str(changes["lead_unit_id"])))
    before = _snapshot(task)
    allowed = {"title", "description", "lead_unit_id", "owner_id", "start_date", "due_date",
               "focus_area_id", "recurrence", "plan_id", "origin", "assigned_doc_number",
               "assigned_doc_date", "expected_product"}
    for name, value in changes.items():
        if name not in allowed:
            raise TaskError(f"Không sửa được trường '{name}'", f"field '{name}' is not editable")
        if name == "origin":
            value = check_origin(str(value))
        setattr(task, name, nfc(value).strip() if isinstance(value, str) else value)
    if partner_unit_ids is not None:
        _set_partners(task, partner_unit_ids)
    _check_fields(task.title, task.start_date, task.due_date)
    return _commit_change(session, task, "edit", note, access, before, today())


def _set_partners(task: Task, unit_ids: Iterable[int]) -> None:
    """Keep the partners that stay (replacing them all inserted the kept ones again before
    the old rows were deleted: a unique-constraint error), drop the others, add new ones."""
    wanted = sorted(set(unit_ids) - {task.lead_unit_id})
    kept = [p for p in task.partners if p.unit_id in wanted]
    have = {p.unit_id for p in kept}
    task.partners = kept + [TaskPartner(unit_id=u) for u in wanted if u not in have]


def update_progress(
    session: Session, *, task_id: int, progress_pct: float, note: str = "",
    update_date: dt.date | None = None, done: bool = False,
    files: Sequence[EvidenceFile] = (), access: Access,
    expected_version: int | None = None, recorded_at: dt.datetime | None = None,
) -> Task:
    """Báo cáo tiến độ: the lead unit's focal officer (CAPTURE on the lead unit). A done
    recurring task gets its next occurrence, created by the system (not by the officer,
    who may not assign tasks)."""
    task = _get_for_change(session, task_id, expected_version)
    access.require(Action.CAPTURE, task.lead_unit_id)
    at = recorded_instant(access, recorded_at)
    if task.state == StoredState.CANCELLED:
        raise TaskError("Nhiệm vụ đã hủy", "the task is cancelled")
    if not 0 <= progress_pct <= 100:
        raise TaskError(f"Tiến độ {progress_pct} phải từ 0 đến 100", "progress must be 0–100")
    day = update_date or _effective_day(recorded_at)
    before = _snapshot(task)
    task.progress_pct = float(progress_pct)
    if done or progress_pct >= 100:
        task.state, task.progress_pct = StoredState.DONE, 100.0
        task.completed_on = task.completed_on or day
    else:
        task.state, task.completed_on = StoredState.OPEN, None
    _commit_change(session, task, "progress", note, access, before, day, at)
    history = _latest_update(session, task.id)
    for file in files:
        _store_evidence(session, task, history, file)
    if task.state == StoredState.DONE:
        schedule_next_occurrence(session, task, recorded_at=recorded_at)
    return task


def cancel_task(session: Session, *, task_id: int, reason: str, access: Access,
                recorded_at: dt.datetime | None = None) -> Task:
    """Hủy nhiệm vụ (MANAGE on the lead unit); the history keeps what it was. A system job
    loading history may date the cancellation (`recorded_at`)."""
    task = _get_for_change(session, task_id, None)
    access.require(Action.MANAGE, task.lead_unit_id)
    at = recorded_instant(access, recorded_at)
    before = _snapshot(task)
    task.state = StoredState.CANCELLED
    return _commit_change(session, task, "cancel", reason, access, before,
                          _effective_day(recorded_at), at)


def _get_for_change(session: Session, task_id: int, expected_version: int | None) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.deleted:
        raise TaskNotFound(f"Không có nhiệm vụ {task_id}", f"no task {task_id}")
    if expected_version is not None and expected_version != task.version:
        raise StaleTask(
            f"Nhiệm vụ {task.code} vừa được người khác cập nhật (phiên bản {task.version}); "
            "hãy tải lại trang",
            f"task {task.code} was changed by someone else (version {task.version}); "
            "reload the page", data={"version": task.version})
    return task


def _commit_change(session: Session, task: Task, change: str, note: str, access: Access,
                   before: dict[str, object], day: dt.date,
                   at: dt.datetime | None = None) -> Task:
    task.version += 1
    session.flush()
    _append_history(session, task, change=change, note=note, access=access,
                    at=at or utcnow(), day=day)
    record_event(session, action=f"task.{change}", object_type="task", object_id=task.id,
                 actor=access.actor, unit_id=task.lead_unit_id, before=before,
                 after=_snapshot(task), note=note[:500])
    return task


def _append_history(session: Session, task: Task, *, change: str, note: str,
                    access: Access, at: dt.datetime, day: dt.date) -> TaskUpdate:
    """The whole state after the change, recorded at `at`, taking effect on `day` (a
    progress report names its own date)."""
    entry = TaskUpdate(
        task_id=task.id, version=task.version, change=change, update_date=day,
        note=nfc(note).strip(),
        progress_pct=task.progress_pct, state=task.state, title=task.title,
        due_date=task.due_date, lead_unit_id=task.lead_unit_id, owner_id=task.owner_id,
        completed_on=task.completed_on, start_date=task.start_date,
        focus_area_id=task.focus_area_id,
        partner_unit_ids=sorted(p.unit_id for p in task.partners),
        origin=task.origin, assigned_doc_number=task.assigned_doc_number,
        assigned_doc_date=task.assigned_doc_date, expected_product=task.expected_product,
        changed_at=at, changed_by_id=access.user.id if access.user else None)
    session.add(entry)
    session.flush()
    return entry


def _latest_update(session: Session, task_id: int) -> TaskUpdate:
    return session.scalars(select(TaskUpdate).where(TaskUpdate.task_id == task_id)
                           .order_by(TaskUpdate.version.desc()).limit(1)).one()


def _snapshot(task: Task) -> dict[str, object]:
    return {"code": task.code, "title": task.title, "state": task.state,
            "progress_pct": task.progress_pct, "due_date": task.due_date,
            "lead_unit_id": task.lead_unit_id, "owner_id": task.owner_id,
            "completed_on": task.completed_on, "origin": task.origin,
            "assigned_doc_number": task.assigned_doc_number,
            "assigned_doc_date": task.assigned_doc_date, "version": task.version}


# ------------------------------------------------------------------ evidence files

def _store_evidence(session: Session, task: Task, update: TaskUpdate,
                    file: EvidenceFile) -> TaskEvidence:
    """Keep the file in chiso.storage (it checks size and kind) and link it."""
    name = Path(nfc(file.file_name)).name[:400] or "file"
    digest = storage.save(session, file.content, file_name=name).sha256
    row = TaskEvidence(task_id=task.id, update_id=update.id, file_name=name,
                       content_type=file.content_type[:120], size=len(file.content),
                       sha256=digest)
    session.add(row)
    session.flush()
    return row


# ------------------------------------------------------------------ recurring tasks

def _add_months(day: dt.date, months: int, anchor: dt.date | None = None) -> dt.date:
    """The month `months` after `day`'s, on `anchor`'s day of month (the series' first
    occurrence; `day` itself when there is none), or on that month's last day when the
    day does not exist there (31/01 → 28/02)."""
    anchor = anchor or day
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    last = calendar.monthrange(year, month)[1]
    # A series that began on a month's last day stays on the last day (30/6 → 30/9, not
    # 28/9). Asked of the anchor, not of `day`: 28/02 ends February, and read from there
    # a series of the 28th would be pushed to every later month's end (31/03, 30/04 …).
    if anchor.day == calendar.monthrange(anchor.year, anchor.month)[1]:
        return dt.date(year, month, last)
    return dt.date(year, month, min(anchor.day, last))


def _first_of_series(session: Session, task: Task) -> Task:
    """The occurrence the series began with (following `previous_id` back)."""
    seen = {task.id}
    while task.previous_id is not None and task.previous_id not in seen:
        previous = session.get(Task, task.previous_id)
        if previous is None:
            break
        seen.add(previous.id)
        task = previous
    return task


RECURRENCE_MONTHS = {"M": 1, "Q": 3, "S": 6, "Y": 12}


def schedule_next_occurrence(session: Session, task: Task, *,
                             recorded_at: dt.datetime | None = None) -> Task | None:
    """A recurring task (e.g. the quarterly report) gets its next occurrence once. The
    system creates it (audited as system:task-recurrence): the officer whose progress
    report finished the occurrence may not assign tasks."""
    if not task.recurrence:
        return None
    existing = session.scalar(select(Task).where(Task.previous_id == task.id))
    if existing is not None:
        return None
    months = RECURRENCE_MONTHS[task.recurrence]
    # Each occurrence is worked out from the first one's day of month, not from the
    # previous occurrence's, which a short month may have moved (31/01 → 28/02 → 31/03).
    first = _first_of_series(session, task)
    start = (_add_months(task.start_date, months, first.start_date or task.start_date)
             if task.start_date else None)
    return create_task(
        session, title=task.title, lead_unit_id=task.lead_unit_id,
        due_date=_add_months(task.due_date, months, first.due_date), start_date=start,
        description=task.description, focus_area_id=task.focus_area_id, plan_id=task.plan_id,
        partner_unit_ids=[p.unit_id for p in task.partners], owner_id=task.owner_id,
        recurrence=task.recurrence, indicator_ids=[lk.indicator_id for lk in task.links
                                                   if lk.target_id is None],
        target_ids=[lk.target_id for lk in task.links if lk.target_id is not None],
        access=Access.system(session, "task-recurrence"), change="recur",
        previous_id=task.id, recorded_at=recorded_at, origin=task.origin,
        assigned_doc_number=task.assigned_doc_number, assigned_doc_date=task.assigned_doc_date,
        expected_product=task.expected_product)


def roll_recurring_tasks(session: Session, day: dt.date) -> list[Task]:
    """Past-due recurring occurrences get their successor even if still open."""
    has_next = select(Task.previous_id).where(Task.previous_id.is_not(None))
    due = session.scalars(select(Task).where(
        Task.recurrence != "", Task.due_date < day, Task.deleted.is_(False),
        Task.state != StoredState.CANCELLED, Task.id.not_in(has_next)).order_by(Task.id))
    created = []
    for task in list(due):
        nxt = schedule_next_occurrence(session, task)
        if nxt is not None:
            created.append(nxt)
    return created


# ------------------------------------------------------------------ reading

def get_task(session: Session, task_id: int) -> Task | None:
    task = session.get(Task, task_id)
    return None if task is None or task.deleted else task


def history(session: Session, task_id: int) -> list[TaskUpdate]:
    return list(session.scalars(select(TaskUpdate).where(TaskUpdate.task_id == task_id)
                                .order_by(TaskUpdate.version.desc())))


def list_tasks(session: Session, flt: TaskFilter | None = None,
               day: dt.date | None = None) -> list[TaskRow]:
    """The board: tasks with derived status, by due date."""
    flt = flt or TaskFilter()
    day = day or today()
    query = select(Task).where(Task.deleted.is_(False)).order_by(Task.due_date, Task.id)
    if flt.unit_id is not None:
        partner = select(TaskPartner.task_id).where(TaskPartner.unit_id == flt.unit_id)
        cond = Task.lead_unit_id == flt.unit_id
        query = query.where(cond | Task.id.in_(partner) if flt.include_partner else cond)
    if flt.focus_area_id is not None:
        query = query.where(Task.focus_area_id == flt.focus_area_id)
    if flt.due_from is not None:
        query = query.where(Task.due_date >= flt.due_from)
    if flt.due_to is not None:
        query = query.where(Task.due_date <= flt.due_to)
    if flt.conclusion_ids is not None:
        query = query.where(Task.conclusion_id.in_(list(flt.conclusion_ids)))
    if flt.origin:
        query = query.where(Task.origin == flt.origin)
    tasks = list(session.scalars(query))
    rows = decorate(session, tasks, day)
    if flt.status:
        rows = [r for r in rows if r.status == flt.status]
    return rows


def decorate(session: Session, tasks: list[Task], day: dt.date) -> list[TaskRow]:
    """Tasks with their status on `day` and the names a list shows."""
    unit_ids = {t.lead_unit_id for t in tasks} | {p.unit_id for t in tasks for p in t.partners}
    units = _names(session, OrgUnit, unit_ids)
    areas = _names(session, FocusArea, {t.focus_area_id for t in tasks if t.focus_area_id})
    owners = _names(session, User, {t.owner_id for t in tasks if t.owner_id})
    return [TaskRow(task=t, status=status_of(t, day), lead_unit_name=units.get(t.lead_unit_id, ""),
                    focus_area_name=areas.get(t.focus_area_id or 0, ""),
                    owner_name=owners.get(t.owner_id or 0, ""),
                    partner_names=[units.get(p.unit_id, "") for p in t.partners])
            for t in tasks]


def _names(session: Session, model: type[OrgUnit] | type[FocusArea] | type[User],
           ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    if model is User:
        rows = session.execute(select(User.id, User.full_name, User.username)
                               .where(User.id.in_(ids)))
        return {i: full or name for i, full, name in rows}
    if model is OrgUnit:
        query = select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))
    else:
        query = select(FocusArea.id, FocusArea.name_vi).where(FocusArea.id.in_(ids))
    return {i: name for i, name in session.execute(query)}


def focus_areas(session: Session, plan_id: int | None = None) -> list[FocusArea]:
    query = select(FocusArea).order_by(FocusArea.plan_id, FocusArea.sort_order, FocusArea.id)
    if plan_id is not None:
        query = query.where(FocusArea.plan_id == plan_id)
    return list(session.scalars(query))


def add_focus_area(session: Session, *, code: str, name_vi: str, name_en: str = "",
                   plan_id: int | None = None, sort_order: int | None = None,
                   access: Access) -> FocusArea:
    """Idempotent on (plan, code): the same list loaded twice changes nothing. MANAGE on
    the plan's unit (system-wide for a list that belongs to no plan)."""
    access.require(Action.MANAGE, _plan_unit(session, plan_id))
    existing = session.scalar(select(FocusArea).where(FocusArea.plan_id == plan_id,
                                                      FocusArea.code == code))
    if existing is not None:
        return existing
    if sort_order is None:
        sort_order = (session.scalar(select(func.max(FocusArea.sort_order))
                                     .where(FocusArea.plan_id == plan_id)) or 0) + 1
    area = FocusArea(code=code, name_vi=nfc(name_vi), name_en=nfc(name_en), plan_id=plan_id,
                     sort_order=sort_order)
    session.add(area)
    session.flush()
    record_event(session, action="focus_area.create", object_type="focus_area",
                 object_id=area.id, actor=access.actor, after={"code": code, "name_vi": name_vi})
    return area


def _plan_unit(session: Session, plan_id: int | None) -> int | None:
    if plan_id is None:
        return None
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"Không có kế hoạch {plan_id}", f"no plan {plan_id}")
    return plan.scope_unit_id


def evidence_for_task(session: Session, task_id: int) -> list[TaskEvidence]:
    return list(session.scalars(select(TaskEvidence).where(TaskEvidence.task_id == task_id)
                                .order_by(TaskEvidence.id)))

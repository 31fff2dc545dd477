"""The one way to create and change tasks: permission check, history row, audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.audit.service import record_event
from chiso.settings import get_settings
from chiso.tasks.models import (
    FocusArea,
    Recurrence,
    StoredState,
    Task,
    TaskEvidence,
    TaskLink,
    TaskPartner,
    TaskStatus,
    TaskUpdate,
)
from chiso.tasks.status import status_of
from chiso.text import nfc
from chiso.units.models import OrgUnit


class TaskError(ValueError):
    """A refused change, with a bilingual message."""


class StaleTask(TaskError):
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


def today() -> dt.date:
    return get_settings().current_date()


# ------------------------------------------------------------------ create and change

def create_task(
    session: Session, *, title: str, lead_unit_id: int, due_date: dt.date,
    start_date: dt.date | None = None, description: str = "", code: str | None = None,
    focus_area_id: int | None = None, plan_id: int | None = None,
    conclusion_id: int | None = None, partner_unit_ids: Iterable[int] = (),
    owner_id: int | None = None, recurrence: str = "", indicator_ids: Iterable[int] = (),
    target_ids: Iterable[int] = (), actor: User | None = None, access: Access | None = None,
    change: str = "create", previous_id: int | None = None,
) -> Task:
    """Giao nhiệm vụ: MANAGE on the lead unit."""
    if access is not None:
        access.require(Action.MANAGE, lead_unit_id)
    title = nfc(title).strip()
    _check_fields(title, start_date, due_date)
    task = Task(code=code or f"tmp-{uuid.uuid4().hex[:20]}", title=title,
                description=nfc(description).strip(), lead_unit_id=lead_unit_id,
                due_date=due_date, start_date=start_date, focus_area_id=focus_area_id,
                plan_id=plan_id, conclusion_id=conclusion_id, owner_id=owner_id,
                recurrence=Recurrence(recurrence or "").value, previous_id=previous_id)
    task.partners = [TaskPartner(unit_id=u) for u in sorted(set(partner_unit_ids))
                     if u != lead_unit_id]
    task.links = _links(session, indicator_ids, target_ids)
    session.add(task)
    session.flush()
    if code is None:
        task.code = f"NV-{task.id:04d}"
    _append_history(session, task, change=change, note="", actor=actor, day=today())
    record_event(session, action="task.create", object_type="task", object_id=task.id,
                 actor=actor, unit_id=lead_unit_id, after=_snapshot(task))
    return task


def _links(session: Session, indicator_ids: Iterable[int], target_ids: Iterable[int]
           ) -> list[TaskLink]:
    from chiso.plans.models import Target

    links = [TaskLink(indicator_id=i) for i in sorted(set(indicator_ids))]
    for target_id in sorted(set(target_ids)):
        target = session.get(Target, target_id)
        if target is None:
            raise TaskError(f"Không có chỉ tiêu {target_id} / no target {target_id}")
        links.append(TaskLink(indicator_id=target.indicator_id, target_id=target_id))
    return links


def _check_fields(title: str, start: dt.date | None, due: dt.date) -> None:
    if not title:
        raise TaskError("Tên nhiệm vụ không được để trống / the task needs a title")
    if start is not None and start > due:
        raise TaskError(f"Ngày bắt đầu {start:%d/%m/%Y} sau hạn {due:%d/%m/%Y} / "
                        f"start date {start} is after due date {due}")


def edit_task(session: Session, *, task_id: int, actor: User | None = None,
              access: Access | None = None, expected_version: int | None = None,
              note: str = "", partner_unit_ids: Iterable[int] | None = None,
              **changes: object) -> Task:
    """Change title, dates, lead unit, owner, focus area…: MANAGE on the old and new lead."""
    task = _get_for_change(session, task_id, expected_version)
    if access is not None:
        access.require(Action.MANAGE, task.lead_unit_id)
        if "lead_unit_id" in changes:
            access.require(Action.MANAGE, int(str(changes["lead_unit_id"])))
    before = _snapshot(task)
    allowed = {"title", "description", "lead_unit_id", "owner_id", "start_date", "due_date",
               "focus_area_id", "recurrence", "plan_id"}
    for name, value in changes.items():
        if name not in allowed:
            raise TaskError(f"Không sửa được trường '{name}' / field '{name}' is not editable")
        setattr(task, name, nfc(value) if isinstance(value, str) else value)
    if partner_unit_ids is not None:
        task.partners = [TaskPartner(unit_id=u) for u in sorted(set(partner_unit_ids))
                         if u != task.lead_unit_id]
    _check_fields(task.title, task.start_date, task.due_date)
    return _commit_change(session, task, "edit", note, actor, before, today())


def update_progress(
    session: Session, *, task_id: int, progress_pct: float, note: str = "",
    update_date: dt.date | None = None, done: bool = False,
    files: Sequence[EvidenceFile] = (), actor: User | None = None,
    access: Access | None = None, expected_version: int | None = None,
) -> Task:
    """Báo cáo tiến độ: the lead unit's focal officer (CAPTURE on the lead unit)."""
    task = _get_for_change(session, task_id, expected_version)
    if access is not None:
        access.require(Action.CAPTURE, task.lead_unit_id)
    if task.state == StoredState.CANCELLED:
        raise TaskError("Nhiệm vụ đã hủy / the task is cancelled")
    if not 0 <= progress_pct <= 100:
        raise TaskError(f"Tiến độ {progress_pct} phải từ 0 đến 100 / progress must be 0–100")
    day = update_date or today()
    before = _snapshot(task)
    task.progress_pct = float(progress_pct)
    if done or progress_pct >= 100:
        task.state, task.progress_pct = StoredState.DONE, 100.0
        task.completed_on = task.completed_on or day
    else:
        task.state, task.completed_on = StoredState.OPEN, None
    _commit_change(session, task, "progress", note, actor, before, day)
    history = _latest_update(session, task.id)
    for file in files:
        _store_evidence(session, task, history, file)
    if task.state == StoredState.DONE:
        schedule_next_occurrence(session, task, actor=actor)
    return task


def cancel_task(session: Session, *, task_id: int, reason: str, actor: User | None = None,
                access: Access | None = None) -> Task:
    task = _get_for_change(session, task_id, None)
    if access is not None:
        access.require(Action.MANAGE, task.lead_unit_id)
    before = _snapshot(task)
    task.state = StoredState.CANCELLED
    return _commit_change(session, task, "cancel", reason, actor, before, today())


def _get_for_change(session: Session, task_id: int, expected_version: int | None) -> Task:
    task = session.get(Task, task_id)
    if task is None or task.deleted:
        raise TaskError(f"Không có nhiệm vụ {task_id} / no task {task_id}")
    if expected_version is not None and expected_version != task.version:
        raise StaleTask(
            f"Nhiệm vụ {task.code} vừa được người khác cập nhật (phiên bản {task.version}); "
            f"hãy tải lại trang / task {task.code} was changed by someone else "
            f"(version {task.version}); reload the page")
    return task


def _commit_change(session: Session, task: Task, change: str, note: str,
                   actor: User | None, before: dict[str, object], day: dt.date) -> Task:
    task.version += 1
    session.flush()
    _append_history(session, task, change=change, note=note, actor=actor, day=day)
    record_event(session, action=f"task.{change}", object_type="task", object_id=task.id,
                 actor=actor, unit_id=task.lead_unit_id, before=before, after=_snapshot(task),
                 note=note[:500])
    return task


def _append_history(session: Session, task: Task, *, change: str, note: str,
                    actor: User | None, day: dt.date) -> TaskUpdate:
    entry = TaskUpdate(
        task_id=task.id, version=task.version, change=change, update_date=day,
        note=nfc(note).strip(), progress_pct=task.progress_pct, state=task.state,
        title=task.title, due_date=task.due_date, lead_unit_id=task.lead_unit_id,
        owner_id=task.owner_id, completed_on=task.completed_on,
        changed_by_id=getattr(actor, "id", None))
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
            "completed_on": task.completed_on, "version": task.version}


# ------------------------------------------------------------------ evidence files

def evidence_dir() -> Path:
    return get_settings().data_dir / "evidence" / "tasks"


def evidence_path(sha256: str) -> Path:
    return evidence_dir() / sha256[:2] / sha256


def _store_evidence(session: Session, task: Task, update: TaskUpdate,
                    file: EvidenceFile) -> TaskEvidence:
    limit = get_settings().max_upload_mb * 1024 * 1024
    if len(file.content) > limit:
        raise TaskError(f"Tệp '{file.file_name}' lớn hơn {get_settings().max_upload_mb} MB / "
                        f"file '{file.file_name}' is larger than the limit")
    digest = hashlib.sha256(file.content).hexdigest()
    path = evidence_path(digest)
    if not path.exists():  # content-addressed: the same file is stored once
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(file.content)
        tmp.replace(path)
    row = TaskEvidence(task_id=task.id, update_id=update.id,
                       file_name=Path(nfc(file.file_name)).name[:400] or "file",
                       content_type=file.content_type[:120], size=len(file.content),
                       sha256=digest)
    session.add(row)
    session.flush()
    return row


# ------------------------------------------------------------------ recurring tasks

def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    import calendar

    last = calendar.monthrange(year, month)[1]
    # A due date on a month's last day stays on the last day (30/6 → 30/9, not 28/9).
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return dt.date(year, month, last)
    return dt.date(year, month, min(day.day, last))


RECURRENCE_MONTHS = {"M": 1, "Q": 3, "S": 6, "Y": 12}


def schedule_next_occurrence(session: Session, task: Task, *, actor: User | None = None
                             ) -> Task | None:
    """A recurring task (e.g. the quarterly report) gets its next occurrence once."""
    if not task.recurrence:
        return None
    existing = session.scalar(select(Task).where(Task.previous_id == task.id))
    if existing is not None:
        return None
    months = RECURRENCE_MONTHS[task.recurrence]
    start = _add_months(task.start_date, months) if task.start_date else None
    return create_task(
        session, title=task.title, lead_unit_id=task.lead_unit_id,
        due_date=_add_months(task.due_date, months), start_date=start,
        description=task.description, focus_area_id=task.focus_area_id, plan_id=task.plan_id,
        partner_unit_ids=[p.unit_id for p in task.partners], owner_id=task.owner_id,
        recurrence=task.recurrence, indicator_ids=[lk.indicator_id for lk in task.links
                                                   if lk.target_id is None],
        target_ids=[lk.target_id for lk in task.links if lk.target_id is not None],
        actor=actor, change="recur", previous_id=task.id)


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
    tasks = list(session.scalars(query))
    rows = _decorate(session, tasks, day)
    if flt.status:
        rows = [r for r in rows if r.status == flt.status]
    return rows


def _decorate(session: Session, tasks: list[Task], day: dt.date) -> list[TaskRow]:
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
                   actor: User | None = None) -> FocusArea:
    """Idempotent on (plan, code): the same list loaded twice changes nothing."""
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
                 object_id=area.id, actor=actor, after={"code": code, "name_vi": name_vi})
    return area


def evidence_for_task(session: Session, task_id: int) -> list[TaskEvidence]:
    return list(session.scalars(select(TaskEvidence).where(TaskEvidence.task_id == task_id)
                                .order_by(TaskEvidence.id)))

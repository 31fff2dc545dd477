"""Task pages (`/tasks`, `/tasks/{id}`, `/tasks/new`, import/export) and the JSON API
(`/api/tasks…`). Reading needs READ on the lead unit; progress needs CAPTURE on the lead
unit (its focal officer); creating and editing need MANAGE."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.errors import NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.notify.service import unread_count
from chiso.tasks import followup, service
from chiso.tasks.common import (
    current_units,
    find_unit,
    managed_units,
    manages_somewhere,
    optional_date,
    readable_units,
    require_manager,
    required_date,
    unit_by_code,
)
from chiso.tasks.models import Task, TaskEvidence, TaskStatus
from chiso.tasks.service import EvidenceFile, TaskFilter, TaskRow
from chiso.tasks.status import STATUS_CSS, status_label
from chiso.tasks.xlsx import TaskImportRejected, export_tasks, import_tasks
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.files import stored_file
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(tags=["tasks"])
NAV = [NavItem("Tasks", "/tasks", order=75)]


# ------------------------------------------------------------------ helpers

def visible(rows: list[TaskRow], access: Access) -> list[TaskRow]:
    """A scoped user sees the tasks its units lead or take part in."""
    return [r for r in rows if access.can(Action.READ, r.task.lead_unit_id)
            or any(access.can(Action.READ, p.unit_id) for p in r.task.partners)]


def task_or_404(session: Session, task_id: int, access: Access) -> Task:
    task = service.get_task(session, task_id)
    if task is None:
        raise service.TaskNotFound(f"Không có nhiệm vụ {task_id}", f"no task {task_id}")
    if not (access.can(Action.READ, task.lead_unit_id)
            or any(access.can(Action.READ, p.unit_id) for p in task.partners)):
        access.require(Action.READ, task.lead_unit_id)
    return task


def board_filter(session: Session, unit: str | None, status: str | None,
                 focus: str | None, due_from: str | None, due_to: str | None) -> TaskFilter:
    chosen = unit_by_code(session, unit)
    if status and status not in TaskStatus.__members__.values():
        raise UserError(f"Trạng thái '{status}' không hợp lệ", f"unknown status '{status}'")
    return TaskFilter(unit_id=chosen.id if chosen else None, status=status or None,
                      focus_area_id=int(focus) if focus and focus.isdigit() else None,
                      due_from=optional_date(due_from), due_to=optional_date(due_to))


# ------------------------------------------------------------------ pages

@router.get("/tasks", include_in_schema=False)
def board(request: Request, session: SessionDep, access: AccessDep, unit: str | None = None,
          status: str | None = None, focus: str | None = None, due_from: str | None = None,
          due_to: str | None = None) -> Response:
    flt = board_filter(session, unit, status, focus, due_from, due_to)
    access.require(Action.READ, flt.unit_id)
    day = service.today()
    all_rows = visible(service.list_tasks(session, TaskFilter(
        unit_id=flt.unit_id, focus_area_id=flt.focus_area_id, due_from=flt.due_from,
        due_to=flt.due_to), day), access)
    rows = [r for r in all_rows if not flt.status or r.status == flt.status]
    counts = {s: sum(1 for r in all_rows if r.status == s) for s in TaskStatus}
    return render(request, "tasks/board.html", {
        "access": access, "rows": rows, "counts": counts, "statuses": list(TaskStatus),
        "status_label": status_label, "status_css": STATUS_CSS,
        # The unit filter offers only units the reader may open (another answered 403).
        "units": readable_units(session, access),
        "areas": service.focus_areas(session), "today": day,
        "filters": {"unit": unit or "", "status": status or "", "focus": focus or "",
                    "due_from": due_from or "", "due_to": due_to or ""},
        "due_soon": visible(followup.due_soon(session, day=day, unit_id=flt.unit_id), access),
        # Only the units the reader may read: a commune officer saw every department's.
        "scores": [s for s in followup.scorecard(session, day=day, unit_id=flt.unit_id)
                   if access.can(Action.READ, s.unit_id)],
        "can_manage": manages_somewhere(access),
        "query": str(request.url.query),
        "unread": unread_count(session, access.user) if access.user else 0,
    })


@router.get("/tasks/export.xlsx", include_in_schema=False)
def export(session: SessionDep, access: AccessDep, unit: str | None = None,
           status: str | None = None, focus: str | None = None, due_from: str | None = None,
           due_to: str | None = None) -> Response:
    flt = board_filter(session, unit, status, focus, due_from, due_to)
    access.require(Action.READ, flt.unit_id)
    rows = visible(service.list_tasks(session, flt), access)
    with tempfile.TemporaryDirectory() as tmp:
        path = export_tasks(rows, Path(tmp) / "nhiem-vu.xlsx", session=session)
        content = path.read_bytes()
    return StreamingResponse(
        io.BytesIO(content),
        headers={"Content-Disposition": 'attachment; filename="nhiem-vu.xlsx"'},
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/tasks/new", include_in_schema=False)
def new_form(request: Request, session: SessionDep, access: AccessDep) -> Response:
    require_manager(access)
    units = current_units(session)
    return render(request, "tasks/new.html", {
        "access": access, "units": managed_units(session, access), "all_units": units,
        "areas": service.focus_areas(session), "users": _users(session), "error": ""})


def _users(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_active.is_(True))
                                .order_by(User.full_name, User.username)))


@router.post("/tasks/new", include_in_schema=False)
def create(request: Request, session: SessionDep, access: AccessDep,
           title: Annotated[str, Form()], lead_unit: Annotated[int, Form()],
           due_date: Annotated[str, Form()], start_date: Annotated[str, Form()] = "",
           partners: Annotated[list[int] | None, Form()] = None,
           focus_area: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = "",
           recurrence: Annotated[str, Form()] = "", description: Annotated[str, Form()] = "",
           ) -> Response:
    try:
        task = service.create_task(
            session, title=title, lead_unit_id=lead_unit, due_date=_due(due_date),
            start_date=optional_date(start_date), partner_unit_ids=partners or [],
            focus_area_id=int(focus_area) if focus_area else None,
            owner_id=int(owner) if owner else None, recurrence=recurrence,
            description=description, access=access)
    except UserError as exc:  # the form again, with the reason, instead of an error page
        session.rollback()
        return render(request, "tasks/new.html", {
            "access": access, "units": managed_units(session, access),
            "all_units": current_units(session),
            "areas": service.focus_areas(session), "users": _users(session),
            "error": exc.in_locale(request.state.locale)}, status_code=exc.status)
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


def _due(text: str) -> dt.date:
    return required_date(text, "hạn hoàn thành", "a due date")


@router.get("/tasks/import", include_in_schema=False)
def import_form(request: Request, access: AccessDep) -> Response:
    require_manager(access)
    return render(request, "tasks/import.html", {"access": access, "errors": [],
                                                 "summary": None})


@router.post("/tasks/import", include_in_schema=False)
async def import_upload(request: Request, session: SessionDep, access: AccessDep,
                        file: Annotated[UploadFile, File()],
                        dry_run: Annotated[str, Form()] = "") -> Response:
    """Every row is checked against the reader's rights on the units it touches (the task's
    current lead unit and any new one): a read-only token or a commune's office renamed
    another department's task here."""
    require_manager(access)
    content = await file.read()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(file.filename or "tasks.xlsx").name
        path.write_bytes(content)
        try:
            summary = import_tasks(session, path, dry_run=bool(dry_run), access=access)
        except TaskImportRejected as exc:
            session.rollback()
            return render(request, "tasks/import.html", {"access": access,
                                                         "errors": exc.issues, "summary": None},
                          status_code=exc.status)
    return render(request, "tasks/import.html", {"access": access, "errors": [],
                                                 "summary": summary})


@router.get("/tasks/{task_id}", include_in_schema=False)
def task_page(request: Request, task_id: int, session: SessionDep, access: AccessDep
              ) -> Response:
    task = task_or_404(session, task_id, access)
    return render(request, "tasks/task.html", _task_context(session, access,
                                                            _row_of(session, task)))


def _task_context(session: Session, access: Access, row: TaskRow, error: str = ""
                  ) -> dict[str, Any]:
    history = service.history(session, row.task.id)
    users = {u.id: (u.full_name or u.username) for u in _users(session)}
    units = {u.id: u.name for u in current_units(session)}
    indicators = {i.id: i for i in session.scalars(select(Indicator).where(
        Indicator.id.in_([lk.indicator_id for lk in row.task.links])))}
    return {"access": access, "row": row, "task": row.task, "history": history,
            "all_units": current_units(session), "all_users": _users(session),
            "areas": service.focus_areas(session),
            "users": users, "units": units, "indicators": indicators, "error": error,
            "status_label": status_label, "status_css": STATUS_CSS,
            "can_capture": access.can(Action.CAPTURE, row.task.lead_unit_id),
            "can_manage": access.can(Action.MANAGE, row.task.lead_unit_id),
            "today": service.today()}


@router.post("/tasks/{task_id}/progress", include_in_schema=False)
async def progress_form(request: Request, task_id: int, session: SessionDep,
                        access: AccessDep,
                        progress_pct: Annotated[float, Form()],
                        note: Annotated[str, Form()] = "",
                        version: Annotated[int | None, Form()] = None,
                        done: Annotated[str, Form()] = "",
                        files: Annotated[list[UploadFile] | None, File()] = None) -> Response:
    task = task_or_404(session, task_id, access)
    evidence = [EvidenceFile(f.filename or "file", await f.read(), f.content_type or "")
                for f in files or [] if f.filename]
    try:
        service.update_progress(session, task_id=task.id, progress_pct=progress_pct, note=note,
                                done=bool(done), files=evidence, access=access,
                                expected_version=version)
    except UserError as exc:
        return _task_page_again(request, session, access, task_id, exc)
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


def _task_page_again(request: Request, session: Session, access: Access, task_id: int,
                     exc: UserError) -> Response:
    """The task's page with the refusal above the form (a stale version: 409)."""
    session.rollback()
    task = task_or_404(session, task_id, access)
    row = _row_of(session, task)
    return render(request, "tasks/task.html", _task_context(
        session, access, row, exc.in_locale(request.state.locale)), status_code=exc.status)


def _row_of(session: Session, task: Task) -> TaskRow:
    return service.decorate(session, [task], service.today())[0]


@router.post("/tasks/{task_id}/edit", include_in_schema=False)
def edit(request: Request, task_id: int, session: SessionDep, access: AccessDep,
         title: Annotated[str, Form()], lead_unit: Annotated[int, Form()],
         due_date: Annotated[str, Form()], owner: Annotated[str, Form()] = "",
         focus_area: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
         version: Annotated[int | None, Form()] = None) -> Response:
    """Change what was assigned (MANAGE): the history keeps the earlier state."""
    task = task_or_404(session, task_id, access)
    try:
        service.edit_task(session, task_id=task.id, access=access,
                          expected_version=version, note=note, title=title,
                          lead_unit_id=lead_unit, due_date=_due(due_date),
                          owner_id=int(owner) if owner else None,
                          focus_area_id=int(focus_area) if focus_area else None)
    except UserError as exc:
        return _task_page_again(request, session, access, task_id, exc)
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


@router.post("/tasks/{task_id}/cancel", include_in_schema=False)
def cancel(task_id: int, session: SessionDep, access: AccessDep,
           reason: Annotated[str, Form()] = "") -> Response:
    task = task_or_404(session, task_id, access)
    service.cancel_task(session, task_id=task.id, reason=reason, access=access)
    return RedirectResponse(f"/tasks/{task.id}", status_code=303)


@router.get("/tasks/evidence/{evidence_id}", include_in_schema=False)
def evidence(evidence_id: int, session: SessionDep, access: AccessDep) -> Response:
    row = session.get(TaskEvidence, evidence_id)
    if row is None:
        raise NotFound(f"Không có minh chứng {evidence_id}", f"no evidence file {evidence_id}")
    task_or_404(session, row.task_id, access)
    return stored_file(service.evidence_path(row.sha256), row.file_name,
                       row.content_type or "application/octet-stream")


# ------------------------------------------------------------------ JSON API

class TaskIn(BaseModel):
    title: str
    lead_unit: str = Field(min_length=1, description="Lead unit code")
    due_date: dt.date
    start_date: dt.date | None = None
    partner_units: list[str] = []
    owner: str | None = Field(None, description="User name")
    recurrence: str = ""
    description: str = ""


class ProgressIn(BaseModel):
    progress_pct: float = Field(ge=0, le=100)
    note: str = ""
    done: bool = False
    update_date: dt.date | None = None
    version: int | None = None


@router.get("/api/tasks")
def api_list(session: SessionDep, access: AccessDep, unit: str | None = None,
             status: str | None = None, focus: str | None = None,
             due_from: str | None = None, due_to: str | None = None) -> list[dict[str, Any]]:
    """Tasks with their derived status; filters as on the board."""
    flt = board_filter(session, unit, status, focus, due_from, due_to)
    access.require(Action.READ, flt.unit_id)
    return [r.to_dict() for r in visible(service.list_tasks(session, flt), access)]


@router.post("/api/tasks", status_code=201)
def api_create(body: TaskIn, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Assign a task (MANAGE on the lead unit)."""
    lead = find_unit(session, body.lead_unit)
    owner_id = None
    if body.owner:
        owner_id = session.scalar(select(User.id).where(User.username == body.owner))
        if owner_id is None:
            raise UserError(f"Không có người dùng '{body.owner}'", f"no user '{body.owner}'")
    partners = [find_unit(session, c).id for c in body.partner_units]
    task = service.create_task(
        session, title=body.title, lead_unit_id=lead.id, due_date=body.due_date,
        start_date=body.start_date, partner_unit_ids=partners, owner_id=owner_id,
        recurrence=body.recurrence, description=body.description, access=access)
    return _row_of(session, task).to_dict()


@router.get("/api/tasks/scorecard")
def api_scorecard(session: SessionDep, access: AccessDep, unit: str | None = None
                  ) -> list[dict[str, Any]]:
    """Per lead unit: on time, late, overdue, open, ownerless."""
    chosen = unit_by_code(session, unit)
    access.require(Action.READ, chosen.id if chosen else None)
    return [{"unit_id": s.unit_id, "unit_name": s.unit_name, "total": s.total,
             "done_on_time": s.done_on_time, "done_late": s.done_late, "overdue": s.overdue,
             "open": s.open, "ownerless": s.ownerless, "on_time_rate": s.on_time_rate}
            for s in followup.scorecard(session, day=service.today(),
                                        unit_id=chosen.id if chosen else None)
            if access.can(Action.READ, s.unit_id)]


@router.get("/api/tasks/{task_id}")
def api_get(task_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """One task with its full history."""
    task = task_or_404(session, task_id, access)
    data = _row_of(session, task).to_dict()
    data["history"] = [
        {"version": h.version, "change": h.change, "update_date": h.update_date.isoformat(),
         "note": h.note, "progress_pct": h.progress_pct, "state": h.state,
         "due_date": h.due_date.isoformat(), "changed_by_id": h.changed_by_id,
         "evidence": [{"id": e.id, "file_name": e.file_name, "sha256": e.sha256,
                       "size": e.size} for e in h.evidence]}
        for h in service.history(session, task.id)]
    return data


@router.post("/api/tasks/{task_id}/progress")
def api_progress(task_id: int, body: ProgressIn, session: SessionDep, access: AccessDep
                 ) -> dict[str, Any]:
    """Report progress (CAPTURE on the lead unit). A stale `version` answers 409."""
    task = task_or_404(session, task_id, access)
    service.update_progress(session, task_id=task.id, progress_pct=body.progress_pct,
                            note=body.note, done=body.done, update_date=body.update_date,
                            access=access, expected_version=body.version)
    return _row_of(session, task).to_dict()

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
from chiso.storage.responses import file_response
from chiso.tasks import followup, monthly, service
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
from chiso.tasks.counts import count_by_origin, total_of
from chiso.tasks.models import Origin, Task, TaskEvidence, TaskStatus
from chiso.tasks.service import EvidenceFile, TaskFilter, TaskRow
from chiso.tasks.status import AHEAD_MARGIN_DAYS, STATUS_CSS, origin_label, status_label
from chiso.tasks.xlsx import TaskImportRejected, export_tasks, import_tasks
from chiso.text import iso_instant
from chiso.units.models import OrgUnit
from chiso.units.service import descendant_ids
from chiso.web.deps import AccessDep, LocaleDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import OptionalDayText, OptionalMonthText, OptionalYear, one_of
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
                 focus: str | None, due_from: str | None, due_to: str | None,
                 origin: str | None = None) -> TaskFilter:
    chosen = unit_by_code(session, unit)
    if status and status not in TaskStatus.__members__.values():
        raise UserError(f"Trạng thái '{status}' không hợp lệ", f"unknown status '{status}'")
    return TaskFilter(unit_id=chosen.id if chosen else None, status=status or None,
                      focus_area_id=int(focus) if focus and focus.isdigit() else None,
                      due_from=optional_date(due_from), due_to=optional_date(due_to),
                      origin=service.check_origin(origin) if origin else None)


# ------------------------------------------------------------------ pages

@router.get("/tasks", include_in_schema=False)
def board(request: Request, session: SessionDep, access: AccessDep, unit: str | None = None,
          status: str | None = None, focus: str | None = None, due_from: str | None = None,
          due_to: str | None = None, origin: str | None = None) -> Response:
    flt = board_filter(session, unit, status, focus, due_from, due_to, origin)
    access.require(Action.READ, flt.unit_id)
    day = service.today()
    all_rows = visible(service.list_tasks(session, TaskFilter(
        unit_id=flt.unit_id, focus_area_id=flt.focus_area_id, due_from=flt.due_from,
        due_to=flt.due_to, origin=flt.origin), day), access)
    rows = [r for r in all_rows if not flt.status or r.status == flt.status]
    counts = {s: sum(1 for r in all_rows if r.status == s) for s in TaskStatus}
    by_origin = count_by_origin(all_rows)
    return render(request, "tasks/board.html", {
        "access": access, "rows": rows, "counts": counts, "statuses": list(TaskStatus),
        "status_label": status_label, "status_css": STATUS_CSS,
        "by_origin": by_origin, "origin_total": total_of(by_origin), "origins": list(Origin),
        "origin_label": origin_label, "ahead_days": AHEAD_MARGIN_DAYS,
        # The unit filter offers only units the reader may open (another answered 403).
        "units": readable_units(session, access),
        "areas": service.focus_areas(session), "today": day,
        "filters": {"unit": unit or "", "status": status or "", "focus": focus or "",
                    "due_from": due_from or "", "due_to": due_to or "",
                    "origin": flt.origin or ""},
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
           due_to: str | None = None, origin: str | None = None) -> Response:
    flt = board_filter(session, unit, status, focus, due_from, due_to, origin)
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
        "areas": service.focus_areas(session), "users": _users(session), "error": "",
        "origins": list(Origin), "origin_label": origin_label})


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
           origin: Annotated[str, Form()] = Origin.PROVINCE,
           assigned_doc_number: Annotated[str, Form()] = "",
           assigned_doc_date: Annotated[str, Form()] = "",
           expected_product: Annotated[str, Form()] = "") -> Response:
    try:
        task = service.create_task(
            session, title=title, lead_unit_id=lead_unit, due_date=_due(due_date),
            start_date=optional_date(start_date), partner_unit_ids=partners or [],
            focus_area_id=int(focus_area) if focus_area else None,
            owner_id=int(owner) if owner else None, recurrence=recurrence,
            description=description, access=access, origin=origin,
            assigned_doc_number=assigned_doc_number,
            assigned_doc_date=optional_date(assigned_doc_date),
            expected_product=expected_product)
    except UserError as exc:  # the form again, with the reason, instead of an error page
        session.rollback()
        return render(request, "tasks/new.html", {
            "access": access, "units": managed_units(session, access),
            "all_units": current_units(session),
            "areas": service.focus_areas(session), "users": _users(session),
            "origins": list(Origin), "origin_label": origin_label,
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


# ------------------------------------------------------------------ monthly reports

def _month_or_default(month: str | None) -> str:
    """The month asked for, else the last finished month (the one being reported)."""
    if month:
        return monthly.month_of(month).id
    first = service.today().replace(day=1)
    return f"{(first - dt.timedelta(days=1)):%Y%m}"


def _standing_for(session: Session, access: Access, month: str, unit: OrgUnit | None
                  ) -> list[monthly.UnitMonth]:
    """The units the reader may read that must report for the month (under `unit`)."""
    scope = [unit.id, *descendant_ids(session, unit.id)] if unit else None
    return [u for u in monthly.month_standing(session, period=month, unit_ids=scope)
            if access.can(Action.READ, u.unit_id)]


@router.get("/tasks/monthly", include_in_schema=False)
def month_page(request: Request, session: SessionDep, access: AccessDep,
               month: str | None = None, unit: str | None = None, sent: str = "") -> Response:
    """Báo cáo tháng: who reported on their tasks for the month, who said "không phát
    sinh", who has not; the reader's own units can report here."""
    period = _month_or_default(month)
    chosen = unit_by_code(session, unit)
    access.require(Action.READ, chosen.id if chosen else None)
    standing = _standing_for(session, access, period, chosen)
    # Forms for the reader's own units, or the unit chosen (a standing office that may
    # report for every unit would otherwise get one form per unit).
    own = {m.unit_id for m in access.user.memberships} if access.user else set()
    mine = [u for u in standing if access.can(Action.CAPTURE, u.unit_id)
            and (u.unit_id in own or (chosen is not None and u.unit_id == chosen.id))]
    return render(request, "tasks/monthly.html", {
        "access": access, "period": period, "month": monthly.month_of(period),
        "standing": standing, "mine": mine, "unit": chosen, "sent": sent,
        "units": readable_units(session, access), "due": monthly.due_date(
            monthly.month_of(period)), "summary": monthly.summarise(standing),
        "task_codes": {r.task.id: r.task.code for u in standing for r in u.tasks}})


@router.post("/tasks/monthly", include_in_schema=False)
def month_submit(session: SessionDep, access: AccessDep, unit: Annotated[str, Form()],
                 month: Annotated[str, Form()], kind: Annotated[str, Form()] = "progress",
                 note: Annotated[str, Form()] = "") -> Response:
    target = find_unit(session, unit)
    report = monthly.submit_month_report(session, unit_id=target.id, period=month,
                                         nothing=kind == "nothing", note=note, access=access)
    return RedirectResponse(f"/tasks/monthly?month={report.period}&sent={target.code}",
                            status_code=303)


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
            "origins": list(Origin), "origin_label": origin_label,
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
         version: Annotated[int | None, Form()] = None,
         origin: Annotated[str, Form()] = Origin.PROVINCE,
         assigned_doc_number: Annotated[str, Form()] = "",
         assigned_doc_date: Annotated[str, Form()] = "",
         expected_product: Annotated[str, Form()] = "") -> Response:
    """Change what was assigned (MANAGE): the history keeps the earlier state."""
    task = task_or_404(session, task_id, access)
    try:
        service.edit_task(session, task_id=task.id, access=access,
                          expected_version=version, note=note, title=title,
                          lead_unit_id=lead_unit, due_date=_due(due_date),
                          owner_id=int(owner) if owner else None,
                          focus_area_id=int(focus_area) if focus_area else None,
                          origin=origin, assigned_doc_number=assigned_doc_number,
                          assigned_doc_date=optional_date(assigned_doc_date),
                          expected_product=expected_product)
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
    return file_response(row.sha256, row.file_name)


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
    origin: str = Field(Origin.PROVINCE, description="central, province or commune "
                        "(Trung ương / tỉnh / xã giao)")
    assigned_doc_number: str = Field("", description="Số hiệu of the assigning document")
    assigned_doc_date: dt.date | None = None
    expected_product: str = ""


class ProgressIn(BaseModel):
    progress_pct: float = Field(ge=0, le=100)
    note: str = ""
    done: bool = False
    update_date: dt.date | None = None
    version: int | None = None


@router.get("/api/tasks")
def api_list(session: SessionDep, access: AccessDep, unit: str | None = None,
             status: Annotated[str | None, one_of(TaskStatus)] = None,
             focus: str | None = None,
             due_from: OptionalDayText = None, due_to: OptionalDayText = None,
             origin: Annotated[str | None, one_of(Origin)] = None) -> list[dict[str, Any]]:
    """Tasks with their derived status; filters as on the board."""
    flt = board_filter(session, unit, status, focus, due_from, due_to, origin)
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
        recurrence=body.recurrence, description=body.description, access=access,
        origin=body.origin, assigned_doc_number=body.assigned_doc_number,
        assigned_doc_date=body.assigned_doc_date, expected_product=body.expected_product)
    return _row_of(session, task).to_dict()


@router.get("/api/tasks/counts")
def api_counts(session: SessionDep, access: AccessDep, locale: LocaleDep,
               unit: str | None = None, year: OptionalYear = None) -> dict[str, Any]:
    """Tasks counted by the level that assigned them (Trung ương / tỉnh / xã giao): total,
    done (ahead of schedule — at least `ahead_margin_days` early —, on time, late), running
    within the deadline and overdue, as of today. With `year`, tasks finished before that
    year are left out. Led by `unit` or a unit it takes part in, as on the board."""
    chosen = unit_by_code(session, unit)
    access.require(Action.READ, chosen.id if chosen else None)
    rows = visible(service.list_tasks(session, TaskFilter(unit_id=chosen.id if chosen
                                                          else None)), access)
    counts = count_by_origin(rows, year=year)
    return {"as_of": service.today().isoformat(), "year": year,
            "ahead_margin_days": AHEAD_MARGIN_DAYS,
            "origins": [c.to_dict(locale) for c in counts],
            "total": total_of(counts).to_dict(locale) | {
                "origin": None, "label": "Total" if locale == "en" else "Tổng cộng"}}


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


@router.get("/api/tasks/{task_id:int}")
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


@router.post("/api/tasks/{task_id:int}/progress")
def api_progress(task_id: int, body: ProgressIn, session: SessionDep, access: AccessDep
                 ) -> dict[str, Any]:
    """Report progress (CAPTURE on the lead unit). A stale `version` answers 409."""
    task = task_or_404(session, task_id, access)
    service.update_progress(session, task_id=task.id, progress_pct=body.progress_pct,
                            note=body.note, done=body.done, update_date=body.update_date,
                            access=access, expected_version=body.version)
    return _row_of(session, task).to_dict()


class MonthReportIn(BaseModel):
    unit: str = Field(min_length=1, description="Unit code")
    month: str = Field(description="Month, e.g. 202609 or 'Tháng 9/2026'")
    nothing: bool = Field(False, description="Không phát sinh: nothing happened this month")
    note: str = ""


def _unit_month_json(u: monthly.UnitMonth) -> dict[str, Any]:
    report = u.report
    return {"unit_id": u.unit_id, "unit_name": u.unit_name, "period": u.period,
            "due_date": u.due.isoformat() if u.due else None, "tasks": len(u.tasks),
            "progress_updates": len(u.updates),
            "report": None if report is None else {
                "kind": report.kind, "nothing": u.nothing, "note": report.note,
                "recorded_at": iso_instant(report.recorded_at),
                "late_days": u.late_days, "version": report.version}}


@router.get("/api/tasks/monthly")
def api_month(session: SessionDep, access: AccessDep, month: OptionalMonthText = None,
              unit: str | None = None) -> list[dict[str, Any]]:
    """The units that must report on their tasks for the month (default: last month) and
    their reports: none yet, progress, or "không phát sinh" (`nothing`), with days late."""
    chosen = unit_by_code(session, unit)
    access.require(Action.READ, chosen.id if chosen else None)
    period = _month_or_default(month)
    return [_unit_month_json(u) for u in _standing_for(session, access, period, chosen)]


@router.post("/api/tasks/monthly", status_code=201)
def api_month_submit(body: MonthReportIn, session: SessionDep, access: AccessDep
                     ) -> dict[str, Any]:
    """Send a unit's monthly task report, or "không phát sinh" (CAPTURE on the unit)."""
    target = find_unit(session, body.unit)
    report = monthly.submit_month_report(session, unit_id=target.id, period=body.month,
                                         nothing=body.nothing, note=body.note, access=access)
    return {"id": report.id, "unit": target.code, "period": report.period,
            "kind": report.kind, "version": report.version}

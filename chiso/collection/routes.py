"""Reporting pages (`/collection/...`) and the JSON API (`/api/collection/...`).

Reading needs READ on the unit; entering figures and submitting need CAPTURE; approving
and returning need APPROVE; defining data sets needs MANAGE. All through `Access`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, PermissionDenied
from chiso.collection import capture, dhis2, quality, service, template
from chiso.collection.models import DataSet, Evidence, Submission
from chiso.indicators.models import Indicator
from chiso.periods import Calendar, PeriodError, PeriodType, parse_period, period_containing
from chiso.settings import get_settings
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, get_unit
from chiso.values.service import ValueRejected
from chiso.web.deps import AccessDep, LocaleDep, SessionDep, UserDep
from chiso.web.nav import NAV_ITEMS, NavItem
from chiso.web.templating import render

router = APIRouter(tags=["collection"])
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
UPLOAD_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")


# ------------------------------------------------------------------ helpers


def _data_set(session: Session, code: str | None) -> DataSet:
    if code:
        try:
            return service.data_set_by_code(session, code)
        except service.WorkflowError as exc:
            raise HTTPException(404, str(exc)) from None
    first = session.scalar(select(DataSet).where(DataSet.active.is_(True))
                           .order_by(DataSet.code))
    if first is None:
        raise HTTPException(404, "Chưa có biểu mẫu báo cáo nào / no data set defined yet")
    return first


def default_period(data_set: DataSet, today: dt.date | None = None) -> str:
    """The last period that has ended: the one being reported now."""
    day = today or get_settings().current_date()
    current = period_containing(day, PeriodType(data_set.period_type),
                                Calendar(data_set.calendar))
    return current.previous().id


def _period(data_set: DataSet, period: str | None) -> str:
    if not period:
        return default_period(data_set)
    try:
        return service.check_period(data_set, period).id
    except (PeriodError, service.WorkflowError) as exc:
        raise HTTPException(422, str(exc)) from None


def _unit(session: Session, code: str, period: str) -> OrgUnit:
    try:
        return get_unit(session, code, parse_period(period).end())
    except UnitNotFound:
        try:
            return get_unit(session, code)
        except UnitNotFound as exc:
            raise HTTPException(404, str(exc)) from None


def _submission(session: Session, submission_id: int) -> Submission:
    found = session.get(Submission, submission_id)
    if found is None:
        raise HTTPException(404, f"Không có báo cáo #{submission_id} / no submission "
                                 f"#{submission_id}")
    return found


def _visible(access: Access, submissions: list[Submission]) -> list[Submission]:
    return [s for s in submissions if access.can(Action.READ, s.unit_id)]


def _submission_json(session: Session, s: Submission) -> dict[str, Any]:
    unit = session.get(OrgUnit, s.unit_id)
    return {"id": s.id, "unit_code": unit.code if unit else "", "unit_name":
            unit.name if unit else "", "period": s.period, "status": s.status,
            "due_date": s.due_date.isoformat(),
            "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
            "approved_at": s.approved_at.isoformat() if s.approved_at else None,
            "return_reason": s.return_reason, "edits_after_approval": s.edits_after_approval}


def _workflow_error(exc: service.WorkflowError) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "message_vi": exc.message_vi,
                         "message_en": exc.message_en}, status_code=409)


def _saved_upload(upload: UploadFile, user_id: int, suffixes: tuple[str, ...]
                  ) -> tuple[Path, str]:
    name = Path(upload.filename or "upload.xlsx").name
    suffix = Path(name).suffix.lower()
    if suffix not in suffixes:
        raise HTTPException(415, f"Không nhận tệp '{name}' (chỉ {', '.join(suffixes)}) / "
                                 f"'{name}' is not accepted (only {', '.join(suffixes)})")
    content = upload.file.read()
    digest = hashlib.sha256(content).hexdigest()
    folder = get_settings().data_dir / "uploads" / str(user_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}{suffix}"
    path.write_bytes(content)
    return path, digest


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


# ------------------------------------------------------------------ JSON API


class ReasonIn(BaseModel):
    reason: str = ""



@router.get("/api/collection/datasets")
def api_data_sets(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """Every reporting form (data set): code, names, period type, calendar, days until due,
    reminder offsets and its indicator codes. Any signed-in user or API token with READ."""
    access.require(Action.READ)
    return [{"code": d.code, "name_vi": d.name_vi, "name_en": d.name_en,
             "period_type": d.period_type, "calendar": d.calendar, "due_days": d.due_days,
             "reminder_offsets": d.reminder_offsets,
             "indicators": [i.code for i in service.indicators_of(session, d)]}
            for d in session.scalars(select(DataSet).order_by(DataSet.code))]


@router.get("/api/collection/rules")
def api_rules(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """The active validation rules (left side, operator, right side, importance, what to do when
    a figure is missing, Vietnamese and English message) that imports and forms check values
    against. Needs READ."""
    from chiso.collection.rules import active_rules

    access.require(Action.READ)
    return [{"code": r.code, "left": r.left, "operator": r.operator, "right": r.right,
             "importance": r.importance, "missing": r.missing_strategy,
             "message_vi": r.message_vi, "message_en": r.message_en}
            for r in active_rules(session)]


@router.get("/api/collection/flags")
def api_flags(session: SessionDep, access: AccessDep, status: str = "open"
              ) -> list[dict[str, Any]]:
    """Figures flagged for follow-up (outliers, DHIS2 followup) in the user's scope."""
    from chiso.collection.models import ValueFlag

    rows = session.scalars(select(ValueFlag).where(ValueFlag.status == status)
                           .order_by(ValueFlag.id)).all()
    return [{"id": f.id, "unit_id": f.unit_id, "indicator_id": f.indicator_id,
             "period": f.period, "kind": f.kind, "score": f.score, "status": f.status,
             "note": f.note} for f in rows if access.can(Action.READ, f.unit_id)]


@router.post("/api/collection/flags/detect")
def api_detect(session: SessionDep, access: AccessDep) -> dict[str, int]:
    """Look for outliers against each unit's history and its peers; open flags. Needs
    MANAGE on the install's province (the standing office)."""
    from chiso.collection.outliers import flag_outliers

    try:
        province = get_unit(session, get_settings().default_unit).id
    except UnitNotFound:
        province = None
    access.require(Action.MANAGE, province)
    return {"new_flags": flag_outliers(session)}


@router.post("/api/collection/flags/{flag_id}/resolve", response_model=None)
def api_resolve(flag_id: int, body: ReasonIn, session: SessionDep, access: AccessDep,
                user: UserDep) -> dict[str, Any]:
    """Close a flag after checking the figure with the unit (the note says what was found)."""
    from chiso.audit.service import record_event
    from chiso.collection.models import ValueFlag

    flag = session.get(ValueFlag, flag_id)
    if flag is None:
        raise HTTPException(404, f"Không có cờ #{flag_id} / no flag #{flag_id}")
    access.require(Action.APPROVE, flag.unit_id)
    if not body.reason.strip():
        raise HTTPException(422, "Hãy ghi kết quả kiểm tra / say what the check found")
    flag.status, flag.note = "resolved", body.reason.strip()
    record_event(session, action="flag.resolve", object_type="value_flag", object_id=flag.id,
                 actor=user, unit_id=flag.unit_id, after={"note": flag.note})
    return {"id": flag.id, "status": flag.status, "note": flag.note}


class DataSetIn(BaseModel):
    code: str
    name_vi: str
    name_en: str = ""
    period_type: str = "Q"
    calendar: str = "standard"
    due_days: int = 10
    reminder_offsets: list[int] = [-3, 0, 3, 7]
    indicators: list[str]
    units: list[str] = []
    unit_kind: str = ""
    parent_unit: str | None = None


@router.post("/api/collection/datasets", response_model=None)
def api_define(body: DataSetIn, session: SessionDep, access: AccessDep, user: UserDep
               ) -> dict[str, Any] | JSONResponse:
    """Create or update a data set from the spec in the body (the YAML shape of
    docs/collection.md, as JSON); the same spec twice changes nothing. Returns its code and
    id; 422 with the reason for a bad spec. Needs MANAGE on `parent_unit` (or everywhere
    without one)."""
    access.require(Action.MANAGE, get_unit(session, body.parent_unit).id
                   if body.parent_unit else None)
    try:
        data_set = service.define_data_set(session, body.model_dump(), actor=user)
    except (service.WorkflowError, UnitNotFound, ValueError) as exc:
        session.rollback()
        return JSONResponse({"detail": str(exc)}, status_code=422)
    return {"code": data_set.code, "id": data_set.id}


@router.get("/api/collection/submissions")
def api_submissions(session: SessionDep, access: AccessDep, data_set: str | None = None,
                    period: str | None = None) -> dict[str, Any]:
    """The expected reports of a data set (default: the first active one) for a period (default:
    the last one that has ended), one per reporting unit the caller may read: status, due
    date, when submitted and approved, the return reason and edits after approval."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    rows = _visible(access, service.expected_submissions(session, chosen, chosen_period))
    return {"data_set": chosen.code, "period": chosen_period,
            "submissions": [_submission_json(session, s) for s in rows]}


@router.post("/api/collection/submissions/{submission_id}/{step}", response_model=None)
def api_step(submission_id: int, step: str, session: SessionDep, access: AccessDep,
             user: UserDep, body: ReasonIn | None = None) -> dict[str, Any] | JSONResponse:
    """step: submit (CAPTURE), approve or return (APPROVE; return needs a reason)."""
    submission = _submission(session, submission_id)
    try:
        _do_step(session, submission, step, (body or ReasonIn()).reason, user, access)
    except service.WorkflowError as exc:
        session.rollback()
        return _workflow_error(exc)
    return _submission_json(session, submission)


def _do_step(session: Session, submission: Submission, step: str, reason: str, user: Any,
             access: Access) -> None:
    if step == "submit":
        service.submit(session, submission, actor=user, access=access)
    elif step == "approve":
        service.approve(session, submission, actor=user, access=access)
    elif step == "return":
        service.return_submission(session, submission, reason=reason, actor=user,
                                   access=access)
    else:
        raise HTTPException(404, f"Không có bước '{step}' / no step '{step}'")


@router.get("/api/collection/submissions/{submission_id}/history")
def api_history(submission_id: int, session: SessionDep, access: AccessDep
                ) -> list[dict[str, Any]]:
    """A submission's workflow events, oldest first: action, status before and after, who, when
    (UTC) and the note (a return reason). Needs READ on the submission's unit."""
    submission = _submission(session, submission_id)
    access.require(Action.READ, submission.unit_id)
    return [{"action": e.action, "from": e.from_status, "to": e.to_status,
             "actor_id": e.actor_id, "at": e.at.isoformat(), "note": e.note}
            for e in service.history(session, submission)]


@router.get("/api/collection/quality")
def api_quality(session: SessionDep, access: AccessDep, data_set: str | None = None,
                period: str | None = None, unit: str | None = None) -> dict[str, Any]:
    """The correct, complete, clean, live scorecard (đúng, đủ, sạch, sống) of a data set and
    period (defaults as for submissions): totals, each unit's figures, late units and
    completeness by indicator. `unit` limits it to that unit and the units under it (READ on
    it); without it, every unit the caller may read."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    scope = _scope(session, access, unit, chosen_period)
    card = quality.scorecard(session, chosen, chosen_period, unit_ids=scope)
    return _jsonable(card.as_dict())


def _scope(session: Session, access: Access, unit: str | None, period: str) -> set[int]:
    """Units the scorecard covers: a unit's subtree (READ on it), else all readable."""
    from chiso.units.service import descendant_ids

    if unit:
        root = _unit(session, unit, period)
        access.require(Action.READ, root.id)
        return {root.id, *descendant_ids(session, root.id, parse_period(period).end())}
    ids = set(session.scalars(select(OrgUnit.id)))
    return {i for i in ids if access.can(Action.READ, i)}


@router.get("/api/collection/template")
def api_template(session: SessionDep, access: AccessDep, data_set: str, unit: str,
                 period: str) -> FileResponse:
    """Download the Excel template to fill in for a data set, unit and period (.xlsx: one row
    per indicator, figures already stored filled in, a help sheet). Needs READ on the unit."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    target = _unit(session, unit, chosen_period)
    access.require(Action.READ, target.id)
    name = template.template_file_name(chosen, target, chosen_period)
    path = template.build_template(session, chosen, target, chosen_period,
                                   Path(tempfile.mkdtemp(prefix="chiso-template-")) / name)
    return FileResponse(path, filename=name, media_type="application/vnd.openxmlformats-"
                        "officedocument.spreadsheetml.sheet")


@router.post("/api/collection/template", response_model=None)
def api_template_upload(session: SessionDep, access: AccessDep, user: UserDep,
                        file: Annotated[UploadFile, File()], data_set: str, unit: str,
                        period: str, dry_run: bool = True, encoding: str = "auto"
                        ) -> JSONResponse:
    """Upload a filled template: every problem (sheet, row, column) or the diff; stored
    only with dry_run=false and no errors."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    target = _unit(session, unit, chosen_period)
    access.require(Action.CAPTURE, target.id)
    path, _digest = _saved_upload(file, user.id, UPLOAD_SUFFIXES)
    upload = template.upload_template(
        session, path, data_set=chosen, unit=target, period=chosen_period, dry_run=dry_run,
        actor=user, access=access, display_name=Path(file.filename or path.name).name,
        encoding=encoding if encoding in ("auto", "unicode", "tcvn3", "vni") else "auto")
    if not upload.result.ok:
        session.rollback()
    return JSONResponse(_jsonable(upload.as_dict()),
                        status_code=200 if upload.result.ok else 422)


@router.get("/api/collection/dhis2/dataValueSets", response_model=None)
def api_dhis2_export(session: SessionDep, access: AccessDep,
                     dataSet: str, period: Annotated[list[str], Query()],
                     orgUnit: str | None = None, children: bool = False,
                     format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
                     idScheme: str = "CODE") -> Response:
    """DHIS2 dataValueSets export (codes as identifiers)."""
    if idScheme.upper() != "CODE":
        raise HTTPException(422, "chiso chỉ dùng idScheme=CODE / only idScheme=CODE")
    chosen = _data_set(session, dataSet)
    scope = _scope(session, access, orgUnit, period[0]) if orgUnit else _scope(
        session, access, None, period[0])
    if orgUnit and not children:
        scope = {_unit(session, orgUnit, period[0]).id}
    document = dhis2.export_data_values(session, data_set=chosen, periods=period,
                                        unit_ids=sorted(scope))
    if format == "csv":
        return Response(dhis2.to_csv(document), media_type="text/csv; charset=utf-8")
    return JSONResponse(document)


@router.post("/api/collection/dhis2/dataValueSets", response_model=None)
def api_dhis2_import(session: SessionDep, access: AccessDep, user: UserDep,
                     file: Annotated[UploadFile, File()], dryRun: bool = True,
                     idScheme: str = "CODE", dataElementIdScheme: str = "CODE",
                     orgUnitIdScheme: str = "CODE") -> JSONResponse:
    """Import a DHIS2 dataValueSets file (.json or .csv, codes as identifiers): every problem by
    row and field, or the changes; stored only with `dryRun=false` and no errors (422
    otherwise). Needs CAPTURE on the units it writes."""
    if not access.can(Action.CAPTURE) and not any(
            access.can(Action.CAPTURE, m.unit_id) for m in user.memberships):
        raise PermissionDenied(Action.CAPTURE)
    path, _digest = _saved_upload(file, user.id, (".json", ".csv"))
    try:
        outcome = dhis2.import_file(session, path, display_name=file.filename, dry_run=dryRun,
                                    actor=user, access=access, options={
                                        "idScheme": idScheme,
                                        "dataElementIdScheme": dataElementIdScheme,
                                        "orgUnitIdScheme": orgUnitIdScheme})
    except dhis2.Dhis2Error as exc:
        return JSONResponse({"detail": str(exc)}, status_code=422)
    if not outcome.result.ok:
        session.rollback()
    return JSONResponse(_jsonable(outcome.as_dict()),
                        status_code=200 if outcome.result.ok else 422)


# ------------------------------------------------------------------ pages


@router.get("/collection", include_in_schema=False)
def reporting_page(request: Request, session: SessionDep, access: AccessDep,
                   data_set: str | None = None, period: str | None = None) -> Response:
    access.require(Action.READ)
    if session.scalar(select(DataSet.id).limit(1)) is None:
        return render(request, "collection/reporting.html", {"access": access,
                                                             "data_set": None})
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    rows = _visible(access, service.expected_submissions(session, chosen, chosen_period))
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_([s.unit_id for s in rows] or [-1])))}
    today = get_settings().current_date()
    return render(request, "collection/reporting.html", {
        "access": access, "data_set": chosen, "period": parse_period(chosen_period),
        "data_sets": list(session.scalars(select(DataSet).order_by(DataSet.code))),
        "periods": _period_choices(chosen), "rows": rows, "units": units, "today": today,
        "can_approve": {s.id: access.can(Action.APPROVE, s.unit_id) for s in rows},
        "can_capture": {s.id: access.can(Action.CAPTURE, s.unit_id) for s in rows},
        "counts": {st: sum(s.status == st for s in rows) for st in service.STATUSES},
        "late": sum(s.status in (service.DRAFT, service.RETURNED) and s.due_date < today
                    for s in rows),
        "labels": service.STATUS_LABELS})


def _period_choices(data_set: DataSet) -> list[str]:
    current = period_containing(get_settings().current_date(), PeriodType(data_set.period_type),
                                Calendar(data_set.calendar))
    choices = [current]
    for _ in range(7):
        choices.append(choices[-1].previous())
    return [p.id for p in choices]


@router.get("/collection/quality", include_in_schema=False)
def quality_page(request: Request, session: SessionDep, access: AccessDep,
                 locale: LocaleDep, data_set: str | None = None, period: str | None = None
                 ) -> Response:
    access.require(Action.READ)
    if session.scalar(select(DataSet.id).limit(1)) is None:
        return render(request, "collection/quality.html", {"access": access, "card": None})
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    card = quality.scorecard(session, chosen, chosen_period,
                             unit_ids=_scope(session, access, None, chosen_period))
    chart = {"units": [u.unit_code for u in card.units],
             "series": {k: [u.shares()[k] for u in card.units] for k in
                        ("dung", "du", "sach", "song")}}
    return render(request, "collection/quality.html", {
        "access": access, "card": card, "totals": card.totals(), "data_set": chosen,
        "period": parse_period(chosen_period), "chart": chart,
        "data_sets": list(session.scalars(select(DataSet).order_by(DataSet.code))),
        "periods": _period_choices(chosen), "labels": service.STATUS_LABELS})


@router.get("/collection/{code}/{period}/{unit_code}", include_in_schema=False)
def form_page(request: Request, code: str, period: str, unit_code: str, session: SessionDep,
              access: AccessDep, saved: int = 0) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    access.require(Action.READ, unit.id)
    return _form(request, session, access, chosen, chosen_period, unit,
                 notice="saved" if saved else "")


def _form(request: Request, session: Session, access: Access, data_set: DataSet,
          period: str, unit: OrgUnit, *, problems: list[capture.FormProblem] | None = None,
          upload: template.TemplateUpload | None = None, notice: str = "",
          upload_meta: dict[str, str] | None = None, typed_back: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    submission = service.submission_for(session, data_set, unit.id, period)
    editable = submission.status in (service.DRAFT, service.RETURNED) or (
        submission.status == service.SUBMITTED)
    locked = submission.status == service.APPROVED and not access.can(Action.APPROVE,
                                                                      unit.id)
    return render(request, "collection/form.html", {
        "access": access, "data_set": data_set, "period": parse_period(period),
        "unit": unit, "submission": submission, "rows": capture.form_rows(
            session, data_set, unit, period),
        "history": service.history(session, submission),
        "can_capture": access.can(Action.CAPTURE, unit.id) and editable and not locked,
        "can_approve": access.can(Action.APPROVE, unit.id), "locked": locked,
        "problems": problems or [], "upload": upload,
        "upload_view": upload.as_dict(300) if upload else None, "notice": notice,
        "upload_meta": upload_meta or {}, "typed_back": typed_back or {},
        "labels": service.STATUS_LABELS,
        "actions": service.ACTION_LABELS,
        "base": f"/collection/{data_set.code}/{period}/{unit.code}"},
        status_code=status_code)


@router.post("/collection/{code}/{period}/{unit_code}/save", include_in_schema=False)
async def form_save(request: Request, code: str, period: str, unit_code: str,
                    session: SessionDep, access: AccessDep, user: UserDep) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    access.require(Action.CAPTURE, unit.id)
    form = await request.form()
    entries = [_entry(form, i.id) for i in service.indicators_of(session, chosen)]
    problems = capture.save_form(session, chosen, unit, chosen_period, entries, actor=user,
                                 access=access)
    if problems:
        # What was typed goes back into the fields: a refused form came back empty, and
        # the officer had to type every figure again to correct one.
        typed = {k: str(v) for k, v in form.items()
                 if k.split("_")[0] in ("numerator", "denominator", "value", "comment")}
        return _form(request, session, access, chosen, chosen_period, unit,
                     problems=problems, typed_back=typed, status_code=422)
    if form.get("then") == "submit":
        try:
            service.submit(session, service.submission_for(session, chosen, unit.id,
                                                           chosen_period),
                           actor=user, access=access)
        except service.WorkflowError as exc:
            return _form(request, session, access, chosen, chosen_period, unit,
                         problems=[capture.FormProblem("", exc.message_vi, exc.message_en)],
                         status_code=409)
    return RedirectResponse(f"/collection/{chosen.code}/{chosen_period}/{unit.code}?saved=1",
                            status_code=303)


def _entry(form: Any, indicator_id: int) -> capture.FormEntry:
    def text(name: str) -> str | None:
        value = form.get(f"{name}_{indicator_id}")
        return str(value).strip() or None if value is not None else None

    version = text("version")
    return capture.FormEntry(indicator_id, text("numerator"), text("denominator"),
                             text("value"), text("comment") or "",
                             int(version) if version and version.isdigit() else None)


@router.post("/collection/{code}/{period}/{unit_code}/step", include_in_schema=False)
def form_step(request: Request, code: str, period: str, unit_code: str, session: SessionDep,
              access: AccessDep, user: UserDep, step: Annotated[str, Form()],
              reason: Annotated[str, Form()] = "", back: Annotated[str, Form()] = ""
              ) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    submission = service.submission_for(session, chosen, unit.id, chosen_period)
    try:
        _do_step(session, submission, step, reason, user, access)
    except service.WorkflowError as exc:
        session.rollback()
        return _form(request, session, access, chosen, chosen_period, unit,
                     problems=[capture.FormProblem("", exc.message_vi, exc.message_en)],
                     status_code=409)
    target = back if back.startswith("/collection") else \
        f"/collection/{chosen.code}/{chosen_period}/{unit.code}"
    return RedirectResponse(target, status_code=303)


@router.post("/collection/{code}/{period}/{unit_code}/upload", include_in_schema=False)
def form_upload(request: Request, code: str, period: str, unit_code: str,
                session: SessionDep, access: AccessDep, user: UserDep,
                file: Annotated[UploadFile | None, File()] = None,
                digest: Annotated[str, Form()] = "", suffix: Annotated[str, Form()] = "",
                file_name: Annotated[str, Form()] = "",
                encoding: Annotated[str, Form()] = "auto") -> Response:
    """Upload → dry run with the diff; confirming re-posts the kept file to store it."""
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    access.require(Action.CAPTURE, unit.id)
    if file is not None and file.filename:
        path, digest = _saved_upload(file, user.id, UPLOAD_SUFFIXES)
        name, dry_run = Path(file.filename).name, True
    else:
        if not _DIGEST.match(digest) or suffix not in UPLOAD_SUFFIXES:
            raise HTTPException(400, "Thiếu tệp / no file")
        path = get_settings().data_dir / "uploads" / str(user.id) / f"{digest}{suffix}"
        name, dry_run = file_name, False
        if not path.exists():
            raise HTTPException(400, "Tệp đã hết hạn, hãy tải lên lại / upload it again")
    encoding = encoding if encoding in ("auto", "unicode", "tcvn3", "vni") else "auto"
    upload = template.upload_template(session, path, data_set=chosen, unit=unit,
                                      period=chosen_period, dry_run=dry_run, actor=user,
                                      access=access, display_name=name, encoding=encoding)
    if not upload.result.ok:
        session.rollback()
    elif not dry_run:
        return RedirectResponse(f"/collection/{chosen.code}/{chosen_period}/{unit.code}"
                                "?saved=1", status_code=303)
    return _form(request, session, access, chosen, chosen_period, unit, upload=upload,
                 upload_meta={"digest": digest, "suffix": path.suffix, "file_name": name,
                              "encoding": encoding},
                 status_code=200 if upload.result.ok else 422)


@router.post("/collection/{code}/{period}/{unit_code}/evidence", include_in_schema=False)
def form_evidence(code: str, period: str, unit_code: str, session: SessionDep,
                  access: AccessDep, user: UserDep, indicator: Annotated[str, Form()],
                  file: Annotated[UploadFile, File()]) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    found = session.scalar(select(Indicator).where(Indicator.code == indicator))
    if found is None:
        raise HTTPException(404, f"Không có chỉ tiêu {indicator} / no indicator {indicator}")
    try:
        capture.save_evidence(session, unit=unit, indicator=found, period=chosen_period,
                              file_name=file.filename or "", content=file.file.read(),
                              actor=user, access=access)
    except ValueRejected as exc:
        raise HTTPException(422, str(exc)) from None
    return RedirectResponse(f"/collection/{chosen.code}/{chosen_period}/{unit.code}",
                            status_code=303)


@router.get("/collection/evidence/{evidence_id}", include_in_schema=False)
def evidence_file(evidence_id: int, session: SessionDep, access: AccessDep) -> FileResponse:
    row = session.get(Evidence, evidence_id)
    if row is None:
        raise HTTPException(404, "Không có tệp / no such file")
    access.require(Action.READ, row.unit_id)
    return FileResponse(capture.evidence_path(row.sha256), filename=row.file_name)


NAV_ITEMS.append(NavItem("Reporting", "/collection", Action.READ, order=65))
NAV_ITEMS.append(NavItem("Data quality", "/collection/quality", Action.READ, order=66))

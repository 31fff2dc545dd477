"""Reporting pages (`/collection/...`) and the JSON API (`/api/collection/...`).

Routes are thin: they find the data set, period and unit named in the URL, call one
service function with the request's `Access` (token scope included) and render the answer.
Every write, its permission checks and its audit event live in the services
(`service`, `capture`, `template`, `dhis2`, `rules`); errors are `chiso.errors.UserError`s
rendered by the one web handler.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.service import authenticate
from chiso.collection import (
    capture,
    dhis2,
    outliers,
    quality,
    review,
    rules,
    service,
    template,
)
from chiso.collection.models import DataSet, Submission, ValueFlag
from chiso.collection.worklist import worklist
from chiso.errors import ERROR_RESPONSES, NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.periods import Calendar, PeriodType, parse_period, period_containing
from chiso.settings import get_settings
from chiso.storage.responses import file_response
from chiso.text import iso_instant
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, get_unit
from chiso.web.deps import AccessDep, LocaleDep, OptionalUserDep, SessionDep
from chiso.web.i18n import gettext_for
from chiso.web.nav import NavItem
from chiso.web.schema import PERIOD_PATTERN, OptionalPeriodText, PeriodText
from chiso.web.templating import render

router = APIRouter(tags=["collection"], responses=ERROR_RESPONSES)
ENCODINGS = ("auto", "unicode", "tcvn3", "vni")
CHART_SERIES = (("dung", "Correct", "#1b7f3b"), ("du", "Complete", "#0b5cad"),
                ("sach", "Clean", "#7b5ea7"), ("song", "On time", "#f0a202"))


# ------------------------------------------------------------------ helpers


def _data_set(session: Session, code: str | None) -> DataSet:
    if code:
        return service.data_set_by_code(session, code)
    first = session.scalar(select(DataSet).where(DataSet.active.is_(True))
                           .order_by(DataSet.code))
    if first is None:
        raise NotFound("Chưa có biểu mẫu báo cáo nào", "no data set defined yet")
    return first


def default_period(data_set: DataSet, today: dt.date | None = None) -> str:
    """The last period that has ended under the data set's calendar: the one being
    reported now (on 16/12 an NĐ 09 quarterly form is reporting Q4, not Q3)."""
    day = today or get_settings().current_date()
    current = period_containing(day, PeriodType(data_set.period_type),
                                Calendar(data_set.calendar))
    return current.previous().id


def _period(data_set: DataSet, period: str | None) -> str:
    if not period:
        return default_period(data_set)
    return service.check_period(data_set, period).id


def _unit(session: Session, code: str, period: str | None = None) -> OrgUnit:
    try:
        return get_unit(session, code, parse_period(period).end() if period else None)
    except UnitNotFound:
        try:
            return get_unit(session, code)
        except UnitNotFound:
            raise NotFound(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'"
                           ) from None


def _submission(session: Session, submission_id: int) -> Submission:
    found = session.get(Submission, submission_id)
    if found is None:
        raise NotFound(f"Không có báo cáo #{submission_id}", f"no report #{submission_id}")
    return found


def _visible(session: Session, access: Access, rows: list[Submission]) -> list[Submission]:
    allowed = service.units_allowed(session, access, Action.READ, {s.unit_id for s in rows})
    return [s for s in rows if s.unit_id in allowed]


def _submission_json(session: Session, s: Submission) -> dict[str, Any]:
    unit = session.get(OrgUnit, s.unit_id)
    return {"id": s.id, "unit_code": unit.code if unit else "", "unit_name":
            unit.name if unit else "", "period": s.period,
            "period_label": service.period_label(s.period), "status": s.status,
            "due_date": s.due_date.isoformat(),
            "submitted_at": iso_instant(s.submitted_at),
            "late_days": review.late_days(s),
            "approved_at": iso_instant(s.approved_at),
            "return_reason": s.return_reason, "edits_after_approval": s.edits_after_approval}


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(data, default=str))


def _scope(session: Session, access: Access, unit: str | None, period: str,
           candidates: set[int]) -> set[int]:
    """Units a scorecard or export covers, among `candidates`: a unit's subtree (READ on
    it), else every candidate the caller may read (checked in bulk)."""
    if unit:
        root = _unit(session, unit, period)
        access.require(Action.READ, root.id)
        from chiso.units.service import descendant_ids

        candidates = candidates & {root.id, *descendant_ids(session, root.id,
                                                             parse_period(period).end())}
    return service.units_allowed(session, access, Action.READ, candidates)


def _reporting_ids(session: Session, data_set: DataSet, period: str) -> set[int]:
    return {s.unit_id for s in service.expected_submissions(session, data_set, period)}


# ------------------------------------------------------------------ JSON API


class ReasonIn(BaseModel):
    reason: str = ""


class Dhis2WebMessage(BaseModel):
    """DHIS2's answer to an import: its web message wrapping the ImportSummary."""

    httpStatus: str
    httpStatusCode: int
    status: str
    message: str
    response: dict[str, Any]


DHIS2_IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Dhis2WebMessage, "description": "Every data value was used"},
    409: {"model": Dhis2WebMessage, "description": "Some data values are conflicts (status "
          "WARNING) or the data set is unknown (ERROR): DHIS2's import summary"}}

# The DHIS2 endpoints read DHIS2's own query parameters and bodies themselves (repeatable
# parameters, CSV or JSON); their OpenAPI description is written out here.
_SCHEME = {"type": "string", "enum": ["CODE", "UID", "NAME", ""]}  # empty: the default
_FLAG = {"type": "string", "description": "true, 1 or yes: on; anything else: off"}
DHIS2_EXPORT_QUERY: dict[str, Any] = {
    "parameters": [
        {"name": "dataSet", "in": "query", "required": True, "explode": True,
         "schema": {"type": "array", "minItems": 1, "items": {"type": "string",
                                                              "minLength": 1}}},
        {"name": "period", "in": "query", "explode": True,
         "schema": {"type": "array", "items": {"type": "string",
                                               "pattern": PERIOD_PATTERN}}},
        *({"name": name, "in": "query", "schema": {"type": "string", "format": "date"}}
          for name in ("startDate", "endDate")),
        {"name": "orgUnit", "in": "query", "explode": True,
         "schema": {"type": "array", "items": {"type": "string"}}},
        *({"name": name, "in": "query", "schema": _FLAG}
          for name in ("children", "includeDeleted")),
        *({"name": name, "in": "query", "schema": _SCHEME}
          for name in ("idScheme", "dataElementIdScheme", "orgUnitIdScheme"))],
    "responses": {"200": {"description": "DHIS2's dataValueSet", "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/csv": {"schema": {"type": "string"}}}}}}
DHIS2_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "properties": {
            "dataValues": {"type": "array", "items": {"type": "object"}}}}},
        "application/csv": {"schema": {"type": "string"}}}},
    "parameters": [
        {"name": "dryRun", "in": "query", "schema": _FLAG},
        {"name": "importStrategy", "in": "query", "schema": {
            "type": "string", "enum": ["CREATE_AND_UPDATE", "CREATE", "UPDATE", "DELETE"]}},
        *({"name": name, "in": "query", "schema": _SCHEME}
          for name in ("idScheme", "dataElementIdScheme", "orgUnitIdScheme",
                       "dataSetIdScheme")),
        {"name": "firstRowIsHeader", "in": "query", "schema": _FLAG}]}


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
    """The active validation rules (left side, operator, right side, importance, what to do
    when a figure is missing, Vietnamese and English message) that imports and forms check
    values against. Needs READ."""
    access.require(Action.READ)
    return [{"code": r.code, "left": r.left, "operator": r.operator, "right": r.right,
             "importance": r.importance, "missing": r.missing_strategy,
             "message_vi": r.message_vi, "message_en": r.message_en}
            for r in rules.active_rules(session)]


@router.get("/api/collection/flags")
def api_flags(session: SessionDep, access: AccessDep, status: str = "open"
              ) -> list[dict[str, Any]]:
    """Figures flagged for follow-up (outliers, DHIS2 followup) in the user's scope."""
    found = session.scalars(select(ValueFlag).where(ValueFlag.status == status)
                            .order_by(ValueFlag.id)).all()
    allowed = service.units_allowed(session, access, Action.READ, {f.unit_id for f in found})
    return [{"id": f.id, "unit_id": f.unit_id, "indicator_id": f.indicator_id,
             "period": f.period, "kind": f.kind, "score": f.score, "status": f.status,
             "note": f.note} for f in found if f.unit_id in allowed]


@router.post("/api/collection/flags/detect")
def api_detect(session: SessionDep, access: AccessDep) -> dict[str, int]:
    """Look for outliers against each unit's history and its peers; open flags. Needs
    MANAGE on the install's province (the standing office)."""
    return {"new_flags": outliers.detect_outliers(session, access=access)}


@router.post("/api/collection/flags/{flag_id}/resolve")
def api_resolve(flag_id: int, body: ReasonIn, session: SessionDep, access: AccessDep
                ) -> dict[str, Any]:
    """Close a flag after checking the figure with the unit (the note says what was found).
    Needs APPROVE on the flag's unit."""
    flag = outliers.resolve_flag(session, flag_id, note=body.reason, access=access)
    return {"id": flag.id, "status": flag.status, "note": flag.note}


class DataSetIn(BaseModel):
    model_config = ConfigDict(strict=True)  # numbers are numbers: `false` is no offset

    code: str = Field(json_schema_extra={"minLength": 1})
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


@router.post("/api/collection/datasets")
def api_define(body: DataSetIn, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Create or update a data set from the spec in the body (the YAML shape of
    docs/collection.md, as JSON); the same spec twice changes nothing. Returns its code and
    id; 422 with the reason for a bad spec. Needs MANAGE on every unit the data set covers
    before and after the change (its owner unit and every unit it lists)."""
    data_set = service.define_data_set(session, body.model_dump(), access=access)
    return {"code": data_set.code, "id": data_set.id}


@router.get("/api/collection/submissions")
def api_submissions(session: SessionDep, access: AccessDep, data_set: str | None = None,
                    period: OptionalPeriodText = None) -> dict[str, Any]:
    """The expected reports of a data set (default: the first active one) for a period
    (default: the last one that has ended), one per reporting unit the caller may read:
    status, due date, when submitted (and days late) and approved, the return reason and
    edits after approval."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    rows = _visible(session, access, service.expected_submissions(session, chosen,
                                                                  chosen_period))
    return {"data_set": chosen.code, "period": chosen_period,
            "submissions": [_submission_json(session, s) for s in rows]}


@router.get("/api/collection/owed")
def api_owed(session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """What the caller owes (reports of their own units not yet sent, with days late and
    the form's link), the sent reports waiting for their approval, and how many reports in
    their scope are late."""
    work = worklist(session, access, get_settings().current_date())

    def item(o: Any) -> dict[str, Any]:
        return {"data_set": o.data_set.code, "data_set_name": o.data_set.name_vi,
                "period": o.period.id, "period_label": o.period.label_vi(),
                "unit_code": o.unit.code, "unit_name": o.unit.name,
                "status": o.submission.status, "due_date": o.submission.due_date.isoformat(),
                "days_late": o.days_late, "link": o.link}

    return {"to_send": [item(o) for o in work.to_send],
            "to_review": [item(o) for o in work.to_review],
            "late_in_scope": work.late_in_scope}


@router.post("/api/collection/submissions/{submission_id}/{step}")
def api_step(submission_id: int, step: str, session: SessionDep, access: AccessDep,
             background: BackgroundTasks, body: ReasonIn | None = None) -> dict[str, Any]:
    """step: submit (CAPTURE), approve or return (APPROVE; return needs a reason). The
    person who sent a report cannot approve it (403). The unit is e-mailed after the
    answer."""
    submission = _submission(session, submission_id)
    service.apply_step(session, submission, step, access=access,
                       reason=(body or ReasonIn()).reason)
    background.add_task(service.deliver_notices)
    return _submission_json(session, submission)


@router.get("/api/collection/submissions/{submission_id}/history")
def api_history(submission_id: int, session: SessionDep, access: AccessDep
                ) -> list[dict[str, Any]]:
    """A submission's workflow events, oldest first: action, status before and after, who,
    when (UTC) and the note (a return reason). Needs READ on the submission's unit."""
    submission = _submission(session, submission_id)
    access.require(Action.READ, submission.unit_id)
    return [{"action": e.action, "from": e.from_status, "to": e.to_status,
             "actor_id": e.actor_id, "at": iso_instant(e.at), "note": e.note}
            for e in service.history(session, submission)]


@router.get("/api/collection/submissions/{submission_id}/review")
def api_review(submission_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """What an approver checks: each figure beside the previous period, the same period
    last year and chiso's own figure from the one-stop dossiers, with its problems and
    evidence files. Needs READ on the unit."""
    found = review.review(session, _submission(session, submission_id), access=access)
    return {"submission": _submission_json(session, found.submission), "rows": [
        {"indicator": r.indicator.code, "name_vi": r.indicator.name_vi,
         "value": r.value.value if r.value else None,
         "numerator": r.value.numerator if r.value else None,
         "denominator": r.value.denominator if r.value else None,
         "comment": r.value.comment if r.value else "", "previous": r.previous,
         "last_year": r.last_year, "computed": r.computed, "change": r.change,
         "problems": [review.problem_text(p, "vi") for p in r.problems],
         "evidence": [e.file_name for e in r.evidence]} for r in found.rows]}


@router.get("/api/collection/quality")
def api_quality(session: SessionDep, access: AccessDep, data_set: str | None = None,
                period: OptionalPeriodText = None, unit: str | None = None) -> dict[str, Any]:
    """The correct, complete, clean, live scorecard (đúng, đủ, sạch, sống) of a data set
    and period (defaults as for submissions): totals, each unit's figures, late units and
    completeness by indicator. `unit` limits it to that unit and the units under it (READ
    on it); without it, every unit the caller may read."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    scope = _scope(session, access, unit, chosen_period,
                   _reporting_ids(session, chosen, chosen_period))
    card = quality.scorecard(session, chosen, chosen_period, unit_ids=scope)
    return _jsonable(card.as_dict())


@router.get("/api/collection/template")
def api_template(session: SessionDep, access: AccessDep, data_set: str, unit: str,
                 period: PeriodText) -> FileResponse:
    """Download the Excel template to fill in for a data set, unit and period (.xlsx: one
    row per indicator, figures already stored filled in, a help sheet). Needs READ on the
    unit."""
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
def api_template_upload(session: SessionDep, access: AccessDep,
                        file: Annotated[UploadFile, File()], data_set: str, unit: str,
                        period: PeriodText, dry_run: bool = True, encoding: str = "auto"
                        ) -> JSONResponse:
    """Upload a filled template: every problem (sheet, row, column) or the diff; stored
    only with dry_run=false and no errors (422 otherwise). Needs CAPTURE on the unit."""
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    target = _unit(session, unit, chosen_period)
    access.require(Action.CAPTURE, target.id)
    staged = capture.stage_upload(file.filename or "", file.file.read(), access,
                                  template.UPLOAD_SUFFIXES)
    upload = template.upload_template(
        session, staged.path, data_set=chosen, unit=target, period=chosen_period,
        dry_run=dry_run, access=access, display_name=staged.name,
        encoding=encoding if encoding in ENCODINGS else "auto")
    if not upload.result.ok:
        session.rollback()
        raise template.TemplateRefused(upload)
    return JSONResponse(_jsonable(upload.as_dict()))


# ------------------------------------------------------------------ DHIS2 on the wire


def dhis2_access(request: Request, session: SessionDep, user: OptionalUserDep) -> Access:
    """Who calls the DHIS2 endpoints: a browser session or API token as everywhere, or
    HTTP basic auth as DHIS2 clients send it (counted like a sign-in: wrong passwords lock
    the account)."""
    if user is not None:
        return Access(session, user, scope=getattr(request.state, "token_scope", None))
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise UserError("Cần đăng nhập (phiên, mã truy cập hoặc HTTP basic)",
                        "sign in first (session, API token or HTTP basic)", status=401)
    try:
        username, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(
            ":")
    except (ValueError, UnicodeDecodeError):
        username, password = "", ""
    client = request.client.host if request.client else "?"
    attempt = authenticate(session, username=username, password=password, address=client)
    if attempt.user is None:
        session.commit()  # keep the failure count: it is what locks a guessed account
        raise UserError("Tên đăng nhập hoặc mật khẩu không đúng",
                        "wrong user name or password", status=401)
    return Access(session, attempt.user)


Dhis2AccessDep = Annotated[Access, Depends(dhis2_access)]


@router.get("/api/dataValueSets", response_model=None, openapi_extra=DHIS2_EXPORT_QUERY)
def dhis2_export(request: Request, session: SessionDep, access: Dhis2AccessDep) -> Response:
    """DHIS2's own endpoint: `dataSet` (repeatable), `period` (repeatable) or `startDate`
    and `endDate`, `orgUnit` (repeatable), `children`, `includeDeleted`, `idScheme`,
    `dataElementIdScheme`, `orgUnitIdScheme` (CODE or NAME); JSON, or CSV with
    `Accept: application/csv` (or `/api/dataValueSets.csv`). Only units the caller may
    read."""
    return _export(request, session, access, csv_path=False)


@router.get("/api/dataValueSets.csv", response_model=None, openapi_extra=DHIS2_EXPORT_QUERY)
def dhis2_export_csv(request: Request, session: SessionDep, access: Dhis2AccessDep
                     ) -> Response:
    """`GET /api/dataValueSets` as DHIS2's CSV."""
    return _export(request, session, access, csv_path=True)


@router.get("/api/dataValueSets.json", response_model=None,
            openapi_extra=DHIS2_EXPORT_QUERY)
def dhis2_export_json(request: Request, session: SessionDep, access: Dhis2AccessDep
                      ) -> Response:
    """`GET /api/dataValueSets` as JSON."""
    return _export(request, session, access, csv_path=False)


def _export(request: Request, session: Session, access: Access, *, csv_path: bool
            ) -> Response:
    query = dhis2.ExportQuery.from_params(request.query_params, request.headers,
                                          csv_path=csv_path)
    document = dhis2.export_for(session, query, access=access)
    if query.csv:
        return Response(dhis2.to_csv(document), media_type="application/csv; charset=utf-8")
    return JSONResponse(document)


@router.post("/api/dataValueSets", response_model=None, responses=DHIS2_IMPORT_RESPONSES,
             openapi_extra=DHIS2_IMPORT_BODY)
async def dhis2_import(request: Request, session: SessionDep, access: Dhis2AccessDep
                       ) -> JSONResponse:
    """DHIS2's own endpoint: a JSON or CSV body (`Content-Type: application/json` or
    `application/csv`; a multipart `file` too), `dryRun`, `importStrategy`
    (CREATE_AND_UPDATE, CREATE, UPDATE, DELETE), `idScheme`, `dataElementIdScheme`,
    `orgUnitIdScheme`, `dataSetIdScheme`, `firstRowIsHeader`. Answers DHIS2's import
    summary: 200 when every value was used, 409 with the conflicts per value otherwise.
    A value for a unit the caller may not write is a conflict, not a failure."""
    raw, kind, name = await dhis2.request_body(request)
    options = dhis2.ImportOptions.from_params(request.query_params)
    summary = dhis2.import_body(session, raw, kind, options=options, access=access,
                                file_name=name)
    if options.dry_run or summary.status == "ERROR":
        session.rollback()
    return JSONResponse(summary.as_dict(), status_code=summary.http_status)


@router.get("/api/collection/dhis2/dataValueSets", response_model=None,
            openapi_extra=DHIS2_EXPORT_QUERY)
def old_dhis2_export(request: Request, session: SessionDep, access: Dhis2AccessDep
                     ) -> Response:
    """The path used before chiso served DHIS2's own (kept for existing scripts)."""
    return _export(request, session, access, csv_path=False)


@router.post("/api/collection/dhis2/dataValueSets", response_model=None,
             responses=DHIS2_IMPORT_RESPONSES, openapi_extra=DHIS2_IMPORT_BODY)
async def old_dhis2_import(request: Request, session: SessionDep, access: Dhis2AccessDep
                           ) -> JSONResponse:
    """The path used before chiso served DHIS2's own (kept for existing scripts)."""
    return await dhis2_import(request, session, access)


# ------------------------------------------------------------------ pages


def _labels() -> dict[str, tuple[str, str]]:
    return service.STATUS_LABELS


@router.get("/collection", include_in_schema=False)
def reporting_page(request: Request, session: SessionDep, access: AccessDep,
                   data_set: str | None = None, period: str | None = None) -> Response:
    access.require(Action.READ)
    today = get_settings().current_date()
    work = worklist(session, access, today)
    if session.scalar(select(DataSet.id).limit(1)) is None:
        return render(request, "collection/reporting.html", {
            "access": access, "data_set": None, "work": work, "today": today})
    chosen = _data_set(session, data_set) if data_set else _first_concern(session, work)
    if period is None and not data_set and (work.to_review or work.to_send):
        period = (work.to_review or work.to_send)[0].period.id
    chosen_period = _period(chosen, period)
    rows = _visible(session, access, service.expected_submissions(session, chosen,
                                                                  chosen_period))
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_([s.unit_id for s in rows] or [-1])))}
    approvable = service.units_allowed(session, access, Action.APPROVE, set(units))
    capturable = service.units_allowed(session, access, Action.CAPTURE, set(units))
    return render(request, "collection/reporting.html", {
        "access": access, "data_set": chosen, "period": parse_period(chosen_period),
        "data_sets": list(session.scalars(select(DataSet).order_by(DataSet.name_vi))),
        "periods": _period_choices(chosen), "rows": rows, "units": units, "today": today,
        "can_approve": {s.id: s.unit_id in approvable for s in rows},
        "can_capture": {s.id: s.unit_id in capturable for s in rows},
        "counts": {st: sum(s.status == st for s in rows) for st in service.STATUSES},
        "late": sum(s.status in (service.DRAFT, service.RETURNED) and s.due_date < today
                    for s in rows),
        "late_days": {s.id: review.late_days(s) for s in rows},
        "work": work, "labels": _labels()})


def _first_concern(session: Session, work: Any) -> DataSet:
    """The data set a person opening /collection cares about first: what waits for their
    approval, else what they owe, else the first one (a commune officer landed on the
    departments' form)."""
    for items in (work.to_review, work.to_send):
        if items:
            return items[0].data_set
    return _data_set(session, None)


def _period_choices(data_set: DataSet) -> list[Any]:
    current = period_containing(get_settings().current_date(),
                                PeriodType(data_set.period_type), Calendar(data_set.calendar))
    choices = [current]
    for _ in range(7):
        choices.append(choices[-1].previous())
    return choices


@router.get("/collection/quality", include_in_schema=False)
def quality_page(request: Request, session: SessionDep, access: AccessDep,
                 locale: LocaleDep, data_set: str | None = None, period: str | None = None
                 ) -> Response:
    access.require(Action.READ)
    if session.scalar(select(DataSet.id).limit(1)) is None:
        return render(request, "collection/quality.html", {"access": access, "card": None})
    chosen = _data_set(session, data_set)
    chosen_period = _period(chosen, period)
    scope = _scope(session, access, None, chosen_period,
                   _reporting_ids(session, chosen, chosen_period))
    card = quality.scorecard(session, chosen, chosen_period, unit_ids=scope)
    chart = {"units": [u.unit_name for u in card.units], "series": [
        {"name": gettext_for(locale)(label), "color": color,
         "data": [u.shares()[key] for u in card.units]}
        for key, label, color in CHART_SERIES]}
    return render(request, "collection/quality.html", {
        "access": access, "card": card, "totals": card.totals(), "data_set": chosen,
        "period": parse_period(chosen_period), "chart": chart,
        "data_sets": list(session.scalars(select(DataSet).order_by(DataSet.name_vi))),
        "periods": _period_choices(chosen), "labels": _labels(),
        "problem_text": lambda p: review.problem_text(p, locale)})


@router.get("/collection/evidence/{evidence_id}", include_in_schema=False)
def evidence_file(evidence_id: int, session: SessionDep, access: AccessDep) -> Response:
    row = capture.evidence_file(session, evidence_id, access=access)
    return file_response(row.sha256, row.file_name)


@router.get("/collection/{code}/{period}/{unit_code}", include_in_schema=False)
def form_page(request: Request, code: str, period: str, unit_code: str, session: SessionDep,
              access: AccessDep, saved: int = 0) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    access.require(Action.READ, unit.id)
    return _form(request, session, access, chosen, chosen_period, unit,
                 notice="saved" if saved else "")


@router.get("/collection/{code}/{period}/{unit_code}/review", include_in_schema=False)
def review_page(request: Request, code: str, period: str, unit_code: str,
                session: SessionDep, access: AccessDep, locale: LocaleDep) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    submission = service.submission_for(session, chosen, unit.id, chosen_period)
    found = review.review(session, submission, access=access)
    return render(request, "collection/review.html", {
        "access": access, "r": found, "labels": _labels(), "actions": service.ACTION_LABELS,
        "can_approve": access.can(Action.APPROVE, unit.id),
        "problem_text": lambda p: review.problem_text(p, locale),
        "base": service.form_link(chosen, chosen_period, unit.code)})


def _form(request: Request, session: Session, access: Access, data_set: DataSet,
          period: str, unit: OrgUnit, *, problems: list[capture.FormProblem] | None = None,
          upload: template.TemplateUpload | None = None, notice: str = "",
          upload_meta: dict[str, str] | None = None, typed_back: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    submission = service.submission_for(session, data_set, unit.id, period)
    can_approve = access.can(Action.APPROVE, unit.id)
    locale = getattr(request.state, "locale", "vi")
    indicators = service.indicators_of(session, data_set)
    # Sent or approved: locked for whoever may not approve, until it is returned.
    locked = submission.status in service.LOCKED_STATUSES and not can_approve
    return render(request, "collection/form.html", {
        "access": access, "data_set": data_set, "period": parse_period(period),
        "unit": unit, "submission": submission, "rows": capture.form_rows(
            session, data_set, unit, period),
        "history": service.history(session, submission),
        "can_capture": access.can(Action.CAPTURE, unit.id) and not locked,
        "can_approve": can_approve, "locked": locked,
        "late_days": review.late_days(submission),
        "today": get_settings().current_date(),
        "problems": problems or [], "upload": upload,
        "upload_view": upload.as_dict(300) if upload else None, "notice": notice,
        "upload_meta": upload_meta or {}, "typed_back": typed_back or {},
        "labels": _labels(), "actions": service.ACTION_LABELS,
        "names": {i.code: i.name_en if locale == "en" and i.name_en else i.name_vi
                  for i in indicators},
        "base": service.form_link(data_set, period, unit.code)},
        status_code=status_code)


@router.post("/collection/{code}/{period}/{unit_code}/save", include_in_schema=False)
async def form_save(request: Request, code: str, period: str, unit_code: str,
                    session: SessionDep, access: AccessDep) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    form = await request.form()
    entries = [capture.entry_from_form(form, i.id)
               for i in service.indicators_of(session, chosen)]
    try:
        capture.save_and_maybe_submit(session, chosen, unit, chosen_period, entries,
                                      access=access, submit=form.get("then") == "submit")
    except capture.FormRefused as refused:
        session.rollback()
        # What was typed goes back into the fields: a refused form came back empty, and
        # the officer had to type every figure again to correct one.
        typed = {k: str(v) for k, v in form.items()
                 if k.split("_")[0] in ("numerator", "denominator", "value", "comment")}
        return _form(request, session, access, chosen, chosen_period, unit,
                     problems=refused.problems, typed_back=typed, status_code=refused.status)
    return RedirectResponse(service.form_link(chosen, chosen_period, unit.code) + "?saved=1",
                            status_code=303)


@router.post("/collection/{code}/{period}/{unit_code}/step", include_in_schema=False)
def form_step(request: Request, code: str, period: str, unit_code: str, session: SessionDep,
              access: AccessDep, background: BackgroundTasks, step: Annotated[str, Form()],
              reason: Annotated[str, Form()] = "", back: Annotated[str, Form()] = "",
              confirm: Annotated[str, Form()] = "") -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    submission = service.submission_for(session, chosen, unit.id, chosen_period)
    try:
        if step == "approve" and confirm != "yes":
            raise UserError("hãy đánh dấu ô xác nhận đã xem số liệu trước khi duyệt",
                            "tick the box confirming you checked the figures before "
                            "approving")
        service.apply_step(session, submission, step, access=access, reason=reason)
    except UserError as exc:
        session.rollback()
        return _form(request, session, access, chosen, chosen_period, unit,
                     problems=[capture.FormProblem("", exc.message_vi, exc.message_en)],
                     status_code=exc.status)
    background.add_task(service.deliver_notices)
    target = back if back.startswith("/collection") else \
        service.form_link(chosen, chosen_period, unit.code)
    return RedirectResponse(target, status_code=303)


@router.post("/collection/{code}/{period}/{unit_code}/upload", include_in_schema=False)
def form_upload(request: Request, code: str, period: str, unit_code: str,
                session: SessionDep, access: AccessDep,
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
        staged = capture.stage_upload(file.filename or "", file.file.read(), access,
                                  template.UPLOAD_SUFFIXES)
        dry_run = True
    else:
        staged = capture.staged_upload(access, digest, suffix, file_name,
                                       template.UPLOAD_SUFFIXES)
        dry_run = False
    encoding = encoding if encoding in ENCODINGS else "auto"
    upload = template.upload_template(session, staged.path, data_set=chosen, unit=unit,
                                      period=chosen_period, dry_run=dry_run, access=access,
                                      display_name=staged.name, encoding=encoding)
    if not upload.result.ok:
        session.rollback()
    elif not dry_run:
        return RedirectResponse(service.form_link(chosen, chosen_period, unit.code)
                                + "?saved=1", status_code=303)
    return _form(request, session, access, chosen, chosen_period, unit, upload=upload,
                 upload_meta={"digest": staged.digest, "suffix": staged.path.suffix,
                              "file_name": staged.name, "encoding": encoding},
                 status_code=200 if upload.result.ok else 422)


@router.post("/collection/{code}/{period}/{unit_code}/evidence", include_in_schema=False)
def form_evidence(code: str, period: str, unit_code: str, session: SessionDep,
                  access: AccessDep, indicator: Annotated[str, Form()],
                  file: Annotated[UploadFile, File()]) -> Response:
    chosen = _data_set(session, code)
    chosen_period = _period(chosen, period)
    unit = _unit(session, unit_code, chosen_period)
    found = session.scalar(select(Indicator).where(Indicator.code == indicator))
    if found is None:
        raise NotFound(f"Không có chỉ tiêu {indicator}", f"no indicator {indicator}")
    capture.save_evidence(session, unit=unit, indicator=found, period=chosen_period,
                          file_name=file.filename or "", content=file.file.read(),
                          access=access)
    return RedirectResponse(service.form_link(chosen, chosen_period, unit.code),
                            status_code=303)


NAV = [
    NavItem("Reporting", "/collection", Action.READ, order=65),
    NavItem("Data quality", "/collection/quality", Action.READ, order=66),
]

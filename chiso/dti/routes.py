"""DTI pages (`/dti`, `/dti/units/{code}`, `/dti/what-if`, `/dti/assessment`) and the JSON API
under `/api/dti/...`. Every route asks `Access`: READ to look — and for a self-assessment,
READ on the assessed unit, also when its scores feed the what-if —, CAPTURE (the
criterion's lead unit) to enter self scores and evidence, MANAGE to assign criteria,
appraise, submit and load frameworks. Errors are `UserError`s rendered by the app's one
handler; form posts of the workspace come back to the page with the message instead."""

from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.dti import assessment as workspace
from chiso.dti import service
from chiso.dti.framework import FrameworkError, parse_framework
from chiso.dti.models import DtiAssessment, DtiCriterion, DtiEvidence
from chiso.errors import NotFound, UserError
from chiso.settings import get_settings
from chiso.storage.responses import file_response
from chiso.text import format_number, parse_date
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, LocaleDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import FIRST_YEAR, LAST_YEAR, OptionalYear
from chiso.web.templating import render

router = APIRouter(tags=["dti"])
NAV = [NavItem("DTI", "/dti", order=40)]
ASSESSMENT = service.ASSESSMENT


def _ranking(session: Session, year: int | None, framework: str | None = None,
             merged: bool | None = False, source: str = "results") -> service.Ranking:
    """The ranking asked for. `merged=None` (the page, unasked) shows today's provinces
    when the year was republished for them (DTI 2024 for the 34), else as assessed."""
    if source == ASSESSMENT:
        if not (framework and year):
            raise UserError("source=assessment cần framework và year",
                            "source=assessment needs framework and year")
        return service.ranking(session, year=year, framework_code=framework, source=ASSESSMENT)
    years = service.result_years(session)
    if year is None:
        if not years:
            raise NotFound("Chưa có kết quả DTI nào — nhập bằng 'chiso dti results import'",
                           "no DTI results yet — import them with 'chiso dti results import'")
        year = years[0]
    if merged is None:
        merged = _republished(session, year, framework)
    return service.ranking(session, year=year, framework_code=framework, merged=merged)


def _republished(session: Session, year: int, framework: str | None) -> bool:
    """Was the year republished over today's units (DTI 2024 for the 34 provinces)?"""
    fw = service.get_framework(session, framework) if framework else \
        service.framework_for_year(session, year)
    return bool(service.result_matrix(session, fw, year, basis=service.MERGED).unit_codes)


def _computable_years(session: Session) -> list[int]:
    """Years whose framework has its official points (what-if can recompute them), newest
    first: not DTI 2024 (405, points unknown)."""
    return [year for year in service.result_years(session)
            if service.framework_for_year(session, year).weights_known]


def _latest_computable_year(session: Session) -> int | None:
    return next(iter(_computable_years(session)), None)


def _unit_row(result: service.Ranking, code: str) -> None:
    if code not in result.unit_codes:
        raise service.NoResults(f"Không có kết quả của đơn vị '{code}' năm {result.year}",
                                f"no results for unit '{code}' in {result.year}")


def _unit_id(session: Session, unit_code: str) -> int | None:
    return workspace._unit_id(session, unit_code)


def _readable_units(session: Session, access: Access, result: service.Ranking) -> list[str]:
    """Units whose figures this reader may see: all of a published ranking (public), only
    the units whose self-assessment they may read when the figures are assessment scores
    (issue 12, M2: another unit's scores must not come back through the what-if)."""
    if result.matrix is None or result.matrix.basis != ASSESSMENT:
        return list(result.unit_codes)
    return [c for c in result.unit_codes if access.can(Action.READ, _unit_id(session, c))]


def _require_assessment_read(session: Session, access: Access, source: str, unit: str) -> None:
    if source == ASSESSMENT:
        access.require(Action.READ, _unit_id(session, unit))


# ------------------------------------------------------------------ pages


@router.get("/dti", include_in_schema=False)
def ranking_page(request: Request, session: SessionDep, access: AccessDep, locale: LocaleDep,
                 year: int | None = None, merged: bool | None = None) -> Response:
    access.require(Action.READ)
    if not service.result_years(session):
        return render(request, "dti/empty.html", {"access": access})
    result = _ranking(session, year, merged=merged)
    rows = result.rows()
    # Main indicators with a weight (or of unknown weight) and a value somewhere: DTI 2024
    # was published as totals only, eight columns of dashes say nothing.
    mains = [n for n in result.framework.main_indicators
             if (n.weight or not result.framework.weights_known)
             and any(r["nodes"][n.code]["score"] is not None for r in rows)]
    own = get_settings().default_unit
    chart = [{"name": r["unit_name"], "value": r["total"], "own": r["unit_code"] == own,
              "label": format_number(r["total"], result.decimals or 4, locale),
              "illustrative": r["illustrative"]} for r in rows if r["total"] is not None]
    return render(request, "dti/ranking.html", {
        "access": access, "result": result, "rows": rows, "mains": mains, "chart": chart,
        "years": service.result_years(session), "merged": result.basis == service.MERGED,
        "own": own, "checks": {c.unit_code: c for c in service.check_against_published(result)},
    })


@router.get("/dti/units/{code}", include_in_schema=False)
def profile_page(code: str, request: Request, session: SessionDep, access: AccessDep,
                 year: int | None = None, places: int = 1, merged: bool = False) -> Response:
    access.require(Action.READ)
    result = _ranking(session, year, merged=merged)
    _unit_row(result, code)
    context: dict[str, Any] = {
        "access": access, "result": result, "profile": service.profile(result, code),
        "years": service.result_years(session), "places": places,
        "merged": result.basis == service.MERGED,
        "merger": service.merger_breakdown(session, result.framework, result.year, code)}
    if result.cf is not None:
        context["bottlenecks"] = service.bottlenecks(result, code, places=places)
        context["sensitivity"] = next(r for r in service.sensitivity_table(
            result, samples=300, methods=("framework", "minmax", "rank")) if
            r["unit_code"] == code)
    return render(request, "dti/profile.html", context)


@router.get("/dti/what-if", include_in_schema=False)
def what_if_page(request: Request, session: SessionDep, access: AccessDep,
                 year: int | None = None, unit: str | None = None,
                 framework: str | None = None, source: str = "results") -> Response:
    access.require(Action.READ)
    if year is None and source != ASSESSMENT:
        year = _latest_computable_year(session)
    result = _ranking(session, year, framework, source=source)
    if result.cf is None:
        raise FrameworkError(
            f"Chưa biết điểm chính thức của khung «{result.framework.name_vi}» nên không thể "
            f"mô phỏng năm {result.year}", f"the official points of "
            f"«{result.framework.name_en or result.framework.name_vi}» are not known, so "
            f"{result.year} cannot be simulated")
    units = _readable_units(session, access, result)
    if not units:
        raise NotFound("Chưa có số liệu để mô phỏng", "nothing to simulate yet")
    code = unit or get_settings().default_unit
    if unit is not None:
        _require_assessment_read(session, access, source, code)
    if code not in units:
        code = units[0]
    i = result.unit_codes.index(code)
    assert result.matrix is not None  # a ranking with units always carries its matrix
    leaves = [{"code": leaf.code, "name_vi": leaf.name_vi, "name_en": leaf.name_en,
               "points": leaf.weight, "value": service._f(result.matrix.raw[i, k])}
              for k, leaf in enumerate(result.framework.leaves) if leaf.weight]
    names = dict(zip(result.unit_codes, result.unit_names, strict=True))
    return render(request, "dti/what_if.html", {
        "access": access, "result": result, "unit_code": code, "leaves": leaves,
        "unit_name": names[code], "total": service.shown_value(result, result.total[i]),
        "rank": service._i(result.rank[i]), "years": _computable_years(session),
        "units": sorted((names[c], c) for c in units), "source": source,
        "framework_code": result.framework.code,
        "illustrative": result.any_illustrative,
    })


@router.get("/dti/assessment", include_in_schema=False)
def assessment_page(request: Request, session: SessionDep, access: AccessDep,
                    framework: str | None = None, year: int | None = None,
                    unit: str | None = None, error: str = "", saved: str = "") -> Response:
    unit = unit or get_settings().default_unit
    access.require(Action.READ, _unit_id(session, unit))
    frameworks = [f for f in service.current_frameworks(session) if f.weights_known]
    rounds = _rounds(session, unit, {f.code for f in frameworks})
    if framework is None and year is None and rounds:
        # Opened from the menu: the round the unit is working on, not an empty 2026 page of
        # another framework while the province's own round sat unseen.
        framework, year = rounds[0].framework_code, rounds[0].year
    chosen = next((f for f in frameworks if f.code == framework), None) or next(
        (f for f in frameworks if f.level == "department"), frameworks[0] if frameworks
        else None)
    if chosen is None:
        raise NotFound("Chưa có khung chỉ số", "no framework loaded")
    year = year or max(chosen.valid_from_year, get_settings().current_date().year)
    found = workspace.get_assessment(session, chosen.code, year, unit)
    return render(request, "dti/assessment.html", {
        "access": access, "frameworks": frameworks, "framework": chosen, "year": year,
        "unit": unit, "unit_name": _unit_name(session, unit), "rounds": rounds,
        "framework_names": {f.code: (f.name_vi, f.name_en) for f in frameworks},
        "assessment": found, "can_manage": access.can(Action.MANAGE, _unit_id(session, unit)),
        "totals": workspace.totals(found) if found else None,
        "statuses": workspace.STATUSES, "error": error, "saved": saved,
        "today": get_settings().current_date(),
        "illustrative": workspace.is_illustrative(found) if found else False,
        "editable": {c.id: workspace.may_edit(access, session, c, {"self_score"})
                     for c in (found.criteria if found else [])},
    })


def _rounds(session: Session, unit: str, codes: set[str]) -> list[DtiAssessment]:
    """The unit's self-assessment rounds of usable frameworks, newest year first."""
    found = session.scalars(select(DtiAssessment).where(DtiAssessment.unit_code == unit)
                            .order_by(DtiAssessment.year.desc(), DtiAssessment.id.desc()))
    return [a for a in found if a.framework_code in codes]


def _unit_name(session: Session, code: str) -> str:
    name = session.scalar(select(OrgUnit.name).where(OrgUnit.code == code)
                          .order_by(OrgUnit.valid_to.is_not(None)))
    return name or code


def _back(assessment: DtiAssessment, **params: str) -> RedirectResponse:
    query = {"framework": assessment.framework_code, "year": assessment.year,
             "unit": assessment.unit_code, **params}
    return RedirectResponse(f"/dti/assessment?{urlencode(query)}", status_code=303)


@router.post("/dti/assessment/open", include_in_schema=False)
def assessment_open(session: SessionDep, access: AccessDep,
                    framework: Annotated[str, Form()], year: Annotated[int, Form()],
                    unit: Annotated[str, Form()]) -> Response:
    found = workspace.open_assessment(session, service.get_framework(session, framework), year,
                                      unit, access=access)
    return _back(found)


def _criterion(session: Session, criterion_id: int) -> DtiCriterion:
    found = session.get(DtiCriterion, criterion_id)
    if found is None:
        raise NotFound(f"Không có tiêu chí {criterion_id}", f"no criterion {criterion_id}")
    return found


def _form_changes(form: Any) -> dict[str, Any]:
    """The criterion fields a workspace form sent, parsed (numbers in the reader's style)."""
    changes: dict[str, Any] = {}
    for key in ("self_score", "appraised_score"):
        if key in form:
            raw = str(form[key]).strip()
            changes[key] = service.table_number(raw) if raw else None
    for key in ("status", "notes", "owner", "lead_unit_code"):
        if key in form:
            changes[key] = str(form[key])
    if "deadline" in form:
        changes["deadline"] = parse_date(str(form["deadline"])) if form["deadline"] else None
    return changes


@router.post("/dti/assessment/criteria/{criterion_id}", include_in_schema=False)
async def criterion_save(criterion_id: int, request: Request, session: SessionDep,
                         access: AccessDep) -> Response:
    criterion = _criterion(session, criterion_id)
    access.require(Action.READ, _unit_id(session, criterion.assessment.unit_code))
    form = await request.form()
    try:
        workspace.update_criterion(session, criterion, access=access,
                                   expected_version=int(str(form.get("version") or 0)) or None,
                                   **_form_changes(form))
    except (UserError, ValueError, ArithmeticError) as exc:
        # The workspace shows the refusal above the criteria, the form as it was.
        session.rollback()
        return _back(criterion.assessment, error=str(exc))
    return _back(criterion.assessment, saved=criterion.code)


@router.post("/dti/assessment/criteria/{criterion_id}/evidence", include_in_schema=False)
async def evidence_upload(criterion_id: int, session: SessionDep, access: AccessDep,
                          file: Annotated[UploadFile, File()]) -> Response:
    criterion = _criterion(session, criterion_id)
    content = await file.read()  # the upload guard bounds it; the store checks it
    try:
        workspace.add_evidence(session, criterion, file.filename or "", content, access=access)
    except workspace.AssessmentError as exc:
        session.rollback()
        return _back(criterion.assessment, error=str(exc))
    return _back(criterion.assessment, saved=criterion.code)


def _evidence(session: Session, evidence_id: int) -> DtiEvidence:
    evidence = session.get(DtiEvidence, evidence_id)
    if evidence is None or evidence.is_deleted:
        raise NotFound(f"Không có minh chứng {evidence_id}", f"no evidence {evidence_id}")
    return evidence


@router.get("/dti/evidence/{evidence_id}", include_in_schema=False)
def evidence_download(evidence_id: int, session: SessionDep, access: AccessDep) -> Response:
    evidence = _evidence(session, evidence_id)
    access.require(Action.READ, _unit_id(session, evidence.criterion.assessment.unit_code))
    return file_response(evidence.sha256, evidence.file_name)


@router.post("/dti/evidence/{evidence_id}/delete", include_in_schema=False)
def evidence_remove(evidence_id: int, session: SessionDep, access: AccessDep) -> Response:
    evidence = _evidence(session, evidence_id)
    assessment = evidence.criterion.assessment
    try:
        workspace.remove_evidence(session, evidence, access=access)
    except workspace.AssessmentError as exc:
        session.rollback()
        return _back(assessment, error=str(exc))
    return _back(assessment, saved=evidence.criterion.code)


@router.get("/dti/assessment/criteria/{criterion_id}", include_in_schema=False)
def criterion_history_page(criterion_id: int, request: Request, session: SessionDep,
                           access: AccessDep) -> Response:
    criterion = _criterion(session, criterion_id)
    unit_id = _unit_id(session, criterion.assessment.unit_code)
    access.require(Action.READ, unit_id)
    open_round = criterion.assessment.status != "submitted"
    return render(request, "dti/criterion.html", {
        "access": access, "criterion": criterion, "statuses": workspace.STATUSES,
        "history": workspace.history(session, criterion.id),
        "can_manage": open_round and access.can(Action.MANAGE, unit_id),
        "can_edit": open_round and workspace.may_edit(access, session, criterion, {"notes"})})


def _assessment_or_404(session: Session, assessment_id: int) -> DtiAssessment:
    found = session.get(DtiAssessment, assessment_id)
    if found is None:
        raise NotFound(f"Không có đợt tự đánh giá {assessment_id}",
                       f"no self-assessment {assessment_id}")
    return found


@router.post("/dti/assessment/{assessment_id}/submit", include_in_schema=False)
def assessment_submit(assessment_id: int, session: SessionDep, access: AccessDep) -> Response:
    found = _assessment_or_404(session, assessment_id)
    workspace.submit(session, found, access=access)
    return _back(found, saved="submitted")


@router.get("/dti/assessment/{assessment_id}/export.xlsx", include_in_schema=False)
def assessment_export(assessment_id: int, session: SessionDep, access: AccessDep) -> Response:
    found = _assessment_or_404(session, assessment_id)
    access.require(Action.READ, _unit_id(session, found.unit_code))
    target = Path(tempfile.mkdtemp()) / f"tu-danh-gia-{found.framework_code}-{found.year}.xlsx"
    workspace.export_xlsx(found, target)
    return FileResponse(target, filename=target.name, media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


@router.post("/dti/assessment/{assessment_id}/import", include_in_schema=False)
async def assessment_import(assessment_id: int, session: SessionDep, access: AccessDep,
                            file: Annotated[UploadFile, File()]) -> Response:
    found = _assessment_or_404(session, assessment_id)
    access.require(Action.MANAGE, _unit_id(session, found.unit_code))
    suffix = Path(file.filename or "x.xlsx").suffix or ".xlsx"
    path = Path(tempfile.mkdtemp()) / f"{Path(file.filename or 'upload').stem}{suffix}"
    path.write_bytes(await file.read())
    try:
        summary = workspace.import_spreadsheet(session, found, path, access=access)
    except UserError as exc:
        session.rollback()
        return _back(found, error=str(exc))
    return _back(found, saved=f"import:{summary.created}/{summary.updated}/{summary.unchanged}")


# ------------------------------------------------------------------ JSON API


@router.get("/api/dti/frameworks")
def api_frameworks(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """The current DTI frameworks (code, version, level, years of validity, whether the weights
    are official, sample or not) with their indicator tree and points. Any signed-in user or
    API token with READ."""
    access.require(Action.READ)
    return [{"code": f.code, "version": f.version, "name_vi": f.name_vi, "name_en": f.name_en,
             "level": f.level, "valid_from_year": f.valid_from_year,
             "valid_to_year": f.valid_to_year, "weights_known": f.weights_known,
             "unknown_weights": f.unknown_weights(), "is_sample": f.is_sample,
             "nodes": [{"code": n.code, "name_vi": n.name_vi, "parent": n.parent,
                        "points": n.weight, "main": n.main} for n in f.nodes.values()
                       if n.parent]} for f in service.current_frameworks(session)]


@router.post("/api/dti/frameworks")
async def api_framework_load(request: Request, session: SessionDep, access: AccessDep,
                             dry_run: bool = False) -> dict[str, Any]:
    """Load a framework from the YAML request body: the same text again changes nothing, changed
    text under a known code becomes a new version. Returns the code, the version and whether
    it was created; `?dry_run=true` only checks. 422 with the file's error for a bad
    framework. Needs MANAGE."""
    access.require(Action.MANAGE)
    text = (await request.body()).decode("utf-8", errors="replace")
    framework = parse_framework(text, source="upload.yaml")
    return asdict(service.load_framework(session, framework, access=access, dry_run=dry_run))


@router.get("/api/dti/ranking")
def api_ranking(session: SessionDep, access: AccessDep, year: OptionalYear = None,
                framework: str | None = None, merged: bool = False) -> dict[str, Any]:
    """The units ranked for a year (default: the latest year with results) under a framework:
    index (at the published precision, as ranked), rank, points, main indicator scores and
    last year's rank, whether a row holds invented (illustrative) figures, the documents the
    real figures come from, plus the check of our totals and ranks against the published
    ones. `merged=true` gives today's units: the table republished for them, else the mean
    of their predecessors' main indicators. Needs READ."""
    access.require(Action.READ)
    result = _ranking(session, year, framework, merged)
    return {"framework": result.framework.code, "year": result.year,
            "basis": result.basis or "as_assessed", "total_source": result.total_source,
            "units_in_field": result.field_size(), "sources": result.sources,
            "illustrative": result.any_illustrative, "rows": result.rows(),
            "published_check": [{**asdict(c), "total_ok": c.total_ok, "rank_ok": c.rank_ok}
                                for c in service.check_against_published(result)]}


@router.get("/api/dti/units/{code}")
def api_profile(code: str, session: SessionDep, access: AccessDep, year: OptionalYear = None,
                merged: bool = False) -> dict[str, Any]:
    """One unit's DTI for a year (default: the latest): index, rank, change of rank and each
    main indicator next to the median and the best peer; for a province formed by the
    1/7/2025 merger, its predecessors' figures and their mean (`merger`). 404 when the unit
    has no results that year. Needs READ."""
    access.require(Action.READ)
    result = _ranking(session, year, merged=merged)
    _unit_row(result, code)
    merger = service.merger_breakdown(session, result.framework, result.year, code)
    return {**asdict(service.profile(result, code)),
            "merger": {**asdict(merger), "agrees": merger.agrees} if merger else None}


class WhatIfRequest(BaseModel):
    unit: str
    year: int | None = Field(None, ge=FIRST_YEAR, le=LAST_YEAR)
    # indicator code → new value: a number, or text as typed ("0,85", "0.85", "65%")
    changes: dict[str, float | str]
    framework: str | None = None
    source: str = "results"  # or "assessment": criterion scores of the self-assessments


@router.post("/api/dti/what-if")
def api_what_if(body: WhatIfRequest, session: SessionDep, access: AccessDep,
                locale: LocaleDep) -> dict[str, Any]:
    """Recompute the ranking with changed indicator values for one unit (`changes`: indicator
    code → new value, a number or text as typed: "0,85", "0.85", or "65%" of the
    indicator's scale) and return its index and rank before and after and the points
    gained; `source=assessment` uses the assessment scores (appraised, else self) of
    `framework`, `year`, and needs READ on that unit's self-assessment. Needs READ."""
    access.require(Action.READ)
    _require_assessment_read(session, access, body.source, body.unit)
    result = _ranking(session, body.year, body.framework, source=body.source)
    _unit_row(result, body.unit)
    found = service.what_if(result, body.unit, dict(body.changes))
    return {**asdict(found), "display": _what_if_display(found, result.decimals, locale)}


def _what_if_display(found: service.WhatIf, decimals: int | None, locale: str
                     ) -> dict[str, str]:
    """The outcome as the page shows it, formatted once, here, in the reader's language."""
    arrow = " ▲" if found.rank_after < found.rank_before else (
        " ▼" if found.rank_after > found.rank_before else "")
    sign = "+" if found.points_gained >= 0 else ""
    points = "điểm" if locale == "vi" else "points"
    return {"total_before": format_number(found.total_before, decimals or 4, locale),
            "total_after": format_number(found.total_after, decimals or 4, locale),
            "rank": f"{found.rank_after}/{found.units}{arrow}",
            "points_gained": f"{sign}{format_number(found.points_gained, 2, locale)} {points}"}


@router.get("/api/dti/bottlenecks/{code}")
def api_bottlenecks(code: str, session: SessionDep, access: AccessDep, year: OptionalYear = None,
                    places: int = 1) -> dict[str, Any]:
    """Where a unit loses points (per indicator, against the maximum and against the best peer)
    and the smallest sets of improvements that would gain `places` rank places. Needs READ."""
    access.require(Action.READ)
    result = _ranking(session, year)
    _unit_row(result, code)
    return asdict(service.bottlenecks(result, code, places=places))


@router.get("/api/dti/sensitivity")
def api_sensitivity(session: SessionDep, access: AccessDep, year: OptionalYear = None,
                    samples: int = 500, spread: float = 0.2,
                    methods: str = "framework") -> list[dict[str, Any]]:
    """How stable each unit's rank is: `samples` random draws that multiply each weight by 1 ±
    `spread` and pick a normalisation from `methods` (comma-separated); per unit the nominal
    rank and the 5th percentile, median and 95th percentile of the drawn ranks. Needs READ."""
    access.require(Action.READ)
    if not 1 <= samples <= 5000 or not 0 <= spread < 1:
        raise UserError("samples 1–5000, spread 0–1")
    result = _ranking(session, year)
    return service.sensitivity_table(result, samples=samples, spread=spread,
                                     methods=tuple(methods.split(",")))


@router.get("/api/dti/assessments/{assessment_id}")
def api_assessment(assessment_id: int, session: SessionDep, access: AccessDep
                   ) -> dict[str, Any]:
    """One DTI self-assessment: framework, year, unit, status, totals and every criterion with
    its lead unit, owner, deadline, self and appraised scores, status and version (send the
    version back when patching). Needs READ on the assessed unit."""
    found = _assessment_or_404(session, assessment_id)
    access.require(Action.READ, _unit_id(session, found.unit_code))
    rows = workspace.export_rows(found)
    for row, criterion in zip(rows, found.criteria, strict=True):
        row["id"] = criterion.id
        row["version"] = criterion.version
        row["status_code"] = criterion.status
        row["deadline"] = criterion.deadline.isoformat() if criterion.deadline else None
    return {"id": found.id, "framework": found.framework_code, "year": found.year,
            "unit": found.unit_code, "status": found.status,
            "illustrative": workspace.is_illustrative(found),
            "totals": workspace.totals(found), "criteria": rows}


class CriterionPatch(BaseModel):
    version: int | None = None
    self_score: float | None = None
    appraised_score: float | None = None
    status: str | None = None
    notes: str | None = None


@router.patch("/api/dti/criteria/{criterion_id}")
def api_criterion_patch(criterion_id: int, body: CriterionPatch, session: SessionDep,
                        access: AccessDep) -> dict[str, Any]:
    """Change a criterion's self score, status or notes (CAPTURE on its lead unit, or MANAGE on
    the assessed unit) or its appraised score (MANAGE). Send `version` to be refused with 409
    if someone changed it meanwhile; 423 once the assessment is submitted (then only the
    appraised score may change). Returns the new version and state."""
    criterion = _criterion(session, criterion_id)
    changes = body.model_dump(exclude_unset=True)
    version = changes.pop("version", None)
    workspace.update_criterion(session, criterion, access=access, expected_version=version,
                               **changes)
    return {"id": criterion.id, "version": criterion.version, "state": workspace._state(
        criterion)}


@router.get("/api/dti/drag")
def api_drag(session: SessionDep, access: AccessDep,
             year: Annotated[int, Query(ge=FIRST_YEAR, le=LAST_YEAR)], framework: str,
             parent: str | None = None, top: int = 10) -> list[dict[str, Any]]:
    """Which units pull the figure down most (overall and their weakest main indicator);
    `parent` keeps only the units under that unit (e.g. the communes of a province)."""
    access.require(Action.READ, _unit_id(session, parent) if parent else None)
    result = _ranking(session, year, framework)
    codes = service.subunit_codes(session, parent) if parent else None
    return service.unit_drag(result, unit_codes=codes, top=top)

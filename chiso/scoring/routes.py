"""Scoring pages (`/scoring…`) and API (`/api/scoring/…`); thin: every change goes through
`chiso.scoring.service` (CAPTURE on the unit to score itself or report progress, APPROVE to
appraise; READ to see scorecards and rankings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.errors import ERROR_RESPONSES, UserError
from chiso.periods import parse_period
from chiso.scoring import service
from chiso.scoring.models import ScoreKind
from chiso.settings import get_settings
from chiso.storage.responses import file_response
from chiso.text import parse_date
from chiso.text.dates import DateError
from chiso.units.models import OrgUnit
from chiso.values.service import unit_for_code
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import PeriodText
from chiso.web.templating import render

router = APIRouter(tags=["scoring"], responses=ERROR_RESPONSES)
GROUP_LABELS = {"departments": ("Sở, ban, ngành", "Departments"),
                "communes": ("Xã, phường, đặc khu", "Communes")}


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criterion: str
    month: str
    percent: float | str
    note: str = ""


def _unit(session: Session, code: str, period: str) -> OrgUnit:
    unit = unit_for_code(session, code, parse_period(period).id)
    if unit is None:
        raise service.ScoringNotFound(f"đơn vị mã '{code}'", f"unit '{code}'")
    return unit


def _evidence(number: str, day: str, summary: str, file: UploadFile | None,
              content: bytes | None, sha256: str = "") -> service.EvidenceIn:
    try:
        date = parse_date(day) if day.strip() else None
    except DateError as exc:
        raise service.ScoreRejected("evidence_date", exc.message_vi, exc.message_en) from None
    name = file.filename or "" if file is not None else ""
    return service.EvidenceIn(number=number, date=date, summary=summary, file_name=name,
                              content=content if name else None, sha256=sha256)


async def _read(file: UploadFile | None) -> bytes | None:
    if file is None or not file.filename:
        return None
    return await file.read()


# ------------------------------------------------------------------ API


@router.get("/api/scoring/frameworks")
def api_frameworks(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """Scoring frameworks (bộ chỉ số) with their criteria tree and scale."""
    access.require(Action.READ)
    return [{"code": f.code, "name_vi": f.name_vi, "name_en": f.name_en,
             "max_points": f.max_points, "unit_kinds": f.unit_kinds, "example": f.example,
             "basis": f.basis, "periods": service.assessed_periods(session, f),
             "criteria": [{"code": c.code, "name_vi": c.name_vi, "method": c.method,
                           "max_points": c.max_points, "choices": service.answer_choices(c),
                           "evidence_required": c.evidence_required}
                          for c in service.criteria_of(session, f)]}
            for f in service.list_frameworks(session)]


@router.get("/api/scoring/{framework}/{period}/ranking")
def api_ranking(framework: str, period: PeriodText, session: SessionDep, access: AccessDep,
                group: str = "departments") -> list[dict[str, Any]]:
    """Departments or communes ranked on the appraised total (else the self total):
    competition ranks, units not scored last."""
    access.require(Action.READ)
    rows = service.ranking(session, framework_code=framework, period=period, group=group)
    return [row.__dict__ for row in rows]


@router.get("/api/scoring/{framework}/{period}/units/{code}")
def api_scorecard(framework: str, period: PeriodText, code: str, session: SessionDep,
                  access: AccessDep) -> dict[str, Any]:
    """One unit's scorecard: each criterion's self and appraised points, evidence, progress."""
    unit = _unit(session, code, period)
    access.require(Action.READ, unit.id)
    return service.as_dict(service.scorecard(session, framework_code=framework, unit=unit,
                                             period=period))


@router.post("/api/scoring/{framework}/{period}/units/{code}/scores", status_code=201)
async def api_score(framework: str, period: PeriodText, code: str, session: SessionDep,
                    access: AccessDep, criterion: Annotated[str, Form(min_length=1)],
                    answer: Annotated[str, Form(min_length=1)],
                    kind: Annotated[str, Form()] = "self",
                    evidence_number: Annotated[str, Form()] = "",
                    evidence_date: Annotated[str, Form()] = "",
                    evidence_summary: Annotated[str, Form()] = "",
                    evidence_sha256: Annotated[str, Form()] = "",
                    note: Annotated[str, Form()] = "",
                    file: Annotated[UploadFile | None, File()] = None) -> dict[str, Any]:
    """Give a score (multipart form): `kind` self (CAPTURE) or appraised (APPROVE); a self
    score above zero needs `evidence_number`, `evidence_date`, `evidence_summary` and a
    `file` (or the `evidence_sha256` of a file the assessment holds)."""
    unit = _unit(session, code, period)
    evidence = _evidence(evidence_number, evidence_date, evidence_summary, file,
                         await _read(file), evidence_sha256)
    entry = service.give_score(session, framework_code=framework, unit=unit, period=period,
                               criterion_code=criterion, kind=kind, answer=answer,
                               evidence=evidence, note=note, access=access)
    return {"criterion": criterion, "kind": entry.kind, "answer": entry.answer,
            "points": entry.points, "evidence_sha256": entry.evidence_sha256,
            **service.as_dict(service.scorecard(session, framework_code=framework, unit=unit,
                                                period=period))}


@router.post("/api/scoring/{framework}/{period}/units/{code}/progress", status_code=201)
def api_progress(framework: str, period: PeriodText, code: str, body: ProgressIn,
                 session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Report progress % on a criterion for a month or quarter of the period (CAPTURE)."""
    unit = _unit(session, code, period)
    row = service.record_progress(session, framework_code=framework, unit=unit,
                                  period=period, criterion_code=body.criterion,
                                  month=body.month, percent=body.percent, note=body.note,
                                  access=access)
    return {"criterion": body.criterion, "period": row.period, "percent": row.percent}


# ------------------------------------------------------------------ pages


@router.get("/scoring", response_class=HTMLResponse, include_in_schema=False)
def index_page(request: Request, session: SessionDep, access: AccessDep) -> HTMLResponse:
    access.require(Action.READ)
    this_year = str(get_settings().current_date().year)
    frameworks = [(f, [parse_period(p) for p in service.assessed_periods(session, f)
                       or [this_year]]) for f in service.list_frameworks(session)]
    return render(request, "scoring/index.html", {"access": access, "frameworks": frameworks})


@router.get("/scoring/evidence/{sha256}", include_in_schema=False)
def evidence_file(sha256: str, session: SessionDep, access: AccessDep) -> Response:
    entry = service.entry_with_file(session, sha256)
    access.require(Action.READ, service.unit_of_entry(session, entry))
    return file_response(sha256, entry.evidence_file or sha256)


@router.get("/scoring/{framework}/{period}", response_class=HTMLResponse,
            include_in_schema=False)
def ranking_page(framework: str, period: PeriodText, request: Request, session: SessionDep,
                 access: AccessDep, group: str = "departments") -> HTMLResponse:
    access.require(Action.READ)
    fw = service.get_framework(session, framework)
    rows = service.ranking(session, framework_code=framework, period=period, group=group)
    return render(request, "scoring/ranking.html", {
        "access": access, "framework": fw, "period": parse_period(period), "group": group,
        "groups": GROUP_LABELS, "rows": rows})


@router.get("/scoring/{framework}/{period}/{code}", response_class=HTMLResponse,
            include_in_schema=False)
def scorecard_page(framework: str, period: PeriodText, code: str, request: Request,
                   session: SessionDep, access: AccessDep) -> HTMLResponse:
    return _scorecard_page(request, session, access, framework, period, code)


def _scorecard_page(request: Request, session: Session, access: Access, framework: str,
                    period: str, code: str, error: UserError | None = None,
                    status_code: int = 200) -> HTMLResponse:
    unit = _unit(session, code, period)
    access.require(Action.READ, unit.id)
    card = service.scorecard(session, framework_code=framework, unit=unit, period=period)
    months = [m.id for m in parse_period(card.period).months()]
    return render(request, "scoring/scorecard.html", {
        "access": access, "card": card, "period": parse_period(card.period),
        "can_score": access.can(Action.CAPTURE, unit.id),
        "can_appraise": access.can(Action.APPROVE, unit.id), "months": months,
        "choices": {r.criterion.id: service.answer_choices(r.criterion) for r in card.rows},
        "error": error}, status_code=status_code)


@router.post("/scoring/{framework}/{period}/{code}/score", include_in_schema=False)
async def score_form(framework: str, period: PeriodText, code: str, request: Request,
                     session: SessionDep, access: AccessDep,
                     criterion: Annotated[str, Form()], answer: Annotated[str, Form()] = "",
                     kind: Annotated[str, Form()] = "self",
                     evidence_number: Annotated[str, Form()] = "",
                     evidence_date: Annotated[str, Form()] = "",
                     evidence_summary: Annotated[str, Form()] = "",
                     note: Annotated[str, Form()] = "",
                     file: Annotated[UploadFile | None, File()] = None) -> Response:
    unit = _unit(session, code, period)
    content = await _read(file)

    def give() -> object:
        evidence = _evidence(evidence_number, evidence_date, evidence_summary, file, content)
        return service.give_score(session, framework_code=framework, unit=unit,
                                  period=period, criterion_code=criterion, kind=ScoreKind(kind),
                                  answer=answer, evidence=evidence, note=note, access=access)

    return _then_back(request, session, access, (framework, period, code, criterion), give)


def _then_back(request: Request, session: Session, access: Access,
               where: tuple[str, str, str, str], change: Callable[[], object]) -> Response:
    """Run a form's change, then back to the criterion on the scorecard; a refused change
    shows the scorecard again with the reason (422). Permission refusals stay errors."""
    framework, period, code, criterion = where
    try:
        change()
    except UserError as exc:
        if exc.status in (401, 403, 404):
            raise
        session.rollback()
        return _scorecard_page(request, session, access, framework, period, code, exc, 422)
    return RedirectResponse(f"/scoring/{framework}/{period}/{code}#c-{criterion}",
                            status_code=303)


@router.post("/scoring/{framework}/{period}/{code}/progress", include_in_schema=False)
def progress_form(framework: str, period: PeriodText, code: str, request: Request,
                  session: SessionDep, access: AccessDep, criterion: Annotated[str, Form()],
                  month: Annotated[str, Form()], percent: Annotated[str, Form()],
                  note: Annotated[str, Form()] = "") -> Response:
    unit = _unit(session, code, period)
    return _then_back(request, session, access, (framework, period, code, criterion),
                      lambda: service.record_progress(
                          session, framework_code=framework, unit=unit, period=period,
                          criterion_code=criterion, month=month, percent=percent, note=note,
                          access=access))


NAV = [NavItem("Scoring", "/scoring", order=72)]

"""Funding pages (`/funding/...`) and JSON API (`/api/funding/...`). Thin: look up, check the
right, call one service function, render. Errors are `UserError`s (and PermissionDenied),
rendered by the app's one handler.

Reading needs READ on the unit; capturing (import, saving figures, programmes) needs the
capture right of `chiso.funding.service.may_capture`; approving needs APPROVE.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.background import BackgroundTask

from chiso.accounts.access import Access, Action, PermissionDenied
from chiso.errors import ERROR_RESPONSES, NotFound, UserError
from chiso.funding import roadmap, service, summary
from chiso.funding.importer import FundingImportResult, import_budget_file
from chiso.funding.models import BudgetLine, Figure, Programme
from chiso.funding.report import report_section, roadmap_table
from chiso.funding.service import FigureInput, LineSpec, ProgrammeInput
from chiso.funding.vocab import AREAS, FIGURE_STATUSES, SOURCES, SPEND_TYPES, STAGES
from chiso.funding.workbook import SUFFIXES
from chiso.periods import parse_period
from chiso.plans.service import get_plan
from chiso.settings import get_settings
from chiso.storage.uploads import keep_upload, kept_upload
from chiso.text import format_number, parse_number
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, get_unit
from chiso.web.deps import AccessDep, SessionDep, UserDep
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(tags=["funding"], responses=ERROR_RESPONSES)
NAV = [NavItem("Funding", "/funding/units/{unit}", Action.READ, order=45)]


# ------------------------------------------------------------------ helpers


class UnitUnknown(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'")


def _unit(session: SessionDep, code: str) -> OrgUnit:
    try:
        return get_unit(session, code)
    except UnitNotFound:
        raise UnitUnknown(code) from None


def _readable_unit(session: SessionDep, access: Access, code: str) -> OrgUnit:
    """A unit whose funding this user may see: a reader of the unit, or whoever captures
    its figures — the finance department (Sở Tài chính) enters every unit's budget and must
    see what it entered, though it does not read the province's other pages."""
    unit = _unit(session, code)
    if not service.may_capture(access, unit.id):
        access.require(Action.READ, unit.id)
    return unit


def _year(year: int | None) -> int:
    return year or get_settings().current_date().year


def _locale(request: Request) -> str:
    return getattr(request.state, "locale", "vi")


def _money(locale: str) -> dict[str, Any]:
    """Template helpers for amounts stored in đồng."""
    def millions(amount: float | None, decimals: int = 0) -> str:
        return "–" if amount is None else format_number(amount / 1e6, decimals, locale)

    def billions(amount: float | None, decimals: int = 1) -> str:
        return "–" if amount is None else format_number(amount / 1e9, decimals, locale)

    def term(kind: str, code: str) -> str:
        terms = {"source": SOURCES, "type": SPEND_TYPES, "area": AREAS, "stage": STAGES,
                 "status": FIGURE_STATUSES}[kind]
        found = terms.get(code)
        return found.label(locale) if found else code

    return {"millions": millions, "billions": billions, "term": term,
            "period_text": lambda p: _period_text(p, locale)}


def _period_text(period: str, locale: str) -> str:
    """'202609' → 'Tháng 9/2026' / 'September 2026'; '2026' → 'Năm 2026' / '2026'."""
    if len(period) == 6:
        month = dt.date(int(period[:4]), int(period[4:]), 1)
        return f"Tháng {month.month}/{month.year}" if locale == "vi" else f"{month:%B %Y}"
    return f"Năm {period}" if locale == "vi" else period


def _chart_months(view_monthly: list[dict[str, Any]], locale: str) -> dict[str, Any]:
    return {"labels": [f"{int(r['period'][4:])}/{r['period'][:4]}" for r in view_monthly],
            "disbursed": [round(r["disbursed"] / 1e9, 2) for r in view_monthly],
            "plan": [round(r["plan"] / 1e9, 2) for r in view_monthly],
            "expected": [round((r["expected_rate"] or 0) * r["plan"] / 100 / 1e9, 2)
                         for r in view_monthly],
            "rate": [None if r["rate"] is None else round(r["rate"], 1) for r in view_monthly]}


def _chart_groups(rows: list[dict[str, Any]], label_key: str) -> dict[str, Any]:
    return {"labels": [r[label_key] for r in rows],
            "estimate": [round((r["estimate"] or 0) / 1e9, 2) for r in rows],
            "plan": [round((r["plan"] or 0) / 1e9, 2) for r in rows],
            "disbursed": [round((r["disbursed"] or 0) / 1e9, 2) for r in rows]}


def _may_approve(access: Access, unit_id: int) -> bool:
    return access.can(Action.APPROVE, unit_id)


# ------------------------------------------------------------------ pages


@router.get("/funding", include_in_schema=False)
def funding_home(access: AccessDep) -> RedirectResponse:
    return RedirectResponse(f"/funding/units/{access.home_unit_code()}", status_code=303)


@router.get("/funding/units/{unit_code}", include_in_schema=False)
def unit_page(request: Request, unit_code: str, session: SessionDep, access: AccessDep,
              year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> HTMLResponse:
    """Plan, allocation and disbursement of a unit's budget lines for a year."""
    unit = _readable_unit(session, access, unit_code)
    locale = _locale(request)
    view = summary.unit_view(session, unit=unit, year=_year(year), locale=locale)
    charts = {"months": _chart_months(view.monthly, locale),
              "sources": _chart_groups(view.by_source, "label"),
              "units": _chart_groups(view.by_unit, "unit_name_en" if locale == "en"
                                     else "unit_short")}
    return render(request, "funding/unit.html", {
        "v": view, "charts": charts, "access": access,
        "may_capture": service.may_capture_somewhere(access),
        "may_approve": _may_approve(access, view.province.id), **_money(locale)})


@router.get("/funding/programmes/{programme_id}", include_in_schema=False)
def programme_page(request: Request, programme_id: int, session: SessionDep,
                   access: AccessDep,
                   year: Annotated[int | None, Query(ge=2000, le=2100)] = None
                   ) -> HTMLResponse:
    """A programme or project: decision, links, money by year, one year by month."""
    programme = service.get_programme(session, programme_id)
    access.require(Action.READ, programme.owner_unit_id)
    locale = _locale(request)
    view = summary.programme_view(session, programme=programme, year=year, locale=locale)
    return render(request, "funding/programme.html", {
        "p": view, "access": access, "charts": {"months": _chart_months(view.monthly, locale)},
        **_money(locale)})


# ------------------------------------------------------------------ import


def _saved_upload(upload: UploadFile, user_id: int) -> tuple[Path, str]:
    """Keep the upload (chiso.storage.uploads), named by its hash, so that the confirmed
    import stores exactly the bytes that were checked, on whichever server."""
    kept = keep_upload(upload.filename or "upload.xlsx", upload.file.read(),
                       owner=f"funding/{user_id}", suffixes=SUFFIXES)
    return kept.path, kept.digest


def _run_import(session: SessionDep, access: Access, path: Path, name: str, dry_run: bool,
                year: int | None, amount_unit: str) -> FundingImportResult:
    if not service.may_capture_somewhere(access):
        raise PermissionDenied(Action.CAPTURE)
    result = import_budget_file(session, path, access=access, dry_run=dry_run,
                                display_name=name, year=year,
                                amount_unit=amount_unit or None)
    if not result.ok:
        session.rollback()
    return result


@router.get("/funding/import", include_in_schema=False)
def import_page(request: Request, access: AccessDep) -> HTMLResponse:
    if not service.may_capture_somewhere(access):
        raise PermissionDenied(Action.CAPTURE)
    return render(request, "funding/import.html", {"access": access, "result": None,
                                                   **_money(_locale(request))})


_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class UploadExpired(UserError):
    status = 400


@router.post("/funding/import", include_in_schema=False)
def import_page_post(
    request: Request, session: SessionDep, access: AccessDep, user: UserDep,
    file: Annotated[UploadFile | None, File()] = None,
    digest: Annotated[str, Form()] = "", suffix: Annotated[str, Form()] = "",
    file_name: Annotated[str, Form()] = "",
    year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
    amount_unit: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    """Upload → dry run (the diff); the confirm button posts the kept file again."""
    if file is not None and file.filename:
        path, digest = _saved_upload(file, user.id)
        name, dry_run = Path(file.filename).name, True
    else:
        if not _DIGEST.match(digest) or suffix not in SUFFIXES:
            raise UploadExpired("Thiếu tệp", "no file")
        kept = kept_upload(owner=f"funding/{user.id}", digest=digest, suffix=suffix,
                           suffixes=SUFFIXES)
        if kept is None:
            raise UploadExpired("Tệp đã hết hạn, hãy tải lên lại",
                                "the file has expired, upload it again")
        path, name, dry_run = kept, file_name, False
    result = _run_import(session, access, path, name, dry_run, year, amount_unit)
    locale = _locale(request)
    return render(request, "funding/import.html", {
        "access": access, "result": result, "view": result.as_dict(limit=400),
        "digest": digest, "suffix": path.suffix, "file_name": name, "year": year,
        "amount_unit": amount_unit, "unit_names": _unit_names(session, result),
        **_money(locale)}, status_code=200 if result.ok else 422)


def _unit_names(session: SessionDep, result: FundingImportResult) -> dict[int, str]:
    ids = {c.input.line.unit_id for c in result.plan.changes}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.id.in_(ids))).all()) if ids else {}


# ------------------------------------------------------------------ approvals


@router.get("/funding/approvals", include_in_schema=False)
def approvals_page(request: Request, session: SessionDep, access: AccessDep,
                   unit: str | None = None,
                   year: Annotated[int | None, Query(ge=2000, le=2100)] = None
                   ) -> HTMLResponse:
    """Figures awaiting approval, for the standing office."""
    province = _unit(session, unit or get_settings().default_unit)
    access.require(Action.APPROVE, province.id)
    locale = _locale(request)
    rows = summary.pending_rows(session, province=province, year=year, unit_ids=None,
                                locale=locale)
    return render(request, "funding/approvals.html", {
        "province": province, "rows": rows, "year": year, "access": access,
        "done": request.query_params.get("done"), **_money(locale)})


@router.post("/funding/approvals", include_in_schema=False)
def approvals_post(request: Request, session: SessionDep, access: AccessDep,
                   unit: Annotated[str, Form()],
                   action: Annotated[str, Form(pattern="^(approve|return)$")],
                   figure: Annotated[list[int] | None, Form()] = None,
                   comment: Annotated[str, Form(max_length=1000)] = "",
                   year: Annotated[int | None, Form(ge=2000, le=2100)] = None,
                   ) -> RedirectResponse:
    """Approve or return the ticked figures (all shown, when none is ticked and approving)."""
    province = _unit(session, unit)
    access.require(Action.APPROVE, province.id)
    if action == "approve":
        result = service.approve_figures(session, access=access, figure_ids=figure or None,
                                         scope_unit_id=province.id, year=year, comment=comment)
        done = f"approved-{result.approved}"
    else:
        returned = service.return_figures(session, access=access, figure_ids=figure or [],
                                          comment=comment)
        done = f"returned-{returned.returned}"
    target = f"/funding/approvals?unit={province.code}&done={done}" + (
        f"&year={year}" if year else "")
    return RedirectResponse(target, status_code=303)


# ------------------------------------------------------------------ roadmap


@router.get("/funding/roadmap.xlsx", include_in_schema=False)
def roadmap_file(session: SessionDep, access: AccessDep, unit: str,
                 year_from: Annotated[int, Query(ge=2000, le=2100)],
                 year_to: Annotated[int, Query(ge=2000, le=2100)]) -> FileResponse:
    """The funding roadmap as the plan's appendix (XLSX)."""
    found = _readable_unit(session, access, unit)
    folder = Path(tempfile.mkdtemp(prefix="chiso-roadmap-"))
    path = roadmap.write_roadmap(session, folder / f"lo-trinh-kinh-phi-{found.code}-"
                                 f"{year_from}-{year_to}.xlsx", unit_code=found.code,
                                 year_from=year_from, year_to=year_to)
    return FileResponse(path, filename=path.name, media_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


# ------------------------------------------------------------------ JSON API


@router.get("/api/funding/units/{unit_code}")
def unit_json(request: Request, unit_code: str, session: SessionDep, access: AccessDep,
              year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    """A unit's funding for a year: totals (đồng), share of budget spending, disbursement
    status against its path, by month, source, type, area and owner unit."""
    unit = _readable_unit(session, access, unit_code)
    view = summary.unit_view(session, unit=unit, year=_year(year), locale=_locale(request))
    return _jsonable({
        "unit": unit.code, "year": view.year, "as_of": view.as_of, "totals": view.totals,
        "social": view.social, "total_spending": view.total_spending,
        "share": _judgement(view.share), "disbursement": _judgement(view.disbursement),
        "monthly": view.monthly, "by_source": view.by_source, "by_type": view.by_type,
        "by_area": view.by_area,
        "by_unit": [{k: v for k, v in r.items() if k != "judgement"}
                    | {"status": _judgement(r["judgement"])} for r in view.by_unit],
        "pending": view.pending, "illustrative": view.illustrative})


def _judgement(judged: summary.Judgement | None) -> dict[str, Any] | None:
    if judged is None:
        return None
    return {"actual": judged.actual, "target": judged.target, "expected": judged.expected,
            "status": judged.status.value,
            "year_end": judged.year_end.value if judged.year_end else None,
            "behind": judged.behind, "as_of": judged.as_of}


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    if isinstance(data, dt.date | dt.datetime):
        return data.isoformat()
    return data


class ProgrammeIn(BaseModel):
    """A programme or project. Amounts in đồng; units by code."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64)
    name: str = Field(max_length=2000)
    owner_unit: str
    year_from: int = Field(ge=2000, le=2100)
    year_to: int = Field(ge=2000, le=2100)
    kind: str = "project"
    name_en: str = ""
    decision_number: str = Field("", max_length=64)
    decision_date: dt.date | None = None
    total_investment: int | None = None
    plan: str | None = None
    note: str = ""
    target_ids: list[int] = Field(default_factory=list)
    task_ids: list[int] = Field(default_factory=list)


@router.get("/api/funding/programmes")
def list_programmes(session: SessionDep, access: AccessDep, unit: str | None = None
                    ) -> list[dict[str, Any]]:
    """Programmes and projects of a province (default: the configured one)."""
    province = _readable_unit(session, access, unit or get_settings().default_unit)
    rows = session.scalars(select(Programme).where(Programme.scope_unit_id == province.id)
                           .order_by(Programme.code))
    return [_programme_json(session, p) for p in rows]


def _programme_json(session: SessionDep, programme: Programme) -> dict[str, Any]:
    targets, tasks = service.programme_links(session, programme.id)
    owner = session.get(OrgUnit, programme.owner_unit_id)
    return _jsonable({
        "id": programme.id, "code": programme.code, "kind": programme.kind,
        "name": programme.name, "name_en": programme.name_en,
        "decision_number": programme.decision_number, "decision_date": programme.decision_date,
        "owner_unit": owner.code if owner else None, "year_from": programme.year_from,
        "year_to": programme.year_to, "total_investment": programme.total_investment,
        "plan_id": programme.plan_id, "note": programme.note,
        "illustrative": programme.illustrative, "version": programme.version,
        "target_ids": targets, "task_ids": tasks})


@router.get("/api/funding/programmes/{programme_id}")
def programme_json(programme_id: int, session: SessionDep, access: AccessDep
                   ) -> dict[str, Any]:
    """One programme or project."""
    programme = service.get_programme(session, programme_id)
    access.require(Action.READ, programme.owner_unit_id)
    return _programme_json(session, programme)


@router.post("/api/funding/programmes")
def save_programme(body: ProgrammeIn, session: SessionDep, access: AccessDep
                   ) -> dict[str, Any]:
    """Create a programme or project, or update the one with this code."""
    owner = _unit(session, body.owner_unit)
    province = summary.province_of(session, owner.id)
    programme = service.save_programme(session, ProgrammeInput(
        code=body.code, name=body.name, owner_unit_id=owner.id, scope_unit_id=province.id,
        year_from=body.year_from, year_to=body.year_to, kind=body.kind, name_en=body.name_en,
        decision_number=body.decision_number, decision_date=body.decision_date,
        total_investment=body.total_investment,
        plan_id=get_plan(session, body.plan).id if body.plan else None, note=body.note,
        target_ids=body.target_ids, task_ids=body.task_ids), access=access)
    return _programme_json(session, programme)


class FigureIn(BaseModel):
    """One amount of a budget line (identified by its facts). `amount` in đồng, as a number
    or as typed ("1.234.500.000")."""

    model_config = ConfigDict(extra="forbid")

    unit: str
    year: int = Field(ge=2000, le=2100)
    name: str = Field(max_length=2000)
    source: str = ""
    spend_type: str = ""
    area: str = ""
    programme: str | None = None
    total: bool = False
    stage: str
    period: str
    amount: int | float | str
    comment: str = Field("", max_length=2000)


@router.post("/api/funding/figures")
def save_figures(body: Annotated[list[FigureIn], Field(max_length=5000)],
                 session: SessionDep, access: AccessDep,
                 dry_run: bool = False) -> dict[str, Any]:
    """Save amounts (each change a new version awaiting approval); `dry_run=true` only
    says what would change."""
    figures = [_figure_input(session, f) for f in body]
    plan = service.save_figures(session, figures, access=access, source="api",
                                dry_run=dry_run)
    return {"dry_run": dry_run, **plan.counts(),
            "changes": _jsonable([c.as_dict() for c in plan.changes[:500]])}


def _figure_input(session: SessionDep, body: FigureIn) -> FigureInput:
    unit = _unit(session, body.unit)
    province = summary.province_of(session, unit.id)
    programme_id = service.get_programme(session, body.programme).id if body.programme else None
    line = LineSpec(scope_unit_id=province.id, unit_id=unit.id, year=body.year,
                    name=body.name, kind="total" if body.total else "line",
                    source=body.source, spend_type=body.spend_type, area=body.area,
                    programme_id=programme_id)
    amount = body.amount if isinstance(body.amount, int | float) else parse_number(
        body.amount).value
    # PeriodError is a UserError (422): a badly written month is refused as typed.
    period = parse_period(body.period).id if body.stage == "disbursed" else str(body.year)
    return FigureInput(line, body.stage, period, service.to_dong(amount, 1), body.comment)


@router.get("/api/funding/figures/{figure_id}/history")
def figure_history(figure_id: int, session: SessionDep, access: AccessDep
                   ) -> dict[str, Any]:
    """Every version of one figure, oldest first (amounts and approvals)."""
    figure = session.get(Figure, figure_id) if 0 < figure_id < 2**31 else None
    if figure is None:
        raise service.FigureNotFound(figure_id)
    line = session.get(BudgetLine, figure.line_id)
    assert line is not None
    access.require(Action.READ, line.unit_id)
    versions = [{"version": v.version, "amount": v.amount, "status": v.status,
                 "change": v.change, "source": v.source, "comment": v.comment,
                 "changed_at": v.changed_at, "changed_by": v.changed_by,
                 "import_batch_id": v.import_batch_id}
                for v in service.figure_history(session, figure_id)]
    return _jsonable({"figure": {"id": figure.id, "line": line.name, "stage": figure.stage,
                                 "period": figure.period, "amount": figure.amount,
                                 "status": figure.status,
                                 "approved_amount": figure.approved_amount,
                                 "version": figure.version, "reopened": figure.reopened},
                      "versions": versions})


@router.post("/api/funding/import")
def import_api(session: SessionDep, access: AccessDep, user: UserDep,
               file: Annotated[UploadFile, File()], dry_run: bool = True,
               year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
               amount_unit: Annotated[str, Query(max_length=20)] = "") -> JSONResponse:
    """Import a budget table (XLSX, XLS, ODS, CSV). `dry_run=true` (the default) returns
    the diff; with any error nothing is stored and the errors come back (422)."""
    path, _digest = _saved_upload(file, user.id)
    result = _run_import(session, access, path, Path(file.filename or path.name).name,
                         dry_run, year, amount_unit)
    return JSONResponse(_jsonable(result.as_dict()), status_code=200 if result.ok else 422)


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    figure_ids: list[int] | None = Field(None, max_length=20000)
    unit: str | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    comment: str = Field("", max_length=1000)


@router.post("/api/funding/approve")
def approve(body: ApprovalIn, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Approve figures (by id, or every submitted figure of a province and year); the
    funding indicators are computed again."""
    province = _unit(session, body.unit) if body.unit else None
    result = service.approve_figures(session, access=access, figure_ids=body.figure_ids,
                                     scope_unit_id=province.id if province else None,
                                     year=body.year, comment=body.comment)
    return {"approved": result.approved, "years": sorted(y for _s, y in result.years)}


@router.post("/api/funding/return")
def return_(body: ApprovalIn, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """Send figures back with the reason."""
    result = service.return_figures(session, access=access, figure_ids=body.figure_ids or [],
                                    comment=body.comment)
    return {"returned": result.returned}


@router.get("/api/funding/roadmap")
def roadmap_json(session: SessionDep, access: AccessDep, unit: str,
                 year_from: Annotated[int, Query(ge=2000, le=2100)],
                 year_to: Annotated[int, Query(ge=2000, le=2100)]) -> dict[str, Any]:
    """The funding roadmap by source and type, year by year (triệu đồng)."""
    found = _readable_unit(session, access, unit)
    return _jsonable(roadmap_table(session, unit_code=found.code, year_from=year_from,
                                   year_to=year_to))


@router.get("/api/funding/report-section")
def report_section_json(session: SessionDep, access: AccessDep, unit: str, period: str
                        ) -> dict[str, Any]:
    """The budget section a report of `period` (2026Q3, 2026) carries, as known today."""
    found = _readable_unit(session, access, unit)
    parsed = parse_period(period)
    return _jsonable(report_section(session, unit_code=found.code,
                                    period_start=parsed.start(), period_end=parsed.end(),
                                    known_at=None))

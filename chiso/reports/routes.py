"""Report pages (`/reports`): edit the text blocks, generate with a progress bar, download.
API: `POST /api/reports` starts a generation, `GET /api/reports/jobs/{id}` follows it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from chiso.accounts.access import Access, Action
from chiso.meetings.models import GeneratedReport
from chiso.periods import parse_period
from chiso.reports.data import KIND_PERIOD_TYPE, ReportError, check_period, find_unit
from chiso.reports.service import report_dir, start_job
from chiso.reports.texts import BLOCKS, current_texts, save_texts
from chiso.settings import get_settings
from chiso.tasks.routes import current_units
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, SessionDep, UserDep
from chiso.web.nav import NAV_ITEMS, NavItem
from chiso.web.templating import render

router = APIRouter(tags=["reports"])
NAV_ITEMS.append(NavItem("Reports", "/reports", order=77))
KIND_LABELS = {"quarterly": ("Báo cáo quý", "Quarterly report"),
               "half_year": ("Báo cáo 6 tháng", "Six-month report"),
               "annual": ("Báo cáo năm", "Annual report")}
MEDIA = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         ".pdf": "application/pdf"}


def default_period(kind: str = "quarterly") -> str:
    """The last finished period of the kind: in October one writes the report for Q3, the
    six-month report for S1 and the annual report for last year."""
    day = get_settings().current_date()
    if kind == "annual":
        return str(day.year - 1)
    if kind == "half_year":
        return f"{day.year}S1" if day.month > 6 else f"{day.year - 1}S2"
    quarter = (day.month - 1) // 3
    return f"{day.year}Q{quarter}" if quarter else f"{day.year - 1}Q4"


def _unit(session: Any, code: str) -> OrgUnit:
    try:
        return find_unit(session, code)
    except ReportError as exc:
        raise HTTPException(404, detail=str(exc)) from exc


def _default_unit(session: Any, access: Access) -> OrgUnit:
    """The province for those who may read it; otherwise the user's own unit, so a commune
    or department officer who opens Reports from the menu gets their page, not a 403."""
    province = _unit(session, get_settings().default_unit)
    if access.can(Action.READ, province.id) or access.user is None:
        return province
    own = [m.unit_id for m in access.user.memberships if m.unit_id is not None]
    return session.get(OrgUnit, own[0]) if own else province


def _period_for(kind: str, period: str | None) -> str:
    """The period to show. One that is no period (2026Q9) is refused: it was shown as a page
    ready to generate, and generating failed. One of another kind (2026Q3 after switching
    the report to annual) becomes that kind's latest, as a reader switching kind expects."""
    if not period:
        return default_period(kind)
    try:
        parse_period(period)
    except ValueError as exc:
        raise HTTPException(422, detail=f"Kỳ '{period}' không hợp lệ (ví dụ 2025Q3, 2025S1, "
                                        f"2025) / invalid period '{period}'") from exc
    try:
        check_period(kind, period)
    except ReportError:
        return default_period(kind)
    return period


@router.get("/reports", include_in_schema=False)
def reports_page(request: Request, session: SessionDep, access: AccessDep,
                 unit: str | None = None, kind: str = "quarterly", period: str | None = None,
                 saved: int = 0) -> Response:
    chosen = _unit(session, unit) if unit else _default_unit(session, access)
    access.require(Action.READ, chosen.id)
    if kind not in KIND_PERIOD_TYPE:
        raise HTTPException(422, detail=f"Loại báo cáo '{kind}' không có / unknown kind")
    period = _period_for(kind, period)
    jobs = list(session.scalars(select(GeneratedReport).where(
        GeneratedReport.unit_id == chosen.id).order_by(GeneratedReport.id.desc()).limit(10)))
    return render(request, "reports/index.html", {
        "access": access, "unit": chosen, "kind": kind,
        # Only units the reader may open: choosing another answered with a 403.
        "units": [u for u in current_units(session) if access.can(Action.READ, u.id)],
        "period": period, "kinds": KIND_LABELS, "texts": current_texts(session, chosen, period),
        "blocks": BLOCKS, "jobs": jobs, "saved": saved,
        "can_manage": access.can(Action.MANAGE, chosen.id)})


@router.post("/reports/texts", include_in_schema=False)
async def save_report_texts(request: Request, session: SessionDep, access: AccessDep,
                            user: UserDep) -> Response:
    form = await request.form()
    unit = _unit(session, str(form.get("unit", "")))
    period = str(form.get("period", ""))
    kind = str(form.get("kind", "quarterly"))
    texts = {key: str(form.get(key, "")) for key in BLOCKS if key in form}
    changed = save_texts(session, unit=unit, period=period, texts=texts, actor=user,
                         access=access)
    return RedirectResponse(f"/reports?unit={unit.code}&kind={kind}&period={period}"
                            f"&saved={changed}", status_code=303)


@router.post("/reports/generate", include_in_schema=False)
def generate(session: SessionDep, access: AccessDep, user: UserDep,
             unit: Annotated[str, Form()], kind: Annotated[str, Form()],
             period: Annotated[str, Form()]) -> Response:
    job = _start(session, access, user, unit, kind, period)
    return RedirectResponse(f"/reports/jobs/{job.id}", status_code=303)


def _start(session: Any, access: Any, user: Any, unit: str, kind: str, period: str
           ) -> GeneratedReport:
    if kind not in KIND_PERIOD_TYPE:
        raise HTTPException(422, detail=f"Loại báo cáo '{kind}' không có / unknown kind")
    try:
        check_period(kind, period.strip())
        return start_job(session, unit_code=unit, kind=kind, period=period.strip(), user=user,
                         access=access)
    except ReportError as exc:
        raise HTTPException(422, detail=str(exc)) from exc


def _job(session: Any, job_id: int, access: Any) -> GeneratedReport:
    job = session.get(GeneratedReport, job_id)
    if job is None:
        raise HTTPException(404)
    access.require(Action.READ, job.unit_id)
    return job


@router.get("/reports/jobs/{job_id}", include_in_schema=False)
def job_page(request: Request, job_id: int, session: SessionDep, access: AccessDep
             ) -> Response:
    job = _job(session, job_id, access)
    return render(request, "reports/job.html", {"access": access, "job": job,
                                                "kinds": KIND_LABELS,
                                                "unit": session.get(OrgUnit, job.unit_id)})


@router.get("/reports/jobs/{job_id}/status", include_in_schema=False)
def job_status(request: Request, job_id: int, session: SessionDep, access: AccessDep
               ) -> Response:
    job = _job(session, job_id, access)
    return render(request, "reports/_job_status.html", {"access": access, "job": job})


@router.get("/reports/jobs/{job_id}/files/{name}", include_in_schema=False)
def download(job_id: int, name: str, session: SessionDep, access: AccessDep) -> Response:
    job = _job(session, job_id, access)
    if job.status != "done" or name not in job.files.splitlines():
        raise HTTPException(404)
    unit = session.get(OrgUnit, job.unit_id)
    if unit is None:
        raise HTTPException(404)
    path = report_dir(unit.code, job.period) / Path(name).name
    if not path.exists():
        raise HTTPException(404)
    return FileResponse(path, filename=path.name, media_type=MEDIA.get(path.suffix,
                                                                       "application/octet-stream"))


class ReportIn(BaseModel):
    unit: str = "20"
    kind: str = "quarterly"
    period: str


def job_json(job: GeneratedReport) -> dict[str, Any]:
    return {"id": job.id, "status": job.status, "progress": job.progress, "step": job.step,
            "kind": job.kind, "period": job.period, "error": job.error or None,
            "docx_sha256": job.docx_sha256 or None,
            "files": [f"/reports/jobs/{job.id}/files/{n}" for n in job.files.splitlines()]}


@router.post("/api/reports", status_code=202)
def api_generate(body: ReportIn, session: SessionDep, access: AccessDep, user: UserDep
                 ) -> dict[str, Any]:
    """Start generating a report; follow it at /api/reports/jobs/{id}."""
    return job_json(_start(session, access, user, body.unit, body.kind, body.period))


@router.get("/api/reports/jobs/{job_id}")
def api_job(job_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """A report job's state: status (running, done or failed), progress in per cent, current
    step, the error if it failed, the .docx checksum and the links to its files once done.
    Needs READ on the report's unit."""
    return job_json(_job(session, job_id, access))

"""Report pages (`/reports`): edit the text blocks, generate with a progress bar, download.
API: `POST /api/reports` starts a generation, `GET /api/reports/jobs/{id}` follows it.

The page warns before generating what a signer must know (no signer's name, no plan,
illustrative figures, a closing date not yet reached); the job page repeats the warnings
stored with the run. A job whose worker died is shown failed and its page stops polling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.errors import NotFound
from chiso.periods import parse_period
from chiso.reports.data import KIND_PERIOD_TYPE, check_period
from chiso.reports.errors import ReportError
from chiso.reports.models import GeneratedReport
from chiso.reports.sentences import result_summary, revision_lines
from chiso.reports.service import (
    INTERRUPTED,
    ReportJobs,
    is_stale,
    job_file,
    report_data,
    start_job,
)
from chiso.reports.texts import BLOCKS, current_texts, save_texts
from chiso.settings import get_settings
from chiso.storage.responses import file_response
from chiso.tasks.common import find_unit, readable_units
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import PeriodText, one_of
from chiso.web.templating import render

router = APIRouter(tags=["reports"])
NAV = [NavItem("Reports", "/reports", order=77)]
STYLE_LABELS = {"state": ("Văn bản hành chính (Nghị định 30/2020/NĐ-CP)",
                          "Administrative document (Decree 30/2020)"),
                "party": ("Văn bản của Đảng (Hướng dẫn 36-HD/VPTW)", "Party document")}
KIND_LABELS = {"quarterly": ("Báo cáo quý", "Quarterly report"),
               "half_year": ("Báo cáo 6 tháng", "Six-month report"),
               "annual": ("Báo cáo năm", "Annual report")}
MEDIA = {".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         ".pdf": "application/pdf"}
TEXT_FIELDS = ["header_style", "issuer_parent", "issuer", "symbol", "place", "issue_date",
               "closing_date", "signer_authority", "signer_title", "signer_name"]


def _report_jobs(request: Request) -> ReportJobs:
    """This server's report jobs (`create_app` makes them; its shutdown waits for them)."""
    jobs: ReportJobs = request.app.state.report_jobs
    return jobs


ReportJobsDep = Annotated[ReportJobs, Depends(_report_jobs)]


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


def _default_unit(session: Session, access: Access) -> OrgUnit:
    """The province for those who may read it; otherwise the user's own unit, so a commune
    or department officer who opens Reports from the menu gets their page, not a 403."""
    province = find_unit(session, get_settings().default_unit)
    if access.can(Action.READ, province.id) or access.user is None:
        return province
    own = [m.unit_id for m in access.user.memberships if m.unit_id is not None]
    unit = session.get(OrgUnit, own[0]) if own else None
    return unit or province


def _period_for(kind: str, period: str | None) -> str:
    """The period to show. One that is no period (2026Q9) is refused (PeriodError, 422): it
    was shown as a page ready to generate, and generating failed. One of another kind
    (2026Q3 after switching the report to annual) becomes that kind's latest, as a reader
    switching kind expects."""
    if not period:
        return default_period(kind)
    parse_period(period)
    try:
        return check_period(kind, period)
    except ReportError:
        return default_period(kind)


def _kind(kind: str) -> str:
    if kind not in KIND_PERIOD_TYPE:
        raise ReportError(f"Loại báo cáo '{kind}' không có", f"unknown report kind '{kind}'")
    return kind


@router.get("/reports", include_in_schema=False)
def reports_page(request: Request, session: SessionDep, access: AccessDep,
                 unit: str | None = None, kind: str = "quarterly", period: str | None = None,
                 saved: int = 0) -> Response:
    chosen = find_unit(session, unit) if unit else _default_unit(session, access)
    access.require(Action.READ, chosen.id)
    period = _period_for(_kind(kind), period)
    jobs = list(session.scalars(select(GeneratedReport).where(
        GeneratedReport.unit_id == chosen.id).order_by(GeneratedReport.id.desc()).limit(10)))
    preview = report_data(session, unit_code=chosen.code, kind=kind, period=period)
    return render(request, "reports/index.html", {
        "access": access, "unit": chosen, "kind": kind,
        # Only units the reader may open: choosing another answered with a 403.
        "units": readable_units(session, access),
        "period": period, "kinds": KIND_LABELS, "texts": current_texts(session, chosen, period),
        "blocks": BLOCKS, "fields": TEXT_FIELDS, "jobs": jobs, "saved": saved,
        "warnings": preview.warnings, "cutoff": preview.cutoff, "preview": preview,
        "styles": STYLE_LABELS, "summary": result_summary(preview),
        "revisions": revision_lines(preview),
        "can_manage": access.can(Action.MANAGE, chosen.id)})


@router.post("/reports/texts", include_in_schema=False)
async def save_report_texts(request: Request, session: SessionDep, access: AccessDep
                            ) -> Response:
    form = await request.form()
    unit = find_unit(session, str(form.get("unit", "")))
    kind = _kind(str(form.get("kind", "quarterly")))
    period = check_period(kind, str(form.get("period", "")))
    texts = {key: str(form.get(key, "")) for key in BLOCKS if key in form}
    changed = save_texts(session, unit=unit, period=period, texts=texts, access=access)
    return RedirectResponse(f"/reports?unit={unit.code}&kind={kind}&period={period}"
                            f"&saved={changed}", status_code=303)


@router.post("/reports/generate", include_in_schema=False)
def generate(session: SessionDep, access: AccessDep, jobs: ReportJobsDep,
             unit: Annotated[str, Form()], kind: Annotated[str, Form()],
             period: Annotated[str, Form()]) -> Response:
    job = start_job(session, unit_code=unit, kind=_kind(kind), period=period.strip(),
                    access=access, jobs=jobs)
    return RedirectResponse(f"/reports/jobs/{job.id}", status_code=303)


def _job(session: Session, job_id: int, access: Access) -> GeneratedReport:
    job = session.get(GeneratedReport, job_id)
    if job is None:
        raise NotFound(f"Không có lần tạo báo cáo {job_id}", f"no report job {job_id}")
    access.require(Action.READ, job.unit_id)
    return job


def job_state(job: GeneratedReport) -> dict[str, Any]:
    """What a reader is told about a job: a running job whose worker died is failed (the
    row itself is corrected by the next start-up or job), so nothing polls forever."""
    stale = is_stale(job)
    names = [n.rsplit("/", 1)[-1] for n in job.files.splitlines()]
    return {"status": "failed" if stale else job.status,
            "error": INTERRUPTED if stale else job.error,
            "warnings": [w for w in job.warnings.splitlines() if w.strip()],
            "names": names, "has_pdf": any(n.endswith(".pdf") for n in names)}


@router.get("/reports/jobs/{job_id}", include_in_schema=False)
def job_page(request: Request, job_id: int, session: SessionDep, access: AccessDep
             ) -> Response:
    job = _job(session, job_id, access)
    return render(request, "reports/job.html", {"access": access, "job": job,
                                                "state": job_state(job), "kinds": KIND_LABELS,
                                                "unit": session.get(OrgUnit, job.unit_id)})


@router.get("/reports/jobs/{job_id}/status", include_in_schema=False)
def job_status(request: Request, job_id: int, session: SessionDep, access: AccessDep
               ) -> Response:
    job = _job(session, job_id, access)
    return render(request, "reports/_job_status.html", {"access": access, "job": job,
                                                        "state": job_state(job)})


@router.get("/reports/jobs/{job_id}/files/{name}", include_in_schema=False)
def download(job_id: int, name: str, session: SessionDep, access: AccessDep) -> Response:
    job = _job(session, job_id, access)
    unit = session.get(OrgUnit, job.unit_id)
    stored = job_file(job, name, unit.code) if job.status == "done" and unit else None
    if stored is None or (isinstance(stored, Path) and not stored.exists()):
        raise NotFound(f"Không có tệp '{name}' của lần tạo báo cáo {job_id}",
                       f"report job {job_id} has no file '{name}'")
    media = MEDIA.get(Path(name).suffix, "application/octet-stream")
    if isinstance(stored, Path):  # written before chiso.storage
        return FileResponse(stored, filename=name, media_type=media)
    return file_response(stored, name, media)


class ReportIn(BaseModel):
    unit: str = "20"
    kind: Annotated[str, one_of(KIND_LABELS, empty=False)] = "quarterly"
    period: PeriodText


def job_json(job: GeneratedReport) -> dict[str, Any]:
    state = job_state(job)
    return {"id": job.id, "status": state["status"], "progress": job.progress,
            "step": job.step, "kind": job.kind, "period": job.period,
            "error": state["error"] or None, "warnings": state["warnings"],
            "docx_sha256": job.docx_sha256 or None,
            "files": [f"/reports/jobs/{job.id}/files/{n}" for n in state["names"]]}


@router.post("/api/reports", status_code=202)
def api_generate(body: ReportIn, session: SessionDep, access: AccessDep,
                 jobs: ReportJobsDep) -> dict[str, Any]:
    """Start generating a report; follow it at /api/reports/jobs/{id}."""
    return job_json(start_job(session, unit_code=body.unit, kind=_kind(body.kind),
                              period=body.period.strip(), access=access, jobs=jobs))


@router.get("/api/reports/jobs/{job_id}")
def api_job(job_id: int, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """A report job's state: status (running, done or failed), progress in per cent, current
    step, the error if it failed, the warnings a signer must read, the .docx checksum and
    the links to its files once done. Needs READ on the report's unit."""
    return job_json(_job(session, job_id, access))

"""Generate the committee report: DOCX, XLSX annex and (when LibreOffice is installed) PDF.

Reproducible: the same data and issue date give byte-identical DOCX and XLSX files (fixed
core properties, fixed zip timestamps, no random ids).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.audit.service import record_event
from chiso.db import session_scope
from chiso.meetings.models import GeneratedReport
from chiso.reports.data import ReportData, find_unit, gather
from chiso.settings import get_settings

KINDS = ("quarterly", "half_year", "annual")
Progress = Callable[[int, str], None]


@dataclass
class ReportFiles:
    docx: Path
    xlsx: Path
    pdf: Path | None
    pdf_skipped_reason: str = ""
    docx_sha256: str = ""
    data: ReportData | None = field(default=None, repr=False)


def report_dir(unit_code: str, period: str) -> Path:
    return get_settings().data_dir / "reports" / unit_code / period


def file_stem(kind: str, period: str) -> str:
    return f"bao-cao-cds-{kind.replace('_', '-')}-{period}"


def generate_report(session: Session, *, unit_code: str, kind: str, period: str,
                    out_dir: Path | None = None, progress: Progress | None = None,
                    today: dt.date | None = None, pdf: bool = True) -> ReportFiles:
    from chiso.reports.annex import build_annex
    from chiso.reports.docx_writer import build_docx

    step = progress or (lambda _p, _s: None)
    step(5, "Tổng hợp số liệu / gathering data")
    data = gather(session, unit_code=unit_code, kind=kind, period=period,
                  today=today or get_settings().current_date())
    out = out_dir or report_dir(unit_code, period)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(kind, period)
    docx_bytes = normalise_zip(build_docx(data, step))
    docx_path = _write(out / f"{stem}.docx", docx_bytes)
    step(85, "Phụ lục XLSX / annex")
    xlsx_path = _write(out / f"{stem}-phu-luc.xlsx", normalise_zip(build_annex(data)))
    files = ReportFiles(docx=docx_path, xlsx=xlsx_path, pdf=None, data=data,
                        docx_sha256=hashlib.sha256(docx_bytes).hexdigest())
    if pdf:
        step(90, "PDF")
        files.pdf, files.pdf_skipped_reason = to_pdf(docx_path)
    step(100, "Xong / done")
    return files


def _write(path: Path, content: bytes) -> Path:
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(content)
    tmp.replace(path)
    return path


FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def normalise_zip(content: bytes) -> bytes:
    """Rewrite an OOXML package with fixed entry timestamps and order-preserving content."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _modified_as_created(content)
            target.writestr(entry, content)
    return buffer.getvalue()


def _modified_as_created(core: bytes) -> bytes:
    """openpyxl stamps `modified` with the clock on save; use the fixed `created` instead."""
    created = re.search(rb"<dcterms:created[^>]*>([^<]*)</dcterms:created>", core)
    if created is None:
        return core
    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                  rb"\g<1>" + created.group(1) + rb"\g<2>", core)


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(docx: Path) -> tuple[Path | None, str]:
    """DOCX → PDF through LibreOffice; (None, reason) when it is not installed or fails."""
    binary = soffice_path()
    if binary is None:
        return None, ("Không có LibreOffice (soffice): bỏ qua PDF / LibreOffice (soffice) "
                      "is not installed: PDF skipped")
    with tempfile.TemporaryDirectory(prefix="chiso-soffice-") as profile:
        # A private profile per run: concurrent conversions would otherwise lock each other.
        command = [binary, f"-env:UserInstallation=file://{profile}", "--headless",
                   "--convert-to", "pdf", "--outdir", str(docx.parent), str(docx)]
        env = dict(os.environ, HOME=profile)
        result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env,
                                check=False)
    pdf = docx.with_suffix(".pdf")
    if result.returncode != 0 or not pdf.exists():
        return None, f"LibreOffice lỗi / failed: {result.stderr.strip()[:300]}"
    return pdf, ""


# ------------------------------------------------------------------ web jobs

def start_job(session: Session, *, unit_code: str, kind: str, period: str,
              user: User, access: Access) -> GeneratedReport:
    """Record a generation run and do the work in a background thread (web page polls)."""
    unit = find_unit(session, unit_code)
    access.require(Action.READ, unit.id)
    job = GeneratedReport(unit_id=unit.id, kind=kind, period=period, requested_by_id=user.id,
                          step="Đang chuẩn bị / starting")
    session.add(job)
    session.flush()
    record_event(session, action="report.generate", object_type="report", object_id=job.id,
                 actor=user, unit_id=unit.id, after={"kind": kind, "period": period})
    session.commit()
    threading.Thread(target=_run_job, args=(job.id, unit_code, kind, period),
                     daemon=True).start()
    return job


def _run_job(job_id: int, unit_code: str, kind: str, period: str) -> None:
    def progress(percent: int, step: str) -> None:
        with session_scope() as s:
            job = s.get(GeneratedReport, job_id)
            if job is not None:
                job.progress, job.step = percent, step[:200]

    try:
        with session_scope() as session:
            files = generate_report(session, unit_code=unit_code, kind=kind, period=period,
                                    progress=progress)
        with session_scope() as s:
            job = s.get(GeneratedReport, job_id)
            assert job is not None
            job.status, job.progress, job.docx_sha256 = "done", 100, files.docx_sha256
            job.files = "\n".join(p.name for p in (files.docx, files.xlsx, files.pdf) if p)
            job.step = files.pdf_skipped_reason or "Xong / done"
    except Exception as exc:  # the page must show the failure, not spin forever
        with session_scope() as s:
            job = s.get(GeneratedReport, job_id)
            if job is not None:
                job.status, job.error = "failed", str(exc)[:2000]

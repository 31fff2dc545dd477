"""Generate the committee report: DOCX, XLSX annex and (when LibreOffice is installed) PDF.

Reproducible: a report reads only what was known at its cut-off (chiso/reports/cutoff.py),
and its files have fixed core properties, fixed zip timestamps and no random ids, so the
same report generated again — any day after its closing date — is byte-identical.

Every run keeps its own files (a web run in chiso.storage, content-addressed; a CLI run in
its own folder `reports/<unit>/<period>/<run>/`), so a later run never replaces a file whose
checksum an earlier run recorded. Web runs are background jobs with
a heartbeat, in threads of the server that started them (`ReportJobs`: the server waits
for them at shutdown); `reap_stale_jobs` fails those whose worker died (a restart, or a
job the shutdown gave up on), which the app calls at start-up and before starting a job,
so no page polls a dead job forever. The CLI writes its report inline, in its own process.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.db import session_scope
from chiso.db.base import utcnow
from chiso.periods import parse_period
from chiso.periods.core import ROMAN
from chiso.reports.data import ReportData, check_period, gather
from chiso.reports.models import GeneratedReport
from chiso.reports.sentences import compose
from chiso.settings import get_settings
from chiso.tasks.common import find_unit
from chiso.text import vn_now

KINDS = ("quarterly", "half_year", "annual")
Progress = Callable[[int, str], None]


@dataclass
class ReportFiles:
    docx: Path
    xlsx: Path
    pdf: Path | None
    pdf_skipped_reason: str = ""
    docx_sha256: str = ""
    warnings: list[str] = field(default_factory=list)
    data: ReportData | None = field(default=None, repr=False)

    def paths(self) -> list[Path]:
        return [p for p in (self.docx, self.xlsx, self.pdf) if p is not None]


def report_dir(unit_code: str, period: str) -> Path:
    return get_settings().data_dir / "reports" / unit_code / period


def new_run_dir(unit_code: str, period: str, name: str | None = None) -> Path:
    """A folder of its own for one run: `job-12`, or the time and a random tail."""
    name = name or f"{vn_now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    return report_dir(unit_code, period) / name


def file_stem(kind: str, period: str) -> str:
    """The files' name as people say the report: 'bao-cao-quy-III-2025',
    'bao-cao-6-thang-dau-nam-2025', 'bao-cao-nam-2025' (without accents: file names travel
    through e-mail, Zalo and USB sticks)."""
    found = parse_period(period)
    if kind == "quarterly" and found.type.value == "Q":
        return f"bao-cao-quy-{ROMAN[found.index - 1]}-{found.year}"
    if kind == "half_year" and found.type.value == "S":
        return f"bao-cao-{'6-thang-dau-nam' if found.index == 1 else '6-thang-cuoi-nam'}-" \
               f"{found.year}"
    if kind == "annual":
        return f"bao-cao-nam-{found.year}"
    return f"bao-cao-{kind.replace('_', '-')}-{period}"


def report_data(session: Session, *, unit_code: str, kind: str, period: str,
                today: dt.date | None = None, closing_date: dt.date | None = None
                ) -> ReportData:
    """What the report says, sentences included (the web page shows its warnings)."""
    return compose(gather(session, unit_code=unit_code, kind=kind, period=period,
                          today=today or get_settings().current_date(),
                          closing_date=closing_date))


def generate_report(session: Session, *, unit_code: str, kind: str, period: str,
                    access: Access, out_dir: Path | None = None,
                    progress: Progress | None = None, today: dt.date | None = None,
                    pdf: bool = True, closing_date: dt.date | None = None) -> ReportFiles:
    """Write the report's files (READ on the unit: a report shows the unit's figures)."""
    from chiso.reports.annex import build_annex  # openpyxl, python-docx and matplotlib:
    from chiso.reports.docx_writer import build_docx  # loaded only when a report is made

    access.require(Action.READ, find_unit(session, unit_code).id)
    step = progress or (lambda _p, _s: None)
    step(5, "Tổng hợp số liệu / gathering data")
    data = report_data(session, unit_code=unit_code, kind=kind, period=period, today=today,
                       closing_date=closing_date)
    out = out_dir or new_run_dir(unit_code, data.period)
    out.mkdir(parents=True, exist_ok=True)
    period = data.period
    stem = file_stem(kind, period)
    docx_bytes = normalise_zip(build_docx(data, step))
    docx_path = _write(out / f"{stem}.docx", docx_bytes)
    step(85, "Phụ lục XLSX / annex")
    xlsx_path = _write(out / f"{stem}-phu-luc.xlsx", normalise_zip(build_annex(data)))
    files = ReportFiles(docx=docx_path, xlsx=xlsx_path, pdf=None, data=data,
                        docx_sha256=hashlib.sha256(docx_bytes).hexdigest(),
                        warnings=list(data.warnings))
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

WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process, as a job's `worker` names it: host, process id and a token of this run."""
STALE_AFTER = dt.timedelta(minutes=10)
"""A running job beats at every step; the longest (the PDF) is limited to 4 minutes."""
JOB_NAME = "report-job"


class ReportJobs:
    """The report jobs one server is running, each in a thread, so that the server's
    shutdown can wait for them (`wait`). The app makes one (`create_app`) and hands it to
    `start_job`.

    Why wait: no work of a server outlives it. A job cut short loses nothing (it is failed
    as interrupted and made again), but a test's server whose job still wrote after the
    test would write into the next test's emptied tables. Why only a bounded wait: a job
    that runs on (LibreOffice may take minutes) must not hold a restart. Its thread is a
    daemon, so the process still exits; the job, "running" under a worker that is gone, is
    failed by `reap_stale_jobs` at the next start-up, as a crash's would be.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()  # request threads start jobs, job threads end them
        self._threads: dict[int, threading.Thread] = {}

    def start(self, job_id: int, work: Callable[[], None]) -> None:
        thread = threading.Thread(target=self._run, args=(job_id, work), daemon=True,
                                  name=f"chiso-report-{job_id}")
        with self._lock:
            self._threads[job_id] = thread
        thread.start()

    def _run(self, job_id: int, work: Callable[[], None]) -> None:
        try:
            work()
        finally:
            with self._lock:
                self._threads.pop(job_id, None)

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._threads)

    def wait(self, timeout: float) -> list[int]:
        """Wait up to `timeout` seconds in all for the jobs running now; returns the ids
        of those still running when it gave up."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = dict(self._threads)
        for thread in threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        return sorted(job_id for job_id, thread in threads.items() if thread.is_alive())


def start_job(session: Session, *, unit_code: str, kind: str, period: str,
              access: Access, jobs: ReportJobs) -> GeneratedReport:
    """Record a generation run and do the work in a background thread of `jobs` (the page
    polls). Needs READ on the unit; the thread then works as the system job `report-job`."""
    unit = find_unit(session, unit_code)
    access.require(Action.READ, unit.id)
    period = check_period(kind, period)
    reap_stale_jobs(session)
    job = GeneratedReport(unit_id=unit.id, kind=kind, period=period,
                          requested_by_id=access.user.id if access.user else None,
                          step="Đang chuẩn bị / starting", worker=WORKER,
                          heartbeat_at=utcnow())
    session.add(job)
    session.flush()
    record_event(session, action="report.generate", object_type="report", object_id=job.id,
                 actor=access.actor, unit_id=unit.id, after={"kind": kind, "period": period})
    session.commit()
    jobs.start(job.id, partial(_run_job, job.id, unit.code, kind, period))
    return job


def _run_job(job_id: int, unit_code: str, kind: str, period: str) -> None:
    def progress(percent: int, step: str) -> None:
        with session_scope() as s:
            job = s.get(GeneratedReport, job_id)
            if job is not None:
                job.progress, job.step, job.heartbeat_at = percent, step[:200], utcnow()

    try:
        # Written in a scratch folder, then kept in chiso.storage: any app server serves it.
        with tempfile.TemporaryDirectory(prefix="chiso-report-") as scratch:
            with session_scope() as session:
                files = generate_report(session, unit_code=unit_code, kind=kind,
                                        period=period, access=Access.system(session, JOB_NAME),
                                        out_dir=Path(scratch), progress=progress)
            _finish(job_id, files)
    except Exception as exc:  # the page must show the failure, not spin forever
        _fail(job_id, str(exc))


STORED = "store:"
"""A `files` line `store:<sha256>/<name>` is a file kept in chiso.storage; older lines are
paths under the data directory."""


def _finish(job_id: int, files: ReportFiles) -> None:
    with session_scope() as s:
        job = s.get(GeneratedReport, job_id)
        assert job is not None
        job.status, job.progress, job.docx_sha256 = "done", 100, files.docx_sha256
        job.files = "\n".join(
            f"{STORED}{storage.save(s, p.read_bytes(), file_name=p.name, trusted=True).sha256}"
            f"/{p.name}" for p in files.paths())
        job.warnings = "\n".join(files.warnings)
        job.step = files.pdf_skipped_reason or "Xong / done"
        job.heartbeat_at = utcnow()


def _fail(job_id: int, message: str) -> None:
    with session_scope() as s:
        job = s.get(GeneratedReport, job_id)
        if job is not None:
            job.status, job.error = "failed", message[:2000]


INTERRUPTED = ("Việc tạo báo cáo bị gián đoạn (máy chủ khởi động lại); hãy tạo lại / "
               "the generation was interrupted (the server restarted); generate it again")


def is_stale(job: GeneratedReport, now: dt.datetime | None = None) -> bool:
    """A running job whose worker is gone: a process of this host that no longer runs (or
    this process after a restart), or no heartbeat for STALE_AFTER."""
    if job.status != "running":
        return False
    host, _, rest = (job.worker or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit() and job.worker != WORKER:
        pid = int(pid_text)  # our own pid under another token: this process restarted
        if pid == os.getpid() or not _process_alive(pid):
            return True
    beat = job.heartbeat_at or job.created_at
    if beat.tzinfo is None:
        beat = beat.replace(tzinfo=dt.UTC)
    return (now or utcnow()) - beat > STALE_AFTER


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale_jobs(session: Session, now: dt.datetime | None = None) -> int:
    """Mark stale running jobs failed; returns how many. Called by the web app at start-up
    and before each new job (the platform's boot calls it once per process)."""
    running = session.scalars(select(GeneratedReport).where(
        GeneratedReport.status == "running"))
    reaped = 0
    for job in running:
        if is_stale(job, now):
            job.status, job.error = "failed", INTERRUPTED
            reaped += 1
    session.flush()
    return reaped


def job_file(job: GeneratedReport, name: str, unit_code: str) -> str | Path | None:
    """The file of this job called `name`, if the job made it (and only then): its SHA-256
    in chiso.storage, or the path of a file written before the store."""
    for stored in job.files.splitlines():
        if Path(stored).name == name:
            if stored.startswith(STORED):
                return stored.removeprefix(STORED).split("/", 1)[0]
            if "/" in stored:
                return get_settings().data_dir / stored
            return report_dir(unit_code, job.period) / stored  # before per-run folders
    return None

"""Report jobs: each run keeps its own files (a later run never replaces a file an earlier
checksum describes), a job whose worker died is failed and stops being polled, and a server
shutting down waits for the jobs it started."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chiso import storage
from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.reports.models import GeneratedReport
from chiso.reports.service import STORED, WORKER, ReportJobs, reap_stale_jobs
from chiso.reports.texts import save_texts
from chiso.settings import reset_settings_cache
from tests.conftest import login
from tests.tasks_support import build_world, system


@pytest.fixture
def office(session: Session, client, make_user, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    return _sign_in_office(session, client, make_user, monkeypatch)


def _sign_in_office(session: Session, client, make_user,  # type: ignore[no-untyped-def]
                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CHISO_TODAY", "2025-11-01")
    reset_settings_cache()
    w = build_world(session)
    session.commit()
    user, password = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, user.username, password)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/reports").text)
    assert token
    return w, token.group(1)


def _start(client, token: str) -> int:  # type: ignore[no-untyped-def]
    started = client.post("/api/reports", json={"unit": "20", "period": "2025Q3"},
                          headers={"x-csrf-token": token})
    assert started.status_code == 202, started.text
    return started.json()["id"]  # type: ignore[no-any-return]


def _generate(client, token: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    job_id = _start(client, token)
    deadline = time.time() + 240
    while time.time() < deadline:
        job = client.get(f"/api/reports/jobs/{job_id}").json()
        if job["status"] != "running":
            assert job["status"] == "done", job
            return job  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError("report generation did not finish")


@pytest.mark.slow
def test_a_later_run_keeps_the_earlier_runs_file_and_checksum(session: Session, client,  # type: ignore[no-untyped-def]
                                                              office) -> None:
    w, token = office
    first = _generate(client, token)
    save_texts(session, unit=w.province, period="2025Q3", access=system(session),
               texts={"signer_name": "Đoàn Thu Hà"})  # the document changes
    session.commit()
    second = _generate(client, token)
    assert first["docx_sha256"] != second["docx_sha256"]
    for job in (first, second):
        docx = next(f for f in job["files"] if f.endswith(".docx"))
        body = client.get(docx).content
        assert hashlib.sha256(body).hexdigest() == job["docx_sha256"]
    assert first["warnings"] and not any("người ký" in w for w in second["warnings"])


def test_a_job_whose_worker_died_is_failed_and_its_page_stops_polling(  # type: ignore[no-untyped-def]
        session: Session, client, office) -> None:
    w, _token = office
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    host = WORKER.split(":")[0]
    orphan = GeneratedReport(unit_id=w.province.id, kind="quarterly", period="2025Q3",
                             worker=f"{host}:{dead}:gone", heartbeat_at=dt.datetime.now(dt.UTC))
    alive = GeneratedReport(unit_id=w.province.id, kind="quarterly", period="2025Q3",
                            worker=WORKER, heartbeat_at=dt.datetime.now(dt.UTC))
    session.add_all([orphan, alive])
    session.commit()
    page = client.get(f"/reports/jobs/{orphan.id}", params={"lang": "vi"}).text
    assert "hx-get" not in page and "gián đoạn" in page  # told, and no more polling
    assert "hx-get" in client.get(f"/reports/jobs/{alive.id}").text
    assert reap_stale_jobs(session) == 1
    session.commit()
    states = dict(session.execute(select(GeneratedReport.id, GeneratedReport.status)).all())
    assert (states[orphan.id], states[alive.id]) == ("failed", "running")
    # a job nobody has heard from for more than ten minutes is failed too
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert reap_stale_jobs(session, now=later) == 1


@pytest.mark.slow
def test_a_server_shutting_down_waits_for_the_report_job_it_started(  # type: ignore[no-untyped-def]
        session: Session, db_url: str, app, make_user, monkeypatch: pytest.MonkeyPatch) -> None:
    server = TestClient(app).__enter__()
    try:
        _w, token = _sign_in_office(session, server, make_user, monkeypatch)
        job_id = _start(server, token)
    except BaseException:
        server.__exit__(None, None, None)
        raise
    # The job writes its row at every step and at the end: holding a write lock on that row
    # (SQLite: on the database) keeps it from finishing, for real, until it is let go.
    holder = new_session(db_url)
    try:
        holder.execute(update(GeneratedReport).where(GeneratedReport.id == job_id)
                       .values(step=GeneratedReport.step))
        held = holder.get(GeneratedReport, job_id)
        assert held is not None and held.status == "running", "done before it could be held"
        stopping = threading.Thread(target=server.__exit__, args=(None, None, None))
        stopping.start()
        stopping.join(timeout=2)
        waited = stopping.is_alive()
    finally:
        holder.rollback()
        holder.close()
    stopping.join(timeout=120)
    assert waited, "the server shut down while its report job was still running"
    assert not stopping.is_alive()

    session.expire_all()
    job = session.get(GeneratedReport, job_id)
    assert job is not None and (job.status, job.error) == ("done", "")
    stored = [line.removeprefix(STORED).split("/", 1) for line in job.files.splitlines()]
    assert [name.rsplit(".", 1)[-1] for _sha, name in stored][:2] == ["docx", "xlsx"]
    assert all(storage.exists(sha) for sha, _name in stored)
    docx = next(sha for sha, name in stored if name.endswith(".docx"))
    assert hashlib.sha256(storage.read_bytes(docx)).hexdigest() == job.docx_sha256


def test_report_jobs_wait_a_bounded_time_and_name_the_jobs_left() -> None:
    jobs, release = ReportJobs(), threading.Event()

    def until_released() -> None:
        release.wait(30)

    jobs.start(7, lambda: None)
    jobs.start(8, until_released)
    assert jobs.wait(0.2) == [8]  # job 7 is over and forgotten; 8 is still running
    assert jobs.running() == [8]
    release.set()
    assert jobs.wait(10) == []
    assert jobs.running() == []


def test_a_shutdown_that_gives_up_on_a_job_names_it(caplog: pytest.LogCaptureFixture) -> None:
    from chiso.web.app import _wait_for_report_jobs

    jobs, release = ReportJobs(), threading.Event()

    def until_released() -> None:
        release.wait(30)

    jobs.start(12, until_released)
    try:
        with caplog.at_level(logging.WARNING, logger="chiso.web"):
            _wait_for_report_jobs(jobs, timeout=0.2)
    finally:
        release.set()
    assert "gave up waiting for report job(s) 12 after 0.2 s" in caplog.text
    assert jobs.wait(10) == []

"""Report jobs: each run keeps its own files (a later run never replaces a file an earlier
checksum describes), and a job whose worker died is failed and stops being polled."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.reports.models import GeneratedReport
from chiso.reports.service import WORKER, reap_stale_jobs
from chiso.reports.texts import save_texts
from chiso.settings import reset_settings_cache
from tests.conftest import login
from tests.tasks_support import build_world, system


@pytest.fixture
def office(session: Session, client, make_user, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2025-11-01")
    reset_settings_cache()
    w = build_world(session)
    session.commit()
    user, password = make_user(Role.STANDING_OFFICE, w.province.id)
    login(client, user.username, password)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/reports").text)
    assert token
    return w, token.group(1)


def _generate(client, token: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    started = client.post("/api/reports", json={"unit": "20", "period": "2025Q3"},
                          headers={"x-csrf-token": token})
    assert started.status_code == 202, started.text
    deadline = time.time() + 240
    while time.time() < deadline:
        job = client.get(f"/api/reports/jobs/{started.json()['id']}").json()
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

"""Stateless servers (issue 18, item 4): two `chiso serve` processes, each with its own empty
data directory, sharing nothing but one PostgreSQL database (CHISO_FILE_STORE and
CHISO_RECORDS_STORE set to `database`). A records batch posted to one is counted by the
other within a second, both ways; evidence uploaded to one downloads from the other byte
for byte; a report generated on one is served by the other with the checksum it recorded.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.tasks.models import TaskEvidence
from tests.accounts_support import serve_process
from tests.conftest import submit
from tests.records_support import august_records, make_world, record
from tests.tasks_support import build_world

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture
def shared_database(db_url: str, is_postgres: bool) -> str:
    if not is_postgres:
        pytest.skip("servers share a database over the network only on PostgreSQL")
    return db_url


@contextmanager
def two_servers(tmp_path: Path, today: str) -> Iterator[tuple[str, str]]:
    """Two servers on separate, empty data directories and the one database."""
    started: list[subprocess.Popen[bytes]] = []
    bases = []
    try:
        for name in ("server-a", "server-b"):
            env = dict(os.environ, CHISO_DATA_DIR=str(tmp_path / name), CHISO_TODAY=today,
                       CHISO_FILE_STORE="database", CHISO_RECORDS_STORE="database")
            process, base = serve_process(env)
            started.append(process)
            bases.append(base)
        yield bases[0], bases[1]
    finally:
        for process in started:
            process.send_signal(signal.SIGINT)
            process.wait(30)


def _signed_in(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    answer = submit(client, "/login", {"username": username, "password": password},
                    follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: httpx.Client, page: str = "/account/password") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert match, page
    return match.group(1)


def _post_batch(client: httpx.Client, records: list[dict[str, str]]) -> httpx.Response:
    return client.post("/api/records/batches", json={"records": records},
                       headers={"X-CSRF-Token": _csrf(client)})


def _seconds_until(check: Callable[[], bool], limit: float = 10.0) -> float:
    started = time.perf_counter()
    while not check():
        assert time.perf_counter() - started < limit, "never became visible"
        time.sleep(0.02)
    return time.perf_counter() - started


def test_a_batch_posted_to_one_server_is_counted_by_the_other(
        shared_database: str, session: Session, make_user, tmp_path: Path) -> None:
    make_world(session, tmp_path)
    admin, password = make_user(Role.ADMIN)
    missing = "/api/records/units/06300/procedures-without-online?year=2025"
    with two_servers(tmp_path, "2025-10-15") as (a, b):
        on_a, on_b = _signed_in(a, admin.username, password), _signed_in(b, admin.username,
                                                                          password)
        assert on_b.get(missing).json() == []
        assert _post_batch(on_a, august_records()).status_code == 201
        # B reads the batch's dossiers (Parquet published in the database) on its own disk
        delay = _seconds_until(lambda: [p["code"] for p in on_b.get(missing).json()] == ["P2"])
        assert delay < 1.0, f"visible on the other server after {delay:.2f} s"
        # and the other way: B writes the next batch on top of A's files, A counts it
        online_p2 = record("D8", "P2", "06300", "2025-08-20 08:00", "Trực tuyến",
                           level="một phần")
        assert _post_batch(on_b, [online_p2]).status_code == 201
        back = _seconds_until(lambda: on_a.get(missing).json() == [])
        assert back < 1.0, f"visible on the first server after {back:.2f} s"
        figures = [c.get("/api/records/units/20/indicators?year=2025").json() for c in
                   (on_a, on_b)]
        assert figures[0] == figures[1] and figures[0]["values"]
        assert [b["rows_stored"] for b in on_a.get("/api/records/batches").json()] == [1, 6]
    assert not list((tmp_path / "server-b" / "files").rglob("*"))  # no file kept locally


def _attach_evidence(client: httpx.Client, task_id: int, content: bytes) -> None:
    answer = client.post(f"/tasks/{task_id}/progress", data={
        "progress_pct": "60", "note": "Biên bản nghiệm thu",
        "csrf_token": _csrf(client, f"/tasks/{task_id}")},
        files={"files": ("biên bản nghiệm thu.pdf", content, "application/pdf")},
        follow_redirects=False)
    assert answer.status_code == 303, answer.text[:2000]


def _generated(client: httpx.Client) -> dict[str, Any]:
    started = client.post("/api/reports", json={"unit": "20", "period": "2025Q3"},
                          headers={"X-CSRF-Token": _csrf(client, "/reports")})
    assert started.status_code == 202, started.text
    deadline = time.time() + 300
    while time.time() < deadline:
        job: dict[str, Any] = client.get(f"/api/reports/jobs/{started.json()['id']}").json()
        if job["status"] != "running":
            assert job["status"] == "done", job
            return job
        time.sleep(0.5)
    raise AssertionError("the report was not generated")


def test_evidence_and_reports_from_one_server_are_served_by_the_other(
        shared_database: str, session: Session, make_user, tmp_path: Path) -> None:
    world = build_world(session)
    task_id = world.tasks["running"].id
    session.commit()
    officer, password = make_user(Role.STANDING_OFFICE, world.province.id)
    proof = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024)  # several chunks
    with two_servers(tmp_path, "2025-11-01") as (a, b):
        on_a, on_b = _signed_in(a, officer.username, password), _signed_in(
            b, officer.username, password)
        _attach_evidence(on_a, task_id, proof)
        evidence_id = session.scalar(select(TaskEvidence.id))
        served = on_b.get(f"/tasks/evidence/{evidence_id}")
        assert served.status_code == 200 and served.content == proof
        assert served.headers["content-type"] == "application/pdf"
        assert "bi%C3%AAn%20b%E1%BA%A3n" in served.headers["content-disposition"]

        job = _generated(on_a)
        for url in job["files"]:
            answer = on_b.get(url)
            assert answer.status_code == 200, url
            if url.endswith(".docx"):
                assert hashlib.sha256(answer.content).hexdigest() == job["docx_sha256"]
        assert any(u.endswith(".docx") for u in job["files"])
    for server in ("server-a", "server-b"):  # nothing of either kept on a server's disk
        kept = [p for p in (tmp_path / server).rglob("*") if p.is_file()
                and (p.suffix in (".docx", ".xlsx", ".pdf") or "files" in p.parts)]
        assert kept == [], kept

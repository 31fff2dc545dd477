"""What a restart puts right: a report job left "running" by a server process that is gone
is failed when the next server starts (issue 13: it used to stay "running" in the list of
recent reports forever, and only its own page knew better)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import select

from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.reports.models import GeneratedReport
from chiso.reports.service import INTERRUPTED, WORKER
from chiso.web.app import create_app
from tests.accounts_support import make_units
from tests.conftest import login


def _dead_worker() -> str:
    """How a job names a worker process of this host that has exited."""
    pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return f"{WORKER.split(':')[0]}:{pid}:gone"


def test_a_job_left_running_by_a_dead_server_is_failed_after_a_restart(
        session, make_user, db_url) -> None:  # type: ignore[no-untyped-def]
    units = make_units(session)
    admin, password = make_user(Role.ADMIN)
    orphan = GeneratedReport(unit_id=units.province.id, kind="quarterly", period="2025Q3",
                             worker=_dead_worker(), heartbeat_at=dt.datetime.now(dt.UTC))
    session.add(orphan)
    session.commit()
    with TestClient(create_app()) as restarted:  # the next server process starts
        login(restarted, admin.username, password)
        page = restarted.get("/reports", params={"unit": "20", "lang": "en"}).text
    listed = re.search(rf'href="/reports/jobs/{orphan.id}">[^<]*</a>\s*<span[^>]*>([^<]*)',
                       page)
    assert listed, page[-3000:]
    # The job's state is shown by its name in the reader's language ('Thất bại' in Vietnamese).
    assert listed.group(1).strip().endswith("· Failed"), listed.group(1)
    db = new_session(db_url)
    try:
        status, error = db.execute(select(GeneratedReport.status, GeneratedReport.error).where(
            GeneratedReport.id == orphan.id)).one()
    finally:
        db.close()
    assert (status, error) == ("failed", INTERRUPTED)

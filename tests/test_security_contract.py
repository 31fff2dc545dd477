"""The API answers as its OpenAPI document says (issue 12): schemathesis with `--checks all`
— status codes, content types, response schemas, headers, 405 with `Allow`, schema-valid
requests accepted, schema-violating ones refused, no 5xx — over every operation of a
running `chiso serve` on an installation set up as `chiso init` does, as an
administrator's API token. tests/schemathesis.toml lists, with the reason for each, the
operations that may also answer 422 (or 415) to a well-formed request whose content their
rules refuse; nothing else is relaxed.

Run under CI=true (it starts a server and takes a few minutes): a small number of examples
per operation, a fixed seed, one worker."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chiso.accounts.access import Access, Action
from chiso.accounts.service import create_api_token, find_user
from chiso.db import new_session
from chiso.setup import initialise
from tests.accounts_support import serve_process
from tests.conftest import IN_CI

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not IN_CI, reason="runs under CI=true (a server, minutes)")]

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 5  # per operation and phase: the run's length


def _admin_token(db_url: str) -> str:
    db = new_session(db_url)
    try:
        secret, _row = create_api_token(db, access=Access.system(db, "test"),
                                        user=find_user(db, "admin"), name="contract",
                                        actions=list(Action))
        db.commit()
        return secret
    finally:
        db.close()


def test_the_api_answers_as_its_description_says(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the contract does not depend on the database: run once, on SQLite")
    initialise()  # reference data and the first administrator, as `chiso init`
    token = _admin_token(db_url)
    process, base = serve_process()
    try:
        run = subprocess.run(
            [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG),
             "run", f"{base}/api/openapi.json", "--checks", "all",
             "-H", f"Authorization: Bearer {token}", "--max-examples", str(EXAMPLES),
             "--phases", "examples,coverage,fuzzing", "--seed", "1", "--workers", "1",
             "--continue-on-failure", "--suppress-health-check", "all",
             "--request-timeout", "60", "--max-response-time", "60"],
            capture_output=True, text=True, timeout=1800)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
    report = run.stdout[-12000:]
    assert run.returncode == 0, report
    assert " passed" in report and "failure" not in report.split("SUMMARY")[-1], report

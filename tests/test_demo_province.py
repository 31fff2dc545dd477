"""`chiso demo` then `chiso status --unit 20 --year 2025`: every status occurs, and the JSON
API says the same. The demo is deterministic: building it again changes no value."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from chiso.cli.main import app
from chiso.values.models import DataValueVersion
from tests.conftest import login

ALL_STATUSES = {"achieved", "on_track", "at_risk", "off_track", "no_data"}
VI_LABELS = ["Đã đạt", "Đúng tiến độ", "Có nguy cơ chậm", "Chậm tiến độ", "Chưa có số liệu"]


@pytest.mark.slow
def test_demo_status_cli_and_api_agree(db_url, monkeypatch, session) -> None:
    monkeypatch.setenv("CHISO_TODAY", "2026-11-22")
    monkeypatch.setenv("COLUMNS", "200")
    from chiso.settings import reset_settings_cache

    reset_settings_cache()
    runner = CliRunner()
    built = runner.invoke(app, ["demo"])
    assert built.exit_code == 0, built.output
    password = re.search(r"admin\s*│\s*(\S+)", built.output)
    assert password, built.output

    shown = runner.invoke(app, ["status", "--unit", "20", "--year", "2025"])
    assert shown.exit_code == 0, shown.output
    for label in VI_LABELS:
        assert label in shown.output, shown.output

    from fastapi.testclient import TestClient

    from chiso.web.app import create_app

    with TestClient(create_app()) as client:
        login(client, "admin", password.group(1))
        body = client.get("/api/status", params={"unit": "20", "year": 2025}).json()
    statuses = Counter(row["status"] for row in body["targets"])
    assert set(statuses) == ALL_STATUSES, statuses

    versions_before = session.scalar(select(func.count()).select_from(DataValueVersion))
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output
    session.expire_all()
    versions_after = session.scalar(select(func.count()).select_from(DataValueVersion))
    assert versions_after == versions_before, "rebuilding the demo must change nothing"

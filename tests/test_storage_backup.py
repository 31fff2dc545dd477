"""Backup and restore with the files in the database (CHISO_FILE_STORE and
CHISO_RECORDS_STORE = database): the archive's database copy carries the evidence and the
records store, so a restore onto an empty machine — a new database, an empty data
directory — answers as the original did: the evidence downloads byte for byte, the records
figures computed from the Parquet files, and the next batch builds on the restored store."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.cli.main import app as cli
from chiso.collection.capture import save_evidence
from chiso.db import reset_engines
from chiso.indicators.models import Indicator
from chiso.settings import reset_settings_cache
from tests.conftest import _pg_create_database, _pg_drop_database, login
from tests.records_support import august_records, make_world, post_batch, record

MISSING = "/api/records/units/06300/procedures-without-online?year=2025"


@pytest.fixture
def in_database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CHISO_FILE_STORE", "database")
    monkeypatch.setenv("CHISO_RECORDS_STORE", "database")
    monkeypatch.setenv("CHISO_TODAY", "2025-10-15")
    reset_settings_cache()
    return db_url


@pytest.fixture
def another_machine(in_database: str, tmp_path: Path) -> Iterator[str]:
    """The URL of another database, empty, not even migrated."""
    if in_database.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'machine-2' / 'chiso.sqlite'}"
    else:
        url = _pg_create_database()
    yield url
    reset_engines()
    if url.startswith("postgresql"):
        _pg_drop_database(url)


def _installation(session: Session, tmp_path: Path, make_user) -> tuple[int, Any]:  # type: ignore[no-untyped-def]
    units = make_world(session, tmp_path)
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    kept = save_evidence(session, unit=units["06200"], indicator=online, period="202508",
                         file_name="biên bản tháng 8.pdf", content=b"%PDF-1.7 bien ban 8",
                         access=Access.system(session, "test"))
    session.commit()
    return kept.id, make_user(Role.ADMIN)


def _signed_in(admin: Any, password: str) -> TestClient:  # type: ignore[no-untyped-def]
    from chiso.web.app import create_app

    client = TestClient(create_app())
    login(client, admin.username, password)
    return client


def _observe(client: TestClient, evidence_id: int) -> dict[str, Any]:
    download = client.get(f"/collection/evidence/{evidence_id}")
    return {"evidence": (download.status_code, download.content),
            "missing": client.get(MISSING).json(),
            "figures": client.get("/api/records/units/20/indicators?year=2025").json()}


@pytest.mark.slow
def test_restore_onto_an_empty_machine_brings_the_database_files(
        in_database: str, another_machine: str, session: Session, make_user, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    evidence_id, (admin, password) = _installation(session, tmp_path, make_user)
    with _signed_in(admin, password) as client:
        assert post_batch(client, august_records()).status_code == 201
        before = _observe(client, evidence_id)
    assert before["evidence"] == (200, b"%PDF-1.7 bien ban 8") and before["missing"]
    archive = tmp_path / "chiso.tar"
    made = CliRunner().invoke(cli, ["backup", str(archive)])
    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as packed:
        names = packed.getnames()
    assert not any(n.startswith("data/files/") for n in names)  # in the database copy

    monkeypatch.setenv("CHISO_DATABASE_URL", another_machine)
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "machine-2" / "data"))
    reset_settings_cache()
    reset_engines()
    restored = CliRunner().invoke(cli, ["restore", str(archive), "--yes"])
    assert restored.exit_code == 0, restored.output
    for cache in (tmp_path / "machine-2" / "data" / "records").rglob("*.parquet"):
        cache.unlink()  # what a server holds is a cache: the database has it all
    with _signed_in(admin, password) as client:
        assert _observe(client, evidence_id) == before
        online_p2 = record("D8", "P2", "06300", "2025-08-20 08:00", "Trực tuyến",
                           level="một phần")
        assert post_batch(client, [online_p2]).status_code == 201
        assert client.get(MISSING).json() == []

"""`chiso backup` / `chiso restore` round trips on SQLite (online backup API) and PostgreSQL
(pg_dump/pg_restore, and chiso's portable dump): what was backed up comes back exactly,
later changes disappear, and the restored database serves the application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

import chiso.db.models  # noqa: F401
from chiso.accounts.models import Role
from chiso.audit.service import record_event
from chiso.cli.main import app as cli
from chiso.db import Base, get_engine, new_session
from chiso.ops.service import BackupError, restore
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import make_indicator, make_units
from tests.conftest import login


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, in primary-key order, as plain tuples."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with get_engine(url).connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "data_generation":  # a restore writes a new one on purpose
                continue
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            tables[table.name] = [tuple(_plain(v) for v in row) for row in rows]
    return tables


def _plain(value: Any) -> Any:
    if hasattr(value, "tzinfo") and getattr(value, "tzinfo", None) is not None:
        return value.replace(tzinfo=None)
    return value


def _some_data(session, make_user, db_url: str) -> str:  # type: ignore[no-untyped-def]
    units = make_units(session)
    make_indicator(session)
    _user, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id,
                               username="can-bo-ky-lua")
    db = new_session(db_url)
    record_event(db, action="value.update", object_type="data_value", object_id=1,
                 unit_id=units.commune_a.id, before={"value": 70.0},
                 after={"value": 76.6, "comment": "Số liệu quý 3 — đã rà soát"})
    db.commit()
    db.close()
    return password


def _change_after_backup(make_user, db_url: str) -> None:  # type: ignore[no-untyped-def]
    make_user(Role.VIEWER, username="created-after-backup")
    with get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE org_unit SET name = 'ĐỔI TÊN' WHERE code = '06187'"))


@pytest.mark.slow
@pytest.mark.parametrize("portable", [False, True], ids=["native", "portable"])
def test_backup_restore_round_trip(session, make_user, db_url, tmp_path: Path, app,
                                   portable: bool) -> None:
    password = _some_data(session, make_user, db_url)
    before = snapshot(db_url)
    target = tmp_path / ("backup.jsonl.gz" if portable else "backup.bin")
    runner = CliRunner()
    args = ["backup", str(target)] + (["--portable"] if portable else [])
    made = runner.invoke(cli, args)
    assert made.exit_code == 0, made.output
    assert target.exists() and target.stat().st_size > 0
    _change_after_backup(make_user, db_url)
    assert snapshot(db_url) != before
    refused = runner.invoke(cli, ["restore", str(target)])
    assert refused.exit_code == 2 and "--yes" in refused.output
    restored = runner.invoke(cli, ["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    after = snapshot(db_url)
    assert after == before
    assert after["audit_event"] and after["org_unit"]
    # The restored database serves the app: the user signs in with the old password.
    from fastapi.testclient import TestClient

    reset_all_windows()
    with TestClient(app) as client:
        login(client, "can-bo-ky-lua", password)
    # New rows still get fresh ids after a restore (sequences follow the data on PG).
    make_user(Role.VIEWER, username="after-restore")


def test_restore_refuses_foreign_files_and_changes_nothing(db_url, tmp_path: Path,
                                                           session, make_user) -> None:
    _some_data(session, make_user, db_url)
    before = snapshot(db_url)
    junk = tmp_path / "not-a-backup.xlsx"
    junk.write_bytes(b"PK\x03\x04 not a backup")
    with pytest.raises(BackupError, match="không phải tệp sao lưu"):
        restore(junk)
    assert snapshot(db_url) == before


def test_portable_restore_is_all_or_nothing(db_url, tmp_path: Path, session, make_user
                                            ) -> None:
    """A dump cut short (a copy interrupted) fails and leaves the database as it was."""
    import gzip
    import tarfile

    _some_data(session, make_user, db_url)
    dump = tmp_path / "full.jsonl.gz"
    assert CliRunner().invoke(cli, ["backup", str(dump), "--portable"]).exit_code == 0
    with tarfile.open(dump) as archive:  # the database part of the one archive
        member = next(m for m in archive.getmembers() if m.name.startswith("database/"))
        raw = archive.extractfile(member).read()  # type: ignore[union-attr]
    lines = gzip.decompress(raw).decode("utf-8").splitlines()
    broken = tmp_path / "broken.jsonl.gz"
    with gzip.open(broken, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines[:-2]) + '\n{"t": "app_user", "r": {"id": 1, "usern')
    make_user(Role.VIEWER, username="kept-user")
    before = snapshot(db_url)
    with pytest.raises(ValueError):
        restore(broken)
    assert snapshot(db_url) == before

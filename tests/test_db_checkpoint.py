"""A transaction that defers SQLite's log checkpoint commits without copying the log back
into the database file; the copy happens right after, in the background, and the
connection goes back to the pool with the automatic checkpoint on again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from chiso.db import engine as db_engine
from chiso.db import get_engine, new_session


@pytest.fixture
def scratch_table(db_url: str) -> Iterator[None]:
    yield
    with get_engine(db_url).connect() as connection:  # the test database is shared
        connection.exec_driver_sql("DROP TABLE IF EXISTS scratch_rows")
        connection.commit()


def test_deferred_checkpoint_runs_after_the_commit(db_url: str, is_postgres: bool,
                                                    scratch_table, monkeypatch) -> None:
    if is_postgres:
        pytest.skip("PostgreSQL has no log checkpoint in its commit")
    database = Path(db_url.split("///", 1)[1])
    with get_engine(db_url).connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # start from a clean log
    size_before = database.stat().st_size
    seen_at_start: list[int] = []
    real_checkpoint = db_engine._checkpoint

    def watched(path: str) -> None:
        seen_at_start.append(Path(path).stat().st_size)
        real_checkpoint(path)

    monkeypatch.setattr(db_engine, "_checkpoint", watched)
    session = new_session(db_url)
    try:
        db_engine.defer_checkpoint(session)
        session.execute(text("CREATE TABLE scratch_rows (n INTEGER, label TEXT)"))
        session.execute(text("INSERT INTO scratch_rows VALUES (:n, :label)"),
                        [{"n": i, "label": f"hàng {i}" * 8} for i in range(20_000)])
        session.commit()  # far over 1,000 log pages: a normal commit would checkpoint here
    finally:
        session.close()
    db_engine.wait_for_checkpoints(30)
    assert seen_at_start == [size_before]  # the commit copied nothing back
    assert database.stat().st_size > size_before  # the background checkpoint did
    with get_engine(db_url).connect() as connection:  # the pooled connection is restored
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == \
            db_engine.AUTOCHECKPOINT_PAGES

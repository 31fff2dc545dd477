"""Large value reads on PostgreSQL come as Arrow columns from a connection beside the
session's (`chiso.db.columnar`), and only when that connection sees what the session would:
the same frame as the session's own cursor reads, the session's own uncommitted writes
included. SQLite is never read by a second SQLite library in the process."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import polars as pl
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.analytics import frames
from chiso.db import columnar
from chiso.values.service import upsert_values
from tests.analytics_world import build_world


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each columnar read asked for: whether it answered (False: the caller read
    through the session). The tiny world's reads count as large here."""
    monkeypatch.setattr(frames, "COLUMNAR_PAIRS", 1)
    answered: list[bool] = []
    read = columnar.read

    def recorded(session: Session, sql: str) -> Any:
        table = read(session, sql)
        answered.append(table is not None)
        return table

    monkeypatch.setattr(columnar, "read", recorded)
    return answered


def _values(session: Session, world: Any) -> pl.DataFrame:
    return frames.load_values(
        session, unit_ids=sorted(world.units.values()),
        indicator_ids=sorted(world.indicators.values()), first_day=dt.date(2024, 1, 1),
        last_day=dt.date(2025, 12, 31), one_figure_per_year=False,
    ).sort("unit_id", "indicator_id", "period")


@pytest.fixture
def postgres_only(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("PostgreSQL only: SQLite is read through the session (the test below)")


def test_sqlite_is_read_only_through_the_sessions_own_library(session, is_postgres) -> None:
    """A second copy of SQLite in the process (the ADBC driver's) would drop the locks of
    Python's own sqlite3 connections when it closes the file (docs/performance.md)."""
    if is_postgres:
        pytest.skip("SQLite only")
    build_world(session)
    assert columnar.read(session, "SELECT count(*) FROM org_unit") is None
    engine = create_engine("sqlite://")
    with Session(engine) as memory:
        assert columnar.read(memory, "SELECT 1") is None


def test_columns_read_beside_the_session_equal_the_sessions_own_read(
        session, reads, monkeypatch, postgres_only) -> None:
    world = build_world(session)
    world.save([("06001", "CQS.SO_HS", f"2025{m:02d}", None, None, 10.0 * m)
                for m in range(7, 13)]
               + [("06002", "CQS.HS_TRUC_TUYEN", "2025Q3", 45.0, 60.0, None),
                  ("06101", "CQS.HS_TRUC_TUYEN", "2025", 7.0, 9.0, None),
                  ("06002", "CQS.SO_HS", "2025C09", None, None, 123.5)])
    world.save([("06001", "XHS.THUE_BAO", "202509", None, None, 5.0)], source="demo")

    arrow = _values(session, world)
    assert reads == [True], "the read did not come as columns"
    monkeypatch.setattr(columnar, "read", lambda session, sql: None)
    assert arrow.equals(_values(session, world))
    assert arrow.schema == pl.Schema(frames.VALUE_SCHEMA)
    assert arrow.height == 10
    assert arrow.filter(pl.col("period") == "2025Q3")["value"].to_list() == [75.0]
    assert arrow.filter(pl.col("period") == "202509")[frames.rollup.FLAGS].to_list() == [0, 1]


def test_a_small_read_is_not_worth_a_connection_beside_the_session(
        session, monkeypatch, postgres_only) -> None:
    """A recompute after one saved figure reads one indicator's values: the cursor is
    quicker to start than a columnar read (chiso.analytics.frames.COLUMNAR_PAIRS)."""
    asked: list[str] = []
    monkeypatch.setattr(columnar, "read", lambda session, sql: asked.append(sql))
    world = build_world(session)
    world.save([("06001", "CQS.SO_HS", "202507", None, None, 1.0)])
    frames.load_values(session, unit_ids=sorted(world.units.values()),
                       indicator_ids=[world.indicators["CQS.SO_HS"]],
                       first_day=dt.date(2025, 1, 1), last_day=dt.date(2025, 12, 31))
    assert asked == []
    frames.load_values(session, unit_ids=None, indicator_ids=[world.indicators["CQS.SO_HS"]],
                       first_day=dt.date(2025, 1, 1), last_day=dt.date(2025, 12, 31))
    assert len(asked) == 1  # every unit: as large as the data


def test_a_session_reads_its_own_uncommitted_writes(session, reads, postgres_only) -> None:
    world = build_world(session)
    world.save([("06001", "CQS.SO_HS", "202507", None, None, 1.0)])
    upsert_values(session, [{"unit_id": world.units["06002"],
                             "indicator_id": world.indicators["CQS.SO_HS"],
                             "period": "202507", "value": 2.0}],
                  source="test", access=Access.system(session, "test"))  # not committed

    assert _values(session, world)["value"].to_list() == [1.0, 2.0]
    assert reads == [False], "a connection beside the session cannot see its writes"
    session.commit()
    assert _values(session, world)["value"].to_list() == [1.0, 2.0]
    assert reads == [False, True]


def test_a_session_holding_one_snapshot_keeps_the_read_in_it(session, reads,
                                                             postgres_only) -> None:
    """A REPEATABLE READ transaction sees the data as it began; a new connection would see
    later commits."""
    world = build_world(session)
    world.save([("06001", "CQS.SO_HS", "202507", None, None, 1.0)])
    session.connection().exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    _values(session, world)
    assert reads == [False]


def test_objects_not_yet_flushed_keep_the_read_in_the_session(session, reads,
                                                              postgres_only) -> None:
    world = build_world(session)
    world.target("CQS.SO_HS", 10.0)
    from chiso.plans.models import Target

    found = session.get(Target, 1)
    assert found is not None
    found.value = 11.0  # dirty, not flushed
    _values(session, world)
    assert reads == [False]


def test_a_type_without_a_plain_column_is_left_to_the_session(session, postgres_only) -> None:
    """PostgreSQL's NUMERIC comes from the driver as an opaque text column: the session's
    cursor reads it as numbers instead."""
    assert columnar.read(session, "SELECT CAST(1.5 AS NUMERIC) AS n") is None
    assert columnar.read(session, "SELECT CAST(1.5 AS DOUBLE PRECISION) AS n") is not None


def test_a_statement_the_driver_cannot_read_is_left_to_the_session(session, caplog,
                                                                    postgres_only) -> None:
    with caplog.at_level(logging.WARNING, logger="chiso.db"):
        assert columnar.read(session, "SELECT no_such_column FROM data_value") is None
    assert "columnar read failed" in caplog.text
    assert columnar.read(session, "SELECT 1 AS one") is not None  # a fresh connection


def test_readers_beyond_the_kept_connections_read_through_their_session(
        session, monkeypatch, postgres_only) -> None:
    """At most `KEPT` connections per process and database, however many readers come."""
    monkeypatch.setattr(columnar, "KEPT", 1)
    columnar.close_all()
    url = columnar._target(session)
    assert url is not None
    held = columnar._take(url)  # another reader's, in use
    assert held is not None
    assert columnar.read(session, "SELECT 1 AS one") is None
    columnar._give_back(url, held)
    assert columnar.read(session, "SELECT 1 AS one") is not None


def test_a_database_the_driver_cannot_reach_is_read_through_the_session(
        db_url, caplog, postgres_only) -> None:
    missing = db_url.rsplit("/", 1)[0] + "/chiso_no_such_database"
    with Session(create_engine(missing)) as elsewhere, \
            caplog.at_level(logging.WARNING, logger="chiso.db"):
        assert columnar.read(elsewhere, "SELECT 1 AS one") is None
        assert "columnar reads off" in caplog.text
        caplog.clear()
        assert columnar.read(elsewhere, "SELECT 1 AS one") is None  # not asked again
        assert "columnar reads off" not in caplog.text

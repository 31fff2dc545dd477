"""Reading values for a status, a series or a breakdown is answered from one covering index
(issue 18: reading values from SQLite was 46 % of a cold overview; visiting each table row
after the unique index found it was most of that)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, text
from sqlalchemy.sql import visitors

from chiso.analytics import frames, service
from chiso.analytics.models import VALUE_READ_INDEX
from chiso.values.models import DataValue
from tests.analytics_world import build_world


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """The value queries `frames.load_values` sends (session, statement)."""
    queries: list[tuple[Any, Any]] = []
    send = frames._fast_frame

    def recorded(session: Any, query: Any, schema: Any, **options: Any) -> Any:
        queries.append((session, query))
        return send(session, query, schema, **options)

    monkeypatch.setattr(frames, "_fast_frame", recorded)
    return queries


def test_province_status_reads_values_from_the_covering_index(session, sent,
                                                              monkeypatch) -> None:
    monkeypatch.setenv("CHISO_TODAY", "2025-09-30")
    world = build_world(session)
    world.save([(commune, "CQS.SO_HS", f"2025{month:02d}", None, None, 10.0 * month)
                for commune in ("06001", "06002") for month in range(7, 10)]
               + [("06101", "CQS.SO_HS", "202503", None, None, 4.0)])
    world.target("CQS.SO_HS", 200.0)
    statuses = service.target_statuses(session, unit_code="20", year=2025)
    assert [s.actual for s in statuses] == [4.0 + 2 * (70 + 80 + 90)]
    assert sent, "load_values sent no value query"
    db, query = sent[0]
    assert {"unit_id", "indicator_id", "period_start", "value"} <= _read_columns(query)
    assert _read_columns(query) <= set(VALUE_READ_INDEX.columns.keys()), (
        "load_values reads columns outside the covering index: "
        f"{sorted(_read_columns(query) - set(VALUE_READ_INDEX.columns.keys()))}")
    if db.get_bind().dialect.name == "sqlite":  # and SQLite's planner answers from it alone
        sql = str(query.compile(dialect=db.get_bind().dialect,
                                compile_kwargs={"literal_binds": True}))
        plan = " | ".join(str(row[-1]) for row in
                          db.execute(text(f"EXPLAIN QUERY PLAN {sql}")).all())
        assert "COVERING INDEX ix_data_value_read" in plan, plan


def _read_columns(query: Any) -> set[str]:
    """Every column of `data_value` the statement selects or filters on."""
    return {node.name for node in visitors.iterate(query)
            if isinstance(node, Column) and node.table is DataValue.__table__}

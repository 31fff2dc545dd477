"""How a batch is stored: a file that came in order of receipt is written as one file (its
row groups each hold a month or two, found by their statistics), a shuffled one as one
file per month; either way every figure, later re-send and recompute is the same. On
SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from records_support import feed_access, make_world, record, write_csv
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator
from chiso.records import engine, service, store
from chiso.values.models import DataValue

MONTHS = [202503, 202504, 202505, 202506, 202507, 202508]


@pytest.fixture
def world(session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    # Row groups of 4 rows, so that a 60-row file has blocks to be in order or not.
    monkeypatch.setattr(engine, "ROW_GROUP_ROWS", 4)
    return make_world(session, tmp_path)


def dossiers() -> list[dict[str, str]]:
    """Ten a month for six months: in month m, m % 5 + 1 of them online."""
    rows = []
    for month in MONTHS:
        year, mon = divmod(month, 100)
        for n in range(10):
            channel = "truc_tuyen" if n < month % 5 + 1 else "truc_tiep"
            rows.append(record(f"L{month}-{n}", "P1", "06200" if n % 2 else "06300",
                               f"{year}-{mon:02d}-{n + 3:02d} 09:00", channel))
    return rows


def online(session: Session, unit_id: int) -> dict[str, tuple[float, float]]:
    rows = session.execute(
        select(DataValue.period, DataValue.numerator, DataValue.denominator)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.unit_id == unit_id, Indicator.code == "CQS.HS_TRUC_TUYEN")).all()
    return {period: (num, den) for period, num, den in sorted(rows)}


def folders() -> list[str]:
    return sorted(p.name for p in (store.store_dir() / "versions").iterdir())


@pytest.mark.parametrize("order", ["in order of receipt", "shuffled"])
def test_both_layouts_give_the_same_figures(session, world, tmp_path, order):
    rows = dossiers()
    if order == "shuffled":
        random.Random(3).shuffle(rows)
    service.ingest_file(session, write_csv(tmp_path / "feed.csv", rows),
                        access=feed_access(session))
    expected = {str(m): (float(m % 5 + 1), 10.0) for m in MONTHS}
    assert online(session, world["20"].id) == expected
    assert folders() == (["months=202503-202508"] if order == "in order of receipt"
                         else [f"month={m}" for m in MONTHS])

    # Three dossiers of April, already stored, now sent online (a correction).
    resent = [{**r, "channel": "truc_tuyen", "updated_at": "2025-09-01 08:00"}
              for r in dossiers() if r["dossier_code"] in ("L202504-7", "L202504-8",
                                                            "L202504-9")]
    result = service.ingest_file(session, write_csv(tmp_path / "resent.csv", resent),
                                 access=feed_access(session))
    assert (result.rows_stored, result.months) == (3, [202504])
    expected["202504"] = (8.0, 10.0)
    assert online(session, world["20"].id) == expected
    repaired = service.recompute(session, access=feed_access(session))
    assert (repaired.inserted, repaired.updated) == (0, 0)
    assert online(session, world["20"].id) == expected

"""One-stop dossiers are placed in periods by the calendar of the data set their indicator
belongs to: under Nghị định 09/2019 a dossier received on or after the 15th counts in the
next month, and 15/12 in January of the next year. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from records_support import (
    feed_access,
    make_world,
    put_on_calendar,
    record,
    write_csv,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator
from chiso.records import service
from chiso.values.models import DataValue

# Received on 14/12, 15/12 and 31/12/2025 and on 15/01/2026; the first two online.
ACROSS_THE_YEAR = [
    record("Y1", "P1", "06200", "14/12/2025 16:30", "truc_tuyen"),
    record("Y2", "P1", "06200", "15/12/2025 07:30", "truc_tuyen"),
    record("Y3", "P3", "06200", "2025-12-31 23:59", "truc_tiep"),
    record("Y4", "P3", "06200", "2026-01-15 08:00", "truc_tiep"),
]


@pytest.fixture
def world(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_world(session, tmp_path)


def online_by_period(session: Session, unit_id: int, code: str = "CQS.HS_TRUC_TUYEN"
                     ) -> dict[str, tuple[float, float]]:
    rows = session.execute(
        select(DataValue.period, DataValue.numerator, DataValue.denominator)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .where(DataValue.unit_id == unit_id, Indicator.code == code,
               DataValue.deleted.is_(False))).all()
    return {period: (num, den) for period, num, den in sorted(rows)}


def ingest(session: Session, path: Path) -> service.IngestResult:
    return service.ingest_file(session, path, access=feed_access(session))


def test_standard_calendar_counts_civil_months(session, world, tmp_path):
    ingest(session, write_csv(tmp_path / "year-end.csv", ACROSS_THE_YEAR))
    for unit in (world["06200"], world["20"]):
        assert online_by_period(session, unit.id) == {"202512": (2, 3), "202601": (0, 1)}


def test_nd09_calendar_moves_the_15th_on_to_the_next_month_and_year(session, world, tmp_path):
    put_on_calendar(session, "nd09", ["CQS.HS_TRUC_TUYEN", "CQS.SO_HOA_HS"])
    session.commit()
    result = ingest(session, write_csv(tmp_path / "year-end.csv", ACROSS_THE_YEAR))
    # 14/12 closes December; 15/12 and 31/12 open January 2026; 15/01 is February's.
    expected = {"202512": (1, 1), "202601": (1, 2), "202602": (0, 1)}
    for unit in (world["06200"], world["20"]):
        assert online_by_period(session, unit.id) == expected
        assert set(online_by_period(session, unit.id, "CQS.SO_HOA_HS")) == set(expected)
    # The indicator of a data set on the standard calendar keeps civil months.
    assert set(online_by_period(session, world["06200"].id, "CQS.HS_TOAN_TRINH")) == {
        "202512", "202601"}
    assert result.months == [202512, 202601]  # civil months of the store

    # A correction moving 31/12 to 10/01/2026 stays in period 01/2026 under NĐ 09 …
    moved = record("Y3", "P3", "06200", "2026-01-10 09:00", "truc_tuyen",
                   updated="2026-01-10 09:00")
    ingest(session, write_csv(tmp_path / "moved.csv", [moved]))
    assert online_by_period(session, world["06200"].id) == {
        "202512": (1, 1), "202601": (2, 2), "202602": (0, 1)}
    assert online_by_period(session, world["06200"].id, "CQS.HS_TOAN_TRINH") == {
        "202512": (2, 2), "202601": (0, 2)}  # civil: Y3 left December

    # … and a full recompute from the store finds the same figures.
    repaired = service.recompute(session, access=feed_access(session))
    assert (repaired.inserted, repaired.updated) == (0, 0)
    assert repaired.months == [202512, 202601, 202602]


def test_year_months_follow_the_calendar_across_new_year(session, world):
    import datetime as dt

    from chiso.periods import Calendar

    new_years_eve = dt.date(2025, 12, 20)
    assert service.month_range(2026, new_years_eve, [Calendar.STANDARD]) == []
    assert service.month_range(2026, new_years_eve, [Calendar.CUTOFF_ND09]) == [202601]
    assert service.month_range(2025, new_years_eve, [Calendar.CUTOFF_ND09]) == [
        2025 * 100 + m for m in range(1, 13)]
    assert service.month_range(2025, dt.date(2025, 12, 14), [Calendar.CUTOFF_ND09])[-1] == \
        202512

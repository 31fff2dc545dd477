"""Two record batches at once: a batch keeps the store's writer lock until it is committed,
so the other batch's clean-up of crashed batches never deletes its files (issue 12, M7:
50 of 50 acknowledged dossiers were lost with a 3 s pause before the commit). On SQLite
and PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from records_support import (
    feed_access,
    make_world,
    record,
    write_csv,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from chiso.db import new_session
from chiso.records import service

PAUSE = 3.0


@pytest.fixture
def world(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    return make_world(session, tmp_path)


def fifty(prefix: str, unit: str) -> list[dict[str, str]]:
    return [record(f"{prefix}{n:02d}", "P1", unit, f"2025-08-{n % 28 + 1:02d} 09:00",
                   "truc_tuyen" if n % 2 else "truc_tiep") for n in range(50)]


def slow_to_commit(session: Session, entered: threading.Event) -> None:
    """The session's first commit waits PAUSE seconds (a slow disk or a busy database)."""

    def pause(_session: Session) -> None:
        if not entered.is_set():
            entered.set()
            time.sleep(PAUSE)

    event.listen(session, "before_commit", pause)


def received(session: Session, unit_id: int) -> float:
    """Dossiers of 08/2025 the store holds for the unit, counted from the records."""
    live = service.live_indicators(session, unit_id, [202508], current=False)
    row = live.filter(live["indicator_code"] == "CQS.HS_TRUC_TUYEN")
    return float(row["denominator"][0]) if row.height else 0.0


@pytest.mark.slow
def test_a_batch_waiting_to_commit_keeps_its_dossiers(db_url, world, tmp_path):
    first = write_csv(tmp_path / "xa-06200.csv", fifty("A", "06200"))
    second = write_csv(tmp_path / "xa-06300.csv", fifty("B", "06300"))
    entered, failures = threading.Event(), []

    def ingest_slowly() -> None:
        with new_session(db_url) as slow:
            slow_to_commit(slow, entered)
            try:
                result = service.ingest_file(slow, first, access=feed_access(slow))
                slow.commit()
                assert result.rows_stored == 50  # acknowledged
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

    worker = threading.Thread(target=ingest_slowly)
    worker.start()
    assert entered.wait(60), "the first batch never reached its commit"
    with new_session(db_url) as other:
        assert service.ingest_file(other, second, access=feed_access(other)).rows_stored == 50
        other.commit()
    worker.join(60)
    assert not failures, failures

    with new_session(db_url) as reader:
        assert received(reader, world["06200"].id) == 50
        assert received(reader, world["06300"].id) == 50
        batches = service.batches(reader)
        assert sorted(b.rows_stored for b in batches) == [50, 50]

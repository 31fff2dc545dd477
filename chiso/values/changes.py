"""The value change log: which (unit, indicator) pairs each write touched, in commit order.

Every value write path calls `record()` in the writer's transaction (through
`service.run_write_guards`). A reader remembers the `Mark` it last read and later asks
`changes_since(mark)` for what was written since, so a memoised answer that depends on
other indicators or other units can be kept, and one that does is refreshed in part.

Commit order: on SQLite one writer at a time holds the database lock from its first write
to its commit, so row ids grow in commit order and "id > last id" is exact. On PostgreSQL
ids are handed out before commit, so a row with a smaller id may become visible later; the
mark also holds the oldest running transaction (snapshot xmin) and how many rows of it and
later transactions were visible, and the reader asks for those transactions' rows again.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from chiso.values.models import ValueChange

# A write touching an indicator in more units than this logs the indicator once, for all
# units: a national import must not write tens of thousands of log rows.
MAX_UNITS_PER_INDICATOR = 200
# Rows kept; a reader whose mark is older than the oldest row recomputes in full.
KEEP_ROWS = 100_000
PRUNE_EVERY = 5_000
# More changed pairs than this since a reader's mark: recomputing in full is cheaper.
MAX_CHANGES = 2_000


# The mark on SQLite, as a scalar subquery a reader may add to its own query.
SQLITE_MARK = "(SELECT MAX(id) FROM value_change)"
# The mark on PostgreSQL, as columns of a query whose FROM names the transaction to count
# from `s.xmin` (usually POSTGRES_XMIN: the snapshot's oldest running one).
POSTGRES_MARK = ("(SELECT max(id) FROM value_change), s.xmin,"
                 " (SELECT count(*) FROM value_change WHERE txid >= s.xmin)")
POSTGRES_XMIN = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


@dataclass(frozen=True)
class Mark:
    """Where the log stood at a read: the last row id, and on PostgreSQL the snapshot's
    oldest running transaction and the count of rows written by it or later."""

    last_id: int
    xmin: int | None = None
    recent: int = 0


@dataclass(frozen=True)
class Changes:
    """Pairs written since a mark. `unit_ids[i] is None`: every unit of that indicator."""

    pairs: frozenset[tuple[int | None, int]]

    def indicators_touching(self, unit_ids: frozenset[int],
                            indicator_ids: frozenset[int] | None) -> set[int]:
        """The indicators among `indicator_ids` (None: any) changed at one of `unit_ids`."""
        return {indicator for unit, indicator in self.pairs
                if (indicator_ids is None or indicator in indicator_ids)
                and (unit is None or unit in unit_ids)}


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def record(session: Session, keys: pl.DataFrame) -> None:
    """Log the (unit, indicator) pairs of `keys` (unit_id, indicator_id, …) being written."""
    if keys.is_empty():
        return
    pairs = keys.select("unit_id", "indicator_id").unique()
    per_indicator = pairs.group_by("indicator_id").len()
    wide = per_indicator.filter(pl.col("len") > MAX_UNITS_PER_INDICATOR)["indicator_id"]
    rows = [*pairs.filter(~pl.col("indicator_id").is_in(wide.implode())).iter_rows(named=True),
            *({"unit_id": None, "indicator_id": i} for i in wide.to_list())]
    txid = (session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
            if _is_postgres(session) else None)
    session.execute(insert(ValueChange), [{**row, "txid": txid} for row in rows])
    _prune(session, added=len(rows))


def _prune(session: Session, added: int) -> None:
    """Now and then (when the ids pass a multiple of PRUNE_EVERY), drop the oldest rows."""
    last = session.scalar(select(func.max(ValueChange.id))) or 0
    if last % PRUNE_EVERY < added:
        session.execute(delete(ValueChange).where(ValueChange.id <= last - KEEP_ROWS))


def current_mark(session: Session) -> Mark:
    """Where the log stands now (one cheap query)."""
    if not _is_postgres(session):
        return Mark(int(session.scalar(text(f"SELECT {SQLITE_MARK}")) or 0))
    row = session.execute(text(
        f"SELECT {POSTGRES_MARK} FROM (SELECT {POSTGRES_XMIN} AS xmin) s")).one()
    return Mark(int(row[0] or 0), int(row[1]), int(row[2]))


def changes_since(session: Session, mark: Mark) -> Changes | None:
    """The pairs written after `mark`; None when the log no longer reaches back that far or
    so much changed that the caller should recompute everything."""
    oldest = session.scalar(select(func.min(ValueChange.id)))
    if oldest is not None and oldest > mark.last_id + 1:
        return None
    newer = ValueChange.id > mark.last_id
    if mark.xmin is not None:
        newer = newer | (ValueChange.txid >= mark.xmin)
    rows = session.execute(select(ValueChange.unit_id, ValueChange.indicator_id)
                           .where(newer).distinct().limit(MAX_CHANGES + 1)).all()
    if len(rows) > MAX_CHANGES:
        return None
    return Changes(frozenset((unit, indicator) for unit, indicator in rows))

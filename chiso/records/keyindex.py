"""Which months of the store hold a version of a dossier: kept in this process's memory.

A new batch must find the current version of every dossier it re-sends. Versions are stored
by the month the dossier was received, and a re-sent dossier is nearly always in a recent
month, but it may have been received in any month (or its reception date corrected), so
the lookup used to read the keys of every stored dossier: ~0.3 s at 10 million. The index
answers "which months can hold these keys" from sorted key arrays, one per month, and the
lookup then reads only those months.

The index follows the committed batches: before each use it loads the keys of batches
committed since (by this process or another), and starts again if a batch it knew is gone
(the store was rebuilt or restored). Memory: 8 bytes per stored dossier version (80 MB at
10 million).
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import numpy as np

from chiso.records import store


class KeyIndex:
    """Sorted dossier keys (`hash(dossier_code)`) per stored month."""

    def __init__(self) -> None:
        self.batches: set[int] = set()
        self.by_month: dict[int, np.ndarray] = {}

    def follow(self, con: duckdb.DuckDBPyConnection, root: Path, committed: set[int]) -> None:
        """Bring the index up to the committed batches."""
        if self.batches - committed:  # a batch it knew is gone (or never committed)
            self.batches, self.by_month = set(), {}
        self.load(con, root, committed - self.batches)

    def load(self, con: duckdb.DuckDBPyConnection, root: Path, batches: set[int]) -> None:
        """Add these batches' stored keys (the writer adds its own batch right away, so the
        next batch does not read it back from disk)."""
        files = store.version_files(root, batches) if batches else []
        if files:
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            found = con.execute(f"SELECT month, k FROM read_parquet([{listed}]) "
                            "ORDER BY month").fetchnumpy()
            self._add(np.asarray(found["month"]), np.asarray(found["k"]))
        self.batches |= batches

    def _add(self, months: np.ndarray, keys: np.ndarray) -> None:
        if len(months) == 0:
            return
        starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
        for start, end in zip(starts, [*starts[1:], len(months)], strict=True):
            month = int(months[start])
            fresh = np.asarray(keys[start:end], dtype=np.uint64)
            known = self.by_month.get(month)
            merged = fresh if known is None else np.concatenate([known, fresh])
            self.by_month[month] = np.unique(merged)  # sorted, for searchsorted

    def months_holding(self, keys: np.ndarray) -> list[int]:
        """The stored months that hold a version of at least one of `keys`."""
        keys = np.asarray(keys, dtype=np.uint64)
        months = []
        for month, known in self.by_month.items():
            spot = np.searchsorted(known, keys)
            inside = spot < len(known)
            if np.any(known[spot[inside]] == keys[inside]):
                months.append(month)
        return sorted(months)


_indexes: dict[str, KeyIndex] = {}
_lock = threading.Lock()


def for_store(root: Path) -> KeyIndex:
    """This process's index of the store at `root` (used under the store's writer lock)."""
    with _lock:
        return _indexes.setdefault(str(root.resolve()), KeyIndex())

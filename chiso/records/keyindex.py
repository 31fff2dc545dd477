"""Which months of the store hold a version of a dossier: kept in a server's memory.

A new batch must find the current version of every dossier it re-sends. Versions are stored
by the month the dossier was received; a re-sent dossier is nearly always in a recent month
but may be in any (or its reception date corrected), so without an index the lookup reads
the keys of every stored dossier (~0.3 s at 10 million). The index answers "which months can
hold these keys" from sorted key arrays, one per month, and the lookup reads only those.

Building it reads every stored key once (~1.5 s at 10 million), which only pays in a
long-running process: the web server warms it in the background at start-up
(`warm_in_background`); a one-off command (`chiso records ingest`) leaves it cold and
looks in every month as before. Once ready, it follows the committed batches: before each
use it loads the keys of batches committed since (by this process or another), and starts
again if a batch it knew is gone (the store was rebuilt). A restore writes a new data
generation (`chiso.ops.models`): the index of the data before it is dropped and a server
rebuilds one in the background — the restored database hands batch numbers out again, so
"the same batches" could hold other dossiers. Memory: 8 bytes per stored dossier version
(80 MB at 10 million).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import duckdb
import numpy as np

from chiso.db import session_scope
from chiso.ops.models import current_generation
from chiso.records import store

log = logging.getLogger("chiso.records")


class KeyIndex:
    """Sorted dossier keys (`hash(dossier_code)`) per stored month."""

    def __init__(self, generation: str | None = None) -> None:
        self.generation = generation  # of the data it indexes
        self.ready = False
        self.batches: set[int] = set()
        self.by_month: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def follow(self, con: duckdb.DuckDBPyConnection, root: Path, committed: set[int]) -> None:
        """Bring the index up to the committed batches."""
        with self._lock:
            if self.batches - committed:  # a batch it knew is gone (or never committed)
                self.batches, self.by_month = set(), {}
            self._load(con, root, committed - self.batches)

    def add_batch(self, con: duckdb.DuckDBPyConnection, root: Path, batch_id: int) -> None:
        """Add the batch this process just wrote (the next batch need not read it back)."""
        with self._lock:
            self._load(con, root, {batch_id})

    def _load(self, con: duckdb.DuckDBPyConnection, root: Path, batches: set[int]) -> None:
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
            # Sorted (repeats allowed) for searchsorted; a new batch is merged in place of
            # re-sorting the month.
            fresh = np.sort(np.asarray(keys[start:end], dtype=np.uint64))
            known = self.by_month.get(month)
            self.by_month[month] = fresh if known is None else np.insert(
                known, np.searchsorted(known, fresh), fresh)

    def months_holding(self, keys: np.ndarray) -> list[int]:
        """The stored months that hold a version of at least one of `keys`."""
        keys = np.sort(np.asarray(keys, dtype=np.uint64))
        months = []
        with self._lock:
            for month, known in self.by_month.items():
                spot = np.searchsorted(known, keys)
                inside = spot < len(known)
                if np.any(known[spot[inside]] == keys[inside]):
                    months.append(month)
        return sorted(months)


_indexes: dict[str, KeyIndex] = {}
_lock = threading.Lock()


def for_store(root: Path) -> KeyIndex:
    """This process's index of the store at `root` as the data is now: after a restore, a
    new one (rebuilt in the background when the old one was in use)."""
    with session_scope() as session:
        generation = current_generation(session)
    with _lock:
        key = str(root.resolve())
        known = _indexes.get(key)
        if known is not None and known.generation == generation:
            return known
        index = _indexes[key] = KeyIndex(generation)
    if known is not None and known.ready:
        warm_in_background(root)
    return index


def warm(root: Path | None = None) -> None:
    """Build the index of the store from the committed batches and mark it ready."""
    from chiso.records import engine

    root = root or store.store_dir()
    if not (root / "versions").exists():
        return
    index = for_store(root)
    with session_scope() as session:
        committed = store.committed_batch_ids(session)
    con = engine.connect(root, memory_mb=512)
    try:
        index.follow(con, root, committed)
    finally:
        con.close()
    index.ready = True


def warm_in_background(root: Path | None = None) -> threading.Thread:
    """`warm` in a daemon thread (the web server calls this at start-up). The store is the
    one configured now: read later, in the thread, it could be another's (the settings
    change under a process that serves one installation after another, as tests do)."""
    root = root or store.store_dir()

    def run() -> None:
        try:
            warm(root)
        except Exception:  # the index is an optimisation: without it batches still work
            log.exception("records key index not built")

    thread = threading.Thread(target=run, name="chiso-records-index", daemon=True)
    thread.start()
    return thread

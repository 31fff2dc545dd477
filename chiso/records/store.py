"""The columnar store of dossier versions: Parquet files under `<data_dir>/records/`.

Layout (see docs/records.md):
    versions/month=YYYYMM/b<batch>_<n>.parquet    one row per stored dossier version
    superseded/month=YYYYMM/s<batch>_<n>.parquet  (key, batch_id) of versions a later
                                                   batch replaced, in the old version's month
A file belongs to the batch named in its file name and is read only when that batch is
committed in SQL, so a crash or a rejected batch leaves nothing visible. Because every
replaced version is listed in `superseded`, readers need no de-duplication: the current
dossiers are the versions minus the superseded ones, month by month.
"""

from __future__ import annotations

import fcntl
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.records.models import BatchStatus, RecordBatch
from chiso.settings import get_settings

FILE_BATCH = re.compile(r"^[bs](\d+)_")
MONTH_DIR = re.compile(r"^month=(\d{6})$")


def store_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or get_settings().data_dir) / "records"


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time (CLI, API and recompute may run in different processes)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def committed_batch_ids(session: Session) -> set[int]:
    rows = session.scalars(select(RecordBatch.id).where(
        RecordBatch.status == BatchStatus.COMMITTED))
    return set(rows)


def _files(root: Path, kind: str, batches: set[int], months: Iterable[int] | None
           ) -> list[str]:
    base = root / kind
    if not base.exists():
        return []
    wanted = None if months is None else {str(m) for m in months}
    found = []
    for month_dir in sorted(base.iterdir()):
        match = MONTH_DIR.match(month_dir.name)
        if not match or (wanted is not None and match.group(1) not in wanted):
            continue
        for path in sorted(month_dir.glob("*.parquet")):
            batch = FILE_BATCH.match(path.name)
            if batch and int(batch.group(1)) in batches:
                found.append(str(path))
    return found


def version_files(root: Path, batches: set[int], months: Iterable[int] | None = None
                  ) -> list[str]:
    return _files(root, "versions", batches, months)


def superseded_files(root: Path, batches: set[int], months: Iterable[int] | None = None
                     ) -> list[str]:
    return _files(root, "superseded", batches, months)


def stored_months(root: Path) -> list[int]:
    base = root / "versions"
    if not base.exists():
        return []
    return sorted(int(m.group(1)) for d in base.iterdir() if (m := MONTH_DIR.match(d.name)))


def remove_batch_files(root: Path, batch_id: int) -> None:
    """Delete what an uncommitted batch wrote (it was never visible)."""
    for kind, prefix in (("versions", "b"), ("superseded", "s")):
        for path in (root / kind).glob(f"month=*/{prefix}{batch_id:08d}_*.parquet"):
            path.unlink(missing_ok=True)


def remove_orphans(root: Path, committed: set[int]) -> int:
    """Delete files of batches that never committed; call only under the writer lock."""
    removed = 0
    for kind in ("versions", "superseded"):
        for path in (root / kind).glob("month=*/*.parquet"):
            batch = FILE_BATCH.match(path.name)
            if batch and int(batch.group(1)) not in committed:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def remove_store(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)

"""The columnar store of dossier versions: Parquet files under `<data_dir>/records/`.

Layout (see docs/records.md):
    versions/month=YYYYMM/b<batch>_<n>.parquet    one row per stored dossier version
    versions/months=YYYYMM-YYYYMM/b<batch>_<n>.parquet
                                                   a batch whose rows came in order of
                                                   receipt, as one file (its row groups
                                                   each hold a month or two)
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
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.records.models import BatchStatus, RecordBatch
from chiso.settings import get_settings
from chiso.storage import shared

FILE_BATCH = re.compile(r"^[bs](\d+)_")
MONTH_DIR = re.compile(r"^month=(\d{6})$")
RANGE_DIR = re.compile(r"^months=(\d{6})-(\d{6})$")


def range_dir(first: int, last: int) -> str:
    """The folder of a one-file batch holding the months first..last (YYYYMM)."""
    return f"months={first}-{last}"


def _dir_months(name: str) -> tuple[int, int] | None:
    """(first, last) month a store folder may hold, or None for anything else."""
    if match := MONTH_DIR.match(name):
        return int(match.group(1)), int(match.group(1))
    if match := RANGE_DIR.match(name):
        return int(match.group(1)), int(match.group(2))
    return None


def store_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or get_settings().data_dir) / "records"


@contextmanager
def writer_lock(root: Path) -> Iterator[None]:
    """One writer at a time (CLI, API and recompute may run in different processes; with
    the store in the database, on different servers too)."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with _servers_lock():
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _servers_lock() -> AbstractContextManager[None]:
    return shared.database_lock() if shared.records_in_database() else nullcontext()


def committed_batch_ids(session: Session) -> set[int]:
    rows = session.scalars(select(RecordBatch.id).where(
        RecordBatch.status == BatchStatus.COMMITTED))
    return set(rows)


def _files(root: Path, kind: str, batches: set[int], months: Iterable[int] | None
           ) -> list[str]:
    wanted = None if months is None else sorted(set(months))
    if shared.records_in_database():
        return _shared_files(root, kind, batches, wanted)
    return _local_files(root, kind, batches, wanted)


def _local_files(root: Path, kind: str, batches: set[int], wanted: list[int] | None
                 ) -> list[str]:
    base = root / kind
    if not base.exists():
        return []
    found = []
    for folder in sorted(base.iterdir()):
        if not _holds(folder.name, wanted):
            continue
        for path in sorted(folder.glob("*.parquet")):
            if _batch_of(path.name) in batches:
                found.append(str(path))
    return found


def _shared_files(root: Path, kind: str, batches: set[int], wanted: list[int] | None
                  ) -> list[str]:
    """With the store in the database (chiso.storage.shared), its list says which files a
    committed batch has, fetched into this folder on first use; a batch it does not list
    yet is the one this process is writing, read from the folder."""
    listed = shared.names(f"{kind}/")
    known = {_batch_of(path.rsplit("/", 1)[-1]) for path in listed}
    chosen = {path: digest for path, digest in listed.items()
              if _batch_of(path.rsplit("/", 1)[-1]) in batches
              and _holds(path.split("/")[1], wanted)}
    return sorted(shared.fetch(root, chosen)
                  + _local_files(root, kind, batches - known, wanted))


def _holds(folder: str, wanted: list[int] | None) -> bool:
    span = _dir_months(folder)
    return span is not None and (wanted is None or _overlaps(span, wanted))


def _batch_of(file_name: str) -> int | None:
    batch = FILE_BATCH.match(file_name)
    return int(batch.group(1)) if batch else None


def _overlaps(span: tuple[int, int], months: list[int]) -> bool:
    return any(span[0] <= m <= span[1] for m in months)


def version_files(root: Path, batches: set[int], months: Iterable[int] | None = None
                  ) -> list[str]:
    return _files(root, "versions", batches, months)


def superseded_files(root: Path, batches: set[int], months: Iterable[int] | None = None
                     ) -> list[str]:
    return _files(root, "superseded", batches, months)


def stored_months(root: Path) -> list[int]:
    """Every month the store may hold dossiers of (a one-file batch: each month of its
    span)."""
    base = root / "versions"
    folders = [f.name for f in base.iterdir()] if base.exists() else []
    if shared.records_in_database():
        folders += [path.split("/")[1] for path in shared.names("versions/")]
    months: set[int] = set()
    for folder in set(folders):
        span = _dir_months(folder)
        if span is not None:
            months.update(months_between(*span))
    return sorted(months)


def months_between(first: int, last: int) -> list[int]:
    """YYYYMM months from first to last, inclusive."""
    found, month = [], first
    while month <= last:
        found.append(month)
        month = month + 1 if month % 100 < 12 else month + 89
    return found


def _batch_files(root: Path, batch_id: int) -> list[Path]:
    return [path for kind, prefix in (("versions", "b"), ("superseded", "s"))
            for path in (root / kind).glob(f"*/{prefix}{batch_id:08d}_*.parquet")]


def remove_batch_files(root: Path, batch_id: int) -> None:
    """Delete what an uncommitted batch wrote (it was never visible)."""
    for path in _batch_files(root, batch_id):
        path.unlink(missing_ok=True)


def publish_batch(session: Session, root: Path, batch_id: int) -> None:
    """With the store in the database, put the batch's files there in the transaction that
    commits the batch: every server sees both, or neither."""
    if shared.records_in_database():
        shared.publish(session, root, _batch_files(root, batch_id))


def remove_orphans(root: Path, committed: set[int]) -> int:
    """Delete files of batches that never committed; call only under the writer lock."""
    removed = 0
    for kind in ("versions", "superseded"):
        for path in (root / kind).glob("*/*.parquet"):
            batch = FILE_BATCH.match(path.name)
            if batch and int(batch.group(1)) not in committed:
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def remove_store(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)

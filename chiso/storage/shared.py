"""Files found by a path that every app server must see: the records store's Parquet files
when `CHISO_RECORDS_STORE=database`.

The records engine (DuckDB) reads Parquet files from a folder. With several servers and
nothing shared but PostgreSQL, each server keeps that folder as a cache: a batch's files
are *published* — put in the database (`stored_blob`, named in `stored_name`) in the same
transaction that commits the batch — and a reader *fetches* the files of committed batches
it does not hold yet from the database before DuckDB opens them. Files never change once
written (their names carry the batch and a random part), so a cached file is never stale,
and the database's list, not the folder, says which files exist.

`database_lock` serialises writers across servers (a PostgreSQL advisory lock), as the
records writer lock's `flock` does within one machine.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chiso.db import get_engine
from chiso.settings import get_settings
from chiso.storage.backends import DatabaseFiles
from chiso.storage.models import StoredName

RECORDS = "records"
_LOCK_KEY = 0x63686973_6F72  # "chisor": the records writers' advisory lock


def records_in_database() -> bool:
    """`CHISO_RECORDS_STORE` says the records store lives in the database."""
    choice = get_settings().records_store.strip().lower()
    if choice not in ("local", "database"):
        raise ValueError(f"CHISO_RECORDS_STORE must be local or database, not {choice!r}")
    return choice == "database"


def publish(session: Session, root: Path, paths: Iterable[Path], namespace: str = RECORDS
            ) -> int:
    """Put each file under `root` in the database under its path relative to `root`, in
    `session`'s transaction; returns how many were published."""
    files = DatabaseFiles()
    count = 0
    for path in paths:
        content = path.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        files.put(session, digest, content, "parquet")
        session.execute(_insert_name(session).values(
            namespace=namespace, path=path.relative_to(root).as_posix(), sha256=digest))
        count += 1
    return count


def _insert_name(session: Session):  # type: ignore[no-untyped-def]
    module = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    return module.insert(StoredName).on_conflict_do_nothing(
        index_elements=["namespace", "path"])


def names(prefix: str = "", namespace: str = RECORDS) -> dict[str, str]:
    """Committed files of `namespace` whose path starts with `prefix`: path → SHA-256."""
    query = select(StoredName.path, StoredName.sha256).where(
        StoredName.namespace == namespace)
    if prefix:
        query = query.where(StoredName.path.startswith(prefix, autoescape=True))
    with get_engine().connect() as connection:
        return {path: digest for path, digest in connection.execute(query)}


def fetch(root: Path, listed: dict[str, str]) -> list[str]:
    """Make sure each listed file (path → SHA-256) is under `root`, copying the missing
    ones from the database; returns their full paths."""
    found = []
    for relative, digest in listed.items():
        target = root / relative
        if not target.is_file():
            _copy_down(digest, target)
        found.append(str(target))
    return found


def _copy_down(digest: str, target: Path) -> None:
    chunks = DatabaseFiles().chunks(digest)
    if chunks is None:
        raise FileNotFoundError(f"stored file {digest} named {target} is not in the database")
    write_stream(target, chunks)


def write_stream(target: Path, chunks: Iterator[bytes]) -> None:
    """A file from pieces, under a temporary name and renamed: a reader in another thread
    or process sees the whole file or none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with partial.open("wb") as handle:
            for piece in chunks:
                handle.write(piece)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def database_lock() -> Iterator[None]:
    """One records writer at a time across every server on this PostgreSQL database (an
    advisory lock, released with its connection if the process dies). Nothing on SQLite:
    servers sharing one SQLite file share one machine, where the folder lock holds."""
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
            connection.commit()

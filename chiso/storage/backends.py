"""Where the store keeps bytes: a folder on this server's disk, or the database.

Both keep a file under its SHA-256 and never change it afterwards, so a second copy of the
same content is never written and readers need no locking.

- `LocalFiles`: `<data_dir>/files/<first two hex digits>/<sha256>`, written under a
  temporary name, flushed to disk (fsync) and renamed: a crash leaves the whole file or
  none of it. The embedded default: one server, one disk.
- `DatabaseFiles`: rows of `stored_blob` and `stored_chunk` (chiso/storage/models.py) in
  the caller's transaction, so a file and the row that refers to it are committed together
  or not at all, and every app server of the installation sees them: servers keep nothing
  on their own disk.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chiso.db import get_engine
from chiso.storage.models import StoredBlob, StoredChunk

CHUNK = 1024 * 1024
LOCAL_FOLDER = "files"


class Backend(Protocol):
    name: str

    def put(self, session: Session, digest: str, content: bytes, kind: str) -> None: ...

    def has(self, digest: str) -> bool: ...

    def chunks(self, digest: str) -> Iterator[bytes] | None: ...


class LocalFiles:
    """Files in a folder: `root/<aa>/<sha256>`."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest

    def put(self, session: Session, digest: str, content: bytes, kind: str) -> None:
        target = self.path(digest)
        if target.is_file() and target.stat().st_size == len(content):
            return  # content-addressed: the same bytes are already there
        write_atomically(target, content)

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def chunks(self, digest: str) -> Iterator[bytes] | None:
        path = self.path(digest)
        return read_file(path) if path.is_file() else None


def write_atomically(target: Path, content: bytes) -> None:
    """Temporary name, fsync, rename, fsync the folder: readers see all of it or nothing,
    and after the call returns it survives a power cut."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with partial.open("wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)  # a failed write leaves nothing behind
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def read_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            yield block


class DatabaseFiles:
    """Files as rows: one `stored_blob` and its `stored_chunk`s of at most 1 MiB."""

    name = "database"

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def put(self, session: Session, digest: str, content: bytes, kind: str) -> None:
        pieces = [content[i:i + CHUNK] for i in range(0, len(content), CHUNK)] or [b""]
        added = session.scalar(_insert_new(session, StoredBlob).values(
            sha256=digest, size=len(content), kind=kind, chunks=len(pieces))
            .returning(StoredBlob.sha256))
        if added is None:
            return  # stored before (or by a transaction committing now: it waits for it)
        for n, piece in enumerate(pieces):
            session.execute(insert(StoredChunk).values(sha256=digest, n=n, data=piece))

    def has(self, digest: str) -> bool:
        with get_engine(self.url).connect() as connection:
            return _blob_size(connection, digest) is not None

    def chunks(self, digest: str) -> Iterator[bytes] | None:
        with get_engine(self.url).connect() as connection:
            if _blob_size(connection, digest) is None:
                return None
        return self._stream(digest)

    def _stream(self, digest: str) -> Iterator[bytes]:
        """One chunk per query: a large file never sits whole in memory, and the
        connection is held only while a chunk is read."""
        n = 0
        while True:
            with get_engine(self.url).connect() as connection:
                piece = connection.scalar(select(StoredChunk.data).where(
                    StoredChunk.sha256 == digest, StoredChunk.n == n))
            if piece is None:
                return
            yield bytes(piece)
            n += 1


def _blob_size(connection: Connection, digest: str) -> int | None:
    return connection.scalar(select(StoredBlob.size).where(StoredBlob.sha256 == digest))


def _insert_new(session: Session, table: type[StoredBlob]):  # type: ignore[no-untyped-def]
    """INSERT … ON CONFLICT DO NOTHING on either backend: two servers storing the same
    bytes at once both succeed, and the file is stored once."""
    dialect = session.connection().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing(index_elements=["sha256"])


def database_size(url: str | None = None) -> tuple[int, int]:
    """(files, bytes) held in the database."""
    with get_engine(url).connect() as connection:
        row = connection.execute(select(func.count(), func.coalesce(func.sum(
            StoredBlob.size), 0))).one()
    return int(row[0]), int(row[1])

"""The database part of a backup: a consistent copy of the whole database, and its
restore, all or nothing.

- SQLite: SQLite's online backup API, so a backup taken while the app serves is consistent,
  and a restore copies pages into the live file under SQLite's own locking.
- PostgreSQL: `pg_dump --format=custom` / `pg_restore --single-transaction` when the client
  tools are installed; otherwise (or with `portable=True`) a logical dump written by chiso
  itself: gzip'd JSON lines, one row per line, read back in one transaction. The portable
  format also moves a database between backends (SQLite → PostgreSQL and back).

`chiso.ops.service` puts this copy in one archive with the data directory's files.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy import types as satypes
from sqlalchemy.engine import make_url

from chiso.db import Base, get_engine, reset_engines
from chiso.errors import UserError
from chiso.settings import get_settings

PORTABLE_MAGIC = "chiso-dump"
PORTABLE_VERSION = 1
PG_CUSTOM_MAGIC = b"PGDMP"
Progress = Callable[[str, int], None]


class BackupError(UserError):
    """A backup or restore that cannot proceed (the CLI prints it and exits 2)."""


@dataclass
class BackupResult:
    path: Path
    method: str  # sqlite-online | pg_dump | portable
    rows: int | None = None


def _url(url: str | None) -> str:
    return url or get_settings().sqlalchemy_url


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def dump_database(target: Path, *, url: str | None = None, portable: bool = False,
                  progress: Progress | None = None) -> BackupResult:
    """Write a consistent copy of the database to `target` (one file)."""
    url = _url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if portable:
        return BackupResult(target, "portable", _portable_dump(url, target, progress))
    if url.startswith("sqlite"):
        _sqlite_backup(_sqlite_path(url), target)
        return BackupResult(target, "sqlite-online")
    if shutil.which("pg_dump"):
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url)])
        return BackupResult(target, "pg_dump")
    return BackupResult(target, "portable", _portable_dump(url, target, progress))


def is_database_dump(path: Path) -> bool:
    try:
        _detect(path)
    except BackupError:
        return False
    return True


def load_database(source: Path, *, url: str | None = None, progress: Progress | None = None
                  ) -> BackupResult:
    """Replace the database's content by the copy in `source`, all or nothing."""
    url = _url(url)
    kind = _detect(source)
    reset_engines()  # no pooled connection may keep the old content open
    if kind == "portable":
        rows = _portable_restore(url, source, progress)
        return BackupResult(source, "portable", rows)
    if kind == "sqlite":
        if not url.startswith("sqlite"):
            raise BackupError("Bản sao SQLite chỉ khôi phục vào SQLite; dùng --portable / a "
                              "SQLite backup restores only into SQLite; use --portable")
        _sqlite_backup(source, _sqlite_path(url))
        return BackupResult(source, "sqlite-online")
    if url.startswith("sqlite"):
        raise BackupError("Bản sao pg_dump chỉ khôi phục vào PostgreSQL / a pg_dump backup "
                          "restores only into PostgreSQL")
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
          f"--dbname={_libpq_url(url)}", str(source)])
    return BackupResult(source, "pg_dump")


def _detect(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"SQLite format 3"):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "pg_dump"
    if head.startswith(b"\x1f\x8b"):
        return "portable"
    raise BackupError(f"'{path}' không phải tệp sao lưu của chiso / is not a chiso backup")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        safe = " ".join(part if "://" not in part else "<database>" for part in command)
        raise BackupError(f"Lệnh thất bại / command failed: {safe}\n{done.stderr.strip()}")


# ---------------------------------------------------------------- SQLite

def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("Cơ sở dữ liệu SQLite trong bộ nhớ / in-memory SQLite database")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    """Page-by-page copy under SQLite's locks; consistent while others read and write."""
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        with dst:
            src.backup(dst, pages=1024)
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"Tệp '{target}' bị hỏng / failed the integrity check")
    finally:
        dst.close()
        src.close()


# ---------------------------------------------------------------- portable logical dump

def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return {"$t": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$d": str(value)}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    return value


def _decode(value: Any, column_type: satypes.TypeEngine[Any]) -> Any:
    if isinstance(value, dict) and len(value) == 1 and not isinstance(column_type, satypes.JSON):
        (key, raw), = value.items()
        if key == "$t":
            if isinstance(column_type, satypes.DateTime):
                return dt.datetime.fromisoformat(raw)
            return dt.date.fromisoformat(raw)
        if key == "$d":
            return decimal.Decimal(raw)
        if key == "$b":
            return base64.b64decode(raw)
    return value


def _portable_dump(url: str, target: Path, progress: Progress | None) -> int:
    engine = get_engine(url)
    count = 0
    with engine.connect() as conn, gzip.open(target, "wt", encoding="utf-8") as out:
        if conn.dialect.name == "postgresql":  # one snapshot for every table
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        header = {"format": PORTABLE_MAGIC, "version": PORTABLE_VERSION,
                  "alembic": _alembic_heads(conn), "tables": [t.name for t in _tables()]}
        out.write(json.dumps(header) + "\n")
        for table in _tables():
            for row in conn.execute(select(table).order_by(*table.primary_key.columns)):
                out.write(json.dumps({"t": table.name, "r": {k: _encode(v) for k, v in
                                                             row._mapping.items()}},
                                     ensure_ascii=False) + "\n")
                count += 1
            if progress:
                progress(table.name, count)
    return count


def _alembic_heads(conn: Connection) -> list[str]:
    return sorted(r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version")))


def _read_portable(source: Path) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
    handle = gzip.open(source, "rt", encoding="utf-8")  # noqa: SIM115 (closed by rows())
    header = json.loads(handle.readline())
    if header.get("format") != PORTABLE_MAGIC:
        handle.close()
        raise BackupError(f"'{source}' không phải bản sao chiso / is not a chiso dump")

    def rows() -> Iterator[dict[str, Any]]:
        with handle:
            for line in handle:
                yield json.loads(line)

    return header, rows()


def _portable_restore(url: str, source: Path, progress: Progress | None) -> int:
    header, rows = _read_portable(source)
    engine = get_engine(url)
    tables = {t.name: t for t in _tables()}
    count = 0
    with engine.begin() as conn:  # all or nothing
        if header["alembic"] != _alembic_heads(conn):
            raise BackupError(
                f"Bản sao ở phiên bản CSDL {header['alembic']}, CSDL đích ở "
                f"{_alembic_heads(conn)}; chạy 'chiso db upgrade' cho khớp / the dump's "
                "schema version differs from the target's; run 'chiso db upgrade' first")
        _empty_tables(conn)
        batch: list[dict[str, Any]] = []
        current: str | None = None
        for item in rows:
            if item["t"] != current and batch:
                count += _insert(conn, tables[current], batch, progress)  # type: ignore[index]
                batch = []
            current = item["t"]
            table = tables[current]
            batch.append({k: _decode(v, table.c[k].type) for k, v in item["r"].items()})
            if len(batch) >= 2000:
                count += _insert(conn, table, batch, progress)
                batch = []
        if batch and current:
            count += _insert(conn, tables[current], batch, progress)
        _reset_sequences(conn)
    return count


def _empty_tables(conn: Connection) -> None:
    names = [t.name for t in reversed(_tables())]
    if conn.dialect.name == "postgresql":
        # TRUNCATE, not DELETE: the append-only trigger on audit_event refuses row deletes.
        conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        return
    conn.execute(text("PRAGMA defer_foreign_keys = ON"))
    for name in names:
        conn.execute(text(f"DELETE FROM {name}"))


def _insert(conn: Connection, table: Table, batch: list[dict[str, Any]],
            progress: Progress | None) -> int:
    for row in _parents_first(table, batch):
        conn.execute(insert(table), row)
    if progress:
        progress(table.name, len(batch))
    return len(batch)


def _parents_first(table: Table, batch: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Chunks to insert in order: for a table that points to itself (org_unit.parent_id),
    parents go in before their children so that foreign keys hold at every statement."""
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    if not self_refs:
        return [batch]
    key = next(iter(table.primary_key.columns)).name
    placed: set[Any] = set()
    remaining = batch
    chunks: list[list[dict[str, Any]]] = []
    while remaining:
        ready = [r for r in remaining
                 if all(r.get(c) is None or r.get(c) in placed or r.get(c) == r[key]
                        for c in self_refs)]
        if not ready:  # a cycle or a parent outside the dump: insert as they are
            ready = remaining
        chunks.append(ready)
        placed.update(r[key] for r in ready)
        ready_ids = {id(r) for r in ready}
        remaining = [r for r in remaining if id(r) not in ready_ids]
    return chunks


def _reset_sequences(conn: Connection) -> None:
    """PostgreSQL serials must continue after the restored ids."""
    if conn.dialect.name != "postgresql":
        return
    for table in _tables():
        for column in table.primary_key.columns:
            if not isinstance(column.type, satypes.Integer) or not column.autoincrement:
                continue
            sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                    {"t": table.name, "c": column.name}).scalar()
            if sequence:
                highest = conn.execute(select(func.max(column))).scalar()
                conn.execute(text("SELECT setval(:s, :v, :called)"),
                             {"s": sequence, "v": highest or 1, "called": highest is not None})

"""Engines and sessions. SQLite gets WAL and foreign keys on every connection."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session

from chiso.db import columnar
from chiso.settings import get_settings

_engines: dict[str, Engine] = {}
SQLITE_POOL = 40  # anyio's worker threads: the most requests one process runs at a time
_lock = threading.Lock()


class DatabaseNotMigrated(RuntimeError):
    """The database schema is missing or behind the code."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"Cơ sở dữ liệu chưa được khởi tạo hoặc chưa cập nhật ({url}). "
            "Chạy: chiso db upgrade  /  The database is not migrated; run: chiso db upgrade"
        )


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # As many pooled connections as the server has request threads at a time: with the
        # default five, connections beyond them were opened (with their PRAGMAs) and closed
        # on every request under load — 10 % of a dashboard request's CPU (py-spy, `chiso
        # bench load`). A SQLite connection kept open costs a file handle and its cache.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=SQLITE_POOL, max_overflow=SQLITE_POOL)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _checkpoint_after_deferring)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# SQLite copies its write-ahead log back into the database file when a commit finds the log
# over 1,000 pages: that commit then also waits for the copy (0.3 s after a records batch).
_DEFERRED = "chiso.checkpoint_deferred"
AUTOCHECKPOINT_PAGES = 1000
CHECKPOINT_THREAD = "chiso-checkpoint"


def defer_checkpoint(session: Session) -> None:
    """Keep SQLite's automatic log checkpoint out of this transaction's commit, so what it
    writes is visible sooner; the checkpoint runs right after, on another connection, in
    the background. No effect on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    connection.info[_DEFERRED] = True


def _checkpoint_after_deferring(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    # Runs as the connection goes back to the pool (after the commit or rollback), before
    # any other thread can take it.
    if not record.info.pop(_DEFERRED, False):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
    cursor.close()
    database = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
    if database:  # not an in-memory database
        threading.Thread(target=_checkpoint, args=(database,), name=CHECKPOINT_THREAD).start()


def wait_for_checkpoints(timeout: float = 600) -> None:
    """Wait for the background checkpoints of deferred commits (a benchmark times its next
    step on a settled database, not against the copy of the previous step's log)."""
    for thread in threading.enumerate():
        if thread.name == CHECKPOINT_THREAD:
            thread.join(timeout)


def _checkpoint(database: str) -> None:
    """PASSIVE: copy what it can without waiting for readers or writers."""
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for `url` (default: the configured database)."""
    url = url or get_settings().sqlalchemy_url
    with _lock:
        if url not in _engines:
            _engines[url] = _make_engine(url)
        return _engines[url]


def reset_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
    columnar.close_all()


def bind_url(session: Session) -> str:
    """The database URL a session talks to (a memo key that tells databases apart)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    return str(engine.url)


def new_session(url: str | None = None) -> Session:
    # A plain Session, not `sessionmaker(...)()`: a sessionmaker makes a new Session
    # subclass each time it is built, and SQLAlchemy then joins every class-level event
    # listener (the memo's, the audit's) to that new class — 10 % of a dashboard
    # request's CPU under `chiso bench load` (py-spy), and a registry that grows.
    return Session(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back everything on any error."""
    session = new_session(url)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_migrated(engine: Engine) -> bool:
    from chiso.db.migrate import head_revisions

    if not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version")
        current = {row[0] for row in rows}
    return current == head_revisions()


def ensure_migrated(url: str | None = None) -> None:
    engine = get_engine(url)
    if not is_migrated(engine):
        raise DatabaseNotMigrated(engine.url.render_as_string(hide_password=True))

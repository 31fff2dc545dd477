"""Reading a large result straight into columns (Arrow), without a Python object per field.

The cursor path (`fetchall`) builds a tuple and a Python number or string for every field:
for the 28,258 values of the demo province's overview that is ~26 ms of a ~36 ms read on
SQLite, and the columns are then built again from those objects (~5 ms more). An ADBC
driver hands the rows over as Arrow columns instead (best of 30, 06/12/2026: SQLite 35 →
22 ms, PostgreSQL 27 → 21 ms, each before building the frame).

An ADBC connection is a connection of its own, beside the session's. It sees what is
committed, as each statement of the session does too (SQLite outside a write transaction,
PostgreSQL at READ COMMITTED), but not what the session has written and not committed. So
`read` answers only for a session that has written nothing in its transaction (checked,
not assumed), on a database other connections can open; otherwise, or when the driver
cannot read the result, it returns None and the caller reads through the session's own
cursor as before. Connections are kept per process and database, a few at a time.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any
from urllib.parse import quote

import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger("chiso.db")

KEPT = 4  # idle connections kept per process and database (a server's concurrent readers)
# SQLite's driver types each column from the first batch of rows, and fails when a later
# batch disagrees (a numerator NULL in every early row, then a number). One batch for the
# whole result types every column from all its rows.
SQLITE_ONE_BATCH = {"adbc.sqlite.query.batch_rows": "1000000000"}  # rows, not reserved

_lock = threading.Lock()
_idle: dict[tuple[str, str], list[Any]] = {}
_inherited: list[Any] = []  # a forked child's copies of its parent's connections
_drivers: dict[str, bool] = {}


def read(session: Session, sql: str) -> Any | None:
    """`sql` (a complete statement, parameters rendered in it) as a `pyarrow.Table` read on
    a connection of its own; None when that could see other data than the session would,
    or the driver could not read it (the caller then reads it through the session)."""
    target = _target(session)
    if target is None or _has_written(session):
        return None
    from adbc_driver_manager import Error as DriverError

    key = target
    connection = _take(key)
    try:
        cursor = connection.cursor()
        try:
            if target[0] == "sqlite":
                cursor.adbc_statement.set_options(**SQLITE_ONE_BATCH)
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
        finally:
            cursor.close()
    except DriverError as exc:
        connection.close()  # its state after a failed read is unknown
        log.warning("columnar read failed, reading through the session: %s", exc)
        return None
    _give_back(key, connection)
    if any(isinstance(field.type, pa.BaseExtensionType) for field in table.schema):
        return None  # e.g. PostgreSQL's NUMERIC, handed over as opaque text
    return table


def _target(session: Session) -> tuple[str, str] | None:
    """(driver, where) for ADBC, or None: no driver installed, or a database only the
    session's own connection can see (SQLite in memory)."""
    url = session.get_bind().engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return ("sqlite", database) if _installed("adbc_driver_sqlite") else None
    if backend == "postgresql" and _installed("adbc_driver_postgresql"):
        return "postgresql", url.set(drivername="postgresql").render_as_string(
            hide_password=False)
    return None


def _has_written(session: Session) -> bool:
    """Whether this session holds anything another connection cannot see: objects not
    flushed yet, or statements in its open transaction that changed rows."""
    if session.new or session.dirty or session.deleted:
        return True
    if not session.in_transaction():
        return False
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # Python's sqlite3 opens a transaction only for a statement that writes.
        dbapi: Any = connection.connection.dbapi_connection
        return bool(dbapi.in_transaction)
    # PostgreSQL gives a transaction an id at its first write (one round trip, ~0.3 ms).
    # Sent on the connection, not the session: an ORM statement that is not a SELECT
    # counts as a write for the analytics memo (`analytics.cache`).
    assigned = connection.execute(text("SELECT txid_current_if_assigned()")).scalar()
    return assigned is not None


def _installed(module: str) -> bool:
    if module not in _drivers:
        try:
            __import__(module)
            _drivers[module] = True
        except ImportError:
            _drivers[module] = False
    return _drivers[module]


def _take(key: tuple[str, str]) -> Any:
    """A kept connection of this process, else a new one."""
    with _lock:
        idle = _idle.get(key)
        if idle:
            return idle.pop()
    driver, where = key
    if driver == "sqlite":
        import adbc_driver_sqlite.dbapi as sqlite

        # Read-only: this connection never writes.
        return sqlite.connect(f"file:{quote(where)}?mode=ro", autocommit=True)
    import adbc_driver_postgresql.dbapi as postgresql

    return postgresql.connect(where, autocommit=True)


def _give_back(key: tuple[str, str], connection: Any) -> None:
    with _lock:
        idle = _idle.setdefault(key, [])
        if len(idle) < KEPT:
            idle.append(connection)
            return
    connection.close()


@atexit.register
def close_all() -> None:
    """Close every kept connection: when engines are reset (tests drop their databases),
    and at exit (the driver cannot close one once the interpreter is tearing down)."""
    with _lock:
        kept = [c for connections in _idle.values() for c in connections]
        _idle.clear()
    for connection in kept:
        connection.close()


def _forget_inherited() -> None:
    """In a forked child: never use, nor close, the parent's connections (closing one
    would end the parent's session on the socket they share); keep them referenced so
    that no finaliser closes them either."""
    _inherited.extend(c for connections in _idle.values() for c in connections)
    _idle.clear()


os.register_at_fork(after_in_child=_forget_inherited)

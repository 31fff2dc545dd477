"""Reading a large result from PostgreSQL straight into columns (Arrow), without a
Python object per field.

The cursor path (`fetchall`) builds a tuple and a Python number or string for every field,
and the frame's columns are then built again from those objects. An ADBC driver hands the
rows over as Arrow columns instead: the demo province's overview reads 28,258 values in
21 ms where psycopg's binary cursor takes 27 ms and building the columns ~5 ms more (best
of 30, 06/12/2026).

An ADBC connection is a connection of its own, beside the session's. It sees what is
committed, as each statement of the session at READ COMMITTED does too, but not what the
session has written and not committed. So `read` answers only for a session that has
written nothing in its transaction (checked, not assumed); otherwise, or when the driver
cannot read the result, it returns None and the caller reads through the session's own
cursor as before. Connections are kept per process and database, a few at a time.

Never for SQLite: the ADBC SQLite driver carries its own copy of SQLite, and two copies in
one process break each other's file locks (closing a descriptor drops the other copy's
POSIX locks): tried twice, see docs/performance.md, "Not a way".
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger("chiso.db")

# Connections per process and database, at most: a reader finding all of them busy reads
# through its session instead, so a burst of readers never opens more.
KEPT = 4

_lock = threading.Lock()
_idle: dict[str, list[Any]] = {}
_opened: dict[str, int] = {}  # connections open now (idle or in use), per database
_refused: set[str] = set()  # databases the driver could not connect to: not asked again
_inherited: list[Any] = []  # a forked child's copies of its parent's connections
_drivers: dict[str, bool] = {}


def read(session: Session, sql: str) -> Any | None:
    """`sql` (a complete statement, parameters rendered in it) as a `pyarrow.Table` read on
    a connection of its own; None on SQLite, when that connection could see other data
    than the session would, or when the driver could not read the result plainly (the
    caller then reads it through the session)."""
    url = _target(session)
    if url is None or url in _refused or _has_written(session):
        return None
    # Imported here, not at the top: pyarrow and the numpy it loads cost ~0.1 s, which
    # every command and server start paid through `chiso.db.engine` (`chiso status`).
    import pyarrow as pa
    from adbc_driver_manager import Error as DriverError

    try:
        connection = _take(url)
    except DriverError as exc:  # e.g. an authentication only psycopg's settings carry
        _refused.add(url)
        log.warning("columnar reads off for this database, reading through the session: "
                    "%s", exc)
        return None
    if connection is None:
        return None
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql)
            table = cursor.fetch_arrow_table()
        finally:
            cursor.close()
    except DriverError as exc:
        _close(url, connection)  # its state after a failed read is unknown
        log.warning("columnar read failed, reading through the session: %s", exc)
        return None
    _give_back(url, connection)
    if any(isinstance(field.type, pa.BaseExtensionType) for field in table.schema):
        return None  # e.g. PostgreSQL's NUMERIC, handed over as opaque text
    return table


def _target(session: Session) -> str | None:
    """The PostgreSQL URL for ADBC, or None (SQLite, or no driver installed)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "postgresql" or not _installed("adbc_driver_postgresql"):
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _has_written(session: Session) -> bool:
    """Whether this session may see other data than a new connection would: objects not
    flushed yet, statements in its open transaction that changed rows, or a transaction
    holding one snapshot for all its statements (REPEATABLE READ, SERIALIZABLE)."""
    if session.new or session.dirty or session.deleted:
        return True
    if not session.in_transaction():
        return False
    # PostgreSQL gives a transaction an id at its first write (one round trip, ~0.3 ms).
    # Sent on the connection, not the session: an ORM statement that is not a SELECT
    # counts as a write for the analytics memo (`analytics.cache`).
    assigned, isolation = session.connection().execute(text(
        "SELECT txid_current_if_assigned(), current_setting('transaction_isolation')")).one()
    return assigned is not None or isolation != "read committed"


def _installed(module: str) -> bool:
    if module not in _drivers:
        try:
            __import__(module)
            _drivers[module] = True
        except ImportError:
            _drivers[module] = False
    return _drivers[module]


def _take(url: str) -> Any | None:
    """An idle connection of this process, else a new one while fewer than `KEPT` are
    open, else None."""
    with _lock:
        idle = _idle.get(url)
        if idle:
            return idle.pop()
        if _opened.get(url, 0) >= KEPT:
            return None
        _opened[url] = _opened.get(url, 0) + 1
    import adbc_driver_postgresql.dbapi as postgresql

    try:
        return postgresql.connect(url, autocommit=True)
    except BaseException:
        with _lock:
            _opened[url] -= 1
        raise


def _give_back(url: str, connection: Any) -> None:
    with _lock:
        _idle.setdefault(url, []).append(connection)


def _close(url: str, connection: Any) -> None:
    with _lock:
        _opened[url] = max(0, _opened.get(url, 0) - 1)
    connection.close()


@atexit.register
def close_all() -> None:
    """Close every kept connection: when engines are reset (tests drop their databases),
    and at exit (the driver cannot close one once the interpreter is tearing down)."""
    with _lock:
        kept = [c for connections in _idle.values() for c in connections]
        _idle.clear()
        _opened.clear()  # (one in use now comes back idle and uncounted: tests and exit)
    for connection in kept:
        connection.close()


def _forget_inherited() -> None:
    """In a forked child: never use, nor close, the parent's connections (closing one
    would end the parent's session on the socket they share); keep them referenced so
    that no finaliser closes them either."""
    _inherited.extend(c for connections in _idle.values() for c in connections)
    _idle.clear()
    _opened.clear()


os.register_at_fork(after_in_child=_forget_inherited)

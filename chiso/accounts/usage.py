"""When each API token was last used, recorded without making reads write.

Writing `last_used_at` inside every token request turned every read into a write: while any
other writer held SQLite's lock, token reads waited 10 s and failed (M5). Now a request only
*notes* the use in memory when the stored time is more than a minute old; one background
thread writes the noted times, each in its own short transaction, outside every request.
A write that finds the database busy is kept and tried again later. The stored time is
therefore at most about a minute behind, which is all an administrator reading "last used"
needs. Nothing a request answers depends on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import or_, update
from sqlalchemy.exc import OperationalError

from chiso.accounts.models import ApiToken
from chiso.db.engine import get_engine

log = logging.getLogger("chiso.accounts")

RECORD_EVERY = dt.timedelta(minutes=1)
FLUSH_SECONDS = 2.0

_pending: dict[tuple[str, int], dt.datetime] = {}
_lock = threading.Lock()
# Held while a batch is written, so `discard` can wait for a write already under way.
_writing = threading.Lock()
_wake = threading.Event()
_worker: threading.Thread | None = None


def note_use(url: str, token_id: int, last_recorded: dt.datetime | None,
             now: dt.datetime) -> None:
    """Remember that the token was used now, if its stored time is over a minute old."""
    if last_recorded is not None and now - last_recorded < RECORD_EVERY:
        return
    with _lock:
        _pending[(url, token_id)] = now
    _ensure_worker()


def flush() -> None:
    """Write every noted use now (the background thread does this every few seconds)."""
    with _writing:
        with _lock:
            batch = dict(_pending)
            _pending.clear()
        for (url, token_id), moment in batch.items():
            try:
                _write(url, token_id, moment)
            except OperationalError as exc:  # busy: keep it for the next round
                log.info("token use not recorded yet (%s); will retry", exc.orig)
                with _lock:
                    _pending.setdefault((url, token_id), moment)


def discard() -> None:
    """Forget every noted use, waiting for a write under way to finish.

    For a database whose tables are emptied and whose ids start again (the tests do this
    between tests): a use noted for the old token 1 must not be written onto the new
    token 1.
    """
    with _writing, _lock:
        _pending.clear()


def _write(url: str, token_id: int, moment: dt.datetime) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(update(ApiToken).where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < moment),
        ).values(last_used_at=moment))


def _ensure_worker() -> None:
    global _worker
    with _lock:
        if _worker is not None and _worker.is_alive():
            return
        _worker = threading.Thread(target=_run, name="chiso-token-use", daemon=True)
        _worker.start()


def _run() -> None:
    while True:
        _wake.wait(FLUSH_SECONDS)
        _wake.clear()
        try:
            flush()
        except Exception:  # never let the recorder die on one bad write
            log.exception("recording token use failed")

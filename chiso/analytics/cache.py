"""Read-through memo for analytics answers, invalidated by a stamp of the data.

Every request still sees the newest data ("live": a saved value shows on the next request):
before reusing an answer we read a stamp of everything an answer depends on — the newest
value version, the targets, indicators, units and lineage — in one cheap query; any write
changes the stamp and the next request recomputes. Each process keeps its own memo, so
several app processes behind a proxy stay correct without sharing memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_ENTRIES = 512

# Only primary-key maxima and small tables: the stamp must cost well under a millisecond.
# Ids are never reused (a value change always adds a version row), so a larger id means
# newer data; `chiso restore` replaces the whole database and the app is restarted after it.
STAMP_SQL = text(
    "SELECT (SELECT MAX(id) FROM data_value_version),"
    " (SELECT MAX(updated_at) FROM target), (SELECT COUNT(*) FROM target),"
    " (SELECT MAX(updated_at) FROM indicator), (SELECT MAX(id) FROM org_unit),"
    " (SELECT MAX(id) FROM unit_lineage), (SELECT MAX(updated_at) FROM plan)"
)

_memo: OrderedDict[Hashable, tuple[tuple[object, ...], object]] = OrderedDict()
_lock = threading.Lock()
# One computation per key at a time: concurrent requests for the same answer wait for it
# instead of each computing it (a burst of dashboard reads after a write costs one run).
_key_locks: dict[Hashable, threading.Lock] = {}


def data_stamp(session: Session) -> tuple[object, ...]:
    """What the data looks like now; equal stamps mean equal analytics answers."""
    row = session.execute(STAMP_SQL).one()
    return tuple(str(v) for v in row)


def memoized(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for `key`, reused while the data stamp is unchanged. Answers are
    shared between requests: callers must treat them as read-only."""
    key = (str(session.get_bind().url), key)
    stamp = data_stamp(session)
    found = _lookup(key, stamp)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    with _key_lock(key):
        found = _lookup(key, stamp)  # another request may have computed it meanwhile
        if found is not None:
            return found[0]  # type: ignore[no-any-return]
        answer = compute()
        with _lock:
            _memo[key] = (stamp, answer)
            _memo.move_to_end(key)
            while len(_memo) > MAX_ENTRIES:
                _memo.popitem(last=False)
        return answer


def _lookup(key: Hashable, stamp: tuple[object, ...]) -> tuple[object] | None:
    with _lock:
        found = _memo.get(key)
        if found is not None and found[0] == stamp:
            _memo.move_to_end(key)
            return (found[1],)
    return None


def _key_lock(key: Hashable) -> threading.Lock:
    with _lock:
        if len(_key_locks) > 4 * MAX_ENTRIES:
            _key_locks.clear()  # locks are cheap to recreate; holders keep theirs
        return _key_locks.setdefault(key, threading.Lock())


def clear() -> None:
    with _lock:
        _memo.clear()
        _key_locks.clear()

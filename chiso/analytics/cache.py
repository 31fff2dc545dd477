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

STAMP_SQL = text(
    "SELECT (SELECT MAX(id) FROM data_value_version),"
    " (SELECT COUNT(*) FROM data_value_version),"
    " (SELECT MAX(changed_at) FROM data_value_version),"
    " (SELECT MAX(updated_at) FROM target), (SELECT COUNT(*) FROM target),"
    " (SELECT MAX(updated_at) FROM indicator), (SELECT COUNT(*) FROM org_unit),"
    " (SELECT COUNT(*) FROM unit_lineage), (SELECT MAX(updated_at) FROM plan)"
)

_memo: OrderedDict[Hashable, tuple[tuple[object, ...], object]] = OrderedDict()
_lock = threading.Lock()


def data_stamp(session: Session) -> tuple[object, ...]:
    """What the data looks like now; equal stamps mean equal analytics answers."""
    row = session.execute(STAMP_SQL).one()
    return tuple(str(v) for v in row)


def memoized(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for `key`, reused while the data stamp is unchanged. Answers are
    shared between requests: callers must treat them as read-only."""
    key = (str(session.get_bind().url), key)
    stamp = data_stamp(session)
    with _lock:
        found = _memo.get(key)
        if found is not None and found[0] == stamp:
            _memo.move_to_end(key)
            return found[1]  # type: ignore[return-value]
    answer = compute()
    with _lock:
        _memo[key] = (stamp, answer)
        _memo.move_to_end(key)
        while len(_memo) > MAX_ENTRIES:
            _memo.popitem(last=False)
    return answer


def clear() -> None:
    with _lock:
        _memo.clear()

"""Read-through memo for analytics answers, kept live by the data's stamp and the value
change log.

Every request still sees the newest data ("live": a saved value shows on the next request).
Before reusing an answer we read a stamp in one cheap query: the state of the structure an
answer depends on (targets, indicators, units, lineage, plans) and the position of the
value change log (`chiso.values.changes`). Then:
- structure changed → recompute;
- no value written since the answer → reuse it;
- values written, but none of them in the answer's reach (the indicators and units it
  reads) → reuse it: a commune officer saving a figure does not make the other communes'
  or the other indicators' answers stale;
- values written within reach → refresh only the touched indicators when the caller
  knows how (`refresh`), else recompute.
Each process keeps its own memo, so several app processes stay correct without sharing
memory. Concurrent requests for the same answer wait for one computation (single-flight).

**Bounded staleness for dashboard readers** (docs/semantics.md §9). A page or API route
may declare who is reading (`reading_as`); such a reader may be given an answer whose data
was read at most the bound (`stale_for()`, 1 s unless set) before its request began,
although values were saved since (and readers queued behind a recomputation take its
answer). So an answer is recomputed at most once per bound for all the leaders reloading
it, however fast officers save: before, every save set off a recomputation in every server
process, and with officers saving as fast as they could the dashboard spent its CPU
recomputing (issue 18). Never to someone who saved values within the bound (plus
`WRITE_MARGIN`): a value saved is in its writer's next answer, and in everyone else's
answer to a request made the bound after the save. A change of structure (targets, units,
indicators, plans) is never served stale, and callers that declare no reader (reports, the
CLI, other domains) always get the newest data.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import event, select, text
from sqlalchemy.orm import ORMExecuteState, Session

from chiso.audit.models import AuditEvent
from chiso.db.engine import bind_url
from chiso.settings import get_settings
from chiso.values import changes
from chiso.values.changes import Mark

T = TypeVar("T")
MAX_ENTRIES = 512
# Bounded staleness (see the module docstring): how much older than a request the data of
# an answer served to it may be (values saved since show within this bound): the setting
# `dashboard_stale_seconds` (CHISO_DASHBOARD_STALE_SECONDS), 1 s unless set. The test
# suite sets 0 (every answer fresh) except where it tests the bound.
WRITE_MARGIN = 5.0  # a save's transaction may have begun this long before its commit
# The audit events of value writes: a single save, a bulk write or import, a reporting
# form (chiso.values, chiso.collection). Signing in and reading are not saves.
VALUE_WRITES = ("data_value", "import_batch", "submission")

# Only maxima and counts over indexed or small tables: the stamp must cost well under a
# millisecond. Ids are never reused, except by `chiso restore`, which writes a new data
# generation token (chiso.ops.models): every process recomputes after it. Edits in place
# (a unit renamed or closed, a pillar renamed) leave the maxima alone, but every one of
# them writes an audit event.
STRUCTURE = (
    "(SELECT MAX(updated_at) FROM target), (SELECT COUNT(*) FROM target),"
    " (SELECT MAX(updated_at) FROM indicator), (SELECT MAX(id) FROM org_unit),"
    " (SELECT MAX(id) FROM unit_lineage), (SELECT MAX(updated_at) FROM plan),"
    " (SELECT MAX(id) FROM audit_event WHERE object_type IN"
    " ('org_unit', 'unit_lineage', 'unit_kind', 'pillar', 'indicator', 'target', 'plan')),"
    " (SELECT MAX(token) FROM data_generation)"
)
STRUCTURE_SQL = text(f"SELECT {STRUCTURE}")
# On SQLite the change log's position comes in the same round trip (values.changes).
# As plain SQL too: `chiso status` stores it with an answer and reads it with sqlite3
# (analytics.snapshot).
SQLITE_STAMP = f"SELECT {STRUCTURE}, {changes.SQLITE_MARK}"
SQLITE_STAMP_SQL = text(SQLITE_STAMP)
# The same on PostgreSQL, for `chiso status` to read with psycopg (analytics.snapshot): the
# structure and the change log's mark (last id, xmin, rows since xmin). It counts the log
# from %(xmin)s when given — the xmin of a stamp read earlier — so the stamp read again
# equals the earlier one exactly when nothing was written since, whatever the rest of the
# server did meanwhile (its transaction ids move the current xmin); else from the current
# snapshot's xmin.
POSTGRES_STAMP = (f"SELECT {STRUCTURE}, {changes.POSTGRES_MARK} FROM (SELECT"
                  f" COALESCE(%(xmin)s::bigint, {changes.POSTGRES_XMIN}) AS xmin) s")


@dataclass(frozen=True)
class Reach:
    """The values an answer reads: these indicators (None: any) at these units."""

    unit_ids: frozenset[int]
    indicator_ids: frozenset[int] | None


# For answers that read no values at all (units, lineage, targets): only the structure
# stamp can make them stale.
NO_VALUES = Reach(frozenset(), frozenset())


@dataclass(frozen=True)
class Stamp:
    structure: tuple[str, ...]
    mark: Mark


@dataclass(frozen=True)
class _Entry(Generic[T]):
    stamp: Stamp
    answer: T
    reach: Reach
    read_at: float = 0.0  # time.monotonic() when the data it was computed from was read


Computed = tuple[T, Reach]

_memo: OrderedDict[Hashable, _Entry[Any]] = OrderedDict()
_lock = threading.Lock()
_key_locks: dict[Hashable, threading.Lock] = {}


_STAMP = "chiso.analytics.stamp"
_STAMP_AT = "chiso.analytics.stamp_at"
_READER = "chiso.analytics.reader"


def stale_for() -> float:
    """Seconds by which a dashboard reader's answer may lag the data (docs/semantics.md
    §9)."""
    return get_settings().dashboard_stale_seconds


def reading_as(session: Session, user_id: int | None) -> None:
    """Declare who reads through this session (a dashboard route): their answers may be
    up to `stale_for()` old, unless they saved something themselves within that time."""
    if user_id is not None:
        session.info[_READER] = user_id


def data_stamp(session: Session) -> Stamp:
    """What the data looks like now. Read once per transaction: a request asks several
    memoised questions, and its own writes (any statement but a SELECT, any flush) or the
    end of its transaction make the next question read it again."""
    found = session.info.get(_STAMP)
    if found is None:
        session.info[_STAMP_AT] = time.monotonic()
        found = session.info[_STAMP] = _read_stamp(session)
    return found  # type: ignore[no-any-return]


def _read_stamp(session: Session) -> Stamp:
    if session.get_bind().dialect.name == "sqlite":
        row = tuple(session.execute(SQLITE_STAMP_SQL).one())
        return Stamp(tuple(str(v) for v in row[:-1]), changes.Mark(int(row[-1] or 0)))
    structure = tuple(str(v) for v in session.execute(STRUCTURE_SQL).one())
    return Stamp(structure, changes.current_mark(session))


@event.listens_for(Session, "do_orm_execute")
def _forget_stamp_on_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_STAMP, None)


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_stamp(session: Session, *_: object) -> None:
    session.info.pop(_STAMP, None)


def memoized(session: Session, key: Hashable, compute: Callable[[], Computed[T]],
             refresh: Callable[[T, set[int]], Computed[T]] | None = None) -> T:
    """`compute()`'s answer for `key` (it returns the answer and its reach), reused while
    nothing in its reach changed; `refresh(old, indicator_ids)` updates an answer for the
    touched indicators only. Answers are shared between requests: treat them as read-only."""
    key = (bind_url(session), key)
    now = data_stamp(session)
    asked_at = session.info.get(_STAMP_AT, time.monotonic())
    entry = _memo.get(key)
    if entry is not None and entry.stamp == now:
        return entry.answer  # type: ignore[no-any-return]
    if entry is not None and _may_serve_stale(session, entry, now, asked_at):
        return entry.answer  # type: ignore[no-any-return]
    with _key_lock(key):
        # Another request may have brought the answer up to date meanwhile: for a
        # dashboard reader, the one it stored while this request waited will do if its data
        # was read at most stale_for() before this request began (readers queued behind one
        # recomputation share it).
        waited_for, entry = entry, _memo.get(key)
        if (entry is not None and entry is not waited_for
                and _may_serve_stale(session, entry, now, asked_at)):
            return entry.answer  # type: ignore[no-any-return]
        touched = _touched(session, entry, now)
        if entry is None or touched is None:
            answer, reach = compute()
        elif not touched:  # nothing within its reach was written
            answer, reach = entry.answer, entry.reach
        elif refresh is not None:
            answer, reach = refresh(entry.answer, touched)
        else:
            answer, reach = compute()
        _store(key, _Entry(now, answer, reach, asked_at))
        return answer


def _may_serve_stale(session: Session, entry: _Entry[Any], now: Stamp, asked_at: float
                     ) -> bool:
    """True when this reader may have `entry` although values changed since its data was
    read: a declared reader, the same structure, data read at most `stale_for()` before this
    request began, and no save of theirs it could lack."""
    reader = session.info.get(_READER)
    if reader is None or entry.stamp.structure != now.structure:
        return False
    if asked_at - entry.read_at > stale_for():
        return False
    return not _saved_lately(session, reader)


def _saved_lately(session: Session, user_id: int) -> bool:
    """Whether this user saved values within the staleness bound (every save writes an
    audit event, whichever server process took it)."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=stale_for() + WRITE_MARGIN)
    found = session.execute(select(AuditEvent.id).where(
        AuditEvent.actor_id == user_id, AuditEvent.at >= since,
        AuditEvent.object_type.in_(VALUE_WRITES)).limit(1)).first()
    return found is not None


def _touched(session: Session, entry: _Entry[Any] | None, now: Stamp) -> set[int] | None:
    """Indicators written within the entry's reach since it was computed (empty: none);
    None when that cannot be told (no entry, structure changed, change log too short or
    too busy)."""
    if entry is None or entry.stamp.structure != now.structure:
        return None
    if entry.stamp.mark == now.mark:
        return set()
    written = changes.changes_since(session, entry.stamp.mark)
    if written is None:
        return None
    return written.indicators_touching(entry.reach.unit_ids, entry.reach.indicator_ids)


def _store(key: Hashable, entry: _Entry[Any]) -> None:
    with _lock:
        _memo[key] = entry
        _memo.move_to_end(key)
        while len(_memo) > MAX_ENTRIES:
            _memo.popitem(last=False)


def _key_lock(key: Hashable) -> threading.Lock:
    with _lock:
        if len(_key_locks) > 4 * MAX_ENTRIES:
            _key_locks.clear()  # locks are cheap to recreate; holders keep theirs
        return _key_locks.setdefault(key, threading.Lock())


def clear() -> None:
    with _lock:
        _memo.clear()
        _key_locks.clear()

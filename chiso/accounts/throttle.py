"""Attempt counters in the database, each moved by one atomic SQL statement.

Counting in Python (read the count, add one, write it back) let 20 simultaneous wrong
passwords all be checked while the count ended at 2: each request read the same old value.
Here every count is a single `UPDATE … RETURNING` or `INSERT … ON CONFLICT DO UPDATE …
RETURNING`, so simultaneous requests — in one process or several, on SQLite or PostgreSQL —
each get their own number. Counts are taken *before* the password is checked (an attempt
is reserved), so a burst of guesses cannot all slip through while the first is being
verified.

Counters run on their own connection and commit at once: they must hold whatever happens to
the request's transaction, and they must not keep a row locked while a password is hashed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chiso.accounts.models import AuthThrottle, User
from chiso.db.base import utcnow


@contextmanager
def own_transaction(session: Session) -> Iterator[Connection]:
    """A short transaction beside the session's, on the same database, committed at once."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with engine.begin() as connection:
        yield connection


def hit(session: Session, key: str, *, limit: int, seconds: int) -> bool:
    """Count one attempt under `key` in a window of `seconds`; False when this attempt is
    beyond `limit` (it is counted all the same)."""
    now = utcnow()
    window_over = AuthThrottle.window_start < now - dt.timedelta(seconds=seconds)
    with own_transaction(session) as connection:
        insert = (postgresql.insert if connection.dialect.name == "postgresql"
                  else sqlite.insert)(AuthThrottle)
        statement = insert.values(key=key, attempts=1, window_start=now).on_conflict_do_update(
            index_elements=[AuthThrottle.key],
            set_={"attempts": case((window_over, 1), else_=AuthThrottle.attempts + 1),
                  "window_start": case((window_over, now), else_=AuthThrottle.window_start)},
        ).returning(AuthThrottle.attempts)
        attempts = connection.execute(statement).scalar_one()
    return attempts <= limit


def forget(session: Session, key: str) -> None:
    with own_transaction(session) as connection:
        connection.execute(delete(AuthThrottle).where(AuthThrottle.key == key))


def reserve_sign_in(session: Session, user_id: int) -> int | None:
    """Count a sign-in attempt on the account before its password is checked. Returns the
    attempt's number since the last success (1, 2, …), or None while the account is locked.
    An expired lock is lifted by the same statement and counting starts again."""
    now = utcnow()
    with own_transaction(session) as connection:
        return connection.execute(
            update(User).where(User.id == user_id,
                               or_(User.locked_until.is_(None), User.locked_until <= now))
            .values(failed_logins=case((User.locked_until.is_not(None), 1),
                                       else_=User.failed_logins + 1),
                    locked_until=None)
            .returning(User.failed_logins)).scalar_one_or_none()


def lock_account(session: Session, user_id: int, until: dt.datetime) -> None:
    with own_transaction(session) as connection:
        connection.execute(update(User).where(User.id == user_id).values(locked_until=until))


def clear_sign_in(session: Session, user_id: int) -> None:
    """A successful sign-in: the count starts again from zero."""
    with own_transaction(session) as connection:
        connection.execute(update(User).where(User.id == user_id)
                           .values(failed_logins=0, locked_until=None))

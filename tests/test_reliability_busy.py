"""A busy writer does not break readers (issue 12, M5): while another process holds SQLite's
write lock, API token reads still answer at once (a token's use is recorded later, outside
the request, at most once a minute), and a sign-in that must write is told to try again in
a few seconds (503) instead of crashing after the lock wait (500)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from chiso.accounts import usage
from chiso.accounts.access import Access, Action
from chiso.accounts.models import ApiToken, Role, User
from chiso.accounts.service import create_api_token
from chiso.db import new_session
from tests.conftest import submit


@contextmanager
def write_lock_held(db_url: str) -> Iterator[None]:
    """Another program in the middle of a long write transaction on the SQLite file."""
    other = sqlite3.connect(make_url(db_url).database, timeout=1, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # takes the write lock, as a long import does
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


@pytest.fixture
def sqlite_only(db_url: str) -> str:
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL readers never wait for writers (MVCC); the lock is SQLite's")
    return db_url


def _token(db_url: str, user_id: int) -> tuple[str, int]:
    db = new_session(db_url)
    owner = db.get(User, user_id)
    assert owner is not None
    secret, row = create_api_token(db, access=Access.system(db, "test"),
                                   user=owner, name="cổng một cửa",
                                   actions=[Action.READ, Action.ADMIN])
    db.commit()
    db.close()
    return secret, row.id


def _last_used(db_url: str, token_id: int):  # type: ignore[no-untyped-def]
    db = new_session(db_url)
    try:
        return db.get(ApiToken, token_id).last_used_at  # type: ignore[union-attr]
    finally:
        db.close()


def test_token_reads_answer_while_a_writer_holds_the_lock(sqlite_only: str, client,
                                                          make_user) -> None:
    admin, _ = make_user(Role.ADMIN)
    secret, token_id = _token(sqlite_only, admin.id)
    with write_lock_held(sqlite_only):
        for _ in range(3):
            started = time.monotonic()
            answer = client.get("/api/audit", headers={"Authorization": f"Bearer {secret}"})
            assert answer.status_code == 200, answer.text
            assert time.monotonic() - started < 5  # not the 10 s lock wait
    usage.flush()  # what the background recorder does every few seconds
    first = _last_used(sqlite_only, token_id)
    assert first is not None
    client.get("/api/audit", headers={"Authorization": f"Bearer {secret}"})
    usage.flush()
    assert _last_used(sqlite_only, token_id) == first  # at most once a minute


@pytest.mark.slow
def test_sign_in_while_locked_is_told_to_retry(sqlite_only: str, client, make_user) -> None:
    user, password = make_user(Role.VIEWER)
    with write_lock_held(sqlite_only):
        answer = submit(client, "/login", {"username": user.username, "password": password},
                        follow_redirects=False)
    assert answer.status_code == 503, answer.text[:300]
    assert answer.headers["retry-after"] == "5" and "thử lại" in answer.text
    assert submit(client, "/login", {"username": user.username, "password": password},
                  follow_redirects=False).status_code == 303

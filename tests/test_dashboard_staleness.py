"""Bounded staleness (docs/semantics.md §9): a leader's dashboard may be served an answer
whose data is at most the bound (`dashboard_stale_seconds`) older than their request,
whether or not another request is recomputing it (instead of queueing behind, or setting
off, a recomputation after every save); the officer who saved is never; past the bound the
answer is fresh; and nothing but the dashboard routes is ever given a stale answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.accounts.models import Role, User
from chiso.analytics import cache
from chiso.analytics.service import target_statuses
from chiso.db.engine import bind_url
from chiso.indicators.models import Indicator
from chiso.settings import reset_settings_cache
from chiso.values.service import save_value
from tests.conftest import login
from tests.test_dashboard_pages import province  # noqa: F401  (fixture)

STATUS = "/api/status?unit=20&year=2025"


def _actual(client: TestClient) -> float:
    answer = client.get(STATUS)
    assert answer.status_code == 200, answer.text
    return float(answer.json()["targets"][0]["actual"])


@contextmanager
def _recomputing(session, release_after: float | None = None) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """As if another request were recomputing the province's status answer: its lock is
    held (and let go after `release_after` seconds, for a request that must wait)."""
    lock = cache._key_lock((bind_url(session), ("status_json", "20", 2025, None)))
    lock.acquire()
    timer = threading.Timer(release_after, lock.release) if release_after else None
    if timer:
        timer.start()
    try:
        yield
    finally:
        if timer:
            timer.join()
        else:
            lock.release()


def _bound(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setenv("CHISO_DASHBOARD_STALE_SECONDS", str(seconds))
    reset_settings_cache()


@pytest.mark.slow
def test_writer_sees_own_save_at_once_others_within_the_bound(
        province, session, app, client, make_user, monkeypatch) -> None:  # noqa: F811
    # A bound far longer than the test takes, so timing on a busy machine cannot decide.
    _bound(monkeypatch, 600.0)
    leader, leader_pw = make_user(Role.LEADER)
    officer, officer_pw = make_user(Role.STANDING_OFFICE, unit_id=province["root"].id)
    login(client, leader.username, leader_pw)
    online = session.scalar(select(Indicator).where(Indicator.code == "CQS.HS_TRUC_TUYEN"))
    with TestClient(app) as writer:
        login(writer, officer.username, officer_pw)
        assert _actual(client) == 75.0 and _actual(writer) == 75.0
        save_value(session, unit_id=province["communes"][0].id, indicator_id=online.id,
                   period="202510", numerator=100.0, denominator=100.0,
                   access=Access(session, session.get(User, officer.id)))
        session.commit()
        saved = 250 / 300 * 100
        with _recomputing(session):
            assert _actual(client) == 75.0  # the leader is not kept waiting …
        with _recomputing(session, release_after=0.5):
            assert _actual(writer) == saved  # … the officer waits for their own save
        # Callers that declare no reader (reports, the CLI) always read it fresh.
        assert [s.actual for s in target_statuses(session, unit_code="20",
                                                  year=2025)] == [saved]
    assert _actual(client) == saved  # the officer's read brought the answer up to date
    save_value(session, unit_id=province["communes"][1].id, indicator_id=online.id,
               period="202510", numerator=0.0, denominator=100.0,
               access=Access.system(session, "test"))
    session.commit()
    with _recomputing(session):
        assert _actual(client) == saved  # within the bound, the answer as it stands …
    # … even when nobody is recomputing it: one recomputation per bound serves every
    # leader, however often officers save.
    assert _actual(client) == saved
    _bound(monkeypatch, 0.0)
    with _recomputing(session, release_after=0.5):
        assert _actual(client) == 250 / 400 * 100  # … past it, the leader waits for it

"""On PostgreSQL, two application processes serving at once behave like one: a session
opened on one is valid on the other and ends on both, a lockout counted on one holds on the
other, and simultaneous saves of one value through both give one winner and 409s."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from chiso.accounts.models import Role
from chiso.db import get_engine
from tests.accounts_support import make_indicator, make_units, two_servers_running
from tests.conftest import submit

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture
def two_servers(db_url: str, is_postgres: bool) -> Iterator[tuple[str, str]]:
    if not is_postgres:
        pytest.skip("several processes share one database only on PostgreSQL")
    yield from two_servers_running()


def _login(base: str, username: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    answer = submit(client, "/login", {"username": username, "password": password},
                    follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: httpx.Client) -> str:
    page = client.get("/account/password")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_sessions_and_lockout_are_shared(two_servers, make_user) -> None:
    a, b = two_servers
    user, password = make_user(Role.VIEWER)
    on_a = _login(a, user.username, password)
    on_b = httpx.Client(base_url=b, cookies=on_a.cookies, timeout=30)
    assert on_b.get("/account/password").status_code == 200  # the session from A works on B
    on_b.post("/logout", data={"csrf_token": _csrf(on_b)})
    assert on_a.get("/account/password", follow_redirects=False).status_code == 303
    locked, lpw = make_user(Role.VIEWER)
    with httpx.Client(base_url=a) as guesser, httpx.Client(base_url=b) as owner:
        for _ in range(5):
            submit(guesser, "/login", {"username": locked.username, "password": "x"})
        assert submit(owner, "/login", {"username": locked.username, "password": lpw}
                      ).status_code == 401


def test_simultaneous_saves_through_both_processes(two_servers, session, make_user, db_url
                                                    ) -> None:
    a, b = two_servers
    units = make_units(session)
    make_indicator(session)
    clients = []
    for i in range(4):
        officer, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
        client = _login(a if i % 2 else b, officer.username, password)
        clients.append((client, _csrf(client)))
    for version in range(4):
        start = threading.Barrier(len(clients))
        codes: list[int] = []

        def save(i: int, version: int = version, start: threading.Barrier = start,
                 codes: list[int] = codes) -> None:
            client, token = clients[i]
            start.wait()
            codes.append(client.post("/api/values", headers={"X-CSRF-Token": token}, json={
                "unit": "06187", "indicator": "CQS.HS_TRUC_TUYEN", "period": "2025Q3",
                "numerator": 100 * version + i, "denominator": 1000,
                "expected_version": version}).status_code)

        threads = [threading.Thread(target=save, args=(i,)) for i in range(len(clients))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(codes) == [200, 409, 409, 409], codes
    with get_engine(db_url).connect() as conn:
        versions = conn.execute(text(
            "SELECT v.version FROM data_value_version v JOIN data_value d "
            "ON d.id = v.data_value_id ORDER BY v.version")).scalars().all()
    assert versions == [1, 2, 3, 4]

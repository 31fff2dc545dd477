"""Officers saving the same figure at the same moment, through the real server: for each
round exactly one save wins, the others are told (409) with the current version, and the
history holds every accepted version — nothing silently lost."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import text

from chiso.accounts.models import Role
from chiso.db import get_engine
from tests.accounts_support import make_indicator, make_units
from tests.conftest import submit

WRITERS = 4
ROUNDS = 6


def _signed_in(base_url: str, username: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base_url, timeout=30)
    answer = submit(client, "/login", {"username": username, "password": password},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get("/account/password")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    return client, token


def _race(clients: list[tuple[httpx.Client, str]], body_for) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    start = threading.Barrier(len(clients))
    answers: list[httpx.Response | None] = [None] * len(clients)

    def save(i: int) -> None:
        client, token = clients[i]
        start.wait()
        answers[i] = client.post("/api/values", json=body_for(i),
                                 headers={"X-CSRF-Token": token})

    threads = [threading.Thread(target=save, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(a is not None for a in answers)
    return answers  # type: ignore[return-value]


@pytest.mark.slow
def test_concurrent_saves_one_wins_others_409_history_complete(live_server, session,
                                                                make_user, db_url) -> None:
    units = make_units(session)
    make_indicator(session)
    officers = [make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
                for _ in range(WRITERS)]
    clients = [_signed_in(live_server, user.username, password) for user, password in officers]

    def body(version: int):  # type: ignore[no-untyped-def]
        return lambda i: {"unit": "06187", "indicator": "CQS.HS_TRUC_TUYEN",
                          "period": "2025Q3", "numerator": 10 * version + i + 1,
                          "denominator": 1000, "expected_version": version}

    accepted: list[float] = []
    for version in range(ROUNDS):  # version 0 = the first save of a new value
        answers = _race(clients, body(version))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200] + [409] * (WRITERS - 1), [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 200).json()
        accepted.append(winner["numerator"])
        for loser in (a for a in answers if a.status_code == 409):
            # Told, in both languages; the version when the service saw the conflict
            # itself (a simultaneous first insert is caught by the unique key instead).
            assert " / " in loser.json()["detail"], loser.text
            assert loser.json().get("current_version", version + 1) == version + 1
    with get_engine(db_url).connect() as conn:
        current = conn.execute(text(
            "SELECT id, version, numerator FROM data_value WHERE unit_id = :u"),
            {"u": units.commune_a.id}).all()
        assert len(current) == 1
        history = conn.execute(text(
            "SELECT version, numerator FROM data_value_version WHERE data_value_id = :d "
            "ORDER BY version"), {"d": current[0].id}).all()
    assert current[0].version == ROUNDS
    assert [row.version for row in history] == list(range(1, ROUNDS + 1))
    assert [row.numerator for row in history] == accepted
    for client, _ in clients:
        client.close()

"""`chiso serve --workers 2`: each process memoises analytics answers on its own, yet every
answer is live — a value saved through one process shows on the next request, whichever
process answers it (the value change log tells each memo what changed)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.load import free_port, start_server, wait_ready
from chiso.accounts.models import Role
from tests.conftest import submit
from tests.test_dashboard_pages import province  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow  # real server processes


@pytest.fixture
def two_workers(province) -> Iterator[str]:  # noqa: F811
    port = free_port()
    process = start_server(port, workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)


def _status_actuals(base: str, cookies: httpx.Cookies, times: int) -> set[float]:
    """The province's actual, asked `times` times on fresh connections (so both worker
    processes answer some of them)."""
    seen = set()
    for _ in range(times):
        with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
            answer = client.get("/api/status?unit=20&year=2025")
            assert answer.status_code == 200, answer.text
            seen.add(round(answer.json()["targets"][0]["actual"], 6))
    return seen


def test_a_write_shows_on_every_worker(two_workers, province, make_user) -> None:  # noqa: F811
    base = two_workers
    user, password = make_user(Role.STANDING_OFFICE, unit_id=province["root"].id)
    client = httpx.Client(base_url=base, timeout=30)
    assert submit(client, "/login", {"username": user.username, "password": password}
                       ).status_code in (200, 303)
    token = client.get("/account/password").text.split(
        'name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert _status_actuals(base, client.cookies, 16) == {75.0}  # both memos warm
    for numerator in (100.0, 20.0, 60.0):
        saved = client.post("/api/values", headers={"X-CSRF-Token": token}, json={
            "unit": "06187", "indicator": "CQS.HS_TRUC_TUYEN", "period": "202509",
            "numerator": numerator, "denominator": 100})
        assert saved.status_code == 200, saved.text
        assert _status_actuals(base, client.cookies, 16) == {round((numerator + 90) / 2, 6)}

"""What schemathesis' `--checks all` run found that a client meets (issue 12): a route
hidden behind a word shared with an id, years that crashed the server, a target that did
not exist answering an empty history, a plan's targets answered but not described, and
parameters described as "any string" that only some strings fit."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from tests.conftest import login
from tests.tasks_support import build_world


@pytest.fixture
def officer(client, session: Session, make_user):  # type: ignore[no-untyped-def]
    """The standing office of a province with a plan, targets and tasks, signed in."""
    world = build_world(session)
    session.commit()
    user, password = make_user(Role.STANDING_OFFICE, unit_id=world.province.id)
    login(client, user.username, password)
    return client


def test_a_word_that_shares_a_path_with_an_id_reaches_its_own_route(officer) -> None:
    monthly = officer.get("/api/tasks/monthly", params={"month": "202509"})
    assert monthly.status_code == 200, monthly.text  # was 422: "monthly" taken for a task id
    assert isinstance(monthly.json(), list)
    for method, path in (("DELETE", "/api/values/import"), ("PUT", "/api/targets/in-force")):
        refused = officer.request(method, path)
        assert refused.status_code == 405, (path, refused.text)  # was 422 about an id
        assert method not in refused.headers["allow"]


@pytest.mark.parametrize("path", ["/api/dti/units/20?year=240339",
                                  "/api/dti/bottlenecks/20?year=30202733",
                                  "/api/dti/ranking?year=-5",
                                  "/api/meetings/committees?year=-1589"])
def test_a_year_outside_the_calendar_is_refused_not_a_crash(officer, path: str) -> None:
    answer = officer.get(path)
    assert answer.status_code == 422, answer.text  # was 500: the date library's error
    assert "year" in answer.json()["message_en"]


def test_the_history_of_a_target_that_does_not_exist_is_a_404(officer) -> None:
    for target_id in (0, 999_999):
        answer = officer.get(f"/api/targets/{target_id}/revisions")
        assert answer.status_code == 404, answer.text  # was 200 with []
        assert f"no target {target_id}" in answer.json()["message_en"]


def test_a_plans_targets_are_listed_where_they_are_added(officer) -> None:
    path = f"/api/plans/{quote('72-KH/BCĐ')}/targets"
    listed = officer.get(path)
    assert listed.status_code == 200, listed.text
    assert [t["indicator"] for t in listed.json()] == [
        t["indicator"] for t in officer.get(path.removesuffix("/targets")).json()["targets"]]
    assert len(listed.json()) == 3
    operations = officer.get("/api/openapi.json").json()["paths"]["/api/plans/{code}/targets"]
    assert set(operations) == {"get", "post"}  # as `Allow` says


def test_the_description_says_which_strings_fit(officer) -> None:
    paths = officer.get("/api/openapi.json").json()["paths"]

    def parameter(path: str, name: str, method: str = "get") -> dict:  # type: ignore[type-arg]
        return next(p for p in paths[path][method]["parameters"] if p["name"] == name)

    period = parameter("/api/collection/submissions", "period")["schema"]["anyOf"][0]
    assert period["pattern"].startswith("^(19|20|21)")
    assert parameter("/api/units", "on")["schema"]["anyOf"][0]["format"] == "date"
    assert set(parameter("/api/tasks", "status")["schema"]["anyOf"][0]["enum"]) >= {
        "overdue", "done_late"}
    export = paths["/api/values/export"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in export  # the CSV it sends was undocumented
    assert not any(path.startswith("/extract") for path in paths)  # pages are not the API


def test_a_data_set_takes_numbers_as_numbers(officer) -> None:
    """`false` among the reminder offsets was stored as a reminder on the due day."""
    from tests.accounts_support import csrf_of

    answer = officer.post("/api/collection/datasets", headers={"X-CSRF-Token": csrf_of(officer)},
                          json={"code": "BM_THU", "name_vi": "Biểu thử", "indicators": [],
                                "reminder_offsets": [False]})
    assert answer.status_code == 422, answer.text
    assert "reminder_offsets" in answer.text

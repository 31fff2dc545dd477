"""The same statuses through the service, the JSON API and `chiso status`."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from chiso.accounts.models import Role
from chiso.analytics import service
from chiso.cli.main import app as cli_app
from tests.analytics_world import build_world
from tests.conftest import login

DOSSIERS = "CQS.SO_HS"
HS = "CQS.HS_TRUC_TUYEN"
INCIDENTS = "CQS.SU_CO"
SUBSCRIBERS = "XHS.THUE_BAO"


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", "2025-07-02")
    reset_settings_cache()
    world = build_world(session)
    start = {"baseline_value": 0.0, "baseline_date": dt.date(2025, 1, 1)}
    world.target(DOSSIERS, 100.0, **start)  # actual 120: achieved
    world.target(HS, 100.0, **start)  # 48 %: on track
    world.target(INCIDENTS, 50.0, comparator="<=", baseline_value=100.0,
                 baseline_date=dt.date(2025, 1, 1))  # 90: off track
    world.target(SUBSCRIBERS, 100.0, **start)  # no data
    world.save([("20", DOSSIERS, "2025", None, None, 120), ("20", INCIDENTS, "2025", None,
                                                             None, 90),
                ("06102", HS, "202503", 48, 100, None)])
    return world


def test_api_returns_the_same_statuses_as_the_service(world, session, admin_client):
    response = admin_client.get("/api/status", params={"unit": "20", "year": 2025})
    assert response.status_code == 200, response.text
    body = response.json()
    expected = service.target_statuses(session, unit_code="20", year=2025)
    assert [(t["indicator_code"], t["status"]) for t in body["targets"]] == [
        (row.indicator_code, str(row.status)) for row in expected]
    assert {t["indicator_code"]: t["status"] for t in body["targets"]} == {
        DOSSIERS: "achieved", HS: "on_track", INCIDENTS: "off_track", SUBSCRIBERS: "no_data"}
    assert body["counts"] == {"achieved": 1, "on_track": 1, "at_risk": 0, "off_track": 1,
                              "no_data": 1}
    assert body["as_of"] == "2025-07-02"


def test_api_as_of_changes_the_expected_value(world, admin_client):
    body = admin_client.get("/api/status", params={"unit": "20", "year": 2025,
                                                   "as_of": "01/04/2025"}).json()
    hs = next(t for t in body["targets"] if t["indicator_code"] == HS)
    assert hs["expected"] == pytest.approx(100 * 90 / 364)
    assert (hs["actual"], hs["status"]) == (48.0, "on_track")


def test_series_and_breakdown_api(world, admin_client):
    series = admin_client.get("/api/series", params={
        "unit": "20", "indicator": HS, "year_from": 2025, "year_to": 2025,
        "period_type": "Q"}).json()["series"]
    assert [s["value"] for s in series] == [48.0, None, None, None]
    rows = admin_client.get("/api/breakdown", params={
        "unit": "20", "indicator": HS, "period": "2025Q1"}).json()["rows"]
    # Today's communes; the old commune's March figure shows under its successor.
    assert [(r["unit_code"], r["value"]) for r in rows] == [("06001", 48.0), ("06002", None)]
    bad = admin_client.get("/api/breakdown", params={"unit": "20", "indicator": HS,
                                                     "period": "2025X"})
    assert bad.status_code == 422


@pytest.mark.parametrize(("path", "params"), [
    ("/api/status", {"unit": "20", "year": 0}),
    ("/api/status", {"unit": "20", "year": 2025, "as_of": "31/02/2025"}),
    ("/api/series", {"unit": "20", "indicator": HS, "year_from": 2025, "year_to": 2024}),
    ("/api/breakdown", {"unit": "20", "indicator": HS, "period": "0000"}),
])
def test_api_rejects_bad_years_dates_and_periods(world, admin_client, path, params):
    response = admin_client.get(path, params=params)
    assert response.status_code == 422, response.text


def test_api_requires_sign_in_and_read_on_the_unit(world, client, make_user):
    assert client.get("/api/status", params={"unit": "20", "year": 2025}).status_code == 401
    user, password = make_user(Role.FOCAL_OFFICER, unit_id=world.units["06002"])
    login(client, user.username, password)
    denied = client.get("/api/status", params={"unit": "20", "year": 2025})
    assert denied.status_code == 403
    assert client.get("/api/status", params={"unit": "06002", "year": 2025}).json()[
        "targets"] == []


def test_chiso_status_shows_the_statuses_and_counts(world):
    result = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("Chính quyền số", "Xã hội số", "Chỉ tiêu CQS.SO_HS", "Đã đạt",
                 "Đúng tiến độ", "Chậm tiến độ", "Chưa có số liệu", "120,0",
                 "Đã đạt: 1", "Có nguy cơ chậm: 0"):
        assert text in result.output, result.output
    english = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025",
                                           "--lang", "en"], env={"COLUMNS": "200"})
    assert "On track" in english.output and "Expected on path" in english.output, \
        english.output


def test_chiso_status_names_an_unknown_unit_and_a_bad_date(world):
    result = CliRunner().invoke(cli_app, ["status", "--unit", "99999", "--year", "2025"])
    assert result.exit_code == 2
    assert "99999" in result.output
    bad_date = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--as-of", "32/13/2025"])
    assert bad_date.exit_code == 2
    assert "32/13/2025" in bad_date.output

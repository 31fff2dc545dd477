"""One status vocabulary per moment, values as known at an instant, illustrative figures —
through the service, the JSON API and `chiso status`."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from typer.testing import CliRunner

from chiso.analytics import service
from chiso.analytics.status import CLOSED_STATUSES, OPEN_STATUSES, Status
from chiso.cli.main import app as cli_app
from tests.analytics_world import build_world

DOSSIERS = "CQS.SO_HS"  # flow count, higher is better
HS = "CQS.HS_TRUC_TUYEN"  # flow ratio
INCIDENTS = "CQS.SU_CO"  # flow count, lower is better
SUBSCRIBERS = "XHS.THUE_BAO"  # stock count
FIBRE = "XHS.HO_CAP_QUANG"  # stock ratio
RUNNING_WORDS = ("Đã đạt", "Đúng tiến độ", "Có nguy cơ chậm", "Chậm tiến độ")


def _today(monkeypatch, day: str) -> None:  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", day)
    reset_settings_cache()


@pytest.fixture
def closed_year(session, monkeypatch):  # type: ignore[no-untyped-def]
    """2025 is over (today 1/2/2026): one target of each year-end word."""
    _today(monkeypatch, "2026-02-01")
    world = build_world(session)
    world.target(DOSSIERS, 100.0)  # 120: met
    world.target(HS, 80.0)  # 48 %: missed (in July it was on track)
    world.target(INCIDENTS, 5.0, comparator="<=")  # 9: missed
    world.target(FIBRE, 50.0)  # 0 households: not implemented
    world.target(SUBSCRIBERS, 10.0)  # nothing reported: no data
    world.save([("20", DOSSIERS, "2025", None, None, 120),
                ("06102", HS, "202503", 48, 100, None),
                ("20", INCIDENTS, "2025", None, None, 9),
                ("06001", FIBRE, "202512", 0, 500, None)])
    return world


def test_a_closed_year_speaks_year_end_words_only(closed_year, session):
    rows = {r.indicator_code: r for r in service.target_statuses(session, unit_code="20",
                                                                  year=2025)}
    assert {code: r.status for code, r in rows.items()} == {
        DOSSIERS: Status.MET, HS: Status.MISSED, INCIDENTS: Status.MISSED,
        FIBRE: Status.NOT_IMPLEMENTED, SUBSCRIBERS: Status.NO_DATA}
    assert all(r.closed and r.year_end == str(r.status) for r in rows.values())
    assert [s.label("vi") for s in CLOSED_STATUSES] == [
        "Đạt", "Không đạt", "Chưa triển khai", "Chưa có số liệu"]


def test_the_target_date_itself_closes_the_year(closed_year, session):
    """The Q4 report asks as of 31/12: the year is over, not 'at risk'."""
    rows = service.target_statuses(session, unit_code="20", year=2025,
                                   as_of=dt.date(2025, 12, 31))
    assert {r.status for r in rows} <= set(CLOSED_STATUSES)
    running = service.target_statuses(session, unit_code="20", year=2025,
                                      as_of=dt.date(2025, 12, 30))
    assert not any(r.closed for r in running)
    assert {r.status for r in running} <= set(OPEN_STATUSES)
    assert all(r.year_end is None for r in running)


def test_api_counts_a_closed_year_in_its_own_words(closed_year, admin_client):
    body = admin_client.get("/api/status", params={"unit": "20", "year": 2025}).json()
    assert body["closed"] is True
    assert body["counts"] == {"met": 1, "missed": 2, "not_implemented": 1, "no_data": 1}
    assert {t["status"] for t in body["targets"]} == {"met", "missed", "not_implemented",
                                                      "no_data"}
    assert all(t["closed"] for t in body["targets"])
    running = admin_client.get("/api/status", params={"unit": "20", "year": 2025,
                                                      "as_of": "02/07/2025"}).json()
    assert running["closed"] is False
    assert set(running["counts"]) == {"achieved", "on_track", "at_risk", "off_track",
                                      "no_data"}


def test_chiso_status_for_a_closed_year(closed_year):
    result = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "năm đã kết thúc" in result.output
    for text in ("Đạt: 1", "Không đạt: 2", "Chưa triển khai: 1", "Chưa có số liệu: 1"):
        assert text in result.output, result.output
    for word in RUNNING_WORDS:
        assert word not in result.output, result.output


# ----------------------------------------------------------------------------- known_at

@pytest.fixture
def history(session, monkeypatch):  # type: ignore[no-untyped-def]
    """Figures saved, then corrected and deleted after a report's cut-off."""
    _today(monkeypatch, "2025-10-20")
    world = build_world(session)
    world.target(DOSSIERS, 100.0, baseline_value=0.0, baseline_date=dt.date(2025, 1, 1))
    world.save([("06001", DOSSIERS, "202507", None, None, 30),
                ("06002", DOSSIERS, "202508", None, None, 20),
                ("06002", HS, "202509", 10, 20, None)])
    time.sleep(0.01)
    cutoff = dt.datetime.now(dt.UTC)
    time.sleep(0.01)
    world.save([("06001", DOSSIERS, "202507", None, None, 70),  # corrected upwards
                ("06001", DOSSIERS, "202509", None, None, 5),  # arrived late
                ("06002", HS, "202509", 15, 20, None)])
    world.delete("06002", DOSSIERS, "202508")
    return world, cutoff


def test_statuses_as_known_at_a_cutoff_ignore_later_changes(history, session):
    _, cutoff = history
    then = service.target_statuses(session, unit_code="20", year=2025,
                                   as_of=dt.date(2025, 9, 30), known_at=cutoff)
    now = service.target_statuses(session, unit_code="20", year=2025,
                                  as_of=dt.date(2025, 9, 30))
    assert [r.actual for r in then] == [50.0]  # 30 + 20, as stored at the cut-off
    assert [r.actual for r in now] == [75.0]  # 70 + 5; the August figure was deleted
    again = service.target_statuses(session, unit_code="20", year=2025,
                                    as_of=dt.date(2025, 9, 30), known_at=cutoff)
    assert again == then  # regenerating gives the same answer


def test_values_series_and_breakdown_as_known_at(history, session):
    _, cutoff = history
    assert service.rolled_up_value(session, unit_code="20", indicator_code=DOSSIERS,
                                   period="2025Q3", known_at=cutoff) == 50
    assert service.rolled_up_value(session, unit_code="20", indicator_code=DOSSIERS,
                                   period="2025Q3") == 75
    series = service.indicator_series(session, unit_code="20", indicator_code=DOSSIERS,
                                      year_from=2025, year_to=2025, known_at=cutoff)
    assert series["value"].to_list()[6:9] == [30.0, 20.0, None]
    breakdown = service.subunit_breakdown(session, unit_code="20", indicator_code=HS,
                                          period="2025", known_at=cutoff)
    assert breakdown.filter(unit_code="06002")["value"].to_list() == [50.0]
    current = service.subunit_breakdown(session, unit_code="20", indicator_code=HS,
                                        period="2025")
    assert current.filter(unit_code="06002")["value"].to_list() == [75.0]


def test_known_at_before_anything_was_stored_has_no_data(history, session):
    rows = service.target_statuses(session, unit_code="20", year=2025,
                                   known_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert [(r.actual, r.status) for r in rows] == [(None, Status.NO_DATA)]


# ----------------------------------------------------------------------------- illustrative

@pytest.fixture
def demo_figures(session, monkeypatch):  # type: ignore[no-untyped-def]
    """Commune A's figures are invented by the demo; commune B's are reported."""
    _today(monkeypatch, "2025-10-20")
    world = build_world(session)
    world.target(DOSSIERS, 100.0)
    world.target(SUBSCRIBERS, 100.0)
    world.target(FIBRE, 50.0)
    world.save([("06001", DOSSIERS, "202507", None, None, 30)], source="demo")
    world.save([("06001", FIBRE, "202507", 30, 100, None)], source="demo: bản demo")
    world.save([("06002", DOSSIERS, "202508", None, None, 20),
                ("06002", SUBSCRIBERS, "202508", None, None, 40)])
    return world


def test_an_actual_resting_on_demo_figures_is_illustrative(demo_figures, session):
    rows = {r.indicator_code: r for r in service.target_statuses(session, unit_code="20",
                                                                  year=2025)}
    assert rows[DOSSIERS].illustrative  # 30 invented + 20 reported
    assert rows[FIBRE].illustrative
    assert not rows[SUBSCRIBERS].illustrative  # reported only
    series = service.indicator_series(session, unit_code="20", indicator_code=DOSSIERS,
                                      year_from=2025, year_to=2025)
    assert series["illustrative"].to_list()[6:9] == [True, False, False]
    breakdown = service.subunit_breakdown(session, unit_code="20", indicator_code=DOSSIERS,
                                          period="2025")
    assert breakdown.select("unit_code", "illustrative").rows() == [("06001", True),
                                                                    ("06002", False)]


def test_a_reported_own_figure_is_not_illustrative(demo_figures, session):
    """The province's own reported total beats the communes' (invented) sum."""
    demo_figures.save([("20", DOSSIERS, "2025", None, None, 90)])
    rows = {r.indicator_code: r for r in service.target_statuses(session, unit_code="20",
                                                                  year=2025)}
    assert (rows[DOSSIERS].actual, rows[DOSSIERS].illustrative) == (90.0, False)


def test_api_and_cli_mark_illustrative_figures(demo_figures, admin_client):
    body = admin_client.get("/api/status", params={"unit": "20", "year": 2025}).json()
    assert body["illustrative"] is True
    assert {t["indicator_code"]: t["illustrative"] for t in body["targets"]} == {
        DOSSIERS: True, FIBRE: True, SUBSCRIBERS: False}
    result = CliRunner().invoke(cli_app, ["status", "--unit", "20", "--year", "2025"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "50,0*" in result.output and "40,0*" not in result.output
    assert "Số liệu minh họa" in result.output

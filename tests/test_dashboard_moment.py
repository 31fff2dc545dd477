"""The overview and indicator pages speak the moment's words, say when a year is over, mark
illustrative figures and flag figures that could not enter a total."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chiso.accounts.models import Role
from tests.analytics_world import build_world
from tests.conftest import browser_login, login

DOSSIERS = "CQS.SO_HS"
HS = "CQS.HS_TRUC_TUYEN"
FIBRE = "XHS.HO_CAP_QUANG"
SUBSCRIBERS = "XHS.THUE_BAO"
SCREENS = Path("/tmp/screens/analytics")


def _today(monkeypatch, day: str) -> None:  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", day)
    reset_settings_cache()


def _province(session):  # type: ignore[no-untyped-def]
    world = build_world(session)
    world.target(DOSSIERS, 100.0)
    world.target(HS, 80.0)
    world.target(FIBRE, 50.0)
    world.target(SUBSCRIBERS, 10.0)
    world.save([("20", DOSSIERS, "2025", None, None, 120),
                ("06102", HS, "202503", 48, 100, None),
                ("06101", FIBRE, "202506", 0, 500, None)])
    return world


@pytest.fixture
def closed_year(session, monkeypatch):  # type: ignore[no-untyped-def]
    _today(monkeypatch, "2026-02-01")
    return _province(session)


def _tiles(html: str) -> list[str]:
    return re.findall(r'class="status-tile[^"]*" data-status="([a-z_]+)"', html)


def test_overview_of_a_closed_year_says_so_and_counts_year_end_words(closed_year, client,
                                                                   make_user):
    user, password = make_user(Role.VIEWER, unit_id=closed_year.units["20"])
    login(client, user.username, password)
    page = client.get("/units/20/overview?year=2025")
    assert page.status_code == 200, page.text
    assert "Năm 2025 đã kết thúc" in page.text
    assert _tiles(page.text) == ["met", "missed", "not_implemented", "no_data"]
    for label in ("Đạt", "Không đạt", "Chưa triển khai", "Chưa có số liệu"):
        assert f'<span class="label">{label}</span>' in page.text
    for word in ("Đúng tiến độ", "Có nguy cơ chậm", "Chậm tiến độ", "Đã đạt"):
        assert word not in page.text
    english = client.get("/units/20/overview?year=2025&lang=en")
    assert "The year 2025 is over" in english.text and "Not implemented" in english.text


def test_overview_of_a_running_year_keeps_the_running_words(session, monkeypatch, client,
                                                          make_user):
    _today(monkeypatch, "2025-07-02")
    world = _province(session)
    user, password = make_user(Role.VIEWER, unit_id=world.units["20"])
    login(client, user.username, password)
    page = client.get("/units/20/overview?year=2025")
    assert _tiles(page.text) == ["achieved", "on_track", "at_risk", "off_track", "no_data"]
    assert "đã kết thúc" not in page.text


def test_indicator_page_of_a_closed_year(closed_year, client, make_user):
    user, password = make_user(Role.VIEWER, unit_id=closed_year.units["20"])
    login(client, user.username, password)
    page = client.get(f"/units/20/indicators/{HS}?year=2025")
    assert page.status_code == 200
    assert "Năm 2025 đã kết thúc" in page.text
    assert 'class="badge status-missed">Không đạt<' in page.text


def test_pages_band_illustrative_figures(session, monkeypatch, client, make_user):
    _today(monkeypatch, "2025-10-20")
    world = _province(session)
    user, password = make_user(Role.VIEWER, unit_id=world.units["20"])
    login(client, user.username, password)
    band = "<b>Số liệu minh họa</b>"  # the band, in the reader's language
    assert band not in client.get("/units/20/overview?year=2025").text
    world.save([("06002", HS, "202509", 40, 100, None)], source="demo")
    overview = client.get("/units/20/overview?year=2025").text
    assert band in overview
    row = re.search(rf'<tr data-indicator="{HS}".*?</tr>', overview, re.S)
    assert row and "minh họa" in row.group(0)
    indicator = client.get(f"/units/20/indicators/{HS}?year=2025").text
    assert band in indicator
    assert re.search(r'data-unit="06002".*?minh họa', indicator, re.S)
    assert band not in client.get(f"/units/20/indicators/{DOSSIERS}?year=2025").text


def test_a_percentage_without_parts_is_flagged_not_dropped(session, monkeypatch, client,
                                                          make_user, admin_client):
    _today(monkeypatch, "2025-10-20")
    world = _province(session)
    world.save([("06002", HS, "202509", None, None, 90.0)])  # a percentage only
    user, password = make_user(Role.VIEWER, unit_id=world.units["20"])
    login(client, user.username, password)
    notice = "chỉ có tỷ lệ %, không có tử số và mẫu số"
    overview = client.get("/units/20/overview?year=2025").text
    assert notice in overview and "1 số liệu không cộng được" in overview
    indicator = client.get(f"/units/20/indicators/{HS}?year=2025").text
    assert notice in indicator
    assert re.search(r'data-unit="06002" data-left-out="1">.*?90,0.*?không cộng vào tổng',
                     indicator, re.S)
    body = admin_client.get("/api/breakdown", params={"unit": "20", "indicator": HS,
                                                      "period": "2025"}).json()
    assert body["not_aggregatable"] == 1
    assert {r["unit_code"]: r["not_aggregatable"] for r in body["rows"]} == {
        "06001": 0, "06002": 1}
    status = admin_client.get("/api/status", params={"unit": "20", "year": 2025}).json()
    assert status["not_aggregatable"] == 1
    assert [t["not_aggregatable"] for t in status["targets"]
            if t["indicator_code"] == HS] == [1]


@pytest.mark.browser
def test_browser_closed_year_overview(closed_year, live_server, page, make_user):
    closed_year.save([("06002", HS, "202509", 40, 100, None)], source="demo")
    user, password = make_user(Role.LEADER)
    browser_login(page, live_server, user.username, password)
    SCREENS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 768), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server}/units/20/overview?year=2025")
        page.wait_for_selector("#status-donut svg")
        assert page.locator(".year-closed").is_visible()
        assert page.locator(".illustrative-band").is_visible()
        page.screenshot(path=str(SCREENS / f"overview-2025-closed-{width}.png"),
                        full_page=True)
    assert page.locator(".status-tile").count() == 4
    page.goto(f"{live_server}/units/20/indicators/{HS}?year=2025")
    page.wait_for_selector("#trend-chart svg")
    page.screenshot(path=str(SCREENS / "indicator-2025-closed-390.png"), full_page=True)

"""Lineage that never undercounts (issue 11, item 5): a unit's own reported total replaces
only its own sub-units' sum, never its siblings' — absorbed districts, merged provinces,
split communes — through the JSON API, the status and the indicator page."""

from __future__ import annotations

import re

import pytest

from chiso.accounts.models import Role
from chiso.analytics import service
from chiso.units.models import OrgUnit, UnitLineage
from tests.analytics_world import BEFORE, REFORM, World, _unit, build_world
from tests.conftest import login

DOSSIERS = "CQS.SO_HS"  # count, summed over units
HS = "CQS.HS_TRUC_TUYEN"  # ratio of sums


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", "2025-12-31")
    reset_settings_cache()
    return build_world(session)


def _yearly(client, unit: str, indicator: str, year: int) -> float | None:  # type: ignore[no-untyped-def]
    body = client.get("/api/series", params={"unit": unit, "indicator": indicator,
                                             "year_from": year, "year_to": year,
                                             "period_type": "Y"}).json()
    return body["series"][0]["value"]


def test_an_absorbed_districts_figure_adds_to_its_siblings(world, admin_client, session):
    """District 178 reported 4, the other district's commune 6: the province had 10."""
    world.save([("178", DOSSIERS, "2024", None, None, 4),
                ("06201", DOSSIERS, "2024", None, None, 6)])
    assert _yearly(admin_client, "20", DOSSIERS, 2024) == 10
    world.target(DOSSIERS, 12.0, year=2024)
    [row] = service.target_statuses(session, unit_code="20", year=2024)
    assert (row.actual, row.status) == (10.0, "missed")


def test_a_district_replaces_only_its_own_communes_and_only_when_it_reported(
        world, admin_client):
    """178 reported the first quarter (4); its commune X every month (1 each); commune Z of
    the other district the year (6). The province: 4 for Q1, X's April–December, Z."""
    world.save([("178", DOSSIERS, "2024Q1", None, None, 4),
                ("06201", DOSSIERS, "2024", None, None, 6)]
               + [("06101", DOSSIERS, f"2024{m:02d}", None, None, 1) for m in range(1, 13)])
    assert _yearly(admin_client, "20", DOSSIERS, 2024) == 4 + 9 + 6
    assert _yearly(admin_client, "06001", DOSSIERS, 2024) == 12  # X's months, all shown
    rows = admin_client.get("/api/breakdown", params={"unit": "20", "indicator": DOSSIERS,
                                                      "period": "2024"}).json()["rows"]
    assert [(r["unit_code"], r["value"], r["former"], r["replaced"]) for r in rows] == [
        ("06001", 12.0, False, True), ("06002", 6.0, False, False),
        ("178", 4.0, True, False)]


def test_a_ratio_over_an_absorbed_district_is_a_ratio_of_all_sums(world, admin_client):
    world.save([("178", HS, "2024", 40, 100, None), ("06201", HS, "2024", 30, 50, None),
                ("06101", HS, "2024", 99, 100, None)])  # replaced by its district's own
    assert _yearly(admin_client, "20", HS, 2024) == pytest.approx(70 / 150 * 100)


def test_the_provinces_own_figure_still_wins(world, admin_client):
    world.save([("178", DOSSIERS, "2024", None, None, 4),
                ("06201", DOSSIERS, "2024", None, None, 6),
                ("20", DOSSIERS, "2024", None, None, 50)])
    assert _yearly(admin_client, "20", DOSSIERS, 2024) == 50


def test_a_split_commune_counts_once(world, admin_client, session):
    """Commune S of district 179 was split over A (primary) and B: its figure follows the
    primary successor and enters the province once."""
    split = _unit(session, "06202", "Xã Khuất Xá (cũ)", "xa", _by_code(world, "179"),
                  valid_to=BEFORE)
    session.add_all([
        UnitLineage(predecessor_id=split.id, successor_id=world.units["06001"],
                    event_date=REFORM, kind="split", share=0.6, is_primary=True),
        UnitLineage(predecessor_id=split.id, successor_id=world.units["06002"],
                    event_date=REFORM, kind="split", share=0.4, is_primary=False)])
    session.commit()
    world.units["06202"] = split.id
    world.save([("06202", DOSSIERS, "2024", None, None, 8),
                ("06201", DOSSIERS, "2024", None, None, 6)])
    assert _yearly(admin_client, "06001", DOSSIERS, 2024) == 8
    assert _yearly(admin_client, "06002", DOSSIERS, 2024) == 6
    assert _yearly(admin_client, "20", DOSSIERS, 2024) == 14


def _by_code(world: World, code: str) -> OrgUnit | None:
    return world.session.get(OrgUnit, world.units[code])


def _merged_provinces(world: World) -> None:
    """Provinces 10 and 11 merged into 12 on 1/7/2025; their communes 10001 and 11001 into
    12001, 10002 into 12002."""
    session = world.session
    old_one = _unit(session, "10", "Tỉnh Một (cũ)", "tinh", None, valid_to=BEFORE)
    old_two = _unit(session, "11", "Tỉnh Hai (cũ)", "tinh", None, valid_to=BEFORE)
    new = _unit(session, "12", "Tỉnh Mới", "tinh", None, valid_from=REFORM)
    communes = {
        "10001": _unit(session, "10001", "Xã Một A (cũ)", "xa", old_one, valid_to=BEFORE),
        "10002": _unit(session, "10002", "Xã Một B (cũ)", "xa", old_one, valid_to=BEFORE),
        "11001": _unit(session, "11001", "Xã Hai A (cũ)", "xa", old_two, valid_to=BEFORE),
        "12001": _unit(session, "12001", "Xã Mới A", "xa", new, valid_from=REFORM),
        "12002": _unit(session, "12002", "Xã Mới B", "xa", new, valid_from=REFORM),
    }
    links = [("10", "12"), ("11", "12"), ("10001", "12001"), ("11001", "12001"),
             ("10002", "12002")]
    units = {"10": old_one, "11": old_two, "12": new, **communes}
    session.add_all([UnitLineage(predecessor_id=units[a].id, successor_id=units[b].id,
                                 event_date=REFORM, kind="merge") for a, b in links])
    session.commit()
    world.units.update({code: unit.id for code, unit in units.items()})


def test_merged_provinces_each_count_their_own_part(world, admin_client):
    """Province 10 reported its own 2024 total (100; its communes' 50 + 5 are in it);
    province 11 did not, its commune reported 30: the new province had 130."""
    _merged_provinces(world)
    world.save([("10", DOSSIERS, "2024", None, None, 100),
                ("10001", DOSSIERS, "2024", None, None, 50),
                ("10002", DOSSIERS, "2024", None, None, 5),
                ("11001", DOSSIERS, "2024", None, None, 30)])
    assert _yearly(admin_client, "12", DOSSIERS, 2024) == 130
    assert _yearly(admin_client, "12001", DOSSIERS, 2024) == 80  # 50 + 30, as merged
    world.save([("12001", DOSSIERS, "202509", None, None, 7),
                ("12002", DOSSIERS, "202510", None, None, 3)])
    assert _yearly(admin_client, "12", DOSSIERS, 2025) == 10  # after the merger: communes


def test_indicator_page_lists_the_former_district(world, client, make_user):
    world.save([("178", DOSSIERS, "2024Q1", None, None, 4),
                ("06201", DOSSIERS, "2024", None, None, 6)]
               + [("06101", DOSSIERS, f"2024{m:02d}", None, None, 1) for m in range(1, 13)])
    user, password = make_user(Role.VIEWER, unit_id=world.units["20"])
    login(client, user.username, password)
    page = client.get(f"/units/20/indicators/{DOSSIERS}?year=2024").text
    former = re.search(r'<tr data-unit="178".*?</tr>', page, re.S)
    assert former and "Huyện Cao Lộc" in former.group(0) and "đơn vị cũ" in former.group(0)
    replaced = re.search(r'<tr data-unit="06001".*?</tr>', page, re.S)
    assert replaced and "tính qua số của đơn vị cũ" in replaced.group(0)

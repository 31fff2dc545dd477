"""Estimates (ước) beside the official figure, and cumulative periods (9 tháng, 11 tháng,
lũy kế từ đầu năm) through the API, the import and the status a leader reads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.analytics.service import target_statuses
from chiso.db import new_session
from chiso.indicators.models import Indicator
from chiso.plans.models import Plan, Target
from chiso.settings import reset_settings_cache
from chiso.values.models import DataValue, DataValueVersion
from chiso.values.service import ValueRejected, save_value
from tests.conftest import login


@pytest.fixture
def world(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2026-02-10")
    reset_settings_cache()
    session = new_session(db_url)
    built = build_world(session)
    session.commit()
    session.close()
    return built


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/values/import")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:300]
    return match.group(1)


@pytest.fixture
def officer(client, make_user, world):  # type: ignore[no-untyped-def]
    user, password = make_user(Role.FOCAL_OFFICER, unit_id=world.province.id)
    login(client, user.username, password)
    return {"X-CSRF-Token": _csrf(client)}


def _listed(client, **params):  # type: ignore[no-untyped-def]
    answer = client.get("/api/values", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_estimate_replaced_by_the_official_figure_keeps_both(client, officer, world
                                                               ) -> None:
    """November: 'ước thực hiện năm 2025' is 1.150; February: the official figure is 1.180.
    Both stay visible; the estimate cannot overwrite the official figure afterwards."""
    body = {"unit": "20", "indicator": "CQS.SO_DVCTT", "period": "Ước thực hiện năm 2025",
            "value": "1.150"}
    estimate = client.post("/api/values", json=body, headers=officer)
    assert estimate.status_code == 200, estimate.text
    assert (estimate.json()["period"], estimate.json()["estimate"],
            estimate.json()["value"]) == ("2025", True, 1150)
    official = client.post("/api/values", json={**body, "period": "Năm 2025",
                                                "value": "1.180"}, headers=officer)
    assert official.status_code == 200, official.text
    [row] = _listed(client, unit="20", period="2025")
    assert (row["value"], row["estimate"], row["estimate_value"]) == (1180, False, 1150)
    history = client.get(f"/api/values/{row['id']}/history").json()["versions"]
    assert [(v["value"], v["estimate"]) for v in history] == [(1150, True), (1180, False)]
    again = client.post("/api/values", json=body, headers=officer)
    assert again.status_code == 200 and again.json()["version"] == 2  # nothing changed
    other = client.post("/api/values", json={**body, "value": "1.300"}, headers=officer)
    assert other.status_code == 422, other.text
    assert other.json()["issues"][0]["rule"] == "official_exists"
    assert "chính thức" in other.json()["message_vi"]
    assert [r["value"] for r in _listed(client, unit="20", period="2025")] == [1180]


def _target_of_1200(session, world) -> Access:  # type: ignore[no-untyped-def]
    """A yearly target of ≥ 1.200 on CQS.SO_DVCTT at the province."""
    plan = Plan(code="01/KH-TEST", title="Kế hoạch thử", year_from=2025, year_to=2025,
                scope_unit_id=world.province.id)
    session.add(plan)
    session.flush()
    session.add(Target(plan_id=plan.id, indicator_id=world.count.id, unit_id=world.province.id,
                       year=2025, target_date=dt.date(2025, 12, 31), comparator=">=",
                       value=1200.0))
    session.flush()
    return Access.system(session, "test")


def test_the_status_is_computed_from_the_official_figure_once_it_exists(session, world
                                                                       ) -> None:
    access = _target_of_1200(session, world)
    save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
               period="2025", value=1250, estimate=True, access=access)
    session.commit()
    [estimated] = target_statuses(session, unit_code="20", year=2025)
    assert (estimated.actual, str(estimated.status)) == (1250, "met")
    save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
               period="2025", value=1180, access=access)
    session.commit()
    [official] = target_statuses(session, unit_code="20", year=2025)
    assert (official.actual, str(official.status)) == (1180, "missed")
    with pytest.raises(ValueRejected):
        save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
                   period="2025", value=1300, estimate=True, access=access)


IMPORT = ("Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Tử số,Mẫu số,Giá trị,Ước\n"
          "20,CQS.SO_DVCTT,9 tháng đầu năm 2025,,,950,\n"
          "20,CQS.HS_TRUC_TUYEN,Lũy kế từ đầu năm đến tháng 11/2025,\"8.800\",\"10.000\",,x\n"
          "20,CQS.CO_IOC,Ước thực hiện năm 2025,,,1,\n")


def test_nine_months_and_year_to_date_for_a_flow_and_a_ratio_are_imported_and_listed(
        client, officer, world) -> None:
    answer = client.post("/api/values/import?dry_run=false", files={
        "file": ("bao-cao.csv", IMPORT.encode(), "text/csv")}, headers=officer)
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"]["inserted"] == 3, answer.text
    listed = _listed(client, unit="20")
    rows = {r["indicator_code"]: r for r in listed}
    assert len(rows) == 3, (listed, answer.text)
    assert (rows["CQS.SO_DVCTT"]["period"], rows["CQS.SO_DVCTT"]["estimate"]) == (
        "2025C09", False)
    ratio = rows["CQS.HS_TRUC_TUYEN"]
    assert (ratio["period"], ratio["value"], ratio["estimate"]) == ("2025C11", 88.0, True)
    assert (rows["CQS.CO_IOC"]["period"], rows["CQS.CO_IOC"]["estimate"]) == ("2025", True)
    by_words = _listed(client, unit="20", period="Lũy kế 11 tháng năm 2025")
    assert [r["indicator_code"] for r in by_words] == ["CQS.HS_TRUC_TUYEN"]


def test_a_word_that_is_neither_estimate_nor_official_names_its_cell(client, officer,
                                                                     world) -> None:
    text = IMPORT.replace("2025,\"8.800\",\"10.000\",,x", "2025,\"8.800\",\"10.000\",,có lẽ")
    answer = client.post("/api/values/import", files={
        "file": ("bao-cao.csv", text.encode(), "text/csv")}, headers=officer)
    body = answer.json()
    assert answer.status_code == 422 and body["counts"]["inserted"] == 0, answer.text
    [error] = body["errors"]
    assert (error["row"], error["column"], error["rule"]) == (3, "estimate", "estimate_flag")
    assert "'có lẽ'" in error["text"]


def _flow_world(session, world):  # type: ignore[no-untyped-def]
    """The target of 1.200 on CQS.SO_DVCTT, made a flow here (a total built from months)."""
    session.get(Indicator, world.count.id).time_aggregation = "sum"
    return _target_of_1200(session, world)


def test_a_nine_month_total_is_the_years_figure_at_the_end_of_september(session, world
                                                                        ) -> None:
    access = _flow_world(session, world)
    save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
               period="9 tháng đầu năm 2025", value=950, access=access)
    for month in range(1, 8):  # monthly figures up to July only
        save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
                   period=f"2025{month:02d}", value=100, access=access)
    session.commit()
    [september] = target_statuses(session, unit_code="20", year=2025,
                                  as_of=dt.date(2025, 9, 30))
    assert september.actual == 950  # the reported 9-month figure, not 7 × 100
    [march] = target_statuses(session, unit_code="20", year=2025, as_of=dt.date(2025, 3, 31))
    assert march.actual == 300  # the 9-month figure had not happened yet
    for month in range(8, 11):
        save_value(session, unit_id=world.province.id, indicator_id=world.count.id,
                   period=f"2025{month:02d}", value=100, access=access)
    session.commit()
    [october] = target_statuses(session, unit_code="20", year=2025,
                                as_of=dt.date(2025, 10, 31))
    assert october.actual == 1000  # months reaching October beat the 9-month figure


def test_versions_say_which_figure_was_an_estimate(session, world) -> None:
    access = Access.system(session, "test")
    save_value(session, unit_id=world.province.id, indicator_id=world.ratio.id,
               period="2025C11", numerator=880, denominator=1000, estimate=True, access=access)
    save_value(session, unit_id=world.province.id, indicator_id=world.ratio.id,
               period="2025C11", numerator=870, denominator=1000, access=access)
    session.flush()
    stored = session.scalar(select(DataValue))
    assert stored is not None
    assert (stored.value, stored.estimate, stored.estimate_value) == (87.0, False, 88.0)
    assert (stored.estimate_numerator, stored.estimate_denominator) == (880, 1000)
    versions = session.scalars(select(DataValueVersion.estimate).order_by(
        DataValueVersion.version)).all()
    assert versions == [True, False]


def test_a_breakdown_for_a_cumulative_period_adds_up_its_months(client, make_user, world,
                                                                session) -> None:
    """A span is rolled up over its months (tests/test_analytics_cumulative.py holds the
    rules): '9 tháng đầu năm 2025' answers each commune's January–September figure."""
    access = Access.system(session, "test")
    for month in (3, 9, 10):
        save_value(session, unit_id=world.commune_a.id, indicator_id=world.ratio.id,
                   period=f"2025{month:02d}", numerator=month, denominator=10, access=access)
    session.commit()
    leader, password = make_user(Role.LEADER)
    login(client, leader.username, password)
    answer = client.get("/api/breakdown", params={
        "unit": "20", "indicator": "CQS.HS_TRUC_TUYEN", "period": "9 tháng đầu năm 2025"})
    assert answer.status_code == 200, answer.text
    rows = {r["unit_code"]: r for r in answer.json()["rows"]}
    assert (rows["06001"]["numerator"], rows["06001"]["denominator"]) == (12, 20)

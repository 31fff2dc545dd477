"""The "ước" (estimate) mark beside an actual, on every surface, is the status's own flag:
true exactly when an estimate is among the figures the actual was computed from
(docs/semantics.md, estimates). The report and the exchange feed once worked it out again
from the stored values, with other windows: they missed the year's own estimate and a
merged-in commune's, and marked an official figure that had beaten a commune's estimate."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import values_support
from openpyxl import load_workbook

from chiso.accounts.access import Access
from chiso.analytics import service
from chiso.exchange.feed import build_feed
from chiso.plans.models import Plan, Target
from chiso.reports.annex import build_annex
from chiso.reports.data import gather
from chiso.reports.sentences import actual_text
from chiso.settings import reset_settings_cache
from chiso.units.models import OrgUnit, UnitLineage
from chiso.values.service import save_value, upsert_values
from tests.analytics_world import BEFORE, REFORM, World, build_world

SUBSCRIBERS = "XHS.THUE_BAO"


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2026-02-01")
    reset_settings_cache()
    yield build_world(session)
    reset_settings_cache()


def _estimate(session, world: World, unit_id: int, period: str, value: float,  # type: ignore[no-untyped-def]
              recorded_at: dt.datetime) -> None:
    upsert_values(session, [{"unit_id": unit_id, "indicator_id": world.indicators[SUBSCRIBERS],
                             "period": period, "numerator": None, "denominator": None,
                             "value": value, "estimate": True}],
                  source="form", access=Access.system(session, "test"), recorded_at=recorded_at)
    session.commit()


def _annex_notes(data) -> list[str]:  # type: ignore[no-untyped-def]
    """The "Ghi chú" column of the annex's targets sheet, read back from the XLSX file."""
    sheet = load_workbook(io.BytesIO(build_annex(data)))["Chỉ tiêu"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if "Ghi chú" in row)
    column = rows[header].index("Ghi chú")
    return [str(row[column] or "") for row in rows[header + 1:] if any(row)]


def _q3_report_row(session):  # type: ignore[no-untyped-def]
    data = gather(session, unit_code="20", kind="quarterly", period="2025Q3",
                  today=dt.date(2026, 2, 1), closing_date=dt.date(2025, 10, 12))
    return data, {s.indicator_code: s for s in data.statuses}[SUBSCRIBERS]


def test_a_report_marks_the_years_own_estimate(world, session) -> None:
    # "Ước thực hiện năm 2025", sent on 5/10/2025: the Q3 report (closed 12/10) judges the
    # target on it. The year's figure ends on 31/12, after the cut-off day.
    _estimate(session, world, world.units["20"], "2025", 900.0,
              dt.datetime(2025, 10, 5, 3, 0, tzinfo=dt.UTC))
    world.target(SUBSCRIBERS, 1000.0)
    data, status = _q3_report_row(session)
    assert (status.actual, status.estimate) == (900, True)
    assert actual_text(data, status).startswith("ước")
    assert _annex_notes(data) == ["ước"]


def _merged_in_commune(session, world: World) -> OrgUnit:  # type: ignore[no-untyped-def]
    """Province 21 merged into 20 on 1/7/2025, its commune W (07001) into commune B (06002):
    W's figures are in B's timeline (docs/semantics.md §1), so in 20's totals."""
    old = OrgUnit(code="21", name="Tỉnh cũ", kind="tinh", parent_id=None, valid_to=BEFORE)
    session.add(old)
    session.flush()
    w = OrgUnit(code="07001", name="Xã W (cũ)", kind="xa", parent_id=old.id, valid_to=BEFORE)
    session.add(w)
    session.flush()
    session.add_all([
        UnitLineage(predecessor_id=old.id, successor_id=world.units["20"], event_date=REFORM,
                    kind="absorb"),
        UnitLineage(predecessor_id=w.id, successor_id=world.units["06002"], event_date=REFORM,
                    kind="merge")])
    session.commit()
    return w


def test_the_report_and_the_feed_mark_a_merged_in_communes_estimate(world, session) -> None:
    w = _merged_in_commune(session, world)
    world.save([("06001", SUBSCRIBERS, "202509", None, None, 100.0)])
    _estimate(session, world, w.id, "202506", 50.0, dt.datetime(2025, 7, 5, 3, 0, tzinfo=dt.UTC))
    world.target(SUBSCRIBERS, 1000.0)
    data, status = _q3_report_row(session)
    assert (status.actual, status.estimate) == (50, True)  # A's figure came after the cut-off
    assert actual_text(data, status).startswith("ước")
    feed = build_feed(session, unit_code="20", access=Access.system(session, "test"),
                      as_of=dt.date(2025, 10, 20), year=2025)
    kpi = {k["indicator_code"]: k for k in feed.kpis}[SUBSCRIBERS]
    assert (kpi["actual"], kpi["actual_estimate"]) == (150, True)


@pytest.fixture
def province(db_url, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2026-02-10")
    reset_settings_cache()
    yield values_support.committed_world(db_url)
    reset_settings_cache()


def test_an_official_figure_that_beat_a_communes_estimate_is_not_marked(
        session, province) -> None:
    # The province's own official 2025 figure (1.250) wins over a commune's November
    # estimate (600): the actual does not rest on an estimate, on any surface.
    plan = Plan(code="01/KH-TEST", title="Kế hoạch thử", year_from=2025, year_to=2025,
                scope_unit_id=province.province.id)
    session.add(plan)
    session.flush()
    session.add(Target(plan_id=plan.id, indicator_id=province.count.id,
                       unit_id=province.province.id, year=2025,
                       target_date=dt.date(2025, 12, 31), comparator=">=", value=1200.0))
    session.flush()
    access = Access.system(session, "test")
    save_value(session, unit_id=province.commune_a.id, indicator_id=province.count.id,
               period="202511", value=600, estimate=True, access=access)
    save_value(session, unit_id=province.province.id, indicator_id=province.count.id,
               period="2025", value=1250, access=access)
    session.commit()
    [status] = service.target_statuses(session, unit_code="20", year=2025)
    assert (status.actual, status.estimate) == (1250, False)
    feed = build_feed(session, unit_code="20", access=access, year=2025,
                      as_of=dt.date(2025, 12, 31))
    [kpi] = feed.kpis
    assert (kpi["actual"], kpi["actual_estimate"]) == (1250, False)
    data = gather(session, unit_code="20", kind="annual", period="2025",
                  today=dt.date(2025, 12, 20))
    [reported] = data.statuses
    assert not actual_text(data, reported).startswith("ước")
    assert "ước" not in _annex_notes(data)

"""Target status, expected path and projection (DESIGN §5.3)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from chiso.analytics import service, status
from chiso.analytics.status import Status
from tests.analytics_world import build_world

DOSSIERS = "CQS.SO_HS"  # flow count, higher is better
INCIDENTS = "CQS.SU_CO"  # flow count, lower is better
SUBSCRIBERS = "XHS.THUE_BAO"  # stock count
BACKLOG = "CQS.HS_TON"  # stock count, lower is better
HS = "CQS.HS_TRUC_TUYEN"  # flow ratio
MIDYEAR = dt.date(2025, 7, 2)  # exactly half-way from 1/1/2025 to 31/12/2025


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    return build_world(session)


def statuses(session, as_of: dt.date = MIDYEAR) -> dict[str, service.TargetStatus]:  # type: ignore[no-untyped-def]
    rows = service.target_statuses(session, unit_code="20", year=2025, as_of=as_of)
    return {row.indicator_code: row for row in rows}


@pytest.mark.parametrize(("actual", "expected_status"), [
    (100.0, Status.ACHIEVED), (47.5, Status.ON_TRACK), (47.49, Status.AT_RISK),
    (42.5, Status.AT_RISK), (42.49, Status.OFF_TRACK)])
def test_status_boundaries_at_95_and_85_percent_of_the_path(world, session, actual,
                                                           expected_status):
    world.target(SUBSCRIBERS, 100.0, baseline_value=0.0, baseline_date=dt.date(2025, 1, 1))
    world.save([("20", SUBSCRIBERS, "2025", None, None, actual)])
    row = statuses(session)[SUBSCRIBERS]
    assert row.expected == pytest.approx(50.0)
    assert row.actual == actual
    assert row.status is expected_status, row


@pytest.mark.parametrize(("actual", "expected_status"), [
    (49.0, Status.ACHIEVED), (75 / 0.95, Status.ON_TRACK), (80.0, Status.AT_RISK),
    (75 / 0.85, Status.AT_RISK), (90.0, Status.OFF_TRACK)])
def test_lower_is_better_is_inverted(world, session, actual, expected_status):
    world.target(BACKLOG, 50.0, comparator="<=", baseline_value=100.0,
                 baseline_date=dt.date(2025, 1, 1))
    world.save([("20", BACKLOG, "2025", None, None, actual)])
    row = statuses(session)[BACKLOG]
    assert row.expected == pytest.approx(75.0)
    assert row.status is expected_status, row


def test_no_data_without_any_figure(world, session):
    world.target(DOSSIERS, 100.0, baseline_value=0.0)
    row = statuses(session)[DOSSIERS]
    assert (row.status, row.actual, row.projected) == (Status.NO_DATA, None, None)
    assert Status.NO_DATA.label("vi") == "Chưa có số liệu"


def test_projection_of_a_perfect_linear_stock_hits_the_line(world, session):
    months = [f"{y}{m:02d}" for y in (2024, 2025) for m in range(1, 13)][:18]  # to 06/2025
    world.save([("20", SUBSCRIBERS, p, None, None, 100 + 10 * k)
                for k, p in enumerate(months)])
    world.target(SUBSCRIBERS, 400.0)
    row = statuses(session, dt.date(2025, 6, 30))[SUBSCRIBERS]
    assert row.actual == 270  # June 2025: the last month
    assert row.projected == pytest.approx(100 + 10 * 23)  # December 2025 on the same line
    assert row.projected_year_end == pytest.approx(330)


def test_flow_projection_runs_at_the_year_to_date_pace(world, session):
    """A count continues at its pace so far (no full previous year: spread linearly);
    a flow ratio adds the average monthly numerator and denominator."""
    months = [f"2024{m:02d}" for m in range(7, 13)] + [f"2025{m:02d}" for m in range(1, 7)]
    world.save([("20", DOSSIERS, p, None, None, 5) for p in months]
               + [("20", HS, p, 30, 100, None) for p in months])
    world.target(DOSSIERS, 80.0)
    world.target(HS, 50.0)
    rows = statuses(session, dt.date(2025, 6, 30))
    assert rows[DOSSIERS].actual == 30
    assert rows[DOSSIERS].projected == pytest.approx(30 * 365 / 181)  # 181 days of 365
    assert rows[HS].projected == pytest.approx(30.0)


def test_without_baseline_the_path_starts_from_last_years_value(world, session):
    world.save([("20", DOSSIERS, "2024", None, None, 40), ("20", DOSSIERS, "2025", None, None,
                                                             60)])
    world.target(DOSSIERS, 100.0)
    row = statuses(session, dt.date(2025, 12, 31))
    assert row[DOSSIERS].baseline_value == 40
    assert row[DOSSIERS].expected == pytest.approx(100.0)
    assert row[DOSSIERS].status is Status.MISSED  # 31/12: the year is over


def test_finished_year_gets_lang_son_year_end_words(world, session, monkeypatch):
    from chiso.settings import reset_settings_cache

    monkeypatch.setenv("CHISO_TODAY", "2026-02-01")
    reset_settings_cache()
    world.save([("20", DOSSIERS, "2025", None, None, 120), ("20", INCIDENTS, "2025", None, None,
                                                              0)])
    world.target(DOSSIERS, 100.0)
    world.target(INCIDENTS, 5.0, comparator="<=")
    world.target(SUBSCRIBERS, 10.0)
    rows = service.target_statuses(session, unit_code="20", year=2025)
    assert {r.indicator_code: r.year_end for r in rows} == {
        DOSSIERS: "met", INCIDENTS: "met", SUBSCRIBERS: "no_data"}
    assert rows[0].as_of == dt.date(2025, 12, 31)


def _path_frame(**columns: object) -> pl.DataFrame:
    base = {"target_id": [1], "target_value": [100.0], "value_high": [None],
            "b_value": [0.0], "b_date": [dt.date(2025, 1, 1)],
            "target_date": [dt.date(2025, 12, 31)], "as_of": [MIDYEAR],
            "trajectory": ["linear"], "milestones": [None]}
    base.update({k: [v] for k, v in columns.items()})
    schema = {"value_high": pl.Float64,
              "milestones": pl.List(pl.Struct({"date": pl.Utf8, "value": pl.Float64}))}
    return pl.DataFrame(base, schema_overrides=schema)


def test_milestones_make_a_piecewise_linear_path():
    frame = _path_frame(trajectory="milestones",
                        milestones=[{"date": "2025-04-02", "value": 80.0}])
    # 2/4 → 2/7 is 91 of the 273 days from the milestone (80) to the target (100).
    expected = status.expected_on_path(frame)["expected"][0]
    assert expected == pytest.approx(80 + 20 * 91 / 273)


def test_s_curve_is_slow_early_exact_at_the_ends_and_half_way_in_the_middle():
    middle = status.expected_on_path(_path_frame(trajectory="s_curve"))["expected"][0]
    early = status.expected_on_path(_path_frame(trajectory="s_curve",
                                                as_of=dt.date(2025, 2, 1)))["expected"][0]
    end = status.expected_on_path(_path_frame(trajectory="s_curve",
                                              as_of=dt.date(2025, 12, 31)))["expected"][0]
    assert middle == pytest.approx(50.0)
    assert early < 100 * 31 / 364  # below the straight line at first
    assert end == pytest.approx(100.0)


def test_a_trend_reads_a_former_districts_year_that_began_before_its_first_month(
        world, session):
    # Province 20's subscribers lie on 100 + 10·k, k months after December 2024 (the first
    # of the 24 trend months for a 2026 target judged on 22/11/2026). District 178's own
    # figure for 2024 replaces its commune X's months of 2024 in the province's total
    # (chiso.analytics.parts), December's included, so that month is Z's 100 alone. A
    # read of periods *starting* in the trend's window missed the year figure (it starts
    # in January) and added X's 40: the line, and the projection, moved.
    k = {f"{y}{m:02d}": (y - 2024) * 12 + m - 12 for y in (2024, 2025, 2026)
         for m in range(1, 13)}
    rows: list[tuple[str, str, str, float | None, float | None, float | None]] = [
        ("178", SUBSCRIBERS, "2024", None, None, 40.0),
        ("06101", SUBSCRIBERS, "202412", None, None, 40.0),
        ("06201", SUBSCRIBERS, "202412", None, None, 100.0)]
    for period, n in k.items():
        if 1 <= n <= 6:  # January–June 2025: the old communes
            rows += [("06101", SUBSCRIBERS, period, None, None, 40.0),
                     ("06201", SUBSCRIBERS, period, None, None, 60.0 + 10 * n)]
        elif 7 <= n <= 22:  # July 2025–October 2026: the new ones
            rows += [("06001", SUBSCRIBERS, period, None, None, 40.0),
                     ("06002", SUBSCRIBERS, period, None, None, 60.0 + 10 * n)]
    world.save(rows)
    world.target(SUBSCRIBERS, 400.0, year=2026)
    row = {r.indicator_code: r for r in service.target_statuses(
        session, unit_code="20", year=2026, as_of=dt.date(2026, 11, 22))}[SUBSCRIBERS]
    assert row.actual == 320  # October 2026
    assert row.projected == pytest.approx(340)  # December 2026 on the line

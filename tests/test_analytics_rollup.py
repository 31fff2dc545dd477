"""Roll-up over units and time through lineage (DESIGN §5.2), read live from the database."""

from __future__ import annotations

import datetime as dt

import pytest

from chiso.analytics import service
from tests.analytics_world import build_world

HS = "CQS.HS_TRUC_TUYEN"  # flow ratio, ratio of sums
FIBRE = "XHS.HO_CAP_QUANG"  # stock ratio
DOSSIERS = "CQS.SO_HS"  # flow count
SUBSCRIBERS = "XHS.THUE_BAO"  # stock count


def value(session, unit: str, code: str, period: str) -> float | None:  # type: ignore[no-untyped-def]
    return service.rolled_up_value(session, unit_code=unit, indicator_code=code, period=period)


@pytest.fixture
def world(session, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", "2025-12-31")
    from chiso.settings import reset_settings_cache

    reset_settings_cache()
    return build_world(session)


def test_ratio_over_two_communes_is_ratio_of_sums_not_mean_of_percentages(world, session):
    world.save([("06001", HS, "2025", 10, 20, None),  # 50 %
                ("06002", HS, "2025", 90, 300, None)])  # 30 %
    province = value(session, "20", HS, "2025")
    assert province == pytest.approx(100 / 320 * 100)  # 31.25 %
    assert province != pytest.approx((50 + 30) / 2)
    breakdown = service.subunit_breakdown(session, unit_code="20", indicator_code=HS,
                                          period="2025")
    assert breakdown.select("unit_code", "numerator", "denominator", "value").rows() == [
        ("06001", 10.0, 20.0, 50.0), ("06002", 90.0, 300.0, 30.0)]


def test_pre_merger_commune_2024_value_appears_under_successor_and_province(world, session):
    world.save([("06101", DOSSIERS, "202403", None, None, 7),
                ("06102", DOSSIERS, "202405", None, None, 5),
                ("06101", HS, "2024", 5, 10, None),
                ("06102", HS, "2024", 1, 10, None)])
    assert value(session, "06001", DOSSIERS, "2024") == 12
    assert value(session, "20", DOSSIERS, "2024") == 12
    assert value(session, "06001", HS, "2024") == pytest.approx(30.0)  # 6 / 20
    assert value(session, "20", HS, "2024") == pytest.approx(30.0)
    assert value(session, "06002", DOSSIERS, "2024") is None


def test_merged_commune_joins_predecessors_months_with_its_own(world, session):
    """The year of the reform: Jan–Jun from the old communes, Jul–Dec from the new one."""
    world.save([("06101", DOSSIERS, "202503", None, None, 4),
                ("06102", DOSSIERS, "202503", None, None, 6),
                ("06001", DOSSIERS, "202509", None, None, 10)])
    assert value(session, "06001", DOSSIERS, "2025") == 20
    series = service.indicator_series(session, unit_code="06001", indicator_code=DOSSIERS,
                                      year_from=2025, year_to=2025, period_type="Q")
    assert series["value"].to_list() == [10, None, 10, None]


def test_absorbed_district_counts_as_the_provinces_own_figure(world, session):
    world.save([("178", DOSSIERS, "2024", None, None, 500),
                ("06101", DOSSIERS, "202403", None, None, 7)])
    assert value(session, "20", DOSSIERS, "2024") == 500  # not 507: no double counting
    assert value(session, "06001", DOSSIERS, "2024") == 7


def test_flows_sum_and_stocks_take_the_last_month(world, session):
    world.save([("06001", DOSSIERS, f"20250{m + 6}", None, None, v) for m, v in ((1, 5), (2, 7),
                                                                           (3, 9))]
               + [("06001", SUBSCRIBERS, f"20250{m + 6}", None, None, v)
                  for m, v in ((1, 100), (2, 120), (3, 90))]
               + [("06001", FIBRE, f"20250{m + 6}", n, 100, None)
                  for m, n in ((1, 40), (2, 50), (3, 60))]
               + [("06001", HS, f"20250{m + 6}", n, d, None)
                  for m, n, d in ((1, 1, 10), (2, 9, 10), (3, 10, 80))])
    assert value(session, "06001", DOSSIERS, "2025Q3") == 21
    assert value(session, "06001", SUBSCRIBERS, "2025Q3") == 90
    assert value(session, "06001", FIBRE, "2025Q3") == pytest.approx(60.0)
    assert value(session, "06001", HS, "2025Q3") == pytest.approx(20 / 100 * 100)


def test_exact_period_value_beats_its_sub_periods(world, session):
    world.save([("06001", DOSSIERS, "2025Q3", None, None, 50),
                ("06001", DOSSIERS, "202507", None, None, 5)])
    assert value(session, "06001", DOSSIERS, "2025Q3") == 50


def test_own_value_beats_the_aggregate_of_sub_units(world, session):
    world.save([("20", DOSSIERS, "2025", None, None, 1000),
                ("06001", DOSSIERS, "2025", None, None, 300),
                ("06002", DOSSIERS, "2025", None, None, 400)])
    assert value(session, "20", DOSSIERS, "2025") == 1000
    assert value(session, "06001", DOSSIERS, "2025") == 300


def test_percentage_without_parts_does_not_roll_up_and_is_counted(world, session):
    world.save([("06001", HS, "2025", None, None, 80.0),
                ("06002", HS, "2025", 90, 300, None)])
    assert value(session, "06001", HS, "2025") == 80.0
    assert value(session, "20", HS, "2025") == pytest.approx(30.0)
    world.target(HS, 50.0)
    [row] = service.target_statuses(session, unit_code="20", year=2025)
    assert row.not_aggregatable == 1


def test_distinct_count_ratio_with_no_unit_aggregation_stays_at_its_unit(world, session):
    world.save([("06001", "CQS.DVCTT_PHAT_SINH_HS", "2025", 40, 100, None),
                ("06002", "CQS.DVCTT_PHAT_SINH_HS", "2025", 60, 100, None)])
    assert value(session, "20", "CQS.DVCTT_PHAT_SINH_HS", "2025") is None
    world.save([("20", "CQS.DVCTT_PHAT_SINH_HS", "2025", 70, 150, None)])
    assert value(session, "20", "CQS.DVCTT_PHAT_SINH_HS", "2025") == pytest.approx(70 / 1.5)


def test_a_saved_value_shows_on_the_next_request(world, session):
    world.save([("06001", DOSSIERS, "202507", None, None, 5)])
    assert value(session, "20", DOSSIERS, "2025") == 5
    world.save([("06001", DOSSIERS, "202507", None, None, 8)])
    assert value(session, "20", DOSSIERS, "2025") == 8


def test_unknown_unit_and_indicator_are_named(world, session):
    with pytest.raises(service.UnknownUnit, match="99999"):
        value(session, "99999", DOSSIERS, "2025")
    with pytest.raises(service.UnknownIndicator, match="NOPE"):
        value(session, "20", "NOPE", "2025")


def test_series_lists_every_month_with_its_end_date(world, session):
    world.save([("06102", DOSSIERS, "202502", None, None, 3)])
    series = service.indicator_series(session, unit_code="20", indicator_code=DOSSIERS,
                                      year_from=2025, year_to=2025)
    assert series.height == 12
    assert series.row(1) == ("202502", dt.date(2025, 2, 28), None, None, 3.0, False, False)


def test_packed_keys_and_plain_keys_give_the_same_joins_and_groups(monkeypatch):  # type: ignore[no-untyped-def]
    """National frames pack their integer keys into one (rollup.key_layout); a province's
    use the plain keys. Both ways must agree: the small frames of this suite would
    otherwise never exercise the packing."""
    import polars as pl

    from chiso.analytics import rollup

    frame = pl.DataFrame({"unit_id": [7, 7, 9, 1200, 9, 7], "indicator_id": [3, 4, 3, 3, 3, 3],
                          "b_m0": [24300, 24300, 24301, 24300, 24301, 24300],
                          "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    table = pl.DataFrame({"unit_id": [7, 9, 1200], "indicator_id": [3, 3, 3],
                          "b_m0": [24300, 24301, 24300], "target": [10.0, 20.0, 30.0]})
    keys = ["unit_id", "indicator_id", "b_m0"]

    def both() -> tuple[pl.DataFrame, pl.DataFrame]:
        joined = rollup.lookup(frame, table, keys)
        groups = rollup.grouped(frame, keys, [pl.col("value").sum()]).sort(keys)
        return joined, groups

    plain = both()
    monkeypatch.setattr(rollup, "STREAMING_ROWS", 0)  # every frame counts as national
    packed = both()
    assert plain[0].equals(packed[0])
    assert plain[1].equals(packed[1])
    assert plain[0]["target"].to_list() == [10.0, None, 20.0, 30.0, 20.0, 10.0]
    assert plain[1]["value"].to_list() == [7.0, 2.0, 8.0, 4.0]


def test_year_ends_on_one_hierarchy_share_one_placing_and_answer_as_apart():
    """Targets closed at 31/12/2023 and 31/12/2024 (one hierarchy: the merger is on
    1/7/2025) are placed and rolled up once for both (`evaluate._sharing`); every figure
    and status is the one each year gets evaluated alone."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from benchmarks.rollup_data import generate
    from chiso.analytics import evaluate

    data = generate(communes=120, indicators=6, months=36, seed=3)
    frames = {"values": data.values, "indicators": data.indicators, "units": data.units,
              "unit_lineage": data.lineage, "today": data.today}
    together = evaluate.evaluate_targets(targets=data.targets, **frames).sort("target_id")
    apart = pl.concat([evaluate.evaluate_targets(targets=year, **frames)
                       for year in data.targets.partition_by("year")], how="diagonal_relaxed")
    assert_frame_equal(together, apart.sort("target_id").select(together.columns),
                       rel_tol=1e-12, abs_tol=1e-9)
    groups = [evaluate._Group.of(group, data.indicators, data.units, data.lineage)
              for group in data.targets.with_columns(pl.col("target_date").alias("as_of"))
              .partition_by("as_of", maintain_order=True)]
    shared = evaluate._sharing(groups, data.units, data.lineage)
    assert sorted(sorted(groups[i].day.year for i in members) for members in shared) == [
        [2023, 2024], [2025]]


def test_quarters_halves_and_years_from_one_pass_over_the_months_match_each_alone():
    """`rollup.time_aggregates` combines the months once into quarters and adds those up
    into halves and years; each bucket type must come out as `time_aggregate` gives it
    alone: flows, flow ratios (one month given only as a percentage), stocks, means,
    flags, a year's own figure beating its months, a missing month."""
    import polars as pl
    from polars.testing import assert_frame_equal

    from chiso.analytics import rollup
    from chiso.periods import PeriodType

    indicators = pl.DataFrame({
        "indicator_id": [1, 2, 3, 4, 5], "is_ratio": [False, True, True, False, False],
        "time_agg": ["sum", "sum", "last", "mean", "last"],
        "unit_agg": ["sum", "ratio_of_sums", "ratio_of_sums", "mean", "sum"],
        "scale": [1.0, 100.0, 100.0, 1.0, 1.0]})
    rows = []
    for unit in (7, 8):
        for indicator in range(1, 6):
            for month in range(24):
                if (unit, indicator, month) in {(7, 1, 4), (8, 3, 11), (8, 5, 23)}:
                    continue  # not reported
                num, den = (3.0 + month, 10.0 + unit) if indicator in (2, 3) else (None, None)
                if (unit, indicator, month) == (7, 2, 5):
                    num, den = None, None  # a percentage only
                rows.append((unit, indicator, 3, 2024 * 12 + month, 2024 * 12 + month, num,
                             den, 0.5 * month + unit + indicator, 2 if month == 7 else 0))
    rows.append((8, 1, 0, 2025 * 12, 2025 * 12 + 11, None, None, 999.0, 0))  # its own year
    values = pl.DataFrame(rows, orient="row", schema={
        "unit_id": pl.Int64, "indicator_id": pl.Int64, "p_rank": pl.Int8, "p_m0": pl.Int32,
        "p_m1": pl.Int32, "num": pl.Float64, "den": pl.Float64, "value": pl.Float64,
        "flags": pl.Int8})
    buckets = {PeriodType.YEAR: [2024 * 12, 2025 * 12],
               PeriodType.HALF: [2024 * 12 + 6, 2025 * 12, 2025 * 12 + 6],
               PeriodType.QUARTER: list(range(2024 * 12, 2026 * 12, 3)),
               PeriodType.MONTH: [2025 * 12 + 11]}
    together = rollup.time_aggregates(values, indicators, buckets)
    for kind, starts in buckets.items():
        alone = rollup.time_aggregate(values, indicators, kind, starts)
        assert_frame_equal(together[kind].sort(rollup.KEYS), alone.sort(rollup.KEYS),
                           rel_tol=1e-12)
    assert together[PeriodType.YEAR].filter(
        (pl.col("unit_id") == 8) & (pl.col("indicator_id") == 1)
        & (pl.col("b_m0") == 2025 * 12))["value"].to_list() == [999.0]

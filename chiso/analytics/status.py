"""Target status (DESIGN §5.3): expected value on the path, status, Lạng Sơn's year-end words.

Pure and vectorised over a targets frame (one row per target). Rules:

- **As-of date** = min(today, target date); `get_settings().current_date()` honours
  `CHISO_TODAY`.
- **Path** ("tiến độ kỳ vọng"): from the baseline (value, date) to the target (value, target
  date). `linear` by default; `milestones` is piecewise linear through the given points;
  `s_curve` is a logistic curve (slow start, fast middle, slow finish) normalised to pass
  exactly through baseline and target. Before the baseline date the path is the baseline;
  after the target date it is the target.
- **Baseline when the plan gives none**: the unit's rolled-up value of the previous year
  (dated 31/12 of that year); failing that, the first monthly figure of the year (dated at
  the end of that month). A baseline value without a date is dated 31/12 of the previous
  year. With no baseline at all the path is flat at the target (progress is measured
  against the target itself).
- **Status**: `achieved` when the actual meets the comparator; otherwise the progress ratio
  actual ÷ expected (inverted, expected ÷ actual, for lower-is-better) gives `on_track`
  (≥ 95 %), `at_risk` (85 % to < 95 %) or `off_track` (< 85 %); `no_data` without an actual.
  A band target (`between`) is achieved inside [value, value_high]; below the band it is
  measured like higher-is-better against the path to the lower bound, above it like
  lower-is-better against the path to the upper bound. Ratios are compared with a tolerance
  of 1e-9 so that exactly 95 % counts as on track.
- **Closed targets** (Lạng Sơn's report vocabulary): once the evaluation date has reached
  the target date the status is the year-end result — `met` (đạt), `missed` (không đạt),
  `not_implemented` (chưa triển khai — the actual is 0: nothing was done), `no_data` (chưa
  có số liệu) — and never achieved / on track / at risk / off track.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from chiso.analytics.answers import (  # noqa: F401  (re-exported: callers import them here)
    CLOSED_STATUSES,
    OPEN_STATUSES,
    STATUS_LABELS,
    Status,
    YearEndResult,
    vocabulary,
)

ON_TRACK_RATIO = 0.95
AT_RISK_RATIO = 0.85
TOLERANCE = 1e-9
S_CURVE_STEEPNESS = 8.0


# ----------------------------------------------------------------------------- baseline

def fill_baseline(targets: pl.DataFrame) -> pl.DataFrame:
    """Effective baseline `b_value`, `b_date`: the plan's, else last year's, else the first
    monthly figure of the year (columns `prev_value`, `first_value`, `first_date`)."""
    year_end_before = pl.date(pl.col("year") - 1, 12, 31)
    given = pl.col("baseline_value").is_not_null()
    from_prev = pl.col("prev_value").is_not_null()
    return targets.with_columns(
        pl.when(given).then(pl.col("baseline_value"))
        .when(from_prev).then(pl.col("prev_value"))
        .otherwise(pl.col("first_value")).alias("b_value"),
        pl.when(given).then(pl.coalesce(pl.col("baseline_date"), year_end_before))
        .when(from_prev).then(year_end_before)
        .otherwise(pl.col("first_date")).alias("b_date"),
    )


# ----------------------------------------------------------------------------- path

def expected_on_path(targets: pl.DataFrame) -> pl.DataFrame:
    """Add `expected` (tiến độ kỳ vọng) at each target's `as_of`, and `expected_high` for
    band targets. Needs `b_value`, `b_date` (see `fill_baseline`). Flows judged year to
    date (`ytd`, see `flows.judge`) follow their own path instead: from 0 on 31/12 of the
    previous year to the target, read at the judged date `ytd_end`; a linear one spread
    over the year by the share S (seasonal where the unit has a profile)."""
    if "ytd" not in targets.columns or not targets["ytd"].any():
        return _level_path(targets)
    kept = targets.select(pl.col("b_value").alias("_b_value"), pl.col("b_date").alias("_b_date"),
                          pl.col("as_of").alias("_as_of"))
    ytd = pl.col("ytd").fill_null(False)
    as_flows = targets.hstack(kept.get_columns()).with_columns(
        pl.when(ytd).then(0.0).otherwise(pl.col("b_value")).alias("b_value"),
        pl.when(ytd).then(pl.date(pl.col("year") - 1, 12, 31)).otherwise(pl.col("b_date"))
        .alias("b_date"),
        pl.when(ytd).then(pl.col("ytd_end")).otherwise(pl.col("as_of")).alias("as_of"))
    spread = pl.col("target_value") * pl.col("share_end") / pl.col("share_target")
    over_year = ytd & (pl.col("trajectory") == "linear") & (pl.col("share_target") > 0)
    path = _level_path(as_flows).with_columns(
        pl.when(over_year).then(spread).otherwise(pl.col("expected")).alias("expected"))
    scale = pl.when(pl.col("target_value") != 0).then(
        pl.col("expected") / pl.col("target_value"))
    return path.with_columns(
        pl.when(ytd).then(pl.col("value_high") * scale).otherwise(pl.col("expected_high"))
        .alias("expected_high"),
        pl.col("_b_value").alias("b_value"), pl.col("_b_date").alias("b_date"),
        pl.col("_as_of").alias("as_of"),
    ).drop("_b_value", "_b_date", "_as_of")


def _level_path(targets: pl.DataFrame) -> pl.DataFrame:
    """The path from the baseline to the target, read at `as_of`."""
    if _two_knots_only(targets):
        out = targets.with_columns(_two_knot_path().alias("expected"))
        return out.with_columns(
            (pl.col("expected") + pl.col("value_high") - pl.col("target_value"))
            .alias("expected_high"))
    knots = _knots(targets)
    when = targets.select("target_id", pl.col("as_of").cast(pl.Int32).alias("a")).sort("a")
    before = when.join_asof(knots.rename({"d": "d0", "v": "v0"}), left_on="a",
                            right_on="d0", by="target_id", strategy="backward",
                            check_sortedness=False)
    after = when.join_asof(knots.rename({"d": "d1", "v": "v1"}), left_on="a",
                           right_on="d1", by="target_id", strategy="forward",
                           check_sortedness=False)
    segment = before.join(after.drop("a"), on="target_id")
    shaped = segment.join(targets.select("target_id", "trajectory"), on="target_id")
    expected = shaped.select("target_id", _interpolate().alias("expected"))
    out = targets.join(expected, on="target_id", how="left")
    return out.with_columns(
        (pl.col("expected") + pl.col("value_high") - pl.col("target_value"))
        .alias("expected_high"))


def _two_knots_only(targets: pl.DataFrame) -> bool:
    """True when no path has milestones: then each path has at most two knots (baseline,
    target) and the segment around the as-of date follows from comparisons, with no
    as-of join."""
    with_milestones = "milestones" in targets.columns and targets.filter(
        (pl.col("trajectory") == "milestones") & pl.col("milestones").is_not_null()).height
    return not with_milestones and targets.select(
        pl.col("target_date").null_count() + pl.col("target_value").null_count()).item() == 0


def _two_knot_path() -> pl.Expr:
    """The same value the general knots path gives, for paths through baseline and target
    only: before the first knot its value, after the last its value, between them the
    shaped interpolation (`_interpolate` on the same day numbers)."""
    day = pl.col("as_of").cast(pl.Int32)
    base_day, end_day = pl.col("b_date").cast(pl.Int32), pl.col("target_date").cast(pl.Int32)
    has_base = pl.col("b_value").is_not_null() & pl.col("b_date").is_not_null() & (
        base_day != end_day)
    base_first = base_day < end_day
    lo_day = pl.when(base_first).then(base_day).otherwise(end_day)
    hi_day = pl.when(base_first).then(end_day).otherwise(base_day)
    lo_value = pl.when(base_first).then(pl.col("b_value")).otherwise(pl.col("target_value"))
    hi_value = pl.when(base_first).then(pl.col("target_value")).otherwise(pl.col("b_value"))
    interpolated = _interpolate(day, lo_day, lo_value, hi_day, hi_value)
    return (
        pl.when(~has_base).then(pl.col("target_value"))
        .when(day <= lo_day).then(lo_value)
        .when(day >= hi_day).then(hi_value)
        .otherwise(interpolated)
    )


def _knots(targets: pl.DataFrame) -> pl.DataFrame:
    """(target_id, d = day number, v) through which each path passes, sorted by d."""
    baseline = targets.filter(pl.col("b_value").is_not_null() & pl.col("b_date").is_not_null()
                              ).select("target_id", pl.col("b_date").alias("d"),
                                       pl.col("b_value").alias("v"))
    end = targets.select("target_id", pl.col("target_date").alias("d"),
                         pl.col("target_value").alias("v"))
    frames = [baseline, end]
    if "milestones" in targets.columns:
        frames.append(_milestone_knots(targets))
    knots = pl.concat([f.with_columns(pl.col("d").cast(pl.Int32), pl.col("v").cast(pl.Float64))
                       for f in frames])
    # Later sources win on the same day: the target beats a milestone dated on it.
    return knots.unique(["target_id", "d"], keep="last", maintain_order=True).sort("d")


def _milestone_knots(targets: pl.DataFrame) -> pl.DataFrame:
    rows = targets.filter((pl.col("trajectory") == "milestones")
                          & pl.col("milestones").is_not_null())
    if rows.is_empty():
        return pl.DataFrame(schema={"target_id": pl.Int64, "d": pl.Date, "v": pl.Float64})
    exploded = rows.select("target_id", "milestones").explode("milestones").drop_nulls()
    return exploded.select(
        "target_id",
        pl.col("milestones").struct.field("date").cast(pl.Utf8).str.to_date().alias("d"),
        pl.col("milestones").struct.field("value").cast(pl.Float64).alias("v"))


def _interpolate(a: pl.Expr | None = None, d0: pl.Expr | None = None,
                 v0: pl.Expr | None = None, d1: pl.Expr | None = None,
                 v1: pl.Expr | None = None) -> pl.Expr:
    """The path at day `a` on the segment (d0, v0) → (d1, v1); columns of those names by
    default."""
    a = pl.col("a") if a is None else a
    d0 = pl.col("d0") if d0 is None else d0
    d1 = pl.col("d1") if d1 is None else d1
    v0 = pl.col("v0") if v0 is None else v0
    v1 = pl.col("v1") if v1 is None else v1
    span = (d1 - d0).cast(pl.Float64)
    x = ((a - d0).cast(pl.Float64) / span).clip(0.0, 1.0)
    half = S_CURVE_STEEPNESS / 2
    low, high = 1 / (1 + math.exp(half)), 1 / (1 + math.exp(-half))
    logistic = (1 / (1 + (-(x - 0.5) * S_CURVE_STEEPNESS).exp()) - low) / (high - low)
    shape = pl.when(pl.col("trajectory") == "s_curve").then(logistic).otherwise(x)
    return (
        pl.when(v0.is_null()).then(v1)
        .when(v1.is_null() | (span == 0)).then(v0)
        .otherwise(v0 + (v1 - v0) * shape)
    )


# ----------------------------------------------------------------------------- status

def _mode() -> pl.Expr:
    """higher | lower | band | equal — the comparator decides, the indicator breaks ties."""
    return (
        pl.when(pl.col("comparator") == ">=").then(pl.lit("higher"))
        .when(pl.col("comparator") == "<=").then(pl.lit("lower"))
        .when(pl.col("comparator") == "between").then(pl.lit("band"))
        .otherwise(pl.lit("equal"))
    )


def _higher_ratio(actual: pl.Expr, expected: pl.Expr) -> pl.Expr:
    return pl.when(expected > 0).then(actual / expected).when(actual >= expected).then(
        1.0).otherwise(0.0)


def _lower_ratio(actual: pl.Expr, expected: pl.Expr) -> pl.Expr:
    return pl.when(actual > 0).then(expected / actual).otherwise(1.0)


def classify(targets: pl.DataFrame) -> pl.DataFrame:
    """Add `status` and `progress_ratio` from `actual`, `expected`, the comparator and the
    indicator `direction`, and `_meets` (the actual meets the comparator: what `close`
    calls met).

    A flow judged year to date (`ytd`) can be achieved early only against a floor (≥): a
    ceiling (≤, the upper bound of a band, =) can be met only when the year closes, and a
    total that has already crossed it is off track at once. Otherwise a flow is measured
    like a level, against its year-to-date expected value."""
    actual, target = pl.col("actual"), pl.col("target_value")
    expected = pl.coalesce(pl.col("expected"), target)
    expected_high = pl.coalesce(pl.col("expected_high"), pl.col("value_high"))
    tolerance = TOLERANCE * pl.max_horizontal(target.abs(), pl.lit(1.0))
    half_unit = 0.5 * pl.lit(10.0).pow(-pl.col("decimals").cast(pl.Float64))
    mode = pl.col("_mode")
    flow = pl.col("ytd").fill_null(False) if "ytd" in targets.columns else pl.lit(False)
    lower_is_better = (mode == "lower") | ((mode == "equal") & (pl.col("direction") == "lower"))
    meets = (
        pl.when(mode == "higher").then(actual >= target - tolerance)
        .when(mode == "lower").then(actual <= target + tolerance)
        .when(mode == "band").then((actual >= target - tolerance)
                                   & (actual <= pl.col("value_high") + tolerance))
        .otherwise((actual - target).abs() <= half_unit + tolerance)
    )
    ceiling = pl.when(mode == "band").then(pl.col("value_high")).otherwise(target)
    crossed = flow & (mode != "higher") & (actual > ceiling + tolerance)
    ratio = (
        pl.when(flow & (mode != "higher") & ~lower_is_better)  # band or '=' year to date
        .then(_band_ratio(actual, expected, pl.when(mode == "band").then(expected_high)
                          .otherwise(expected)))
        .when((mode == "band") & (actual > pl.col("value_high")))
        .then(_lower_ratio(actual, expected_high))
        .when(lower_is_better).then(_lower_ratio(actual, expected))
        .otherwise(_higher_ratio(actual, expected))
    )
    achieved_now = pl.col("_meets") & (~flow | (pl.col("_mode") == "higher"))
    status = (
        pl.when(actual.is_null()).then(pl.lit(Status.NO_DATA.value))
        .when(pl.col("_crossed")).then(pl.lit(Status.OFF_TRACK.value))
        .when(achieved_now).then(pl.lit(Status.ACHIEVED.value))
        .when(pl.col("progress_ratio") >= ON_TRACK_RATIO - TOLERANCE)
        .then(pl.lit(Status.ON_TRACK.value))
        .when(pl.col("progress_ratio") >= AT_RISK_RATIO - TOLERANCE)
        .then(pl.lit(Status.AT_RISK.value))
        .otherwise(pl.lit(Status.OFF_TRACK.value))
    )
    return (
        targets.with_columns(_mode().alias("_mode"))
        .with_columns(meets.alias("_meets"), crossed.alias("_crossed"),
                      ratio.alias("progress_ratio"))
        .with_columns(status.alias("status"))
        .drop("_mode", "_crossed")
    )


def _band_ratio(actual: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """Progress against a year-to-date band [low, high]: 1 inside, like higher-is-better
    below it, like lower-is-better above it."""
    return (pl.when(actual < low).then(_higher_ratio(actual, low))
            .when(actual > high).then(_lower_ratio(actual, high))
            .otherwise(1.0))


def year_end_result(targets: pl.DataFrame, today: dt.date) -> pl.DataFrame:
    """Add `year_end` for targets whose date is before `today`, leaving `status` as it is
    (the earlier API; `close` gives the status of the moment)."""
    finished = pl.col("target_date") < pl.lit(today)
    result = (
        pl.when(~finished).then(None)
        .when(pl.col("status") == Status.NO_DATA.value).then(pl.lit(Status.NO_DATA.value))
        .when(pl.col("status") == Status.ACHIEVED.value).then(pl.lit(Status.MET.value))
        .when(pl.col("actual") == 0).then(pl.lit(Status.NOT_IMPLEMENTED.value))
        .otherwise(pl.lit(Status.MISSED.value))
    )
    return targets.with_columns(result.cast(pl.Utf8).alias("year_end"))


def close(targets: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The status of the moment. `closed` is true once the evaluation date `day` has
    reached the target date; a closed target's `status` becomes met (the comparator is
    met at the target date), not_implemented (the actual is 0: nothing was done), missed,
    or stays no_data; `year_end` repeats it (null while the target is open)."""
    closed = pl.lit(day) >= pl.col("target_date")
    result = (
        pl.when(pl.col("status") == Status.NO_DATA.value).then(pl.lit(Status.NO_DATA.value))
        .when(pl.col("_meets")).then(pl.lit(Status.MET.value))
        .when(pl.col("actual") == 0).then(pl.lit(Status.NOT_IMPLEMENTED.value))
        .otherwise(pl.lit(Status.MISSED.value))
    )
    return targets.with_columns(closed.alias("closed")).with_columns(
        pl.when(pl.col("closed")).then(result).otherwise(pl.col("status")).alias("status"),
        pl.when(pl.col("closed")).then(result).otherwise(None).cast(pl.Utf8).alias("year_end"),
    ).drop("_meets")

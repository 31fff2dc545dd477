"""From raw frames to one evaluated row per target: actual, expected, projected, status.

Pure: the service loads frames from the database and calls `evaluate_targets`; the
benchmark calls it on synthetic national data. Targets are evaluated in groups sharing an
as-of date (usually one group), each group rolling up the data once for all its targets;
groups closed at year ends with one hierarchy (2023 and 2024 before the reform) share one
placing and one roll-up (`_sharing`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from chiso.analytics import flows, lineage, parts, projection, rollup, status
from chiso.periods import PeriodType

ROLLED = ["unit_id", "indicator_id", "b_m0", "num", "den", "value", "n_nonagg", "source"]


def evaluate_targets(*, targets: pl.DataFrame, values: pl.DataFrame, indicators: pl.DataFrame,
                     units: pl.DataFrame, unit_lineage: pl.DataFrame, today: dt.date
                     ) -> pl.DataFrame:
    """Evaluate every target at min(today, its target date); `closed` once `today` has
    reached the target date (then `status` is the year-end word).

    `targets`: `target_id, unit_id, indicator_id, year, target_date, comparator,
    target_value, value_high, baseline_value, baseline_date, trajectory[, milestones]`;
    `indicators`: `indicator_id, is_ratio, time_agg, unit_agg, scale, direction, decimals`;
    `values`: `unit_id, indicator_id, period, num, den, value`.
    """
    if "p_rank" not in values.columns:
        values = rollup.with_period_parts(values)
    targets = targets.with_columns(
        pl.col("year").cast(pl.Int32),
        pl.min_horizontal(pl.col("target_date"), pl.lit(today)).alias("as_of"))
    groups = [_Group.of(group, indicators, units, unit_lineage)
              for group in targets.partition_by("as_of", maintain_order=True)]
    if not groups:
        return targets
    rolled = _roll_up_groups(groups, values, indicators, units, unit_lineage)
    evaluated = pl.concat([_evaluate_group(group, found, indicators)
                           for group, found in zip(groups, rolled, strict=True)],
                          how="diagonal_relaxed")
    return status.close(evaluated, today)


def rolled_values(values: pl.DataFrame, indicators: pl.DataFrame, units: pl.DataFrame,
                  unit_lineage: pl.DataFrame, day: dt.date, bucket_type: rollup.BucketType,
                  bucket_starts: list[int]) -> pl.DataFrame:
    """Roll-up on the hierarchy valid on `day`, using only periods starting by `day`."""
    return rolled_buckets(values, indicators, units, unit_lineage, day,
                          {bucket_type: bucket_starts})[bucket_type]


def rolled_buckets(values: pl.DataFrame, indicators: pl.DataFrame, units: pl.DataFrame,
                   unit_lineage: pl.DataFrame, day: dt.date,
                   buckets: dict[rollup.BucketType, list[int]]
                   ) -> dict[rollup.BucketType, pl.DataFrame]:
    """`rolled_values` for several bucket types at once (a year's months, quarters, halves
    and the year itself): the values are placed on the hierarchy once for all of them."""
    if "p_rank" not in values.columns:
        values = rollup.with_period_parts(values)
    seen = values.filter(pl.col("p_m0") <= rollup.month_index(day.year, day.month)).select(
        "unit_id", "indicator_id", *rollup.VALUE_COLUMNS, *rollup.PERIOD_COLUMNS,
        *rollup.flag_columns(values))
    placed = parts.place(seen, indicators, units, unit_lineage, day)
    return parts.bucket_rollups(placed, indicators, buckets)


@dataclass(frozen=True)
class _Group:
    """Targets sharing an as-of date, on that date's units, and the buckets they read:
    the years of the targets and the year before, the 24 months up to the as-of month."""

    targets: pl.DataFrame
    day: dt.date
    year_starts: list[int]
    month_starts: list[int]

    @classmethod
    def of(cls, targets: pl.DataFrame, indicators: pl.DataFrame, units: pl.DataFrame,
           unit_lineage: pl.DataFrame) -> _Group:
        day: dt.date = targets["as_of"][0]
        mapping = lineage.resolve_units(units, unit_lineage, day)
        targets = rollup.lookup(targets, mapping, ["unit_id"])
        targets = rollup.lookup(
            targets.with_columns(pl.coalesce("current_id", "unit_id").alias("unit_id"))
            .drop("current_id"), indicators, ["indicator_id"])
        years = sorted(set(targets["year"].to_list()))
        as_of_m = rollup.month_index(day.year, day.month)
        return cls(targets, day,
                   sorted({y * 12 for y in years} | {(y - 1) * 12 for y in years}),
                   list(range(as_of_m - projection.TREND_MONTHS + 1, as_of_m + 1)))

    @property
    def as_of_m(self) -> int:
        return self.month_starts[-1]

    @property
    def first_m(self) -> int:
        return min(self.year_starts[0], self.month_starts[0])

    def ends_by_as_of(self) -> bool:
        """Every bucket it reads ends by its as-of month (targets judged at a year's end):
        no figure starting after that month can fall in one."""
        return self.year_starts[-1] + 11 <= self.as_of_m


@dataclass(frozen=True)
class _Rolled:
    """A group's placed values and its yearly and monthly roll-ups."""

    placed: parts.Placed
    yearly: pl.DataFrame
    monthly: pl.DataFrame


def _roll_up_groups(groups: list[_Group], values: pl.DataFrame, indicators: pl.DataFrame,
                    units: pl.DataFrame, unit_lineage: pl.DataFrame) -> list[_Rolled]:
    """Each group's roll-ups, one placing and one yearly and monthly roll-up shared by the
    groups in `_sharing` (two years' ends on one hierarchy: 2023 and 2024 before the
    reform), each group then reading its own buckets from them."""
    rolled: list[_Rolled | None] = [None] * len(groups)
    for members in _sharing(groups, units, unit_lineage):
        chosen = [groups[i] for i in members]
        year_starts = sorted({m for g in chosen for m in g.year_starts})
        month_starts = sorted({m for g in chosen for m in g.month_starts})
        seen = _needed(values, max(g.as_of_m for g in chosen), min(g.first_m for g in chosen))
        placed = parts.place(seen, indicators, units, unit_lineage, chosen[0].day)
        rolled_up = parts.bucket_rollups(placed, indicators, {PeriodType.YEAR: year_starts,
                                                              PeriodType.MONTH: month_starts})
        yearly, monthly = rolled_up[PeriodType.YEAR], rolled_up[PeriodType.MONTH]
        for i in members:
            if len(members) > 1:
                rolled[i] = _Rolled(placed, _only(yearly, groups[i].year_starts),
                                    _only(monthly, groups[i].month_starts))
            else:
                rolled[i] = _Rolled(placed, yearly, monthly)
    return [found for found in rolled if found is not None]


def _sharing(groups: list[_Group], units: pl.DataFrame, unit_lineage: pl.DataFrame
             ) -> list[list[int]]:
    """The groups (by position) that can share one placing: same hierarchy on their
    as-of dates, every bucket ending by the as-of month (so the later figures the others
    bring in fall in none of them), and overlapping months read (so sharing adds no
    values that no group reads)."""
    shared: list[list[int]] = []
    for index, group in enumerate(groups):
        joined = next((members for members in shared
                       if _can_join(groups, members, group, units, unit_lineage)), None)
        if joined is None:
            shared.append([index])
        else:
            joined.append(index)
    return shared


def _can_join(groups: list[_Group], members: list[int], group: _Group, units: pl.DataFrame,
              unit_lineage: pl.DataFrame) -> bool:
    first = groups[members[0]]  # the others joined it: they end by their as-of month too
    if not (first.ends_by_as_of() and group.ends_by_as_of()):
        return False
    chosen = [groups[i] for i in members]
    if group.first_m > max(g.as_of_m for g in chosen) + 1 or group.as_of_m + 1 < min(
            g.first_m for g in chosen):
        return False
    return _same_hierarchy(units, unit_lineage, first.day, group.day)


def _same_hierarchy(units: pl.DataFrame, unit_lineage: pl.DataFrame, day: dt.date,
                    other: dt.date) -> bool:
    """Whether `parts.place` places every figure alike on both days (the lineage answers
    are remembered, so `place` does not compute them again)."""
    return all(resolver(units, unit_lineage, day).equals(resolver(units, unit_lineage, other))
               for resolver in (lineage.resolve_units, lineage.current_tree,
                                lineage.part_units))


def _only(rolled: pl.DataFrame, starts: list[int]) -> pl.DataFrame:
    return rolled.filter(pl.col("b_m0").is_between(starts[0], starts[-1])
                         & pl.col("b_m0").is_in(starts))


def _evaluate_group(group: _Group, rolled: _Rolled, indicators: pl.DataFrame
                    ) -> pl.DataFrame:
    framed = flows.judge(_attach_actuals(group.targets, rolled.yearly, rolled.monthly),
                         rolled.monthly,
                         lambda: _span_ends(rolled.placed, indicators, group.year_starts))
    framed = status.fill_baseline(framed)
    framed = status.expected_on_path(framed)
    framed = status.classify(framed)
    return projection.project(framed, rolled.monthly)


def _span_ends(placed: parts.Placed, indicators: pl.DataFrame, year_starts: list[int]
               ) -> pl.DataFrame | None:
    """`unit_id, indicator_id, b_m0, value` with `b_m0` the last month of each cumulative
    figure (lũy kế: 9 months reports September), rolled up like months are, so a unit
    whose sub-units sent their 9-month totals has reported to September (the lag rule in
    `flows`). Only the spans themselves count, never the months inside one; None when no
    span was reported (the usual case: one pass over the values' period columns)."""
    values = placed.values
    length = pl.col("p_m1") - pl.col("p_m0") + 1
    spans = values.filter((pl.col("p_rank") == 0) & (length < 12))
    if spans.is_empty():
        return None
    found = []
    for months in spans.select(length.alias("n"))["n"].unique().sort().to_list():
        only = parts.Placed(spans.filter(length == months), placed.keep, placed.tree)
        rolled = parts.bucket_rollup(only, indicators, rollup.Span(months), year_starts)
        found.append(rolled.filter(pl.col("value").is_not_null()).select(
            "unit_id", "indicator_id", (pl.col("b_m0") + months - 1).alias("b_m0"), "value"))
    return pl.concat(found, how="vertical_relaxed")


def _needed(values: pl.DataFrame, as_of_m: int, first_m: int) -> pl.DataFrame:
    """The values a group of targets can read: started by the as-of month, and not in a
    year before the first bucket it needs (last year's total, the 24-month trend). Whole
    years are kept, so a former district's yearly figure still replaces its communes'
    months in that year (`parts`). Trimming first matters: the national recompute spent a
    fifth to a half of its time on values no answer reads (issue 18)."""
    seen = values.select("unit_id", "indicator_id", *rollup.VALUE_COLUMNS,
                         *rollup.PERIOD_COLUMNS, *rollup.flag_columns(values))
    bounds = seen.select(pl.col("p_m0").min().alias("lo"), pl.col("p_m0").max().alias("hi"))
    lo, hi = bounds.row(0) if not seen.is_empty() else (None, None)
    year_start = first_m // 12 * 12
    wanted = []
    if isinstance(hi, int) and hi > as_of_m:
        wanted.append(pl.col("p_m0") <= as_of_m)
    if isinstance(lo, int) and lo < year_start:
        wanted.append(pl.col("p_m0") >= year_start)
    return seen.filter(*wanted) if wanted else seen


def _attach_actuals(targets: pl.DataFrame, yearly: pl.DataFrame, monthly: pl.DataFrame
                    ) -> pl.DataFrame:
    keys = ["unit_id", "indicator_id", "b_m0"]
    actual = yearly.select(*keys, pl.col("value").alias("actual"),
                           pl.col("num").alias("actual_num"), pl.col("den").alias("actual_den"),
                           "n_nonagg", pl.col("source").alias("actual_source"),
                           rollup.has_flag(rollup.ILLUSTRATIVE, yearly).alias("illustrative"),
                           rollup.has_flag(rollup.ESTIMATE, yearly).alias("estimate"))
    previous = yearly.select(*keys, pl.col("value").alias("prev_value"))
    targets = targets.with_columns((pl.col("year") * 12).cast(pl.Int32).alias("year_m0"),
                                   ((pl.col("year") - 1) * 12).cast(pl.Int32).alias("prev_m0"))
    framed = rollup.lookup(targets, actual, ["unit_id", "indicator_id", "year_m0"], keys)
    framed = rollup.lookup(framed, previous, ["unit_id", "indicator_id", "prev_m0"], keys)
    framed = framed.drop("year_m0", "prev_m0")
    # The first month of the year is only a fallback baseline: look it up where needed.
    pairs = framed.filter(pl.col("baseline_value").is_null() & pl.col("prev_value").is_null()
                          ).select("unit_id", "indicator_id").unique()
    if pairs.is_empty():
        return framed.with_columns(pl.lit(None, pl.Float64).alias("first_value"),
                                   pl.lit(None, pl.Date).alias("first_date"))
    first = _first_month_values(monthly.join(pairs, on=["unit_id", "indicator_id"],
                                             how="semi"))
    return rollup.lookup(framed, first, ["unit_id", "indicator_id", "year"])


def _first_month_values(monthly: pl.DataFrame) -> pl.DataFrame:
    """The first rolled-up monthly value of each year, dated at the end of its month."""
    present = monthly.filter(pl.col("value").is_not_null()).with_columns(
        (pl.col("b_m0") // 12).cast(pl.Int32).alias("year"))
    keys = ["unit_id", "indicator_id", "year"]
    earliest = present.group_by(keys).agg(pl.col("b_m0").min())
    first = present.join(earliest, on=[*keys, "b_m0"], how="semi").select(
        *keys, pl.col("value").alias("first_value"), pl.col("b_m0").alias("first_m"))
    month_start = pl.date(pl.col("first_m") // 12, pl.col("first_m") % 12 + 1, 1)
    return first.with_columns(month_start.dt.month_end().alias("first_date")).drop("first_m")

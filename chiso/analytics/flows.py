"""Flows judged like for like: a yearly total built from monthly figures (dossiers received,
incidents) is compared year to date with the share of its target expected by then.

A flow is an indicator that adds up over time and is not a ratio (`time_aggregation = sum`,
kind count or amount). Stocks and ratios keep their level semantics (`status.py`).

- **Share of the year** S(d): the fraction of the yearly total expected by the end of day d.
  Linear by default — days elapsed since 31/12 of the previous year over the days of the
  year. Where the unit reported all twelve months of the previous year with a positive
  total (and no negative month), its own **seasonal profile**: S(d) is last year's
  cumulative share at the start of d's month plus that month's share times the fraction of
  the month elapsed. A profile giving no share at all by the judged date (nothing happened
  that early last year) falls back to linear.
- **Judged at** E: the as-of date, or the end of the previous month when that is the last
  month the unit reported (one month of reporting lag is normal: June's figures arrive in
  July); a longer silence is not waited for. A closed target is judged at its target date.
- **Expected year to date** = target × S(E) ÷ S(target date); **projection** to the target
  date = actual × S(target date) ÷ S(E) (the same run rate, so the status and the
  projection never disagree), and to 31/12 = actual ÷ S(E).

Month indexes are `year × 12 + month − 1`, as in `rollup`.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from chiso.analytics.rollup import lookup

FLOW_COLUMNS = ["ytd", "ytd_end", "share_end", "share_target"]


def is_flow() -> pl.Expr:
    """Counts and amounts that add up over time (not ratios, not stocks)."""
    return (pl.col("time_agg") == "sum") & ~pl.col("is_ratio")


def judge(targets: pl.DataFrame, monthly: pl.DataFrame,
          span_ends: Callable[[], pl.DataFrame | None] | None = None) -> pl.DataFrame:
    """Add `ytd` (judged year to date), `ytd_end` (E), `share_end` = S(E) and
    `share_target` = S(target date) to targets sharing one as-of date; null shares for
    stocks and ratios. `monthly`: the units' rolled-up monthly values (`unit_id,
    indicator_id, b_m0, value`); `span_ends()`: the same shape for the last month of each
    cumulative figure (a 9-month total reports September), asked for only when a running
    flow needs its last reported month."""
    keys = ["unit_id", "indicator_id"]
    flows = targets.filter(is_flow() & ~_whole_year()).select(*keys, "year").unique()
    profile = _profiles(monthly, flows)
    ends = span_ends() if span_ends is not None and not flows.is_empty() else None
    last = _last_reported(monthly if ends is None else pl.concat(
        [monthly.select(ends.columns), ends], how="vertical_relaxed"), flows)
    framed = lookup(lookup(targets, profile, [*keys, "year"]), last, [*keys, "year"])
    framed = framed.with_columns(is_flow().alias("ytd")).with_columns(
        pl.when(pl.col("ytd")).then(_judged_at()).alias("ytd_end"))
    share_end = _share(pl.col("ytd_end"))
    return framed.with_columns(
        share_end.alias("share_end"),
        pl.when(pl.col("ytd")).then(_share(pl.col("target_date"))).alias("share_target"),
    ).drop("_cum", "_last_m")


def _whole_year() -> pl.Expr:
    """A target closed at the end of its year: judged at 31/12, where every share of the
    year — linear or seasonal — is whole, so neither the unit's profile nor its last
    reported month can change its figures (the closed years of the dashboard, and every
    target of a national recompute once the year is over)."""
    year_end = pl.date(pl.col("year"), 12, 31)
    return (pl.col("target_date") == year_end) & (pl.col("as_of") >= pl.col("target_date"))


def _judged_at() -> pl.Expr:
    """E: the as-of date, or the end of the month before it when that is the last month
    reported; the target date once the target is closed."""
    as_of = pl.col("as_of")
    as_of_m = as_of.dt.year().cast(pl.Int32) * 12 + as_of.dt.month().cast(pl.Int32) - 1
    month_before_end = as_of.dt.month_start() - pl.duration(days=1)
    lagging = pl.col("_last_m") == as_of_m - 1
    return (
        pl.when(as_of >= pl.col("target_date")).then(pl.col("target_date"))
        .when(lagging).then(month_before_end)
        .otherwise(as_of)
    )


def _linear_share(day: pl.Expr) -> pl.Expr:
    start = pl.date(pl.col("year") - 1, 12, 31)
    days = (pl.date(pl.col("year"), 12, 31) - start).dt.total_days()
    return ((day - start).dt.total_days() / days).clip(0.0, 1.0)


def _seasonal_share(day: pl.Expr) -> pl.Expr:
    """Last year's cumulative share at the start of `day`'s month, plus that month's
    share times the fraction of the month elapsed (null without a profile)."""
    month = day.dt.month().cast(pl.Int32)
    before = pl.col("_cum").list.get(month - 1, null_on_oob=True)
    after = pl.col("_cum").list.get(month, null_on_oob=True)
    elapsed = day.dt.day().cast(pl.Float64) / day.dt.month_end().dt.day().cast(pl.Float64)
    inside = day.dt.year() == pl.col("year")
    return (pl.when(day.dt.year() < pl.col("year")).then(0.0)
            .when(~inside).then(1.0)
            .otherwise(before + (after - before) * elapsed))


def _share(day: pl.Expr) -> pl.Expr:
    """S(day) for flow targets: the unit's seasonal profile where it has one and it gives
    a share by the judged date, else linear."""
    seasonal = _seasonal_share(day)
    usable = pl.col("_cum").is_not_null() & (_seasonal_share(pl.col("ytd_end")) > 0)
    return pl.when(~pl.col("ytd")).then(None).when(usable).then(seasonal).otherwise(
        _linear_share(day))


def _profiles(monthly: pl.DataFrame, flows: pl.DataFrame) -> pl.DataFrame:
    """Per flow (unit, indicator, target year): `_cum`, the 13 cumulative shares of last
    year's total at each month boundary (0 … 1), when all 12 months were reported with a
    positive total and no negative month."""
    keys = ["unit_id", "indicator_id"]
    if flows.is_empty() or monthly.is_empty():
        return pl.DataFrame(schema={"unit_id": pl.Int64, "indicator_id": pl.Int64,
                                    "year": pl.Int32, "_cum": pl.List(pl.Float64)})
    months = monthly.filter(pl.col("value").is_not_null()).with_columns(
        (pl.col("b_m0") // 12 + 1).cast(pl.Int32).alias("year")).join(
        flows.with_columns(pl.col("year").cast(pl.Int32)), on=[*keys, "year"], how="semi")
    complete = months.sort("b_m0").group_by([*keys, "year"]).agg(
        pl.col("value"), pl.len().alias("n"), pl.col("value").sum().alias("total"),
        pl.col("value").min().alias("low"),
    ).filter((pl.col("n") == 12) & (pl.col("total") > 0) & (pl.col("low") >= 0))
    cum = pl.concat_list(pl.lit(0.0), pl.col("value").list.eval(pl.element().cum_sum())
                         ) / pl.col("total")
    return complete.select(pl.col(keys).cast(pl.Int64), "year", cum.alias("_cum"))


def _last_reported(monthly: pl.DataFrame, flows: pl.DataFrame) -> pl.DataFrame:
    """Per flow (unit, indicator, target year): `_last_m`, the last month of that year
    with a rolled-up figure (a month's own, or the last month of a cumulative figure)."""
    keys = ["unit_id", "indicator_id"]
    if flows.is_empty():  # every flow closed at its year's end: no month to look for
        return pl.DataFrame(schema={"unit_id": pl.Int64, "indicator_id": pl.Int64,
                                    "year": pl.Int32, "_last_m": pl.Int32})
    present = monthly.lazy().filter(pl.col("value").is_not_null()).with_columns(
        (pl.col("b_m0") // 12).cast(pl.Int32).alias("year"))
    found = present.join(flows.lazy().with_columns(pl.col("year").cast(pl.Int32)),
                         on=[*keys, "year"], how="semi").collect()
    return found.group_by([*keys, "year"]).agg(pl.col("b_m0").max().alias("_last_m")).select(
        pl.col(keys).cast(pl.Int64), "year", "_last_m")

"""Synthetic national data for `chiso bench rollup`: the national unit over 34 provinces
and 3,321 communes, a slice of pre-reform communes merged on 1/7/2025 through lineage,
indicators mixing flow and stock ratios and counts, monthly figures with gaps, a few
percentage-only figures, provinces' own yearly figures for some indicators (so precedence
is exercised), and a target for every unit valid at the end of each year of data and every
indicator (what the dashboard shows nationally: every year, the national unit included)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

REFORM = dt.date(2025, 7, 1)
FAR_PAST = dt.date(1900, 1, 1)
PROVINCES = 34
NATIONAL = 0  # the unit above the provinces (a ministry's view)
MERGED_SHARE = 0.10  # of today's communes formed by merging three older ones
GAP_SHARE = 0.05  # missing monthly reports
PERCENT_ONLY_SHARE = 0.002  # ratios reported without numerator and denominator


@dataclass
class NationalData:
    units: pl.DataFrame
    lineage: pl.DataFrame
    indicators: pl.DataFrame
    values: pl.DataFrame
    targets: pl.DataFrame
    today: dt.date


def generate(*, communes: int, indicators: int, months: int, seed: int,
             year: int = 2025) -> NationalData:
    rng = np.random.default_rng(seed)
    units, lineage, merged_new, old_of = _units(rng, communes)
    catalogue = _indicators(rng, indicators)
    last_m = year * 12 + 11
    month_list = np.arange(last_m - months + 1, last_m + 1, dtype=np.int32)
    values = _values(rng, units, catalogue, month_list, merged_new, old_of, year)
    first_year = int(month_list[0]) // 12
    targets = _targets(rng, units, catalogue, list(range(first_year, year + 1)))
    return NationalData(units, lineage, catalogue, values, targets, dt.date(year, 12, 31))


def _units(rng: np.random.Generator, communes: int
           ) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray, np.ndarray]:
    province_ids = np.arange(1, PROVINCES + 1, dtype=np.int64)
    commune_ids = np.arange(1000, 1000 + communes, dtype=np.int64)
    parent = np.concatenate([province_ids, rng.integers(1, PROVINCES + 1,
                                                        max(communes - PROVINCES, 0))])
    parent = parent[:communes]
    merged_new = rng.choice(commune_ids, int(communes * MERGED_SHARE), replace=False)
    old_ids = np.arange(100_000, 100_000 + 3 * len(merged_new), dtype=np.int64)
    new_of_old = np.repeat(merged_new, 3)
    parent_of = dict(zip(commune_ids.tolist(), parent.tolist(), strict=True))
    old_parent = np.array([parent_of[c] for c in new_of_old.tolist()], dtype=np.int64)
    is_new = np.isin(commune_ids, merged_new)
    n_old = len(old_ids)
    units = pl.DataFrame({
        "id": np.concatenate([[NATIONAL], province_ids, commune_ids, old_ids]),
        "parent_id": np.concatenate([[-1], np.full(PROVINCES, NATIONAL), parent, old_parent]),
        "valid_from": [FAR_PAST] * (1 + PROVINCES)
        + [REFORM if n else FAR_PAST for n in is_new.tolist()] + [FAR_PAST] * n_old,
        "valid_to": [None] * (1 + PROVINCES + communes)
        + [REFORM - dt.timedelta(days=1)] * n_old,
    }, schema={"id": pl.Int64, "parent_id": pl.Int64, "valid_from": pl.Date,
               "valid_to": pl.Date})
    units = units.with_columns(pl.when(pl.col("parent_id") < 0).then(None)
                               .otherwise(pl.col("parent_id")).alias("parent_id"))
    lineage = pl.DataFrame({
        "predecessor_id": old_ids, "successor_id": new_of_old,
        "event_date": [REFORM] * n_old, "share": [1 / 3] * n_old, "is_primary": [True] * n_old,
    }, schema={"predecessor_id": pl.Int64, "successor_id": pl.Int64, "event_date": pl.Date,
               "share": pl.Float64, "is_primary": pl.Boolean})
    return units, lineage, merged_new, old_ids


def _indicators(rng: np.random.Generator, count: int) -> pl.DataFrame:
    kinds = rng.choice(["flow_ratio", "stock_ratio", "flow_count", "stock_count",
                        "mean_score"], size=count, p=[0.4, 0.2, 0.2, 0.15, 0.05])
    lower = rng.random(count) < 0.1
    return pl.DataFrame({
        "indicator_id": np.arange(1, count + 1, dtype=np.int64),
        "is_ratio": np.isin(kinds, ["flow_ratio", "stock_ratio"]),
        "time_agg": np.where(np.isin(kinds, ["flow_ratio", "flow_count"]), "sum", "last"),
        "unit_agg": np.select([np.isin(kinds, ["flow_ratio", "stock_ratio"]),
                               kinds == "mean_score"], ["ratio_of_sums", "mean"], "sum"),
        "scale": np.where(np.isin(kinds, ["flow_ratio", "stock_ratio"]), 100.0, 1.0),
        "direction": np.where(lower & ~np.isin(kinds, ["flow_ratio", "stock_ratio"]),
                              "lower", "higher"),
        "decimals": np.ones(count, dtype=np.int64),
    })


def _values(rng: np.random.Generator, units: pl.DataFrame, catalogue: pl.DataFrame,
            month_list: np.ndarray, merged_new: np.ndarray, old_ids: np.ndarray, year: int
            ) -> pl.DataFrame:
    reform_m = REFORM.year * 12 + REFORM.month - 1
    communes = units.filter((pl.col("id") >= 1000) & (pl.col("id") < 100_000))["id"].to_numpy()
    steady = np.setdiff1d(communes, merged_new)
    before = month_list[month_list < reform_m]
    after = month_list[month_list >= reform_m]
    pairs = [(np.concatenate([steady, old_ids]), before),
             (np.concatenate([steady, merged_new]), after)]
    unit_col = np.concatenate([np.repeat(u, len(m)) for u, m in pairs])
    month_col = np.concatenate([np.tile(m, len(u)) for u, m in pairs])
    n_ind = catalogue.height
    unit_col, month_col = np.tile(unit_col, n_ind), np.tile(month_col, n_ind)
    ind_col = np.repeat(catalogue["indicator_id"].to_numpy(), len(unit_col) // n_ind)
    keep = rng.random(len(unit_col)) >= GAP_SHARE
    unit_col, month_col, ind_col = unit_col[keep], month_col[keep], ind_col[keep]
    frame = _fill_numbers(rng, unit_col, ind_col, month_col, catalogue)
    return pl.concat([frame, _province_years(rng, catalogue, year - 1)])


def _fill_numbers(rng: np.random.Generator, unit_col: np.ndarray, ind_col: np.ndarray,
                  month_col: np.ndarray, catalogue: pl.DataFrame) -> pl.DataFrame:
    n = len(unit_col)
    is_ratio = catalogue["is_ratio"].to_numpy()[ind_col - 1]
    level = 0.3 + 0.5 * ((unit_col * 7919 + ind_col * 104729) % 1000) / 1000
    trend = (month_col - month_col.min()) * 0.008
    share = np.clip(level + trend + rng.normal(0, 0.03, n), 0.0, 1.0)
    den = rng.integers(20, 400, n).astype(float)
    num = np.round(den * share)
    count = np.round(level * 50 + trend * 40 + rng.normal(0, 3, n)).clip(0)
    value = np.where(is_ratio, num / den * 100.0, count)
    percent_only = is_ratio & (rng.random(n) < PERCENT_ONLY_SHARE)
    num = np.where(is_ratio & ~percent_only, num, np.nan)
    den = np.where(is_ratio & ~percent_only, den, np.nan)
    return pl.DataFrame({
        "unit_id": unit_col.astype(np.int64), "indicator_id": ind_col.astype(np.int64),
        "p_rank": np.full(n, 3, dtype=np.int8), "p_m0": month_col.astype(np.int32),
        "p_m1": month_col.astype(np.int32),
        "num": pl.Series(num, nan_to_null=True), "den": pl.Series(den, nan_to_null=True),
        "value": value,
    })


def _province_years(rng: np.random.Generator, catalogue: pl.DataFrame, year: int
                    ) -> pl.DataFrame:
    """Provinces' own yearly figures for a tenth of the indicators (precedence)."""
    chosen = catalogue["indicator_id"].to_numpy()[::10]
    provinces = np.arange(1, PROVINCES + 1, dtype=np.int64)
    unit_col = np.repeat(provinces, len(chosen))
    ind_col = np.tile(chosen, PROVINCES)
    n = len(unit_col)
    is_ratio = catalogue["is_ratio"].to_numpy()[ind_col - 1]
    den = rng.integers(10_000, 50_000, n).astype(float)
    num = np.round(den * rng.uniform(0.3, 0.9, n))
    value = np.where(is_ratio, num / den * 100.0, rng.uniform(1000, 50_000, n).round())
    return pl.DataFrame({
        "unit_id": unit_col, "indicator_id": ind_col.astype(np.int64),
        "p_rank": np.zeros(n, dtype=np.int8), "p_m0": np.full(n, year * 12, dtype=np.int32),
        "p_m1": np.full(n, year * 12 + 11, dtype=np.int32),
        "num": pl.Series(np.where(is_ratio, num, np.nan), nan_to_null=True),
        "den": pl.Series(np.where(is_ratio, den, np.nan), nan_to_null=True),
        "value": value,
    })


def _targets(rng: np.random.Generator, units: pl.DataFrame, catalogue: pl.DataFrame,
             years: list[int]) -> pl.DataFrame:
    """A target for every unit valid at the end of each year and every indicator."""
    frames = []
    for year in years:
        end = dt.date(year, 12, 31)
        current = units.filter((pl.col("valid_from") <= end)
                               & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= end)))
        frames.append(_year_targets(rng, current["id"].to_numpy(), catalogue, year))
    targets = pl.concat(frames)
    return targets.with_columns(pl.int_range(1, targets.height + 1, dtype=pl.Int64)
                                .alias("target_id"))


def _year_targets(rng: np.random.Generator, unit_ids: np.ndarray, catalogue: pl.DataFrame,
                  year: int) -> pl.DataFrame:
    unit_col = np.repeat(unit_ids, catalogue.height)
    ind_col = np.tile(catalogue["indicator_id"].to_numpy(), len(unit_ids))
    n = len(unit_col)
    is_ratio = catalogue["is_ratio"].to_numpy()[ind_col - 1]
    lower = (catalogue["direction"].to_numpy() == "lower")[ind_col - 1]
    is_above_communes = unit_col <= PROVINCES
    typical = np.where(is_ratio, 60.0, np.where(is_above_communes, 25_000.0, 300.0))
    target = np.round(typical * rng.uniform(0.6, 1.5, n), 1)
    has_baseline = rng.random(n) < 0.5
    baseline = np.where(has_baseline, np.round(target * rng.uniform(0.3, 0.8, n), 1), np.nan)
    return pl.DataFrame({
        "target_id": np.zeros(n, dtype=np.int64), "unit_id": unit_col,
        "indicator_id": ind_col, "year": np.full(n, year, dtype=np.int64),
        "target_date": [dt.date(year, 12, 31)] * n,
        "comparator": np.where(lower, "<=", ">="),
        "target_value": target, "value_high": pl.Series([None] * n, dtype=pl.Float64),
        "baseline_value": pl.Series(baseline, nan_to_null=True),
        "baseline_date": pl.Series([dt.date(year - 1, 12, 31)] * n, dtype=pl.Date),
        "trajectory": ["linear"] * n,
    })

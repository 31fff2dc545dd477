"""Deterministic synthetic figures for the demo province (pure: frames in, frames out).

Each indicator follows a trend from its January 2022 level, with a fixed offset per
commune, monthly noise, a Tết dip in dossier volumes and a few gaps; then the 2025 figures
are scaled so that the province's 2025 value lands on the scenario's `result_2025`. That
makes the demo tell a clear story: every status (achieved, on track, at risk, off track,
no data) occurs for 2025.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from chiso.periods import parse_period

MERGER_DAY = dt.date(2025, 7, 1)

# Mean size of one (pre-2025) commune, by what the denominator counts.
COMMUNE_SIZE = {
    "dossiers": 180.0, "fee_dossiers": 70.0, "households": 1300.0, "adults": 3300.0,
    "people15": 3600.0,
}
PROVINCE_SIZE = {
    "services": 1650.0, "grdp": 42_000.0, "firms": 2_600.0, "systems": 51.0,
    "endpoints": 4_300.0,
}
FLOW_SIZES = {"dossiers", "fee_dossiers", "grdp", "services"}
# Tết falls in January/February: fewer dossiers.
SEASON = np.array([0.9, 0.62, 1.05, 1.0, 1.0, 1.02, 1.0, 1.0, 1.03, 1.05, 1.04, 1.12])


@dataclass
class Spec:
    """One indicator's story (see chiso/demo/data/scenario.yaml)."""

    code: str
    indicator_id: int
    level: str
    size: str
    start: float
    result_2025: float | None
    trend_2025: float | None = None
    gap_years: list[int] = field(default_factory=list)
    scale: float = 100.0

    @property
    def is_flow(self) -> bool:
        return self.size in FLOW_SIZES


def months_until(last_day: dt.date) -> list[str]:
    """Month ids from 202201 to the last full month before `last_day`."""
    first = dt.date(2022, 1, 1)
    end = last_day.replace(day=1) - dt.timedelta(days=1)
    ids, day = [], first
    while day <= end:
        ids.append(f"{day.year}{day.month:02d}")
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return ids


def _trend(spec: Spec, month_index: np.ndarray) -> np.ndarray:
    """The province's underlying rate by month: a line through January 2022 and the
    2025 result, flattening after 2025, kept within 0–100."""
    end = spec.result_2025 if spec.result_2025 is not None else spec.trend_2025 or spec.start
    slope = (end - spec.start) / 47.0  # 47 months from Jan 2022 to Dec 2025
    rate = spec.start + slope * np.minimum(month_index, 47)
    rate += 0.6 * slope * np.maximum(month_index - 47, 0)
    return np.clip(rate, 0.2, 99.6)


def commune_values(spec: Spec, old: pl.DataFrame, new: pl.DataFrame, months: list[str],
                   rng: np.random.Generator) -> pl.DataFrame:
    """Monthly numerator/denominator per commune: old communes until June 2025, the new
    (merged) communes from July 2025. `old`/`new` have unit_id and weight (mean 1)."""
    frames = []
    for index, month in enumerate(months):
        units = old if month < "202507" else new
        frames.append(_one_month(spec, units, index, int(month[4:]), rng).with_columns(
            pl.lit(month).alias("period")))
    frame = pl.concat(frames)
    frame = _drop_gaps(frame, spec, rng)
    return _calibrate(frame, spec)


def _one_month(spec: Spec, units: pl.DataFrame, index: int, month: int,
               rng: np.random.Generator) -> pl.DataFrame:
    weight = units["weight"].to_numpy()
    offsets = units["offset"].to_numpy()
    size = COMMUNE_SIZE[spec.size] * weight
    if spec.is_flow:
        denominator = rng.poisson(size * SEASON[month - 1]).astype(float)
    else:
        denominator = np.round(size * (1 + 0.002 * index))
    trend = _trend(spec, np.array([index]))[0]
    # Communes spread less around a rate near 0 % or 100 %.
    spread = min(1.0, trend / 15, (100 - trend) / 15)
    rate = np.clip(trend + spread * (offsets + rng.normal(0, 1.2, len(size))), 0.1, 99.9)
    numerator = np.round(denominator * rate / 100)
    return pl.DataFrame({"unit_id": units["unit_id"], "numerator": numerator,
                         "denominator": denominator})


def _drop_gaps(frame: pl.DataFrame, spec: Spec, rng: np.random.Generator) -> pl.DataFrame:
    """About 2% of commune-months are not reported, and gap years not at all."""
    keep = rng.random(frame.height) > 0.02
    frame = frame.filter(pl.Series(keep))
    years = [str(y) for y in spec.gap_years]
    return frame.filter(~pl.col("period").str.slice(0, 4).is_in(years))


def _province_2025(frame: pl.DataFrame, spec: Spec) -> float:
    rows = frame.filter(pl.col("period").str.starts_with("2025"))
    if not spec.is_flow:
        rows = rows.filter(pl.col("period") == rows["period"].max())
    return 100 * float(rows["numerator"].sum()) / float(rows["denominator"].sum())


def _calibrate(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Scale 2025 onwards so the province's 2025 value is the scenario's result."""
    if spec.result_2025 is None or frame.filter(pl.col("period").str.starts_with("2025")
                                                ).is_empty():
        return frame
    for _ in range(3):  # clipping at the denominator can leave a small remainder
        factor = spec.result_2025 / _province_2025(frame, spec)
        scaled = (pl.col("numerator") * factor).round(0).clip(0, pl.col("denominator"))
        frame = frame.with_columns(
            pl.when(pl.col("period") >= "202501").then(scaled).otherwise(pl.col("numerator"))
            .alias("numerator"))
    return frame


def province_values(spec: Spec, province_id: int, today: dt.date,
                    rng: np.random.Generator) -> pl.DataFrame:
    """What the standing office reports for the whole province: yearly for flows,
    quarterly for stocks, until the last finished period before `today`."""
    periods = []
    for year in range(2022, today.year + 1):
        if year in spec.gap_years:
            continue
        if spec.is_flow:
            periods += [str(year)] if dt.date(year, 12, 31) < today else []
        else:
            periods += [f"{year}Q{q}" for q in range(1, 5)
                        if parse_period(f"{year}Q{q}").end() < today]
    rows = []
    for period in periods:
        month_index = (parse_period(period).end().year - 2022) * 12 + \
            parse_period(period).end().month - 1
        rate = float(_trend(spec, np.array([month_index]))[0]) + rng.normal(0, 0.8)
        if period.startswith("2025") and spec.result_2025 is not None:
            rate = spec.result_2025 if period in ("2025", "2025Q4") else min(rate,
                                                                           spec.result_2025)
        denominator = round(PROVINCE_SIZE[spec.size] * (1 + 0.03 * (month_index / 12)))
        numerator = min(round(denominator * min(rate, 100.0) / 100, 1), denominator)
        rows.append({"unit_id": province_id, "period": period, "numerator": numerator,
                     "denominator": float(denominator)})
    return pl.DataFrame(rows, schema={"unit_id": pl.Int64, "period": pl.Utf8,
                                      "numerator": pl.Float64, "denominator": pl.Float64})


def with_value(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(spec.indicator_id).cast(pl.Int64).alias("indicator_id"),
        (pl.col("numerator") / pl.col("denominator") * spec.scale).alias("value"),
    ).select("unit_id", "indicator_id", "period", "numerator", "denominator", "value")


def commune_weights(units: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Relative size (mean 1) from the commune's area, and a fixed offset in rate points:
    some communes are ahead, some behind, as in real life."""
    area = units["area_km2"].fill_null(units["area_km2"].median() or 50.0).to_numpy()
    weight = np.sqrt(np.maximum(area, 1.0))
    weight = weight / weight.mean()
    return units.select("unit_id").with_columns(
        pl.Series("weight", weight), pl.Series("offset", rng.normal(0, 4.0, units.height)))

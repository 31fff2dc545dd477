"""What the overview and indicator pages show, composed from the analytics service.

Nothing here computes a status or a roll-up itself: that is `chiso.analytics`. This module
groups, orders and shapes the figures for people to read.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.analytics import cache
from chiso.analytics.service import (
    TargetStatus,
    indicator_series,
    subunit_breakdown,
    target_reach,
    target_statuses,
)
from chiso.analytics.status import Status, vocabulary
from chiso.indicators.models import Indicator, Pillar
from chiso.plans.models import Target
from chiso.settings import get_settings
from chiso.units.models import OrgUnit
from chiso.units.service import get_unit

# Worst first: what the committee must look at comes to the top of each pillar's table.
STATUS_ORDER = [Status.OFF_TRACK, Status.MISSED, Status.AT_RISK, Status.NOT_IMPLEMENTED,
                Status.NO_DATA, Status.ON_TRACK, Status.ACHIEVED, Status.MET]


@dataclass
class PillarSummary:
    code: str
    name_vi: str
    name_en: str
    counts: dict[str, int]
    rows: list[TargetStatus] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Overview:
    unit: UnitCard | OrgUnit
    year: int
    as_of: dt.date
    years: list[int]
    pillars: list[PillarSummary]
    counts: dict[str, int]
    # The vocabulary of the moment (the year-end words once every target is closed).
    statuses: list[Status] = field(default_factory=list)
    closed: bool = False
    illustrative: bool = False  # some actual rests on figures the demo invented
    not_aggregatable: int = 0  # sub-unit figures that could not enter a total

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class UnitCard:
    """What the dashboard shows of a unit: a plain copy, shared between requests."""

    id: int
    code: str
    name: str
    name_en: str = ""


def unit_card(session: Session, code: str) -> UnitCard:
    """The unit with this code valid today (raises UnitNotFound), memoised with the units:
    every dashboard request starts with this lookup."""
    day = get_settings().current_date()

    def load() -> tuple[UnitCard, cache.Reach]:
        unit = get_unit(session, code, day)
        return UnitCard(unit.id, unit.code, unit.name, unit.name_en or ""), cache.NO_VALUES

    return cache.memoized(session, ("unit_card", code, day), load)


def target_years(session: Session, unit_id: int) -> list[int]:
    """Years in which the unit has targets, for the year picker."""
    years = session.scalars(select(Target.year).where(Target.unit_id == unit_id).distinct())
    return sorted(years)


def overview(session: Session, *, unit: UnitCard | OrgUnit, year: int,
             as_of: dt.date | None = None) -> Overview:
    # Today by default, as in the API and `chiso status`: each target is judged on the
    # earlier of that day and its own date (a 2025 target due 31/03/2026 is judged then,
    # not on 31/12/2025), so the page, the API and the terminal say the same.
    as_of = as_of or get_settings().current_date()
    statuses = target_statuses(session, unit_code=unit.code, year=year, as_of=as_of)
    closed = all(s.closed for s in statuses) if statuses else as_of >= dt.date(year, 12, 31)
    words = vocabulary([s.closed for s in statuses] or [closed])
    pillars = _pillar_summaries(session, statuses, words)
    counts = Counter(str(s.status) for s in statuses)
    return Overview(unit=unit, year=year, as_of=as_of, years=target_years(session, unit.id),
                    pillars=pillars, counts={s.value: counts.get(s.value, 0) for s in words},
                    statuses=words, closed=closed,
                    illustrative=any(s.illustrative for s in statuses),
                    not_aggregatable=sum(s.not_aggregatable for s in statuses))


def drawn_overview(session: Session, *, unit: UnitCard | OrgUnit, year: int, as_of: dt.date | None,
                   locale: str, draw: Callable[[Overview], str]) -> str:
    """`draw(overview(...))`, reused while none of the values it shows has changed: the
    drawing depends only on the data and the language, and leaders reload this page all
    day while officers enter figures for other indicators and units."""
    as_of = as_of or get_settings().current_date()

    def compute() -> tuple[str, cache.Reach]:
        drawn = draw(overview(session, unit=unit, year=year, as_of=as_of))
        return drawn, target_reach(session, unit_code=unit.code, year=year, as_of=as_of)

    return cache.memoized(session, ("overview_html", unit.code, year, as_of, locale), compute)


def _pillar_summaries(session: Session, statuses: list[TargetStatus], words: list[Status]
                      ) -> list[PillarSummary]:
    pillars = session.scalars(select(Pillar).order_by(Pillar.sort_order)).all()
    by_code = {p.code: PillarSummary(p.code, p.name_vi, p.name_en, dict.fromkeys(
        [s.value for s in words], 0)) for p in pillars}
    for row in statuses:
        summary = by_code.setdefault(row.pillar_code or "", PillarSummary(
            row.pillar_code or "", "Khác", "Other", dict.fromkeys([s.value for s in words], 0)))
        summary.counts[str(row.status)] += 1
        summary.rows.append(row)
    for summary in by_code.values():
        summary.rows.sort(key=lambda r: (STATUS_ORDER.index(Status(r.status)), r.indicator_code))
    return [s for s in by_code.values() if s.rows]


@dataclass
class IndicatorDetail:
    unit: UnitCard | OrgUnit
    indicator: Indicator
    year: int
    status: TargetStatus | None
    chart: dict[str, Any]
    breakdown: list[dict[str, Any]]
    silent_units: list[str]  # sub-units with no figure for the year
    closed: bool = False  # the year (the target's date) is over
    illustrative: bool = False  # a figure on the page rests on figures the demo invented
    not_aggregatable: int = 0  # sub-unit figures that could not enter the unit's total


def indicator_detail(session: Session, *, unit: UnitCard | OrgUnit, indicator: Indicator,
                     year: int) -> IndicatorDetail:
    status = next((s for s in target_statuses(session, unit_code=unit.code, year=year)
                   if s.indicator_code == indicator.code), None)
    series = indicator_series(session, unit_code=unit.code, indicator_code=indicator.code,
                              year_from=year - 2, year_to=year)
    breakdown = subunit_breakdown(session, unit_code=unit.code, indicator_code=indicator.code,
                                  period=str(year))
    closed = status.closed if status else get_settings().current_date() >= dt.date(year, 12, 31)
    return IndicatorDetail(
        unit=unit, indicator=indicator, year=year, status=status,
        chart=_chart_data(indicator, series, status, year),
        breakdown=_breakdown_rows(breakdown),
        silent_units=breakdown.filter(pl.col("value").is_null()
                                      & (pl.col("not_aggregatable") == 0))["unit_name"].to_list(),
        closed=closed,
        illustrative=bool((status and status.illustrative) or series["illustrative"].any()
                          or breakdown["illustrative"].any()),
        not_aggregatable=int(breakdown["not_aggregatable"].sum()),
    )


def _chart_data(indicator: Indicator, series: pl.DataFrame, status: TargetStatus | None,
                year: int) -> dict[str, Any]:
    """Monthly values, the year-to-date value of the target year, and the path."""
    months = series.sort("period")
    ytd = _year_to_date(indicator, months.filter(pl.col("period").str.starts_with(str(year))))
    return {
        "periods": months["period"].to_list(),
        "values": [_round(v, indicator.decimals) for v in months["value"].to_list()],
        "ytd_periods": ytd["period"].to_list(),
        "ytd_values": [_round(v, indicator.decimals) for v in ytd["ytd"].to_list()],
        "path": _path_points(status, year),
        "target": status.target_value if status else None,
        "projected": _round(status.projected, indicator.decimals) if status else None,
        "unit": indicator.unit_vi,
        "lower_is_better": indicator.direction == "lower",
    }


def _year_to_date(indicator: Indicator, months: pl.DataFrame) -> pl.DataFrame:
    """A flow's running total (Σnum/Σden for ratios) up to its last reported month (not
    drawn flat into months to come); a stock's own latest value."""
    if indicator.time_aggregation != "sum":
        return months.select("period", pl.col("value").alias("ytd"))
    ytd: pl.Expr
    if indicator.kind == "ratio":
        denominators = pl.col("denominator").fill_null(0).cum_sum()
        ytd = pl.when(denominators > 0).then(
            pl.col("numerator").fill_null(0).cum_sum() / denominators * indicator.scale)
    else:
        ytd = pl.col("value").fill_null(0).cum_sum()
    reported = pl.col("value").is_not_null().cast(pl.Int32).cum_sum(reverse=True) > 0
    return months.select("period", pl.when(reported).then(ytd).alias("ytd"))


def _path_points(status: TargetStatus | None, year: int) -> list[list[Any]]:
    """The expected path as (month id, value) points: the baseline at the start of the
    year (for a yearly total, drawn against its running total: 0 at the end of last year),
    the expected value at the date it is judged at, the target at its date."""
    if status is None:
        return []
    points: list[list[Any]] = []
    if status.year_to_date:  # a running total starts from 0 at the end of last year
        points.append([f"{year - 1}12", 0.0])
    elif status.baseline_value is not None:
        points.append([f"{year}01", status.baseline_value])
    judged = status.year_to_date or status.as_of
    if status.expected is not None and judged:
        points.append([f"{judged.year}{judged.month:02d}", status.expected])
    end = status.target_date
    points.append([f"{end.year}{end.month:02d}", status.target_value])
    # The last point for a month wins: at the target date the target replaces the path.
    return list({month: [month, value] for month, value in points}.values())


def _breakdown_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Sub-units that reported, best first (units that did not report are counted apart;
    a unit whose figures could not enter the total stays listed, flagged)."""
    shown = pl.col("value").is_not_null() | (pl.col("not_aggregatable") > 0)
    return frame.filter(shown).sort("value", descending=True, nulls_last=True).to_dicts()


def _round(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)

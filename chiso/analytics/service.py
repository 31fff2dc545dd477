"""What the web, the CLI and the reports ask analytics (contract in docs/CONTRACTS.md).

Each call reads units, lineage, indicators, targets and values live from the database and
computes in memory (Polars): a value saved a moment ago shows in the next answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.analytics import cache, evaluate, frames, lineage, projection, rollup
from chiso.analytics.answers import TargetStatus
from chiso.analytics.snapshot import Answer, Question
from chiso.analytics.status import Status
from chiso.errors import NotFound
from chiso.indicators.models import Pillar
from chiso.periods import Period, PeriodType, parse_period
from chiso.settings import get_settings
from chiso.units.service import get_unit

__all__ = ["Status", "TargetStatus", "UnknownIndicator", "UnknownUnit", "indicator_series",
           "rolled_up_value", "subunit_breakdown", "target_statuses", "unit_id_for"]


class UnknownUnit(NotFound, LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'",
                         data={"unit": code})


class UnknownIndicator(NotFound, LookupError):
    def __init__(self, code: str) -> None:
        super().__init__(f"Không có chỉ tiêu mã '{code}'", f"no indicator with code '{code}'",
                         data={"indicator": code})


# ----------------------------------------------------------------------------- lookups

@dataclass(frozen=True)
class _World:
    units: pl.DataFrame
    lineage: pl.DataFrame
    code: str = ""  # the unit code it was built for (a memo key)

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(self.units["id"].to_list())


def _world(session: Session, unit_code: str) -> _World:
    """The units that matter for this unit: its subtree and their history, at any date.
    Reads no values, so only a change of units or lineage recomputes it."""
    return cache.memoized(session, ("world", unit_code),
                          lambda: (_load_world(session, unit_code), cache.NO_VALUES))


def _load_world(session: Session, unit_code: str) -> _World:
    roots = frames.unit_ids_with_code(session, unit_code)
    if not roots:
        raise UnknownUnit(unit_code)
    scope = frames.scope_unit_ids(session, roots)
    return _World(frames.load_units(session, scope), frames.load_lineage(session, scope),
                  unit_code)


def _unit_row(world: _World, code: str, day: dt.date) -> dict[str, Any]:
    """The unit with this code valid on `day`, else the latest one with this code."""
    matches = world.units.filter(pl.col("code") == code)
    if matches.is_empty():
        raise UnknownUnit(code)
    valid = matches.filter(lineage.valid_on(matches, day))
    chosen = valid if not valid.is_empty() else matches.sort("valid_from").tail(1)
    return chosen.row(0, named=True)


def _hierarchy_day(unit: dict[str, Any], day: dt.date) -> dt.date:
    """Today's hierarchy, or the last day of a unit that no longer exists."""
    valid_to = unit["valid_to"]
    return valid_to if isinstance(valid_to, dt.date) and valid_to < day else day


def _scope_ids(world: _World, root_ids: list[int], days: list[dt.date],
               session: Session | None = None) -> list[int]:
    """Every unit whose figures can reach the roots on any of `days` (subtree + history);
    memoised with the world when a session is given."""
    if session is not None and world.code:
        return cache.memoized(session, ("scope", world.code, tuple(root_ids), tuple(days)),
                              lambda: (_scope_ids(world, root_ids, days), cache.NO_VALUES))
    ids: set[int] = set()
    for day in days:
        tree = lineage.current_tree(world.units, world.lineage, day)
        below = lineage.descendants(tree, root_ids)
        mapping = lineage.resolve_units(world.units, world.lineage, day)
        reach = mapping.join(below.rename({"unit_id": "current_id"}), on="current_id")
        ids.update(reach["unit_id"].to_list())
    return sorted(ids | set(root_ids))


def _indicator(session: Session, code: str) -> pl.DataFrame:
    found = frames.load_indicators(session, [code])
    if found.is_empty():
        raise UnknownIndicator(code)
    return found


# ----------------------------------------------------------------------------- statuses

def target_statuses(session: Session, *, unit_code: str, year: int,
                    as_of: dt.date | None = None, known_at: dt.datetime | None = None
                    ) -> list[TargetStatus]:
    """Every target of the unit for `year`, evaluated at min(as_of or today, target date),
    on the values stored at `known_at` (default: now). Live: recomputed whenever any value,
    target, indicator or unit has changed."""
    today = as_of or get_settings().current_date()
    rows = cache.memoized(
        session, ("target_statuses", unit_code, year, today, known_at),
        lambda: _with_reach(session, unit_code, _target_statuses(
            session, unit_code, year, today, known_at=known_at)),
        refresh=lambda old, touched: _with_reach(session, unit_code, _refreshed_statuses(
            session, unit_code, year, today, old, touched, known_at)))
    return [replace(row) for row in rows]


def status_answer(session: Session, question: Question) -> Answer:
    """`chiso status`'s answer: the unit's target statuses for the year on the day asked,
    the pillars' names and the unit's name that day (computed by the CLI itself or by a
    running server for it: `analytics.resident`)."""
    rows = target_statuses(session, unit_code=question.unit, year=question.year,
                           as_of=question.day)
    pillars = {code: (vi, en) for code, vi, en in
               session.execute(select(Pillar.code, Pillar.name_vi, Pillar.name_en))}
    try:
        found = get_unit(session, question.unit, on=question.day)
        names: tuple[str, str] | None = (found.name, found.name_en)
    except NotFound:  # statuses of a code no unit holds that day: print the code
        names = None
    return Answer(rows, pillars, names)


def target_reach(session: Session, *, unit_code: str, year: int,
                 as_of: dt.date | None = None, known_at: dt.datetime | None = None
                 ) -> cache.Reach:
    """The values `target_statuses` reads for this unit and year (for callers that memoise
    what they draw from it)."""
    rows = target_statuses(session, unit_code=unit_code, year=year, as_of=as_of,
                           known_at=known_at)
    return _with_reach(session, unit_code, rows)[1]


def _with_reach(session: Session, unit_code: str, rows: list[TargetStatus]
                ) -> tuple[list[TargetStatus], cache.Reach]:
    """A target's status reads only its own indicator's values, in the unit's world."""
    indicators = frozenset(row.indicator_id for row in rows)
    return rows, cache.Reach(_world(session, unit_code).unit_ids, indicators)


def _target_statuses(session: Session, unit_code: str, year: int, today: dt.date,
                     indicator_ids: set[int] | None = None,
                     known_at: dt.datetime | None = None) -> list[TargetStatus]:
    world = _world(session, unit_code)
    unit = _unit_row(world, unit_code, min(today, dt.date(year, 12, 31)))
    evaluated = evaluate_unit_targets(session, world, [int(unit["id"])], year, today,
                                      indicator_ids=indicator_ids, known_at=known_at)
    if evaluated.is_empty():
        return []
    codes = world.units.select(pl.col("id").alias("unit_id"), pl.col("code").alias("unit_code"))
    return [_to_status(row) for row in
            evaluated.join(codes, on="unit_id", how="left").iter_rows(named=True)]


def _refreshed_statuses(session: Session, unit_code: str, year: int, today: dt.date,
                        old: list[TargetStatus], touched: set[int],
                        known_at: dt.datetime | None = None) -> list[TargetStatus]:
    """`old` with the targets of the touched indicators evaluated again: the others read
    no value that changed. Same order as a full evaluation (pillar, indicator, target)."""
    fresh = _target_statuses(session, unit_code, year, today, indicator_ids=touched,
                             known_at=known_at)
    kept = [row for row in old if row.indicator_id not in touched]
    return sorted([*kept, *fresh], key=lambda r: (r.pillar_code is None, r.pillar_code or "",
                                                  r.indicator_code, r.target_id))


def evaluate_unit_targets(session: Session, world: _World, unit_ids: list[int], year: int,
                          today: dt.date, indicator_ids: set[int] | None = None,
                          known_at: dt.datetime | None = None) -> pl.DataFrame:
    """Evaluated targets (one row each) of these units for `year`, sorted by pillar; only
    the targets of `indicator_ids` when given. Each target is judged as things stood on its
    own day, min(today, its target date): the version of it in force that day and the
    cumulative figures ended by then — so a closed year reads the same whenever it is read,
    and a target dated 30/06 the same whatever other targets its unit has."""
    targets = _targets_on_their_days(session, unit_ids, year, today, indicator_ids,
                                     known_at)
    if targets.is_empty():
        return targets
    indicators = frames.load_indicators(session).filter(
        pl.col("indicator_id").is_in(targets["indicator_id"].unique().to_list()))
    days = sorted({min(today, d) for d in targets["target_date"].to_list()})
    scope = _scope_ids(world, unit_ids, days, session)
    values = frames.load_values(
        session, unit_ids=scope, indicator_ids=indicators["indicator_id"].to_list(),
        first_day=_history_start(year, days[0]), last_day=days[-1], known_at=known_at,
        one_figure_per_year=False)
    # Without cumulative figures every day reads the same values: one evaluation (the
    # usual case; `evaluate_targets` still judges each target on its own day).
    groups = ([(days[-1], targets)] if len(days) == 1 or not frames.has_spans(values) else
              [(day, targets.filter(_judged_on(today) == day)) for day in days])
    measures = indicators.select("indicator_id", "is_ratio", "time_agg", "unit_agg", "scale",
                                 "direction", "decimals")
    evaluated = pl.concat([
        evaluate.evaluate_targets(targets=group.drop("target_pillar"),
                                  values=frames.figures_on(values, day), indicators=measures,
                                  units=world.units, unit_lineage=world.lineage, today=today)
        for day, group in groups], how="diagonal_relaxed")
    meta = indicators.select("indicator_id", "code", "name_vi", "name_en", "pillar_code",
                             "unit_vi", "unit_en")
    pillars = targets.select("target_id", "target_pillar")
    return (
        evaluated.join(meta, on="indicator_id", how="left").join(pillars, on="target_id")
        .with_columns(pl.coalesce("target_pillar", "pillar_code").alias("pillar_code"))
        .sort(["pillar_code", "code", "target_id"], nulls_last=True)
    )


def _judged_on(today: dt.date) -> pl.Expr:
    return pl.min_horizontal(pl.col("target_date"), pl.lit(today))


def _targets_on_their_days(session: Session, unit_ids: list[int], year: int,
                           today: dt.date, indicator_ids: set[int] | None,
                           known_at: dt.datetime | None) -> pl.DataFrame:
    """The targets, each in the version in force on min(today, its target date): a
    revision taking effect after a target's date does not change how its year ended."""
    def load(day: dt.date) -> pl.DataFrame:
        found = frames.load_targets(session, unit_ids=unit_ids, year=year, on=day,
                                    known_at=known_at)
        if indicator_ids is not None:
            found = found.filter(pl.col("indicator_id").is_in(sorted(indicator_ids)))
        return found

    targets = load(today)
    earlier = sorted({d for d in targets["target_date"].to_list() if d < today})
    if not earlier:
        return targets
    parts = [targets.filter(_judged_on(today) == today)]
    parts += [load(day).filter(pl.col("target_date") == day) for day in earlier]
    return pl.concat(parts).sort("target_id")


def _history_start(year: int, first_as_of: dt.date) -> dt.date:
    """Enough history for last year's value and a 24-month trend (the as-of month and the
    23 before it)."""
    first_month = first_as_of.year * 12 + first_as_of.month - 1 - (projection.TREND_MONTHS - 1)
    trend_start = dt.date(first_month // 12, first_month % 12 + 1, 1)
    return min(dt.date(year - 1, 1, 1), trend_start)


def _to_status(row: dict[str, Any]) -> TargetStatus:
    def number(key: str) -> float | None:
        value = row.get(key)
        return None if value is None else float(value)

    return TargetStatus(
        target_id=int(row["target_id"]), plan_code=str(row["plan_code"]),
        indicator_code=str(row["code"]), indicator_name_vi=str(row["name_vi"]),
        indicator_name_en=str(row["name_en"]),
        pillar_code=row["pillar_code"],
        unit_code=str(row["unit_code"]), year=int(row["year"]),
        comparator=str(row["comparator"]), target_value=float(row["target_value"]),
        baseline_value=number("b_value"), actual=number("actual"),
        expected=number("expected"), projected=number("projected"),
        status=Status(str(row["status"])), progress_ratio=number("progress_ratio"),
        decimals=int(row["decimals"] or 0), unit_vi=str(row["unit_vi"] or ""),
        unit_en=str(row["unit_en"] or ""), direction=str(row["direction"]),
        target_date=row["target_date"],
        value_high=number("value_high"), as_of=row["as_of"],
        projected_year_end=number("projected_year_end"),
        year_end=row.get("year_end"),
        not_aggregatable=int(row.get("n_nonagg") or 0),
        indicator_id=int(row["indicator_id"]), unit_id=int(row["unit_id"]),
        closed=bool(row.get("closed")), illustrative=bool(row.get("illustrative")),
        year_to_date=row.get("ytd_end"), estimate=bool(row.get("estimate")),
    )


# ----------------------------------------------------------------------------- values

def _rolled(session: Session, *, unit_code: str, indicator_code: str,
            bucket_type: rollup.BucketType, buckets: list[Period],
            known_at: dt.datetime | None = None, on: dt.date | None = None
            ) -> tuple[pl.DataFrame, dict[str, Any], _World]:
    """Rolled-up values per bucket for the unit and everything below it, with an
    `illustrative` flag per row (a figure the demo invented is behind it) and an `estimate`
    flag (an estimate no official figure has replaced yet is behind it). A cumulative
    bucket (`rollup.Span`) reads every figure inside it, its own span's included: no
    figure stands for its year here. `on` (default today) is the day whose unit holds the
    code and whose hierarchy the figures roll up on (a past report's day)."""
    today = on or get_settings().current_date()
    world = _world(session, unit_code)
    unit = _unit_row(world, unit_code, today)
    day = _hierarchy_day(unit, today)
    indicator = _indicator(session, indicator_code)
    scope = _scope_ids(world, [int(unit["id"])], [day])
    first, last = min(buckets), max(buckets)
    # A cumulative figure counts once its last month has ended: by today, not by the
    # buckets' end (an early "11 months" entered on 20/11 is not yet the year's figure).
    values = frames.load_values(session, unit_ids=scope,
                                indicator_ids=indicator["indicator_id"].to_list(),
                                first_day=first.start(), last_day=min(last.end(), today),
                                known_at=known_at,
                                one_figure_per_year=not isinstance(bucket_type, rollup.Span))
    starts = [rollup.month_index(p.year, p.first_month) for p in buckets]
    rolled = evaluate.rolled_values(values, indicator, world.units, world.lineage, day,
                                    bucket_type, starts)
    return rolled.with_columns(
        rollup.has_flag(rollup.ILLUSTRATIVE, rolled).alias("illustrative"),
        rollup.has_flag(rollup.ESTIMATE, rolled).alias("estimate")), unit, world


def rolled_up_value(session: Session, *, unit_code: str, indicator_code: str, period: str,
                    known_at: dt.datetime | None = None) -> float | None:
    """The unit's value for the period: its own figure, else its sub-units' roll-up (as
    stored at `known_at`, default now)."""
    target = parse_period(period)
    rolled, unit, _ = _rolled(session, unit_code=unit_code, indicator_code=indicator_code,
                              bucket_type=rollup.bucket_kind(target), buckets=[target],
                              known_at=known_at)
    mine = rolled.filter(pl.col("unit_id") == unit["id"])
    return None if mine.is_empty() else mine["value"][0]


def indicator_series(session: Session, *, unit_code: str, indicator_code: str, year_from: int,
                     year_to: int, period_type: str = "M", known_at: dt.datetime | None = None,
                     on: dt.date | None = None) -> pl.DataFrame:
    """[period, period_end, numerator, denominator, value, illustrative, estimate] for every
    period of the type in the years, including periods without data (value null, flags
    false), oldest first; as stored at `known_at` (default now), for the unit holding the
    code on `on` (default today: `_rolled`)."""
    day = on or get_settings().current_date()
    key = ("indicator_series", unit_code, indicator_code, year_from, year_to, period_type,
           day, known_at)
    return cache.memoized(session, key, lambda: (_indicator_series(
        session, unit_code, indicator_code, year_from, year_to, period_type, known_at, day),
        _indicator_reach(session, unit_code, indicator_code)))


def _indicator_series(session: Session, unit_code: str, indicator_code: str, year_from: int,
                      year_to: int, period_type: str, known_at: dt.datetime | None,
                      day: dt.date) -> pl.DataFrame:
    ptype = PeriodType(period_type)
    periods = [Period(y, ptype, i) for y in range(year_from, year_to + 1)
               for i in range(1, 12 // ptype.months + 1)]
    rolled, unit, _ = _rolled(session, unit_code=unit_code, indicator_code=indicator_code,
                              bucket_type=ptype, buckets=periods, known_at=known_at, on=day)
    skeleton = pl.DataFrame({
        "period": [p.id for p in periods], "period_end": [p.end() for p in periods],
        "b_m0": [rollup.month_index(p.year, p.first_month) for p in periods],
    }, schema={"period": pl.Utf8, "period_end": pl.Date, "b_m0": pl.Int32})
    mine = rolled.filter(pl.col("unit_id") == unit["id"]).select(
        "b_m0", "num", "den", "value", "illustrative", "estimate")
    return skeleton.join(mine, on="b_m0", how="left").sort("b_m0").select(
        "period", "period_end", pl.col("num").alias("numerator"),
        pl.col("den").alias("denominator"), "value",
        pl.col("illustrative").fill_null(False), pl.col("estimate").fill_null(False))


def subunit_breakdown(session: Session, *, unit_code: str, indicator_code: str, period: str,
                      known_at: dt.datetime | None = None) -> pl.DataFrame:
    """See `_subunit_breakdown`; reused while the data is unchanged."""
    key = ("subunit_breakdown", unit_code, indicator_code, period,
           get_settings().current_date(), known_at)
    return cache.memoized(session, key, lambda: (_subunit_breakdown(
        session, unit_code, indicator_code, period, known_at),
        _indicator_reach(session, unit_code, indicator_code)))


def _indicator_reach(session: Session, unit_code: str, indicator_code: str) -> cache.Reach:
    """One indicator's values in the unit's world (its targets' statuses read no more)."""
    ids = _indicator(session, indicator_code)["indicator_id"].to_list()
    return cache.Reach(_world(session, unit_code).unit_ids, frozenset(ids))


def _subunit_breakdown(session: Session, unit_code: str, indicator_code: str, period: str,
                       known_at: dt.datetime | None = None) -> pl.DataFrame:
    """[unit_code, unit_name, numerator, denominator, value, status, illustrative,
    not_aggregatable, former, replaced, estimate] for each direct sub-unit valid today, then each
    former part of the unit with a figure (an absorbed district: `former`); `status` comes
    from a sub-unit's own target for the period's year (null when it has none);
    `not_aggregatable` counts the figures of the row (its own, or below it) that cannot
    enter the unit's ratio of sums (percentages reported without their parts); `replaced`
    says some figures behind the row are counted in the total through a former unit's own
    figure instead."""
    target = parse_period(period)
    rolled, unit, world = _rolled(session, unit_code=unit_code, indicator_code=indicator_code,
                                  bucket_type=rollup.bucket_kind(target), buckets=[target],
                                  known_at=known_at)
    day = _hierarchy_day(unit, get_settings().current_date())
    tree = lineage.current_tree(world.units, world.lineage, day)
    children = tree.filter(pl.col("parent_id") == unit["id"]).select("unit_id")
    formers = lineage.part_units(world.units, world.lineage, day).filter(
        pl.col("parent_id") == unit["id"]).join(
        rolled.filter(pl.col("value").is_not_null()), on="unit_id", how="semi")
    rows = pl.concat([children.with_columns(pl.lit(False).alias("former")),
                      formers.select("unit_id", pl.lit(True).alias("former"))])
    names = world.units.select(pl.col("id").alias("unit_id"), pl.col("code").alias("unit_code"),
                               pl.col("name").alias("unit_name"))
    table = (
        rows.join(names, on="unit_id")
        .join(rolled.select("unit_id", "num", "den", "value", "n_nonagg", "illustrative",
                            "replaced", "estimate"), on="unit_id", how="left")
        .join(_child_statuses(session, world, children["unit_id"].to_list(), indicator_code,
                              target.year, known_at), on="unit_id", how="left")
    )
    ratio_of_sums = _indicator(session, indicator_code)["unit_agg"][0] == "ratio_of_sums"
    no_parts = pl.col("value").is_not_null() & (pl.col("num").is_null()
                                                | pl.col("den").is_null())
    left_out = pl.col("n_nonagg").fill_null(0) + (no_parts & ratio_of_sums).cast(pl.Int32)
    return table.sort("former", "unit_code").select(
        "unit_code", "unit_name", pl.col("num").alias("numerator"),
        pl.col("den").alias("denominator"), "value", "status",
        pl.col("illustrative").fill_null(False), left_out.alias("not_aggregatable"),
        "former", pl.col("replaced").fill_null(False), pl.col("estimate").fill_null(False))


def _child_statuses(session: Session, world: _World, unit_ids: list[int], indicator_code: str,
                    year: int, known_at: dt.datetime | None = None) -> pl.DataFrame:
    empty = pl.DataFrame(schema={"unit_id": pl.Int64, "status": pl.Utf8})
    if not unit_ids:
        return empty
    evaluated = evaluate_unit_targets(session, world, unit_ids, year,
                                      get_settings().current_date(), known_at=known_at)
    if evaluated.is_empty():
        return empty
    return (evaluated.filter(pl.col("code") == indicator_code)
            .group_by("unit_id").agg(pl.col("status").first()))


def unit_id_for(session: Session, unit_code: str, day: dt.date | None = None) -> int:
    """The id of the unit with this code valid on `day` (default today); raises UnknownUnit."""
    day = day or get_settings().current_date()
    return cache.memoized(session, ("unit_id", unit_code, day),
                          lambda: (_unit_id_for(session, unit_code, day), cache.NO_VALUES))


def _unit_id_for(session: Session, unit_code: str, day: dt.date) -> int:
    roots = frames.unit_ids_with_code(session, unit_code)
    if not roots:
        raise UnknownUnit(unit_code)
    world = _World(frames.load_units(session, roots), frames.load_lineage(session, []))
    return int(_unit_row(world, unit_code, day)["id"])

"""Load the frames analytics work on, with SQLAlchemy Core selects (no ORM objects).

Every call reads the database afresh, so a value saved a moment ago is in the next answer:
there is no analytics table to rebuild (DHIS2 needs one; chiso does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Integer, Select, and_, any_, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from chiso.analytics import rollup
from chiso.analytics.rollup import with_period_parts
from chiso.db import columnar
from chiso.db.reads import collector_paused
from chiso.indicators.models import Indicator
from chiso.plans import details
from chiso.plans.models import Plan, Target
from chiso.plans.revisions import in_force_subquery
from chiso.text import parse_date, to_utc
from chiso.units.models import OrgUnit, UnitLineage
from chiso.values.models import DataValue, DataValueVersion

UNIT_SCHEMA = {"id": pl.Int64, "code": pl.Utf8, "name": pl.Utf8, "name_en": pl.Utf8,
               "kind": pl.Utf8, "parent_id": pl.Int64, "valid_from": pl.Date,
               "valid_to": pl.Date}
LINEAGE_SCHEMA = {"predecessor_id": pl.Int64, "successor_id": pl.Int64,
                  "event_date": pl.Date, "share": pl.Float64, "is_primary": pl.Boolean,
                  "kind": pl.Utf8}
INDICATOR_SCHEMA = {"indicator_id": pl.Int64, "code": pl.Utf8, "name_vi": pl.Utf8,
                    "name_en": pl.Utf8, "kind": pl.Utf8, "direction": pl.Utf8,
                    "unit_agg": pl.Utf8, "time_agg": pl.Utf8, "scale": pl.Float64,
                    "decimals": pl.Int64, "pillar_code": pl.Utf8, "unit_vi": pl.Utf8,
                    "unit_en": pl.Utf8}
VALUE_SCHEMA = {"unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.Utf8,
                "num": pl.Float64, "den": pl.Float64, "value": pl.Float64,
                rollup.FLAGS: pl.Int8}
DEMO_SOURCE = "demo"  # the source the demo stores its invented figures with ("demo: …" too)
TARGET_SCHEMA = {"target_id": pl.Int64, "plan_code": pl.Utf8, "unit_id": pl.Int64,
                 "indicator_id": pl.Int64, "year": pl.Int64, "target_date": pl.Date,
                 "comparator": pl.Utf8, "target_value": pl.Float64, "value_high": pl.Float64,
                 "baseline_value": pl.Float64, "baseline_date": pl.Date,
                 "trajectory": pl.Utf8, "milestones": pl.Object,
                 "target_pillar": pl.Utf8}
CHUNK = 5000  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits
# A values read of at least this many (unit, indicator) pairs comes as Arrow columns
# (`chiso.db.columnar`): a columnar read costs ~2 ms more to start (its own statement and a
# check of the session), and saves ~0.3 µs a row. On the demo (PostgreSQL, 06/12/2026,
# median of 40): the province's 17 indicators × 294 units, 28,258 rows, 25 ms against
# 33–34 through the cursor; one indicator (a recompute after a save), 822 rows, 5.5 ms
# against 3.6–4.2.
COLUMNAR_PAIRS = 2000


def _frame(session: Session, query: Select, schema: dict[str, Any]) -> pl.DataFrame:
    # Core rows straight from the connection: the ORM result layer costs more than the query.
    with collector_paused():
        rows = session.connection().execute(query).fetchall()
        return _columns(rows, schema)


def _fast_frame(session: Session, query: Select, schema: dict[str, Any], *,
                large: bool = False) -> pl.DataFrame:
    """For big, plain-typed results (no dates, no JSON): the DBAPI cursor directly, which
    halves the cost of SQLAlchemy's per-row result processing — or, for a `large` result,
    Arrow columns from a connection beside the session's when it would see the same data
    (`chiso.db.columnar`, PostgreSQL). The statement is still built and rendered by
    SQLAlchemy for the dialect in use; its parameters are numbers and dates chiso made
    itself, rendered as literals."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    table = columnar.read(session, sql) if large else None
    if table is not None:
        frame = pl.DataFrame(table)
        return frame.select([pl.col(found).cast(dtype).alias(name) for found, (name, dtype)
                             in zip(frame.columns, schema.items(), strict=True)])
    dbapi: Any = connection.connection.dbapi_connection
    # psycopg: numbers sent in binary are read without parsing text (the demo's province
    # read of 28,253 values: 32 → 25 ms, 06/12/2026).
    binary = {"binary": True} if connection.dialect.driver == "psycopg" else {}
    cursor = dbapi.cursor(**binary)
    with collector_paused():
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return _columns(rows, schema)


def _columns(rows: Sequence[Sequence[Any]], schema: dict[str, Any]) -> pl.DataFrame:
    """Rows into a frame column by column: two to three times cheaper than Polars reading
    the rows one by one (a cold overview reads some 25,000 values on the demo)."""
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([pl.Series(name, column, dtype=dtype) for (name, dtype), column
                         in zip(schema.items(), zip(*rows, strict=True), strict=True)])


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted(ids)
    return [ordered[i:i + CHUNK] for i in range(0, len(ordered), CHUNK)] or [[]]


def _in(session: Session, column: Any, ids: Iterable[int]) -> Any:
    """`column IN ids`. On PostgreSQL one array parameter (`column = ANY(%s)`): a list of
    n parameters is a statement of its own for every n, parsed and planned afresh (the
    demo province's unit-tree walk, 294 ids: 5.2 → 0.9 ms a query, 06/12/2026)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, sorted(ids), type_=ARRAY(Integer)))
    return or_(*[column.in_(chunk) for chunk in _chunks(ids)])


def scope_unit_ids(session: Session, root_ids: Iterable[int]) -> set[int]:
    """The roots, everything below them, and every unit whose history flows into those
    (lineage predecessors), over all dates — a province's whole past and present."""
    found = set(root_ids)
    frontier = set(found)
    while frontier:
        children = select(OrgUnit.id).where(_in(session, OrgUnit.parent_id, frontier))
        earlier = select(UnitLineage.predecessor_id).where(
            _in(session, UnitLineage.successor_id, frontier))
        reached = {row[0] for row in session.connection().execute(children.union(earlier))}
        frontier = reached - found
        found |= frontier
    return found


def load_units(session: Session, unit_ids: Iterable[int] | None = None) -> pl.DataFrame:
    """Units valid or not (lineage needs the historic ones), all or only `unit_ids`."""
    query = select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.name_en, OrgUnit.kind,
                   OrgUnit.parent_id, OrgUnit.valid_from, OrgUnit.valid_to)
    if unit_ids is not None:
        query = query.where(_in(session, OrgUnit.id, unit_ids))
    return _frame(session, query, UNIT_SCHEMA)


def load_lineage(session: Session, unit_ids: Iterable[int] | None = None) -> pl.DataFrame:
    """Lineage links, all or those whose predecessor is one of `unit_ids`."""
    query = select(UnitLineage.predecessor_id, UnitLineage.successor_id,
                   UnitLineage.event_date, UnitLineage.share, UnitLineage.is_primary,
                   UnitLineage.kind)
    if unit_ids is not None:
        query = query.where(_in(session, UnitLineage.predecessor_id, unit_ids))
    return _frame(session, query, LINEAGE_SCHEMA)


def unit_ids_with_code(session: Session, code: str) -> list[int]:
    return [row[0] for row in session.connection().execute(
        select(OrgUnit.id).where(OrgUnit.code == code))]


def load_indicators(session: Session, codes: Iterable[str] | None = None) -> pl.DataFrame:
    """Indicators with the columns roll-up needs (`is_ratio`, `time_agg`, `unit_agg`, …)."""
    query = select(Indicator.id, Indicator.code, Indicator.name_vi, Indicator.name_en,
                   Indicator.kind, Indicator.direction, Indicator.unit_aggregation,
                   Indicator.time_aggregation, Indicator.scale, Indicator.decimals,
                   Indicator.pillar_code, Indicator.unit_vi, Indicator.unit_en)
    if codes is not None:
        query = query.where(Indicator.code.in_(list(codes)))
    frame = _frame(session, query, INDICATOR_SCHEMA)
    return frame.with_columns((pl.col("kind") == "ratio").alias("is_ratio"),
                              pl.col("scale").fill_null(1.0))


def load_values(session: Session, *, unit_ids: Sequence[int] | None, indicator_ids:
                Sequence[int], first_day: dt.date, last_day: dt.date,
                known_at: dt.datetime | None = None, one_figure_per_year: bool = True
                ) -> pl.DataFrame:
    """Values of these units and indicators for periods overlapping the two days (one that
    began before `first_day` and runs into it is read too: a former district's figure for
    a year replaces its communes' months inside that year, the first month of a trend
    included — `parts`): the current ones, or with `known_at` those stored at that instant
    (per value, its latest version changed by then; a version that deleted it removes it).
    `unit_ids=None` means every unit. A `flags` column (`rollup.ILLUSTRATIVE` for figures
    the demo invented, source "demo"; `rollup.ESTIMATE` for an estimate (ước) no official
    figure has replaced yet) is there only when some figure has one, so real data pays
    nothing for it. With `one_figure_per_year` (for buckets that read a span as its year
    so far) a unit's year keeps one figure among its own and its spans; a caller rolling
    up a span itself keeps them all."""
    window = and_(_overlapping(first_day, last_day),
                  DataValue.indicator_id.in_(list(indicator_ids)), _span_ended_by(last_day))
    if unit_ids is not None:
        window = and_(window, _in(session, DataValue.unit_id, unit_ids))
    if known_at is None:
        large = unit_ids is None or len(unit_ids) * len(indicator_ids) >= COLUMNAR_PAIRS
        frame = _fast_frame(session, _current_values(window), VALUE_SCHEMA, large=large)
    else:
        # Compared in UTC: SQLite keeps stored instants as their UTC wall time, which an
        # aware parameter is rendered to; a naive `known_at` is taken as UTC.
        frame = _frame(session, _values_known_at(window, to_utc(known_at)), VALUE_SCHEMA)
    if one_figure_per_year:
        frame = _one_figure_per_year(frame)
    return frame if (frame[rollup.FLAGS] != 0).any() else frame.drop(rollup.FLAGS)


def _overlapping(first_day: dt.date, last_day: dt.date) -> Any:
    """Periods overlapping [first_day, last_day]. No period is longer than a year (a year,
    or a span from January), so one overlapping `first_day` starts in that day's year at
    the earliest: that bound keeps the index range short."""
    return and_(DataValue.period_start >= dt.date(first_day.year, 1, 1),
                DataValue.period_start <= last_day,
                or_(DataValue.period_start >= first_day, DataValue.period_end >= first_day))


# ---- cumulative spans (lũy kế: '2025C09', chiso.periods) -------------------- 2026 committee
# A span from January is its year's figure so far (`rollup.with_period_parts` ranks it with
# the year). It counts once its last month has ended by `last_day` (the as-of date), and a
# unit's year keeps one such figure: the year's own, else the longest span unless the
# unit's months, quarters or halves of that year reach further. An estimate (ước) needs
# nothing here: the stored figure is the official one once it exists (chiso.values).
SPAN_LENGTH = 7  # '2025C09': the only period id of seven characters


def _span_ended_by(last_day: dt.date) -> Any:
    return or_(DataValue.period_type != "C", DataValue.period_end <= last_day)


def has_spans(frame: pl.DataFrame) -> bool:
    return not frame.is_empty() and bool(
        frame.select((pl.col("period").str.len_bytes() == SPAN_LENGTH).any()).item())


def figures_on(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Values read with `one_figure_per_year=False` up to a later day, as they stand on
    `day`: the spans whose last month had not ended by then left out, then one figure per
    year kept (a target dated 30/06 reads the six months' total even when its unit's
    year-end targets, judged later, read the nine months')."""
    if not has_spans(frame):
        return frame
    period = pl.col("period")
    span_end = (period.str.slice(0, 4).cast(pl.Int32) * 12
                + period.str.slice(5, 2).cast(pl.Int32) - 1)
    month = day.year * 12 + day.month - 1
    last_ended = month if (day + dt.timedelta(days=1)).month != day.month else month - 1
    ended = frame.filter((period.str.len_bytes() != SPAN_LENGTH) | (span_end <= last_ended))
    return _one_figure_per_year(ended)


def _one_figure_per_year(frame: pl.DataFrame) -> pl.DataFrame:
    spans = pl.col("period").str.len_bytes() == SPAN_LENGTH
    if frame.is_empty() or not frame.select(spans.any()).item():
        return frame  # no cumulative figure: nothing to decide (and nothing paid)
    keys = ["unit_id", "indicator_id", "_span_year"]
    year = pl.col("period").str.slice(0, 4).alias("_span_year")
    span_rows = frame.filter(spans).with_columns(
        year, pl.col("period").str.slice(5, 2).cast(pl.Int32).alias("_n"))
    rest = frame.filter(~spans)
    # Only the units and indicators that have a span are looked at (a handful).
    others = with_period_parts(rest.join(span_rows.select("unit_id", "indicator_id").unique(),
                                         on=["unit_id", "indicator_id"], how="semi")
                               .with_columns(year).join(span_rows.select(keys).unique(),
                                                        on=keys, how="semi"))
    reach = others.group_by(keys).agg(
        (pl.col("p_rank") == 0).any().alias("_whole_year"),
        (pl.col("p_m1") % 12 + 1).max().alias("_reach"))
    kept = span_rows.join(reach, on=keys, how="left").filter(
        ~pl.col("_whole_year").fill_null(False)
        & (pl.col("_n") >= pl.col("_reach").fill_null(0))
        & (pl.col("_n") == pl.col("_n").max().over(keys)))
    return pl.concat([rest, kept.select(frame.columns)])
# -------------------------------------------------------------------- end 2026 committee


def _flags(source: Any, estimate: Any) -> Any:
    """The figure's `rollup` flag bits, computed by the database (one small integer)."""
    invented = or_(source == DEMO_SOURCE, source.like(f"{DEMO_SOURCE}:%"))
    return (case((invented, rollup.ILLUSTRATIVE), else_=0)
            + case((estimate.is_(True), rollup.ESTIMATE), else_=0))


def _current_values(window: Any) -> Select:
    return select(DataValue.unit_id, DataValue.indicator_id, DataValue.period,
                  DataValue.numerator, DataValue.denominator, DataValue.value,
                  _flags(DataValue.source, DataValue.estimate)).where(
        window, DataValue.deleted.is_(False))


def _values_known_at(window: Any, known_at: dt.datetime) -> Select:
    """Each value's latest version changed by `known_at`, unless that version deleted it."""
    latest = (select(func.max(DataValueVersion.version))
              .where(DataValueVersion.data_value_id == DataValue.id,
                     DataValueVersion.changed_at <= known_at)
              .correlate(DataValue).scalar_subquery())
    version = DataValueVersion
    return (
        select(DataValue.unit_id, DataValue.indicator_id, DataValue.period, version.numerator,
               version.denominator, version.value, _flags(version.source, version.estimate))
        .join(version, version.data_value_id == DataValue.id)
        .where(window, version.version == latest, version.deleted.is_(False))
    )


def load_targets(session: Session, *, unit_ids: Sequence[int], year: int,
                 on: dt.date | None = None, known_at: dt.datetime | None = None
                 ) -> pl.DataFrame:
    """Targets set for these units for `year`, with their plan's số hiệu; with `on`, each
    target's comparator and values are those of its version in force that day among those
    recorded by `known_at` (a target revised in June is judged on its old value in a Q1
    report, on the new one in Q3, and a revision entered after a report closed does not
    change it — chiso.plans.revisions), else its latest version; with `known_at`, its
    indicator, unit, year, date, baseline, path and pillar as recorded by then, so a target
    moved since is read where it was (chiso.plans.details)."""
    comparator: Any = Target.comparator
    value: Any = Target.value
    value_high: Any = Target.value_high
    force = in_force_subquery(on, known_at) if on is not None else None
    if force is not None:
        comparator = func.coalesce(force.c.comparator, Target.comparator)
        value = func.coalesce(force.c.value, Target.value)
        value_high = case((force.c.target_id.is_(None), Target.value_high),
                          else_=force.c.value_high)
    # Its indicator, unit, year, date, baseline, path and pillar as known then: a change
    # recorded after `known_at` does not reach a report closed before it (chiso.plans.
    # details). Today's read (no `known_at`) is the row itself, with no join.
    known = details.as_known(known_at)
    judged = {name: known.column(name).label(name) for name in details.FIELDS}
    query = known.join(known.where(
        select(Target.id, Plan.code, judged["unit_id"], judged["indicator_id"], judged["year"],
               judged["target_date"], comparator, value, value_high,
               judged["baseline_value"], judged["baseline_date"], judged["trajectory"],
               judged["milestones"], judged["pillar_code"])
        .join(Plan, Plan.id == Target.plan_id)
        .order_by(Target.id), unit_ids=unit_ids, year=year))
    if force is not None:
        query = query.outerjoin(force, force.c.target_id == Target.id)
    frame = _frame(session, query, TARGET_SCHEMA)
    return frame.with_columns(_milestones_column(frame["milestones"].to_list()))


def _milestones_column(raw: list[Any]) -> pl.Series:
    """JSON milestones → list of {date, value} structs (dates as ISO text)."""
    cleaned = [
        [{"date": parse_date(m["date"]).isoformat(), "value": float(m["value"])}
         for m in items]
        if items else None
        for items in raw
    ]
    dtype = pl.List(pl.Struct({"date": pl.Utf8, "value": pl.Float64}))
    return pl.Series("milestones", cleaned, dtype=dtype)

"""Load the frames analytics work on, with SQLAlchemy Core selects (no ORM objects).

Every call reads the database afresh, so a value saved a moment ago is in the next answer:
there is no analytics table to rebuild (DHIS2 needs one; chiso does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator
from chiso.plans.models import Plan, Target
from chiso.text import parse_date
from chiso.units.models import OrgUnit, UnitLineage
from chiso.values.models import DataValue

UNIT_SCHEMA = {"id": pl.Int64, "code": pl.Utf8, "name": pl.Utf8, "name_en": pl.Utf8,
               "kind": pl.Utf8, "parent_id": pl.Int64, "valid_from": pl.Date,
               "valid_to": pl.Date}
LINEAGE_SCHEMA = {"predecessor_id": pl.Int64, "successor_id": pl.Int64,
                  "event_date": pl.Date, "share": pl.Float64, "is_primary": pl.Boolean}
INDICATOR_SCHEMA = {"indicator_id": pl.Int64, "code": pl.Utf8, "name_vi": pl.Utf8,
                    "name_en": pl.Utf8, "kind": pl.Utf8, "direction": pl.Utf8,
                    "unit_agg": pl.Utf8, "time_agg": pl.Utf8, "scale": pl.Float64,
                    "decimals": pl.Int64, "pillar_code": pl.Utf8, "unit_vi": pl.Utf8,
                    "unit_en": pl.Utf8}
VALUE_SCHEMA = {"unit_id": pl.Int64, "indicator_id": pl.Int64, "period": pl.Utf8,
                "num": pl.Float64, "den": pl.Float64, "value": pl.Float64}
TARGET_SCHEMA = {"target_id": pl.Int64, "plan_code": pl.Utf8, "unit_id": pl.Int64,
                 "indicator_id": pl.Int64, "year": pl.Int64, "target_date": pl.Date,
                 "comparator": pl.Utf8, "target_value": pl.Float64, "value_high": pl.Float64,
                 "baseline_value": pl.Float64, "baseline_date": pl.Date,
                 "trajectory": pl.Utf8, "milestones": pl.Object,
                 "target_pillar": pl.Utf8}
CHUNK = 5000  # ids per IN (...) list: well inside SQLite's and PostgreSQL's limits


def _frame(session: Session, query: Select[Any], schema: dict[str, Any]) -> pl.DataFrame:
    rows = session.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def load_units(session: Session) -> pl.DataFrame:
    """Every unit ever (valid or not): lineage needs the historic ones too."""
    query = select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.name_en, OrgUnit.kind,
                   OrgUnit.parent_id, OrgUnit.valid_from, OrgUnit.valid_to)
    return _frame(session, query, UNIT_SCHEMA)


def load_lineage(session: Session) -> pl.DataFrame:
    query = select(UnitLineage.predecessor_id, UnitLineage.successor_id,
                   UnitLineage.event_date, UnitLineage.share, UnitLineage.is_primary)
    return _frame(session, query, LINEAGE_SCHEMA)


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
                Sequence[int], first_day: dt.date, last_day: dt.date) -> pl.DataFrame:
    """Current (not deleted) values of these units and indicators for periods starting
    between the two days. `unit_ids=None` means every unit."""
    columns = (DataValue.unit_id, DataValue.indicator_id, DataValue.period,
               DataValue.numerator, DataValue.denominator, DataValue.value)
    window = and_(DataValue.deleted.is_(False), DataValue.period_start >= first_day,
                  DataValue.period_start <= last_day,
                  DataValue.indicator_id.in_(list(indicator_ids)))
    if unit_ids is None:
        return _frame(session, select(*columns).where(window), VALUE_SCHEMA)
    ids = list(unit_ids)
    chunks = [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)] or [[]]
    unit_filter = or_(*[DataValue.unit_id.in_(chunk) for chunk in chunks])
    return _frame(session, select(*columns).where(window, unit_filter), VALUE_SCHEMA)


def load_targets(session: Session, *, unit_ids: Sequence[int], year: int) -> pl.DataFrame:
    """Targets set for these units for `year`, with their plan's số hiệu."""
    query = (
        select(Target.id, Plan.code, Target.unit_id, Target.indicator_id, Target.year,
               Target.target_date, Target.comparator, Target.value, Target.value_high,
               Target.baseline_value, Target.baseline_date, Target.trajectory,
               Target.milestones, Target.pillar_code)
        .join(Plan, Plan.id == Target.plan_id)
        .where(Target.year == year, Target.unit_id.in_(list(unit_ids)))
        .order_by(Target.id)
    )
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

"""The funding indicators (pillar KP): in the catalogue through the catalogue's own loader,
and their values computed from approved figures and stored through the values service,
so they reach the overview, the status engine, the reports and the API like any other.

`refresh_indicators` runs after each approval; `chiso funding refresh` runs it by hand.
Values carry source "funding" (the demo's: "demo") so a reader can tell them from typed
figures; they are never typed in, and an import of them would be overwritten.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.funding import compute
from chiso.funding.frames import figures_frame
from chiso.funding.models import BudgetLine, ProgrammeLink
from chiso.indicators.models import Indicator
from chiso.indicators.service import CatalogSummary, load_catalog
from chiso.periods import parse_period
from chiso.settings import get_settings
from chiso.tasks.models import StoredState, Task
from chiso.units.models import OrgUnit
from chiso.values.service import UpsertSummary, upsert_values

FUNDING_CATALOG = Path(__file__).parent / "data" / "catalog.yaml"
FUNDING_SOURCE = "funding"


def load_funding_catalog(session: Session) -> CatalogSummary:
    """Reference loader (`chiso init`): the KP pillar and its indicators, idempotent."""
    return load_catalog(session, FUNDING_CATALOG, access=Access.system(session, "setup"))


def indicator_rows(session: Session, *, scope_unit_id: int, year: int) -> pl.DataFrame:
    """The values the approved figures give for one province and year, ready for
    `upsert_values` (unit_id, indicator_id, period, numerator, denominator, value)."""
    figures = figures_frame(session, scope_unit_id=scope_unit_id, years=(year, year))
    values = compute.indicator_values(figures, province_id=scope_unit_id, year=year)
    values = pl.concat([values, _cost_per_task(session, scope_unit_id, year)])
    ids = dict(session.execute(select(Indicator.code, Indicator.id).where(
        Indicator.code.in_(values["indicator_code"].unique().to_list()))).all())
    missing = set(values["indicator_code"].to_list()) - set(ids)
    if missing:  # the catalogue was not loaded: `chiso init` loads it
        load_funding_catalog(session)
        ids = dict(session.execute(select(Indicator.code, Indicator.id)).all())
    rows = values.with_columns(
        pl.col("indicator_code").replace_strict(ids, return_dtype=pl.Int64)
        .alias("indicator_id")).drop("indicator_code")
    return _valid_units_only(session, _begun_only(rows))


def _cost_per_task(session: Session, scope_unit_id: int, year: int) -> pl.DataFrame:
    links = session.execute(select(ProgrammeLink.programme_id, ProgrammeLink.task_id).where(
        ProgrammeLink.task_id.is_not(None))).all()
    in_scope = set(session.scalars(select(BudgetLine.programme_id).where(
        BudgetLine.scope_unit_id == scope_unit_id, BudgetLine.programme_id.is_not(None))))
    programmes = sorted({p for p, _t in links if p in in_scope})
    tasks = sorted({t for p, t in links if p in in_scope and t is not None})
    if not programmes or not tasks:
        return pl.DataFrame(schema=compute.VALUE_SCHEMA)
    done = session.scalar(select(func.count()).select_from(Task).where(
        Task.id.in_(tasks), Task.state == StoredState.DONE, Task.deleted.is_(False),
        Task.completed_on <= dt.date(year, 12, 31))) or 0
    figures = figures_frame(session, scope_unit_id=scope_unit_id, years=(2000, year),
                            programme_ids=programmes)
    return compute.cost_per_task(figures, done, province_id=scope_unit_id, year=year)


def _begun_only(rows: pl.DataFrame) -> pl.DataFrame:
    """Values are facts about periods that have begun: next year's budget, decided in
    December, shows on the funding pages but becomes an indicator value in January."""
    today = get_settings().current_date()
    begun = [p for p in rows["period"].unique().to_list() if parse_period(p).start() <= today]
    return rows.filter(pl.col("period").is_in(begun))


def _valid_units_only(session: Session, rows: pl.DataFrame) -> pl.DataFrame:
    """A unit that did not exist in a month cannot carry that month's figure (its lines
    still count in the province's)."""
    ids = rows["unit_id"].unique().to_list()
    units = pl.DataFrame(session.execute(select(OrgUnit.id, OrgUnit.valid_from,
                                                OrgUnit.valid_to).where(OrgUnit.id.in_(ids)))
                         .all(), schema={"unit_id": pl.Int64, "valid_from": pl.Date,
                                         "valid_to": pl.Date}, orient="row")
    spans = pl.DataFrame([(p, parse_period(p).start(), parse_period(p).end())
                          for p in rows["period"].unique().to_list()],
                         schema={"period": pl.String, "start": pl.Date, "end": pl.Date},
                         orient="row")
    joined = rows.join(units, on="unit_id").join(spans, on="period")
    valid = (pl.col("valid_from") <= pl.col("end")) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("start")))
    return joined.filter(valid).select(rows.columns)


def refresh_indicators(session: Session, *, scope_unit_id: int, year: int, access: Access,
                       source: str = FUNDING_SOURCE, recorded_at: dt.datetime | None = None
                       ) -> UpsertSummary:
    """Compute the year's funding indicators from approved figures and store them through
    the values service (a new version only where a value changed), as `access` — the system
    job "funding-indicators" after an approval: the values are derived, the person's right
    was checked when they approved. `recorded_at` dates them (the demo's history)."""
    rows = indicator_rows(session, scope_unit_id=scope_unit_id, year=year)
    if rows.is_empty():
        return UpsertSummary(0, 0, 0)
    return upsert_values(session, rows, source=source, access=access,
                         recorded_at=recorded_at)


def derived_access(session: Session) -> Access:
    """Who writes the funding indicators: the system, never a person typing them."""
    return Access.system(session, "funding-indicators")

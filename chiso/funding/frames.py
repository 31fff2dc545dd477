"""Funding figures as Polars frames, read in one query each: what pages, indicators and
reports compute from (`chiso.funding.compute`).

Three readings of the same figures:
- `approved`: each figure's amount as the standing office last approved it — what the
  indicators, the overview and the reports use;
- `approved as known at an instant`: the same, from the version history, for a report of a
  past period that must read as it did then;
- `current`: the latest amount whatever its approval, for the officer checking an import.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from chiso.funding.models import BudgetLine, Figure, FigureVersion
from chiso.funding.vocab import FigureStatus

FIGURE_SCHEMA: dict[str, Any] = {
    "figure_id": pl.Int64, "line_id": pl.Int64, "kind": pl.String, "unit_id": pl.Int64,
    "programme_id": pl.Int64, "year": pl.Int32, "source": pl.String, "spend_type": pl.String,
    "area": pl.String, "name": pl.String, "illustrative": pl.Boolean, "stage": pl.String,
    "period": pl.String, "amount": pl.Int64, "status": pl.String, "figure_source": pl.String,
}
LINE_COLUMNS = (BudgetLine.kind, BudgetLine.unit_id, BudgetLine.programme_id, BudgetLine.year,
                BudgetLine.source, BudgetLine.spend_type, BudgetLine.area, BudgetLine.name,
                BudgetLine.illustrative)


def _line_filter(scope_unit_id: int, years: tuple[int, int] | None,
                 programme_ids: list[int] | None) -> list[Any]:
    conditions: list[Any] = [BudgetLine.scope_unit_id == scope_unit_id]
    if years is not None:
        conditions += [BudgetLine.year >= years[0], BudgetLine.year <= years[1]]
    if programme_ids is not None:
        conditions.append(BudgetLine.programme_id.in_(programme_ids))
    return conditions


def figures_frame(session: Session, *, scope_unit_id: int,
                  years: tuple[int, int] | None = None, approved: bool = True,
                  known_at: dt.datetime | None = None,
                  programme_ids: list[int] | None = None) -> pl.DataFrame:
    """One row per figure of the province's lines (optionally some years or programmes).
    `approved`: the approved amount (figures never approved are left out); with
    `known_at`, the amount approved as of that instant."""
    if approved and known_at is not None:
        return _approved_at(session, scope_unit_id, years, programme_ids, known_at)
    amount = Figure.approved_amount if approved else Figure.amount
    query = (select(Figure.id, Figure.line_id, *LINE_COLUMNS, Figure.stage, Figure.period,
                    amount, Figure.status, Figure.source)
             .join(BudgetLine, BudgetLine.id == Figure.line_id)
             .where(*_line_filter(scope_unit_id, years, programme_ids),
                    Figure.deleted.is_(False)))
    if approved:
        query = query.where(Figure.approved_amount.is_not(None))
    return pl.DataFrame(session.execute(query).all(), schema=FIGURE_SCHEMA, orient="row")


def _approved_at(session: Session, scope_unit_id: int, years: tuple[int, int] | None,
                 programme_ids: list[int] | None, known_at: dt.datetime) -> pl.DataFrame:
    """The last approval of each figure made by `known_at`, with the amount it approved."""
    last = (select(FigureVersion.figure_id, func.max(FigureVersion.version).label("version"))
            .where(FigureVersion.status == FigureStatus.APPROVED,
                   FigureVersion.changed_at <= known_at)
            .group_by(FigureVersion.figure_id).subquery())
    query = (select(Figure.id, Figure.line_id, *LINE_COLUMNS, Figure.stage, Figure.period,
                    FigureVersion.amount, FigureVersion.status, FigureVersion.source)
             .join(last, last.c.figure_id == Figure.id)
             .join(FigureVersion, and_(FigureVersion.figure_id == Figure.id,
                                       FigureVersion.version == last.c.version))
             .join(BudgetLine, BudgetLine.id == Figure.line_id)
             .where(*_line_filter(scope_unit_id, years, programme_ids)))
    return pl.DataFrame(session.execute(query).all(), schema=FIGURE_SCHEMA, orient="row")


def scope_years(session: Session, scope_unit_id: int) -> list[int]:
    """Years that have budget lines, for the year picker."""
    return sorted(session.scalars(select(BudgetLine.year).where(
        BudgetLine.scope_unit_id == scope_unit_id).distinct()))

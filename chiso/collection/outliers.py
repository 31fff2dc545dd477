"""Outlier flags over all stored figures (the robust z-scores are in `rules.outliers`)."""

from __future__ import annotations

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.collection.rules import outliers, store_flags
from chiso.indicators.models import Indicator
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue

SCHEMA = pl.Schema({"unit_id": pl.Int64, "unit_kind": pl.String, "indicator_id": pl.Int64,
          "period": pl.String, "period_type": pl.String, "value": pl.Float64})


def flag_outliers(session: Session, *, indicator_code: str | None = None) -> int:
    """Flag outliers (against history and peers) for follow-up; returns new flags."""
    query = (select(DataValue.unit_id, OrgUnit.kind, DataValue.indicator_id, DataValue.period,
                    DataValue.period_type, DataValue.value)
             .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
             .where(DataValue.deleted.is_(False)))
    if indicator_code:
        query = query.join(Indicator, Indicator.id == DataValue.indicator_id).where(
            Indicator.code == indicator_code.strip().upper())
    frame = pl.DataFrame([tuple(r) for r in session.execute(query)], schema=SCHEMA,
                         orient="row")
    return store_flags(session, outliers(frame))

"""Outlier flags over all stored figures (the robust z-scores are in `rules.outliers`)."""

from __future__ import annotations

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.collection.models import ValueFlag
from chiso.collection.rules import outliers, store_flags
from chiso.errors import NotFound, UserError
from chiso.indicators.models import Indicator
from chiso.settings import get_settings
from chiso.text import nfc
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, get_unit
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


def detect_outliers(session: Session, *, access: Access, indicator_code: str | None = None
                    ) -> int:
    """Flag outliers over every unit's figures: MANAGE on the install's province (the
    standing office), since it looks at every unit."""
    try:
        province: int | None = get_unit(session, get_settings().default_unit).id
    except UnitNotFound:
        province = None
    access.require(Action.MANAGE, province)
    found = flag_outliers(session, indicator_code=indicator_code)
    if found:
        record_event(session, action="flag.detect", object_type="value_flag",
                     actor=access.actor, unit_id=province, after={"new_flags": found})
    return found


def resolve_flag(session: Session, flag_id: int, *, note: str, access: Access) -> ValueFlag:
    """Close a flag after checking the figure with the unit (APPROVE on its unit); the
    note says what the check found."""
    flag = session.get(ValueFlag, flag_id)
    if flag is None:
        raise NotFound(f"Không có cờ #{flag_id}", f"no flag #{flag_id}")
    access.require(Action.APPROVE, flag.unit_id)
    note = nfc(note).strip()
    if not note:
        raise UserError("Hãy ghi kết quả kiểm tra", "say what the check found")
    flag.status, flag.note = "resolved", note
    record_event(session, action="flag.resolve", object_type="value_flag", object_id=flag.id,
                 actor=access.actor, unit_id=flag.unit_id, after={"note": note})
    return flag

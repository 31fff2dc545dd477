"""Analytics owns no table, only the way it reads one: a covering index on `data_value`
(the values domain's table) for the query every status, series and breakdown starts with
(`frames.load_values`): the values of some units and indicators whose period starts in a
window. With every column the query reads in the index, SQLite and PostgreSQL answer it
from the index alone instead of looking each row up in the table: reading values was 46 %
of a cold overview (issue 18). Migrations `analytics_0001`, `analytics_0002` (the estimate
flag: a status resting on an estimate says "ước")."""

from __future__ import annotations

from sqlalchemy import Index

from chiso.values.models import DataValue

_values = DataValue.__table__.c
VALUE_READ_INDEX = Index(
    "ix_data_value_read",
    # What the query seeks on: a unit's values of an indicator, by period start …
    _values.unit_id, _values.indicator_id, _values.period_start,
    # … and everything else it filters on or returns, so no table row is visited.
    _values.deleted, _values.period_type, _values.period_end, _values.period,
    _values.numerator, _values.denominator, _values.value, _values.source, _values.estimate,
)

"""Reporting periods (kỳ báo cáo): ids, spellings, labels, date ranges and calendars.
See DESIGN §5.1 and docs/data-format.md. The one owner of these rules: every domain parses
periods with `parse_period`, names them with `period_label` and places dates with
`period_containing` / `period_containing_expr` / `month_key_sql`."""

from chiso.periods.core import (
    Calendar,
    Period,
    PeriodError,
    PeriodType,
    month_ids_between,
    period_containing,
)
from chiso.periods.placement import month_key_sql, period_containing_expr, period_id_expr
from chiso.periods.spelling import parse_period, period_label, period_of_cell
from chiso.text.clock import to_vn, vn_now, vn_today

__all__ = [
    "Calendar",
    "Period",
    "PeriodError",
    "PeriodType",
    "month_ids_between",
    "month_key_sql",
    "parse_period",
    "period_containing",
    "period_containing_expr",
    "period_id_expr",
    "period_label",
    "period_of_cell",
    "to_vn",
    "vn_now",
    "vn_today",
]

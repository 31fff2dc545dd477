"""Reporting periods (kỳ báo cáo): ids, spellings, labels, date ranges and calendars.
See DESIGN §5.1 and docs/data-format.md. The one owner of these rules: every domain parses
periods with `parse_period`, names them with `period_label` and places dates with
`period_containing` / `period_containing_expr` / `month_key_sql`. Cumulative spans from
January ('9 tháng đầu năm 2025' → 2025C09) are periods too; an estimate ('Ước thực hiện năm
2025') is a period and a flag, read by `parse_period_estimate`."""

from chiso.periods.core import (
    Calendar,
    Period,
    PeriodError,
    PeriodType,
    month_ids_between,
    period_containing,
    year_to_date,
)
from chiso.periods.placement import month_key_sql, period_containing_expr, period_id_expr
from chiso.periods.spelling import (
    parse_period,
    parse_period_estimate,
    period_label,
    period_of_cell,
    split_estimate,
)
from chiso.text.clock import to_vn, vn_now, vn_today

__all__ = [
    "Calendar",
    "Period",
    "PeriodError",
    "PeriodType",
    "month_ids_between",
    "month_key_sql",
    "parse_period",
    "parse_period_estimate",
    "period_containing",
    "period_containing_expr",
    "period_id_expr",
    "period_label",
    "period_of_cell",
    "split_estimate",
    "to_vn",
    "vn_now",
    "vn_today",
    "year_to_date",
]

"""Reporting periods (kỳ báo cáo): ids, date ranges, calendars. See DESIGN §5.1."""

from chiso.periods.core import (
    Calendar,
    Period,
    PeriodError,
    PeriodType,
    month_ids_between,
    parse_period,
    period_containing,
)

__all__ = [
    "Calendar",
    "Period",
    "PeriodError",
    "PeriodType",
    "month_ids_between",
    "parse_period",
    "period_containing",
]

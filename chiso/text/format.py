"""Numbers and dates in Vietnamese conventions (76,6%; 1.234.567; 23/05/2023), or English."""

from __future__ import annotations

import datetime as dt
import math

from chiso.text.clock import to_vn


def format_number(value: float | int | None, decimals: int = 1, locale: str = "vi") -> str:
    """1234567.891 → '1.234.567,9' (vi) or '1,234,567.9' (en); None/NaN → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{decimals}f}"
    if locale == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def entered_decimals(value: float, most: int = 6) -> int:
    """The decimals a stored number shows as it was entered: 1.5 → 1, 2.25 → 2, 3.0 → 0
    (at most `most`), for a figure that has no indicator to set its decimals."""
    return min(len(repr(float(value)).partition(".")[2].rstrip("0")), most)


def format_percent(value: float | None, decimals: int = 1, locale: str = "vi") -> str:
    """76.6 → '76,6%'."""
    text = format_number(value, decimals, locale)
    return text if text == "–" else f"{text}%"


def format_measure(value: float | None, decimals: int, unit: str | None,
                   locale: str = "vi") -> str:
    """A figure with its unit of measure, as every surface shows it: '76,6%' (a percent
    sign sticks to its number), '14,00 % GRDP', '1.234 hồ sơ' (other units follow a
    space); None → '–' alone."""
    text = format_number(value, decimals, locale)
    unit = (unit or "").strip()
    if text == "–" or not unit:
        return text
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def format_date(day: dt.date | None, locale: str = "vi") -> str:
    """A day as '23/05/2023' (vi) or '2023-05-23' (en). A stored instant (a datetime,
    naive meaning UTC) is the day it was in Vietnam: a report sent at 06:30 on 11/10 is
    23:30 on 10/10 in UTC."""
    if day is None:
        return "–"
    if isinstance(day, dt.datetime):
        day = to_vn(day).date()
    return day.strftime("%d/%m/%Y") if locale == "vi" else day.isoformat()


def format_moment(at: dt.datetime | None, locale: str = "vi", *, seconds: bool = False
                  ) -> str:
    """A stored instant (naive meaning UTC) as the province reads its clocks, in Vietnam
    time: '05/06/2026 06:30' (vi) or '2026-06-05 06:30' (en); the audit trail shows
    seconds too. None → '–'."""
    if at is None:
        return "–"
    local = to_vn(at)
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    return f"{format_date(local.date(), locale)} {clock}"

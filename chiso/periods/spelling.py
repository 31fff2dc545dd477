"""Every spelling of a reporting period people write, read by one parser (`parse_period`).

'2025Q3', 'Quý III/2025', 'quý 3 năm 2025', 'Q3/2025', 'Q3 2025' → 2025Q3;
'202509', '2025-09', 'Tháng 9/2025', 'tháng 9 năm 2025', 'T9/2025', '09/2025',
'September 2025' → 202509; '2025S1', 'H1 2025', '6 tháng đầu năm 2025' → 2025S1;
'2025', 'Năm 2025', 'Year 2025' → 2025. Accents, case, spaces and the separators / - .
do not matter ('Quy III - 2025' is read too). Every label chiso prints reads back.

A full date ('15/09/2025') is not a period: which period it falls in depends on the
calendar (`chiso.periods.period_containing`); `period_of_cell` does both.
A cumulative span such as '9 tháng đầu năm' is not a reporting period and is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache

from chiso.periods.core import (
    MONTHS_EN,
    Calendar,
    Period,
    PeriodError,
    PeriodType,
    period_containing,
)
from chiso.text import accent_free_key, parse_date
from chiso.text.dates import DateError

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_MONTH_WORDS = {name[:3].lower(): number for number, name in enumerate(MONTHS_EN, start=1)}
_SEPARATORS = re.compile(r"[/\\\-.,_–—:]+")
_YEAR_WORD = re.compile(r"\bnam\b|nam(?=\d)|\byear\b")

Builder = Callable[[re.Match[str]], Period]


def _year(m: re.Match[str]) -> Period:
    return Period(int(m["y"]), PeriodType.YEAR)


def _half(m: re.Match[str]) -> Period:
    index = m["h"] if m["h"] in ("1", "2") else {"dau": "1", "cuoi": "2"}[m["h"]]
    return Period(int(m["y"]), PeriodType.HALF, int(index))


def _quarter(m: re.Match[str]) -> Period:
    text = m["q"]
    return Period(int(m["y"]), PeriodType.QUARTER, _ROMAN.get(text) or int(text))


def _month(m: re.Match[str]) -> Period:
    month = _MONTH_WORDS[m["m"][:3]] if m["m"].isalpha() else int(m["m"])
    if not 1 <= month <= 12:
        raise ValueError(month)
    return Period(int(m["y"]), PeriodType.MONTH, month)


Y = r"(?P<y>\d{4})"
# Patterns on the accent-free, lower-case text with the word "năm" removed and every
# separator turned into a space: 'Quý III/2025' arrives here as 'quy iii 2025'.
_SPELLINGS: tuple[tuple[re.Pattern[str], Builder], ...] = tuple(
    (re.compile(pattern), builder) for pattern, builder in (
        (rf"^{Y}$", _year),
        (rf"^{Y} ?[sh](?P<h>[12])$", _half),
        (rf"^[sh](?P<h>[12]) ?{Y}$", _half),
        (rf"^6 thang (?P<h>dau|cuoi) ?{Y}$", _half),
        (rf"^{Y} ?q(?P<q>[1-4])$", _quarter),
        (rf"^(?:q|quy) ?(?P<q>iv|i{{1,3}}|[1-4]) ?{Y}$", _quarter),
        (rf"^{Y} ?(?P<m>0[1-9]|1[0-2])$", _month),
        (rf"^(?:thang|t|m)? ?(?P<m>\d{{1,2}}) {Y}$", _month),
        (rf"^(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* {Y}$", _month),
    ))


def _key(text: object) -> str:
    key = accent_free_key(text)
    key = _YEAR_WORD.sub(" ", _SEPARATORS.sub(" ", key))
    return " ".join(key.split())


@lru_cache(maxsize=4096)
def _parse_text(text: str) -> Period:
    key = _key(text)
    for pattern, builder in _SPELLINGS:
        match = pattern.match(key)
        if match:
            try:
                return builder(match)
            except ValueError:
                break
    raise PeriodError(text)


def parse_period(text: object) -> Period:
    """The period for any accepted spelling (see the module docstring); a `Period` is
    returned as it is. Raises PeriodError (a UserError, 422) naming the accepted forms."""
    if isinstance(text, Period):
        return text
    if text is None or isinstance(text, bool):
        raise PeriodError(text)
    return _parse_text(str(text))


def period_label(period: Period | str, locale: str = "vi") -> str:
    """What people read for a period: 'Quý III/2026' (vi), 'Q3 2026' (en); any spelling in."""
    return parse_period(period).label(locale)


def period_of_cell(cell: object, calendar: Calendar | str = Calendar.STANDARD,
                   ptype: PeriodType | str = PeriodType.MONTH) -> Period:
    """A period written as a period, or a date (a dated value): the date is placed in the
    period of type `ptype` (a month by default) that contains it under `calendar`."""
    if isinstance(cell, dt.date):
        return period_containing(cell, ptype, calendar)
    try:
        return parse_period(cell)
    except PeriodError:
        try:
            day = parse_date(cell)
        except DateError:
            raise PeriodError(cell) from None
        return period_containing(day, ptype, calendar)

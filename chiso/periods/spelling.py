"""Every spelling of a reporting period people write, read by one parser (`parse_period`).

'2025Q3', 'Quý III/2025', 'quý 3 năm 2025', 'Q3/2025', 'Q3 2025' → 2025Q3;
'202509', '2025-09', 'Tháng 9/2025', 'tháng 9 năm 2025', 'T9/2025', '09/2025',
'September 2025' → 202509; '2025S1', 'H1 2025', '6 tháng đầu năm 2025' → 2025S1;
'2025', 'Năm 2025', 'Year 2025' → 2025. Accents, case, spaces and the separators / - .
do not matter ('Quy III - 2025' is read too). Every label chiso prints reads back.

Cumulative spans from January (lũy kế): '9 tháng đầu năm 2025', '9 tháng năm 2025',
'Lũy kế 9 tháng năm 2025', 'Lũy kế từ đầu năm đến tháng 9/2025', 'lũy kế đến hết tháng
9/2025', 'January–September 2025', 'YTD September 2025', '2025C09' → 2025C09; a span that is
a period has that period's id ('6 tháng đầu năm' → 2025S1, '3 tháng' → 2025Q1, '12 tháng'
→ 2025). 'Lũy kế từ đầu năm' without a month needs the day it is said on (`as_of`).

A full date ('15/09/2025') is not a period: which period it falls in depends on the
calendar (`chiso.periods.period_containing`); `period_of_cell` does both.

An estimate ('Ước thực hiện năm 2025', 'ƯTH 9 tháng 2025', '2025 (ước)') is a period with a
flag on the figure, not a period: `parse_period` refuses it and `split_estimate` /
`parse_period_estimate` read it.
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
    year_to_date,
)
from chiso.text import accent_free_key, nfc, parse_date
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


def _month_number(text: str) -> int:
    month = _MONTH_WORDS[text[:3]] if text.isalpha() else int(text)
    if not 1 <= month <= 12:
        raise ValueError(month)
    return month


def _month(m: re.Match[str]) -> Period:
    return Period(int(m["y"]), PeriodType.MONTH, _month_number(m["m"]))


def _span(m: re.Match[str]) -> Period:
    """January to month `m` (lũy kế), under the span's one id."""
    return Period.cumulative(int(m["y"]), _month_number(m["m"]))


Y = r"(?P<y>\d{4})"
M = r"(?P<m>\d{1,2})"
MONTH_WORD = r"(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
SINCE_JANUARY = r"(?:luy ke|cong don)(?: tu dau)?"  # lũy kế (từ đầu năm)
UNTIL = r"(?:den|toi) (?:het )?(?:thang|t) ?"  # đến (hết) tháng
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
        (rf"^{MONTH_WORD} {Y}$", _month),
        # Cumulative spans from January (lũy kế)
        (rf"^{Y} ?c{M}$", _span),
        (rf"^(?:luy ke |uoc )?{M} thang(?: dau)? {Y}$", _span),
        (rf"^{SINCE_JANUARY} {UNTIL}{M} {Y}$", _span),
        (rf"^{SINCE_JANUARY} {Y} {UNTIL}{M}$", _span),
        (rf"^luy ke (?:thang|t) ?{M} {Y}$", _span),
        (rf"^jan[a-z]* {MONTH_WORD} {Y}$", _span),
        (rf"^(?:ytd|year to date) {MONTH_WORD} {Y}$", _span),
        (rf"^(?:ytd|year to date) {M} {Y}$", _span),
        (rf"^(?:ytd|year to date) {Y} {M}$", _span),
    ))
# 'Lũy kế từ đầu năm' / 'từ đầu năm đến nay' / 'YTD' with no month: the day decides.
_YEAR_TO_DATE = re.compile(r"^(?:(?:luy ke|cong don) tu dau|tu dau den nay|luy ke"
                           r"|ytd|year to date)(?: den nay)?$")
_MONTHS_THIS_YEAR = re.compile(r"^(?:luy ke |uoc )?(?P<m>\d{1,2}) thang(?: dau)?$")
# Ước thực hiện / ước tính / ƯTH before the period, or '(ước)' after it.
_ESTIMATE = re.compile(r"^\s*(?:ước\s+thực\s+hiện|ước\s+tính|ước|ưth|uth|estimated?|est\.)"
                       r"[\s:.\-–]+(?P<rest>.+)$|^(?P<before>.+?)\s*\((?:ước(?:\s+tính)?"
                       r"|estimate)\)\s*$", re.IGNORECASE)


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


def parse_period(text: object, *, as_of: dt.date | None = None) -> Period:
    """The period for any accepted spelling (see the module docstring); a `Period` is
    returned as it is. 'Lũy kế từ đầu năm' alone is January to the month of `as_of`
    (refused without it). Raises PeriodError (a UserError, 422) naming the accepted forms."""
    if isinstance(text, Period):
        return text
    if text is None or isinstance(text, bool):
        raise PeriodError(text)
    key = _key(text)
    months = _MONTHS_THIS_YEAR.match(key)
    if months and as_of is not None:  # 'lũy kế 11 tháng', said in 2025
        return _span_of(as_of.year, months["m"], text)
    if _YEAR_TO_DATE.match(key):
        if as_of is None:
            raise PeriodError(text, f"'{text}': ghi rõ lũy kế đến tháng nào, ví dụ 'Lũy kế "
                              "từ đầu năm đến tháng 9/2025' hoặc '9 tháng đầu năm 2025'",
                              f"'{text}': say up to which month, e.g. 'January–September "
                              "2025' or '2025C09'")
        return year_to_date(as_of)
    return _parse_text(str(text))


def _span_of(year: int, months: str, text: object) -> Period:
    try:
        return Period.cumulative(year, _month_number(months))
    except ValueError:
        raise PeriodError(text) from None


def split_estimate(text: object) -> tuple[str, bool]:
    """('9 tháng đầu năm 2025', True) for 'Ước thực hiện 9 tháng đầu năm 2025', 'ƯTH 9
    tháng 2025' or '9 tháng 2025 (ước)'; (text, False) for a text without the mark."""
    raw = nfc(str(text)).strip()
    match = _ESTIMATE.match(raw)
    if match is None:
        return raw, False
    return (match["rest"] or match["before"]).strip(), True


def parse_period_estimate(text: object, *, as_of: dt.date | None = None
                          ) -> tuple[Period, bool]:
    """The period of a heading or cell that may say 'ước' (estimate), and whether it does:
    'Ước thực hiện năm 2025' → (2025, True)."""
    if isinstance(text, Period):
        return text, False
    rest, estimate = split_estimate(text)
    return parse_period(rest, as_of=as_of), estimate


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

"""Period ids are ISO-like: `2024` (year), `2024S1` (half), `2024Q3` (quarter), `202409` (month).

The same id has different dates under different calendars. The standard calendar is the
civil one; under the cut-off calendar of Nghị định 09/2019/NĐ-CP a month runs from the
15th of the previous month to the 14th, and the year from 15/12 to 14/12.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from functools import lru_cache


class PeriodError(ValueError):
    """A period id that is not one of the accepted forms."""


class PeriodType(enum.StrEnum):
    YEAR = "Y"
    HALF = "S"
    QUARTER = "Q"
    MONTH = "M"

    @property
    def months(self) -> int:
        return {"Y": 12, "S": 6, "Q": 3, "M": 1}[self.value]

    @property
    def rank(self) -> int:
        """Finer periods have a higher rank."""
        return {"Y": 0, "S": 1, "Q": 2, "M": 3}[self.value]


class Calendar(enum.StrEnum):
    STANDARD = "standard"
    CUTOFF_ND09 = "nd09"  # Nghị định 09/2019: 15th of previous month to the 14th


_PATTERNS = [
    (re.compile(r"^(\d{4})$"), PeriodType.YEAR),
    (re.compile(r"^(\d{4})S([12])$"), PeriodType.HALF),
    (re.compile(r"^(\d{4})Q([1-4])$"), PeriodType.QUARTER),
    (re.compile(r"^(\d{4})(0[1-9]|1[0-2])$"), PeriodType.MONTH),
    (re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), PeriodType.MONTH),
]


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: year, type and index within the year (1-based)."""

    year: int
    type: PeriodType
    index: int = 1

    @property
    def id(self) -> str:
        if self.type is PeriodType.YEAR:
            return f"{self.year}"
        if self.type is PeriodType.MONTH:
            return f"{self.year}{self.index:02d}"
        return f"{self.year}{self.type.value}{self.index}"

    def __str__(self) -> str:
        return self.id

    @property
    def first_month(self) -> int:
        return (self.index - 1) * self.type.months + 1

    @property
    def last_month(self) -> int:
        return self.first_month + self.type.months - 1

    def start(self, calendar: Calendar = Calendar.STANDARD) -> dt.date:
        if calendar is Calendar.CUTOFF_ND09:
            return _previous_month_15th(self.year, self.first_month)
        return dt.date(self.year, self.first_month, 1)

    def end(self, calendar: Calendar = Calendar.STANDARD) -> dt.date:
        if calendar is Calendar.CUTOFF_ND09:
            return dt.date(self.year, self.last_month, 14)
        return _month_end(self.year, self.last_month)

    def months(self) -> list[Period]:
        return [Period(self.year, PeriodType.MONTH, m)
                for m in range(self.first_month, self.last_month + 1)]

    def contains(self, other: Period) -> bool:
        return (
            self.year == other.year
            and self.type.rank <= other.type.rank
            and self.first_month <= other.first_month
            and other.last_month <= self.last_month
        )

    def previous(self) -> Period:
        count = 12 // self.type.months
        if self.index > 1:
            return Period(self.year, self.type, self.index - 1)
        return Period(self.year - 1, self.type, count)

    def label_vi(self) -> str:
        """'Quý III/2025', 'Tháng 9/2025', '6 tháng đầu năm 2025', 'Năm 2025'."""
        if self.type is PeriodType.YEAR:
            return f"Năm {self.year}"
        if self.type is PeriodType.HALF:
            return f"6 tháng {'đầu' if self.index == 1 else 'cuối'} năm {self.year}"
        if self.type is PeriodType.QUARTER:
            return f"Quý {['I', 'II', 'III', 'IV'][self.index - 1]}/{self.year}"
        return f"Tháng {self.index}/{self.year}"

    def label_en(self) -> str:
        if self.type is PeriodType.YEAR:
            return f"Year {self.year}"
        if self.type is PeriodType.HALF:
            return f"H{self.index} {self.year}"
        if self.type is PeriodType.QUARTER:
            return f"Q{self.index} {self.year}"
        return dt.date(self.year, self.index, 1).strftime("%b %Y")


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def _previous_month_15th(year: int, month: int) -> dt.date:
    if month == 1:
        return dt.date(year - 1, 12, 15)
    return dt.date(year, month - 1, 15)


@lru_cache(maxsize=4096)
def parse_period(text: str) -> Period:
    """Parse '2024', '2024S1', '2024Q3', '202409' or '2024-09' (case and spaces ignored)."""
    cleaned = str(text).strip().upper()
    for pattern, ptype in _PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year = int(match.group(1))
            index = int(match.group(2)) if ptype is not PeriodType.YEAR else 1
            return Period(year, ptype, index)
    raise PeriodError(
        f"Kỳ báo cáo không hợp lệ: '{text}' (dạng 2024, 2024S1, 2024Q3, 202409) / "
        f"invalid period '{text}' (use 2024, 2024S1, 2024Q3 or 202409)"
    )


def period_containing(
    day: dt.date, ptype: PeriodType, calendar: Calendar = Calendar.STANDARD
) -> Period:
    """The period of type `ptype` that contains `day` under `calendar`."""
    year, month = day.year, day.month
    if calendar is Calendar.CUTOFF_ND09 and day.day >= 15:
        month += 1
        if month == 13:
            year, month = year + 1, 1
    index = (month - 1) // ptype.months + 1
    return Period(year, ptype, index)


def month_ids_between(first: dt.date, last: dt.date) -> list[str]:
    """Month ids from the month of `first` to the month of `last`, inclusive."""
    ids = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        ids.append(f"{year}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ids

"""Period ids are ISO-like: `2024` (year), `2024S1` (half), `2024Q3` (quarter), `202409` (month),
and `2024C09` for a cumulative period from January to a month ("9 tháng đầu năm 2024",
"lũy kế 11 tháng"). A cumulative span that is already a period has that period's id: 3
months is the first quarter, 6 the first half, 12 the year and 1 January, so each span has
one id (`Period.cumulative`).

The same id has different dates under different calendars. The standard calendar is the
civil one; under the cut-off calendar of Nghị định 09/2019/NĐ-CP a month runs from the
15th of the previous month to the 14th, and the year from 15/12 to 14/12 — so 15/12/2025
belongs to January and to the year 2026.

Placing a date in a period is `period_containing` (one date), `period_containing_expr`
(a polars column, chiso.periods.placement) or `month_key_sql` (a DuckDB/PostgreSQL column):
the same rule, written once per engine and held together by tests.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from chiso.errors import UserError

ROMAN = ("I", "II", "III", "IV")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
PERIOD_FORMS_VI = ("2025, 2025S1, 2025Q3, 202509, 2025C09, Năm 2025, 6 tháng đầu năm 2025, "
                   "Quý III/2025, Q3/2025, Tháng 9/2025, 09/2025, 9 tháng đầu năm 2025, "
                   "Lũy kế từ đầu năm đến tháng 11/2025")
PERIOD_FORMS_EN = PERIOD_FORMS_VI.replace("Năm 2025", "Year 2025").replace(
    "6 tháng đầu năm 2025", "H1 2025")
# Cumulative spans (months from January) that are already a period of another type.
SPAN_PERIODS = {1: ("M", 1), 3: ("Q", 1), 6: ("S", 1), 12: ("Y", 1)}


class PeriodError(UserError, ValueError):
    """Text that is not a reporting period in any accepted spelling (422)."""

    status = 422

    def __init__(self, text: object, message_vi: str | None = None,
                 message_en: str | None = None) -> None:
        self.text = str(text)
        super().__init__(
            message_vi or f"Kỳ báo cáo không hợp lệ: '{text}' (ghi dạng {PERIOD_FORMS_VI})",
            message_en or f"invalid period '{text}' (write {PERIOD_FORMS_EN})",
            issues=[{"column": "period", "rule": "period_format", "value": self.text}])


class PeriodType(enum.StrEnum):
    YEAR = "Y"
    HALF = "S"
    QUARTER = "Q"
    MONTH = "M"
    # Lũy kế: January to the month `index` of the year (2, 4, 5, 7 … 11 months; see
    # SPAN_PERIODS for the others). Its index counts months, so `months` is 1.
    CUMULATIVE = "C"

    @property
    def months(self) -> int:
        """Months per step of the index (a cumulative period spans `index` months)."""
        return {"Y": 12, "S": 6, "Q": 3, "M": 1, "C": 1}[self.value]

    @property
    def rank(self) -> int:
        """Finer periods have a higher rank (a cumulative span sits between a year and a
        half: it is part of a year and may hold halves, quarters and months)."""
        return {"Y": 0, "C": 1, "S": 1, "Q": 2, "M": 3}[self.value]


class Calendar(enum.StrEnum):
    STANDARD = "standard"
    CUTOFF_ND09 = "nd09"  # Nghị định 09/2019: 15th of previous month to the 14th


CUTOFF_DAY = 15
"""Under NĐ 09/2019 a date on or after the 15th belongs to the next month's period."""


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: year, type and index within the year (1-based)."""

    year: int
    type: PeriodType
    index: int = 1

    def __post_init__(self) -> None:
        if self.type is PeriodType.CUMULATIVE and (
                self.index in SPAN_PERIODS or not 1 <= self.index <= 12):
            raise ValueError(f"cumulative span of {self.index} months: use "
                             "Period.cumulative(year, months)")

    @classmethod
    def cumulative(cls, year: int, months: int) -> Period:
        """January to month `months` of `year`, under its one id: 9 → 2025C09, but 3 → the
        first quarter, 6 → the first half, 12 → the year, 1 → January."""
        if months in SPAN_PERIODS:
            kind, index = SPAN_PERIODS[months]
            return cls(year, PeriodType(kind), index)
        return cls(year, PeriodType.CUMULATIVE, months)

    @property
    def id(self) -> str:
        if self.type is PeriodType.YEAR:
            return f"{self.year}"
        if self.type is PeriodType.MONTH:
            return f"{self.year}{self.index:02d}"
        if self.type is PeriodType.CUMULATIVE:
            return f"{self.year}C{self.index:02d}"
        return f"{self.year}{self.type.value}{self.index}"

    def __str__(self) -> str:
        return self.id

    @property
    def cumulative_span(self) -> bool:
        """True for a span from January that is no reporting period of its own (2025C09)."""
        return self.type is PeriodType.CUMULATIVE

    @property
    def first_month(self) -> int:
        if self.cumulative_span:
            return 1
        return (self.index - 1) * self.type.months + 1

    @property
    def last_month(self) -> int:
        if self.cumulative_span:
            return self.index
        return self.first_month + self.type.months - 1

    def start(self, calendar: Calendar = Calendar.STANDARD) -> dt.date:
        if calendar is Calendar.CUTOFF_ND09:
            return _previous_month_15th(self.year, self.first_month)
        return dt.date(self.year, self.first_month, 1)

    def end(self, calendar: Calendar = Calendar.STANDARD) -> dt.date:
        if calendar is Calendar.CUTOFF_ND09:
            return dt.date(self.year, self.last_month, CUTOFF_DAY - 1)
        return _month_end(self.year, self.last_month)

    def months(self) -> list[Period]:
        return [Period(self.year, PeriodType.MONTH, m)
                for m in range(self.first_month, self.last_month + 1)]

    def contains(self, other: Period) -> bool:
        """Every month of `other` is a month of this period (a period contains itself)."""
        return (
            self.year == other.year
            and self.first_month <= other.first_month
            and other.last_month <= self.last_month
        )

    def previous(self) -> Period:
        """The period before this one; for a cumulative span, the same span a year earlier
        (cùng kỳ năm trước), as 9 months are compared with last year's 9 months."""
        if self.cumulative_span:
            return Period(self.year - 1, self.type, self.index)
        count = 12 // self.type.months
        if self.index > 1:
            return Period(self.year, self.type, self.index - 1)
        return Period(self.year - 1, self.type, count)

    def label(self, locale: str = "vi") -> str:
        """The name people read: 'Quý III/2025' (vi) or 'Q3 2025' (en)."""
        return self.label_en() if locale == "en" else self.label_vi()

    def label_vi(self) -> str:
        """'Quý III/2025', 'Tháng 9/2025', '6 tháng đầu năm 2025', 'Năm 2025',
        '9 tháng đầu năm 2025'."""
        if self.cumulative_span:
            return f"{self.index} tháng đầu năm {self.year}"
        if self.type is PeriodType.YEAR:
            return f"Năm {self.year}"
        if self.type is PeriodType.HALF:
            return f"6 tháng {'đầu' if self.index == 1 else 'cuối'} năm {self.year}"
        if self.type is PeriodType.QUARTER:
            return f"Quý {ROMAN[self.index - 1]}/{self.year}"
        return f"Tháng {self.index}/{self.year}"

    def label_en(self) -> str:
        """'Q3 2025', 'September 2025', 'H1 2025', 'Year 2025', 'January–September 2025'."""
        if self.cumulative_span:
            return f"January–{MONTHS_EN[self.index - 1]} {self.year}"
        if self.type is PeriodType.YEAR:
            return f"Year {self.year}"
        if self.type is PeriodType.HALF:
            return f"H{self.index} {self.year}"
        if self.type is PeriodType.QUARTER:
            return f"Q{self.index} {self.year}"
        return f"{MONTHS_EN[self.index - 1]} {self.year}"


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def _previous_month_15th(year: int, month: int) -> dt.date:
    if month == 1:
        return dt.date(year - 1, 12, CUTOFF_DAY)
    return dt.date(year, month - 1, CUTOFF_DAY)


def period_containing(
    day: dt.date, ptype: PeriodType | str = PeriodType.MONTH,
    calendar: Calendar | str = Calendar.STANDARD,
) -> Period:
    """The period of type `ptype` that contains `day` under `calendar` (kỳ chứa ngày).

    The one rule for every dated fact: a value with a date, a dossier, a submission. Under
    NĐ 09/2019 a day on or after the 15th moves to the next month, and 15/12 to the next
    year. A datetime is placed by its date as written (convert it to Vietnam time first
    with `chiso.text.to_vn` when it carries a time zone)."""
    ptype, calendar = PeriodType(ptype), Calendar(calendar)
    if isinstance(day, dt.datetime):
        day = day.date()
    year, month = day.year, day.month
    if calendar is Calendar.CUTOFF_ND09 and day.day >= CUTOFF_DAY:
        month += 1
        if month == 13:
            year, month = year + 1, 1
    if ptype is PeriodType.CUMULATIVE:  # lũy kế từ đầu năm: January to this month
        return Period.cumulative(year, month)
    index = (month - 1) // ptype.months + 1
    return Period(year, ptype, index)


def year_to_date(day: dt.date, calendar: Calendar | str = Calendar.STANDARD) -> Period:
    """'Lũy kế từ đầu năm' on `day`: January to the month holding it (2025C09 on
    20/09/2025; under NĐ 09/2019, 15/09 is already in the October span)."""
    return period_containing(day, PeriodType.CUMULATIVE, calendar)


def month_ids_between(first: dt.date, last: dt.date) -> list[str]:
    """Month ids from the month of `first` to the month of `last`, inclusive."""
    ids = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        ids.append(f"{year}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return ids

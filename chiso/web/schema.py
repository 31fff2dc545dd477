"""How the API describes a parameter that a route reads with chiso's own parser (a period,
a day typed by a person): the OpenAPI document says which strings fit, the parser still
decides — nothing here validates, so no message or status changes.

A route taking a plain `str` told clients "any string", then refused most strings (422):
schemathesis' "schema-valid request rejected". The schema now gives the canonical form
(`2025Q3`, `2025-09-30`) and the description the spellings people also write, which the
parser accepts too (`Quý III/2025`, `30/9/2025`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Query
from pydantic import WithJsonSchema

PERIOD_PATTERN = r"^(19|20|21)[0-9]{2}(S[12]|Q[1-4]|0[1-9]|1[0-2]|C(0[1-9]|1[0-2]))?$"
"""A period's id (chiso.periods): year, half-year, quarter, month, or the months so far."""

MONTH_PATTERN = r"^(19|20|21)[0-9]{2}(0[1-9]|1[0-2])$"

PERIOD_WORDS = ("A period: 2025 (year), 2025S1 (half-year), 2025Q3 (quarter), 202509 "
                "(month), 2025C09 (January to September); also as people write it: "
                "'Quý III/2025', 'Tháng 9/2025', '9 tháng đầu năm 2025'.")
MONTH_WORDS = "A month: 202609, or as people write it: 'Tháng 9/2026'."
DAY_WORDS = "A day: 2025-09-30, or as people write it: 30/9/2025."

_PERIOD: dict[str, Any] = {"type": "string", "pattern": PERIOD_PATTERN,
                           "description": PERIOD_WORDS}
_MONTH: dict[str, Any] = {"type": "string", "pattern": MONTH_PATTERN,
                          "description": MONTH_WORDS}
_DAY: dict[str, Any] = {"type": "string", "format": "date", "description": DAY_WORDS}
_EMPTY: dict[str, Any] = {"type": "string", "maxLength": 0}


def _or_empty(schema: dict[str, Any], words: str) -> dict[str, Any]:
    return {"anyOf": [schema, _EMPTY], "description": f"{words} Empty: the default."}


PeriodText = Annotated[str, WithJsonSchema(_PERIOD)]
"""A required period, read by the route with chiso.periods."""
OptionalPeriodText = Annotated[str | None, WithJsonSchema(_or_empty(_PERIOD, PERIOD_WORDS))]
"""A period that may be left out or empty (the route picks its default)."""
DayText = Annotated[str, WithJsonSchema(_DAY)]
"""A required day, read by the route with chiso.text.parse_date."""
OptionalDayText = Annotated[str | None, WithJsonSchema(_or_empty(_DAY, DAY_WORDS))]
"""A day that may be left out or empty."""
OptionalMonthText = Annotated[str | None, WithJsonSchema(_or_empty(_MONTH, MONTH_WORDS))]
"""A month that may be left out or empty."""


FIRST_YEAR, LAST_YEAR = 1900, 2200
OptionalYear = Annotated[int | None, Query(ge=FIRST_YEAR, le=LAST_YEAR,
                                           description="A year, 1900–2200; left out: the "
                                           "route's default")]
"""A year a route computes dates from: outside 1900–2200 it is a 422 naming the field
(an unbounded year reached the date library: 500)."""


def one_of(values: Iterable[str], *, empty: bool = True) -> WithJsonSchema:
    """For `Annotated[str | None, one_of(...)]`: a word the route checks against a list
    (a status, an origin), refused with its own message otherwise; empty means none."""
    choice: dict[str, Any] = {"type": "string", "enum": [str(v) for v in values]}
    return WithJsonSchema({"anyOf": [choice, _EMPTY]} if empty else choice)

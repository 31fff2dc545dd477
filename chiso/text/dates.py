"""Dates are day-first in Vietnam: '23/5/2023', '15-11-2021', 'ngày 05 tháng 6 năm 2024'."""

from __future__ import annotations

import datetime as dt
import re

from chiso.errors import UserError
from chiso.text.normalize import nfc

_NUMERIC = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_WORDS = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.IGNORECASE)


class DateError(UserError, ValueError):
    """Text that is not a date (422)."""

    status = 422

    def __init__(self, text: object) -> None:
        super().__init__(f"'{text}' không phải ngày hợp lệ (dd/mm/yyyy)",
                         f"'{text}' is not a valid date (dd/mm/yyyy)")


def parse_date(text: object) -> dt.date:
    """Parse dd/mm/yyyy (also with - or .), yyyy-mm-dd, or 'ngày d tháng m năm yyyy'."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    cleaned = nfc(text)
    for pattern, order in ((_NUMERIC, "dmy"), (_WORDS, "dmy"), (_ISO, "ymd")):
        match = pattern.search(cleaned) if pattern is _WORDS else pattern.match(cleaned)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()[:3]), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                break
    raise DateError(text)

"""Vietnamese text, numbers and dates: parse what users type, format what they read.

Whole columns of numbers are parsed by `chiso.text.columns` (Polars), imported from there:
this package stays free of Polars so that a command that only formats (`chiso status`
printing a stored answer) does not load it.
"""

from chiso.text.cells import spreadsheet_safe, unguard_cell
from chiso.text.clock import iso_instant, to_utc, to_vn, vn_now, vn_today, vn_zone
from chiso.text.dates import DateError, parse_date
from chiso.text.format import (
    entered_decimals,
    format_date,
    format_measure,
    format_moment,
    format_number,
    format_percent,
)
from chiso.text.normalize import accent_free_key, name_key, nfc
from chiso.text.numbers import NumberError, NumberStyle, ParsedNumber, parse_float, parse_number

__all__ = [
    "DateError",
    "NumberError",
    "NumberStyle",
    "ParsedNumber",
    "accent_free_key",
    "entered_decimals",
    "format_date",
    "format_measure",
    "format_moment",
    "format_number",
    "format_percent",
    "iso_instant",
    "name_key",
    "nfc",
    "parse_date",
    "parse_float",
    "parse_number",
    "spreadsheet_safe",
    "to_utc",
    "to_vn",
    "unguard_cell",
    "vn_now",
    "vn_today",
    "vn_zone",
]

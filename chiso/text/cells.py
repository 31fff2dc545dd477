"""Spreadsheet cells that cannot run: the one rule for every XLSX and CSV chiso writes.

A cell whose text starts with `=`, `+`, `-` or `@` (or a tab or carriage return before
one) is read by Excel and LibreOffice as a formula — "formula injection" (OWASP CSV
injection): a task title `=HYPERLINK(...)` typed by one officer would run on the
chairman's machine. Such text is written with a guard: a single
quote that spreadsheets show as text and that `unguard_cell` removes on read-back.
Numbers are never changed: a negative number is a number, not text.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value` unchanged unless it is text a spreadsheet would run as a formula; that text
    gets a leading `'` so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unguard_cell(value: Any) -> Any:
    """The text as typed, from a cell `spreadsheet_safe` guarded (imports of our exports)."""
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(
            FORMULA_STARTS):
        return value[1:]
    return value

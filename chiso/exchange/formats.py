"""The feed written as JSON, CSV or XLSX, exactly as docs/exchange.md describes it.

Machine conventions, the same in every format: dates ISO (yyyy-mm-dd), numbers with a
decimal point and no grouping, booleans true/false, empty for null; field names in English
(`chiso.exchange.feed.KPI_FIELDS`, `TASK_FIELDS`); text UTF-8, and in CSV and XLSX a text
that a spreadsheet would run as a formula is guarded with a leading quote
(`chiso.text.spreadsheet_safe`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from chiso.errors import UserError
from chiso.exchange.feed import KPI_FIELDS, TASK_FIELDS, VERSION, Feed
from chiso.text import spreadsheet_safe

SECTIONS = {"kpis": KPI_FIELDS, "tasks": TASK_FIELDS}
SHEETS = {"info": "Thông tin", "kpis": "Chỉ tiêu", "tasks": "Nhiệm vụ"}
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")


class FormatRejected(UserError):
    status = 422


def _plain(value: Any) -> Any:
    """A value in the feed's machine form (JSON and CSV)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_json(feed: Feed) -> bytes:
    document = {**feed.header(),
                "kpis": [{k: _plain(row[k]) for k in KPI_FIELDS} for row in feed.kpis],
                "tasks": [{k: _plain(row[k]) for k in TASK_FIELDS} for row in feed.tasks],
                "summary": feed.summary()}
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _csv_cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back as the same float: 1180.0, 87.5
    return str(spreadsheet_safe(value))


def to_csv(feed: Feed, section: str) -> bytes:
    """One section ('kpis' or 'tasks'): a header row of field names, then one row each,
    each row starting with the feed's version and as-of date. UTF-8 with a BOM."""
    if section not in SECTIONS:
        raise FormatRejected(f"Phần '{section}' không có (kpis, tasks)",
                             f"no section '{section}' (kpis, tasks)")
    fields = SECTIONS[section]
    rows = feed.kpis if section == "kpis" else feed.tasks
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["format_version", "as_of", *fields])
    for row in rows:
        writer.writerow([VERSION, feed.as_of.isoformat(),
                         *[_csv_cell(row[f]) for f in fields]])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def write_xlsx(feed: Feed, path: Path) -> Path:
    """Sheets 'Thông tin' (field, value: the header), 'Chỉ tiêu' (KPIs) and 'Nhiệm vụ'
    (tasks): row 1 the field names, then one row each; dates are date cells."""
    workbook = Workbook()
    info = workbook.active
    assert info is not None
    info.title = SHEETS["info"]
    info.append(["field", "value"])
    for key, value in _flat_header(feed).items():
        info.append([key, spreadsheet_safe(value)])
    for section, fields in SECTIONS.items():
        sheet = workbook.create_sheet(SHEETS[section])
        sheet.append(list(fields))
        for row in (feed.kpis if section == "kpis" else feed.tasks):
            sheet.append([_xlsx_cell(row[f]) for f in fields])
        sheet.freeze_panes = "A2"
    for sheet in workbook.worksheets:
        for cell in sheet[1]:
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
        for column, width in zip("ABCDEFGHIJ", (16, 28, 22, 30, 30, 12, 12, 12, 14, 12),
                                 strict=False):
            sheet.column_dimensions[column].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


def _flat_header(feed: Feed) -> dict[str, Any]:
    header = feed.header()
    flat = {k: v for k, v in header.items() if not isinstance(v, dict) and v is not None}
    for key, value in header["unit"].items():
        flat[f"unit_{key}"] = value
    for key, value in (header["committee"] or {}).items():
        flat[f"committee_{key}"] = value
    return flat

"""Read value files (CSV, XLSX, XLS) into a frame of text cells with canonical column names.

What real files look like: title rows and merged cells above the header ("BÁO CÁO SỐ LIỆU
CHUYỂN ĐỔI SỐ QUÝ III/2025"), a two-level header where "Số liệu" spans "Tử số | Mẫu số |
Giá trị", Vietnamese column names with or without accents, a row of column numbers
"(1) (2) (3)" under the header, CSV saved as UTF-8 by one office and as Windows-1258 by the
next. Every cell keeps the row number the user sees in Excel, for error messages.

Other input formats (the Excel templates and DHIS2 files of the reporting cycle) produce
the same `SheetTable` and reuse the validation in `chiso.values.importer`.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

import polars as pl

from chiso.errors import UserError
from chiso.text import accent_free_key
from chiso.text.columns import cell_text

# Canonical columns of the long format, with the header spellings accepted for each
# (compared on `header_key`: accents, case, spaces, punctuation and "(...)" ignored).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "unit_code": ("unit_code", "unit", "org_unit", "orgunit", "mã đơn vị", "mã đv", "mã_đơn_vị"),
    "indicator_code": ("indicator_code", "indicator", "mã chỉ tiêu", "mã chỉ số", "mã ct"),
    "period": ("period", "kỳ báo cáo", "kỳ", "kỳ bc", "thời kỳ"),
    "numerator": ("numerator", "tử số"),
    "denominator": ("denominator", "mẫu số"),
    "value": ("value", "giá trị", "số liệu", "kết quả"),
    "source": ("source", "nguồn", "nguồn số liệu", "nguồn dữ liệu"),
    "comment": ("comment", "ghi chú", "note", "notes", "thuyết minh"),
    "estimate": ("estimate", "ước", "số ước", "ước tính", "ước thực hiện", "loại số liệu"),
}
REQUIRED_COLUMNS = ("unit_code", "indicator_code", "period")
OPTIONAL_COLUMNS = ("numerator", "denominator", "value", "source", "comment", "estimate")
HEADER_SEARCH_ROWS = 20
_PARENTHESES = re.compile(r"\(.*?\)|\[.*?\]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_COLUMN_NUMBER = re.compile(r"^\(?\s*\d{1,2}\s*\)?$")


def header_key(text: object) -> str:
    """'Giá trị (%)' → 'giatri'; 'Mã đơn vị' → 'madonvi'; 'unit_code' → 'unitcode'."""
    without_notes = _PARENTHESES.sub("", accent_free_key(text))
    return _NOT_ALNUM.sub("", without_notes)


ALIAS_TO_COLUMN = {header_key(alias): column
                   for column, aliases in COLUMN_ALIASES.items() for alias in aliases}


class FileUnreadable(UserError, ValueError):
    """A file that cannot be read at all, or has no recognisable header (422)."""

    status = 422

    def __init__(self, message_vi: str, message_en: str, *, sheet: str = "") -> None:
        self.sheet = sheet
        super().__init__(message_vi, message_en)


@dataclass
class SheetTable:
    """The data rows of one sheet: string columns named as in COLUMN_ALIASES, plus `_line`
    (the row number the user sees) and the header row's number and original labels."""

    sheet: str
    header_row: int
    labels: dict[str, str]  # canonical column → header text as written in the file
    cells: pl.DataFrame


def read_value_file(path: Path, display_name: str | None = None) -> list[SheetTable]:
    """Every sheet of `path` that has a value header. Raises FileUnreadable."""
    suffix = path.suffix.lower()
    name = display_name or path.name
    if suffix in (".csv", ".txt"):
        return [_read_csv(path.read_bytes(), name)]
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        return _read_workbook(path, name)
    raise FileUnreadable(f"Tệp '{name}': chỉ nhận .csv, .xlsx, .xls",
                         f"file '{name}': only .csv, .xlsx and .xls are accepted")


# ------------------------------------------------------------------ header detection


def _column_of(cell: object) -> str | None:
    text = cell_text(cell)
    return ALIAS_TO_COLUMN.get(header_key(text)) if text else None


def _header_candidates(rows: list[list[object]]) -> tuple[int, dict[int, str]] | None:
    """(header row index, {column position: canonical name}) of the best header among the
    first rows. A two-level header takes each column's name from the lower row when it is
    a known name there, else from the (merged) cell above."""
    best: tuple[int, dict[int, str]] | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        above = rows[index - 1] if index else []
        mapping: dict[int, str] = {}
        for position in range(max(len(row), len(above))):
            own = _column_of(row[position]) if position < len(row) else None
            upper = _column_of(above[position]) if position < len(above) else None
            name = own or upper
            if name and name not in mapping.values():
                mapping[position] = name
        if set(REQUIRED_COLUMNS) <= set(mapping.values()) and (
                best is None or len(mapping) > len(best[1])):
            best = (index, mapping)
    return best


def _is_column_number_row(row: list[object], positions: list[int]) -> bool:
    """The "(1) (2) (3)" row some forms put under the header."""
    texts = [cell_text(row[p]) if p < len(row) else None for p in positions]
    filled = [t for t in texts if t]
    return len(filled) >= 2 and all(_COLUMN_NUMBER.match(t) for t in filled)


def _no_header(name: str, sheet: str = "") -> FileUnreadable:
    where_vi = f"Tệp '{name}'" + (f", trang '{sheet}'" if sheet else "")
    where_en = f"file '{name}'" + (f", sheet '{sheet}'" if sheet else "")
    return FileUnreadable(
        f"{where_vi}: không tìm thấy dòng tiêu đề có các cột mã đơn vị, mã chỉ tiêu, "
        f"kỳ báo cáo (unit_code, indicator_code, period) trong {HEADER_SEARCH_ROWS} dòng đầu",
        f"{where_en}: no header row with unit_code, indicator_code and period "
        f"(mã đơn vị, mã chỉ tiêu, kỳ báo cáo) in the first {HEADER_SEARCH_ROWS} rows",
        sheet=sheet)


# ------------------------------------------------------------------ CSV


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM); otherwise Windows-1258, the legacy Vietnamese code page."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace")


def _sniff_separator(head: str) -> str:
    lines = [line for line in head.splitlines() if line.strip()][:HEADER_SEARCH_ROWS]
    counts = {sep: sum(line.count(sep) for line in lines) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: counts[sep])


def _read_csv(data: bytes, name: str) -> SheetTable:
    text = decode_text(data)
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    separator = _sniff_separator(head)
    first_rows: list[list[object]] = [list(row) for row in
                                      csv.reader(io.StringIO(head), delimiter=separator)]
    found = _header_candidates(first_rows)
    if found is None:
        raise _no_header(name)
    header_index, mapping = found
    body = pl.read_csv(
        text.encode("utf-8"), has_header=False, skip_rows=header_index + 1,
        infer_schema=False, separator=separator, truncate_ragged_lines=True,
        raise_if_empty=False,
    )
    labels = {column: _label(first_rows, header_index, p) or column
              for p, column in mapping.items()}
    cells = _select_columns(body, mapping, first_line=header_index + 2)
    return SheetTable("", header_index + 1, labels, _drop_numbering_and_blank(cells))


def _select_columns(body: pl.DataFrame, mapping: dict[int, str], first_line: int
                    ) -> pl.DataFrame:
    names = body.columns
    present = {column: pl.col(names[p]) for p, column in mapping.items() if p < len(names)}
    every = {c: present.get(c, pl.lit(None, pl.String)) for c in (*REQUIRED_COLUMNS,
                                                                 *OPTIONAL_COLUMNS)}
    return body.select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + first_line).alias("_line"),
        *[expr.cast(pl.String).alias(column) for column, expr in every.items()],
    )


def _drop_numbering_and_blank(cells: pl.DataFrame) -> pl.DataFrame:
    columns = [*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS]
    blank = pl.all_horizontal([
        pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in columns])
    numbering = pl.all_horizontal([
        pl.col(c).is_null() | pl.col(c).str.contains(r"^\(?\s*\d{1,2}\s*\)?$") for c in columns])
    first = pl.int_range(pl.len()) == 0
    return cells.filter(~blank & ~(first & numbering))


# ------------------------------------------------------------------ Excel


def _read_workbook(path: Path, name: str) -> list[SheetTable]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for damaged files
        raise FileUnreadable(f"Tệp '{name}' không đọc được ({exc})",
                             f"file '{name}' cannot be read ({exc})") from exc
    tables = []
    percent = percent_cells(path)
    for meta in workbook.sheets_metadata:
        if str(meta.visible).endswith("Visible") and str(meta.typ).endswith("WorkSheet"):
            table = _read_sheet(workbook.get_sheet_by_name(meta.name),
                                percent.get(meta.name, set()))
            if table is not None:
                tables.append(table)
    if not tables:
        raise _no_header(name)
    return tables


def _read_sheet(sheet, percent: set[tuple[int, int]]) -> SheetTable | None:  # type: ignore[no-untyped-def]
    rows: list[list[object]] = sheet.to_python(skip_empty_area=False)
    first_row, first_col = sheet.start if rows else (0, 0)
    head = _fill_merged(rows[:HEADER_SEARCH_ROWS + 1], sheet.merged_cell_ranges or [],
                        first_row, first_col)
    found = _header_candidates(head)
    if found is None:
        return None
    header_index, mapping = found
    data = rows[header_index + 1:]
    positions = sorted(mapping)
    # calamine returns rectangular rows: pick the needed cells with a C-level itemgetter
    # and transpose once, instead of indexing every row once per column.
    picked = list(zip(*map(itemgetter(*positions), data), strict=True)) if data else []
    by_position = dict(zip(positions, picked, strict=False))
    columns = {
        column: _column_texts(by_position[p]) if p in by_position
        else pl.Series([None] * len(data), dtype=pl.String)
        for p, column in mapping.items()
    }
    _mark_percent_cells(columns, mapping, percent, data,
                        first_data_row=first_row + header_index + 1, first_col=first_col)
    body = pl.DataFrame({f"c{p}": columns[c] for p, c in mapping.items()})
    renamed = {p: column for p, column in enumerate(mapping.values())}
    cells = _select_columns(body, renamed, first_line=first_row + header_index + 2)
    labels = {column: _label(head, header_index, p) or column for p, column in mapping.items()}
    return SheetTable(sheet.name, first_row + header_index + 1, labels,
                      _drop_numbering_and_blank(cells))


def _column_texts(cells: tuple[object, ...]) -> pl.Series:
    """One column's cells as text that the number parser reads back exactly. Text and
    numbers are separated by type and numbers converted to text by polars; only columns
    holding other types (dates, booleans) go cell by cell through `cell_text`."""
    kinds = set(map(type, cells))
    if kinds <= {str}:
        return pl.Series(cells, dtype=pl.String).replace("", None)
    if not kinds <= {str, float, int}:
        return pl.Series(list(map(cell_text, cells)), dtype=pl.String)
    is_text = [type(c) is str for c in cells]
    text = pl.Series([c if t else None for c, t in zip(cells, is_text, strict=True)],
                     dtype=pl.String)
    numbers = pl.Series([None if t else c for c, t in zip(cells, is_text, strict=True)],
                        dtype=pl.Float64)
    return pl.select(pl.coalesce(_float_texts(numbers), text.replace("", None))).to_series()


def _float_texts(numbers: pl.Series) -> pl.Series:
    """Floats as decimal-comma text ('1,234' is 1.234: never a thousands group)."""
    text = numbers.cast(pl.String)
    exponent = text.str.contains("e").fill_null(False)
    if exponent.any():  # rare: 1e-07 and the like, expanded exactly one by one
        exact = [cell_text(v) if e else None
                 for v, e in zip(numbers.to_list(), exponent.to_list(), strict=True)]
        text = pl.select(pl.when(exponent).then(pl.Series(exact, dtype=pl.String))
                         .otherwise(text)).to_series()
    # Whole numbers without a decimal part: codes and periods typed as numbers stay "2025".
    whole = (numbers == numbers.floor()) & (numbers.abs() < 1e15)
    return pl.select(pl.when(whole).then(numbers.cast(pl.Int64, strict=False)
                                         .cast(pl.String))
                     .otherwise(text.str.replace(".", ",", literal=True))).to_series()


def _label(head: list[list[object]], index: int, position: int) -> str:
    """The header text of a column: its own cell, or (two-level headers) the one above."""
    for row in (head[index], head[index - 1] if index else []):
        text = cell_text(row[position]) if position < len(row) else None
        if text and _column_of(text):
            return str(text).strip()
    return ""


def _mark_percent_cells(columns: dict[str, pl.Series], mapping: dict[int, str],
                        percent: set[tuple[int, int]], data: list[list[object]],
                        first_data_row: int, first_col: int) -> None:
    """A number in a percent-formatted cell becomes "76,6%" (Excel stores 0.766)."""
    for row, col in percent:
        position, index = col - first_col, row - first_data_row
        column = mapping.get(position)
        if column is None or not 0 <= index < len(data) or position >= len(data[index]):
            continue
        cell = data[index][position]
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            columns[column][index] = f"{cell_text(Decimal(repr(cell)) * 100)}%"  # scatter


def _fill_merged(rows: list[list[object]], merged: list, first_row: int,  # type: ignore[type-arg]
                 first_col: int) -> list[list[object]]:
    """Copy each merged range's top-left value across the range (header rows only), so a
    title "Số liệu" merged over three columns labels all three."""
    filled = [list(r) for r in rows]
    for (top, left), (bottom, right) in merged:
        top, bottom, left, right = (top - first_row, bottom - first_row,
                                    left - first_col, right - first_col)
        if top < 0 or top >= len(filled) or left < 0:
            continue
        value = filled[top][left] if left < len(filled[top]) else None
        for r in range(top, min(bottom, len(filled) - 1) + 1):
            for c in range(left, min(right, len(filled[r]) - 1) + 1):
                if filled[r][c] in ("", None):
                    filled[r][c] = value
    return filled


# ------------------------------------------------------------------ percent-formatted cells

_BUILTIN_PERCENT_FORMATS = {9, 10}  # "0%" and "0.00%"


def percent_cells(path: Path) -> dict[str, set[tuple[int, int]]]:
    """Per sheet name, the (row, column) positions (0-based) of cells formatted as a
    percentage. Excel stores 76,6% as 0.766 and only the cell's format says "percent";
    calamine does not report formats, so the styles and sheet XML are scanned here."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    try:
        with zipfile.ZipFile(path) as archive:
            styles = _percent_style_ids(archive)
            if not styles:
                return {}
            return {name: _styled_positions(archive.read(member), styles)
                    for name, member in _sheet_members(archive).items()}
    except (KeyError, zipfile.BadZipFile):
        return {}


def _percent_style_ids(archive: zipfile.ZipFile) -> set[str]:
    styles = archive.read("xl/styles.xml").decode("utf-8", errors="replace")
    percent_formats = set(_BUILTIN_PERCENT_FORMATS) | {
        int(_attribute(tag, "numFmtId")) for tag in re.findall(r"<numFmt\b[^>]*>", styles)
        if "%" in html.unescape(_attribute(tag, "formatCode")).replace("\\%", "")}
    cell_xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.S)
    if not cell_xfs:
        return set()
    formats = re.findall(r'<xf\b[^>]*?numFmtId="(\d+)"', cell_xfs.group(1))
    return {str(index) for index, number in enumerate(formats)
            if int(number) in percent_formats}


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    workbook = archive.read("xl/workbook.xml").decode("utf-8", errors="replace")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", errors="replace")
    targets = {_attribute(tag, "Id"): _attribute(tag, "Target")
               for tag in re.findall(r"<Relationship\b[^>]*>", rels)}
    members = {}
    for tag in re.findall(r"<sheet\b[^>]*>", workbook):
        name, rid = _attribute(tag, "name"), _attribute(tag, "r:id")
        target = targets.get(rid, "")
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        members[html.unescape(name)] = member
    return members


def _styled_positions(sheet_xml: bytes, style_ids: set[str]) -> set[tuple[int, int]]:
    ids = "|".join(sorted(style_ids))
    pattern = re.compile(rb'<c\b(?=[^>]*\bs="(?:' + ids.encode() + rb')")[^>]*?\br="([A-Z]+)(\d+)"')
    return {(int(row) - 1, _column_index(letters.decode()))
            for letters, row in pattern.findall(sheet_xml)}


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _attribute(tag: str, name: str) -> str:
    match = re.search(r'\s' + re.escape(name) + r'="([^"]*)"', tag)
    return match.group(1) if match else ""

"""Read the budget tables a finance department sends: one row per project or budget line,
stage columns (Đề xuất, Dự toán giao, Phân bổ, Quyết toán), cumulative disbursement by
month as columns (Tháng 1 … Tháng 12, often under a merged "Giải ngân lũy kế" header),
section rows ("I. Chi đầu tư phát triển", "A. Ngân sách địa phương") that set the type,
source or area of the rows below them, total rows to skip, a title that says the year
("DỰ TOÁN … NĂM 2026") and the unit of amounts ("Đơn vị tính: triệu đồng").

This module only turns a sheet into located text cells (`FundingSheet`); the meaning of
each cell is decided in `chiso.funding.importer`. Cells come through calamine like the
value files (`chiso.values.reader`); merged header cells are spread across their range
with that reader's helper; legacy TCVN3/VNI text is converted column by column
(`chiso.collection.legacy`).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from chiso.collection import legacy
from chiso.text import accent_free_key, nfc
from chiso.values import reader
from chiso.values.parsing import cell_text
from chiso.values.reader import FileUnreadable, header_key

HEADER_SEARCH_ROWS = 20
MAX_ROWS = 5000  # a province's table has a few hundred lines
MAX_COLUMNS = 120
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")

FIELD_SPELLINGS: dict[str, tuple[str, ...]] = {
    "number": ("stt", "số tt", "tt", "số thứ tự"),
    "name": ("nội dung", "tên dự án", "tên nhiệm vụ", "tên chương trình", "danh mục",
             "nội dung chi", "danh mục dự án", "tên dự án nhiệm vụ", "dự án nhiệm vụ",
             "nội dung nhiệm vụ", "danh mục dự án nhiệm vụ", "tên dự án công trình",
             "tên chương trình dự án", "nội dung công việc", "line", "name"),
    "unit": ("đơn vị", "đơn vị chủ trì", "chủ đầu tư", "đơn vị thực hiện", "cơ quan chủ trì",
             "đơn vị sử dụng ngân sách", "mã đơn vị", "đơn vị dự toán",
             "chủ đầu tư đơn vị chủ trì", "cơ quan đơn vị", "unit", "owner unit"),
    "programme": ("mã dự án", "mã chương trình", "mã chương trình dự án", "mã ctda",
                  "programme", "project code"),
    "source": ("nguồn vốn", "nguồn", "nguồn kinh phí", "nguồn ngân sách", "source"),
    "spend_type": ("loại chi", "tính chất chi", "loại kinh phí", "tính chất", "type"),
    "area": ("lĩnh vực", "lĩnh vực chi", "area"),
    "year": ("năm", "năm ngân sách", "năm kế hoạch", "year"),
    "comment": ("ghi chú", "comment", "note"),
}

_MONTH_WORD = re.compile(r"(?:^|\s)(?:thang|t)\s*0?(\d{1,2})(?:\s*[/\-.]\s*(\d{4}))?\s*$")
_MONTH_SLASH = re.compile(r"^0?(\d{1,2})\s*[/\-.]\s*(\d{4})$")
_MONTH_BARE = re.compile(r"^0?(\d{1,2})$")
_DATE = re.compile(r"(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})")


@dataclass(frozen=True)
class Column:
    """What a column holds: a field ("name", "unit", …), a stage ("stage:estimate") or a
    month of cumulative disbursement ("month", with `month` and perhaps `year`)."""

    position: int
    field: str
    label: str  # the header as written in the file
    month: int | None = None
    year: int | None = None


@dataclass
class FundingSheet:
    """A sheet's table: its columns, the title lines above the header, and the data rows
    with the row number the user sees in Excel."""

    name: str
    header_row: int  # 1-based, the (lower) header row
    columns: list[Column]
    titles: list[str]
    rows: list[tuple[int, list[str | None]]] = field(default_factory=list)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field == name), None)


def _field_index() -> dict[str, str]:
    from chiso.funding.vocab import STAGES

    index = {header_key(s): name for name, spellings in FIELD_SPELLINGS.items()
             for s in spellings}
    for code, term in STAGES.items():
        for text in (term.name_vi, term.name_en, *term.spellings):
            index.setdefault(header_key(text), f"stage:{code}")
    return index


FIELD_INDEX = _field_index()


def read_funding_file(path: Path, display_name: str | None = None, *,
                      encoding: str = "auto") -> list[FundingSheet]:
    """Every sheet of the file that holds a budget table. Raises FileUnreadable."""
    name = display_name or path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FileUnreadable(f"Tệp '{name}': chỉ nhận .xlsx, .xls, .ods, .csv",
                             f"file '{name}': only .xlsx, .xls, .ods and .csv are accepted")
    grids = _csv_grid(path) if suffix == ".csv" else _workbook_grids(path, name)
    sheets = [s for s in (_sheet(sheet_name, grid, merged, name, encoding)
                          for sheet_name, grid, merged in grids) if s is not None]
    if not sheets:
        raise FileUnreadable(
            f"Tệp '{name}': không tìm thấy bảng kinh phí — cần dòng tiêu đề có cột nội dung "
            "(tên dự án, nhiệm vụ), cột đơn vị và ít nhất một cột số tiền (Đề xuất, Dự toán "
            f"giao, Phân bổ, Giải ngân, Quyết toán hoặc Tháng 1…12) trong {HEADER_SEARCH_ROWS}"
            " dòng đầu",
            f"file '{name}': no budget table found — a header row with a name column, a unit "
            "column and at least one amount column (proposed, estimate, allocated, disbursed, "
            f"settled, or months 1–12) is needed within the first {HEADER_SEARCH_ROWS} rows")
    return sheets


Grid = tuple[str, list[list[object]], list[tuple[tuple[int, int], tuple[int, int]]]]


def _workbook_grids(path: Path, name: str) -> list[Grid]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for damaged files
        raise FileUnreadable(f"Tệp '{name}' không đọc được ({exc})",
                             f"file '{name}' cannot be read ({exc})") from exc
    grids: list[Grid] = []
    for meta in workbook.sheets_metadata:
        if not (str(meta.visible).endswith("Visible") and str(meta.typ).endswith("WorkSheet")):
            continue
        sheet = workbook.get_sheet_by_name(meta.name)
        rows: list[list[object]] = [list(r) for r in sheet.to_python(skip_empty_area=False)]
        _check_size(rows, name, meta.name)
        top, left = sheet.start if rows and sheet.start else (0, 0)
        # Pad to the sheet's origin so positions are Excel's (row numbers in messages).
        blank: list[list[object]] = [[] for _ in range(top)]
        padded: list[list[object]] = [[None] * left + list(r) for r in blank + rows]
        grids.append((meta.name, padded, list(sheet.merged_cell_ranges or [])))
    return grids


def _csv_grid(path: Path) -> list[Grid]:
    text = reader.decode_text(path.read_bytes())
    lines = text.splitlines()
    separator = max((",", ";", "\t"), key=lambda s: sum(
        line.count(s) for line in lines[:HEADER_SEARCH_ROWS]))
    rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text),
                                                              delimiter=separator)]
    _check_size(rows, path.name, "")
    return [("", rows, [])]


def _check_size(rows: list[list[object]], name: str, sheet: str) -> None:
    width = max((len(r) for r in rows), default=0)
    if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS or width > MAX_COLUMNS:
        where = f" trang '{sheet}'" if sheet else ""
        raise FileUnreadable(
            f"Tệp '{name}'{where} quá lớn ({len(rows)} dòng, {width} cột; tối đa "
            f"{MAX_ROWS} dòng, {MAX_COLUMNS} cột): hãy chia thành nhiều tệp",
            f"file '{name}' is too large ({len(rows)} rows, {width} columns; at most "
            f"{MAX_ROWS} rows and {MAX_COLUMNS} columns): split it", sheet=sheet)


# ------------------------------------------------------------------ one sheet


def _sheet(sheet_name: str, grid: list[list[object]], merged: list, file_name: str,  # type: ignore[type-arg]
           encoding: str) -> FundingSheet | None:
    texts = _texts(grid)
    found = _find_header(texts[:HEADER_SEARCH_ROWS + 1], merged, encoding)
    if found is None:
        return None
    index, columns, head = found
    titles = [" ".join(c for c in row if c) for row in head[:max(index - 1, 0)]]
    titles += [c.label for c in columns]
    body = _converted(texts[index + 1:], encoding)
    rows = [(index + 2 + offset, row) for offset, row in enumerate(body)]
    if rows and _is_numbering(rows[0][1], columns):
        rows = rows[1:]
    return FundingSheet(sheet_name, index + 1, columns, titles,
                        [(n, r) for n, r in rows if any(r)])


def _find_header(head: list[list[str | None]], merged: list, encoding: str  # type: ignore[type-arg]
                 ) -> tuple[int, list[Column], list[list[str | None]]] | None:
    """The header row, trying the header cells as Unicode first, then as TCVN3 and VNI
    (an old file's headers are as legacy as its data; a short cell cannot tell alone)."""
    for candidate in ([encoding] if encoding != "auto" else ["unicode", "tcvn3", "vni"]):
        converted = [[_as(cell, candidate) for cell in row] for row in head]
        # The values reader's helper spreads a merged title ("Giải ngân lũy kế") across
        # the columns it covers, so each month column knows its parent.
        filled: list[list[str | None]] = reader._fill_merged(  # type: ignore[assignment]
            converted, merged, 0, 0)  # type: ignore[arg-type]
        found = _header(filled)
        if found is not None:
            return found[0], found[1], filled
    return None


def _as(cell: str | None, encoding: str) -> str | None:
    if cell is None or encoding == "unicode" or _looks_numeric(cell):
        return cell
    return nfc(legacy.convert(cell, encoding))


def _texts(grid: list[list[object]]) -> list[list[str | None]]:
    """Every cell as text; numbers as decimal-comma text (`cell_text`), read back exactly
    by the number parser."""
    width = max((len(r) for r in grid), default=0)
    return [[_text(c) for c in row] + [None] * (width - len(row)) for row in grid]


def _text(cell: object) -> str | None:
    text = cell_text(cell)
    if text is None:
        return None
    cleaned = nfc(text) if isinstance(cell, str) else text
    return cleaned or None


def _converted(rows: list[list[str | None]], encoding: str) -> list[list[str | None]]:
    """Legacy TCVN3/VNI data cells, decided column by column (`auto`) or as forced."""
    if not rows or encoding == "unicode":
        return rows
    for position in range(len(rows[0])):
        cells = [r[position] for r in rows if position < len(r)]
        chosen = encoding if encoding != "auto" else legacy.detect_column(
            c for c in cells if c and not _looks_numeric(c))
        if chosen == "unicode":
            continue
        for row in rows:
            if position < len(row):
                row[position] = _as(row[position], chosen)
    return rows


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s.,%+\-()]+", text))


def _field_of(text: str | None) -> str | None:
    return FIELD_INDEX.get(header_key(text)) if text else None


def month_of(text: str | None, under_disbursement: bool) -> tuple[int, int | None] | None:
    """'Tháng 3', 'T3', '03/2026', 'Tháng 3/2026' → (3, year?); a bare '3' only under a
    "Giải ngân" header."""
    if not text:
        return None
    key = accent_free_key(text).strip()
    for pattern in (_MONTH_WORD, _MONTH_SLASH) + ((_MONTH_BARE,) if under_disbursement
                                                  else ()):
        match = pattern.search(key)
        if match and 1 <= int(match.group(1)) <= 12:
            year = match.group(2) if match.lastindex and match.lastindex >= 2 else None
            return int(match.group(1)), int(year) if year else None
    return None


def _header(head: list[list[str | None]]) -> tuple[int, list[Column]] | None:
    best: tuple[int, list[Column]] | None = None
    for index, row in enumerate(head[:HEADER_SEARCH_ROWS]):
        above: list[str | None] = head[index - 1] if index else [None] * len(row)
        columns = _columns(row, above)
        fields = {c.field for c in columns}
        amounts = [c for c in columns if c.field.startswith("stage:") or c.field == "month"]
        if {"name", "unit"} <= fields and amounts and (
                best is None or len(columns) > len(best[1])):
            best = (index, columns)
    return best


def _columns(row: list[str | None], above: list[str | None]) -> list[Column]:
    """Each column's meaning: its own header cell, else (two-level headers) the merged
    cell above it. A month under "Giải ngân" is a month of cumulative disbursement."""
    columns: list[Column] = []
    taken: set[str] = set()
    for position, own in enumerate(row):
        upper = above[position] if position < len(above) else None
        under_disbursement = _field_of(upper) == "stage:disbursed" or (
            bool(upper) and "giai ngan" in accent_free_key(upper))
        month = month_of(own, under_disbursement)
        if month is not None and own != upper:
            columns.append(Column(position, "month", own or "", month[0], month[1]))
            continue
        name = _field_of(own) or (_field_of(upper) if own in (None, upper) else None)
        if name and name not in taken:
            taken.add(name)
            columns.append(Column(position, name, (own or upper or "").strip()))
    return columns


def _is_numbering(row: list[str | None], columns: list[Column]) -> bool:
    """The "(1) (2) (3)" row many forms put under the header."""
    texts = [row[c.position] for c in columns if c.position < len(row) and row[c.position]]
    return len(texts) >= 2 and all(re.fullmatch(r"\(?\s*[\dA-Za-z]{1,3}\s*\)?", t or "")
                                   for t in texts) and any(
        re.fullmatch(r"\(\s*\d+\s*\)|\d+", t or "") for t in texts)


def disbursement_month(label: str) -> int | None:
    """A lone "Giải ngân đến hết tháng 3" or "Giải ngân đến 31/3/2026" column: its month."""
    key = accent_free_key(label)
    date = _DATE.search(key)
    if date:
        return int(date.group(2))
    word = re.search(r"thang\s*0?(\d{1,2})", key)
    return int(word.group(1)) if word and 1 <= int(word.group(1)) <= 12 else None

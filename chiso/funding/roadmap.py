"""The funding roadmap (lộ trình kinh phí) as an XLSX appendix: by source and type, year by
year, then the programmes and projects with theirs — what a plan carries as its "Phụ lục".

Every text cell goes through `chiso.text.spreadsheet_safe` (a project named "=HYPERLINK(…)"
stays text); amounts are numbers in triệu đồng with Vietnamese-looking thousands groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from chiso.funding.report import roadmap_table
from chiso.text import spreadsheet_safe

BASIS_VI = {"estimate": "dự toán giao", "proposed": "đề xuất", "mixed": "dự toán giao và đề xuất",
            "": "chưa có số liệu"}
NUMBER_FORMAT = "#,##0"
THIN = Side(style="thin", color="999999")


def write_roadmap(session: Session, path: Path, *, unit_code: str, year_from: int,
                  year_to: int) -> Path:
    """Write the roadmap of `unit_code` for the years to `path` (XLSX); returns the path."""
    table = roadmap_table(session, unit_code=unit_code, year_from=year_from, year_to=year_to)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Lộ trình kinh phí"
    _by_source(sheet, table)
    _programmes(workbook.create_sheet("Chương trình, dự án"), table)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _title(sheet: Worksheet, table: dict[str, Any], heading: str) -> int:
    years = table["years"]
    width = len(years) + 3
    rows = [f"PHỤ LỤC: {heading}",
            f"{table['unit_name']}, giai đoạn {years[0]}–{years[-1]}",
            "Đơn vị tính: triệu đồng. Mỗi năm: "
            + "; ".join(f"{y}: {BASIS_VI[table['basis'][y]]}" for y in years)]
    if table["illustrative"]:
        rows.append("Số liệu minh họa — không phải số liệu chính thức / illustrative figures")
    for index, text in enumerate(rows, start=1):
        sheet.cell(index, 1, spreadsheet_safe(text)).font = Font(bold=index == 1, size=12
                                                                 if index == 1 else 11)
        sheet.merge_cells(start_row=index, start_column=1, end_row=index, end_column=width)
    return len(rows) + 2


def _header(sheet: Worksheet, row: int, labels: list[str]) -> None:
    for column, label in enumerate(labels, start=1):
        cell = sheet.cell(row, column, spreadsheet_safe(label))
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)


def _amount_cells(sheet: Worksheet, row: int, first_column: int, values: list[float]) -> None:
    for offset, value in enumerate(values):
        cell = sheet.cell(row, first_column + offset, round(value, 3))
        cell.number_format = NUMBER_FORMAT
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)


def _by_source(sheet: Worksheet, table: dict[str, Any]) -> None:
    years = table["years"]
    row = _title(sheet, table, "LỘ TRÌNH KINH PHÍ KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ "
                               "CHUYỂN ĐỔI SỐ THEO NGUỒN VỐN VÀ LOẠI CHI")
    _header(sheet, row, ["STT", "Nguồn vốn, loại chi", *[f"Năm {y}" for y in years],
                         "Tổng cộng"])
    number = 0
    for entry in table["rows"]:
        row += 1
        if entry["level"] == 1:
            number += 1
        label = entry["label_vi"] if entry["level"] != 2 else f"– {entry['label_vi']}"
        sheet.cell(row, 1, number if entry["level"] == 1 else None)
        cell = sheet.cell(row, 2, spreadsheet_safe(label))
        cell.font = Font(bold=entry["level"] != 2)
        _amount_cells(sheet, row, 3, [entry[str(y)] for y in years] + [entry["total"]])
    _widths(sheet, [6, 44, *[14] * (len(years) + 1)])


def _programmes(sheet: Worksheet, table: dict[str, Any]) -> None:
    years = table["years"]
    row = _title(sheet, table, "KINH PHÍ CÁC CHƯƠNG TRÌNH, DỰ ÁN")
    _header(sheet, row, ["STT", "Mã", "Tên chương trình, dự án", "Quyết định",
                         "Chủ đầu tư / đơn vị chủ trì", *[f"Năm {y}" for y in years],
                         "Tổng cộng"])
    for number, entry in enumerate(table["programmes"], start=1):
        row += 1
        sheet.cell(row, 1, number)
        for column, key in enumerate(("code", "name", "decision", "owner"), start=2):
            cell = sheet.cell(row, column, spreadsheet_safe(entry[key]))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        _amount_cells(sheet, row, 6, [entry[str(y)] for y in years] + [entry["total"]])
    _widths(sheet, [6, 22, 60, 18, 30, *[14] * (len(years) + 1)])


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width

"""Phụ lục: every figure of the report in an XLSX workbook, one sheet per part."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from chiso.analytics.status import Status
from chiso.reports.data import ReportData
from chiso.tasks.status import status_label

HEADER_FILL = PatternFill("solid", fgColor="E7ECF2")


def build_annex(data: ReportData) -> bytes:
    wb = Workbook()
    _targets_sheet(wb.active, data)
    _series_sheet(wb.create_sheet("Chuỗi số liệu"), data)
    _tasks_sheet(wb.create_sheet("Nhiệm vụ"), data)
    _units_sheet(wb.create_sheet("Đơn vị theo nhiệm vụ"), data)
    _issues_sheet(wb.create_sheet("Tồn tại"), data)
    _date_formats(wb)
    stamp = dt.datetime.combine(data.issue_date, dt.time(0, 0))
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = wb.properties.lastModifiedBy = "chiso"
    wb.properties.title = f"Phụ lục số liệu — {data.period_title}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _header(ws: Any, title: str, headers: list[str], widths: list[int]) -> None:
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(headers)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    ws.freeze_panes = "A3"


def _targets_sheet(ws: Any, data: ReportData) -> None:
    ws.title = "Chỉ tiêu"
    _header(ws, f"Kết quả thực hiện chỉ tiêu {data.period_title} (đến {data.as_of:%d/%m/%Y})",
            ["Trụ cột", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch", "So sánh",
             "Mục tiêu", "Giá trị gốc", "Thực hiện", "Kỳ vọng theo lộ trình", "Dự báo cuối năm",
             "Tỷ lệ so với lộ trình", "Đánh giá", "Ngày mục tiêu"],
            [18, 24, 48, 10, 14, 8, 10, 10, 10, 12, 12, 12, 18, 12])
    for pillar in data.pillars:
        for s in pillar.statuses:
            ws.append([pillar.name_vi, s.indicator_code, s.indicator_name_vi, s.unit_vi,
                       s.plan_code, str(s.comparator), s.target_value, s.baseline_value,
                       s.actual, s.expected, s.projected, s.progress_ratio,
                       Status(str(s.status)).label("vi"), s.target_date])
    _number_formats(ws, "GHIJKL", "#,##0.0")


def _series_sheet(ws: Any, data: ReportData) -> None:
    _header(ws, "Chuỗi số liệu theo tháng dùng cho biểu đồ",
            ["Mã chỉ tiêu", "Cuối kỳ", "Giá trị"], [28, 12, 12])
    for code in sorted(data.series):
        for day, value in data.series[code]:
            ws.append([code, day, value])
    _number_formats(ws, "C", "#,##0.0")


def _tasks_sheet(ws: Any, data: ReportData) -> None:
    _header(ws, "Nhiệm vụ", ["Mã", "Nhiệm vụ", "Nội dung trọng tâm", "Đơn vị chủ trì",
                             "Đơn vị phối hợp", "Bắt đầu", "Hạn", "Hoàn thành", "Tiến độ (%)",
                             "Trạng thái", "Người phụ trách"],
            [10, 50, 28, 28, 28, 12, 12, 12, 10, 16, 20])
    for row in data.tasks:
        t = row.task
        ws.append([t.code, t.title, row.focus_area_name, row.lead_unit_name,
                   "; ".join(row.partner_names), t.start_date, t.due_date, t.completed_on,
                   t.progress_pct, status_label(row.status),
                   row.owner_name or "(chưa có người phụ trách)"])


def _units_sheet(ws: Any, data: ReportData) -> None:
    _header(ws, "Kết quả thực hiện nhiệm vụ theo đơn vị chủ trì",
            ["Đơn vị", "Tổng", "Đúng hạn", "Muộn", "Quá hạn", "Đang thực hiện",
             "Chưa có người phụ trách"], [36, 8, 10, 8, 10, 14, 14])
    for s in data.scores:
        ws.append([s.unit_name, s.total, s.done_on_time, s.done_late, s.overdue, s.open,
                   s.ownerless])


def _issues_sheet(ws: Any, data: ReportData) -> None:
    _header(ws, "Tồn tại, hạn chế; đơn vị chưa báo cáo; số liệu bất thường",
            ["Loại", "Nội dung"], [22, 120])
    for sentence in data.limitations:
        ws.append(["Tồn tại", sentence])
    for name in data.late_units:
        ws.append(["Chưa báo cáo", name])
    for problem in data.quality_problems:
        ws.append(["Số liệu bất thường", problem])


def _number_formats(ws: Any, columns: str, fmt: str) -> None:
    for column in columns:
        for cell in ws[column][2:]:
            cell.number_format = fmt


def _date_formats(wb: Workbook) -> None:
    """Dates read dd/mm/yyyy in the annex as in the report."""
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=3):
            for cell in row:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"

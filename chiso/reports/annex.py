"""Phụ lục: every figure of the report in an XLSX workbook, one sheet per part.

Numbers stay numbers (a reader can sum them); a ratio is written as a fraction with a
percentage format, so the progress against the path reads 105,7 %, never 1,1. Every text
cell goes through `spreadsheet_safe` (a task title typed as a formula stays text). When a
figure is illustrative (the demo's) every sheet says so under its title.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from chiso.analytics.status import Status
from chiso.reports.data import ReportData, period_label, sources_of
from chiso.reports.sentences import SUB
from chiso.tasks.status import AHEAD_MARGIN_DAYS, origin_label, status_label
from chiso.text import format_date, spreadsheet_safe

HEADER_FILL = PatternFill("solid", fgColor="E7ECF2")
ILLUSTRATIVE_NOTE = ("Số liệu minh họa — không phải số liệu chính thức / illustrative "
                     "figures, not official statistics")
NUMBER = "#,##0.0"
PERCENT = "0.0%"


def build_annex(data: ReportData) -> bytes:
    wb = Workbook()
    fills = [_targets_sheet, _series_sheet, _tasks_sheet, _origin_sheet, _units_sheet,
             _issues_sheet]
    if data.budget:
        fills.append(_budget_sheet)
    if data.roadmap:
        fills.append(_roadmap_sheet)
    for index, fill in enumerate(fills):
        fill(wb.active if index == 0 else wb.create_sheet(), data)
    _date_formats(wb)
    stamp = dt.datetime.combine(data.stamp_date, dt.time(0, 0))
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.creator = wb.properties.lastModifiedBy = "chiso"
    wb.properties.title = f"Phụ lục số liệu — {data.period_title}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


class Sheet:
    """One annex sheet: a title, the illustrative note when needed, a header row."""

    def __init__(self, ws: Any, data: ReportData, name: str, title: str,
                 headers: Sequence[str], widths: Sequence[int]) -> None:
        self.ws = ws
        ws.title = name
        ws.append([spreadsheet_safe(title)])
        ws["A1"].font = Font(bold=True, size=13)
        if data.illustrative:
            ws.append([ILLUSTRATIVE_NOTE])
            ws["A2"].font = Font(bold=True, color="B3261E")
        ws.append(list(headers))
        header_row = ws.max_row
        for cell in ws[header_row]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = f"A{header_row + 1}"
        self.first_row = header_row + 1

    def add(self, values: Sequence[Any]) -> None:
        self.ws.append([spreadsheet_safe(_settled(v)) for v in values])

    def formats(self, columns: str, fmt: str) -> None:
        for column in columns:
            for cell in self.ws[column][self.first_row - 1:]:
                cell.number_format = fmt


def _settled(value: Any) -> Any:
    """A computed figure to 10 decimals: sums whose order the engine may change from one run
    to the next differ in the 15th digit (69.74442083405502 against …506 for the same
    projection), and the annex of a past quarter must be the same file whenever it is
    regenerated. Ten decimals is far beyond any figure's precision."""
    if isinstance(value, float):
        return round(value, 10) + 0.0  # + 0.0: no "-0.0"
    return value


def _targets_sheet(ws: Any, data: ReportData) -> None:
    sheet = Sheet(ws, data, "Chỉ tiêu",
                  f"Kết quả thực hiện chỉ tiêu {data.period_title} "
                  f"({data.cutoff.phrase_vi()})",
                  ["Trụ cột", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch", "So sánh",
                   "Mục tiêu", "Giá trị xuất phát", "Thực hiện", "Kỳ vọng theo lộ trình",
                   "Dự báo cuối năm", "Tỷ lệ so với lộ trình", "Đánh giá", "Ngày đích",
                   "Nguồn số liệu", "Ghi chú"],
                  [18, 24, 48, 10, 14, 8, 10, 10, 10, 12, 12, 12, 18, 12, 40, 24])
    revised = {r.target_id: r for r in data.revisions}
    for pillar in data.pillars:
        for s in pillar.statuses:
            sheet.add([pillar.name_vi, s.indicator_code, s.indicator_name_vi, s.unit_vi,
                       s.plan_code, str(s.comparator), s.target_value, s.baseline_value,
                       s.actual, s.expected, s.projected, s.progress_ratio,
                       Status(s.status).label("vi"), s.target_date,
                       sources_of(data, s.indicator_id) or "–", _note(data, s, revised)])
    sheet.formats("GHIJK", NUMBER)
    sheet.formats("L", PERCENT)


def _note(data: ReportData, s: Any, revised: dict[int, Any]) -> str:
    """'ước' for an estimate; 'điều chỉnh từ 15/06/2025' for a revised target."""
    notes = ["ước"] if s.actual is not None and s.estimate else []
    if s.target_id in revised:
        notes.append(f"mục tiêu điều chỉnh từ {format_date(revised[s.target_id].effective_from)}")
    return "; ".join(notes)


def _series_sheet(ws: Any, data: ReportData) -> None:
    sheet = Sheet(ws, data, "Chuỗi số liệu", "Chuỗi số liệu theo tháng dùng cho biểu đồ",
                  ["Mã chỉ tiêu", "Chỉ tiêu", "Tháng", "Cuối kỳ", "Giá trị"],
                  [28, 48, 14, 12, 12])
    names = {s.indicator_code: s.indicator_name_vi for s in data.statuses}
    for code in sorted(data.series):
        for day, value in data.series[code]:
            sheet.add([code, names.get(code, ""), period_label(f"{day:%Y%m}"), day, value])
    sheet.formats("E", NUMBER)


def _tasks_sheet(ws: Any, data: ReportData) -> None:
    sheet = Sheet(ws, data, "Nhiệm vụ",
                  f"Nhiệm vụ đến ngày {data.as_of:%d/%m/%Y}",
                  ["Mã", "Nhiệm vụ", "Nội dung trọng tâm", "Đơn vị chủ trì", "Đơn vị phối hợp",
                   "Bắt đầu", "Hạn", "Hoàn thành", "Tiến độ (%)", "Trạng thái",
                   "Số ngày quá hạn", "Người phụ trách", "Cấp giao", "Văn bản giao",
                   "Sản phẩm dự kiến"],
                  [10, 50, 28, 28, 28, 12, 12, 12, 10, 16, 10, 20, 16, 24, 36])
    for row in data.tasks:
        t = row.task
        overdue = data.overdue_days(row) if row.status == "overdue" else None
        status = status_label(row.status) + (" (trước hạn)" if row.ahead else "")
        document = " ngày ".join(part for part in (
            t.assigned_doc_number, format_date(t.assigned_doc_date)
            if t.assigned_doc_date else "") if part)
        sheet.add([t.code, t.title, row.focus_area_name, row.lead_unit_name,
                   "; ".join(row.partner_names), t.start_date, t.due_date, t.completed_on,
                   t.progress_pct, status, overdue,
                   row.owner_name or "(chưa có người phụ trách)", origin_label(t.origin),
                   document, t.expected_product])


def _origin_sheet(ws: Any, data: ReportData) -> None:
    sheet = Sheet(ws, data, "Theo cấp giao",
                  f"Nhiệm vụ theo cấp giao từ đầu năm {data.period_end.year} đến ngày "
                  f"{data.as_of:%d/%m/%Y} (trước hạn: hoàn thành sớm ít nhất "
                  f"{AHEAD_MARGIN_DAYS} ngày)",
                  ["Cấp giao", "Tổng số", "Đã hoàn thành", "Trước hạn", "Đúng hạn", "Quá hạn",
                   "Đang thực hiện trong hạn", "Quá hạn chưa hoàn thành"],
                  [20, 10, 14, 12, 12, 10, 16, 16])
    for c in data.origin_counts:
        sheet.add([c.label(), c.total, c.done, c.done_ahead, c.done_on_time, c.done_late,
                   c.running, c.overdue])
    for m in data.month_reports:
        sheet.add([f"Báo cáo {period_label(m.period)}", m.expected, m.reported, None, None,
                   None, None, None])


def _budget_sheet(ws: Any, data: ReportData) -> None:
    budget = data.budget or {}
    columns = budget["columns"]
    sheet = Sheet(ws, data, "Kinh phí", budget["paragraph_vi"],
                  [c["label_vi"] for c in columns], [40, 18, 18, 20, 14])
    for row in budget["rows"]:
        label = f"- {row['label_vi']}" if row["level"] == 2 else row["label_vi"]
        rate = row.get("rate")
        sheet.add([label, row["estimate"], row["allocated"], row["disbursed"],
                   None if rate is None else rate / 100])
    sheet.formats("BCD", "#,##0")
    sheet.formats("E", PERCENT)


def _roadmap_sheet(ws: Any, data: ReportData) -> None:
    roadmap = data.roadmap or {}
    years = roadmap["years"]
    sheet = Sheet(ws, data, "Lộ trình kinh phí",
                  f"Lộ trình kinh phí giai đoạn {years[0]}–{years[-1]} (triệu đồng)",
                  ["Nguồn vốn, loại chi", *(f"Năm {y}" for y in years), "Tổng"],
                  [40, *([16] * (len(years) + 1))])
    for row in roadmap["rows"]:
        label = f"- {row['label_vi']}" if row["level"] == 2 else row["label_vi"]
        sheet.add([label, *(row.get(str(y)) for y in years), row.get("total")])
    for p in roadmap["programmes"]:
        sheet.add([f"{p['name']} ({p['decision']})" if p.get("decision") else p["name"],
                   *(p.get(str(y)) for y in years), p.get("total")])
    sheet.formats("BCDEFG"[:len(years) + 1], "#,##0")


def _units_sheet(ws: Any, data: ReportData) -> None:
    sheet = Sheet(ws, data, "Đơn vị theo nhiệm vụ",
                  "Kết quả thực hiện nhiệm vụ theo đơn vị chủ trì",
                  ["Đơn vị", "Tổng", "Đúng hạn", "Muộn", "Quá hạn", "Đang thực hiện",
                   "Chưa có người phụ trách"], [36, 8, 10, 8, 10, 14, 14])
    for s in data.scores:
        sheet.add([s.unit_name, s.total, s.done_on_time, s.done_late, s.overdue, s.open,
                   s.ownerless])


def _issues_sheet(ws: Any, data: ReportData) -> None:
    sheet = Sheet(ws, data, "Tồn tại và trọng tâm",
                  "Tồn tại, hạn chế; đơn vị chưa báo cáo; số liệu bất thường; nhiệm vụ trọng "
                  "tâm thời gian tới", ["Loại", "Nội dung"], [24, 120])
    for line in data.limitations:
        sheet.add(["Tồn tại", line.removeprefix(SUB)])
    for gap in data.reporting:
        for unit, missing in gap.missing.items():
            sheet.add(["Chưa gửi báo cáo", f"{gap.data_set}: {unit} ({missing}/"
                                           f"{len(gap.periods)} kỳ)"])
        for unit, period, days in gap.late:
            sheet.add(["Gửi muộn", f"{gap.data_set}: {unit}, {period_label(period)}, muộn "
                                   f"{days} ngày"])
    for name in data.silent_units:
        sheet.add(["Chưa có số liệu", name])
    for problem in data.anomalies:
        sheet.add(["Số liệu bất thường", problem])
    for item in data.focus:
        sheet.add(["Nhiệm vụ trọng tâm", item])


def _date_formats(wb: Workbook) -> None:
    """Dates read dd/mm/yyyy in the annex as in the report."""
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, dt.date):
                    cell.number_format = "DD/MM/YYYY"

"""Plan files: YAML and XLSX read into one raw shape (values plus where each came from),
and a plan written back to XLSX in the same layout it is read in (docs/plan-format.md).

Nothing here validates meaning; `chiso.plans.rows` does, naming file, sheet, row, column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from chiso.indicators.problems import InputRejected, Problem
from chiso.indicators.service import read_yaml_mapping
from chiso.text import (
    accent_free_key,
    format_date,
    nfc,
    spreadsheet_safe,
    unguard_cell,
)
from chiso.text.columns import cell_text
from chiso.text.numbers import ParsedNumber

PLAN_SHEET = "Kế hoạch"
TARGET_SHEET = "Chỉ tiêu"
PLAN_SHEET_NAMES = ("ke hoach", "plan")
TARGET_SHEET_NAMES = ("chi tieu", "targets", "target")

# field → (Vietnamese label, English label); the XLSX headers are "Vietnamese / English".
PLAN_FIELDS: dict[str, tuple[str, str]] = {
    "code": ("Số hiệu", "Code"),
    "title": ("Trích yếu", "Title"),
    "document_kind": ("Loại văn bản", "Document kind"),
    "issuer": ("Cơ quan ban hành", "Issuer"),
    "issued_on": ("Ngày ban hành", "Issued on"),
    "year_from": ("Từ năm", "Year from"),
    "year_to": ("Đến năm", "Year to"),
    "scope_unit": ("Đơn vị phạm vi", "Scope unit"),
    "parent": ("Văn bản căn cứ", "Parent document"),
    "default_target_date": ("Ngày đích mặc định", "Default target date"),
    "note": ("Ghi chú", "Note"),
}
TARGET_FIELDS: dict[str, tuple[str, str]] = {
    "pillar": ("Trụ cột", "Pillar"),
    "indicator": ("Mã chỉ số", "Indicator"),
    "indicator_name": ("Tên chỉ số", "Indicator name"),
    "unit": ("Mã đơn vị", "Unit"),
    "year": ("Năm", "Year"),
    "target_date": ("Ngày đích", "Target date"),
    "comparator": ("So sánh", "Comparator"),
    "value": ("Chỉ tiêu", "Value"),
    "value_high": ("Cận trên", "Value high"),
    "measure": ("Đơn vị tính", "Measure"),
    "baseline_value": ("Giá trị xuất phát", "Baseline value"),
    "baseline_date": ("Ngày xuất phát", "Baseline date"),
    "trajectory": ("Lộ trình", "Trajectory"),
    "milestones": ("Các mốc", "Milestones"),
    "note": ("Ghi chú", "Note"),
}
INFORMATIVE_FIELDS = frozenset({"pillar", "indicator_name", "measure"})  # ignored on load


@dataclass
class RawRow:
    """One target as read: field → value, and field → how to name its column in messages."""

    values: dict[str, Any]
    row: int | None
    columns: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


@dataclass
class RawPlan:
    file: str
    spreadsheet: bool
    plan: dict[str, Any]
    plan_sheet: str
    plan_columns: dict[str, str]
    plan_rows: dict[str, int | None]
    target_sheet: str
    targets: list[RawRow]
    revisions: list[RawRow] = field(default_factory=list)  # YAML `revisions:` (chain.py)


def read_plan_file(path: str | Path) -> RawPlan:
    """YAML (.yaml/.yml) or XLSX (.xlsx/.xlsm), chosen by the file's extension."""
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_plan_yaml(source)
    if suffix in (".xlsx", ".xlsm"):
        return read_plan_xlsx(source)
    raise InputRejected([Problem(source.name, f"định dạng '{suffix}' không được hỗ trợ "
                                 "(dùng .yaml hoặc .xlsx)",
                                 f"unsupported format '{suffix}' (use .yaml or .xlsx)")])


# ------------------------------------------------------------------------------ YAML


def read_plan_yaml(source: Path) -> RawPlan:
    document = read_yaml_mapping(source)
    plan = document.get("plan")
    targets = document.get("targets")
    problems = []
    if not isinstance(plan, dict):
        problems.append(Problem(source.name, "thiếu mục 'plan' (thông tin văn bản)",
                                "missing the 'plan' mapping (document details)"))
    if not isinstance(targets, list):
        problems.append(Problem(source.name, "thiếu danh sách 'targets'",
                                "missing the 'targets' list"))
    if problems:
        raise InputRejected(problems)
    assert isinstance(plan, dict) and isinstance(targets, list)
    rows = [RawRow(values=_flatten_yaml_target(entry), row=index)
            for index, entry in enumerate(targets, start=1)]
    revisions = document.get("revisions") or []
    if not isinstance(revisions, list):
        raise InputRejected([Problem(source.name, "'revisions' phải là một danh sách",
                                     "'revisions' must be a list")])
    return RawPlan(file=source.name, spreadsheet=False, plan=dict(plan), plan_sheet="",
                   plan_columns={name: f"plan.{name}" for name in (*PLAN_FIELDS, "parents")},
                   plan_rows={}, target_sheet="targets", targets=rows,
                   revisions=[RawRow(values=entry if isinstance(entry, dict) else
                                     {"__not_a_mapping__": entry}, row=index)
                              for index, entry in enumerate(revisions, start=1)])


def _flatten_yaml_target(entry: Any) -> dict[str, Any]:
    """`baseline: {value, date}` is written nested in YAML; rows are flat."""
    if not isinstance(entry, dict):
        return {"__not_a_mapping__": entry}
    values = dict(entry)
    baseline = values.pop("baseline", None)
    if isinstance(baseline, dict):
        values.setdefault("baseline_value", baseline.get("value"))
        values.setdefault("baseline_date", baseline.get("date"))
        # `{value: 87,5}` silently becomes value 87 and a key '5': report such keys.
        for key in set(baseline) - {"value", "date"}:
            values[f"baseline.{key}"] = baseline[key]
    elif baseline is not None:
        values.setdefault("baseline_value", baseline)
    return values


# ------------------------------------------------------------------------------ XLSX


def read_plan_xlsx(source: Path) -> RawPlan:
    try:
        workbook = load_workbook(source, data_only=True)
    except FileNotFoundError as exc:
        raise InputRejected([Problem(source.name, "không tìm thấy tệp", "file not found")]
                            ) from exc
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise InputRejected([Problem(source.name, f"không đọc được tệp Excel: {exc}",
                                     f"cannot read the Excel file: {exc}")]) from exc
    plan_sheet = _find_sheet(workbook.worksheets, PLAN_SHEET_NAMES)
    target_sheet = _find_sheet(workbook.worksheets, TARGET_SHEET_NAMES)
    missing = [name for name, sheet in ((PLAN_SHEET, plan_sheet), (TARGET_SHEET, target_sheet))
               if sheet is None]
    if missing:
        raise InputRejected([Problem(source.name, f"thiếu trang '{name}'",
                                     f"missing sheet '{name}'") for name in missing])
    assert plan_sheet is not None and target_sheet is not None
    plan, plan_rows = _read_plan_sheet(plan_sheet)
    targets = _read_target_sheet(source.name, target_sheet)
    return RawPlan(file=source.name, spreadsheet=True, plan=plan, plan_sheet=plan_sheet.title,
                   plan_columns={name: 'B "Giá trị / Value"' for name in PLAN_FIELDS},
                   plan_rows=plan_rows, target_sheet=target_sheet.title, targets=targets)


def _find_sheet(sheets: list[Worksheet], names: tuple[str, ...]) -> Worksheet | None:
    for sheet in sheets:
        if accent_free_key(sheet.title).lower().strip() in names:
            return sheet
    return None


def _header_field(text: object, fields: dict[str, tuple[str, str]]) -> str | None:
    """Match 'Mã chỉ số / Indicator', 'mã chỉ số', 'indicator' or 'INDICATOR' to a field."""
    parts = [accent_free_key(p).lower().strip() for p in nfc(text).split("/")]
    for name, (vi, en) in fields.items():
        keys = {accent_free_key(vi).lower(), en.lower(), name}
        if any(part in keys for part in parts if part):
            return name
    return None


def _read_plan_sheet(sheet: Worksheet) -> tuple[dict[str, Any], dict[str, int | None]]:
    """Two columns: the field's label, then its value."""
    plan: dict[str, Any] = {}
    rows: dict[str, int | None] = {}
    for cells in sheet.iter_rows(min_row=1):
        if len(cells) < 2:
            continue
        name = _header_field(cells[0].value, PLAN_FIELDS)
        if name is not None:
            plan[name] = cell_value(cells[1])
            rows[name] = cells[1].row
    return plan, rows


def _read_target_sheet(file: str, sheet: Worksheet) -> list[RawRow]:
    header_row, columns = _find_header(sheet)
    if header_row is None or "indicator" not in columns:
        raise InputRejected([Problem(file, "không tìm thấy dòng tiêu đề có cột 'Mã chỉ số / "
                                     "Indicator' trong 10 dòng đầu",
                                     "no header row with an 'Indicator' column in the first 10 "
                                     "rows", sheet=sheet.title, spreadsheet=True)])
    labels = {name: f'{get_column_letter(index)} "{nfc(sheet.cell(header_row, index).value)}"'
              for name, index in columns.items()}
    rows = []
    for cells in sheet.iter_rows(min_row=header_row + 1):
        values = {name: cell_value(cells[index - 1]) for name, index in columns.items()
                  if name not in INFORMATIVE_FIELDS and index <= len(cells)}
        if all(v in (None, "") for v in values.values()):
            continue  # blank rows between groups are common in hand-made sheets
        rows.append(RawRow(values=values, row=cells[0].row, columns=labels))
    return rows


def _find_header(sheet: Worksheet) -> tuple[int | None, dict[str, int]]:
    for cells in sheet.iter_rows(min_row=1, max_row=10):
        columns = {}
        for cell in cells:
            name = _header_field(cell.value, TARGET_FIELDS) if cell.value is not None else None
            if name is not None and name not in columns:
                columns[name] = cell.column
        if "indicator" in columns:
            return cells[0].row, columns
    return None, {}


def cell_value(cell: Cell) -> Any:
    """A cell's value; a number shown as a percentage (0,85 as 85%) comes back as 85%."""
    value = cell.value
    if isinstance(value, str):
        value = nfc(unguard_cell(value))
        return value or None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and "%" in (cell.number_format or ""):
        return ParsedNumber(Decimal(str(value)) * 100, percent=True)
    return value


# ------------------------------------------------------------------------------ writing


HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def write_plan_xlsx(path: str | Path, plan: dict[str, Any], targets: list[dict[str, Any]]
                    ) -> Path:
    """Write a plan and its targets in the layout read_plan_xlsx reads."""
    workbook = Workbook()
    plan_sheet = workbook.active
    assert plan_sheet is not None
    plan_sheet.title = PLAN_SHEET
    _write_plan_sheet(plan_sheet, plan)
    _write_target_sheet(workbook.create_sheet(TARGET_SHEET), targets)
    destination = Path(path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(destination)
    return destination


def _write_plan_sheet(sheet: Worksheet, plan: dict[str, Any]) -> None:
    sheet.append(["Trường / Field", "Giá trị / Value"])
    for name, (vi, en) in PLAN_FIELDS.items():
        sheet.append([f"{vi} / {en}", spreadsheet_safe(plan.get(name))])
        _format_date_cell(sheet.cell(sheet.max_row, 2))
    _style_header(sheet, 1)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 90
    for row in sheet.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")


def _write_target_sheet(sheet: Worksheet, targets: list[dict[str, Any]]) -> None:
    names = list(TARGET_FIELDS)
    sheet.append([f"{vi} / {en}" for vi, en in TARGET_FIELDS.values()])
    for target in targets:
        sheet.append([_xlsx_value(name, target.get(name)) for name in names])
        for cell in sheet[sheet.max_row]:
            _format_date_cell(cell)
    _style_header(sheet, 1)
    widths = {"pillar": 8, "indicator": 30, "indicator_name": 60, "unit": 10, "year": 7,
              "target_date": 12, "comparator": 10, "value": 10, "value_high": 10, "measure": 12,
              "baseline_value": 12, "baseline_date": 12, "trajectory": 12, "milestones": 36,
              "note": 40}
    for index, name in enumerate(names, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = widths[name]
    sheet.freeze_panes = "C2"
    _add_choices(sheet, names.index("comparator") + 1, '">=,<=,=,between"', len(targets))
    _add_choices(sheet, names.index("trajectory") + 1, '"linear,s_curve,milestones"',
                 len(targets))


def _xlsx_value(name: str, value: Any) -> Any:
    """A target field as written: milestones in words, and text a spreadsheet would run as
    a formula (the comparator '=', a note '=…') guarded as text."""
    if name == "milestones":
        return format_milestones(value)
    return spreadsheet_safe(value)


def format_milestones(milestones: list[dict[str, Any]] | None) -> str | None:
    """[{date, value}] → '30/06/2023: 60; 31/12/2023: 85' (Vietnamese dates and numbers)."""
    if not milestones:
        return None
    return "; ".join(f"{format_date(dt.date.fromisoformat(m['date']))}: "
                     f"{cell_text(float(m['value']))}" for m in milestones)


def _format_date_cell(cell: Cell) -> None:
    if isinstance(cell.value, dt.date):
        cell.number_format = "DD/MM/YYYY"


def _style_header(sheet: Worksheet, row: int) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")


def _add_choices(sheet: Worksheet, column: int, formula: str, count: int) -> None:
    letter = get_column_letter(column)
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.add(f"{letter}2:{letter}{max(count + 200, 2)}")
    sheet.add_data_validation(validation)

"""The Excel template of a data set for one unit and period, and reading it back.

The template has the unit's and indicators' codes and names filled in, a locked structure
(protected sheets; only the number and comment cells are open), data validation in the
cells, and an instructions sheet in Vietnamese. An upload — this template, or an old file
laid out like it: .xls, merged two-level headers, comma decimals, TCVN3/VNI text — is read
into the values pipeline's `SheetTable`, checked cell by cell by the same rules as every
other way in, plus this form's own checks (right unit, period and indicators, the lock on
approved figures, the data set's validation rules), and shown as a dry-run diff first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.collection import legacy, service
from chiso.collection.models import DataSet
from chiso.collection.rules import active_rules, evaluate
from chiso.db.base import utcnow
from chiso.errors import UserError
from chiso.indicators.models import Indicator
from chiso.periods import parse_period
from chiso.text import format_date, name_key, spreadsheet_safe, unguard_cell
from chiso.units.models import OrgUnit
from chiso.values.importer import ImportIssue, ImportResult, diff_frames, validate_tables
from chiso.values.models import DataValue, ImportBatch
from chiso.values.parsing import cell_text
from chiso.values.reader import FileUnreadable, SheetTable, header_key
from chiso.values.service import BatchEvent, apply_changes, plan_changes

UPLOAD_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")
DATA_SHEET = "Số liệu"
HELP_SHEET = "Hướng dẫn"
META_SHEET = "_chiso"
HEADER_ROW, SUBHEADER_ROW, FIRST_DATA_ROW = 4, 5, 6
# (canonical column, header text, width); "Số liệu" spans numerator/denominator/value.
LAYOUT = [
    ("no", "STT", 5), ("unit_code", "Mã đơn vị", 11), ("unit_name", "Tên đơn vị", 24),
    ("indicator_code", "Mã chỉ tiêu", 22), ("indicator_name", "Tên chỉ tiêu", 44),
    ("measure", "Đơn vị tính", 10), ("period", "Kỳ báo cáo", 11),
    ("numerator", "Tử số", 12), ("denominator", "Mẫu số", 12), ("value", "Giá trị", 12),
    ("comment", "Ghi chú", 30),
]
HEADER_ALIASES = {
    "unit_code": ("mã đơn vị", "mã đv", "unit_code", "orgunit"),
    "unit_name": ("tên đơn vị", "đơn vị", "unit_name"),
    "indicator_code": ("mã chỉ tiêu", "mã chỉ số", "mã ct", "indicator_code"),
    "indicator_name": ("tên chỉ tiêu", "chỉ tiêu", "indicator_name"),
    "measure": ("đơn vị tính", "đvt"),
    "period": ("kỳ báo cáo", "kỳ", "period"),
    "numerator": ("tử số", "numerator"), "denominator": ("mẫu số", "denominator"),
    "value": ("giá trị", "số liệu", "kết quả", "value"),
    "comment": ("ghi chú", "thuyết minh", "comment"),
}
ALIAS = {header_key(a): column for column, aliases in HEADER_ALIASES.items() for a in aliases}
TEXT_COLUMNS = ("unit_code", "indicator_code", "period", "numerator", "denominator", "value",
                "source", "comment")
LEGACY_COLUMNS = ("unit_name", "indicator_name", "comment")
THIN = Side(style="thin", color="9AA5B1")


# ------------------------------------------------------------------ writing


def build_template(session: Session, data_set: DataSet, unit: OrgUnit, period: str,
                   path: Path) -> Path:
    """Write the template for `unit` and `period` to `path` (.xlsx)."""
    parsed = service.check_period(data_set, period)
    indicators = service.indicators_of(session, data_set)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET
    _write_title(sheet, data_set, unit, parsed)
    _write_header(sheet)
    _write_rows(sheet, indicators, unit, parsed.id, _stored(session, unit, parsed.id))
    _add_validation(sheet, indicators)
    _protect(sheet)
    _write_help(workbook.create_sheet(HELP_SHEET), data_set, parsed)
    meta = workbook.create_sheet(META_SHEET)
    for row in (("data_set", data_set.code), ("unit", unit.code), ("period", parsed.id),
                ("generated", utcnow().isoformat(timespec="seconds"))):
        meta.append(row)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    workbook.properties.title = f"{data_set.code} {unit.code} {parsed.id}"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _write_title(sheet: Any, data_set: DataSet, unit: OrgUnit, period: Any) -> None:
    last = get_column_letter(len(LAYOUT))
    sheet.merge_cells(f"A1:{last}1")
    sheet["A1"] = f"{data_set.name_vi.upper()} — {period.label_vi().upper()}"
    sheet["A1"].font = Font(bold=True, size=14, color="0B3D6E")
    sheet.merge_cells(f"A2:{last}2")
    sheet["A2"] = (f"Đơn vị báo cáo: {unit.name} (mã {unit.code}) · Hạn nộp: "
                   f"{format_date(service.due_date(data_set, period))} · Biểu mẫu: "
                   f"{data_set.code}")
    sheet["A2"].font = Font(italic=True, color="444444")
    sheet.row_dimensions[1].height = 24


def _write_header(sheet: Any) -> None:
    fill = PatternFill("solid", fgColor="DCE6F0")
    for index, (column, label, width) in enumerate(LAYOUT, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        if column in ("numerator", "denominator", "value"):
            sheet.cell(SUBHEADER_ROW, index, label)
        else:
            sheet.cell(HEADER_ROW, index, label)
            sheet.merge_cells(f"{letter}{HEADER_ROW}:{letter}{SUBHEADER_ROW}")
    first = 1 + [c for c, _, _ in LAYOUT].index("numerator")
    sheet.cell(HEADER_ROW, first, "Số liệu")
    sheet.merge_cells(start_row=HEADER_ROW, start_column=first, end_row=HEADER_ROW,
                      end_column=first + 2)
    for row in (HEADER_ROW, SUBHEADER_ROW):
        for index in range(1, len(LAYOUT) + 1):
            cell = sheet.cell(row, index)
            cell.font, cell.fill = Font(bold=True), fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"


def _stored(session: Session, unit: OrgUnit, period: str) -> dict[int, DataValue]:
    """The figures already stored, so the template starts from them (a re-upload of an
    untouched template changes nothing)."""
    return {v.indicator_id: v for v in session.scalars(select(DataValue).where(
        DataValue.unit_id == unit.id, DataValue.period == period,
        DataValue.deleted.is_(False)))}


def _write_rows(sheet: Any, indicators: list[Indicator], unit: OrgUnit, period: str,
                stored: dict[int, DataValue]) -> None:
    open_columns = {"numerator", "denominator", "value", "comment"}
    for offset, indicator in enumerate(indicators):
        row = FIRST_DATA_ROW + offset
        ratio = indicator.kind == "ratio"
        values = {"no": offset + 1, "unit_code": unit.code, "unit_name": unit.name,
                  "indicator_code": indicator.code, "indicator_name": indicator.name_vi,
                  "measure": indicator.unit_vi, "period": period}
        current = stored.get(indicator.id)
        if current is not None:
            with_parts = ratio and current.numerator is not None
            values.update(numerator=current.numerator if with_parts else None,
                          denominator=current.denominator if with_parts else None,
                          value=None if with_parts else current.value,
                          comment=current.comment or None)
        for index, (column, _label, _width) in enumerate(LAYOUT, start=1):
            # A comment or name that starts like a formula ("=…") is written as text.
            cell = sheet.cell(row, index, spreadsheet_safe(values.get(column)))
            cell.number_format = "@" if column in ("unit_code", "period") else "General"
            cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
            editable = column in open_columns and (ratio or column not in
                                                   ("numerator", "denominator"))
            cell.protection = Protection(locked=not editable)
            if column in open_columns and not editable:
                cell.fill = PatternFill("solid", fgColor="EEEEEE")
            elif editable:
                cell.fill = PatternFill("solid", fgColor="FFFBE6")
        sheet.cell(row, 5).alignment = Alignment(wrap_text=True, vertical="top")


def _add_validation(sheet: Any, indicators: list[Indicator]) -> None:
    letters = {c: get_column_letter(i) for i, (c, _, _) in enumerate(LAYOUT, start=1)}
    parts = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                           allow_blank=True, showErrorMessage=True,
                           errorTitle="Số không hợp lệ",
                           error="Tử số và mẫu số là số không âm.")
    percent = DataValidation(type="decimal", operator="between", formula1="0",
                             formula2="100", allow_blank=True, showErrorMessage=True,
                             errorTitle="Tỷ lệ không hợp lệ", error="Tỷ lệ nằm trong 0–100.")
    yes_no = DataValidation(type="list", formula1='"0,1"', allow_blank=True,
                            showErrorMessage=True, error="Ghi 1 (có) hoặc 0 (không).")
    count = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                           allow_blank=True, showErrorMessage=True, error="Số không âm.")
    for validation in (parts, percent, yes_no, count):
        sheet.add_data_validation(validation)
    for offset, indicator in enumerate(indicators):
        row = FIRST_DATA_ROW + offset
        value_cell = f"{letters['value']}{row}"
        if indicator.kind == "ratio":
            parts.add(f"{letters['numerator']}{row}:{letters['denominator']}{row}")
            if float(indicator.scale) == 100:
                percent.add(value_cell)
        elif indicator.kind == "boolean":
            yes_no.add(value_cell)
        else:
            count.add(value_cell)


def _protect(sheet: Any) -> None:
    # No password: protection keeps the structure intact, it is not a secret.
    sheet.protection.sheet = True
    sheet.protection.formatCells = False
    sheet.protection.formatColumns = False


def _write_help(sheet: Any, data_set: DataSet, period: Any) -> None:
    lines = [
        f"HƯỚNG DẪN NHẬP BIỂU MẪU {data_set.code}",
        "",
        f"1. Kỳ báo cáo: {period.label_vi()}; hạn nộp "
        f"{format_date(service.due_date(data_set, period))}.",
        "2. Chỉ nhập vào các ô màu vàng: Tử số, Mẫu số (với chỉ tiêu tỷ lệ), Giá trị, Ghi chú.",
        "3. Với chỉ tiêu tỷ lệ, nhập Tử số và Mẫu số; chiso tự tính "
        "Giá trị = Tử số / Mẫu số × 100.",
        "   Nếu chỉ có tỷ lệ, nhập vào cột Giá trị (ví dụ 76,6 hoặc 76,6%).",
        "4. Số thập phân dùng dấu phẩy (76,6); có thể dùng dấu chấm phân cách hàng nghìn (1.234).",
        "5. Chỉ tiêu có/không: ghi 1 (có) hoặc 0 (không).",
        "6. Không sửa mã đơn vị, mã chỉ tiêu, kỳ báo cáo; không thêm hoặc xóa dòng, cột.",
        "7. Tải tệp lên trang Báo cáo của chiso: hệ thống kiểm tra từng ô, cho xem trước",
        "   những gì sẽ thay đổi, và chỉ lưu khi tệp không còn lỗi.",
        "8. Sau khi lưu, bấm 'Gửi báo cáo' để chuyển cơ quan thường trực duyệt.",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.column_dimensions["A"].width = 100
    sheet.protection.sheet = True


# ------------------------------------------------------------------ reading


@dataclass
class TemplateUpload:
    """A checked upload: the values pipeline's result plus this form's findings."""

    result: ImportResult
    warnings: list[ImportIssue] = field(default_factory=list)
    converted: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    def as_dict(self, limit: int = 500) -> dict[str, Any]:
        data = self.result.as_dict(limit)
        data["warnings"] = [w.as_dict() for w in self.warnings]
        data["converted"] = self.converted[:limit]
        return data


@dataclass
class _Sheet:
    table: SheetTable
    letters: dict[str, str]
    names: pl.DataFrame  # _line, unit_name (converted)


def read_template(path: Path, name: str, encoding: str = "auto"
                  ) -> tuple[list[_Sheet], list[dict[str, Any]]]:
    """Sheets laid out like the template (any of .xlsx/.xls/.ods); legacy text converted.
    Returns the sheets and the list of converted cells."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for damaged files
        raise FileUnreadable(f"Tệp '{name}' không đọc được ({exc})",
                             f"file '{name}' cannot be read ({exc})") from exc
    sheets: list[_Sheet] = []
    converted: list[dict[str, Any]] = []
    for sheet_name in workbook.sheet_names:
        if sheet_name in (HELP_SHEET, META_SHEET):
            continue
        sheet = workbook.get_sheet_by_name(sheet_name)
        found = _read_sheet(sheet, encoding, converted)
        if found is not None:
            sheets.append(found)
    if not sheets:
        raise FileUnreadable(
            f"Tệp '{name}': không thấy dòng tiêu đề có 'Mã đơn vị' và 'Mã chỉ tiêu'",
            f"file '{name}': no header row with 'Mã đơn vị' and 'Mã chỉ tiêu'")
    return sheets, converted


def _read_sheet(sheet: Any, encoding: str, converted: list[dict[str, Any]]) -> _Sheet | None:
    rows: list[list[object]] = sheet.to_python(skip_empty_area=False)
    first_row, first_col = sheet.start if rows else (0, 0)
    found = _header(rows[:30])
    if found is None:
        return None
    last_header, mapping = found
    data = rows[last_header + 1:]
    columns: dict[str, list[str | None]] = {}
    for position, column in mapping.items():
        columns[column] = [unguard_cell(cell_text(r[position])) if position < len(r) else None
                           for r in data]
    lines = [first_row + last_header + 2 + i for i in range(len(data))]
    letters = {column: get_column_letter(first_col + p + 1) for p, column in mapping.items()}
    for column in LEGACY_COLUMNS:
        if column in columns:
            columns[column] = _converted(columns[column], encoding, sheet.name, lines,
                                         letters[column], column, converted)
    frame = pl.DataFrame({"_line": lines, **{c: columns.get(c, [None] * len(data))
                                             for c in (*TEXT_COLUMNS, "unit_name")}},
                         schema={"_line": pl.Int64, **dict.fromkeys(
                             (*TEXT_COLUMNS, "unit_name"), pl.String)})
    filled = pl.any_horizontal(pl.col(c).is_not_null() for c in
                               ("numerator", "denominator", "value", "comment"))
    coded = pl.col("unit_code").is_not_null() | pl.col("indicator_code").is_not_null()
    frame = frame.filter(filled | (coded & pl.col("unit_code").str.len_chars().gt(0)
                                   & filled))
    table = SheetTable(sheet.name, first_row + last_header + 1,
                       {c: c for c in TEXT_COLUMNS}, frame.drop("unit_name"))
    return _Sheet(table, letters, frame.select("_line", "unit_name", "unit_code"))


def _header(rows: list[list[object]]) -> tuple[int, dict[int, str]] | None:
    """(index of the last header row, {position: column}); a two-level header (merged
    cells above sub-headers) is read from two rows."""
    for index, row in enumerate(rows):
        mapping = _labels(row)
        if not mapping:
            continue
        below = _labels(rows[index + 1]) if index + 1 < len(rows) else {}
        merged = {**mapping, **{p: c for p, c in below.items() if p not in mapping
                                or mapping[p] == "value"}}
        if {"unit_code", "indicator_code"} <= set(merged.values()):
            last = index + 1 if below and set(below.values()) - set(mapping.values()) else index
            return last, merged
    return None


def _labels(row: list[object]) -> dict[int, str]:
    found: dict[int, str] = {}
    for position, cell in enumerate(row):
        text = cell_text(cell)
        column = ALIAS.get(header_key(text)) if text else None
        if column and column not in found.values():
            found[position] = column
    return found


def _converted(texts: list[str | None], encoding: str, sheet: str, lines: list[int],
               letter: str, column: str, log: list[dict[str, Any]]) -> list[str | None]:
    chosen = legacy.detect_column(texts) if encoding == "auto" else encoding
    out = []
    for text, line in zip(texts, lines, strict=True):
        cell_encoding = chosen
        if encoding == "auto" and chosen == "unicode" and text:
            cell_encoding = legacy.detect(text)  # one legacy cell in a Unicode column
        new = legacy.convert(text, cell_encoding)
        if new != text:
            log.append({"sheet": sheet, "row": line, "column": f"{letter} ({column})",
                        "encoding": cell_encoding, "original": text, "converted": new})
        out.append(new)
    return out


# ------------------------------------------------------------------ checking and storing


class TemplateRefused(UserError):
    """A filled template with errors: nothing stored (422). The body carries the check's
    whole result (errors by sheet, row and column) besides the error fields."""

    def __init__(self, upload: TemplateUpload) -> None:
        errors = upload.result.errors
        super().__init__(f"tệp có {len(errors)} lỗi, chưa lưu gì",
                         f"the file has {len(errors)} errors; nothing was stored",
                         issues=[e.text for e in errors[:500]],
                         data=json.loads(json.dumps(upload.as_dict(), default=str)))


def upload_template(session: Session, path: Path, *, data_set: DataSet, unit: OrgUnit,
                    period: str, access: Access, dry_run: bool = True,
                    display_name: str | None = None,
                    encoding: str = "auto") -> TemplateUpload:
    """Check the filled template cell by cell; store all of it or nothing (caller commits)."""
    name = display_name or path.name
    access.require(Action.CAPTURE, unit.id)
    actor = access.actor
    parsed = service.check_period(data_set, period)
    result = ImportResult(name, hashlib.sha256(path.read_bytes()).hexdigest(), dry_run)
    upload = TemplateUpload(result)
    try:
        sheets, upload.converted = read_template(path, name, encoding)
    except FileUnreadable as exc:
        result.errors = [ImportIssue(name, exc.sheet, None, "", "file_unreadable",
                                     exc.message_vi, exc.message_en)]
        return upload
    tables = [s.table for s in sheets]
    frame, errors = validate_tables(session, tables, access)
    result.rows = frame.height
    issues = _pipeline_issues(errors, frame, sheets, name)
    issues += _form_issues(session, frame, sheets, name, data_set, unit, parsed.id)
    issues += _lock_issues(session, frame, sheets, name, access)
    rule_issues = _rule_issues(session, frame, sheets, name) if not issues else []
    issues += [i for i, importance in rule_issues if importance == "high"]
    upload.warnings = [i for i, importance in rule_issues if importance != "high"]
    upload.warnings += _name_warnings(sheets, unit, name)
    if issues:
        result.errors = sorted(issues, key=lambda i: (i.sheet, i.row or 0, i.column))
        return upload
    plan = plan_changes(session, frame)
    result.inserts, result.updates, result.unchanged = diff_frames(plan)
    if dry_run or (plan.inserts.is_empty() and plan.updates.is_empty()):
        return upload
    batch = ImportBatch(kind="collection-template", file_name=name[:400], sha256=result.sha256,
                        user_id=getattr(actor, "id", None))
    session.add(batch)
    session.flush()
    event = BatchEvent(action="collection.template_upload", object_type="import_batch",
                       object_id=batch.id, unit_id=unit.id, note=name,
                       after={"data_set": data_set.code, "period": parsed.id,
                              "converted_cells": len(upload.converted)})
    summary = apply_changes(session, plan, source="template", access=access,
                            import_batch_id=batch.id, event=event)
    batch.inserted, batch.updated, batch.unchanged = summary
    batch.finished_at, batch.status = utcnow(), "done"
    result.batch_id = batch.id
    submission = service.submission_for(session, data_set, unit.id, parsed.id)
    service.note_saved(session, submission, access, f"tệp {name}: {summary.inserted} mới, "
                       f"{summary.updated} sửa / file {name}")
    return upload


def _locate(sheets: list[_Sheet], frame: pl.DataFrame, row_id: int) -> tuple[str, int | None,
                                                                              _Sheet]:
    hit = frame.filter(pl.col("_row") == row_id)
    sheet_name = hit.item(0, "_sheet") if hit.height else ""
    line = hit.item(0, "_line") if hit.height else None
    sheet = next((s for s in sheets if s.table.sheet == sheet_name), sheets[0])
    return sheet_name, line, sheet


def _column_label(sheet: _Sheet, column: str) -> str:
    """'J (Giá trị)': the Excel column letter and the template's header."""
    header = dict((c, label) for c, label, _ in LAYOUT).get(column, column)
    letter = sheet.letters.get(column)
    return f"{letter} ({header})" if letter else header


def _pipeline_issues(errors: pl.DataFrame, frame: pl.DataFrame, sheets: list[_Sheet],
                     name: str) -> list[ImportIssue]:
    issues = []
    for error in errors.iter_rows(named=True):
        sheet_name, line, sheet = _locate(sheets, frame, error["_row"])
        issues.append(ImportIssue(name, sheet_name, line, _column_label(sheet, error["column"]),
                                  error["rule"], error["message_vi"], error["message_en"]))
    return issues


def _form_issues(session: Session, frame: pl.DataFrame, sheets: list[_Sheet], name: str,
                 data_set: DataSet, unit: OrgUnit, period: str) -> list[ImportIssue]:
    """This form's own checks: its unit, its period, its indicators."""
    allowed = {i.code for i in service.indicators_of(session, data_set)}
    issues = []
    for row in frame.iter_rows(named=True):
        sheet_name, line, sheet = _locate(sheets, frame, row["_row"])

        def issue(column: str, rule: str, vi: str, en: str) -> None:
            issues.append(ImportIssue(name, sheet_name, line, _column_label(sheet, column),  # noqa: B023
                                      rule, vi, en))

        code = (row.get("unit_code") or "").strip()
        if code and code != unit.code and row.get("unit_id") is not None:
            issue("unit_code", "template_unit",
                  f"mã đơn vị '{code}' không phải đơn vị của biểu mẫu ({unit.code})",
                  f"unit code '{code}' is not this template's unit ({unit.code})")
        if row.get("period") and row["period"] != period:
            issue("period", "template_period", f"kỳ '{row['period']}' khác kỳ của biểu mẫu "
                  f"({period})", f"period '{row['period']}' is not the template's ({period})")
        indicator = (row.get("indicator_code") or "").upper()
        if indicator and indicator not in allowed and row.get("indicator_id") is not None:
            issue("indicator_code", "template_indicator",
                  f"chỉ tiêu '{indicator}' không thuộc biểu mẫu {data_set.code}",
                  f"indicator '{indicator}' is not in data set {data_set.code}")
    return issues


def _lock_issues(session: Session, frame: pl.DataFrame, sheets: list[_Sheet], name: str,
                 access: Access) -> list[ImportIssue]:
    keys = frame.filter(pl.col("unit_id").is_not_null() & pl.col("indicator_id").is_not_null()
                        & pl.col("period").is_not_null())
    if keys.is_empty():
        return []
    locked = service.locked_for(session, keys.select("unit_id", "indicator_id", "period"),
                                access)
    if not locked:
        return []
    plan = plan_changes(session, keys)
    changing = pl.concat([plan.inserts.select("_row", "unit_id", "indicator_id", "period"),
                          plan.updates.select("_row", "unit_id", "indicator_id", "period")])
    issues = []
    for row in changing.iter_rows(named=True):
        if (row["unit_id"], row["indicator_id"], row["period"]) in locked:
            sheet_name, line, sheet = _locate(sheets, frame, row["_row"])
            issues.append(ImportIssue(
                name, sheet_name, line, _column_label(sheet, "value"), "approved_locked",
                "số liệu đã được duyệt và khóa; đề nghị cơ quan thường trực trả lại để sửa",
                "the figure is approved and locked; ask the standing office to return it"))
    return issues


def _rule_issues(session: Session, frame: pl.DataFrame, sheets: list[_Sheet], name: str
                 ) -> list[tuple[ImportIssue, str]]:
    """The data set's validation rules on the uploaded figures (with stored figures of the
    same unit and period filling in what the file does not carry)."""
    rules = active_rules(session)
    if not rules or frame.is_empty():
        return []
    figures = frame.select("_row", "_sheet", "_line", "unit_id", "period", "indicator_code",
                           "numerator", "denominator",
                           pl.col("final_value").alias("value"))
    violations = evaluate(rules, figures)
    found = []
    for v in violations.iter_rows(named=True):
        rows = figures.filter((pl.col("unit_id") == v["unit_id"]) & (pl.col("period") ==
                              v["period"]) & pl.col("indicator_code").is_in(v["indicators"]))
        first = rows.row(0, named=True) if rows.height else None
        sheet = next((s for s in sheets if first and s.table.sheet == first["_sheet"]),
                     sheets[0])
        found.append((ImportIssue(
            name, first["_sheet"] if first else "", first["_line"] if first else None,
            _column_label(sheet, "numerator"), f"rule:{v['rule']}",
            f"{v['message_vi']} ({_n(v['left_value'])} so với {_n(v['right_value'])})",
            f"{v['message_en']} ({_n(v['left_value'])} vs {_n(v['right_value'])})"),
            v["importance"]))
    return found


def _n(number: float | None) -> str:
    return "–" if number is None else f"{number:g}".replace(".", ",")


def _name_warnings(sheets: list[_Sheet], unit: OrgUnit, name: str) -> list[ImportIssue]:
    expected = {name_key(unit.name), name_key(unit.short_name)} - {""}
    warnings = []
    for sheet in sheets:
        for row in sheet.names.iter_rows(named=True):
            written = row["unit_name"]
            if written and name_key(written) not in expected:
                warnings.append(ImportIssue(
                    name, sheet.table.sheet, row["_line"], _column_label(sheet, "unit_name"),
                    "unit_name_differs", f"tên đơn vị '{written}' khác '{unit.name}'",
                    f"unit name '{written}' differs from '{unit.name}'"))
    return warnings


def template_file_name(data_set: DataSet, unit: OrgUnit, period: str) -> str:
    return f"{data_set.code}_{unit.code}_{parse_period(period).id}.xlsx"




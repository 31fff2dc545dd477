"""Tasks to and from XLSX. Import is all-or-nothing, idempotent (matched on the task code),
with a dry run; every rejected cell is named by file, sheet, row and column, in Vietnamese
then English. Each row is also checked against the importer's rights: MANAGE on the task's
current lead unit and on the lead unit the file gives it (a row that only reports progress
needs CAPTURE on the lead unit, as on the task's page). Every text cell written goes
through `spreadsheet_safe` (a title typed as `=HYPERLINK(…)` stays text), and the import
reads such a cell back as typed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.errors import UserError
from chiso.indicators.models import Indicator
from chiso.tasks.models import FocusArea, Origin, StoredState, Task
from chiso.tasks.service import (
    TaskRow,
    create_task,
    edit_task,
    update_progress,
)
from chiso.tasks.status import origin_label, status_label
from chiso.text import name_key, nfc, parse_date, parse_number, spreadsheet_safe, unguard_cell
from chiso.units.models import OrgUnit

SHEET = "Nhiệm vụ"
# (key, Vietnamese header, English header, required)
COLUMNS: list[tuple[str, str, str, bool]] = [
    ("code", "Mã", "Code", False),
    ("title", "Tên nhiệm vụ", "Title", True),
    ("focus_area", "Nội dung trọng tâm", "Focus area", False),
    ("lead_unit", "Đơn vị chủ trì", "Lead unit", True),
    ("partners", "Đơn vị phối hợp", "Partner units", False),
    ("start_date", "Ngày bắt đầu", "Start date", False),
    ("due_date", "Hạn hoàn thành", "Due date", True),
    ("progress", "Tiến độ (%)", "Progress (%)", False),
    ("done", "Đã hoàn thành", "Done", False),
    ("completed_on", "Ngày hoàn thành", "Completed on", False),
    ("owner", "Người phụ trách", "Owner", False),
    ("recurrence", "Lặp lại (M/Q/S/Y)", "Recurrence (M/Q/S/Y)", False),
    ("indicators", "Chỉ số liên quan", "Indicators", False),
    ("origin", "Cấp giao", "Assigned by", False),
    ("assigned_doc_number", "Số hiệu văn bản giao", "Assigning document", False),
    ("assigned_doc_date", "Ngày văn bản giao", "Document date", False),
    ("expected_product", "Sản phẩm dự kiến", "Expected product", False),
    ("status", "Trạng thái", "Status", False),  # written on export, ignored on import
]
# Columns a file may leave out: a task it updates then keeps what it has.
OPTIONAL_ASSIGNMENT = ("origin", "assigned_doc_number", "assigned_doc_date",
                       "expected_product")
ORIGIN_WORDS = {name_key(word): origin for origin, words in {
    Origin.CENTRAL: ("Trung ương", "Trung ương giao", "TW", "central"),
    Origin.PROVINCE: ("Tỉnh", "Tỉnh giao", "province"),
    Origin.COMMUNE: ("Xã", "Xã giao", "commune"),
}.items() for word in words}
YES = {"x", "có", "co", "yes", "y", "1", "true", "đã", "da", "hoàn thành"}


class TaskImportRejected(UserError):
    """Nothing was stored; `issues` names every rejected cell or row."""

    def __init__(self, errors: list[str], *, status: int = 422) -> None:
        count = len(errors)
        super().__init__(f"Không lưu gì: {count} lỗi trong tệp nhiệm vụ",
                         f"nothing stored: {count} problems in the task file",
                         issues=errors, status=status)


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: bool = False


# ------------------------------------------------------------------ export

def export_tasks(rows: list[TaskRow], path: Path, *, session: Session) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([f"{vi} / {en}" for _k, vi, en, _r in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B3261E")
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    codes = _unit_codes(session, {u for r in rows for u in
                                  [r.task.lead_unit_id, *(p.unit_id for p in r.task.partners)]})
    for row in rows:
        ws.append([spreadsheet_safe(v) for v in _export_row(session, row, codes)])
    widths = (10, 50, 28, 12, 18, 13, 13, 10, 10, 13, 16, 10, 28, 16, 20, 13, 36, 16)
    for col, width in zip("ABCDEFGHIJKLMNOPQR", widths, strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B2"
    wb.properties.creator = "chiso"
    wb.properties.created = wb.properties.modified = dt.datetime(2000, 1, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _export_row(session: Session, row: TaskRow, codes: dict[int, str]) -> list[Any]:
    task = row.task
    area = session.get(FocusArea, task.focus_area_id) if task.focus_area_id else None
    owner = session.get(User, task.owner_id) if task.owner_id else None
    indicators = [session.get(Indicator, lk.indicator_id) for lk in task.links]
    return [task.code, task.title, area.code if area else "", codes.get(task.lead_unit_id, ""),
            "; ".join(codes.get(p.unit_id, "") for p in task.partners), task.start_date,
            task.due_date, task.progress_pct, "x" if task.state == StoredState.DONE else "",
            task.completed_on, owner.username if owner else "", task.recurrence,
            "; ".join(i.code for i in indicators if i), origin_label(task.origin),
            task.assigned_doc_number, task.assigned_doc_date, task.expected_product,
            status_label(row.status)]


def _unit_codes(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(ids))).all())


# ------------------------------------------------------------------ import

def import_tasks(session: Session, path: Path, *, access: Access,
                 dry_run: bool = False) -> ImportSummary:
    """Validate every row, then the importer's rights on every unit each row touches;
    store nothing unless all of it passes."""
    parsed = _read_rows(session, path)
    refused = _refused_rows(session, parsed, access)
    if refused:
        raise TaskImportRejected(refused, status=403)
    summary = ImportSummary(dry_run=dry_run)
    savepoint = session.begin_nested()
    try:
        for fields in parsed:
            _apply_row(session, fields, summary, access)
    except Exception:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return summary


def _read_rows(session: Session, path: Path) -> list[dict[str, Any]]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise TaskImportRejected([f"Tệp {path.name}: không đọc được ({exc}) / "
                                  f"file {path.name}: cannot be read"]) from exc
    ws = wb[SHEET] if SHEET in wb.sheetnames else wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    if not rows:
        raise TaskImportRejected([f"Tệp {path.name}, sheet '{ws.title}': trống / is empty"])
    columns, errors = _header(rows[0], path.name, ws.title)
    parsed: list[dict[str, Any]] = []
    resolver = _Resolver(session)
    for number, values in enumerate(rows[1:], start=2):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        where = f"Tệp {path.name}, sheet '{ws.title}', dòng {number}"
        fields, row_errors = _parse_row(values, columns, where, resolver)
        errors += row_errors
        parsed.append(fields)
    errors += _duplicate_codes(parsed, path.name, ws.title)
    if errors:
        raise TaskImportRejected(errors)
    return parsed


def _header(header: tuple[Any, ...], file: str, sheet: str) -> tuple[dict[str, int], list[str]]:
    by_text: dict[str, str] = {}
    for key, vi, en, _req in COLUMNS:
        for label in (vi, en, f"{vi} / {en}", key):
            by_text[name_key(label)] = key
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        found = by_text.get(name_key(cell or ""))
        if found:
            columns[found] = index
    missing = [f"{vi} / {en}" for key, vi, en, req in COLUMNS if req and key not in columns]
    errors = [f"Tệp {file}, sheet '{sheet}', dòng 1: thiếu cột '{m}' / row 1: missing column "
              f"'{m}'" for m in missing]
    return columns, errors


class _Resolver:
    """Looks codes up once per import."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units = {c: i for i, c in session.execute(
            select(OrgUnit.id, OrgUnit.code).where(OrgUnit.valid_to.is_(None)))}
        self.areas = {name_key(c): i for i, c in session.execute(
            select(FocusArea.id, FocusArea.code))}
        self.areas.update({name_key(n): i for i, n in session.execute(
            select(FocusArea.id, FocusArea.name_vi))})
        self.users = {u: i for i, u in session.execute(select(User.id, User.username))}
        self.indicators = {c: i for i, c in session.execute(select(Indicator.id, Indicator.code))}


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(unguard_cell(value))).strip()


def _parse_row(values: tuple[Any, ...], columns: dict[str, int], where: str,
               res: _Resolver) -> tuple[dict[str, Any], list[str]]:
    raw = {k: (values[i] if i < len(values) else None) for k, i in columns.items()}
    out: dict[str, Any] = {"where": where}
    errors: list[str] = []

    def err(col: str, vi: str, en: str) -> None:
        label = next(f"{v}" for k, v, _e, _r in COLUMNS if k == col)
        errors.append(f"{where}, cột '{label}': {vi} / column '{col}': {en}")

    out["code"] = _cell_text(raw.get("code")) or None
    out["title"] = _cell_text(raw.get("title"))
    if not out["title"]:
        err("title", "không được để trống", "must not be empty")
    out["lead_unit_id"] = _unit(raw.get("lead_unit"), res, err, "lead_unit", required=True)
    out["partner_unit_ids"] = [
        _unit(code, res, err, "partners") for code in _split(raw.get("partners"))]
    out["start_date"] = _date(raw.get("start_date"), err, "start_date")
    out["due_date"] = _date(raw.get("due_date"), err, "due_date", required=True)
    out["completed_on"] = _date(raw.get("completed_on"), err, "completed_on")
    out["progress"] = _progress(raw.get("progress"), err)
    out["done"] = _cell_text(raw.get("done")).casefold() in YES
    out["focus_area_id"] = _lookup(raw.get("focus_area"), res.areas, err, "focus_area",
                                   key=name_key)
    out["owner_id"] = _lookup(raw.get("owner"), res.users, err, "owner",
                              key=lambda s: s.lower())
    out["recurrence"] = _cell_text(raw.get("recurrence")).upper()
    if out["recurrence"] not in ("", "M", "Q", "S", "Y"):
        err("recurrence", "chỉ nhận M, Q, S, Y hoặc để trống", "must be M, Q, S, Y or empty")
    out["indicator_ids"] = [_lookup(c, res.indicators, err, "indicators")
                            for c in _split(raw.get("indicators"))]
    if out["start_date"] and out["due_date"] and out["start_date"] > out["due_date"]:
        err("start_date", "sau hạn hoàn thành", "is after the due date")
    out.update(_assignment_source(raw, columns, err))
    return out, errors


def _assignment_source(raw: dict[str, Any], columns: dict[str, int], err: Any
                       ) -> dict[str, Any]:
    """Origin, assigning document and expected product; None for a column the file has
    not, or an empty origin cell (an existing task keeps its value, a new one gets the
    default)."""
    out: dict[str, Any] = dict.fromkeys(OPTIONAL_ASSIGNMENT)
    text = _cell_text(raw.get("origin")) if "origin" in columns else ""
    if text:  # an empty cell keeps a task's origin (a new task: tỉnh giao)
        out["origin"] = ORIGIN_WORDS.get(name_key(text))
        if out["origin"] is None:
            err("origin", f"'{text}' không phải Trung ương, Tỉnh hoặc Xã",
                f"'{text}' is not Trung ương, Tỉnh or Xã (central, province, commune)")
    for key in ("assigned_doc_number", "expected_product"):
        if key in columns:
            out[key] = _cell_text(raw.get(key))
    if "assigned_doc_date" in columns:
        out["assigned_doc_date"] = _date(raw.get("assigned_doc_date"), err,
                                         "assigned_doc_date")
    return out


def _split(value: Any) -> list[str]:
    return [p.strip() for p in _cell_text(value).replace(",", ";").split(";") if p.strip()]


def _unit(value: Any, res: _Resolver, err: Any, col: str, required: bool = False) -> int | None:
    code = _cell_text(value)
    if not code:
        if required:
            err(col, "không được để trống", "must not be empty")
        return None
    if code not in res.units:
        err(col, f"không có đơn vị mã '{code}'", f"no unit with code '{code}'")
        return None
    return res.units[code]


def _lookup(value: Any, table: dict[str, int], err: Any, col: str,
            key: Any = lambda s: s) -> int | None:
    text = _cell_text(value)
    if not text:
        return None
    found = table.get(key(text))
    if found is None:
        err(col, f"không tìm thấy '{text}'", f"'{text}' not found")
    return found


def _date(value: Any, err: Any, col: str, required: bool = False) -> dt.date | None:
    if value is None or _cell_text(value) == "":
        if required:
            err(col, "không được để trống", "must not be empty")
        return None
    try:
        return parse_date(value if isinstance(value, dt.date) else _cell_text(value))
    except ValueError:
        err(col, f"'{_cell_text(value)}' không phải ngày dd/mm/yyyy",
            f"'{_cell_text(value)}' is not a date dd/mm/yyyy")
        return None


def _progress(value: Any, err: Any) -> float | None:
    if value is None or _cell_text(value) == "":
        return None
    try:
        number = float(parse_number(value if isinstance(value, (int, float))
                                    else _cell_text(value)).value)
    except ValueError:
        err("progress", f"'{_cell_text(value)}' không phải số", f"'{value}' is not a number")
        return None
    if not 0 <= number <= 100:
        err("progress", "phải từ 0 đến 100", "must be between 0 and 100")
        return None
    return number


def _duplicate_codes(parsed: list[dict[str, Any]], file: str, sheet: str) -> list[str]:
    seen: dict[str, str] = {}
    errors = []
    for fields in parsed:
        code = fields["code"]
        if code and code in seen:
            errors.append(f"{fields['where']}, cột 'Mã': mã '{code}' trùng với {seen[code]} / "
                          f"column 'code': duplicate code '{code}'")
        elif code:
            seen[code] = fields["where"]
    return errors


# ------------------------------------------------------------------ rights, row by row

def _refused_rows(session: Session, parsed: list[dict[str, Any]], access: Access
                  ) -> list[str]:
    """One message per row the importer may not apply: a new task needs MANAGE on its lead
    unit; a changed task MANAGE on its current and its new lead unit; a row that changes
    only progress CAPTURE on the lead unit."""
    refused = []
    for f in parsed:
        task = session.scalar(select(Task).where(Task.code == f["code"])) if f["code"] else None
        for action, unit_id in _needed_rights(task, f):
            if not access.can(action, unit_id):
                refused.append(_refusal(session, f["where"], action, unit_id))
                break
    return refused


def _needed_rights(task: Task | None, f: dict[str, Any]) -> list[tuple[Action, int]]:
    if task is None:
        return [(Action.MANAGE, f["lead_unit_id"])]
    if _assignment_changes(task, f):
        return [(Action.MANAGE, task.lead_unit_id), (Action.MANAGE, f["lead_unit_id"])]
    return [(Action.CAPTURE, task.lead_unit_id)]


def _refusal(session: Session, where: str, action: Action, unit_id: int) -> str:
    unit = session.get(OrgUnit, unit_id)
    name = f"{unit.name} ({unit.code})" if unit else str(unit_id)
    verb_vi = "quản lý nhiệm vụ của" if action is Action.MANAGE else "báo cáo tiến độ cho"
    verb_en = "manage the tasks of" if action is Action.MANAGE else "report progress for"
    return (f"{where}, cột 'Đơn vị chủ trì': không có quyền {verb_vi} {name} / "
            f"column 'lead_unit': not allowed to {verb_en} {name}")


def _assignment_changes(task: Task, f: dict[str, Any]) -> dict[str, Any]:
    """What the row changes in the assignment itself (everything but progress)."""
    changes = {k: f[k] for k in ("title", "lead_unit_id", "due_date", "start_date",
                                 "focus_area_id", "owner_id", "recurrence")
               if getattr(task, k) != f[k]}
    changes.update({k: f[k] for k in OPTIONAL_ASSIGNMENT
                    if f[k] is not None and getattr(task, k) != f[k]})
    partners = sorted(u for u in f["partner_unit_ids"] if u and u != f["lead_unit_id"])
    if partners != [p.unit_id for p in task.partners]:
        changes["partner_unit_ids"] = partners
    return changes


# ------------------------------------------------------------------ apply one valid row

def _apply_row(session: Session, f: dict[str, Any], summary: ImportSummary,
               access: Access) -> None:
    task = session.scalar(select(Task).where(Task.code == f["code"])) if f["code"] else None
    if task is None:
        task = create_task(
            session, title=f["title"], lead_unit_id=f["lead_unit_id"], due_date=f["due_date"],
            start_date=f["start_date"], code=f["code"], focus_area_id=f["focus_area_id"],
            partner_unit_ids=[u for u in f["partner_unit_ids"] if u], owner_id=f["owner_id"],
            recurrence=f["recurrence"], indicator_ids=[i for i in f["indicator_ids"] if i],
            access=access, change="import",
            **{k: f[k] for k in OPTIONAL_ASSIGNMENT if f[k] is not None})
        _apply_progress(session, task, f, access)
        summary.created.append(task.code)
        return
    version = task.version
    changes = _assignment_changes(task, f)
    if changes:
        partners = changes.pop("partner_unit_ids", [p.unit_id for p in task.partners])
        edit_task(session, task_id=task.id, access=access, note="import",
                  partner_unit_ids=partners, **changes)
    _apply_progress(session, task, f, access)
    (summary.updated if task.version != version else summary.unchanged).append(task.code)


def _apply_progress(session: Session, task: Task, f: dict[str, Any], access: Access) -> None:
    progress = f["progress"] if f["progress"] is not None else task.progress_pct
    done = f["done"] or progress >= 100
    same_state = (task.state == StoredState.DONE) == done and (
        not done or f["completed_on"] in (None, task.completed_on))
    if task.state == StoredState.CANCELLED or (same_state and progress == task.progress_pct
                                                and not (done and task.progress_pct != 100)):
        return
    update_progress(session, task_id=task.id, progress_pct=100.0 if done else progress,
                    done=done, update_date=f["completed_on"] if done else None,
                    note="import", access=access)


__all__ = ["ImportSummary", "TaskImportRejected", "export_tasks", "import_tasks"]

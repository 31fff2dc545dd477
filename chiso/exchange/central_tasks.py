"""Centrally assigned tasks (nhiệm vụ Trung ương giao) from a spreadsheet, through the tasks
service (docs/exchange.md).

The list a ministry or the central committee sends is read as it is written — "Nội dung
nhiệm vụ", "Cơ quan chủ trì" by name, "Thời hạn" as a date or a period ("Quý II/2025",
"Năm 2025", "Thường xuyên"), "Văn bản giao" as "Nghị quyết số 03/NQ-CP ngày 09/01/2025" —
checked whole (every problem named by file, sheet, row and column, nothing stored on one),
then handed to `chiso.tasks.xlsx.import_tasks` in the tasks layout, with the importer's own
Access: all or nothing, idempotent (a task without a code gets one from its document, title
and lead unit), MANAGE on each lead unit, every task marked "Trung ương giao".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.errors import UserError
from chiso.periods import PeriodError, parse_period
from chiso.settings import get_settings
from chiso.tasks.xlsx import COLUMNS, SHEET, ImportSummary, import_tasks
from chiso.text import accent_free_key, name_key, nfc, parse_date, spreadsheet_safe, unguard_cell
from chiso.text.dates import DateError
from chiso.units.models import OrgUnit

# field → headers accepted (compared accent-free, letters and digits only)
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("Mã nhiệm vụ", "Mã NV", "Mã", "Code"),
    "title": ("Nội dung nhiệm vụ", "Tên nhiệm vụ", "Nhiệm vụ", "Nội dung", "Task"),
    "lead": ("Cơ quan chủ trì", "Đơn vị chủ trì", "Chủ trì", "Cơ quan, đơn vị chủ trì",
             "Lead unit"),
    "partners": ("Cơ quan phối hợp", "Đơn vị phối hợp", "Phối hợp", "Partner units"),
    "due": ("Thời hạn hoàn thành", "Thời hạn", "Thời gian hoàn thành", "Hạn hoàn thành",
            "Due"),
    "product": ("Sản phẩm dự kiến", "Sản phẩm", "Kết quả, sản phẩm", "Sản phẩm đầu ra",
                "Expected product"),
    "document": ("Văn bản giao nhiệm vụ", "Văn bản giao", "Căn cứ", "Assigning document"),
    "document_date": ("Ngày văn bản", "Ngày ban hành", "Document date"),
}
REQUIRED = ("title", "lead", "due")
ONGOING = {"thuong xuyen", "hang nam", "thuong xuyen hang nam", "ongoing"}
NUMBER = re.compile(r"\d+[0-9A-Za-zĐđ.\-]*/[0-9A-Za-zĐđ/\-]+")
DAY = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
HEADER_ROWS = 15


class CentralTasksRejected(UserError):
    status = 422

    def __init__(self, problems: list[str]) -> None:
        count = len(problems)
        super().__init__(f"Không lưu gì: {count} lỗi trong danh sách nhiệm vụ Trung ương giao",
                         f"nothing stored: {count} problems in the central task list",
                         issues=problems)


@dataclass(frozen=True)
class CentralTask:
    row: int
    code: str
    title: str
    lead_code: str
    partner_codes: list[str]
    due: dt.date
    product: str
    document: str
    document_date: dt.date | None


def import_central_tasks(session: Session, path: Path, *, access: Access,
                         dry_run: bool = False, display_name: str | None = None
                         ) -> ImportSummary:
    """Read the central list, then store it through the tasks import (see the module)."""
    name = display_name or path.name
    tasks = read_central_tasks(session, path, name)
    with tempfile.TemporaryDirectory(prefix="chiso-central-") as folder:
        converted = _tasks_layout(tasks, Path(folder) / name)
        return import_tasks(session, converted, access=access, dry_run=dry_run)


def read_central_tasks(session: Session, path: Path, name: str | None = None
                       ) -> list[CentralTask]:
    name = name or path.name
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise CentralTasksRejected([f"Tệp {name}: không đọc được tệp Excel / file {name}: "
                                    f"not a readable XLSX ({type(exc).__name__})"]) from exc
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    workbook.close()
    header_at, columns = _header(rows)
    where = f"Tệp {name}, trang '{sheet.title}'"
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        raise CentralTasksRejected([f"{where}: thiếu cột {', '.join(missing)} (ví dụ "
                                    f"'{HEADERS[missing[0]][0]}') / file {name}: missing "
                                    f"column(s) {', '.join(missing)}"])
    reader = _Rows(session, where, columns)
    tasks = [t for number, values in enumerate(rows[header_at + 1:], start=header_at + 2)
             if (t := reader.task(number, values)) is not None]
    if reader.problems:
        raise CentralTasksRejected(reader.problems)
    if not tasks:
        raise CentralTasksRejected([f"{where}: không có nhiệm vụ nào / no task in the file"])
    return tasks


def _key(text: object) -> str:
    return re.sub(r"[^a-z0-9]", "", accent_free_key(nfc(str(text or ""))))


_ALIASES = {_key(alias): field for field, aliases in HEADERS.items() for alias in aliases}


def _header(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]]:
    """The first row (of the first 15) naming the title, lead and due columns."""
    best: tuple[int, dict[str, int]] = (0, {})
    for index, row in enumerate(rows[:HEADER_ROWS]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            found = _ALIASES.get(_key(cell))
            if found and found not in columns:
                columns[found] = position
        if all(f in columns for f in REQUIRED):
            return index, columns
        if len(columns) > len(best[1]):
            best = (index, columns)
    return best


class _Rows:
    def __init__(self, session: Session, where: str, columns: dict[str, int]) -> None:
        self.where, self.columns = where, columns
        self.problems: list[str] = []
        self.units = _unit_names(session)
        self.year = get_settings().current_date().year

    def problem(self, number: int, field: str, vi: str, en: str) -> None:
        label = HEADERS[field][0]
        self.problems.append(f"{self.where}, dòng {number}, cột '{label}': {vi} / row "
                             f"{number}, column '{field}': {en}")

    def cell(self, values: tuple[Any, ...], field: str) -> Any:
        position = self.columns.get(field)
        if position is None or position >= len(values):
            return None
        value = values[position]
        return nfc(unguard_cell(value)).strip() if isinstance(value, str) else value

    def task(self, number: int, values: tuple[Any, ...]) -> CentralTask | None:
        if all(v is None or str(v).strip() == "" for v in values):
            return None
        title = " ".join(str(self.cell(values, "title") or "").split())
        if not title:
            self.problem(number, "title", "thiếu nội dung nhiệm vụ", "missing the task")
        lead = self._unit(number, "lead", self.cell(values, "lead"))
        partners = [code for part in re.split(r"[;\n]", str(self.cell(values, "partners")
                                                             or "")) if part.strip()
                    and (code := self._unit(number, "partners", part)) is not None]
        due = self._due(number, self.cell(values, "due"))
        document = " ".join(str(self.cell(values, "document") or "").split())
        document_date = self._document_date(number, values, document)
        if title and lead and due:
            code = str(self.cell(values, "code") or "").strip() or _code(document, title, lead)
            return CentralTask(number, code[:32], title, lead, partners, due,
                               str(self.cell(values, "product") or "").strip(),
                               _number(document), document_date)
        return None

    def _unit(self, number: int, field: str, value: Any) -> str | None:
        text = " ".join(str(value or "").split())
        if not text:
            if field == "lead":
                self.problem(number, field, "thiếu cơ quan chủ trì", "missing the lead unit")
            return None
        found = self.units.get(name_key(text))
        if found is None:
            self.problem(number, field, f"không có đơn vị '{text}' (ghi tên hoặc mã như trong "
                         "danh mục đơn vị)", f"no unit '{text}' (write its name or code as "
                         "in the unit register)")
        return found

    def _due(self, number: int, value: Any) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = " ".join(str(value or "").split())
        if accent_free_key(text) in ONGOING:
            return dt.date(self.year, 12, 31)  # ongoing: judged at the end of this year
        try:
            return parse_date(text)
        except DateError:
            pass
        try:
            return parse_period(text).end()  # 'Quý II/2025' → 30/06/2025
        except PeriodError:
            self.problem(number, "due", f"thời hạn '{text}' không phải ngày hay kỳ (ví dụ "
                         "30/06/2025, Quý II/2025, Năm 2025, Thường xuyên)", f"due '{text}' is "
                         "neither a date nor a period (30/06/2025, Q2 2025, 2025, ongoing)")
            return None

    def _document_date(self, number: int, values: tuple[Any, ...], document: str
                       ) -> dt.date | None:
        raw = self.cell(values, "document_date")
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = str(raw or "").strip() or (m.group(0) if (m := DAY.search(document)) else "")
        if not text:
            return None
        try:
            return parse_date(text)
        except DateError as exc:
            self.problem(number, "document_date", exc.message_vi, exc.message_en)
            return None


def _unit_names(session: Session) -> dict[str, str]:
    """Today's units by code, name and short name (name keys), to their codes."""
    found: dict[str, str] = {}
    for code, name, short in session.execute(select(OrgUnit.code, OrgUnit.name,
                                                    OrgUnit.short_name).where(
            OrgUnit.valid_to.is_(None))):
        for text in (code, name, short):
            if text:
                found.setdefault(name_key(text), code)
    return found


def _number(document: str) -> str:
    """'Nghị quyết số 03/NQ-CP ngày 09/01/2025' → '03/NQ-CP' (the whole text when none)."""
    match = NUMBER.search(DAY.sub(" ", document))
    return (match.group(0) if match else document)[:100]


def _code(document: str, title: str, lead: str) -> str:
    """A stable code for a task the list gives none: the same row imports to the same task."""
    digest = hashlib.sha1(f"{name_key(document)}|{name_key(title)}|{lead}".encode()).hexdigest()
    return f"TW-{digest[:12]}"


def _tasks_layout(tasks: list[CentralTask], path: Path) -> Path:
    """The tasks import's own layout (chiso.tasks.xlsx.COLUMNS), every task 'Trung ương'."""
    keys = [key for key, *_ in COLUMNS]
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append([vi for _key, vi, _en, _required in COLUMNS])
    for task in tasks:
        row = {"code": task.code, "title": task.title, "lead_unit": task.lead_code,
               "partners": "; ".join(task.partner_codes), "due_date": task.due,
               "origin": "Trung ương", "assigned_doc_number": task.document,
               "assigned_doc_date": task.document_date, "expected_product": task.product}
        sheet.append([spreadsheet_safe(row.get(key)) for key in keys])
    path = path.with_suffix(".xlsx")
    workbook.save(path)
    return path

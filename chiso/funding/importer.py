"""Import a finance department's budget table: validate everything, store all or nothing.

read (`chiso.funding.workbook`) → year and unit of amounts → each row: section, total,
the province's total spending, or a budget line with its figures → units, programmes,
sources, types and areas resolved → the figure rules and the capture right of every line
(`chiso.funding.service`) → compare with what is stored → (dry run: the diff) or store in
the caller's transaction as new versions awaiting approval, with an `ImportBatch` and an
audit event. Importing the same file again changes nothing.

Every problem names file, sheet, row, column (as written in the file) and rule, in
Vietnamese and English (`ImportIssue`, shared with the value importer).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.audit.service import record_event
from chiso.db.base import utcnow
from chiso.funding import service
from chiso.funding.models import Programme
from chiso.funding.service import FigureInput, FigurePlan, LineSpec
from chiso.funding.vocab import (
    AREA_SPELLINGS,
    AREAS,
    SOURCE_SPELLINGS,
    SOURCES,
    SPEND_TYPES,
    STAGES,
    TYPE_SPELLINGS,
    LineKind,
    Stage,
    allowed_words,
)
from chiso.funding.workbook import Column, FundingSheet, disbursement_month, read_funding_file
from chiso.settings import get_settings
from chiso.text import accent_free_key, name_key, parse_number
from chiso.text.numbers import NumberError
from chiso.units.models import OrgUnit
from chiso.units.service import descendant_ids
from chiso.values.importer import ImportIssue
from chiso.values.models import ImportBatch
from chiso.values.reader import FileUnreadable, header_key

AMOUNT_UNITS = {"dong": 1, "nghin dong": 1_000, "trieu dong": 1_000_000,
                "ty dong": 1_000_000_000}
AMOUNT_UNIT_NAMES = {1: "đồng", 1_000: "nghìn đồng", 1_000_000: "triệu đồng",
                     1_000_000_000: "tỷ đồng"}
DEFAULT_FACTOR = 1_000_000  # budget tables are in triệu đồng unless they say otherwise
_UNIT_PATTERN = re.compile(r"(ty|trieu|tr\.?|nghin|ngan)?\s*(dong|d)\b")
_YEAR = re.compile(r"\bnam\s*(20\d\d)\b")
_TOTAL_ROW = re.compile(r"^(tong cong|tong so|cong|tong)\b")
_TOTAL_SPENDING = re.compile(r"^tong chi (ngan sach dia phuong|nsdp|ngan sach tinh|ngan sach)")
_SECTION_NUMBER = re.compile(r"^([IVX]{1,5}|[A-H])[.)]?$")
_SECTION_PREFIX = re.compile(r"^\s*(?:[IVX]{1,5}|[A-Ha-h]|\d{1,2})\s*[.)\-:]\s+")
_BLANK_AMOUNTS = {"-", "–", "—", "x", "X"}


@dataclass
class FundingImportResult:
    """What an import found and did. With errors nothing was stored; a dry run stores
    nothing either and lists the changes a real run would make."""

    file_name: str
    sha256: str
    dry_run: bool
    rows: int = 0
    lines: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    plan: FigurePlan = field(default_factory=FigurePlan)
    years: list[int] = field(default_factory=list)
    amount_unit: str = ""
    notes: list[tuple[str, str]] = field(default_factory=list)  # (vi, en)
    batch_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "lines": self.lines, **self.plan.counts(),
                "errors": len(self.errors)}

    def as_dict(self, limit: int = 500) -> dict[str, Any]:
        return {"file": self.file_name, "sha256": self.sha256, "dry_run": self.dry_run,
                "ok": self.ok, "stored": self.ok and not self.dry_run,
                "batch_id": self.batch_id, "years": self.years,
                "amount_unit": self.amount_unit, "counts": self.counts(),
                "notes": [{"message_vi": vi, "message_en": en} for vi, en in self.notes],
                "errors": [e.as_dict() for e in self.errors[:limit]],
                "changes": [c.as_dict() for c in self.plan.changes[:limit]]}


def import_budget_file(session: Session, path: Path | str, *, access: Access,
                       dry_run: bool = False, display_name: str | None = None,
                       scope_unit_id: int | None = None, year: int | None = None,
                       amount_unit: str | None = None, encoding: str = "auto"
                       ) -> FundingImportResult:
    """Validate the whole table, then store all of it or nothing (the caller commits, and
    rolls back when `result.ok` is false). `year` and `amount_unit` ("triệu đồng", …)
    override what the title says; `scope_unit_id` defaults to the configured province."""
    path = Path(path)
    name = display_name or path.name
    result = FundingImportResult(name, hashlib.sha256(path.read_bytes()).hexdigest(), dry_run)
    try:
        sheets = read_funding_file(path, name, encoding=encoding)
    except FileUnreadable as exc:
        result.errors = [ImportIssue(name, exc.sheet, None, "", "file_unreadable",
                                     exc.message_vi, exc.message_en)]
        return result
    scope = scope_unit_id or _province_id(session)
    reading = _Reading(session, name, scope, year, amount_unit, result)
    figures = [f for sheet in sheets for f in reading.sheet(sheet)]
    result.years = sorted({f.line.year for f in figures})
    result.errors += reading.errors
    if not result.errors:
        result.errors += _rule_errors(session, figures, access, reading)
    if result.errors:
        return result
    _plan_and_store(session, figures, access, result, path)
    return result


def _province_id(session: Session) -> int:
    code = get_settings().default_unit
    day = get_settings().current_date()
    units = session.scalars(select(OrgUnit).where(OrgUnit.code == code)).all()
    valid = [u for u in units if u.is_valid_on(day)] or list(units)
    if not valid:
        raise service.rejected([service.issue("unit", "unit_unknown",
                                              f"không có đơn vị mã '{code}'",
                                              f"no unit with code '{code}'")])
    return valid[0].id


def _plan_and_store(session: Session, figures: list[FigureInput], access: Access,
                    result: FundingImportResult, path: Path) -> None:
    result.lines = len({f.line.key() for f in figures})
    result.plan = service.save_figures(session, figures, access=access, dry_run=True)
    if result.dry_run or not result.plan.changes:
        return
    batch = ImportBatch(kind="funding-" + path.suffix.lower().lstrip("."),
                        file_name=result.file_name[:400], sha256=result.sha256,
                        user_id=getattr(access.actor, "id", None))
    session.add(batch)
    session.flush()
    result.plan = service.save_figures(session, figures, access=access, source="import",
                                       import_batch_id=batch.id)
    counts = result.plan.counts()
    batch.inserted, batch.updated, batch.unchanged = (counts["inserted"], counts["updated"],
                                                      counts["unchanged"])
    batch.finished_at, batch.status = utcnow(), "done"
    result.batch_id = batch.id
    record_event(session, action="funding.import", object_type="import_batch",
                 object_id=batch.id, actor=access.actor, note=result.file_name,
                 after={"file": result.file_name, "sha256": result.sha256, **counts})


# ------------------------------------------------------------------ reading rows


@dataclass
class _Row:
    sheet: FundingSheet
    number: int
    cells: list[str | None]

    def get(self, column: Column | None) -> str | None:
        if column is None or column.position >= len(self.cells):
            return None
        text = self.cells[column.position]
        return text.strip() if text and text.strip() else None


class _Reading:
    """Turns sheets into figure inputs, collecting every problem."""

    def __init__(self, session: Session, file_name: str, scope_unit_id: int,
                 year: int | None, amount_unit: str | None,
                 result: FundingImportResult) -> None:
        self.session = session
        self.file_name = file_name
        self.scope_unit_id = scope_unit_id
        self.year_override = year
        self.unit_override = amount_unit
        self.result = result
        self.errors: list[ImportIssue] = []
        self.units = _UnitIndex(session, scope_unit_id)
        self.programmes = {p.code: p for p in session.scalars(select(Programme).where(
            Programme.scope_unit_id == scope_unit_id))}
        self.seen: dict[str, tuple[str, int]] = {}

    # -- problems

    def problem(self, row: _Row | None, column: Column | None, rule: str, vi: str, en: str,
                sheet: FundingSheet | None = None, field: str = "") -> None:
        """One problem; `field` names what is missing when the table has no such column."""
        where = row.sheet if row else sheet
        self.errors.append(ImportIssue(
            self.file_name, where.name if where else "", row.number if row else None,
            column.field if column else field, rule, vi, en, column.label if column else ""))

    # -- a sheet

    def sheet(self, sheet: FundingSheet) -> list[FigureInput]:
        factor = self._factor(sheet)
        year = self._sheet_year(sheet)
        disbursed_month = self._lone_disbursement_month(sheet)
        context: dict[str, str] = {}
        figures: list[FigureInput] = []
        for number, cells in sheet.rows:
            row = _Row(sheet, number, cells)
            self.result.rows += 1
            figures += self._row(row, context, factor, year, disbursed_month)
        return figures

    def _factor(self, sheet: FundingSheet) -> int:
        if self.unit_override:
            factor = AMOUNT_UNITS.get(accent_free_key(self.unit_override).strip())
            if factor is None:
                self.problem(None, None, "amount_unit",
                             f"đơn vị tính '{self.unit_override}' không hợp lệ (đồng, nghìn "
                             "đồng, triệu đồng, tỷ đồng)",
                             f"unit of amounts '{self.unit_override}' is not valid (đồng, "
                             "nghìn đồng, triệu đồng, tỷ đồng)", sheet=sheet)
                factor = DEFAULT_FACTOR
        else:
            factor = _stated_factor(sheet.titles) or DEFAULT_FACTOR
            if _stated_factor(sheet.titles) is None:
                self.result.notes.append((
                    f"Trang '{sheet.name}': không ghi đơn vị tính, hiểu là triệu đồng",
                    f"sheet '{sheet.name}': no unit of amounts stated, read as million VND"))
        self.result.amount_unit = AMOUNT_UNIT_NAMES[factor]
        return factor

    def _sheet_year(self, sheet: FundingSheet) -> int | None:
        """The year chosen on import, else the year column (per row), else the year the
        title and headers name ("DỰ TOÁN … NĂM 2026", "Tháng 3/2026") most often."""
        if self.year_override:
            return self.year_override
        if sheet.column("year") is not None:
            return None
        years = Counter(int(y) for text in sheet.titles
                        for y in _YEAR.findall(accent_free_key(text)))
        years.update(c.year for c in sheet.columns if c.year)
        ranked = years.most_common(2)
        if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
            return ranked[0][0]
        self.problem(None, None, "year",
                     "không xác định được năm ngân sách: ghi 'năm 2026' trong tiêu đề, thêm "
                     "cột 'Năm', hoặc chọn năm khi nhập",
                     "the budget year cannot be told: write 'năm 2026' in the title, add a "
                     "'Năm' (year) column, or choose the year when importing", sheet=sheet)
        return None

    def _lone_disbursement_month(self, sheet: FundingSheet) -> int | None:
        column = sheet.column("stage:disbursed")
        if column is None:
            return None
        month = disbursement_month(column.label) or next(
            (m for m in (disbursement_month(t) for t in sheet.titles) if m), None)
        if month is None:
            self.problem(None, column, "month",
                         "cột giải ngân không ghi đến hết tháng nào: ghi 'Giải ngân đến hết "
                         "tháng 3' hoặc dùng các cột Tháng 1 … Tháng 12",
                         "the disbursement column does not say to the end of which month: "
                         "write 'Giải ngân đến hết tháng 3' or use columns Tháng 1 … Tháng 12",
                         sheet=sheet)
        return month

    # -- a row

    def _row(self, row: _Row, context: dict[str, str], factor: int, year: int | None,
             lone_month: int | None) -> list[FigureInput]:
        sheet = row.sheet
        name = row.get(sheet.column("name")) or ""
        unit_text = row.get(sheet.column("unit"))
        key = accent_free_key(_SECTION_PREFIX.sub("", name)).strip()
        amounts = self._amounts(row, factor)
        if _TOTAL_SPENDING.match(key):
            return self._total_spending(row, name, amounts, year)
        if _TOTAL_ROW.match(key):
            return []  # a total the table adds up; chiso adds the lines itself
        if unit_text is None and self._is_section(row, key, amounts):
            _enter_section(context, (row.get(sheet.column("number")) or "").strip(), key)
            return []
        if unit_text is None:
            if amounts:
                self.problem(row, sheet.column("unit"), "required",
                             "dòng có số tiền nhưng thiếu đơn vị chủ trì / chủ đầu tư",
                             "the row has amounts but no owner unit")
            return []
        return self._line(row, name, unit_text, context, amounts, year, lone_month)

    def _is_section(self, row: _Row, key: str, amounts: dict[Column, Decimal]) -> bool:
        """A heading (its amounts are subtotals): numbered I, II or A, B; or unnumbered and
        naming a source, type or area; or a row of text without amounts. A line numbered
        1, 2, 3 with amounts but no unit is a line with its unit missing."""
        number = (row.get(row.sheet.column("number")) or "").strip()
        return bool(_SECTION_NUMBER.match(number) or (not number and _section_terms(key))
                    or not amounts)

    def _amounts(self, row: _Row, factor: int) -> dict[Column, Decimal]:
        found: dict[Column, Decimal] = {}
        for column in row.sheet.columns:
            if not (column.field.startswith("stage:") or column.field == "month"):
                continue
            text = row.get(column)
            if text is None or text in _BLANK_AMOUNTS:
                continue
            try:
                parsed = parse_number(text)
            except NumberError:
                self.problem(row, column, "number_format",
                             f"'{text}' không phải là số tiền (ghi như 1.234,5)",
                             f"'{text}' is not an amount (write it as 1.234,5 or 1,234.5)")
                continue
            if parsed.percent:
                self.problem(row, column, "number_format",
                             f"'{text}' là tỷ lệ phần trăm, không phải số tiền",
                             f"'{text}' is a percentage, not an amount")
                continue
            found[column] = parsed.value * factor
        return found

    def _total_spending(self, row: _Row, name: str, amounts: dict[Column, Decimal],
                        year: int | None) -> list[FigureInput]:
        year = self._row_year(row, year)
        if year is None:
            return []
        line = LineSpec(scope_unit_id=self.scope_unit_id, unit_id=self.scope_unit_id,
                        year=year, name="Tổng chi ngân sách địa phương", kind=LineKind.TOTAL)
        return self._figures(row, line, amounts, None)

    def _line(self, row: _Row, name: str, unit_text: str, context: dict[str, str],
              amounts: dict[Column, Decimal], year: int | None,
              lone_month: int | None) -> list[FigureInput]:
        sheet = row.sheet
        year = self._row_year(row, year)
        unit_id = self._unit(row, unit_text, year)
        terms = {name_: self._term(row, name_, spellings, terms_, context)
                 for name_, spellings, terms_ in (("source", SOURCE_SPELLINGS, SOURCES),
                                                   ("spend_type", TYPE_SPELLINGS, SPEND_TYPES),
                                                   ("area", AREA_SPELLINGS, AREAS))}
        programme_id = self._programme(row)
        if not name:
            self.problem(row, sheet.column("name"), "required", "thiếu nội dung (tên dự án, "
                         "nhiệm vụ)", "the line has no name")
        if year is None or unit_id is None or None in terms.values() or programme_id == -1:
            return []
        line = LineSpec(scope_unit_id=self.scope_unit_id, unit_id=unit_id, year=year,
                        name=name, source=terms["source"] or "",
                        spend_type=terms["spend_type"] or "", area=terms["area"] or "",
                        programme_id=programme_id)
        if not self._first(row, line):
            return []
        return self._figures(row, line, amounts, lone_month)

    def _first(self, row: _Row, line: LineSpec) -> bool:
        earlier = self.seen.get(line.key())
        if earlier is not None:
            self.problem(row, row.sheet.column("name"), "duplicate_row",
                         f"trùng với dòng {earlier[1]} (cùng nội dung, đơn vị, nguồn vốn, loại "
                         "chi, lĩnh vực và năm)",
                         f"same line as row {earlier[1]} (same name, unit, source, type, "
                         "area and year)")
            return False
        self.seen[line.key()] = (row.sheet.name, row.number)
        return True

    def _figures(self, row: _Row, line: LineSpec, amounts: dict[Column, Decimal],
                 lone_month: int | None) -> list[FigureInput]:
        comment = row.get(row.sheet.column("comment")) or ""
        figures = []
        for column, amount in amounts.items():
            stage, period = self._stage_period(row, column, line, lone_month)
            if stage is None:
                continue
            if line.kind == LineKind.TOTAL and stage != Stage.ESTIMATE:
                continue  # only the total's estimate is the denominator of the share
            where = {"sheet": row.sheet.name, "row": row.number, "column": column.field,
                     "column_label": column.label}
            figures.append(FigureInput(line, stage, period, service.to_dong(amount, 1),
                                       comment, where))
        return figures

    def _stage_period(self, row: _Row, column: Column, line: LineSpec,
                      lone_month: int | None) -> tuple[str | None, str]:
        if column.field == "month":
            if column.year and column.year != line.year:
                self.problem(row, column, "period",
                             f"cột tháng {column.month}/{column.year} khác năm {line.year} "
                             "của dòng", f"month column {column.month}/{column.year} is not "
                             f"in the line's year {line.year}")
                return None, ""
            return Stage.DISBURSED, f"{line.year}{column.month:02d}"
        stage = column.field.removeprefix("stage:")
        if stage == Stage.DISBURSED:
            return (Stage.DISBURSED, f"{line.year}{lone_month:02d}") if lone_month else (
                None, "")
        return stage, str(line.year)

    def _row_year(self, row: _Row, year: int | None) -> int | None:
        column = row.sheet.column("year")
        text = row.get(column) if column is not None and not self.year_override else None
        if text is None:
            if year is None and column is not None:
                self.problem(row, column, "required", "thiếu năm", "the year is missing")
            return year
        if re.fullmatch(r"20\d\d", text.strip()):
            return int(text)
        self.problem(row, column, "year", f"năm '{text}' không hợp lệ (ghi 2026)",
                     f"year '{text}' is not valid (write 2026)")
        return None

    def _unit(self, row: _Row, text: str, year: int | None) -> int | None:
        found = self.units.find(text)
        column = row.sheet.column("unit")
        if isinstance(found, int):
            return found
        if found == "ambiguous":
            self.problem(row, column, "unit_ambiguous",
                         f"'{text}' khớp với nhiều đơn vị: ghi mã đơn vị",
                         f"'{text}' matches several units: write the unit code")
        else:
            self.problem(row, column, "unit_unknown",
                         f"không có đơn vị '{text}' trong tỉnh (ghi tên hoặc mã đơn vị như "
                         "trong danh mục)",
                         f"no unit '{text}' in the province (write the unit's name or code "
                         "as in the register)")
        return None

    def _term(self, row: _Row, column_name: str, spellings: dict[str, str],
              terms: dict[str, Any], context: dict[str, str]) -> str | None:
        column = row.sheet.column(column_name)
        text = row.get(column)
        if text is None:
            if column_name in context:
                return context[column_name]
            self.problem(row, column, "required",
                         f"thiếu {_WORDS[column_name][0]} (một trong: {allowed_words(terms)}): "
                         "ghi vào cột, hoặc trong dòng mục phía trên",
                         f"the {_WORDS[column_name][1]} is missing (one of: "
                         f"{', '.join(t.name_en for t in terms.values())}): write it in its "
                         "column or in a section row above", field=column_name)
            return None
        code = spellings.get(header_key(text)) or _contained(accent_free_key(text), spellings)
        if code is None:
            self.problem(row, column, "choice",
                         f"'{text}' không phải {_WORDS[column_name][0]} (một trong: "
                         f"{allowed_words(terms)})",
                         f"'{text}' is not a {_WORDS[column_name][1]} (one of: "
                         f"{', '.join(t.name_en for t in terms.values())})")
        return code

    def _programme(self, row: _Row) -> int | None:
        """The programme's id, None without one, -1 when the code is unknown."""
        column = row.sheet.column("programme")
        text = row.get(column)
        if text is None:
            return None
        programme = self.programmes.get(text.strip())
        if programme is None:
            self.problem(row, column, "programme_unknown",
                         f"không có chương trình, dự án mã '{text}' (đăng ký trước bằng "
                         "'chiso funding programmes')",
                         f"no programme or project with code '{text}' (register it first "
                         "with 'chiso funding programmes')")
            return -1
        return programme.id


_WORDS = {"source": ("nguồn vốn", "source of funds"), "spend_type": ("loại chi",
          "spending type"), "area": ("lĩnh vực", "area")}


def _contained(key: str, spellings: dict[str, str]) -> str | None:
    """'Chi đầu tư phát triển năm 2026' → investment: the longest spelling found inside."""
    compact = re.sub(r"[^a-z0-9]", "", key)
    for spelling in sorted(spellings, key=len, reverse=True):
        if len(spelling) >= 4 and spelling in compact:
            return spellings[spelling]
    return None


def _enter_section(context: dict[str, str], number: str, key: str) -> None:
    """A heading A, B … starts afresh (a new source); I, II … keep the source and start a
    new type or area; an unnumbered heading only adds what it names."""
    if re.fullmatch(r"[A-H][.)]?", number):
        context.clear()
    elif re.fullmatch(r"[IVX]{1,5}[.)]?", number):
        context.pop("spend_type", None)
        context.pop("area", None)
    context.update(_section_terms(key))


def _section_terms(key: str) -> dict[str, str]:
    """What a section heading sets for the rows below it ("A. Ngân sách địa phương",
    "I. Chi đầu tư phát triển", "Lĩnh vực chuyển đổi số")."""
    found = {}
    for name, spellings in (("source", SOURCE_SPELLINGS), ("spend_type", TYPE_SPELLINGS),
                            ("area", AREA_SPELLINGS)):
        code = _contained(key, spellings)
        if code:
            found[name] = code
    return found


def _stated_factor(titles: list[str]) -> int | None:
    """'Đơn vị tính: triệu đồng', 'ĐVT: Tr.đồng', '(tỷ đồng)' → the factor to đồng."""
    for text in titles:
        key = accent_free_key(text)
        if not ("don vi" in key or "dvt" in key or re.search(r"\((ty|trieu|nghin)", key)):
            continue
        match = _UNIT_PATTERN.search(key.split(":", 1)[-1])
        if match:
            prefix = (match.group(1) or "").rstrip(".")
            return {"ty": 10**9, "trieu": 10**6, "tr": 10**6, "nghin": 10**3,
                    "ngan": 10**3}.get(prefix, 1)
    return None


class _UnitIndex:
    """The province and its units, found by code, name or short name (any accents or
    tone style)."""

    def __init__(self, session: Session, scope_unit_id: int) -> None:
        ids = [scope_unit_id, *descendant_ids(session, scope_unit_id,
                                             on=get_settings().current_date())]
        self.by_key: dict[str, set[int]] = {}
        for start in range(0, len(ids), 400):
            for unit in session.scalars(select(OrgUnit).where(
                    OrgUnit.id.in_(ids[start:start + 400]))):
                for text in (unit.code, unit.name, unit.short_name):
                    if text:
                        self.by_key.setdefault(name_key(text), set()).add(unit.id)
                        self.by_key.setdefault(accent_free_key(text), set()).add(unit.id)

    def find(self, text: str) -> int | str:
        matches = self.by_key.get(name_key(text)) or self.by_key.get(accent_free_key(text))
        if not matches:
            return "unknown"
        return next(iter(matches)) if len(matches) == 1 else "ambiguous"


# ------------------------------------------------------------------ rules and rights


def _rule_errors(session: Session, figures: list[FigureInput], access: Access,
                 reading: _Reading) -> list[ImportIssue]:
    problems = service.figure_problems(figures, get_settings().current_date())
    lines = service.find_lines(session, [f.line for f in figures])
    problems += service.cumulative_problems(session, figures, lines)
    problems += _permission_problems(figures, access)
    return [_located(reading.file_name, p) for p in problems]


def _permission_problems(figures: list[FigureInput], access: Access) -> list[dict[str, Any]]:
    denied = {u for u in {f.line.unit_id for f in figures}
              if not service.may_capture(access, u)}
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for figure in figures:
        where = figure.row or {}
        key = (where.get("sheet", ""), where.get("row", 0))
        if figure.line.unit_id in denied and key not in rows:
            unit = access.session.get(OrgUnit, figure.line.unit_id)
            label = unit.name if unit else str(figure.line.unit_id)
            rows[key] = {**service.issue(
                "unit", "permission", f"bạn không có quyền nhập kinh phí cho {label}",
                f"you may not enter funding figures for {label}"), **where,
                "column": "unit", "column_label": ""}
    return list(rows.values())


def _located(file_name: str, problem: dict[str, Any]) -> ImportIssue:
    return ImportIssue(file_name, problem.get("sheet", ""), problem.get("row"),
                       problem.get("column", ""), problem["rule"], problem["message_vi"],
                       problem["message_en"], problem.get("column_label", ""))


STAGE_LABELS = {code: (term.name_vi, term.name_en) for code, term in STAGES.items()}

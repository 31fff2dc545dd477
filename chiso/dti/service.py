"""DTI services: framework versions, published results, rankings, profiles, what-if,
bottlenecks, sensitivity and merged provinces. The arithmetic lives in `engine.py`; this
module moves data between the database and the engine's matrices."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.audit.service import record_event
from chiso.dti import engine
from chiso.dti.framework import (
    DATA_DIR,
    PUBLISHED_MANIFEST,
    Framework,
    FrameworkError,
    FrameworkNotFound,
    Node,
    load_framework_file,
    parse_framework,
    shipped_framework_files,
)
from chiso.dti.models import DtiFramework, DtiResult
from chiso.errors import NotFound, UserError
from chiso.text import NumberStyle, accent_free_key, nfc, parse_number, unguard_cell

TOTAL = "_TOTAL"
RANK = "_RANK"
MERGED = "merged"  # a results table republished over today's (merged) units
ASSESSMENT = "assessment"  # leaf values from the self-assessment rounds, not results
ILLUSTRATIVE = "demo"  # the source of invented figures starts with this word
PUBLISHED_TOLERANCE = 0.0001


class ImportRejected(UserError):
    """An import was refused as a whole; `errors` are bilingual, one per problem (each
    names the file, sheet, row, column and rule), and are the error's `issues`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        text = "\n".join(errors)
        super().__init__(text, text, issues=errors)


class NoResults(NotFound):
    """A unit has no results for the year asked (404)."""


# ------------------------------------------------------------------ frameworks


@dataclass
class LoadResult:
    code: str
    version: int
    created: bool


def load_framework(session: Session, framework: Framework, *, access: Access,
                   dry_run: bool = False) -> LoadResult:
    """Store a framework version. Same text again → nothing changes; changed text under an
    existing code → a new version (the old one is kept, no longer current). Frameworks
    are shared by every unit: MANAGE without a unit (the standing office, an admin)."""
    access.require(Action.MANAGE)
    rows = session.scalars(select(DtiFramework).where(DtiFramework.code == framework.code)
                           .order_by(DtiFramework.version)).all()
    same = next((r for r in rows if r.sha256 == framework.sha256), None)
    if same is not None:
        return LoadResult(framework.code, same.version, created=False)
    version = max([framework.version] + [r.version + 1 for r in rows])
    if dry_run:
        return LoadResult(framework.code, version, created=True)
    session.execute(update(DtiFramework).where(DtiFramework.code == framework.code)
                    .values(is_current=False))
    row = DtiFramework(
        code=framework.code, version=version, name_vi=framework.name_vi,
        name_en=framework.name_en, level=framework.level,
        valid_from_year=framework.valid_from_year, valid_to_year=framework.valid_to_year,
        legal_basis=framework.legal_basis, is_sample=framework.is_sample, is_current=True,
        sha256=framework.sha256, source_text=framework.source_text,
        loaded_by=getattr(access.actor, "username", None) or "system",
    )
    session.add(row)
    session.flush()
    record_event(session, action="dti.framework.load", object_type="dti_framework",
                 object_id=row.id, actor=access.actor,
                 after={"code": row.code, "version": version, "sha256": row.sha256})
    return LoadResult(framework.code, version, created=True)


def load_framework_path(session: Session, path: Path, *, access: Access,
                        dry_run: bool = False) -> LoadResult:
    return load_framework(session, load_framework_file(path), access=access, dry_run=dry_run)


def load_shipped_frameworks(session: Session) -> None:
    """Reference loader: the shipped frameworks, idempotent (audited as system:reference)."""
    access = Access.system(session, "reference")
    for path in shipped_framework_files():
        load_framework_path(session, path, access=access)


def load_published_results(session: Session) -> int:
    """Reference loader: the published DTI tables shipped in chiso/dti/data (only figures
    found, each row with its document). A table is (re)loaded unless it already holds
    figures from another source — a user's import or the demo's — which are never
    overwritten. Returns the number of files loaded."""
    access = Access.system(session, "reference")
    manifest = yaml.safe_load((DATA_DIR / PUBLISHED_MANIFEST).read_text(encoding="utf-8"))
    loaded = 0
    for entry in manifest:
        path, basis = DATA_DIR / entry["file"], entry.get("basis", "")
        shipped = _table_sources(path)
        existing = set(session.scalars(select(DtiResult.source).where(
            DtiResult.framework_code == entry["framework"], DtiResult.year == entry["year"],
            DtiResult.basis == basis, DtiResult.is_current).distinct()))
        if existing - shipped:
            continue
        import_results(session, path, framework_code=entry["framework"], year=entry["year"],
                       basis=basis, access=access)
        loaded += 1
    return loaded


def _table_sources(path: Path) -> set[str]:
    """The documents a results table's 'Nguồn' column names."""
    rows = read_table(path)[1]
    column = next(i for i, h in enumerate(rows[0]) if _header_key(h) in SOURCE_HEADERS)
    return {nfc(str(r[column])).strip() for r in rows[1:] if len(r) > column}


def current_frameworks(session: Session) -> list[Framework]:
    rows = session.scalars(select(DtiFramework).where(DtiFramework.is_current)
                           .order_by(DtiFramework.level, DtiFramework.valid_from_year)).all()
    return [_parse_row(r) for r in rows]


# A stored framework version never changes (a changed text is a new version), so its parsed
# tree is kept per (code, version, sha256): parsing the YAML was ~90 % of a ranking page.
_PARSED: dict[tuple[str, int, str], Framework] = {}


def _parse_row(row: DtiFramework) -> Framework:
    key = (row.code, row.version, row.sha256)
    if key not in _PARSED:
        parsed = parse_framework(row.source_text, source=f"{row.code} v{row.version}")
        # The stored version number wins over the one written in the file.
        _PARSED[key] = Framework(**{**parsed.__dict__, "version": row.version})
    return _PARSED[key]


def get_framework(session: Session, code: str) -> Framework:
    row = session.scalar(select(DtiFramework).where(DtiFramework.code == code,
                                                    DtiFramework.is_current))
    if row is None:
        raise FrameworkNotFound(f"Không có khung chỉ số '{code}' (chiso dti framework list)",
                                f"no framework '{code}' (chiso dti framework list)")
    return _parse_row(row)


def framework_for_year(session: Session, year: int, level: str = "province") -> Framework:
    """The current framework of a level covering a year, preferring one with results."""
    candidates = [f for f in current_frameworks(session) if f.level == level and f.covers(year)]
    with_data = [f for f in candidates if _has_results(session, f.code, year)]
    chosen = (with_data or candidates)
    if not chosen:
        raise FrameworkNotFound(f"Không có khung chỉ số cấp {level} cho năm {year}",
                                f"no {level} framework covers {year}")
    return sorted(chosen, key=lambda f: f.is_sample)[0]


def _has_results(session: Session, code: str, year: int, basis: str | None = None) -> bool:
    query = select(DtiResult.id).where(DtiResult.framework_code == code,
                                       DtiResult.year == year, DtiResult.is_current)
    if basis is not None:
        query = query.where(DtiResult.basis == basis)
    return session.scalar(query.limit(1)) is not None


# ------------------------------------------------------------------ importing results

UNIT_CODE_HEADERS = {"ma", "ma tinh", "ma don vi", "code", "unit code", "unit_code", "ma_tinh"}
UNIT_NAME_HEADERS = {"ten", "tinh", "ten tinh", "ten_tinh", "don vi", "ten don vi", "name",
                     "unit name", "unit_name", "tinh/thanh pho", "tinh, thanh pho"}
TOTAL_HEADERS = {"dti", "_total", "total", "tong", "chi so dti", "diem dti", "tong diem"}
RANK_HEADERS = {"xep hang", "rank", "_rank", "thu hang"}
YEAR_HEADERS = {"nam", "year"}
SOURCE_HEADERS = {"nguon", "source", "nguon so lieu"}
BASES = ("", MERGED)


@dataclass
class ResultsImport:
    file: str
    framework_code: str
    years: list[int]
    units: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False
    batch_id: str = ""
    # Rows whose name differs from the unit register's: the register's name is the one
    # shown everywhere (an imported file never renames a unit); these are for the reader.
    name_warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ResultRecord:
    """One cell of a results table: a unit's value of one node in one year."""

    year: int
    code: str
    name: str  # as written in the file (kept for the record, never shown as the name)
    node: str
    value: float | None
    source: str  # the row's own source column, else the file's


def read_table(path: Path) -> tuple[str, list[list[Any]], int]:
    """(sheet name, rows, number of the first row) from CSV or the first XLSX sheet.
    Lines starting with '#' in a CSV are comments (e.g. the sample's label). A cell that
    chiso guarded against formula injection on export reads back as typed."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [[unguard_cell(c) for c in r] for r in sheet.iter_rows(values_only=True)]
        book.close()
        return sheet.title, rows, 1
    text = path.read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    skipped = 0
    while skipped < len(lines) and lines[skipped].lstrip().startswith("#"):
        skipped += 1
    dialect = csv.Sniffer().sniff(lines[skipped] if skipped < len(lines) else ",",
                                  delimiters=",;\t")
    rows = list(csv.reader(io.StringIO("\n".join(lines[skipped:])), dialect))
    return "", [[unguard_cell(c) for c in r] for r in rows], skipped + 1


def _header_key(value: Any) -> str:
    return " ".join(accent_free_key(nfc(str(value or ""))).replace("_", " ").split())


def import_results(session: Session, path: Path, *, framework_code: str, access: Access,
                   year: int | None = None, source: str = "", basis: str = "",
                   dry_run: bool = False) -> ResultsImport:
    """Import a published ranking table: one row per unit, one column per main indicator
    (by code or Vietnamese name), optionally the published total and rank, and a source
    column ('Nguồn') when rows come from different documents. `basis='merged'` marks a
    table republished over today's (merged) units, kept apart from the table of the units
    as assessed that year. All-or-nothing; importing the same file again changes nothing.
    Published results are shared by every unit: MANAGE without a unit."""
    access.require(Action.MANAGE)
    if basis not in BASES:
        raise UserError(f"basis '{basis}' không hợp lệ (để trống hoặc '{MERGED}')",
                        f"basis '{basis}' is not valid (empty or '{MERGED}')")
    framework = get_framework(session, framework_code)
    sheet, rows, first_row = read_table(path)
    where = path.name + (f", sheet '{sheet}'" if sheet else "")
    records, errors = _parse_result_rows(framework, rows, first_row, where, year,
                                         source or path.name)
    if errors:
        raise ImportRejected(errors)
    years = sorted({r.year for r in records})
    summary = ResultsImport(path.name, framework.code, years, len({r.code for r in records}),
                            dry_run=dry_run, batch_id=uuid.uuid4().hex[:16])
    summary.name_warnings = _name_warnings(session, records, where)
    _store_results(session, framework.code, basis, records, summary, access)
    return summary


def _parse_result_rows(framework: Framework, rows: list[list[Any]], first_row: int,
                       where: str, year: int | None, source: str
                       ) -> tuple[list[ResultRecord], list[str]]:
    if not rows:
        return [], [f"{where}: tệp rỗng / the file is empty"]
    columns = _map_columns(framework, rows[0], where)
    if isinstance(columns, list):
        return [], columns
    errors: list[str] = []
    if year is None and "year" not in columns:
        errors.append(f"{where}: cần cột 'Năm' hoặc tùy chọn --year / a 'Year' column or "
                      "--year is needed")
        return [], errors
    records: list[ResultRecord] = []
    for offset, row in enumerate(rows[1:], start=1):
        line = first_row + offset
        if not any(str(c or "").strip() for c in row):
            continue
        if _overflows(row, rows[0]):
            errors.append(_overflow_message(where, line, len(rows[0]), len(row)))
            continue
        records += _parse_result_row(framework, row, rows[0], columns, (where, line), year,
                                     source, errors)
    seen: set[tuple[int, str, str]] = set()
    for record in records:
        if (record.year, record.code, record.node) in seen:
            errors.append(f"{where}: đơn vị '{record.code}' năm {record.year} xuất hiện hai lần"
                          f" / unit '{record.code}' appears twice for {record.year}")
            break
        seen.add((record.year, record.code, record.node))
    return records, errors


def _parse_result_row(framework: Framework, row: list[Any], header: list[Any],
                      columns: dict[str, Any], place: tuple[str, int], year: int | None,
                      source: str, errors: list[str]) -> list[ResultRecord]:
    where, line = place
    code = nfc(str(_cell(row, columns["code"]) or "")).strip()
    if not code:
        errors.append(f"{where}, dòng {line}: thiếu mã đơn vị / row {line}: unit code missing")
        return []
    name = nfc(str(_cell(row, columns.get("name")) or "")).strip()
    row_source = nfc(str(_cell(row, columns.get("source")) or "")).strip() or source
    row_year = year
    if "year" in columns:
        row_year = _parse_year(_cell(row, columns["year"]), where, line, errors)
    found = []
    for node_code, index in columns["nodes"].items():
        value = _parse_value(_cell(row, index), where, line, str(header[index]), errors)
        if node_code != RANK and not _in_range(framework, value):
            low, high = framework.value_range  # type: ignore[misc]
            errors.append(f"{where}, dòng {line}, cột '{header[index]}': {value:g} ngoài "
                          f"khoảng {low:g}–{high:g} của khung (quy tắc: value_range) / row "
                          f"{line}, column '{header[index]}': {value:g} outside "
                          f"{low:g}–{high:g}")
        if row_year is not None:
            found.append(ResultRecord(row_year, code, name, node_code, value, row_source))
    return found


def _in_range(framework: Framework, value: float | None) -> bool:
    if value is None or framework.value_range is None:
        return True
    low, high = framework.value_range
    return low <= value <= high


def _overflows(row: list[Any], header: list[Any]) -> bool:
    """More filled cells than headed columns: typically an unquoted "76,6" in a CSV."""
    return any(str(c or "").strip() for c in row[len(header):])


def _overflow_message(where: str, line: int, expected: int, found: int) -> str:
    return (f"{where}, dòng {line}: có {found} ô nhưng tiêu đề chỉ có {expected} cột (số thập "
            f"phân có dấu phẩy trong CSV phải đặt trong ngoặc kép) / row {line}: {found} cells "
            f"but the header has {expected} columns (quote decimal commas in CSV)")


def _cell(row: list[Any], index: int | None) -> Any:
    return row[index] if index is not None and index < len(row) else None


def _map_columns(framework: Framework, header: list[Any], where: str
                 ) -> dict[str, Any] | list[str]:
    by_key = {}
    for node in framework.main_indicators or framework.leaves:
        by_key[_header_key(node.code)] = node.code
        by_key[_header_key(node.name_vi)] = node.code
    fixed = [(UNIT_CODE_HEADERS, "code"), (UNIT_NAME_HEADERS, "name"), (YEAR_HEADERS, "year"),
             (SOURCE_HEADERS, "source")]
    columns: dict[str, Any] = {"nodes": {}}
    unknown = []
    for index, raw in enumerate(header):
        key = _header_key(raw)
        if not key:
            continue
        role = next((name for keys, name in fixed if key in keys), None)
        if role:
            columns[role] = index
        elif key in TOTAL_HEADERS:
            columns["nodes"][TOTAL] = index
        elif key in RANK_HEADERS:
            columns["nodes"][RANK] = index
        elif key in by_key:
            columns["nodes"][by_key[key]] = index
        else:
            unknown.append(str(raw))
    errors = []
    if "code" not in columns:
        errors.append(f"{where}, dòng 1: thiếu cột mã đơn vị ('Mã tỉnh') / row 1: no unit code "
                      "column ('Mã tỉnh')")
    if unknown:
        known = ", ".join(n.code for n in framework.main_indicators or framework.leaves)
        errors.append(f"{where}, dòng 1: cột không nhận ra {unknown} — dùng mã hoặc tên chỉ số "
                      f"chính ({known}) / row 1: unrecognised columns {unknown} — use main "
                      "indicator codes or names")
    return errors or columns


def _parse_year(raw: Any, where: str, line: int, errors: list[str]) -> int | None:
    try:
        return int(float(str(raw).strip()))
    except ValueError:
        errors.append(f"{where}, dòng {line}, cột 'Năm': '{raw}' không phải năm / row {line}, "
                      f"column 'Year': '{raw}' is not a year")
        return None


# Published DTI tables write the decimal point ("0.8002"), Vietnamese files and forms the
# decimal comma ("0,8002"): DTI figures are read in chiso.text's 'dot' style, where a lone
# '.' is always the decimal point ("1.234" is 1.234; in values it is 1234).
DTI_NUMBERS = NumberStyle.DOT_DECIMAL


def table_number(raw: Any) -> float:
    """A DTI figure from a table, a form or the CLI, as a float ('%' kept as written).
    Raises NumberError (a UserError)."""
    return float(parse_number(raw, DTI_NUMBERS).value)


def _parse_value(raw: Any, where: str, line: int, column: str, errors: list[str]
                 ) -> float | None:
    if raw is None or str(raw).strip() in ("", "-", "–"):
        return None
    try:
        return table_number(raw)
    except (ValueError, ArithmeticError):
        errors.append(f"{where}, dòng {line}, cột '{column}': '{raw}' không phải số (quy tắc: "
                      f"giá trị số) / row {line}, column '{column}': '{raw}' is not a number")
        return None


def _name_warnings(session: Session, records: list[ResultRecord], where: str) -> list[str]:
    """Rows naming a unit differently from the register (e.g. code 20 written 'Hà Nội'):
    the register's name is shown, the file's is kept for the record, the reader is told."""
    written = {r.code: r.name for r in records if r.name}
    known = register_names(session, list(written))
    warnings = []
    for code, name in sorted(written.items()):
        official = known.get(code)
        if official and not _same_place(name, official):
            warnings.append(f"{where}: mã '{code}' ghi tên '{name}', sổ đơn vị ghi "
                            f"'{official}' — hiển thị theo sổ đơn vị / code '{code}' is named "
                            f"'{name}' in the file and '{official}' in the unit register — "
                            "the register's name is shown")
    return warnings


PLACE_PREFIXES = ("thanh pho ", "tp. ", "tp.", "tp ", "tinh ")


def _same_place(a: str, b: str) -> bool:
    """'TP. Hồ Chí Minh' = 'Thành phố Hồ Chí Minh' = 'Hồ Chí Minh'; 'Thừa Thiên - Huế'
    and 'Huế' are left to the reader (a warning, nothing refused)."""
    def key(text: str) -> str:
        folded = " ".join(accent_free_key(text).replace("-", " ").split())
        for prefix in PLACE_PREFIXES:
            if folded.startswith(prefix):
                folded = folded[len(prefix):].strip()
        return folded
    return key(a) == key(b)


def _store_results(session: Session, framework_code: str, basis: str,
                   records: list[ResultRecord], summary: ResultsImport,
                   access: Access) -> None:
    years = summary.years
    existing = {(r.year, r.unit_code, r.node_code): r for r in session.scalars(
        select(DtiResult).where(DtiResult.framework_code == framework_code,
                                DtiResult.basis == basis,
                                DtiResult.year.in_(years), DtiResult.is_current))}
    inserts, superseded = [], []
    for record in records:
        old = existing.get((record.year, record.code, record.node))
        # The same figure again is unchanged, whichever file it came in — unless a real
        # figure replaces an invented one (or back): then its source must change.
        if old is not None and _same(old.value, record.value) \
                and is_illustrative(old.source) == is_illustrative(record.source) \
                and (old.unit_name == record.name or not record.name):
            summary.unchanged += 1
            continue
        if old is not None:
            superseded.append(old.id)
            summary.updated += 1
        else:
            summary.inserted += 1
        inserts.append({"framework_code": framework_code, "year": record.year,
                        "basis": basis, "unit_code": record.code, "unit_name": record.name,
                        "node_code": record.node, "value": record.value,
                        "source": record.source[:300], "batch_id": summary.batch_id,
                        "is_current": True, "created_at": dt.datetime.now(dt.UTC)})
    if summary.dry_run or not inserts:
        return
    if superseded:
        session.execute(update(DtiResult).where(DtiResult.id.in_(superseded))
                        .values(is_current=False))
    session.execute(insert(DtiResult), inserts)
    record_event(session, action="dti.results.import", object_type="dti_result",
                 object_id=summary.batch_id, actor=access.actor,
                 after={"framework": framework_code, "years": str(years), "file": summary.file,
                        "basis": basis, "inserted": summary.inserted,
                        "updated": summary.updated})


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-12)


# ------------------------------------------------------------------ matrices and rankings


def is_illustrative(source: str) -> bool:
    """Invented figures (the demo's) carry a source that says so: 'demo' or 'demo: …'.
    Pages, the API and the CLI mark every figure computed from one."""
    head = source.strip().lower()
    return head == ILLUSTRATIVE or head.startswith((f"{ILLUSTRATIVE}:", f"{ILLUSTRATIVE} "))


@dataclass
class ResultMatrix:
    framework: Framework
    year: int
    unit_codes: list[str]
    unit_names: list[str]
    raw: np.ndarray  # (U, L) leaf values
    published_total: np.ndarray  # (U,) NaN where not published
    published_rank: np.ndarray
    # (U, L + 2): which leaf values, published totals and ranks are invented (demo)
    invented: np.ndarray | None = None
    sources: list[str] = field(default_factory=list)  # the real documents behind the table
    basis: str = ""  # "" = the units as assessed that year; MERGED, ASSESSMENT

    def row_of(self, unit_code: str) -> int:
        try:
            return self.unit_codes.index(unit_code)
        except ValueError as exc:
            raise NoResults(f"Không có kết quả của đơn vị '{unit_code}' năm {self.year}",
                            f"no results for unit '{unit_code}' in {self.year}") from exc

    def illustrative(self) -> np.ndarray:
        """(U,) whether anything shown for the unit is invented."""
        if self.invented is None:
            return np.zeros(len(self.unit_codes), dtype=bool)
        return np.asarray(self.invented.any(axis=1), dtype=bool)


def register_names(session: Session, codes: list[str], on: dt.date | None = None
                   ) -> dict[str, str]:
    """Unit names as the register knows them ('Lạng Sơn', the short name where there is
    one): the version valid on `on`, else the latest. An imported file never renames a
    unit: its names are kept for the record only."""
    from chiso.units.models import OrgUnit

    if not codes:
        return {}
    rows = session.execute(select(OrgUnit.code, OrgUnit.short_name, OrgUnit.name,
                                  OrgUnit.valid_from, OrgUnit.valid_to)
                           .where(OrgUnit.code.in_(codes))
                           .order_by(OrgUnit.code, OrgUnit.valid_from)).all()
    chosen: dict[str, Any] = {}
    for row in rows:  # by valid_from: a later version replaces an earlier one …
        current = chosen.get(row.code)
        if on is not None and current is not None and _valid_on(current, on) \
                and not _valid_on(row, on):
            continue  # … unless the earlier one is the one valid on `on`
        chosen[row.code] = row
    return {code: row.short_name or row.name for code, row in chosen.items()}


def _valid_on(row: Any, day: dt.date) -> bool:
    return bool(row.valid_from <= day and (row.valid_to is None or day <= row.valid_to))


def result_matrix(session: Session, framework: Framework, year: int, *, basis: str = ""
                  ) -> ResultMatrix:
    rows = session.execute(select(DtiResult.unit_code, DtiResult.unit_name,
                                  DtiResult.node_code, DtiResult.value, DtiResult.source).where(
        DtiResult.framework_code == framework.code, DtiResult.year == year,
        DtiResult.basis == basis, DtiResult.is_current)).all()
    units = sorted({r.unit_code for r in rows})
    written = {r.unit_code: r.unit_name for r in rows if r.unit_name}
    on = None if basis == MERGED else dt.date(year, 12, 31)
    names = {**written, **register_names(session, units, on)}
    leaves = [leaf.code for leaf in framework.leaves]
    columns = {code: i for i, code in enumerate([*leaves, TOTAL, RANK])}
    position = {code: i for i, code in enumerate(units)}
    table = np.full((len(units), len(columns)), np.nan)
    invented = np.zeros(table.shape, dtype=bool)
    for r in rows:
        if r.node_code in columns and r.value is not None:
            table[position[r.unit_code], columns[r.node_code]] = r.value
            invented[position[r.unit_code], columns[r.node_code]] = is_illustrative(r.source)
    sources = sorted({r.source for r in rows if r.source and not is_illustrative(r.source)})
    return ResultMatrix(framework, year, units, [names.get(u, u) for u in units],
                        table[:, :len(leaves)], table[:, columns[TOTAL]],
                        table[:, columns[RANK]], invented, sources, basis)


def successors(session: Session) -> dict[str, tuple[str, str]]:
    """Predecessor code → (code, name) of today's unit it merged into (merge, absorb,
    rename); a unit absent from the map is its own successor."""
    from chiso.units.models import OrgUnit, UnitLineage

    pred = select(OrgUnit.code.label("pred_code"), UnitLineage.successor_id).join(
        UnitLineage, UnitLineage.predecessor_id == OrgUnit.id).where(
        UnitLineage.kind.in_(["merge", "absorb", "rename"])).subquery()
    links = session.execute(select(pred.c.pred_code, OrgUnit.code, OrgUnit.short_name,
                                   OrgUnit.name).join(
        OrgUnit, OrgUnit.id == pred.c.successor_id)).all()
    return {p: (code, short or name) for p, code, short, name in links}


def merged_matrix(session: Session, matrix: ResultMatrix) -> ResultMatrix:
    """Re-express a year's results over today's units: a merged unit's leaf values are the
    arithmetic mean of its predecessors' (DESIGN §5.4); units without lineage stay as they are.
    """
    successor = successors(session)
    targets = [successor.get(u, (u, n)) for u, n in zip(matrix.unit_codes, matrix.unit_names,
                                                         strict=True)]
    new_codes = sorted({code for code, _ in targets})
    names = {**dict(targets), **register_names(session, new_codes)}
    group = np.array([new_codes.index(code) for code, _ in targets], dtype=int)
    present = ~np.isnan(matrix.raw)
    total = np.zeros((len(new_codes), matrix.raw.shape[1]))
    count = np.zeros_like(total)
    np.add.at(total, group, np.where(present, matrix.raw, 0.0))
    np.add.at(count, group, present.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = total / count
    merged = np.bincount(group, minlength=len(new_codes)) > 1
    # A merged unit has no published total or rank of its own; nor has anyone a rank
    # among today's units until one is published (basis 'merged').
    published = np.full(len(new_codes), np.nan)
    singles = {g: i for i, g in enumerate(group)}
    for g in range(len(new_codes)):
        if not merged[g]:
            published[g] = matrix.published_total[singles[g]]
    invented = np.zeros((len(new_codes), matrix.raw.shape[1] + 2), dtype=int)
    if matrix.invented is not None:
        np.add.at(invented, group, matrix.invented.astype(int))
    return ResultMatrix(matrix.framework, matrix.year, new_codes,
                        [names[c] for c in new_codes], raw, published,
                        np.full(len(new_codes), np.nan), invented > 0, matrix.sources, MERGED)


@dataclass
class Ranking:
    framework: Framework
    year: int
    codes: list[str]  # node codes in the engine's order (root first)
    unit_codes: list[str]
    unit_names: list[str]
    scores: np.ndarray  # (U, N)
    ranks: np.ndarray  # (U, N) competition ranks per node
    total_source: str  # "computed" or "published"
    published_total: np.ndarray
    published_rank: np.ndarray
    previous_rank: np.ndarray  # (U,) NaN where unknown
    previous_total: np.ndarray
    matrix: ResultMatrix | None = None
    cf: engine.CompiledFramework | None = None
    units_in_field: int | None = None  # units ranked when the table is partial (34, 63)
    computed_total: np.ndarray | None = None  # the engine's index, before published ones
    computed_rank: np.ndarray | None = None  # the rank of the shown index among these units

    @property
    def computed(self) -> np.ndarray:
        """The engine's own index of every unit (the check against what was published)."""
        return self.total if self.computed_total is None else self.computed_total

    @property
    def total(self) -> np.ndarray:
        return self.scores[:, 0]

    def field_size(self) -> int:
        """'Rank 17/34': how many units the ranks are among."""
        ranked = int(np.sum(~np.isnan(self.rank)))
        return max(ranked, self.units_in_field or 0, int(np.nanmax(self.rank, initial=0)))

    @property
    def rank(self) -> np.ndarray:
        return self.ranks[:, 0]

    @property
    def decimals(self) -> int | None:
        return self.framework.rank_decimals

    def shown(self, values: np.ndarray | float) -> np.ndarray:
        """Values at the published precision (half up), as shown and as ranked."""
        return engine.published(values, self.decimals)

    def illustrative(self) -> np.ndarray:
        """(U,) whether a unit's row holds an invented figure."""
        if self.matrix is None:
            return np.zeros(len(self.unit_codes), dtype=bool)
        return self.matrix.illustrative()

    @property
    def any_illustrative(self) -> bool:
        return bool(self.illustrative().any())

    @property
    def sources(self) -> list[str]:
        return self.matrix.sources if self.matrix else []

    @property
    def basis(self) -> str:
        return self.matrix.basis if self.matrix else ""

    def rows(self) -> list[dict[str, Any]]:
        """Rows ordered by rank, ready for tables and JSON. `total` and the node scores are
        at the published precision (what the ranks are taken on); `total_exact` is not."""
        fw = self.framework
        show = [c for c in self.codes[1:] if fw.nodes[c].main or c in fw.root.children]
        order = np.argsort(np.where(np.isnan(self.rank), np.inf, self.rank), kind="stable")
        shown = self.shown(self.scores)
        invented = self.illustrative()
        # A real row's rank on one indicator among a field holding invented figures would
        # itself be invented: it is left out.
        node_ranks = self.ranks.copy()
        if invented.any():
            node_ranks[~invented, 1:] = np.nan
        result = []
        for i in order:
            prev = self.previous_rank[i]
            result.append({
                "unit_code": self.unit_codes[i], "unit_name": self.unit_names[i],
                "total": _f(shown[i, 0]), "total_exact": _f(self.total[i]),
                "rank": _i(self.rank[i]), "points": _f(self.total[i] * fw.total_points),
                "previous_rank": _i(prev), "previous_total": _f(self.previous_total[i]),
                "rank_change": _i(prev - self.rank[i]),
                "published_total": _f(self.published_total[i]),
                "published_rank": _i(self.published_rank[i]),
                "illustrative": bool(invented[i]),
                "nodes": {c: {"score": _f(shown[i, self.codes.index(c)]),
                              "rank": _i(node_ranks[i, self.codes.index(c)])} for c in show},
            })
        return result


def _f(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)


def _i(value: float) -> int | None:
    return None if value is None or np.isnan(value) else int(value)


def rank_matrix(matrix: ResultMatrix, *, weights: dict[str, float] | None = None) -> Ranking:
    """Scores and competition ranks at every node, on values at the published precision.
    When the framework's official weights are unknown, the total is the published one and
    the overall rank is the published rank where one was published (a partial table —
    eight provinces of 34 — must not re-rank them 1 to 8), else the rank of that total."""
    fw = matrix.framework
    decimals = fw.rank_decimals
    codes = list(fw.nodes)
    computed = None
    if fw.weights_known or weights:
        cf = engine.compile_framework(fw, weights)
        scores = engine.compute(cf, matrix.raw)
        source = "computed"
        # A published index is what people read (the ministry computes it from the
        # sub-indicators, so recomputing from the rounded main indicators can differ in
        # the last digit: TP. Hồ Chí Minh 2022 0,71636 vs the published 0,7163). Shown and
        # ranked: the published index where there is one, ours elsewhere.
        computed = scores[:, 0].copy()
        known = ~np.isnan(matrix.published_total)
        scores[known, 0] = matrix.published_total[known]
    else:
        cf = None
        scores = np.full((len(matrix.unit_codes), len(codes)), np.nan)
        leaf_positions = [codes.index(leaf.code) for leaf in fw.leaves]
        scores[:, leaf_positions] = matrix.raw
        scores[:, 0] = matrix.published_total
        source = "published"
    ranks = engine.competition_rank(scores.T, decimals=decimals).T
    computed_rank = ranks[:, 0].copy()
    # The rank shown is the published one where there is one: a partial table (eight
    # provinces of 34, or Trà Vinh's index without its neighbours') must not re-rank its
    # rows 1 to 8. `check_against_published` compares the two where the table is whole.
    ranks[:, 0] = np.where(np.isnan(matrix.published_rank), computed_rank,
                           matrix.published_rank)
    none = np.full(len(matrix.unit_codes), np.nan)
    return Ranking(fw, matrix.year, codes, matrix.unit_codes, matrix.unit_names, scores, ranks,
                   source, matrix.published_total, matrix.published_rank, none, none.copy(),
                   matrix, cf, computed_total=computed, computed_rank=computed_rank)


def ranking(session: Session, *, year: int, framework_code: str | None = None,
            level: str = "province", merged: bool = False, source: str = "results"
            ) -> Ranking:
    """The ranking of a year, with each unit's change from the previous year.

    source='results': imported/published values; source='assessment': the self-assessment
    rounds of that framework and year, each criterion's appraised score (else its self
    score) as the leaf value — so a criterion's score can be put through what-if.
    merged=True: over today's units — the table republished for them where there is one
    (DTI 2024 for the 34 provinces), else the mean of the predecessors' main indicators."""
    fw = get_framework(session, framework_code) if framework_code else framework_for_year(
        session, year, level)
    if source == "assessment":
        return rank_matrix(assessment_matrix(session, fw, year))
    result = rank_matrix(year_matrix(session, fw, year, merged=merged))
    if fw.level == "province" and not np.all(np.isnan(result.published_rank)):
        day = dt.date(2025, 7, 1) if result.basis == MERGED else dt.date(year, 12, 31)
        result.units_in_field = _province_count(session, max(day, dt.date(year, 12, 31)))
    _attach_previous(session, result, level=fw.level, merged=merged)
    return result


def _province_count(session: Session, day: dt.date) -> int:
    """How many provinces the register has on a day (63 before 1/7/2025, 34 after)."""
    from chiso.units.models import OrgUnit, UnitKind

    level_one = select(UnitKind.code).where(UnitKind.level == 1)
    return int(session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.kind.in_(level_one), OrgUnit.valid_from <= day,
        (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= day))) or 0)


def year_matrix(session: Session, framework: Framework, year: int, *, merged: bool = False
                ) -> ResultMatrix:
    """A year's results as assessed, or over today's units (`merged`)."""
    if merged and _has_results(session, framework.code, year, basis=MERGED):
        return result_matrix(session, framework, year, basis=MERGED)
    matrix = result_matrix(session, framework, year)
    return merged_matrix(session, matrix) if merged else matrix


def assessment_matrix(session: Session, framework: Framework, year: int) -> ResultMatrix:
    """Leaf values from the self-assessment rounds: appraised score, else self score."""
    from chiso.dti.models import DtiAssessment, DtiCriterion

    rows = session.execute(select(DtiAssessment.unit_code, DtiCriterion.code,
                                  DtiCriterion.self_score, DtiCriterion.appraised_score).join(
        DtiCriterion, DtiCriterion.assessment_id == DtiAssessment.id).where(
        DtiAssessment.framework_code == framework.code, DtiAssessment.year == year)).all()
    units = sorted({r.unit_code for r in rows})
    names = register_names(session, units)
    leaves = [leaf.code for leaf in framework.leaves]
    raw = np.full((len(units), len(leaves)), np.nan)
    for r in rows:
        value = r.appraised_score if r.appraised_score is not None else r.self_score
        if r.code in leaves and value is not None:
            raw[units.index(r.unit_code), leaves.index(r.code)] = value
    none = np.full(len(units), np.nan)
    return ResultMatrix(framework, year, units, [names.get(u, u) for u in units], raw, none,
                        none.copy(), basis=ASSESSMENT)


def _attach_previous(session: Session, result: Ranking, *, level: str, merged: bool) -> None:
    try:
        previous_fw = framework_for_year(session, result.year - 1, level)
    except FrameworkError:
        return
    previous = year_matrix(session, previous_fw, result.year - 1, merged=merged)
    if not previous.unit_codes:
        return
    try:
        before = rank_matrix(previous)
    except FrameworkError:
        return
    # A real row never shows a change computed from invented figures.
    lookup = {code: i for i, code in enumerate(before.unit_codes)}
    invented_before, invented_now = before.illustrative(), result.illustrative()
    for i, code in enumerate(result.unit_codes):
        if code in lookup and not (invented_before[lookup[code]] and not invented_now[i]):
            result.previous_rank[i] = before.rank[lookup[code]]
            result.previous_total[i] = before.total[lookup[code]]


@dataclass
class PublishedCheck:
    unit_code: str
    computed_total: float
    published_total: float
    computed_rank: int | None
    published_rank: int | None

    @property
    def total_ok(self) -> bool:
        return abs(self.computed_total - self.published_total) <= PUBLISHED_TOLERANCE + 1e-12

    @property
    def rank_ok(self) -> bool:
        return self.published_rank is None or self.computed_rank == self.published_rank


def check_against_published(result: Ranking) -> list[PublishedCheck]:
    """Does the engine reproduce what was published (index within 0.0001; the same rank,
    where every unit of the table has an index to rank by)?"""
    if result.total_source != "computed":
        return []
    computed = result.computed
    whole = not np.isnan(computed).any()
    ranks = result.computed_rank if result.computed_rank is not None else result.rank
    return [PublishedCheck(code, float(computed[i]), float(result.published_total[i]),
                           _i(ranks[i]), _i(result.published_rank[i]) if whole else None)
            for i, code in enumerate(result.unit_codes)
            if not np.isnan(result.published_total[i]) and not np.isnan(computed[i])]


# ------------------------------------------------------------------ profile, what-if


@dataclass
class Profile:
    unit_code: str
    unit_name: str
    year: int
    total: float | None
    rank: int | None
    units: int
    rank_change: int | None
    indicators: list[dict[str, Any]] = field(default_factory=list)
    illustrative: bool = False  # the unit's own figures are invented (the demo's)
    # medians, best peers and indicator ranks come from a field holding invented figures
    field_illustrative: bool = False


def profile(result: Ranking, unit_code: str) -> Profile:
    """A unit's score by main indicator next to the median and the best peer, at the
    published precision."""
    i = result.matrix.row_of(unit_code) if result.matrix else result.unit_codes.index(unit_code)
    fw = result.framework
    rows = []
    for node in fw.main_indicators or fw.leaves:
        column = result.codes.index(node.code)
        values = result.scores[:, column]
        if np.all(np.isnan(values)):
            continue
        best = int(np.nanargmax(values))
        rows.append({"code": node.code, "name_vi": node.name_vi, "name_en": node.name_en,
                     "points": node.weight, "score": shown_value(result, values[i]),
                     "rank": _i(result.ranks[i, column]),
                     "median": shown_value(result, np.nanmedian(values)),
                     "best": shown_value(result, values[best]),
                     "best_unit": result.unit_names[best]})
    return Profile(unit_code, result.unit_names[i], result.year,
                   shown_value(result, result.total[i]), _i(result.rank[i]), result.field_size(),
                   _i(result.previous_rank[i] - result.rank[i]), rows,
                   illustrative=bool(result.illustrative()[i]),
                   field_illustrative=result.any_illustrative)


def shown_value(result: Ranking, value: float) -> float | None:
    return _f(float(result.shown(value)))


@dataclass
class WhatIf:
    unit_code: str
    changes: dict[str, float]
    total_before: float | None  # at the published precision, as ranked
    total_after: float | None
    rank_before: int
    rank_after: int
    points_gained: float
    units: int
    nodes: list[dict[str, Any]]
    illustrative: bool = False


def leaf_changes(framework: Framework, changes: dict[str, Any]) -> dict[str, float]:
    """New leaf values as typed: numbers, or text in the reader's style ("0,85", "0.85",
    "65%"). A percentage is a share of the indicator's scale — of [0, 1] for the DTI's
    main indicators, of 0–25 points for a criterion worth 25 — so "65%" is never 65."""
    leaves = {leaf.code: leaf for leaf in framework.leaves}
    parsed = {}
    for code, raw in changes.items():
        if code not in leaves:
            raise FrameworkError(f"'{code}' không phải chỉ số của khung {framework.code}",
                                 f"'{code}' is not an indicator of {framework.code}")
        try:
            number = parse_number(raw, DTI_NUMBERS)
        except (ValueError, ArithmeticError) as exc:
            name = leaves[code].name_vi
            raise UserError(f"{name} ({code}): '{raw}' không phải số (ví dụ 0,85 hoặc 85%)",
                            f"{leaves[code].name_en or name} ({code}): '{raw}' is not a number "
                            "(e.g. 0.85 or 85%)", data={"field": code}) from exc
        low, high = leaf_scale(framework, leaves[code])
        value = float(number.value)
        parsed[code] = low + value / 100 * (high - low) if number.percent else value
    return parsed


def leaf_scale(framework: Framework, leaf: Node) -> tuple[float, float]:
    """What 0 % and 100 % of an indicator are: its goalposts (min–max), 0 to its target,
    else the framework's value range, else 0 to 1."""
    norm = leaf.normalisation
    if norm.method == "minmax" and norm.low is not None and norm.high is not None:
        return norm.low, norm.high
    if norm.method == "target" and norm.target is not None:
        return norm.low or 0.0, norm.target
    return framework.value_range or (0.0, 1.0)


def what_if(result: Ranking, unit_code: str, changes: dict[str, Any]) -> WhatIf:
    """Change leaf values of one unit and recompute everyone (normalisations such as rank
    or z-score depend on the others, so the whole matrix goes through the engine again).
    Values may be typed text (`leaf_changes`)."""
    matrix, cf = result.matrix, result.cf
    if matrix is None or cf is None:
        raise FrameworkError("Khung này chưa có trọng số chính thức nên không thể mô phỏng",
                             "this framework has no official weights, what-if is not possible")
    i = matrix.row_of(unit_code)
    values = leaf_changes(cf.framework, changes)
    leaves = cf.leaf_codes
    raw = matrix.raw.copy()
    for code, value in values.items():
        raw[i, leaves.index(code)] = value
    scores = engine.compute(cf, raw)
    # Units whose index the change did not move keep the index shown (a published one).
    moved = np.abs(scores[:, 0] - result.computed) > 1e-12
    totals = np.where(moved, scores[:, 0], result.total)
    ranks = engine.competition_rank(totals, decimals=cf.framework.rank_decimals)
    total_points = cf.framework.total_points
    nodes = [{"code": c, "name_vi": cf.framework.nodes[c].name_vi,
              "name_en": cf.framework.nodes[c].name_en,
              "before": shown_value(result, result.scores[i, k]),
              "after": shown_value(result, scores[i, k])}
             for k, c in enumerate(cf.codes) if k and (cf.framework.nodes[c].main
                                                      or c in cf.framework.root.children)]
    return WhatIf(unit_code, values, shown_value(result, result.total[i]),
                  shown_value(result, totals[i]), int(result.rank[i]), int(ranks[i]),
                  float((scores[i, 0] - result.computed[i]) * total_points),
                  int(np.sum(~np.isnan(ranks))), nodes,
                  # the new rank is among the others: invented if any of them is
                  illustrative=result.any_illustrative)


@dataclass
class MergerBreakdown:
    """How a province of today gets its figure for a year before the 1/7/2025 merger: the
    arithmetic mean of its predecessors' main indicators (DESIGN §5.4; the rule the
    ministry used to republish DTI 2024 for the 34 provinces). Since the index is a
    weighted sum, the mean of the predecessors' indices is the index of the means, which
    lets the rule be checked against a republished total."""

    unit_code: str
    unit_name: str
    year: int
    codes: list[str]  # main indicators shown
    predecessors: list[dict[str, Any]]  # code, name, values {code: v}, total, illustrative
    mean: dict[str, float | None]
    mean_total: float | None
    published_total: float | None  # as republished over today's units, if it was
    published_rank: int | None
    units_in_field: int

    @property
    def agrees(self) -> bool | None:
        """Does the mean reproduce the republished total (within 0,0001)?"""
        if self.mean_total is None or self.published_total is None:
            return None
        return abs(self.mean_total - self.published_total) <= PUBLISHED_TOLERANCE + 1e-12


def merger_breakdown(session: Session, framework: Framework, year: int, unit_code: str
                     ) -> MergerBreakdown | None:
    """The predecessors of today's `unit_code` with their results for `year` and their
    mean; None when the unit did not merge or no predecessor has results that year."""
    links = successors(session)
    codes = sorted({p for p, (s, _) in links.items() if s == unit_code} | {unit_code})
    if len(codes) < 2:
        return None
    before = rank_matrix(result_matrix(session, framework, year))
    rows = [before.unit_codes.index(c) for c in codes if c in before.unit_codes]
    if len(rows) < 2:  # (a district absorbed into the province is no province merger)
        return None
    mains = [n.code for n in framework.main_indicators or framework.leaves if n.weight != 0]
    columns = [before.codes.index(c) for c in mains]
    names = register_names(session, codes, dt.date(year, 12, 31))
    invented = before.illustrative()
    predecessors = [{"code": before.unit_codes[i], "name": names.get(before.unit_codes[i],
                                                                     before.unit_names[i]),
                     "values": {c: _f(before.scores[i, k]) for c, k in zip(mains, columns,
                                                                            strict=True)},
                     "total": _f(before.total[i]), "illustrative": bool(invented[i])}
                    for i in rows]
    means = _column_means(before.scores[np.ix_(rows, columns)])
    republished = result_matrix(session, framework, year, basis=MERGED)
    published_total = published_rank = None
    if unit_code in republished.unit_codes:
        k = republished.unit_codes.index(unit_code)
        published_total = _f(republished.published_total[k])
        published_rank = _i(republished.published_rank[k])
    return MergerBreakdown(unit_code, register_names(session, [unit_code]).get(unit_code,
                                                                                unit_code),
                           year, mains, predecessors,
                           {c: _f(v) for c, v in zip(mains, means, strict=True)},
                           _mean_total(before, rows),
                           published_total, published_rank, _province_count(
                               session, dt.date(2025, 7, 1)))


def _column_means(values: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an indicator nobody reported
        return np.asarray(np.nanmean(values, axis=0))


def _mean_total(before: Ranking, rows: list[int]) -> float | None:
    """The index of the predecessors' mean leaves when the framework computes, else the
    mean of their published totals (only when every predecessor has one)."""
    if before.cf is not None and before.matrix is not None:
        leaves = _column_means(before.matrix.raw[rows])
        return _f(float(engine.compute(before.cf, leaves[None, :])[0, 0]))
    totals = before.total[rows]
    return None if np.isnan(totals).any() else _f(float(np.mean(totals)))


# ------------------------------------------------------------------ bottlenecks


@dataclass
class Bottlenecks:
    unit_code: str
    rank: int
    target_rank: int
    needed_gain: float  # index points (root scale) to reach the target rank
    losses: list[dict[str, Any]]
    plan_fewest: list[engine.Move]
    plan_least_effort: list[engine.Move]
    rank_after_plan: int | None
    caps: str  # "best peer" or "maximum"


def bottlenecks(result: Ranking, unit_code: str, *, places: int = 1) -> Bottlenecks:
    """Points lost per indicator (vs the maximum and vs the best peer) and the smallest set
    of improvements that gains `places` rank places."""
    matrix, cf = result.matrix, result.cf
    if matrix is None or cf is None:
        raise FrameworkError("Khung này chưa có trọng số chính thức / this framework has no "
                             "official weights")
    i = matrix.row_of(unit_code)
    total_points = cf.framework.total_points
    shares = cf.effective_weights()
    losses = []
    for k, code in enumerate(cf.codes):
        node = cf.framework.nodes[code]
        if k == 0 or shares[k] <= 0 or not (node.main or node.is_leaf):
            continue
        column = result.scores[:, k]
        best = float(np.nanmax(column)) if not np.all(np.isnan(column)) else np.nan
        own = result.scores[i, k]
        losses.append({"code": code, "name_vi": node.name_vi, "name_en": node.name_en,
                       "score": _f(own), "best_peer": _f(best),
                       "lost_vs_max": _f(shares[k] * (1 - np.nan_to_num(own)) * total_points),
                       "lost_vs_best": _f(shares[k] * max(best - np.nan_to_num(own), 0)
                                          * total_points)})
    losses.sort(key=lambda r: -float(r["lost_vs_max"] or 0))
    rank = int(result.rank[i])
    target = max(1, rank - places)
    needed = _gain_needed(result, i, target)
    leaf_scores = engine.apply_missing_rule(engine.normalise(cf, matrix.raw),
                                            cf.framework.missing)
    best_leaf = engine._nan_max(leaf_scores)
    caps_label, plans = "best peer", None
    for caps, label in ((np.maximum(best_leaf, leaf_scores[i]), "best peer"),
                        (np.ones_like(best_leaf), "maximum")):
        moves = engine.improvement_moves(cf, result.scores[i], caps)
        fewest = engine.plan_to_gain(moves, needed, by="count")
        if fewest or needed <= 0:
            plans = (fewest, engine.plan_to_gain(moves, needed, by="effort"))
            caps_label = label
            break
    fewest, cheapest = plans or ([], [])
    rank_after = _rank_after(result, i, leaf_scores, fewest) if fewest else None
    return Bottlenecks(unit_code, rank, target, float(needed * total_points), losses, fewest,
                       cheapest, rank_after, caps_label)


def _gain_needed(result: Ranking, i: int, target_rank: int) -> float:
    """Index gain after which at most target_rank − 1 others are strictly ahead."""
    decimals = result.framework.rank_decimals
    others = np.delete(result.total, i)
    others = np.sort(others[~np.isnan(others)])[::-1]
    if target_rank - 1 >= len(others) or target_rank < 1:
        return 0.0
    bar = others[target_rank - 1]
    if decimals is not None:  # reaching the bar as published is enough: a tie
        bar = float(result.shown(bar)) - 0.5 * 10 ** -decimals + 1e-12
    return max(float(bar - result.total[i]), 0.0)


def _rank_after(result: Ranking, i: int, leaf_scores: np.ndarray,
                plan: list[engine.Move]) -> int:
    """Check the plan with the engine itself (leaf scores of the others unchanged)."""
    cf = result.cf
    assert cf is not None
    changed = leaf_scores.copy()
    for move in plan:
        changed[i, cf.leaf_codes.index(move.code)] = move.proposed
    totals = engine.aggregate(cf, changed)[:, 0]
    return int(engine.competition_rank(totals, decimals=cf.framework.rank_decimals)[i])


def unit_drag(result: Ranking, *, unit_codes: list[str] | None = None,
              top: int = 10) -> list[dict[str, Any]]:
    """Which units pull the average down most, overall and per main indicator."""
    keep = [i for i, c in enumerate(result.unit_codes) if unit_codes is None or c in unit_codes]
    fw = result.framework
    columns = [0] + [result.codes.index(n.code) for n in fw.main_indicators]
    drag = engine.drag_by_unit(result.scores[np.ix_(keep, columns)])
    rows = []
    for position, i in enumerate(keep):
        worst = int(np.nanargmax(np.where(np.isnan(drag[position, 1:]), -np.inf,
                                          drag[position, 1:]))) if len(columns) > 1 else None
        rows.append({"unit_code": result.unit_codes[i], "unit_name": result.unit_names[i],
                     "score": _f(result.total[i]), "drag": _f(drag[position, 0]),
                     "worst_indicator": result.codes[columns[worst + 1]]
                     if worst is not None else None})
    rows.sort(key=lambda r: -(float(r["drag"]) if r["drag"] is not None else -np.inf))
    return rows[:top]


# ------------------------------------------------------------------ sensitivity


def sensitivity_table(result: Ranking, *, samples: int = 1000, spread: float = 0.2,
                      methods: tuple[str, ...] = ("framework",), seed: int = 12345,
                      progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    cf, matrix = result.cf, result.matrix
    if cf is None or matrix is None:
        raise FrameworkError("Khung này chưa có trọng số chính thức / this framework has no "
                             "official weights")
    found = engine.sensitivity(cf, matrix.raw, samples=samples, spread=spread, methods=methods,
                               seed=seed, progress=progress)
    rows = [{"unit_code": c, "unit_name": n, "rank": _i(found.nominal_rank[i]),
             "p05": _i(np.floor(found.p05[i])), "median": _i(np.round(found.p50[i])),
             "p95": _i(np.ceil(found.p95[i]))}
            for i, (c, n) in enumerate(zip(result.unit_codes, result.unit_names, strict=True))]
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0))


def result_years(session: Session, level: str = "province") -> list[int]:
    """Years with current results for frameworks of a level, newest first."""
    codes = [f.code for f in current_frameworks(session) if f.level == level]
    years = session.scalars(select(DtiResult.year).where(
        DtiResult.framework_code.in_(codes), DtiResult.is_current).distinct()).all()
    return sorted(years, reverse=True)


def subunit_codes(session: Session, parent_code: str) -> list[str]:
    """Codes of the units directly under a unit (all its versions)."""
    from sqlalchemy.orm import aliased

    from chiso.units.models import OrgUnit

    parent = aliased(OrgUnit)
    return list(session.scalars(select(OrgUnit.code).join(
        parent, OrgUnit.parent_id == parent.id).where(parent.code == parent_code).distinct()))

"""DTI services: framework versions, published results, rankings, profiles, what-if,
bottlenecks, sensitivity and merged provinces. The arithmetic lives in `engine.py`; this
module moves data between the database and the engine's matrices."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from chiso.audit.service import record_event
from chiso.dti import engine
from chiso.dti.framework import (
    Framework,
    FrameworkError,
    load_framework_file,
    parse_framework,
    shipped_framework_files,
)
from chiso.dti.models import DtiFramework, DtiResult
from chiso.text import accent_free_key, nfc, parse_number

TOTAL = "_TOTAL"
RANK = "_RANK"
PUBLISHED_TOLERANCE = 0.0001


class ImportRejected(ValueError):
    """An import was refused as a whole; `errors` are bilingual, one per problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("\n".join(errors))


# ------------------------------------------------------------------ frameworks


@dataclass
class LoadResult:
    code: str
    version: int
    created: bool


def load_framework(session: Session, framework: Framework, *, actor: Any = None,
                   dry_run: bool = False) -> LoadResult:
    """Store a framework version. Same text again → nothing changes; changed text under an
    existing code → a new version (the old one is kept, no longer current)."""
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
        loaded_by=getattr(actor, "username", None) or "system",
    )
    session.add(row)
    session.flush()
    record_event(session, action="dti.framework.load", object_type="dti_framework",
                 object_id=row.id, actor=actor,
                 after={"code": row.code, "version": version, "sha256": row.sha256})
    return LoadResult(framework.code, version, created=True)


def load_framework_path(session: Session, path: Path, *, actor: Any = None,
                        dry_run: bool = False) -> LoadResult:
    return load_framework(session, load_framework_file(path), actor=actor, dry_run=dry_run)


def load_shipped_frameworks(session: Session) -> None:
    """Reference loader: the shipped frameworks, idempotent."""
    for path in shipped_framework_files():
        load_framework_path(session, path)


def current_frameworks(session: Session) -> list[Framework]:
    rows = session.scalars(select(DtiFramework).where(DtiFramework.is_current)
                           .order_by(DtiFramework.level, DtiFramework.valid_from_year)).all()
    return [_parse_row(r) for r in rows]


def _parse_row(row: DtiFramework) -> Framework:
    parsed = parse_framework(row.source_text, source=f"{row.code} v{row.version}")
    # The stored version number wins over the one written in the file.
    return Framework(**{**parsed.__dict__, "version": row.version})


def get_framework(session: Session, code: str) -> Framework:
    row = session.scalar(select(DtiFramework).where(DtiFramework.code == code,
                                                    DtiFramework.is_current))
    if row is None:
        raise FrameworkError(f"Không có khung chỉ số '{code}' / no framework '{code}' "
                             "(chiso dti framework list)")
    return _parse_row(row)


def framework_for_year(session: Session, year: int, level: str = "province") -> Framework:
    """The current framework of a level covering a year, preferring one with results."""
    candidates = [f for f in current_frameworks(session) if f.level == level and f.covers(year)]
    with_data = [f for f in candidates if _has_results(session, f.code, year)]
    chosen = (with_data or candidates)
    if not chosen:
        raise FrameworkError(f"Không có khung chỉ số cấp {level} cho năm {year} / no {level} "
                             f"framework covers {year}")
    return sorted(chosen, key=lambda f: f.is_sample)[0]


def _has_results(session: Session, code: str, year: int) -> bool:
    return session.scalar(select(DtiResult.id).where(
        DtiResult.framework_code == code, DtiResult.year == year, DtiResult.is_current
    ).limit(1)) is not None


# ------------------------------------------------------------------ importing results

UNIT_CODE_HEADERS = {"ma", "ma tinh", "ma don vi", "code", "unit code", "unit_code", "ma_tinh"}
UNIT_NAME_HEADERS = {"ten", "tinh", "ten tinh", "ten_tinh", "don vi", "ten don vi", "name",
                     "unit name", "unit_name", "tinh/thanh pho", "tinh, thanh pho"}
TOTAL_HEADERS = {"dti", "_total", "total", "tong", "chi so dti", "diem dti", "tong diem"}
RANK_HEADERS = {"xep hang", "rank", "_rank", "thu hang"}
YEAR_HEADERS = {"nam", "year"}


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


def read_table(path: Path) -> tuple[str, list[list[Any]], int]:
    """(sheet name, rows, number of the first row) from CSV or the first XLSX sheet.
    Lines starting with '#' in a CSV are comments (e.g. the sample's label)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
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
    return "", rows, skipped + 1


def _header_key(value: Any) -> str:
    return " ".join(accent_free_key(nfc(str(value or ""))).replace("_", " ").split())


def import_results(session: Session, path: Path, *, framework_code: str,
                   year: int | None = None, source: str = "", actor: Any = None,
                   dry_run: bool = False) -> ResultsImport:
    """Import a published ranking table: one row per unit, one column per main indicator
    (by code or Vietnamese name), optionally the published total and rank.
    All-or-nothing; importing the same file again changes nothing."""
    framework = get_framework(session, framework_code)
    sheet, rows, first_row = read_table(path)
    where = path.name + (f", sheet '{sheet}'" if sheet else "")
    records, errors = _parse_result_rows(framework, rows, first_row, where, year)
    if errors:
        raise ImportRejected(errors)
    years = sorted({r[0] for r in records})
    summary = ResultsImport(path.name, framework.code, years, len({r[1] for r in records}),
                            dry_run=dry_run, batch_id=uuid.uuid4().hex[:16])
    _store_results(session, framework.code, records, summary, source or path.name, actor)
    return summary


def _parse_result_rows(framework: Framework, rows: list[list[Any]], first_row: int,
                       where: str, year: int | None
                       ) -> tuple[list[tuple[int, str, str, str, float | None]], list[str]]:
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
    records = []
    for offset, row in enumerate(rows[1:], start=1):
        line = first_row + offset
        if not any(str(c or "").strip() for c in row):
            continue
        if _overflows(row, rows[0]):
            errors.append(_overflow_message(where, line, len(rows[0]), len(row)))
            continue
        code = nfc(str(_cell(row, columns["code"]) or "")).strip()
        if not code:
            errors.append(f"{where}, dòng {line}: thiếu mã đơn vị / row {line}: unit code missing")
            continue
        name = nfc(str(_cell(row, columns.get("name")) or "")).strip()
        row_year = year
        if "year" in columns:
            row_year = _parse_year(_cell(row, columns["year"]), where, line, errors)
        for node_code, index in columns["nodes"].items():
            value = _parse_value(_cell(row, index), where, line, str(rows[0][index]), errors)
            if node_code != RANK and not _in_range(framework, value):
                low, high = framework.value_range  # type: ignore[misc]
                errors.append(f"{where}, dòng {line}, cột '{rows[0][index]}': {value:g} ngoài "
                              f"khoảng {low:g}–{high:g} của khung (quy tắc: value_range) / row "
                              f"{line}, column '{rows[0][index]}': {value:g} outside "
                              f"{low:g}–{high:g}")
            if row_year is not None:
                records.append((row_year, code, name, node_code, value))
    seen: set[tuple[int, str, str]] = set()
    for y, code, _name, node, _v in records:
        if (y, code, node) in seen:
            errors.append(f"{where}: đơn vị '{code}' năm {y} xuất hiện hai lần / unit '{code}' "
                          f"appears twice for {y}")
            break
        seen.add((y, code, node))
    return records, errors


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
    columns: dict[str, Any] = {"nodes": {}}
    unknown = []
    for index, raw in enumerate(header):
        key = _header_key(raw)
        if not key:
            continue
        if key in UNIT_CODE_HEADERS:
            columns["code"] = index
        elif key in UNIT_NAME_HEADERS:
            columns["name"] = index
        elif key in YEAR_HEADERS:
            columns["year"] = index
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


def _parse_value(raw: Any, where: str, line: int, column: str, errors: list[str]
                 ) -> float | None:
    if raw is None or str(raw).strip() in ("", "-", "–"):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    text = str(raw).strip()
    try:
        # Published tables use '.' as the decimal point ("0.8002"); Vietnamese files use ','.
        return float(text) if text.count(".") == 1 and "," not in text else float(
            parse_number(text).value)
    except (ValueError, ArithmeticError):
        errors.append(f"{where}, dòng {line}, cột '{column}': '{raw}' không phải số (quy tắc: "
                      f"giá trị số) / row {line}, column '{column}': '{raw}' is not a number")
        return None


def _store_results(session: Session, framework_code: str,
                   records: list[tuple[int, str, str, str, float | None]],
                   summary: ResultsImport, source: str, actor: Any) -> None:
    years = summary.years
    existing = {(r.year, r.unit_code, r.node_code): r for r in session.scalars(
        select(DtiResult).where(DtiResult.framework_code == framework_code,
                                DtiResult.year.in_(years), DtiResult.is_current))}
    inserts, superseded = [], []
    for year, code, name, node, value in records:
        old = existing.get((year, code, node))
        if old is not None and _same(old.value, value) and (old.unit_name == name or not name):
            summary.unchanged += 1
            continue
        if old is not None:
            superseded.append(old.id)
            summary.updated += 1
        else:
            summary.inserted += 1
        inserts.append({"framework_code": framework_code, "year": year, "unit_code": code,
                        "unit_name": name, "node_code": node, "value": value,
                        "source": source, "batch_id": summary.batch_id, "is_current": True,
                        "created_at": dt.datetime.now(dt.UTC)})
    if summary.dry_run or not inserts:
        return
    if superseded:
        session.execute(update(DtiResult).where(DtiResult.id.in_(superseded))
                        .values(is_current=False))
    session.execute(insert(DtiResult), inserts)
    record_event(session, action="dti.results.import", object_type="dti_result",
                 object_id=summary.batch_id, actor=actor,
                 after={"framework": framework_code, "years": str(years), "file": summary.file,
                        "inserted": summary.inserted, "updated": summary.updated})


def _same(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 1e-12)


# ------------------------------------------------------------------ matrices and rankings


@dataclass
class ResultMatrix:
    framework: Framework
    year: int
    unit_codes: list[str]
    unit_names: list[str]
    raw: np.ndarray  # (U, L) leaf values
    published_total: np.ndarray  # (U,) NaN where not published
    published_rank: np.ndarray

    def row_of(self, unit_code: str) -> int:
        try:
            return self.unit_codes.index(unit_code)
        except ValueError as exc:
            raise LookupError(f"Không có kết quả của đơn vị '{unit_code}' năm {self.year} / no "
                              f"results for unit '{unit_code}' in {self.year}") from exc


def result_matrix(session: Session, framework: Framework, year: int) -> ResultMatrix:
    rows = session.execute(select(DtiResult.unit_code, DtiResult.unit_name,
                                  DtiResult.node_code, DtiResult.value).where(
        DtiResult.framework_code == framework.code, DtiResult.year == year,
        DtiResult.is_current)).all()
    units = sorted({r.unit_code for r in rows})
    names = {r.unit_code: r.unit_name for r in rows if r.unit_name}
    leaves = [leaf.code for leaf in framework.leaves]
    columns = {code: i for i, code in enumerate([*leaves, TOTAL, RANK])}
    position = {code: i for i, code in enumerate(units)}
    table = np.full((len(units), len(columns)), np.nan)
    picked = [(position[r.unit_code], columns[r.node_code], r.value) for r in rows
              if r.node_code in columns and r.value is not None]
    if picked:
        ui, ci, values = zip(*picked, strict=True)
        table[list(ui), list(ci)] = values
    return ResultMatrix(framework, year, units, [names.get(u, u) for u in units],
                        table[:, :len(leaves)], table[:, columns[TOTAL]],
                        table[:, columns[RANK]])


def merged_matrix(session: Session, matrix: ResultMatrix) -> ResultMatrix:
    """Re-express a year's results over today's units: a merged unit's leaf values are the
    arithmetic mean of its predecessors' (DESIGN §5.4); units without lineage stay as they are.
    """
    from chiso.units.models import OrgUnit, UnitLineage

    pred = select(OrgUnit.code.label("pred_code"), UnitLineage.successor_id).join(
        UnitLineage, UnitLineage.predecessor_id == OrgUnit.id).where(
        UnitLineage.kind.in_(["merge", "absorb", "rename"])).subquery()
    links = session.execute(select(pred.c.pred_code, OrgUnit.code, OrgUnit.name).join(
        OrgUnit, OrgUnit.id == pred.c.successor_id)).all()
    successor = {p: (code, name) for p, code, name in links}
    targets = [successor.get(u, (u, n)) for u, n in zip(matrix.unit_codes, matrix.unit_names,
                                                         strict=True)]
    new_codes = sorted({code for code, _ in targets})
    names = dict(targets)
    group = np.array([new_codes.index(code) for code, _ in targets], dtype=int)
    present = ~np.isnan(matrix.raw)
    total = np.zeros((len(new_codes), matrix.raw.shape[1]))
    count = np.zeros_like(total)
    np.add.at(total, group, np.where(present, matrix.raw, 0.0))
    np.add.at(count, group, present.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = total / count
    merged = np.bincount(group, minlength=len(new_codes)) > 1
    # A merged unit has no published total or rank of its own.
    published = np.full(len(new_codes), np.nan)
    singles = {g: i for i, g in enumerate(group)}
    for g in range(len(new_codes)):
        if not merged[g]:
            published[g] = matrix.published_total[singles[g]]
    return ResultMatrix(matrix.framework, matrix.year, new_codes,
                        [names[c] for c in new_codes], raw, published,
                        np.full(len(new_codes), np.nan))


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

    @property
    def total(self) -> np.ndarray:
        return self.scores[:, 0]

    @property
    def rank(self) -> np.ndarray:
        return self.ranks[:, 0]

    def rows(self) -> list[dict[str, Any]]:
        """Rows ordered by rank, ready for tables and JSON."""
        fw = self.framework
        show = [c for c in self.codes[1:] if fw.nodes[c].main or c in fw.root.children]
        order = np.argsort(np.where(np.isnan(self.rank), np.inf, self.rank), kind="stable")
        result = []
        for i in order:
            prev = self.previous_rank[i]
            result.append({
                "unit_code": self.unit_codes[i], "unit_name": self.unit_names[i],
                "total": _f(self.total[i]), "rank": _i(self.rank[i]),
                "points": _f(self.total[i] * fw.total_points),
                "previous_rank": _i(prev), "previous_total": _f(self.previous_total[i]),
                "rank_change": _i(prev - self.rank[i]),
                "published_total": _f(self.published_total[i]),
                "published_rank": _i(self.published_rank[i]),
                "nodes": {c: {"score": _f(self.scores[i, self.codes.index(c)]),
                              "rank": _i(self.ranks[i, self.codes.index(c)])} for c in show},
            })
        return result


def _f(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)


def _i(value: float) -> int | None:
    return None if value is None or np.isnan(value) else int(value)


def rank_matrix(matrix: ResultMatrix, *, weights: dict[str, float] | None = None) -> Ranking:
    """Scores and competition ranks at every node. When the framework's official weights are
    unknown, the total is the published one and only the leaves are ranked."""
    fw = matrix.framework
    decimals = fw.rank_decimals
    codes = list(fw.nodes)
    if fw.weights_known or weights:
        cf = engine.compile_framework(fw, weights)
        scores = engine.compute(cf, matrix.raw)
        source = "computed"
    else:
        cf = None
        scores = np.full((len(matrix.unit_codes), len(codes)), np.nan)
        leaf_positions = [codes.index(leaf.code) for leaf in fw.leaves]
        scores[:, leaf_positions] = matrix.raw
        scores[:, 0] = matrix.published_total
        source = "published"
    ranks = engine.competition_rank(scores.T, decimals=decimals).T
    none = np.full(len(matrix.unit_codes), np.nan)
    return Ranking(fw, matrix.year, codes, matrix.unit_codes, matrix.unit_names, scores, ranks,
                   source, matrix.published_total, matrix.published_rank, none, none.copy(),
                   matrix, cf)


def ranking(session: Session, *, year: int, framework_code: str | None = None,
            level: str = "province", merged: bool = False, source: str = "results"
            ) -> Ranking:
    """The ranking of a year, with each unit's change from the previous year.

    source='results': imported/published values; source='assessment': the self-assessment
    rounds of that framework and year, each criterion's appraised score (else its self
    score) as the leaf value — so a criterion's score can be put through what-if."""
    fw = get_framework(session, framework_code) if framework_code else framework_for_year(
        session, year, level)
    if source == "assessment":
        return rank_matrix(assessment_matrix(session, fw, year))
    matrix = result_matrix(session, fw, year)
    if merged:
        matrix = merged_matrix(session, matrix)
    result = rank_matrix(matrix)
    _attach_previous(session, result, level=fw.level, merged=merged)
    return result


def assessment_matrix(session: Session, framework: Framework, year: int) -> ResultMatrix:
    """Leaf values from the self-assessment rounds: appraised score, else self score."""
    from chiso.dti.models import DtiAssessment, DtiCriterion
    from chiso.units.models import OrgUnit

    rows = session.execute(select(DtiAssessment.unit_code, DtiCriterion.code,
                                  DtiCriterion.self_score, DtiCriterion.appraised_score).join(
        DtiCriterion, DtiCriterion.assessment_id == DtiAssessment.id).where(
        DtiAssessment.framework_code == framework.code, DtiAssessment.year == year)).all()
    units = sorted({r.unit_code for r in rows})
    names = dict(session.execute(select(OrgUnit.code, OrgUnit.name).where(
        OrgUnit.code.in_(units))).all()) if units else {}
    leaves = [leaf.code for leaf in framework.leaves]
    raw = np.full((len(units), len(leaves)), np.nan)
    for r in rows:
        value = r.appraised_score if r.appraised_score is not None else r.self_score
        if r.code in leaves and value is not None:
            raw[units.index(r.unit_code), leaves.index(r.code)] = value
    none = np.full(len(units), np.nan)
    return ResultMatrix(framework, year, units, [names.get(u, u) for u in units], raw, none,
                        none.copy())


def _attach_previous(session: Session, result: Ranking, *, level: str, merged: bool) -> None:
    try:
        previous_fw = framework_for_year(session, result.year - 1, level)
    except FrameworkError:
        return
    previous = result_matrix(session, previous_fw, result.year - 1)
    if not previous.unit_codes:
        return
    if merged:
        previous = merged_matrix(session, previous)
    try:
        before = rank_matrix(previous)
    except FrameworkError:
        return
    lookup = {code: i for i, code in enumerate(before.unit_codes)}
    for i, code in enumerate(result.unit_codes):
        if code in lookup:
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
    """Does the engine reproduce what was published (total within 0.0001, same rank)?"""
    return [PublishedCheck(code, float(result.total[i]), float(result.published_total[i]),
                           _i(result.rank[i]), _i(result.published_rank[i]))
            for i, code in enumerate(result.unit_codes)
            if not np.isnan(result.published_total[i]) and result.total_source == "computed"]


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


def profile(result: Ranking, unit_code: str) -> Profile:
    """A unit's score by main indicator next to the median and the best peer."""
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
                     "points": node.weight, "score": _f(values[i]),
                     "rank": _i(result.ranks[i, column]), "median": _f(np.nanmedian(values)),
                     "best": _f(values[best]), "best_unit": result.unit_names[best]})
    return Profile(unit_code, result.unit_names[i], result.year, _f(result.total[i]),
                   _i(result.rank[i]), int(np.sum(~np.isnan(result.rank))),
                   _i(result.previous_rank[i] - result.rank[i]), rows)


@dataclass
class WhatIf:
    unit_code: str
    changes: dict[str, float]
    total_before: float
    total_after: float
    rank_before: int
    rank_after: int
    points_gained: float
    units: int
    nodes: list[dict[str, Any]]


def what_if(result: Ranking, unit_code: str, changes: dict[str, float]) -> WhatIf:
    """Change leaf values of one unit and recompute everyone (normalisations such as rank
    or z-score depend on the others, so the whole matrix goes through the engine again)."""
    matrix, cf = result.matrix, result.cf
    if matrix is None or cf is None:
        raise FrameworkError("Khung này chưa có trọng số chính thức nên không thể mô phỏng / "
                             "this framework has no official weights, what-if is not possible")
    i = matrix.row_of(unit_code)
    leaves = cf.leaf_codes
    raw = matrix.raw.copy()
    for code, value in changes.items():
        if code not in leaves:
            raise FrameworkError(f"'{code}' không phải chỉ số của khung {cf.framework.code} / "
                                 f"'{code}' is not an indicator of {cf.framework.code}")
        raw[i, leaves.index(code)] = value
    scores = engine.compute(cf, raw)
    ranks = engine.competition_rank(scores[:, 0], decimals=cf.framework.rank_decimals)
    total_points = cf.framework.total_points
    nodes = [{"code": c, "name_vi": cf.framework.nodes[c].name_vi,
              "name_en": cf.framework.nodes[c].name_en,
              "before": _f(result.scores[i, k]), "after": _f(scores[i, k])}
             for k, c in enumerate(cf.codes) if k and (cf.framework.nodes[c].main
                                                      or c in cf.framework.root.children)]
    return WhatIf(unit_code, changes, float(result.total[i]), float(scores[i, 0]),
                  int(result.rank[i]), int(ranks[i]),
                  float((scores[i, 0] - result.total[i]) * total_points),
                  int(np.sum(~np.isnan(ranks))), nodes)


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
    if decimals is not None:
        bar = round(float(bar), decimals) - 0.5 * 10 ** -decimals + 1e-12
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

"""Import data values from the long format (docs/data-format.md): validate everything,
store all or nothing.

Pipeline: read (`chiso.values.reader`) → clean text → resolve codes → apply the value rules
(`chiso.values.rules`) → permission → plan against what is stored → (dry run: report) or
write in the caller's transaction with an `ImportBatch` and an audit event. Every step works
on whole columns with polars; nothing loops over data rows in Python.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.db.base import utcnow
from chiso.indicators.models import Indicator
from chiso.periods import Calendar, PeriodError, period_of_cell, split_estimate
from chiso.text import accent_free_key
from chiso.values.calendars import with_calendars
from chiso.values.models import ImportBatch
from chiso.values.reader import FileUnreadable, SheetTable, read_value_file
from chiso.values.rules import check_values, empty_errors, error_rows
from chiso.values.service import (
    SOURCE_MAX,
    BatchEvent,
    ChangePlan,
    apply_changes,
    future_period_errors,
    period_errors,
    plan_changes,
    units_frame,
    with_parsed_numbers,
    with_period_dates,
)

DEFAULT_SOURCE = "import"
TEXT_COLUMNS = ("unit_code", "indicator_code", "period", "numerator", "denominator", "value",
                "source", "comment", "estimate")
DIFF_COLUMNS = ("sheet", "row", "unit_code", "indicator_code", "period", "numerator",
                "denominator", "value", "comment", "estimate")
# The 'estimate' column (ước): blank or one of these words (compared accent-free).
ESTIMATE_WORDS = {"x": True, "uoc": True, "uoc tinh": True, "uoc thuc hien": True, "uth": True,
                  "co": True, "yes": True, "true": True, "1": True, "estimate": True,
                  "chinh thuc": False, "khong": False, "no": False, "false": False, "0": False,
                  "official": False}


@dataclass(frozen=True)
class ImportIssue:
    """One problem, located as the user sees it in Excel."""

    file: str
    sheet: str
    row: int | None
    column: str
    rule: str
    message_vi: str
    message_en: str
    column_label: str = ""  # the header as written in the file ("Tử số")

    @property
    def column_shown(self) -> str:
        if self.column_label and self.column_label != self.column:
            return f"'{self.column_label}' ({self.column})"
        return f"'{self.column}'"

    def text(self) -> str:
        """'Tệp 'x.xlsx', trang 'Data', dòng 7, cột 'value': … / file …, row 7, …: …'"""
        vi = [f"Tệp '{self.file}'"] + ([f"trang '{self.sheet}'"] if self.sheet else [])
        en = [f"file '{self.file}'"] + ([f"sheet '{self.sheet}'"] if self.sheet else [])
        if self.row is not None:
            vi.append(f"dòng {self.row}")
            en.append(f"row {self.row}")
        if self.column:
            vi.append(f"cột {self.column_shown}")
            en.append(f"column {self.column_shown}")
        return f"{', '.join(vi)}: {self.message_vi} / {', '.join(en)}: {self.message_en}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "sheet": self.sheet, "row": self.row,
                "column": self.column, "column_label": self.column_label or self.column,
                "rule": self.rule, "message_vi": self.message_vi,
                "message_en": self.message_en, "text": self.text()}


@dataclass
class ImportResult:
    """What an import found and did. With errors nothing was stored; a dry run stores
    nothing either and lists what a real run would insert, update and leave unchanged."""

    file_name: str
    sha256: str
    dry_run: bool
    rows: int = 0
    errors: list[ImportIssue] = field(default_factory=list)
    inserts: pl.DataFrame = field(default_factory=pl.DataFrame)
    updates: pl.DataFrame = field(default_factory=pl.DataFrame)
    unchanged: pl.DataFrame = field(default_factory=pl.DataFrame)
    batch_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> dict[str, int]:
        return {"rows": self.rows, "inserted": self.inserts.height,
                "updated": self.updates.height, "unchanged": self.unchanged.height,
                "errors": len(self.errors)}

    def as_dict(self, limit: int = 500) -> dict[str, Any]:
        """JSON-ready; long lists are cut to `limit` entries (the counts stay exact)."""
        return {
            "file": self.file_name, "sha256": self.sha256, "dry_run": self.dry_run,
            "ok": self.ok, "stored": self.ok and not self.dry_run, "batch_id": self.batch_id,
            "counts": self.counts,
            "errors": [e.as_dict() for e in self.errors[:limit]],
            "inserts": self.inserts.head(limit).to_dicts(),
            "updates": self.updates.head(limit).to_dicts(),
            "unchanged": self.unchanged.head(limit).to_dicts(),
        }


def import_values(session: Session, path: Path | str, *, access: Access,
                  dry_run: bool = False, display_name: str | None = None,
                  on_stage: Callable[[str], None] | None = None) -> ImportResult:
    """Validate the whole file, then store all of it or nothing (the caller commits).

    `access` must allow CAPTURE on each row's unit (`Access.system(session, "cli")` for an
    import the operator runs); rows for other units are reported as errors.
    `display_name` is the name the user uploaded the file under; `on_stage` is told each
    stage as it starts (read, validate, compare, store).
    """
    stage = on_stage or (lambda _name: None)
    stage("read")
    path = Path(path)
    name = display_name or path.name
    result = ImportResult(name, hashlib.sha256(path.read_bytes()).hexdigest(), dry_run)
    try:
        tables = read_value_file(path, name)
    except FileUnreadable as exc:
        result.errors = [ImportIssue(name, exc.sheet, None, "", "file_unreadable",
                                     exc.message_vi, exc.message_en)]
        return result
    return import_tables(session, tables, result, kind=_kind(path), access=access,
                         on_stage=stage)


def _kind(path: Path) -> str:
    return "values-" + path.suffix.lower().lstrip(".")


def import_tables(session: Session, tables: list[SheetTable], result: ImportResult, *,
                  kind: str, access: Access,
                  on_stage: Callable[[str], None] | None = None) -> ImportResult:
    """The shared second half of every import format: validate, plan, store."""
    stage = on_stage or (lambda _name: None)
    stage("validate")
    frame, errors = validate_tables(session, tables, access)
    result.rows = frame.height
    if not errors.is_empty():
        result.errors = _issues(errors, frame, result.file_name, _header_labels(tables))
        return result
    stage("compare")
    plan = plan_changes(session, frame)
    result.inserts, result.updates, result.unchanged = diff_frames(plan)
    if result.dry_run or (plan.inserts.is_empty() and plan.updates.is_empty()):
        return result
    stage("store")
    result.batch_id = _store(session, plan, result, kind=kind, access=access)
    return result


# ------------------------------------------------------------------ validation


def validate_tables(session: Session, tables: list[SheetTable], access: Access,
                    source: str = DEFAULT_SOURCE) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(checked rows ready for `plan_changes`, errors with `_row` ids). `_row` is a
    running id over all sheets; `_sheet` and `_line` locate it for the user. Rows for units
    `access` may not CAPTURE, and rows for periods not begun (unless their source, or
    `source` for rows without one, is allowed to carry planned figures) are errors."""
    frame = _cleaned(_stacked(tables))
    frame = with_calendars(session, _with_indicators(session, frame))
    frame = with_period_dates(_with_estimates(_with_canonical_periods(frame)))
    frame = _with_units(session, frame)
    frame, rule_errors = check_values(with_parsed_numbers(frame))
    errors = pl.concat([
        _required_errors(frame), period_errors(frame.filter(pl.col("period_text").is_not_null())),
        _estimate_errors(frame),
        _indicator_errors(frame), _unit_errors(frame), rule_errors, _duplicate_errors(frame),
        _source_errors(frame), _permission_errors(frame, access),
        future_period_errors(frame.filter(pl.col("period_type").is_not_null()), source),
    ])
    checked = frame.with_columns(value=pl.col("final_value"))
    return checked, _first_error_per_cell(errors)


def _stacked(tables: list[SheetTable]) -> pl.DataFrame:
    # Tables built by other readers (DHIS2, the reporting templates) have no estimates.
    frames = [t.cells.with_columns(_sheet=pl.lit(t.sheet), **(
        {} if "estimate" in t.cells.columns else {"estimate": pl.lit(None, pl.String)}))
        .select("_line", *TEXT_COLUMNS, "_sheet") for t in tables]
    stacked = pl.concat(frames, how="vertical") if frames else pl.DataFrame(
        schema={"_line": pl.Int64, "_sheet": pl.String, **dict.fromkeys(TEXT_COLUMNS,
                                                                        pl.String)})
    return stacked.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))


LABEL_COLUMNS = ("unit_code", "indicator_code", "period", "source", "comment", "estimate")


def _cleaned(frame: pl.DataFrame) -> pl.DataFrame:
    """NFC, single spaces, trimmed; blank → null. Codes compare case-insensitively.
    (Number cells are cleaned by the number parser.)"""
    for column in LABEL_COLUMNS:
        frame = _cleaned_column(frame, column)
    return frame.with_columns(pl.col("indicator_code").str.to_uppercase(),
                              *[_unguarded(name) for name in ("source", "comment")])


def _unguarded(name: str) -> pl.Expr:
    """`chiso.text.unguard_cell` on a column: the quote an export put before text that a
    spreadsheet would run as a formula ('=…) is not part of the text."""
    text = pl.col(name)
    return pl.when(text.str.contains(r"^'[=+\-@\t\r]")).then(text.str.slice(1)).otherwise(
        text).alias(name)


def _cleaned_column(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Clean each distinct value once (codes and periods repeat thousands of times; Unicode
    normalisation is the costly step) and join the results back."""
    raw = f"__raw_{column}"
    text = pl.col(raw).str.normalize("NFC").str.replace_all(r"[\s\u00a0]+", " ").str.strip_chars()
    distinct = frame.select(pl.col(column).alias(raw)).unique().with_columns(
        pl.when(text.str.len_chars() > 0).then(text).otherwise(None).alias(column))
    return frame.rename({column: raw}).join(distinct, on=raw, how="left",
                                            nulls_equal=True).drop(raw)


def _with_canonical_periods(frame: pl.DataFrame) -> pl.DataFrame:
    """Canonical period ids, computed once per distinct spelling and calendar (a file has a
    few). A date stands for the month that holds it under the calendar of the row's
    indicator: 15/12/2025 is 202601 for an indicator reported on the NĐ 09/2019 calendar."""
    pairs = frame.select(pl.col("period").alias("period_text"), "calendar").unique().filter(
        pl.col("period_text").is_not_null())
    ids = [_period_id(text, calendar) for text, calendar in pairs.iter_rows()]
    pairs = pairs.with_columns(period=pl.Series(ids, dtype=pl.String))
    return frame.rename({"period": "period_text"}).join(
        pairs, on=["period_text", "calendar"], how="left", nulls_equal=False)


def _period_id(text: str, calendar: str) -> str:
    """The period id, or the text itself when it is no period (reported by period_errors).
    'Ước thực hiện năm 2025' is the period 2025 (the estimate mark is read by
    `_with_estimates`)."""
    rest, _estimate = split_estimate(text)
    try:
        return period_of_cell(rest, Calendar(calendar)).id
    except PeriodError:
        return text


def _with_estimates(frame: pl.DataFrame) -> pl.DataFrame:
    """`estimate` (ước) as a boolean: the period says so ('Ước thực hiện năm 2025') or the
    estimate column does ('x', 'ước', 'có'; blank or 'chính thức' is official). A word the
    column does not know leaves `estimate_word` for `_estimate_errors`."""
    texts = frame.get_column("period_text").unique().drop_nulls().to_list()
    marked = [text for text in texts if split_estimate(text)[1]]
    words = {word: ESTIMATE_WORDS.get(" ".join(accent_free_key(word).split()))
             for word in frame.get_column("estimate").unique().drop_nulls().to_list()}
    known = pl.col("estimate").replace_strict(words, default=None, return_dtype=pl.Boolean)
    return frame.with_columns(
        (pl.col("period_text").is_in(marked) | known.fill_null(False)).alias("estimate"),
        pl.when(pl.col("estimate").is_not_null() & known.is_null()).then(pl.col("estimate"))
        .alias("estimate_word"))


def _estimate_errors(frame: pl.DataFrame) -> pl.DataFrame:
    word = pl.col("estimate_word")
    return error_rows(frame, word.is_not_null(), column="estimate", rule="estimate_flag",
                      vi=pl.format("'{}' không rõ là số ước hay chính thức (ghi 'ước' hoặc "
                                   "'x' cho số ước, để trống cho số chính thức)", word),
                      en=pl.format("'{}' says neither estimate nor official (write 'x' or "
                                   "'estimate' for an estimate, leave blank for official)",
                                   word))


def _with_indicators(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    rows = session.execute(select(Indicator.id, Indicator.code, Indicator.kind,
                                  Indicator.scale, Indicator.decimals)).all()
    catalogue = pl.DataFrame(rows, orient="row", schema={
        "indicator_id": pl.Int64, "code": pl.String, "kind": pl.String, "scale": pl.Float64,
        "decimals": pl.Int64}).with_columns(indicator_code=pl.col("code").str.to_uppercase())
    return frame.join(catalogue.drop("code"), on="indicator_code", how="left")


def _padded_code(code: pl.Expr) -> pl.Expr:
    """Excel drops leading zeros of codes typed as numbers: '6001' → '06001', '1' → '01'
    (province codes have 2 digits, commune codes 5). Used only when the code is unknown."""
    digits = code.str.contains(r"^\d+$")
    length = code.str.len_chars()
    return (pl.when(digits & (length == 1)).then(code.str.zfill(2))
            .when(digits & length.is_in([3, 4])).then(code.str.zfill(5))
            .otherwise(code))


def _with_units(session: Session, frame: pl.DataFrame) -> pl.DataFrame:
    """Resolve each unit code to the unit valid at the end of the row's period: codes are
    re-used (the 2025 reform gave old commune codes to new communes)."""
    units = units_frame(session)
    known = units.get_column("code").unique()
    frame = frame.with_columns(
        unit_code=pl.when(pl.col("unit_code").is_in(known.implode()) | pl.col("unit_code")
                          .is_null()).then(pl.col("unit_code"))
        .otherwise(_padded_code(pl.col("unit_code"))))
    candidates = frame.select("_row", "unit_code", "period_start", "period_end").join(
        units.rename({"code": "unit_code", "id": "unit_id"}), on="unit_code", how="inner")
    at_end = (pl.col("valid_from") <= pl.col("period_end")) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") >= pl.col("period_end")))
    resolved = candidates.filter(at_end).group_by("_row").agg(pl.col("unit_id").min())
    return frame.join(resolved, on="_row", how="left").with_columns(
        unit_known=pl.col("unit_code").is_in(known.implode()))


# ------------------------------------------------------------------ error builders


def _required_errors(frame: pl.DataFrame) -> pl.DataFrame:
    labels = {"unit_code": "mã đơn vị", "indicator_code": "mã chỉ tiêu",
              "period": "kỳ báo cáo"}
    source_column = {"period": "period_text"}
    return pl.concat([
        error_rows(frame, pl.col(source_column.get(c, c)).is_null(), column=c, rule="required",
                   vi=f"ô trống: cần ghi {labels[c]}", en=f"empty cell: {c} is required")
        for c in labels
    ])


def _indicator_errors(frame: pl.DataFrame) -> pl.DataFrame:
    code = pl.col("indicator_code")
    return error_rows(frame, code.is_not_null() & pl.col("indicator_id").is_null(),
                      column="indicator_code", rule="indicator_unknown",
                      vi=pl.format("không có chỉ tiêu mã '{}' trong danh mục", code),
                      en=pl.format("no indicator with code '{}' in the catalogue", code))


def _unit_errors(frame: pl.DataFrame) -> pl.DataFrame:
    code = pl.col("unit_code")
    unknown = code.is_not_null() & ~pl.col("unit_known")
    not_valid = (pl.col("unit_known") & pl.col("unit_id").is_null()
                 & pl.col("period_end").is_not_null())
    return pl.concat([
        error_rows(frame, unknown, column="unit_code", rule="unit_unknown",
                   vi=pl.format("không có đơn vị mã '{}'", code),
                   en=pl.format("no unit with code '{}'", code)),
        error_rows(frame, not_valid, column="unit_code", rule="unit_not_valid_in_period",
                   vi=pl.format("đơn vị mã '{}' không có hiệu lực vào cuối kỳ {}", code,
                                pl.col("period")),
                   en=pl.format("unit '{}' is not valid at the end of period {}", code,
                                pl.col("period"))),
    ])


def _duplicate_errors(frame: pl.DataFrame) -> pl.DataFrame:
    key = ["unit_id", "indicator_id", "period"]
    keyed = frame.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in key))
    keyed = keyed.filter(pl.struct(key).is_duplicated())  # usually none: skip the rest
    keyed = keyed.with_columns(
        first_row=pl.col("_line").first().over(key, order_by="_row"),
        first_sheet=pl.col("_sheet").first().over(key, order_by="_row"),
        position=pl.int_range(pl.len()).over(key, order_by="_row"))
    return error_rows(keyed, pl.col("position") > 0, column="unit_code", rule="duplicate_row",
                      vi=pl.format("trùng đơn vị, chỉ tiêu và kỳ với dòng {}", "first_row"),
                      en=pl.format("same unit, indicator and period as row {}", "first_row"))


def _source_errors(frame: pl.DataFrame) -> pl.DataFrame:
    return error_rows(frame, pl.col("source").str.len_chars() > SOURCE_MAX, column="source",
                      rule="text_too_long",
                      vi=f"nguồn dài quá {SOURCE_MAX} ký tự (ghi chi tiết vào ghi chú)",
                      en=f"source longer than {SOURCE_MAX} characters (put details in "
                         "the comment)")


def _permission_errors(frame: pl.DataFrame, access: Access) -> pl.DataFrame:
    if access.can(Action.CAPTURE):
        return empty_errors()
    # One question per distinct unit (a file names a handful), not per row.
    unit_ids = frame.get_column("unit_id").drop_nulls().unique().to_list()
    denied = [u for u in unit_ids if not access.can(Action.CAPTURE, u)]
    code = pl.col("unit_code")
    return error_rows(frame, pl.col("unit_id").is_in(denied), column="unit_code",
                      rule="permission",
                      vi=pl.format("bạn không có quyền nhập số liệu cho đơn vị '{}'", code),
                      en=pl.format("you may not enter data for unit '{}'", code))


def _first_error_per_cell(errors: pl.DataFrame) -> pl.DataFrame:
    return errors.unique(subset=["_row", "column", "rule"], keep="first", maintain_order=True)


COLUMN_ORDER = {name: i for i, name in enumerate(TEXT_COLUMNS)}


def _header_labels(tables: list[SheetTable]) -> dict[tuple[str, str], str]:
    return {(t.sheet, column): label for t in tables for column, label in t.labels.items()}


def _issues(errors: pl.DataFrame, frame: pl.DataFrame, file_name: str,
            labels: dict[tuple[str, str], str] | None = None) -> list[ImportIssue]:
    """Errors in reading order: sheet, row, then column from left to right."""
    located = errors.join(frame.select("_row", "_sheet", "_line"), on="_row", how="left")
    located = located.with_columns(
        _order=pl.col("column").replace_strict(COLUMN_ORDER, default=99)).sort(
        "_row", "_order")
    labels = labels or {}
    return [ImportIssue(file_name, row["_sheet"] or "", row["_line"], row["column"],
                        row["rule"], row["message_vi"], row["message_en"],
                        labels.get((row["_sheet"] or "", row["column"]), ""))
            for row in located.iter_rows(named=True)]


# ------------------------------------------------------------------ diff and store


def diff_frames(plan: ChangePlan) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    def view(frame: pl.DataFrame, with_old: bool) -> pl.DataFrame:
        columns = [pl.col("_sheet").alias("sheet"), pl.col("_line").alias("row"),
                   "unit_code", "indicator_code", "period", "numerator", "denominator",
                   "value", "comment", "estimate"]
        if with_old:
            columns += [pl.col(f"{n}_old") for n in ("numerator", "denominator", "value",
                                                     "comment")]
        return frame.select(columns).sort("sheet", "row")

    return view(plan.inserts, False), view(plan.updates, True), view(plan.unchanged, False)


def _store(session: Session, plan: ChangePlan, result: ImportResult, *, kind: str,
           access: Access) -> int:
    batch = ImportBatch(kind=kind, file_name=result.file_name[:400], sha256=result.sha256,
                        user_id=getattr(access.actor, "id", None))
    session.add(batch)
    session.flush()
    event = BatchEvent(action="values.import", object_type="import_batch",
                       object_id=batch.id, note=result.file_name,
                       after={"file": result.file_name, "sha256": result.sha256})
    summary = apply_changes(session, plan, source=DEFAULT_SOURCE, access=access,
                            import_batch_id=batch.id, event=event)
    batch.inserted, batch.updated, batch.unchanged = summary
    batch.finished_at, batch.status = utcnow(), "done"
    return batch.id


def issue_frame(issues: list[ImportIssue]) -> pl.DataFrame:
    """Errors as a table (for the CLI and the page)."""
    return pl.DataFrame([i.as_dict() for i in issues], schema={
        "file": pl.String, "sheet": pl.String, "row": pl.Int64, "column": pl.String,
        "rule": pl.String, "message_vi": pl.String, "message_en": pl.String,
        "text": pl.String})

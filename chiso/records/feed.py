"""Reading a dossier feed (CSV, JSON Lines or Parquet) into DuckDB, normalised and checked.

Everything is set-based SQL over the file, streamed by DuckDB, so a file larger than memory
is read in chunks and checked in one pass without Python loops over rows. A file with any
bad row is refused before anything is written; the errors name file, row, column and rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

from chiso.errors import UserError
from chiso.records.models import Channel, ServiceLevel
from chiso.settings import get_settings
from chiso.text import vn_today

TEXT_COLUMNS = ("dossier_code", "procedure_code", "unit_code", "status")
TIME_COLUMNS = ("received_at", "due_at", "finished_at", "updated_at")
FLAG_COLUMNS = ("electronic_result", "digitised", "paid_online")
ALL_COLUMNS = (
    "dossier_code", "procedure_code", "unit_code", "received_at", "channel",
    "service_level", "status", "due_at", "finished_at", "electronic_result", "digitised",
    "paid_online", "fee_due", "updated_at",
)
REQUIRED = ("dossier_code", "procedure_code", "unit_code", "received_at", "channel",
            "updated_at")

# Accepted spellings, compared after lower-casing, removing accents and joining words by "_".
CHANNEL_ALIASES = {
    Channel.IN_PERSON: ("truc_tiep", "direct", "in_person", "1"),
    Channel.ONLINE: ("truc_tuyen", "online", "dvctt", "2"),
    Channel.POSTAL: ("buu_chinh", "buu_chinh_cong_ich", "bcci", "postal", "post", "3"),
}
SERVICE_LEVEL_ALIASES = {
    ServiceLevel.FULL: ("toan_trinh", "full", "full_online", "muc_4", "4"),
    ServiceLevel.PARTIAL: ("mot_phan", "partial", "partial_online", "muc_3", "3"),
    ServiceLevel.NONE: ("khong", "none", "not_online", "truc_tiep", "thong_tin", "muc_2", "2",
                        "0"),
}
NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                "UINTEGER", "UBIGINT", "HUGEINT", "DOUBLE", "FLOAT")
TRUE_WORDS = ("1", "true", "t", "yes", "y", "co", "x", "dung")
FALSE_WORDS = ("0", "false", "f", "no", "n", "khong", "sai")

RULES = {
    "required": ("thiếu giá trị bắt buộc", "a required value is missing"),
    "datetime": ("ngày giờ không hợp lệ (dùng YYYY-MM-DD HH:MM hoặc dd/mm/yyyy HH:MM)",
                 "not a valid date-time (use YYYY-MM-DD HH:MM or dd/mm/yyyy HH:MM)"),
    "channel": ("kênh phải là trực tiếp, trực tuyến hoặc bưu chính công ích",
                "channel must be trực tiếp, trực tuyến or bưu chính công ích"),
    "service_level": ("mức độ dịch vụ phải là toàn trình, một phần hoặc không",
                      "service level must be toàn trình, một phần or không"),
    "flag": ("phải là có/không (1/0)", "must be yes/no (1/0)"),
    "amount": ("phí phải là số không âm", "the fee must be a non-negative number"),
    "finished_before_received": ("ngày hoàn thành sớm hơn ngày tiếp nhận",
                                 "finished before it was received"),
    "future": ("ngày tiếp nhận chưa tới (sau hôm nay)", "received after today"),
    "unknown_unit": ("mã đơn vị không có trong danh mục đơn vị",
                     "the unit code is not a known unit"),
    "unknown_procedure": ("mã thủ tục không có trong danh mục thủ tục (nạp danh mục trước)",
                          "the procedure code is not in the procedure catalogue (load it first)"),
    # Files DuckDB cannot read at all (chiso/records/unreadable.py names the line).
    "encoding": ("không phải văn bản UTF-8 (lưu lại tệp dạng CSV UTF-8)",
                 "not UTF-8 text (save the file as CSV UTF-8)"),
    "csv_format": ("dòng CSV sai cấu trúc (số cột hoặc dấu ngoặc kép)",
                   "malformed CSV line (number of columns or quotes)"),
    "json": ("dòng JSON không hợp lệ", "not valid JSON"),
    "json_object": ("mỗi dòng phải là một đối tượng JSON {...}",
                    "each line must be a JSON object {...}"),
}


@dataclass(frozen=True)
class RowError:
    file: str
    row: int
    column: str
    value: str
    rule: str

    def parts(self) -> tuple[str, str]:
        """The refusal of this row in Vietnamese and in English."""
        vi, en = RULES[self.rule]
        shown = f" ('{self.value}')" if self.value else ""
        # A line that cannot be parsed at all may have no column to name.
        cot = f", cột '{self.column}'" if self.column else ""
        column = f", column '{self.column}'" if self.column else ""
        return (f"Tệp '{self.file}', dòng {self.row}{cot}: {vi}{shown}",
                f"file '{self.file}', row {self.row}{column}: {en}{shown}")

    def message(self) -> str:
        return " / ".join(self.parts())

    def to_dict(self) -> dict[str, object]:
        """One item of the refusal's `issues` (the API's JSON)."""
        vi, en = self.parts()
        return {"row": self.row, "column": self.column, "rule": self.rule,
                "value": self.value, "message": self.message(), "message_vi": vi,
                "message_en": en}


class FeedRejected(UserError):
    """The feed has bad rows or columns; nothing was stored (422). `issues` lists the first
    bad rows (file, row, column, rule); `problem` is a (vi, en) pair about the whole file."""

    status = 422

    def __init__(self, errors: list[RowError], total_bad: int,
                 problem: tuple[str, str] | None = None) -> None:
        self.errors = errors
        self.total_bad = total_bad
        vi_lines, en_lines = [problem[0]] if problem else [], [problem[1]] if problem else []
        for error in errors:
            vi, en = error.parts()
            vi_lines.append(vi)
            en_lines.append(en)
        if total_bad > len(errors):
            vi_lines.append(f"… và {total_bad - len(errors)} dòng lỗi khác")
            en_lines.append(f"… and {total_bad - len(errors)} more bad rows")
        vi_lines.append("Không lưu gì từ tệp này")
        en_lines.append("nothing from this file was stored")
        super().__init__("\n".join(vi_lines), "\n".join(en_lines), issues=errors,
                         data={"bad_rows": total_bad})


def file_format(path: Path) -> str:
    suffixes = "".join(path.suffixes).lower()
    for ending, kind in ((".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                         (".json", "jsonl"), (".parquet", "parquet")):
        if suffixes.endswith(ending) or suffixes.endswith(ending + ".gz"):
            return kind
    raise FeedRejected([], 0, (
        f"Tệp '{path.name}': chỉ nhận CSV, JSON Lines hoặc Parquet",
        f"file '{path.name}': only CSV, JSON Lines or Parquet are accepted"))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def register_source(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """View `src`: the file's columns plus `row_no`, the row number a user sees."""
    kind, name = file_format(path), _quote(str(path))
    if kind == "csv":
        # Line 1 is the header, so data row n is line n + 1 — the number Excel shows.
        body = (f"SELECT row_number() OVER () + 1 AS row_no, * FROM read_csv({name}, "
                "header=true, all_varchar=true)")
    elif kind == "jsonl":
        cols = ", ".join(f"{c}: 'VARCHAR'" for c in ALL_COLUMNS)
        body = (f"SELECT row_number() OVER () AS row_no, * FROM read_json({name}, "
                f"format='newline_delimited', records=true, columns={{{cols}}})")
    else:
        body = (f"SELECT file_row_number + 1 AS row_no, * EXCLUDE (file_row_number) "
                f"FROM read_parquet({name}, file_row_number=true)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW src AS {body}")


def source_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("DESCRIBE src").fetchall()
    return {str(r[0]).strip().lower(): str(r[1]) for r in rows}


def _key(expr: str) -> str:
    """'Bưu chính  công ích' → 'buu_chinh_cong_ich' (accents off, đ → d, words joined)."""
    plain = f"strip_accents(replace(replace(lower(trim({expr})), 'đ', 'd'), 'Đ', 'd'))"
    return f"regexp_replace({plain}, '[^a-z0-9]+', '_', 'g')"


def _text(col: str, kind: str) -> str:
    value = col if kind == "VARCHAR" else f"{col}::VARCHAR"
    # trim() is the dearest step for a column of unique codes: only where a space is.
    trimmed = f"CASE WHEN {value} LIKE ' %' OR {value} LIKE '% ' THEN trim({value}) " \
              f"ELSE {value} END"
    return f"nullif(nfc_normalize({trimmed}), '')"


def _zone() -> str:
    return get_settings().time_zone


def _time(col: str, kind: str) -> str:
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('{_zone()}', {col})"
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"{col}::TIMESTAMP"
    text = f"nullif(trim({col}::VARCHAR), '')"
    # Offsets such as +07:00 or Z are honoured; a time without one is Vietnam local time.
    return (f"coalesce(timezone('{_zone()}', try_cast({text} AS TIMESTAMPTZ)), "
            f"try_strptime({text}, ['%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y', "
            f"'%d-%m-%Y %H:%M:%S', '%d-%m-%Y']))")


def _flag(col: str, kind: str) -> str:
    if kind == "BOOLEAN":
        return f"coalesce({col}, false)"
    if kind in NUMBER_TYPES:
        return f"coalesce({col} <> 0, false)"
    key = _key(f"coalesce({col}::VARCHAR, '')")
    true_list = ", ".join(_quote(w) for w in TRUE_WORDS)
    false_list = ", ".join(_quote(w) for w in (*FALSE_WORDS, ""))
    # The plain words first: the accent-stripping regex is for odd spellings only.
    return (f"CASE WHEN {col} IS NULL THEN false WHEN {col} IN ({true_list}) THEN true "
            f"WHEN {col} IN ({false_list}) THEN false WHEN {key} IN ({true_list}) "
            f"THEN true WHEN {key} IN ({false_list}) THEN false END")


def _amount(col: str, kind: str) -> str:
    if kind not in ("VARCHAR",):
        return f"coalesce({col}::DOUBLE, 0)"
    text = f"trim(coalesce({col}, ''))"
    # "50.000" and "1.234.567,5" are Vietnamese; "50000" and "12.5" are plain.
    vietnamese = (f"try_cast(replace(replace({text}, '.', ''), ',', '.') AS DOUBLE)")
    return (f"CASE WHEN {text} = '' THEN 0 "
            f"WHEN regexp_full_match({text}, '\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?') "
            f"THEN {vietnamese} ELSE try_cast(replace({text}, ',', '.') AS DOUBLE) END")


def _enum(col: str, aliases: dict) -> str:  # type: ignore[type-arg]
    """Code of an alias after accents, case and separators are dropped (SQL over text)."""
    key = _key(col)
    cases = " ".join(
        f"WHEN {key} IN ({', '.join(_quote(a) for a in words)}) THEN '{code.value}'"
        for code, words in aliases.items())
    return f"CASE {cases} END"


LOOKUP_LIMIT = 1000
"""A file has a handful of spellings of each channel, level and yes/no; beyond this many
the column is read row by row (slower, same result)."""


def _readers(columns: dict[str, str]) -> dict[str, str]:
    """Per spelled column: SQL over a text `v` giving its value (code, or true/false)."""
    readers = {"channel": _enum("v", CHANNEL_ALIASES),
               "service_level": _enum("v", SERVICE_LEVEL_ALIASES)}
    readers |= {c: _flag("v", "VARCHAR") for c in FLAG_COLUMNS}
    return {c: sql for c, sql in readers.items()
            if columns.get(c) == "VARCHAR" or (c in ("channel", "service_level")
                                               and c in columns)}


def spelled_columns(con: duckdb.DuckDBPyConnection, columns: dict[str, str]
                    ) -> dict[str, str]:
    """SQL reading each spelled column through the file's own distinct spellings, each
    read once: `CASE channel WHEN 'Trực tuyến' THEN 'truc_tuyen' … END`. Reading every row
    with the accent-stripping rule (and its IN lists, which DuckDB runs as joins even when
    the column is not asked for) cost more than all the other checks of a large file."""
    readers = _readers(columns)
    if not readers:
        return {}
    lists = ", ".join(f"list(DISTINCT {c}::VARCHAR)[:{LOOKUP_LIMIT + 1}]" for c in readers)
    [found] = con.execute(f"SELECT {lists} FROM src").fetchall()
    lookups = {}
    for (col, reader), values in zip(readers.items(), found, strict=True):
        values = values or []  # an empty file has no spellings (list() of nothing is NULL)
        if len(values) > LOOKUP_LIMIT:
            continue
        spelled = [v for v in values if v is not None]
        pairs = con.execute(f"SELECT v, {reader} FROM unnest(?::VARCHAR[]) AS t(v)",
                            [spelled]).fetchall()
        whens = " ".join(f"WHEN {_quote(v)} THEN {_literal(value)}" for v, value in pairs
                         if value is not None)
        lookups[col] = f"CASE {col}::VARCHAR {whens} END" if whens else "NULL"
    return lookups


def _literal(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else _quote(str(value))


def normalised_select(columns: dict[str, str], lookups: dict[str, str] | None = None) -> str:
    """SELECT list turning raw columns into typed ones (`raw_<name>` keeps each as read, in
    its own type); a missing optional column is NULL. `lookups`: SQL for the spelled
    columns (`spelled_columns`)."""
    lookups = lookups or {}
    parts = ["row_no"]
    for col in ALL_COLUMNS:
        kind = columns.get(col)
        raw = col if kind else "NULL::VARCHAR"
        kind = kind or "VARCHAR"
        parts.append(f"{raw} AS raw_{col}")
        if col in lookups:
            typed = lookups[col]
            if col in FLAG_COLUMNS:  # blank is "no"; an unknown word stays null (refused)
                typed = f"CASE WHEN {raw} IS NULL THEN false ELSE {typed} END"
        elif col in TEXT_COLUMNS:
            typed = _text(raw, kind)
        elif col in TIME_COLUMNS:
            typed = _time(raw, kind)
        elif col in FLAG_COLUMNS:
            typed = _flag(raw, kind)
        elif col == "fee_due":
            typed = _amount(raw, kind)
        else:
            aliases = CHANNEL_ALIASES if col == "channel" else SERVICE_LEVEL_ALIASES
            typed = _enum(f"{raw}::VARCHAR", aliases)
        parts.append(f"{typed} AS {col}")
    return ", ".join(parts)


def _given(col: str, columns: dict[str, str]) -> str:
    """SQL: the file gave a value in this text column (not blank)."""
    return f"nullif(trim(raw_{col}::VARCHAR), '') IS NOT NULL"


def _misread(col: str, columns: dict[str, str]) -> str:
    """SQL: a value was given but could not be read. Only text can be misread: a typed
    Parquet column (timestamp, boolean, number) is valid or null, so it costs nothing."""
    if columns.get(col, "VARCHAR") != "VARCHAR" and col in (*TIME_COLUMNS, *FLAG_COLUMNS):
        return "false"
    if col in FLAG_COLUMNS:
        return f"{col} IS NULL"
    return f"{col} IS NULL AND {_given(col, columns)}"


def _checks(columns: dict[str, str]) -> list[tuple[str, str, str]]:
    """(column, rule, SQL condition over `feed` that marks the row bad) — one entry per rule,
    as the refusal names them. A dossier received after today (Vietnam time) is a clock or
    typing slip: its period has not begun, and the values service would refuse the whole
    batch without naming it."""
    checks = [(c, "required", f"{c} IS NULL AND NOT ({_given(c, columns)})"
               if columns.get(c) == "VARCHAR" else f"{c} IS NULL") for c in REQUIRED]
    checks += [(c, "datetime", _misread(c, columns)) for c in TIME_COLUMNS]
    checks += [
        ("channel", "channel", _misread("channel", columns)),
        ("service_level", "service_level", _misread("service_level", columns)),
        ("fee_due", "amount", "fee_due IS NULL OR fee_due < 0"),
        ("finished_at", "finished_before_received", "finished_at < received_at"),
        ("received_at", "future", f"received_at >= DATE '{vn_today() + dt.timedelta(days=1)}'"),
        ("unit_code", "unknown_unit",
         "unit_code IS NOT NULL AND unit_code NOT IN (SELECT code FROM known_units)"),
        ("procedure_code", "unknown_procedure", "procedure_code IS NOT NULL AND "
         "procedure_code NOT IN (SELECT code FROM known_procedures)"),
    ]
    checks += [(c, "flag", _misread(c, columns)) for c in FLAG_COLUMNS]
    return [(c, rule, cond) for c, rule, cond in checks if cond != "false"]


def _any_bad(columns: dict[str, str]) -> str:
    """SQL: the row breaks at least one rule — the rules of `_checks`, with a required
    column's two (missing, misread) folded into `IS NULL`: the read value is null exactly
    when the text was blank or could not be read, so no text is trimmed twice."""
    required = [f"{c} IS NULL" for c in REQUIRED]
    others = [cond for c, rule, cond in _checks(columns)
              if not (c in REQUIRED and rule in ("required", "datetime", "channel"))]
    return " OR ".join(f"coalesce({cond}, false)" for cond in (*required, *others))


def prepare(con: duckdb.DuckDBPyConnection, path: Path, display_name: str) -> None:
    """Register `src` and `feed` (normalised) views; refuse a file missing columns."""
    kind = file_format(path)
    con.execute("CREATE OR REPLACE TEMP TABLE feed_file AS SELECT ? AS path, ? AS kind",
                [str(path), kind])
    try:
        register_source(con, path)
        columns = source_columns(con)
    except duckdb.Error as exc:
        raise _unreadable(con, display_name, exc) from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise FeedRejected([], 0, (
            f"Tệp '{display_name}': thiếu cột {', '.join(missing)}",
            f"file '{display_name}': missing column(s) {', '.join(missing)}"))
    try:
        lookups = spelled_columns(con, columns)
    except duckdb.Error as exc:
        raise _unreadable(con, display_name, exc) from None
    con.execute(f"CREATE OR REPLACE TEMP VIEW feed AS SELECT "
                f"{normalised_select(columns, lookups)} FROM src")


STAGED = ("row_no", "k", "dossier_code", "updated_at", "unit_code", "received_at")


def stage(con: duckdb.DuckDBPyConnection, display_name: str, limit: int = 20) -> int:
    """Check the whole file in one streamed pass and keep what deduplication needs in temp
    table `staged` (row_no, key `k`, dossier_code, updated_at, unit_code, received_at) —
    not the whole file: the rows are read again from `feed` when they are written. Raises
    FeedRejected naming the first bad rows (found again only on that error path). Returns
    the row count."""
    columns = source_columns(con)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE staged AS SELECT row_no, "
                    "hash(dossier_code) AS k, dossier_code, updated_at, unit_code, "
                    f"received_at, ({_any_bad(columns)}) AS bad FROM feed")
    except duckdb.Error as exc:
        raise _unreadable(con, display_name, exc) from None
    [(total, bad)] = con.execute(
        "SELECT count(*), count(*) FILTER (bad) FROM staged").fetchall()
    if not bad:
        return int(total)
    raise FeedRejected(_first_bad(con, display_name, _checks(columns), limit), int(bad))


def _first_bad(con: duckdb.DuckDBPyConnection, display_name: str,
               checks: list[tuple[str, str, str]], limit: int) -> list[RowError]:
    """The first `limit` (row, column, rule) breaches, with the value as written."""
    per_rule = " UNION ALL ".join(
        f"SELECT row_no, '{col}' AS col, coalesce(raw_{col}::VARCHAR, '') AS raw, "
        f"'{rule}' AS rule FROM bad_rows WHERE {cond}" for col, rule, cond in checks)
    rows = con.execute(
        f"WITH first_bad AS (SELECT row_no FROM staged WHERE bad ORDER BY row_no "
        f"LIMIT {limit}), bad_rows AS (SELECT * FROM feed WHERE row_no IN "
        f"(SELECT row_no FROM first_bad)) {per_rule} ORDER BY row_no, col LIMIT {limit}"
    ).fetchall()
    return [RowError(display_name, int(r[0]), r[1], str(r[2])[:60], r[3]) for r in rows]


def _unreadable(con: duckdb.DuckDBPyConnection, display_name: str,
                error: duckdb.Error) -> FeedRejected:
    """DuckDB could not read the file (not UTF-8, broken JSON): name the line ourselves."""
    from chiso.records.unreadable import refusal

    path, kind = con.execute("SELECT path, kind FROM feed_file").fetchone()  # type: ignore[misc]
    return refusal(Path(path), display_name, kind, error)

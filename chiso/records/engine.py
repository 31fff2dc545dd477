"""The records engine: DuckDB over the Parquet store. Writes batches of dossier versions and
computes the seven public-service indicators per unit × month.

No Python loop touches a dossier row: ingestion is a handful of streamed SQL statements
and the computation first collapses the dossiers to (unit code, month) counts and bitsets
of the services used and offered, from which every indicator at every level follows by sums
and ORs (DESIGN §4: columnar engine).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from chiso.periods import Calendar, month_key_sql
from chiso.records.models import Channel, ServiceLevel
from chiso.records.store import months_between, range_dir
from chiso.settings import get_settings

MIN_MEMORY_MB, MAX_MEMORY_MB = 1024, 4096


def default_memory_mb() -> int:
    """The engine's memory cap: a quarter of this machine's memory, kept between 1 GB and
    4 GB. A national feed of 10 million dossiers spills to disk under 1 GB and runs half
    again as long; a province's never comes near the cap."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):
        return MIN_MEMORY_MB
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, total // 4))


DEFAULT_MEMORY_MB = default_memory_mb()
STORED_COLUMNS = (
    "dossier_code", "procedure_code", "unit_code", "received_at", "channel",
    "service_level", "status", "due_at", "finished_at", "electronic_result", "digitised",
    "paid_online", "fee_due", "updated_at",
)

# Indicator code → (numerator count, denominator count) from the per-procedure counts.
INDICATORS: dict[str, tuple[str, str]] = {
    "CQS.DVCTT_PHAT_SINH_HS": ("services_with_online", "services_offered"),
    "CQS.HS_TRUC_TUYEN": ("online", "received"),
    "CQS.HS_TOAN_TRINH": ("full_online", "received"),
    "CQS.HS_DUNG_HAN": ("on_time", "finished"),
    "CQS.SO_HOA_HS": ("digitised", "received"),
    "CQS.KQ_DIEN_TU": ("e_result", "finished"),
    "CQS.TT_TRUC_TUYEN": ("paid_online", "with_fee"),
}
COUNTS = ("received", "online", "full_online", "finished", "on_time", "digitised",
          "e_result", "with_fee", "paid_online")
ONLINE_LEVELS = f"('{ServiceLevel.FULL.value}', '{ServiceLevel.PARTIAL.value}')"


def connect(root: Path, *, memory_mb: int = DEFAULT_MEMORY_MB,
            threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose memory is capped; larger work spills under the store."""
    tmp = root / ".tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"threads": threads or os.cpu_count() or 2,
                                 "memory_limit": f"{memory_mb}MB",
                                 "temp_directory": str(tmp)})
    # Times without an offset are the province's local time (setting CHISO_TIME_ZONE).
    con.execute(f"SET TimeZone = '{get_settings().time_zone}'")
    return con


def _list(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


CIVIL_MONTH = "(year({col}) * 100 + month({col}))::INTEGER"
# Parquet 2 pages (delta encodings) write the store a tenth faster and smaller than
# version 1; small row groups keep the partitioned write's open groups (one per month)
# within the memory cap. DuckDB and pyarrow read both.
ROW_GROUP_ROWS = 65536
PARQUET_OPTIONS = f"PARQUET_VERSION V2, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"


def _period(column: str, calendar: Calendar) -> str:
    """The period month (YYYYMM) holding each time of `column` under `calendar`: the
    rule of `chiso.periods` (under NĐ 09/2019, 15/12/2025 is in 202601)."""
    return f"({month_key_sql(column, calendar)})::INTEGER"


def store_months(periods: Iterable[int], calendar: Calendar) -> list[int]:
    """The civil months whose store partitions hold the dossiers of these period months
    (under NĐ 09 a period month also takes the second half of the month before)."""
    wanted = set(periods)
    if calendar is Calendar.CUTOFF_ND09:
        wanted |= {p - 1 if p % 100 > 1 else p - 89 for p in wanted}
    return sorted(wanted)


def register_current(con: duckdb.DuckDBPyConnection, versions: list[str],
                     superseded: list[str], calendar: Calendar = Calendar.STANDARD,
                     months: Iterable[int] | None = None) -> None:
    """View `cur`: the current version of every dossier (stored versions − superseded),
    with `period`, its period month under `calendar` (`month` is its civil month, the
    store partition). With `months`, only the dossiers received in those civil months: a
    one-file batch's row groups of other months are then not read."""
    if not versions:
        cols = ", ".join(f"NULL::VARCHAR AS {c}" for c in ("dossier_code", "procedure_code",
                                                            "unit_code", "channel",
                                                            "service_level", "status"))
        con.execute(f"CREATE OR REPLACE TEMP VIEW cur AS SELECT {cols}, NULL::UBIGINT AS k, "
                    "NULL::INTEGER AS month, NULL::INTEGER AS batch_id, "
                    "NULL::TIMESTAMP AS received_at, NULL::TIMESTAMP AS due_at, "
                    "NULL::TIMESTAMP AS finished_at, NULL::TIMESTAMP AS updated_at, "
                    "NULL::BOOLEAN AS electronic_result, NULL::BOOLEAN AS digitised, "
                    "NULL::BOOLEAN AS paid_online, NULL::DOUBLE AS fee_due, "
                    "NULL::INTEGER AS period WHERE false")
        return
    period = "month" if calendar is Calendar.STANDARD else _period("received_at", calendar)
    only = f" WHERE month IN ({', '.join(map(str, months))})" if months is not None else ""
    body = f"SELECT *, {period} AS period FROM read_parquet({_list(versions)}){only}"
    if superseded:
        body = (f"SELECT v.* FROM ({body}) v ANTI JOIN ({_superseded(con, superseded)}) s "
                "ON v.k = s.k AND v.batch_id = s.batch_id "
                "AND (s.dossier_code IS NULL OR s.dossier_code = v.dossier_code)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW cur AS {body}")


def _superseded(con: duckdb.DuckDBPyConnection, files: list[str]) -> str:
    """The replaced versions: (key, dossier code, batch). A version is named by its code as
    well as its key — DuckDB's hash gives some codes one key, and replacing one such
    dossier must not hide the other. Files written before the code was kept give it as
    NULL (key and batch alone, as then)."""
    source = f"read_parquet({_list(files)}, union_by_name = true)"
    names = {str(row[0]) for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    code = "dossier_code" if "dossier_code" in names else "NULL::VARCHAR AS dossier_code"
    return f"SELECT k, batch_id, {code} FROM {source}"


# ----------------------------------------------------------------------------- ingestion

@dataclass
class BatchPlan:
    rows_read: int
    unique: int  # distinct dossiers in the batch


@dataclass
class BatchWrite:
    rows_read: int
    rows_stored: int
    rows_ignored: int
    # unit_code, month (civil) and p_<calendar> (the period month under each calendar) of
    # every dossier whose current state changed, before and after.
    touched: pl.DataFrame


def plan_batch(con: duckdb.DuckDBPyConnection) -> BatchPlan:
    """Decide what the staged batch changes, given `cur` over the committed store: temp
    tables `prev` (the stored versions of its dossiers), `losers` (its rows that another
    row of the same dossier in the batch supersedes: older, or as old and earlier in the
    file) and `replaced` (stored versions it supersedes)."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE prev AS
        SELECT k, dossier_code, batch_id, updated_at, month, unit_code, received_at FROM cur
        WHERE k IN (SELECT k FROM staged)""")
    # Most dossiers appear once in a batch: only the repeated ones need ranking, which
    # keeps the sort (and its spill to disk) to a small share of a large file.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE repeated AS
        SELECT k, count(*) AS n FROM staged GROUP BY k HAVING count(*) > 1""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE losers AS
        SELECT row_no FROM (
            SELECT row_no, row_number() OVER (
                PARTITION BY k, dossier_code ORDER BY updated_at DESC, row_no DESC) AS rn
            FROM staged WHERE k IN (SELECT k FROM repeated)) WHERE rn > 1""")
    # Which rows of the file are written, as a flag per row in file order: the write reads
    # the file again beside it (a positional join keeps the file's order, so that a file
    # that came in order of receipt is stored in that order; a hash join would not).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE keep AS
        SELECT s.row_no, NOT (l.row_no IS NOT NULL OR coalesce(p.updated_at >= s.updated_at,
                                                              false)) AS keep
        FROM staged s LEFT JOIN losers l ON l.row_no = s.row_no
        LEFT JOIN prev p ON p.k = s.k AND p.dossier_code = s.dossier_code
        ORDER BY s.row_no""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE replaced AS
        SELECT p.k, p.dossier_code, p.batch_id, p.month, p.unit_code, p.received_at
        FROM prev p
        JOIN (SELECT k, dossier_code, max(updated_at) AS newest FROM staged
              WHERE k IN (SELECT k FROM prev) GROUP BY ALL) n
          ON n.k = p.k AND n.dossier_code = p.dossier_code
        WHERE n.newest > p.updated_at""")
    # Distinct dossiers = rows − the rows another row of the same dossier supersedes (no
    # DISTINCT over the file; not by key alone: DuckDB's hash gives some codes one key).
    [(rows_read, extra)] = con.execute(
        "SELECT (SELECT count(*) FROM staged), (SELECT count(*) FROM losers)").fetchall()
    return BatchPlan(int(rows_read), int(rows_read) - int(extra))


def owners(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """unit_code, month (civil) of every row of the planned batch and of every stored
    version it would replace: the units whose records it changes (CAPTURE on each)."""
    return con.sql(f"""
        SELECT DISTINCT unit_code, {CIVIL_MONTH.format(col="received_at")} AS month
        FROM staged
        UNION SELECT DISTINCT unit_code, month FROM replaced""").pl()


def store_batch(con: duckdb.DuckDBPyConnection, root: Path, batch_id: int,
                plan: BatchPlan) -> BatchWrite:
    """Write the planned batch as `batch_id`: its new versions, and the stored versions
    they replace listed in `superseded` under their own month (so the month a dossier used
    to count in is recomputed too). A version no newer than the stored one is ignored."""
    _write_superseded(con, root, batch_id)
    stored = _write_versions(con, root, batch_id)
    periods = ", ".join(f"{_period('received_at', c)} AS p_{c.value}" for c in Calendar)
    touched = con.sql(f"""
        SELECT DISTINCT unit_code, month, {periods} FROM read_parquet(
            '{root}/versions/*/b{batch_id:08d}_*.parquet')
        UNION SELECT DISTINCT unit_code, month, {periods} FROM replaced""").pl() if stored \
        else pl.DataFrame(schema={"unit_code": pl.String, "month": pl.Int32,
                                  **{f"p_{c.value}": pl.Int32 for c in Calendar}})
    return BatchWrite(plan.rows_read, int(stored), plan.unique - int(stored), touched)


def _write_superseded(con: duckdb.DuckDBPyConnection, root: Path, batch_id: int) -> int:
    count = con.execute("SELECT count(*) FROM replaced").fetchone()[0]  # type: ignore[index]
    if count:
        con.execute(f"""
            COPY (SELECT k, dossier_code, batch_id, month FROM replaced) TO '{root}/superseded'
            (FORMAT parquet, PARTITION_BY (month), WRITE_PARTITION_COLUMNS true, APPEND,
             FILENAME_PATTERN 's{batch_id:08d}_{{uuid}}', {PARQUET_OPTIONS})""")
    return int(count)


def _write_versions(con: duckdb.DuckDBPyConnection, root: Path, batch_id: int) -> int:
    """Read the file again through `feed` and write its newest row of each dossier, when it
    is newer than the stored version: as one file when the file came in order of receipt,
    else one file per civil month of receipt."""
    columns = ", ".join(f"f.{c}" for c in STORED_COLUMNS)
    query = f"""
        SELECT hash(f.dossier_code) AS k, {columns}, {batch_id}::INTEGER AS batch_id,
               {CIVIL_MONTH.format(col="f.received_at")} AS month
        FROM feed f POSITIONAL JOIN keep g
        WHERE CASE WHEN f.row_no = g.row_no THEN g.keep
                   ELSE error('records: the file changed while it was read') END
"""
    span = _in_order_of_receipt(con)
    if span is None:
        target = (f"'{root}/versions' (FORMAT parquet, PARTITION_BY (month), "
                  f"WRITE_PARTITION_COLUMNS true, APPEND, "
                  f"FILENAME_PATTERN 'b{batch_id:08d}_{{uuid}}', {PARQUET_OPTIONS})")
    else:
        folder = root / "versions" / range_dir(*span)
        folder.mkdir(parents=True, exist_ok=True)
        target = (f"'{folder / f'b{batch_id:08d}_{uuid.uuid4().hex}.parquet'}' "
                  f"(FORMAT parquet, {PARQUET_OPTIONS})")
    result = con.execute(f"COPY ({query}) TO {target}").fetchone()
    return int(result[0]) if result else 0


def _in_order_of_receipt(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    """(first, last) civil month of the staged rows when they came in order of receipt, so
    that written as one file in their own order each month is a few row groups that a
    reader finds by their statistics — and the write skips the partitioning that costs
    about a third of it. In order: the row-group-sized blocks of the file overlap in a
    month or two at most (sorted rows: each block shares one month with the next; shuffled
    rows: every block holds every month). A single month is one partition anyway."""
    month = CIVIL_MONTH.format(col="received_at")
    [(spans, blocks, first, last)] = con.execute(f"""
        SELECT sum(months), count(*), min(first), max(last) FROM (
            SELECT count(DISTINCT {month}) AS months, min({month}) AS first,
                   max({month}) AS last
            FROM staged GROUP BY row_no // {ROW_GROUP_ROWS})""").fetchall()
    if not blocks or first == last:
        return None
    months = len(months_between(int(first), int(last)))
    return (int(first), int(last)) if spans <= months + 2 * blocks else None


# --------------------------------------------------------------------------- computation

def procedure_counts(con: duckdb.DuckDBPyConnection, periods: list[int] | None = None,
                     unit_codes: list[str] | None = None) -> None:
    """Temp table `grp`: per (unit code, period month, procedure word) the additive counts
    of the current dossiers and two bitsets — the online procedures used online (`online_mask`)
    and the (level, field) groups that received dossiers (`active_groups`).

    This one pass over the dossiers is the only heavy step. Distinct services are bits, so
    every level above is an OR of its leaves' bitsets instead of a DISTINCT over
    (unit, procedure) pairs; with at most 64 procedures a unit-month is one row.
    """
    # Only whole periods: under NĐ 09 the files read for a period also hold half of the
    # periods next to it.
    conditions = [f"c.period IN ({', '.join(map(str, periods))})"] if periods else []
    if unit_codes is not None:
        con.register("scope_df", pl.DataFrame({"code": unit_codes},
                                              schema={"code": pl.String}).to_arrow())
        con.execute("CREATE OR REPLACE TEMP TABLE scope_codes AS SELECT * FROM scope_df")
        con.unregister("scope_df")
        conditions.append("c.unit_code IN (SELECT code FROM scope_codes)")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    online, full = Channel.ONLINE.value, ServiceLevel.FULL.value
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE grp AS
        SELECT c.unit_code, c.period AS month, p.word, p.gword,
          count(*) AS received,
          count(*) FILTER (c.channel = '{online}') AS online,
          count(*) FILTER (c.channel = '{online}'
                           AND coalesce(c.service_level, p.service_level) = '{full}')
                           AS full_online,
          count(c.finished_at) AS finished,
          count(*) FILTER (c.finished_at IS NOT NULL
                           AND (c.due_at IS NULL OR c.finished_at <= c.due_at)) AS on_time,
          count(*) FILTER (c.digitised) AS digitised,
          count(*) FILTER (c.finished_at IS NOT NULL AND c.electronic_result) AS e_result,
          count(*) FILTER (c.fee_due > 0) AS with_fee,
          count(*) FILTER (c.fee_due > 0 AND c.paid_online) AS paid_online,
          bit_or(p.bit) FILTER (c.channel = '{online}' AND p.online_service) AS online_mask,
          bit_or(p.gbit) AS active_groups
        FROM cur c LEFT JOIN proc p ON p.code = c.procedure_code
        {where}
        GROUP BY ALL""")


def grp_unit_months(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql("SELECT DISTINCT unit_code, month FROM grp").pl()


def indicator_table(con: duckdb.DuckDBPyConnection, umap: pl.DataFrame,
                    closure: pl.DataFrame) -> pl.DataFrame:
    """Long frame (unit_id, month, indicator_code, numerator, denominator) for every unit
    that is a leaf or an ancestor of one. `umap`: unit_code, month → leaf_id (through the
    lineage); `closure`: leaf_id → unit_id (itself and every ancestor)."""
    con.register("umap_df", umap.to_arrow())
    con.register("closure_df", closure.to_arrow())
    sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in COUNTS)
    masks = "bit_or(online_mask) AS online_mask, bit_or(active_groups) AS active_groups"
    wide = con.sql(f"""
        WITH leaf AS (
            SELECT u.leaf_id, g.month, g.word, g.gword, {sums}, {masks}
            FROM grp g JOIN umap_df u USING (unit_code, month) GROUP BY ALL),
        rolled AS (
            SELECT c.unit_id, l.month, l.word, l.gword, {sums}, {masks}
            FROM leaf l JOIN closure_df c USING (leaf_id) GROUP BY ALL),
        additive AS (
            -- a procedure has one (word, gword): its bit is in one row of the unit-month
            SELECT unit_id, month, {sums},
                   coalesce(sum(bit_count(online_mask)::BIGINT), 0)::BIGINT AS services_with_online
            FROM rolled GROUP BY ALL),
        groups AS (
            SELECT unit_id, month, gword, bit_or(active_groups) AS active
            FROM rolled WHERE gword IS NOT NULL GROUP BY ALL),
        offered AS (
            SELECT g.unit_id, g.month, sum({_offered_expr()})::BIGINT AS services_offered
            FROM groups g JOIN group_weights w USING (gword) GROUP BY ALL)
        SELECT a.*, coalesce(o.services_offered, 0) AS services_offered
        FROM additive a LEFT JOIN offered o USING (unit_id, month)""").pl()
    con.unregister("umap_df")
    con.unregister("closure_df")
    return to_long(wide)


WEIGHT_BITS = 16  # a (level, field) group offers fewer than 65,536 online procedures


def _offered_expr() -> str:
    """Online procedures offered by the active groups: Σ over set group bits of the group's
    count, written as Σ_k 2^k · popcount(active & groups whose count has bit k)."""
    return " + ".join(f"bit_count(g.active & w.m{k})::BIGINT * {1 << k}"
                      for k in range(WEIGHT_BITS))


def to_long(wide: pl.DataFrame) -> pl.DataFrame:
    """One row per indicator from the wide counts frame."""
    frames = [
        wide.select(pl.col("unit_id").cast(pl.Int64), pl.col("month").cast(pl.Int32),
                    pl.lit(code).alias("indicator_code"),
                    pl.col(num).cast(pl.Float64).alias("numerator"),
                    pl.col(den).cast(pl.Float64).alias("denominator"))
        for code, (num, den) in INDICATORS.items()
    ]
    if not frames or wide.is_empty():
        return pl.DataFrame(schema={"unit_id": pl.Int64, "month": pl.Int32,
                                    "indicator_code": pl.String, "numerator": pl.Float64,
                                    "denominator": pl.Float64})
    return pl.concat(frames)


def register_procedures(con: duckdb.DuckDBPyConnection, procedures: pl.DataFrame) -> None:
    """Table `proc` (code, level, field, service_level and the procedure's bit: word, bit,
    online_service; its (level, field) group's bit: gword, gbit), `group_weights` and
    `known_procedures`."""
    con.register("proc_df", procedures.select("code", "level", "field", "service_level")
                 .to_arrow())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE proc AS
        WITH numbered AS (
            SELECT *, row_number() OVER (ORDER BY code) - 1 AS idx,
                   dense_rank() OVER (ORDER BY level, field) - 1 AS gidx
            FROM proc_df)
        SELECT code, level, field, service_level,
               (idx // 64)::INTEGER AS word, (1::UBIGINT << (idx % 64)::INTEGER) AS bit,
               coalesce(service_level IN {ONLINE_LEVELS}, false) AS online_service,
               (gidx // 64)::INTEGER AS gword, (1::UBIGINT << (gidx % 64)::INTEGER) AS gbit
        FROM numbered""")
    weights = ", ".join(
        f"coalesce(bit_or(gbit) FILTER ((n >> {k}) & 1 = 1), 0::UBIGINT) AS m{k}"
        for k in range(WEIGHT_BITS))
    # Per group word: the masks of groups whose online-procedure count has bit k set.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE group_weights AS
        SELECT gword, {weights} FROM (
            SELECT gword, gbit, count(*) FILTER (online_service) AS n FROM proc GROUP BY ALL)
        GROUP BY gword""")
    con.execute("CREATE OR REPLACE TEMP VIEW known_procedures AS SELECT code FROM proc")
    con.unregister("proc_df")


def register_units(con: duckdb.DuckDBPyConnection, codes: list[str]) -> None:
    con.register("unit_codes_df", pl.DataFrame({"code": codes}, schema={"code": pl.String})
                 .to_arrow())
    con.execute("CREATE OR REPLACE TEMP TABLE known_units AS SELECT DISTINCT code "
                "FROM unit_codes_df")
    con.unregister("unit_codes_df")


def procedures_without_online(con: duckdb.DuckDBPyConnection, unit_codes: list[str],
                              months: list[int]) -> pl.DataFrame:
    """Online procedures offered by these units in these months (their level and field had
    dossiers) that received no online dossier: the list a department acts on."""
    codes = ", ".join("'" + c.replace("'", "''") + "'" for c in unit_codes) or "NULL"
    month_list = ", ".join(map(str, months)) or "NULL"
    return con.sql(f"""
        WITH mine AS (SELECT * FROM cur WHERE unit_code IN ({codes})
                      AND period IN ({month_list})),
        active AS (SELECT DISTINCT p.level, p.field FROM mine m
                   JOIN proc p ON p.code = m.procedure_code),
        used AS (SELECT procedure_code, count(*) AS dossiers,
                        count(*) FILTER (channel = '{Channel.ONLINE.value}') AS online
                 FROM mine GROUP BY ALL)
        SELECT p.code, p.service_level, p.field, coalesce(u.dossiers, 0) AS dossiers
        FROM proc p JOIN active a ON a.level = p.level AND a.field = p.field
        LEFT JOIN used u ON u.procedure_code = p.code
        WHERE p.service_level IN {ONLINE_LEVELS} AND coalesce(u.online, 0) = 0
        ORDER BY dossiers DESC, p.code""").pl()

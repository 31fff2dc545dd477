"""The ingestion `chiso bench records` measures chiso against: a plain DuckDB read, check and
write of the same feed by the same rules, as an analyst fluent in DuckDB would write it —
one statement that reads and checks every row, one that keeps the newest row of each
dossier and writes it by month. Written apart from `chiso.records.feed` and `.engine` on
purpose (only the rule tables are shared), so that agreeing outputs mean something.

It handles what the bench feeds it: a typed Parquet feed into an empty store.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from chiso.records.feed import CHANNEL_ALIASES, FLAG_COLUMNS, REQUIRED, SERVICE_LEVEL_ALIASES

COLUMNS = ("dossier_code", "procedure_code", "unit_code", "received_at", "channel",
           "service_level", "status", "due_at", "finished_at", "electronic_result",
           "digitised", "paid_online", "fee_due", "updated_at")


def _code(column: str, aliases: dict) -> str:  # type: ignore[type-arg]
    """The code of a spelling: accents, case and separators dropped, then looked up."""
    key = (f"regexp_replace(strip_accents(replace(lower(trim({column})), 'đ', 'd')), "
           "'[^a-z0-9]+', '_', 'g')")
    whens = " ".join(f"WHEN {key} IN ({', '.join(repr(a) for a in words)}) "
                     f"THEN '{code.value}'" for code, words in aliases.items())
    return f"CASE {whens} END"


def ingest(con: duckdb.DuckDBPyConnection, feed: Path, out: Path, *, today: str) -> int:
    """Check `feed` (refused with ValueError on any bad row) and write its newest version of
    each dossier under `out/month=YYYYMM/`; returns the rows written. `con` has tables
    `known_units(code)` and `known_procedures(code)`."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ref_rows AS
        SELECT file_row_number AS row_no, * EXCLUDE (channel, service_level, file_row_number),
               {_code('channel', CHANNEL_ALIASES)} AS channel,
               {_code('service_level', SERVICE_LEVEL_ALIASES)} AS service_level,
               nullif(trim(service_level), '') IS NOT NULL AS level_given
        FROM read_parquet('{feed}', file_row_number=true)""")
    required = " OR ".join(f"{c} IS NULL" for c in REQUIRED)
    [(bad,)] = con.execute(f"""
        SELECT count(*) FROM ref_rows WHERE {required}
            OR (level_given AND service_level IS NULL)
            OR fee_due < 0 OR finished_at < received_at OR received_at >= DATE '{today}' + 1
            OR unit_code NOT IN (SELECT code FROM known_units)
            OR procedure_code NOT IN (SELECT code FROM known_procedures)""").fetchall()
    if bad:
        raise ValueError(f"{bad} bad rows")
    flags = ", ".join(f"coalesce({c}, false) AS {c}" for c in FLAG_COLUMNS)
    plain = [c for c in COLUMNS if c not in FLAG_COLUMNS and c != "fee_due"]
    [(written,)] = con.execute(f"""
        COPY (SELECT hash(dossier_code) AS k, {', '.join(plain)}, {flags},
                     coalesce(fee_due, 0) AS fee_due, 1 AS batch_id,
                     year(received_at) * 100 + month(received_at) AS month
              FROM ref_rows
              QUALIFY row_number() OVER (PARTITION BY dossier_code
                                         ORDER BY updated_at DESC, row_no DESC) = 1)
        TO '{out}' (FORMAT parquet, PARTITION_BY (month))""").fetchall()
    return int(written)


def differences(con: duckdb.DuckDBPyConnection, ours: list[str], theirs: Path) -> int:
    """Rows stored by one side and not the other (every column compared): 0 when they
    agree."""
    compared = ", ".join(("k", *COLUMNS, "month"))
    listed = "[" + ", ".join(f"'{f}'" for f in ours) + "]"
    [(count,)] = con.execute(f"""
        WITH a AS (SELECT {compared} FROM read_parquet({listed})),
             b AS (SELECT {compared} FROM read_parquet('{theirs}/*/*.parquet',
                                                       hive_partitioning = true))
        SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM b))
             + (SELECT count(*) FROM (SELECT * FROM b EXCEPT ALL SELECT * FROM a))
        """).fetchall()
    return int(count)

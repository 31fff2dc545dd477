"""The engine counts distinct services with bitsets: with more procedures than one 64-bit
word holds, (level, field) groups straddling a word and more groups than one word, every
figure must still equal the straightforward pandas computation (benchmarks.records_pandas),
at the leaves and at every level above. No database: DuckDB and pandas on the same rows."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from benchmarks import records_pandas
from chiso.records import engine

LEVELS = ("toan_trinh", "mot_phan", "khong")
CHANNELS = ("truc_tuyen", "truc_tiep", "buu_chinh")


def catalogue(rng: np.random.Generator) -> pl.DataFrame:
    """280 procedures: groups of 70 (across words 0 and 1), 3, 100 and 27, then 80 groups of
    one (so the group bits need a second word too)."""
    sizes = [("xa", "Hộ tịch", 70), ("xa", "Chứng thực", 3), ("tinh", "Đất đai", 100),
             ("tinh", "Xây dựng", 27)] + [("tinh", f"Lĩnh vực {i:02d}", 1) for i in range(80)]
    rows = [(f"P{len(rows_) + n:04d}", level, field, str(rng.choice(LEVELS)))
            for rows_ in [[]] for level, field, size in sizes for n in range(size)]
    codes = [f"P{i:04d}" for i in range(len(rows))]
    return pl.DataFrame({"code": codes, "level": [r[1] for r in rows],
                         "field": [r[2] for r in rows], "service_level": [r[3] for r in rows],
                         "name": codes})


def dossiers(rng: np.random.Generator, codes: list[str], n: int = 6000) -> pl.DataFrame:
    # Skewed so that many procedures get no dossier, or none online, in a unit-month.
    weights = np.where(rng.random(len(codes)) < 0.4, 1e-3, 1.0)
    received = dt.datetime(2025, 1, 1)
    days = rng.integers(0, 90, n)
    finished = rng.random(n) < 0.7
    return pl.DataFrame({
        "k": np.arange(n, dtype=np.uint64), "dossier_code": [f"D{i}" for i in range(n)],
        "batch_id": np.ones(n, dtype=np.int32),
        "procedure_code": rng.choice(codes, n, p=weights / weights.sum()),
        "unit_code": rng.choice(["U1", "U2", "U3", "U4", "U5", "OLD"], n),
        "received_at": [received + dt.timedelta(days=int(d)) for d in days],
        "channel": rng.choice(CHANNELS, n, p=[0.4, 0.5, 0.1]),
        "service_level": pl.Series([None] * n, dtype=pl.String),
        "due_at": [received + dt.timedelta(days=int(d) + 5) for d in days],
        "finished_at": [received + dt.timedelta(days=int(d) + int(rng.integers(0, 9)))
                        if f else None for d, f in zip(days, finished, strict=True)],
        "electronic_result": rng.random(n) < 0.5, "digitised": rng.random(n) < 0.5,
        "paid_online": rng.random(n) < 0.5,
        "fee_due": rng.choice([0.0, 10000.0], n),
    }).with_columns(
        (pl.col("received_at").dt.year() * 100 + pl.col("received_at").dt.month())
        .cast(pl.Int32).alias("month"))


def unit_maps(months: list[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Five leaves; the old code OLD counts under leaf 1 (a merged commune); leaves 1-3 are in
    district 10, all in province 100."""
    leaf = {"U1": 1, "U2": 2, "U3": 3, "U4": 4, "U5": 5, "OLD": 1}
    umap = pl.DataFrame([(c, m, i) for c, i in leaf.items() for m in months], orient="row",
                        schema={"unit_code": pl.String, "month": pl.Int32,
                                "leaf_id": pl.Int64})
    pairs = [(i, i) for i in range(1, 6)] + [(i, 10) for i in (1, 2, 3)] + \
        [(i, 100) for i in range(1, 6)]
    closure = pl.DataFrame(pairs, orient="row",
                           schema={"leaf_id": pl.Int64, "unit_id": pl.Int64})
    return umap, closure


def test_bitset_counts_equal_pandas_beyond_one_word() -> None:
    rng = np.random.default_rng(7)
    procedures = catalogue(rng)
    frame = dossiers(rng, procedures.get_column("code").to_list())
    umap, closure = unit_maps(sorted(frame.get_column("month").unique().to_list()))
    con = duckdb.connect()
    try:
        engine.register_procedures(con, procedures)
        assert con.execute("SELECT max(word), max(gword) FROM proc").fetchall() == [(4, 1)]
        con.register("dossiers_df", frame.to_arrow())
        con.execute("CREATE TEMP VIEW cur AS SELECT *, month AS period FROM dossiers_df")
        engine.procedure_counts(con)
        ours = engine.indicator_table(con, umap, closure)
    finally:
        con.close()
    empty = pd.DataFrame({"k": pd.Series(dtype="uint64"), "dossier_code": pd.Series(dtype=str),
                          "batch_id": pd.Series(dtype="int32")})
    theirs = records_pandas.indicators(frame.select(records_pandas.READ_COLUMNS).to_pandas(),
                                       empty, procedures.to_pandas(), umap.to_pandas(),
                                       closure.to_pandas())
    keys = ["unit_id", "month", "indicator_code"]
    ours_pd = ours.to_pandas().sort_values(keys).reset_index(drop=True)
    theirs = theirs.sort_values(keys).reset_index(drop=True)
    assert len(ours_pd) == 7 * 3 * 7  # 7 units (5 leaves, district, province) × 3 months
    pd.testing.assert_frame_equal(ours_pd, theirs[ours_pd.columns], check_dtype=False)
    services = ours_pd[ours_pd["indicator_code"] == "CQS.DVCTT_PHAT_SINH_HS"]
    assert services["numerator"].max() > 64 and services["denominator"].max() > 64

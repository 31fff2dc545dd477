"""`chiso bench budget`: cumulative disbursement of every budget line, month by month,
rolled up by unit, source, type and area — chiso's roll-up (`chiso.funding.compute`, the
one the funding pages and indicators use) against a vectorised pandas version and DuckDB
SQL, on the same synthetic national data in one process. The three outputs are checked
equal; wall and CPU times, the ratios and the load average are printed.

Default size: 34 provinces × 200 projects × 60 months (5 years of 12 months; each project
has one budget line a year with a plan and monthly cumulative disbursement, some months not
reported, which carry the previous month's figure).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import typer

from benchmarks.core import Comparison, assert_close, console, print_comparison, timed
from chiso.funding import compute
from chiso.funding.frames import FIGURE_SCHEMA

KEYS = ["unit_id", "source", "spend_type", "area"]
SOURCES = ["central", "local", "social", "oda"]
TYPES = ["investment", "recurrent"]
AREAS = ["science", "innovation", "dx"]


def register_bench(bench: typer.Typer) -> None:
    bench.command("budget")(budget_command)


def budget_command(
    provinces: int = typer.Option(34, min=1, help="Số tỉnh / Provinces."),
    projects: int = typer.Option(200, min=1, help="Số dự án mỗi tỉnh / Projects per province."),
    months: int = typer.Option(60, min=12, max=240, help="Số tháng (lấy tròn năm) / Months "
                                                         "(whole years are used)."),
    units: int = typer.Option(20, min=1, help="Số đơn vị quản lý mỗi tỉnh / Owner units per "
                                              "province."),
    seed: int = typer.Option(16, help="Hạt giống ngẫu nhiên / Random seed."),
) -> None:
    """Đo thời gian tổng hợp giải ngân của chiso so với pandas và DuckDB trên cùng số liệu.

    Time chiso's disbursement roll-up against pandas and DuckDB on the same data.

    Example: chiso bench budget --provinces 2 --projects 50 --months 24
    """
    figures = synthetic_figures(provinces, projects, months // 12, units, seed)
    console.print(f"{figures.height:,} số liệu / figures; "
                  f"{figures['line_id'].n_unique():,} dòng kinh phí / lines")
    result = Comparison(f"chiso bench budget — {figures.height:,} figures",
                        others={"duckdb": []})
    ours = timed("roll-up", result.ours, lambda: compute.disbursement_rollup(figures, KEYS))
    frame = figures.to_pandas()
    theirs = timed("roll-up", result.pandas, lambda: pandas_rollup(frame))
    connection = duckdb.connect()
    sql = timed("roll-up", result.others["duckdb"],
                lambda: duckdb_rollup(connection, figures))
    compared = check_equal(ours, theirs, sql)
    result.notes.append(f"✓ {compared:,} giá trị khớp nhau / values agree")
    print_comparison(result)


# ------------------------------------------------------------------ data


def synthetic_figures(provinces: int, projects: int, years: int, units: int, seed: int
                      ) -> pl.DataFrame:
    """Figures shaped like `chiso.funding.frames.figures_frame`: per line an estimate, an
    allocation for most, and cumulative disbursement for 12 months with ~8 % missing."""
    rng = np.random.default_rng(seed)
    count = provinces * projects * years
    line_id = np.arange(1, count + 1)
    project = np.repeat(np.arange(provinces * projects), years)
    province = project // projects
    year = 2021 + np.tile(np.arange(years), provinces * projects)
    lines = pl.DataFrame({
        "line_id": line_id, "unit_id": province * 1000 + rng.integers(0, units, count)[project],
        "year": year.astype(np.int32),
        "source": np.array(SOURCES)[rng.integers(0, 4, provinces * projects)][project],
        "spend_type": np.array(TYPES)[rng.integers(0, 2, provinces * projects)][project],
        "area": np.array(AREAS)[rng.integers(0, 3, provinces * projects)][project],
        "estimate": (rng.uniform(0.5, 50, count) * 1e9).round(-6).astype(np.int64),
    })
    lines = lines.with_columns(
        pl.when(pl.Series(rng.random(count) < 0.85)).then(pl.col("estimate"))
        .otherwise(None).alias("allocated"))
    return _figures(lines, rng)


def _figures(lines: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    base = lines.select("line_id", "unit_id", "year", "source", "spend_type", "area")
    yearly = pl.concat([
        base.join(lines.select("line_id", pl.col(stage).alias("amount")), on="line_id")
        .filter(pl.col("amount").is_not_null()).with_columns(
            pl.lit(stage).alias("stage"), pl.col("year").cast(pl.String).alias("period"))
        for stage in ("estimate", "allocated")])
    shares = np.sort(rng.uniform(0, 1.0, (lines.height, 12)), axis=1)
    reported = rng.random((lines.height, 12)) > 0.08
    plan = lines["allocated"].fill_null(lines["estimate"]).to_numpy()
    monthly = pl.DataFrame({
        "line_id": np.repeat(lines["line_id"].to_numpy(), 12),
        "month": np.tile(np.arange(1, 13), lines.height),
        "amount": (shares * plan[:, None]).round(-6).astype(np.int64).ravel(),
        "reported": reported.ravel(),
    }).filter(pl.col("reported")).drop("reported")
    disbursed = base.join(monthly, on="line_id").with_columns(
        pl.lit("disbursed").alias("stage"),
        (pl.col("year").cast(pl.String) + pl.col("month").cast(pl.String).str.zfill(2))
        .alias("period")).drop("month")
    figures = pl.concat([yearly, disbursed], how="diagonal_relaxed")
    return figures.with_columns(
        pl.int_range(1, pl.len() + 1).alias("figure_id"), pl.lit("line").alias("kind"),
        pl.lit(None, pl.Int64).alias("programme_id"), pl.lit("").alias("name"),
        pl.lit(False).alias("illustrative"), pl.lit("approved").alias("status"),
        pl.lit("bench").alias("figure_source")).select(list(FIGURE_SCHEMA)).cast(
        FIGURE_SCHEMA)  # type: ignore[arg-type]


# ------------------------------------------------------------------ pandas


def pandas_rollup(figures: pd.DataFrame) -> pd.DataFrame:
    """The same roll-up written the straightforward vectorised pandas way."""
    yearly = figures[figures["stage"].isin(["estimate", "allocated"])]
    stages = yearly.pivot_table(index="line_id", columns="stage", values="amount",
                                aggfunc="first")
    plan = stages["allocated"].fillna(stages["estimate"]).rename("plan")
    lines = (figures.drop_duplicates("line_id").set_index("line_id")[["year", *KEYS]]
             .join(plan, how="inner"))
    lines = lines[lines["plan"] > 0]
    disbursed = figures[figures["stage"] == "disbursed"].assign(
        month=lambda f: f["period"].str[4:6].astype(int))
    last = disbursed.groupby("year")["month"].max().rename("last_month")
    grid = lines.reset_index().merge(last, left_on="year", right_index=True)
    grid = grid.loc[grid.index.repeat(grid["last_month"])]
    grid["month"] = grid.groupby("line_id").cumcount() + 1
    grid = grid.merge(disbursed[["line_id", "month", "amount"]], on=["line_id", "month"],
                      how="left").sort_values(["line_id", "month"])
    grid["cumulative"] = grid.groupby("line_id")["amount"].ffill().fillna(0)
    rolled = grid.groupby([*KEYS, "year", "month"], as_index=False).agg(
        disbursed=("cumulative", "sum"), plan=("plan", "sum"))
    return rolled.sort_values([*KEYS, "year", "month"]).reset_index(drop=True)


# ------------------------------------------------------------------ DuckDB


DUCKDB_SQL = """
WITH plans AS (
  SELECT line_id, any_value(year) AS year, any_value(unit_id) AS unit_id,
         any_value(source) AS source, any_value(spend_type) AS spend_type,
         any_value(area) AS area,
         coalesce(max(amount) FILTER (WHERE stage = 'allocated'),
                  max(amount) FILTER (WHERE stage = 'estimate')) AS plan
  FROM figures GROUP BY line_id
), disbursed AS (
  SELECT line_id, year, CAST(substr(period, 5, 2) AS INTEGER) AS month, amount
  FROM figures WHERE stage = 'disbursed'
), last_month AS (
  SELECT year, max(month) AS last_month FROM disbursed GROUP BY year
), grid AS (
  SELECT p.*, m.month FROM plans p JOIN last_month l USING (year),
         LATERAL (SELECT unnest(range(1, l.last_month + 1)) AS month) m
  WHERE p.plan > 0
), filled AS (
  SELECT g.*, coalesce(last_value(d.amount IGNORE NULLS) OVER (
           PARTITION BY g.line_id ORDER BY g.month ROWS UNBOUNDED PRECEDING), 0) AS cumulative
  FROM grid g LEFT JOIN disbursed d ON d.line_id = g.line_id AND d.month = g.month
)
SELECT unit_id, source, spend_type, area, year, month,
       sum(cumulative) AS disbursed, sum(plan) AS plan
FROM filled GROUP BY ALL ORDER BY unit_id, source, spend_type, area, year, month
"""


def duckdb_rollup(connection: duckdb.DuckDBPyConnection, figures: pl.DataFrame
                  ) -> pl.DataFrame:
    """The same roll-up in SQL; the frame reaches DuckDB through Arrow (no copy by row)."""
    connection.register("figures", figures.to_arrow())
    return pl.from_arrow(connection.sql(DUCKDB_SQL).to_arrow_table())  # type: ignore[return-value]


# ------------------------------------------------------------------ checks and print


def check_equal(ours: pl.DataFrame, theirs: pd.DataFrame, sql: pl.DataFrame) -> int:
    """The three roll-ups agree row for row (same keys, same sums). Returns values compared."""
    order = [*KEYS, "year", "month"]
    ours = ours.sort(order)
    sql = sql.sort(order)
    assert ours.height == len(theirs) == sql.height, (
        f"rows: chiso {ours.height}, pandas {len(theirs)}, duckdb {sql.height}")
    for column in ("unit_id", "year", "month"):
        assert (ours[column].to_numpy() == theirs[column].to_numpy()).all(), column
        assert (ours[column].to_numpy() == sql[column].to_numpy()).all(), column
    compared = 0
    for column in ("disbursed", "plan"):
        mine = ours[column].cast(pl.Float64).to_numpy()
        compared += assert_close(f"{column} (pandas)", mine,
                                 theirs[column].to_numpy(dtype=float))
        compared += assert_close(f"{column} (duckdb)", mine,
                                 sql[column].cast(pl.Float64).to_numpy())
    return compared

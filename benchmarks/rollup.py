"""`chiso bench rollup`: what the dashboard computes nationally — the status of a target
for every unit (the national unit included) and indicator in every year of data, and every
unit's rolled-up value for every year, half-year, quarter and month — with chiso, with DuckDB
SQL written by an expert (`rollup_duckdb`) and with pandas (`rollup_pandas`), on the same
data in one process. The three are checked to give the same numbers and statuses; wall and
CPU times, both ratios and the floor (one scan of the values and one group-by to the
yearly groups, in DuckDB) are printed."""

from __future__ import annotations

import datetime as dt
import gc
import time

import numpy as np
import pandas as pd
import polars as pl
import typer
from rich.progress import Progress

from benchmarks import rollup_duckdb, rollup_pandas
from benchmarks.core import Comparison, Timing, assert_close, console, print_comparison, timed
from benchmarks.rollup_data import NationalData, generate
from chiso.analytics.evaluate import evaluate_targets, rolled_buckets
from chiso.periods import PeriodType

COMPARED = ["actual", "actual_num", "actual_den", "prev_value", "b_value", "expected",
            "progress_ratio", "projected", "projected_year_end"]
ROLLED = ["num", "den", "value", "n_nonagg"]
KINDS = {"Y": PeriodType.YEAR, "S": PeriodType.HALF, "Q": PeriodType.QUARTER,
         "M": PeriodType.MONTH}
STATUSES = "trạng thái / statuses"
BUCKETS = "giá trị Y, S, Q, M / values"


def register_bench(bench: typer.Typer) -> None:
    bench.command("rollup")(rollup)


def rollup(
    communes: int = typer.Option(3321, help="Số xã hiện nay (3.321 sau sắp xếp) / Communes today "
                                            "(the reform's 3,321)."),
    indicators: int = typer.Option(100, help="Số chỉ tiêu / Indicators."),
    months: int = typer.Option(36, help="Số tháng số liệu đến tháng 12 của năm / Months of data "
                                        "up to December of the year."),
    seed: int = typer.Option(1, help="Hạt giống ngẫu nhiên (cùng hạt giống, cùng số liệu) / "
                                     "Random seed (same seed, same data)."),
    pandas: bool = typer.Option(True, help="Đo cả pandas (chậm nhất: bỏ qua ở quy mô toàn quốc) "
                                           "/ Also time pandas (the slowest: skip it at national "
                                           "size when only chiso and DuckDB matter)."),
) -> None:
    """Tổng hợp số liệu giả lập toàn quốc qua lịch sử sáp nhập.

    Giá trị mọi đơn vị theo năm, 6 tháng, quý, tháng và tình trạng mục tiêu — bằng chiso, DuckDB và
    pandas; kiểm tra khớp nhau; in thời gian và tỷ lệ.

    Roll up national synthetic data through lineage — every unit's value for every year,
    half-year, quarter and month, and a target's status for every unit, indicator and year —
    with chiso, DuckDB SQL and pandas; check they agree; print wall and CPU times, the
    ratios and the floor.

    Example: chiso bench rollup --communes 1000 --indicators 30 --months 36
    """
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Sinh dữ liệu / generating data", total=5)
        data = generate(communes=communes, indicators=indicators, months=months, seed=seed)
        buckets = _bucket_starts(data)
        result = Comparison(title=_title(data))
        progress.update(task, advance=1, description="chiso (Polars)")
        ours = _run_chiso(data, buckets, result.ours)
        gc.collect()
        progress.update(task, advance=1, description="DuckDB")
        result.others["duckdb"] = []
        sql = _run_duckdb(data, buckets, result.others["duckdb"])
        gc.collect()
        progress.update(task, advance=1, description="pandas")
        theirs = _run_pandas(data, buckets, result.pandas) if pandas else None
        progress.update(task, advance=1, description="so sánh / comparing")
        compared = _check_statuses(ours[0], sql[0], "duckdb")
        compared += _check_buckets(ours[1], sql[1], "duckdb")
        if theirs is not None:
            compared += _check_statuses(ours[0], theirs[0], "pandas")
            compared += _check_buckets(ours[1], theirs[1], "pandas")
        floor = _floor(data)
        progress.update(task, advance=1)
    sides = "DuckDB and pandas" if theirs is not None else "DuckDB"
    result.notes.append(f"[green]✓[/] Khớp / agree with {sides}: {compared:,} numbers and "
                        f"{ours[0].height:,} statuses within 1e-9")
    result.notes.append(_status_counts(ours[0]))
    result.notes.append(_floor_note(floor, result.ours))
    print_comparison(result)


def _title(data: NationalData) -> str:
    units = data.units.filter(pl.col("valid_to").is_null()).height
    years = data.targets["year"].unique().sort().to_list()
    return (f"chiso bench rollup — {data.values.height:,} values, {units:,} units today "
            f"(+{data.lineage.height:,} merged), {data.indicators.height} indicators, "
            f"{data.targets.height:,} targets ({years[0]}–{years[-1]})")


def _bucket_starts(data: NationalData) -> dict[str, list[int]]:
    """The first month of every bucket of each type that the data covers."""
    first = int(data.values["p_m0"].min()) // 12 * 12  # type: ignore[arg-type]
    last = data.today.year * 12 + data.today.month - 1
    return {kind: list(range(first, last + 1, rollup_duckdb.SIZE[kind])) for kind in KINDS}


# ------------------------------------------------------------------ the three sides

def _run_chiso(data: NationalData, buckets: dict[str, list[int]], into: list[Timing]
               ) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    statuses = timed(STATUSES, into, lambda: evaluate_targets(
        targets=data.targets, values=data.values, indicators=data.indicators,
        units=data.units, unit_lineage=data.lineage, today=data.today))
    rolled = timed(BUCKETS, into, lambda: rolled_buckets(
        data.values, data.indicators, data.units, data.lineage, data.today,
        {KINDS[kind]: starts for kind, starts in buckets.items()}))
    return statuses, {kind: rolled[KINDS[kind]] for kind in buckets}


def _run_duckdb(data: NationalData, buckets: dict[str, list[int]], into: list[Timing]
                ) -> tuple[pl.DataFrame, dict[str, pl.DataFrame]]:
    engine = rollup_duckdb.Engine(values=data.values, indicators=data.indicators,
                                  units=data.units, lineage=data.lineage)
    statuses = timed(STATUSES, into, lambda: engine.evaluate(data.targets, data.today))

    def roll() -> dict[str, pl.DataFrame]:
        engine.place(data.today)
        return {kind: engine.db.sql(f"SELECT * FROM {engine.rolled(kind, starts)}").pl()
                for kind, starts in buckets.items()}

    return statuses, timed(BUCKETS, into, roll)


def _run_pandas(data: NationalData, buckets: dict[str, list[int]], into: list[Timing]
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    targets, values, indicators, units, lineage = _pandas_frames(data)
    statuses = timed(STATUSES, into, lambda: rollup_pandas.evaluate_targets(
        targets, values, indicators, units, lineage, data.today))
    rolled = timed(BUCKETS, into, lambda: rollup_pandas.rolled_buckets(
        values, indicators, units, lineage, data.today, buckets))
    return statuses, rolled


def _pandas_frames(data: NationalData
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame,
                              pd.DataFrame]:
    """The same data as pandas frames (converted before timing: every side starts from
    memory)."""
    def convert(frame: pl.DataFrame) -> pd.DataFrame:
        converted = frame.to_pandas()
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                converted[column] = pd.to_datetime(converted[column])
        return converted

    return (convert(data.targets), convert(data.values), convert(data.indicators),
            convert(data.units), convert(data.lineage))


# ------------------------------------------------------------------ agreement

def _column(frame: pl.DataFrame | pd.DataFrame, name: str) -> np.ndarray:
    if isinstance(frame, pl.DataFrame):
        return frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
    return frame[name].to_numpy(dtype=float)


def _check_statuses(ours: pl.DataFrame, theirs: pl.DataFrame | pd.DataFrame, name: str
                    ) -> int:
    ours = ours.sort("target_id")
    theirs = (theirs.sort("target_id") if isinstance(theirs, pl.DataFrame)
              else theirs.sort_values("target_id"))
    if ours.height != len(theirs):
        raise AssertionError(f"chiso {ours.height} targets vs {name} {len(theirs)}")
    compared = sum(assert_close(f"{column} ({name})", _column(ours, column),
                                _column(theirs, column)) for column in COMPARED)
    mine = ours["status"].to_numpy()
    other = np.asarray(theirs["status"])
    if (mine != other).any():
        first = int(np.flatnonzero(mine != other)[0])
        raise AssertionError(f"status differs for target {ours['target_id'][first]}: "
                             f"chiso {mine[first]} vs {name} {other[first]}")
    return compared


def _check_buckets(ours: dict[str, pl.DataFrame], theirs: dict[str, pl.DataFrame]
                   | dict[str, pd.DataFrame], name: str) -> int:
    compared = 0
    keys = ["unit_id", "indicator_id", "b_m0"]
    for kind, frame in ours.items():
        mine = frame.sort(keys)
        other = theirs[kind]
        other = (other.sort(keys) if isinstance(other, pl.DataFrame)
                 else other.sort_values(keys))
        if mine.height != len(other):
            raise AssertionError(f"{kind}: chiso {mine.height} rows vs {name} {len(other)}")
        for key in keys:
            compared += assert_close(f"{kind} {key} ({name})", _column(mine, key),
                                     _column(other, key), tolerance=0)
        for column in ROLLED:
            compared += assert_close(f"{kind} {column} ({name})", _column(mine, column),
                                     _column(other, column))
    return compared


def _status_counts(evaluated: pl.DataFrame) -> str:
    counts = evaluated.group_by("status").len().sort("status")
    return "Trạng thái / statuses: " + ", ".join(
        f"{row['status']} {row['len']:,}" for row in counts.iter_rows(named=True))


# ------------------------------------------------------------------ the floor

def _floor(data: NationalData) -> Timing:
    """What no roll-up can beat (issue 18): one DuckDB scan of the values and one group-by
    of them to (unit, indicator, year)."""
    engine = rollup_duckdb.Engine(values=data.values, indicators=data.indicators,
                                  units=data.units, lineage=data.lineage)
    start, cpu = time.perf_counter(), time.process_time()
    engine.db.execute("SELECT count(*), sum(value), sum(num), sum(den) FROM vals").fetchall()
    engine.db.execute("SELECT count(*) FROM (SELECT unit_id, indicator_id, p_m0 // 12, "
                      "sum(value), sum(num), sum(den) FROM vals GROUP BY ALL)").fetchall()
    return Timing("floor", time.perf_counter() - start, time.process_time() - cpu)


def _floor_note(floor: Timing, ours: list[Timing]) -> str:
    cpu = sum(t.cpu_seconds for t in ours)
    wall = sum(t.seconds for t in ours)
    return (f"Sàn / floor (one scan + one group-by to the yearly groups, DuckDB): "
            f"{floor.seconds:.3f} s, {floor.cpu_seconds:.3f} CPU s; chiso ÷ floor "
            f"{wall / floor.seconds:.1f}× wall, {cpu / max(floor.cpu_seconds, 1e-9):.1f}× CPU "
            f"({dt.date.today():%d/%m/%Y})")

"""`chiso bench rollup`: the whole national recompute — roll-up through lineage and the
status of a target for every unit and indicator — against the same in pandas."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import polars as pl
import typer
from rich.progress import Progress

from benchmarks import rollup_pandas
from benchmarks.core import Comparison, assert_close, console, print_comparison, timed
from benchmarks.rollup_data import NationalData, generate
from chiso.analytics.evaluate import evaluate_targets

COMPARED = ["actual", "actual_num", "actual_den", "prev_value", "b_value", "expected",
            "progress_ratio", "projected", "projected_year_end"]


def register_bench(bench: typer.Typer) -> None:
    bench.command("rollup")(rollup)


def rollup(
    communes: int = typer.Option(3321, help="Communes today (the reform's 3,321)."),
    indicators: int = typer.Option(100, help="Indicators."),
    months: int = typer.Option(36, help="Months of data up to December of the year."),
    seed: int = typer.Option(1, help="Random seed (same seed, same data)."),
) -> None:
    """Roll up national synthetic data through lineage and evaluate a target for every unit
    and indicator with chiso (Polars) and with pandas; check they agree; print both times.

    Example: chiso bench rollup --communes 3321 --indicators 100 --months 36 --seed 1
    """
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Sinh dữ liệu / generating data", total=4)
        data = generate(communes=communes, indicators=indicators, months=months, seed=seed)
        frames = _pandas_frames(data)
        progress.update(task, advance=1, description="chiso (Polars)")
        result = Comparison(title=_title(data))
        ours = timed("roll-up + status", result.ours, lambda: _run_chiso(data))
        gc.collect()
        progress.update(task, advance=1, description="pandas")
        theirs = timed("roll-up + status", result.pandas,
                       lambda: rollup_pandas.evaluate_targets(*frames, data.today))
        progress.update(task, advance=1, description="so sánh / comparing")
        compared = _check_agreement(ours, theirs)
        progress.update(task, advance=1)
    result.notes.append(f"[green]✓[/] Khớp / agree: {compared:,} numbers and "
                        f"{len(ours):,} statuses within 1e-9")
    result.notes.append(_status_counts(ours))
    print_comparison(result)


def _title(data: NationalData) -> str:
    units = data.units.filter(pl.col("valid_to").is_null()).height
    return (f"chiso bench rollup — {data.values.height:,} values, {units:,} units today "
            f"(+{data.lineage.height:,} merged), {data.indicators.height} indicators, "
            f"{data.targets.height:,} targets")


def _run_chiso(data: NationalData) -> pl.DataFrame:
    return evaluate_targets(targets=data.targets, values=data.values,
                            indicators=data.indicators, units=data.units,
                            unit_lineage=data.lineage, today=data.today)


def _pandas_frames(data: NationalData
                   ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame,
                              pd.DataFrame]:
    """The same data as pandas frames (converted before timing: both sides start from
    memory)."""
    def convert(frame: pl.DataFrame) -> pd.DataFrame:
        converted = frame.to_pandas()
        for column, dtype in frame.schema.items():
            if dtype == pl.Date:
                converted[column] = pd.to_datetime(converted[column])
        return converted

    return (convert(data.targets), convert(data.values), convert(data.indicators),
            convert(data.units), convert(data.lineage))


def _check_agreement(ours: pl.DataFrame, theirs: pd.DataFrame) -> int:
    ours = ours.sort("target_id")
    theirs = theirs.sort_values("target_id")
    if ours.height != len(theirs):
        raise AssertionError(f"chiso {ours.height} targets vs pandas {len(theirs)}")
    compared = 0
    for column in COMPARED:
        compared += assert_close(column, ours[column].cast(pl.Float64).fill_null(np.nan)
                                 .to_numpy(), theirs[column].to_numpy(dtype=float))
    mismatched = ours["status"].to_numpy() != theirs["status"].to_numpy()
    if mismatched.any():
        first = int(np.flatnonzero(mismatched)[0])
        raise AssertionError(f"status differs for target {ours['target_id'][first]}: "
                             f"{ours['status'][first]} vs {theirs['status'].iloc[first]}")
    return compared


def _status_counts(evaluated: pl.DataFrame) -> str:
    counts = evaluated.group_by("status").len().sort("status")
    return "Trạng thái / statuses: " + ", ".join(
        f"{row['status']} {row['len']:,}" for row in counts.iter_rows(named=True))

"""`chiso bench overview`: how long a leader waits for a province's overview that nothing
has memoised yet, on the configured database, computed on one core as `chiso serve`
computes it (issue 18's "cold overview").

Each run clears the analytics memo (`--fresh-units` off: a new as-of day instead, with the
units' world memoised, which is what a running server meets on the first visit of a day),
opens a new session and computes `dashboard.service.overview`: the targets, the values read
from the database, roll-up on the lineage, statuses and projections. There is no pandas or
DuckDB yardstick here: this is one page's latency, not a volume path; `chiso bench rollup`
computes the same statuses nationally against both.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

import typer
from rich.progress import Progress
from rich.table import Table

from benchmarks.core import console, load_average


def register_bench(bench: typer.Typer) -> None:
    bench.command("overview")(bench_overview)


def bench_overview(
    unit: str = typer.Option(None, help="Mã đơn vị (mặc định: CHISO_DEFAULT_UNIT) / Unit code "
                                        "(default: CHISO_DEFAULT_UNIT)."),
    year: int = typer.Option(None, help="Năm (mặc định: năm nay) / Year (default: this "
                                        "year)."),
    runs: int = typer.Option(30, min=2, help="Số lần đo / Timed runs."),
    fresh_units: bool = typer.Option(
        True, help="Xóa cả cây đơn vị đã nhớ mỗi lần (như máy chủ vừa khởi động); tắt: mỗi "
                   "lần một ngày xem mới / Forget the units' world too each run (a server "
                   "just started); off: a new as-of day each run instead."),
    pin: bool = typer.Option(True, help="Chạy trên một nhân như chiso serve / Keep to one "
                                        "core, as chiso serve does."),
) -> None:
    """Đo thời gian tính trang tổng quan khi chưa có gì được nhớ.

    Time a province's overview computed afresh (nothing memoised), on the configured
    database, on one core as the server computes it: wall and CPU, best, median and 90th
    percentile, with the load average.

    Example: chiso bench overview --unit 20 --year 2026 --runs 30
    """
    from chiso.analytics import cache
    from chiso.analytics.answers import Status
    from chiso.boot import boot
    from chiso.dashboard.service import overview
    from chiso.db import get_engine, new_session
    from chiso.settings import get_settings
    from chiso.units.service import get_unit
    from chiso.web.cores import pin_this_process

    boot()
    settings = get_settings()
    unit = unit or settings.default_unit
    today = settings.current_date()
    year = year or today.year
    core = pin_this_process() if pin else None
    load_before = load_average()
    walls: list[float] = []
    cpus: list[float] = []
    counts: dict[str, int] = {}
    cache.clear()
    warm_up = 3
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("overview", total=warm_up + runs)
        for i in range(warm_up + runs):
            if fresh_units:
                cache.clear()
            as_of = today - dt.timedelta(days=0 if fresh_units else i)
            session = new_session()
            try:
                start, cpu_start = time.perf_counter(), time.process_time()
                shown = overview(session, unit=get_unit(session, unit), year=year,
                                 as_of=as_of)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            finally:
                session.close()
            if i >= warm_up:
                walls.append(wall * 1000)
                cpus.append(cpu * 1000)
            counts = shown.counts
            progress.advance(task)
    console.print(f"chiso bench overview — {unit} {year}, {get_engine().dialect.name}, "
                  f"{'one core (' + str(core) + ')' if core is not None else 'unpinned'}, "
                  f"{'units forgotten' if fresh_units else 'a new day'} each run")
    table = Table()
    for column in ("ms", "best", "median", "p90"):
        table.add_column(column, justify="right" if column != "ms" else "left")
    for label, values in (("wall", walls), ("CPU", cpus)):
        ordered = sorted(values)
        table.add_row(label, f"{ordered[0]:.1f}", f"{statistics.median(ordered):.1f}",
                      f"{ordered[int(len(ordered) * 0.9)]:.1f}")
    console.print(table)
    statuses = ", ".join(f"{Status(code).label()} {n}" for code, n in counts.items() if n)
    console.print(f"{runs} lần đo sau {warm_up} lần khởi động / {runs} runs after {warm_up} "
                  f"to warm up; {statuses}; load average before {load_before:.1f}, after "
                  f"{load_average():.1f}")

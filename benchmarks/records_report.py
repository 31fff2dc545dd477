"""The printed result of `chiso bench records`: one table of wall and CPU seconds, the
ratios against pandas, memory, and each goal of the issue with a mark."""

from __future__ import annotations

import os
from typing import Any

from rich.table import Table

from benchmarks.core import Timing, console

INGEST_CPU_GOAL = 20  # CPU seconds to read, check and store 10 million dossiers (issue 18)


def _cells(timing: Timing | None) -> tuple[str, str]:
    if timing is None:
        return "", ""
    return f"{timing.seconds:.2f}", f"{timing.cpu_seconds:.2f}"


def _table(feed_rows: int, generated: Timing | None, ingest: dict[str, Any],
           comparison: dict[str, Any]) -> Table:
    table = Table(title=f"chiso bench records — {feed_rows:,} dossiers, {os.cpu_count()} cores",
                  header_style="bold")
    for name, justify in (("Bước / step", "left"), ("chiso s", "right"),
                          ("chiso CPU s", "right"), ("reference s", "right"),
                          ("reference CPU s", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    table.add_row("generate feed (not compared)" if generated else
                  "feed reused from --keep (not compared)", *_cells(generated), "", "")
    table.add_row("ingest: read + check", *_cells(ingest["check"]), "", "")
    table.add_row("ingest: store versions", *_cells(ingest["store"]), "", "")
    table.add_row("[bold]ingest: read + check + store[/] (reference: plain DuckDB, same "
                  f"rules, {ingest['reference']['rows']:,} rows alike)",
                  *_cells(ingest["ingest"]), *_cells(ingest["reference"]["timing"]))
    for key, label in (("compute", "ingest: compute all indicators"),
                       ("total", "[bold]ingest + compute[/]"),
                       ("save", f"ingest: save {ingest['values']:,} values (SQLite), commit"),
                       ("visible", "[bold]ingest + compute + save (visible)[/]")):
        table.add_row(label, *_cells(ingest[key]), "", "")
    table.add_row("unit map (same input for both, not compared)",
                  *_cells(comparison["unit_map"]), *_cells(comparison["unit_map"]))
    read, compute = comparison["pandas_split"]
    table.add_row("  pandas: read stored records", "(in query)", "", *_cells(read))
    table.add_row("  pandas: compute 7 indicators, all units × months", "(in query)", "",
                  *_cells(compute))
    table.add_row("[bold]stored files → indicators[/] (reference: pandas)",
                  *_cells(comparison["chiso"]), *_cells(comparison["pandas"]))
    return table


def report(*, feed_rows: int, generated: Timing | None, ingest: dict[str, Any],
           comparison: dict[str, Any], incremental: list[dict[str, Any]]) -> None:
    console.print(_table(feed_rows, generated, ingest, comparison))
    _ratios(comparison)
    console.print(f"Bộ nhớ / memory: peak RSS after chiso ingest {ingest['rss_mb']:,.0f} MB "
                  f"(engine cap {ingest['memory_mb']:,} MB), after chiso compute "
                  f"{comparison['rss_ours']:,.0f} MB, after pandas "
                  f"{comparison['rss_pandas']:,.0f} MB (process peaks, monotonic)")
    ours, duck = ingest["ingest"], ingest["reference"]["timing"]
    _goal(ours.cpu_seconds <= INGEST_CPU_GOAL * ingest["read"] / 10_000_000,
          f"Nạp / ingest (read, check, store) {ingest['read']:,.0f} records: CPU "
          f"{ours.cpu_seconds:.1f} s, {duck.cpu_seconds / max(ours.cpu_seconds, 1e-9):.1f}× "
          f"less than plain DuckDB ({duck.cpu_seconds:.1f} s), wall {ours.seconds:.1f} s "
          f"against {duck.seconds:.1f} s (goal ≤ {INGEST_CPU_GOAL} CPU s at 10 million)")
    _goal(ingest["total"].seconds < 60,
          f"Nạp + tính / ingest + compute {ingest['read']:,.0f} records: "
          f"{ingest['total'].seconds:.1f} s (CPU {ingest['total'].cpu_seconds:.1f} s; goal "
          f"< 60 s); with the {ingest['values']:,.0f} values saved and committed "
          f"{ingest['visible'].seconds:.1f} s (CPU {ingest['visible'].cpu_seconds:.1f} s)")
    for batch in incremental:
        scope = ("tỉnh 20 / province 20" if batch["scope"] != "national"
                 else "cả nước / national")
        if batch.get("first"):
            scope += ", lệnh riêng lẻ / one-off command, no key index"
        if batch.get("index"):
            console.print(f"  Chỉ mục khóa hồ sơ / dossier key index built at server start-up "
                          f"in {batch['index'].seconds:.2f} s (CPU "
                          f"{batch['index'].cpu_seconds:.2f} s), not timed below")
        timing = batch["timing"]
        _goal(timing.seconds < 1,
              f"Lô tăng dần / incremental batch ({scope}) of {batch['rows']:,.0f} records "
              f"({batch['stored']:,.0f} stored, {batch['months']:.0f} months, "
              f"{batch['values']:,.0f} values changed) visible after {timing.seconds:.2f} s "
              f"(CPU {timing.cpu_seconds:.2f} s; goal < 1 s)")


def _ratios(comparison: dict[str, Any]) -> None:
    ours, theirs, unit_map = comparison["chiso"], comparison["pandas"], comparison["unit_map"]
    wall = theirs.seconds / ours.seconds
    cpu = theirs.cpu_seconds / max(ours.cpu_seconds, 1e-9)
    with_map = (theirs.seconds + unit_map.seconds) / (ours.seconds + unit_map.seconds)
    best = f", best of {comparison['repeat']}" if comparison["repeat"] > 1 else ""
    _goal(wall >= 3, f"Tệp → chỉ tiêu / stored files → indicators: chiso {wall:.1f}× faster "
          f"than pandas (wall{best}), {cpu:.1f}× less CPU; {with_map:.1f}× counting the unit "
          "map on both sides (goal ≥ 3×)")
    console.print(f"[green]✓[/] Khớp / agree: {comparison['agree']:,} numerators and "
                  "denominators")


def _goal(met: bool, text: str) -> None:
    console.print(f"{'[green]✓[/]' if met else '[red]✗[/]'} {text}")

"""Shared pieces for benchmarks: a timer, an agreement check and the Rich comparison.

Every bench prints wall and CPU seconds per engine, the ratios against chiso on both, and
the load average before and after the run: on a shared machine CPU seconds are the steadier
figure, and the load average says how far the wall times can be trusted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from rich.console import Console
from rich.table import Table

T = TypeVar("T")
console = Console()


@dataclass
class Timing:
    label: str
    seconds: float  # wall clock
    cpu_seconds: float = 0.0  # all threads of this process: steadier on a busy machine


def load_average() -> float:
    """The 1-minute load average (0 where the system does not tell)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


@dataclass
class Comparison:
    """chiso's steps and the same steps by each yardstick (pandas, and others such as
    DuckDB SQL in `others`), timed on the same data in the same process."""

    title: str
    ours: list[Timing] = field(default_factory=list)
    pandas: list[Timing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    others: dict[str, list[Timing]] = field(default_factory=dict)
    load_before: float = field(default_factory=load_average)

    @property
    def ours_total(self) -> float:
        return sum(t.seconds for t in self.ours)

    @property
    def pandas_total(self) -> float:
        return sum(t.seconds for t in self.pandas)

    def engines(self) -> dict[str, list[Timing]]:
        """Every side, chiso first."""
        return {"chiso": self.ours, **self.others, "pandas": self.pandas}


def timed(label: str, into: list[Timing], work: Callable[[], T]) -> T:
    """Run `work`, append its wall and CPU time to `into`, return its result."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = work()
    into.append(Timing(label, time.perf_counter() - start, time.process_time() - cpu_start))
    return result


def assert_close(name: str, ours: np.ndarray, theirs: np.ndarray, tolerance: float = 1e-9
                 ) -> int:
    """Equal within `tolerance` (relative, absolute below 1), nulls in the same places.
    Returns the number of values compared; raises AssertionError naming the first mismatch."""
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    if ours.shape != theirs.shape:
        raise AssertionError(f"{name}: {ours.shape} rows vs {theirs.shape}")
    both_nan = np.isnan(ours) & np.isnan(theirs)
    scale = np.maximum(1.0, np.abs(theirs))
    close = both_nan | (np.abs(ours - theirs) <= tolerance * scale)
    if not close.all():
        first = int(np.flatnonzero(~close)[0])
        raise AssertionError(f"{name}: row {first}: chiso {ours[first]!r} vs reference "
                             f"{theirs[first]!r} ({int((~close).sum())} differ)")
    return int(ours.size)


def _wall(timings: list[Timing]) -> float:
    return sum(t.seconds for t in timings)


def _cpu(timings: list[Timing]) -> float:
    return sum(t.cpu_seconds for t in timings)


def _ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.2f}×" if ours > 0 else "–"


def print_comparison(result: Comparison) -> None:
    """Per step and in total: each engine's wall and CPU seconds; then each yardstick's
    time over chiso's (wall and CPU: above 1 means chiso is faster) and the load average
    before and after."""
    engines = {name: steps for name, steps in result.engines().items() if steps}
    table = Table(title=result.title, header_style="bold")
    table.add_column("Bước / step")
    for name in engines:
        table.add_column(f"{name} s", justify="right")
        table.add_column(f"{name} CPU s", justify="right")
    for index, ours in enumerate(result.ours):
        cells = []
        for steps in engines.values():
            step = steps[index] if index < len(steps) else None
            cells += [f"{step.seconds:.3f}", f"{step.cpu_seconds:.3f}"] if step else ["", ""]
        table.add_row(ours.label, *cells)
    if len(result.ours) > 1:
        table.add_row("[bold]Tổng / total[/]", *[
            cell for steps in engines.values()
            for cell in (f"[bold]{_wall(steps):.3f}[/]", f"{_cpu(steps):.3f}")])
    console.print(table)
    ours_wall, ours_cpu = _wall(result.ours), _cpu(result.ours)
    for name, steps in engines.items():
        if name == "chiso":
            continue
        wall, cpu = _wall(steps), _cpu(steps)
        colour = "green" if ours_cpu and cpu / ours_cpu >= 2 else "yellow"
        console.print(f"[{colour}]{name} ÷ chiso: {_ratio(wall, ours_wall)} wall, "
                      f"{_ratio(cpu, ours_cpu)} CPU[/] (trên 1: chiso nhanh hơn / above 1: "
                      "chiso is faster)")
    console.print(f"{os.cpu_count()} cores; load average before {result.load_before:.1f}, "
                  f"after {load_average():.1f}")
    for note in result.notes:
        console.print(note)

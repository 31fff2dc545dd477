"""Shared pieces for benchmarks: a timer, an agreement check and the Rich comparison."""

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


@dataclass
class Comparison:
    title: str
    ours: list[Timing] = field(default_factory=list)
    pandas: list[Timing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ours_total(self) -> float:
        return sum(t.seconds for t in self.ours)

    @property
    def pandas_total(self) -> float:
        return sum(t.seconds for t in self.pandas)


def timed(label: str, into: list[Timing], work: Callable[[], T]) -> T:
    """Run `work`, append its wall time to `into`, return its result."""
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
        raise AssertionError(f"{name}: row {first}: chiso {ours[first]!r} vs pandas "
                             f"{theirs[first]!r} ({int((~close).sum())} differ)")
    return int(ours.size)


def print_comparison(result: Comparison) -> None:
    table = Table(title=result.title, header_style="bold")
    table.add_column("Bước / step")
    for name in ("chiso (Polars)", "pandas"):
        table.add_column(f"{name} s", justify="right")
        table.add_column(f"{name} CPU s", justify="right")
    for ours, theirs in zip(result.ours, result.pandas, strict=False):
        table.add_row(ours.label, f"{ours.seconds:.3f}", f"{ours.cpu_seconds:.3f}",
                      f"{theirs.seconds:.3f}", f"{theirs.cpu_seconds:.3f}")
    cpu_ours = sum(t.cpu_seconds for t in result.ours)
    cpu_pandas = sum(t.cpu_seconds for t in result.pandas)
    if len(result.ours) > 1:
        table.add_row("[bold]Tổng / total[/]", f"[bold]{result.ours_total:.3f}[/]",
                      f"{cpu_ours:.3f}", f"[bold]{result.pandas_total:.3f}[/]",
                      f"{cpu_pandas:.3f}")
    console.print(table)
    ratio = result.pandas_total / result.ours_total if result.ours_total else float("inf")
    colour = "green" if ratio >= 3 else "yellow"
    console.print(f"[{colour}]chiso nhanh hơn pandas {ratio:.1f} lần / chiso is {ratio:.1f}× "
                  f"faster than pandas (wall clock)[/]")
    console.print(f"CPU: chiso {cpu_ours:.1f} s, pandas {cpu_pandas:.1f} s; "
                  f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for note in result.notes:
        console.print(note)

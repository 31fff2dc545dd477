"""The benchmark commands, gathered for the `chiso bench` group (`chiso.bench.cli` loads
this module only when a bench command is asked for).

Extension point: a benchmark is a module with

    def register_bench(bench: typer.Typer) -> None:
        bench.command("import")(my_bench_command)

whose dotted name is added to `BENCH_MODULES` below (one line). Commands use
`benchmarks.core` to time every side, check that they agree and print the comparison.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

BENCH_MODULES = [
    "benchmarks.rollup",
    "benchmarks.values_import",
    "benchmarks.budget",
    "benchmarks.load",
    "benchmarks.records",
    "benchmarks.dti",
    "benchmarks.extract",
    "benchmarks.overview",
]


def commands() -> dict[str, Any]:
    """Every bench command, by name, as the Click-style commands Typer builds."""
    bench = typer.Typer(rich_markup_mode="rich")  # as the root `chiso` app
    for name in BENCH_MODULES:
        importlib.import_module(name).register_bench(bench)
    group = typer.main.get_command(bench)
    assert isinstance(group, TyperGroup)  # several commands make a group
    return dict(group.commands)

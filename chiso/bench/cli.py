"""The `chiso bench` sub-app.

Extension point: a domain adds a benchmark by writing a module with

    def register_bench(bench: typer.Typer) -> None:
        bench.command("import")(my_bench_command)

and adding its dotted name to `BENCH_MODULES` below (one line). Commands should use
`chiso.bench.core` to time both sides, check that they agree and print the comparison.
"""

from __future__ import annotations

import importlib

import typer

BENCH_MODULES = [
    "chiso.ops.load",
    "chiso.records.bench",
    "chiso.bench.rollup",
    "chiso.values.bench",
    "chiso.dti.bench",
    "chiso.funding.bench",
    "chiso.extract.bench",
]

bench_app = typer.Typer(
    help="Đo hiệu năng so với pandas / benchmarks against a vectorised pandas version.\n\n"
    "Example: chiso bench rollup --communes 300 --indicators 10 --months 12",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    for name in BENCH_MODULES:
        importlib.import_module(name).register_bench(bench_app)
    app.add_typer(bench_app, name="bench")

"""The `chiso bench` group, filled on first use.

The benchmarks live in the top-level `benchmarks` package (installed with the `bench`
extra) and import pandas, httpx and DuckDB: `chiso status` and every other command must
not pay for that at start-up (issue 13 item 4, issue 18). So this group knows only its own
help; its commands are read from `benchmarks.cli` the first time anything asks for them
(running a bench, `chiso bench --help`, the CLI reference). Add a benchmark in
`benchmarks/cli.py`, not here.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from chiso.errors import UserError

# What the `bench` extra brings: without one of these, say how to install it.
BENCH_EXTRA = {"benchmarks", "pandas", "httpx"}


class BenchmarksMissing(UserError):
    status = 400

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"Chưa cài phần đo hiệu năng (thiếu '{missing}'): pip install -e '.[bench]'",
            f"the benchmarks are not installed ('{missing}' is missing): "
            "pip install -e '.[bench]'")


class LazyBenchGroup(TyperGroup):
    """A group whose `commands` are imported when first read."""

    _loaded: dict[str, Any] | None = None

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        if self._loaded is None:
            self._loaded = _bench_commands()
        return self._loaded

    @commands.setter
    def commands(self, _given: Any) -> None:
        """Click's constructor sets the (empty) commands Typer found: ignore them."""


def _bench_commands() -> dict[str, Any]:
    try:
        from benchmarks.cli import commands
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in BENCH_EXTRA:
            raise
        raise BenchmarksMissing(missing) from exc
    return commands()


bench_app = typer.Typer(
    cls=LazyBenchGroup,
    help="Đo hiệu năng so với pandas và DuckDB / benchmarks against a vectorised pandas "
    "version and DuckDB SQL.\n\n"
    "Example: chiso bench rollup --communes 1000 --indicators 30 --months 36",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")

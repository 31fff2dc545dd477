"""Start-up cost: the runtime never loads the benchmarks' heavy libraries (issue 13 item 4,
issue 18: `chiso status` spent ~80 % of its time importing pandas and httpx for bench
commands it did not run), while `chiso bench …` still finds every benchmark."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCH_ONLY = ["pandas", "httpx", "duckdb", "benchmarks"]
ROOT = Path(__file__).resolve().parents[1]
# The one runtime module that may name the benchmarks: the `bench` group, which imports
# `benchmarks.cli` when a bench command is first asked for.
BENCH_GATE = "chiso/bench/cli.py"


def _imported(path: Path) -> set[str]:
    """The top-level package of every import in `path`, at any depth (function bodies
    included) and by `importlib.import_module("…")` or `__import__("…")` with a literal."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (getattr(node.func, "attr", None) == "import_module"
                   or getattr(node.func, "id", None) in ("import_module", "__import__"))):
            names.add(node.args[0].value)
    return {name.partition(".")[0] for name in names}


def _importers(package: str, of: set[str]) -> dict[str, list[str]]:
    """Files under `package` (relative to the repository) importing any package in `of`."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        hits = sorted(_imported(path) & of)
        if hits:
            found[path.relative_to(ROOT).as_posix()] = hits
    return found


@pytest.mark.slow  # parses every module of chiso and benchmarks: ~2 s
def test_runtime_package_imports_no_bench_library() -> None:
    """No module of `chiso` imports pandas or httpx (they come with the `bench` extra), and
    only the bench group names the `benchmarks` package."""
    assert _importers("chiso", {"pandas", "httpx"}) == {}
    assert _importers("chiso", {"benchmarks"}) == {BENCH_GATE: ["benchmarks"]}
    # The walk finds what it looks for: the pandas yardsticks and the load harness.
    found = _importers("benchmarks", {"pandas", "httpx"})
    assert found["benchmarks/records_pandas.py"] == ["pandas"], found
    assert found["benchmarks/load.py"] == ["httpx"], found


def _loaded_after(code: str) -> dict[str, list[str]]:
    """Run `code` in a fresh interpreter; return the bench libraries (`loaded`) and the
    domain command modules (`cli`) it imported."""
    script = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps({{"loaded": [m for m in {BENCH_ONLY!r} if m in sys.modules],
                          "cli": sorted(m for m in sys.modules if m.startswith("chiso.")
                                        and m.endswith(".cli"))}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_chiso_status_starts_without_pandas_httpx_or_duckdb() -> None:
    found = _loaded_after("""
        import sys
        from chiso.cli.main import main
        sys.argv = ["chiso", "status", "--help"]
        try:
            main()
        except SystemExit as exit:
            assert exit.code in (0, None), exit.code
    """)
    assert found["loaded"] == [], f"`chiso status --help` imported {found['loaded']}"
    # Nor any other domain's commands (funding's spreadsheets, extraction's readers, …).
    assert found["cli"] == ["chiso.analytics.cli", "chiso.cli"], found["cli"]


@pytest.mark.slow  # two `chiso` processes: ~4 s
def test_every_domain_command_is_still_there() -> None:
    chiso = str(Path(sys.executable).with_name("chiso"))
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    listing = subprocess.run([chiso, "--help"], capture_output=True, text=True, timeout=120,
                             env=env)
    assert listing.returncode == 0, listing.stderr[-3000:]
    for name in ("status", "init", "demo", "funding", "extract", "collection", "plan",
                 "import", "export", "bench"):
        assert f" {name} " in listing.stdout, listing.stdout
    funding = subprocess.run([chiso, "funding", "--help"], capture_output=True, text=True,
                             timeout=120, env=env)
    assert funding.returncode == 0 and "import" in funding.stdout, funding.stderr[-3000:]


@pytest.mark.slow  # a Python process that builds the app: ~2.5 s
def test_web_app_imports_no_bench_library() -> None:
    found = _loaded_after("""
        from chiso.web.app import create_app
        create_app(check_migrations=False)
    """)
    assert "pandas" not in found["loaded"] and "benchmarks" not in found["loaded"], found


@pytest.mark.slow  # a `chiso` process: ~2 s
def test_bench_group_still_lists_every_benchmark() -> None:
    chiso = str(Path(sys.executable).with_name("chiso"))
    done = subprocess.run([chiso, "bench", "--help"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("rollup", "import", "budget", "load", "records", "index", "overview"):
        assert f" {name} " in done.stdout, done.stdout


def test_the_database_layer_starts_without_pyarrow(tmp_path: Path) -> None:
    """pyarrow (and the numpy it loads, ~0.1 s) is for PostgreSQL's large columnar reads
    only: loading the engine and every model, as each command and server start does, must
    not import it (stop 25 had it imported at the top of `chiso.db.columnar`)."""
    script = textwrap.dedent(f"""
        import json, sys
        from chiso.boot import boot
        from chiso.db import get_engine
        boot()
        get_engine("sqlite:///{tmp_path / 'x.sqlite'}").connect().close()
        print(json.dumps([m for m in ("pyarrow", "numpy", "adbc_driver_manager")
                          if m in sys.modules]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []

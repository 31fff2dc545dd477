"""Start-up cost: the runtime never loads the benchmarks' heavy libraries (issue 13 item 4,
issue 18: `chiso status` spent ~80 % of its time importing pandas and httpx for bench
commands it did not run), while `chiso bench …` still finds every benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BENCH_ONLY = ["pandas", "httpx", "duckdb", "benchmarks"]


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


def test_every_domain_command_is_still_there() -> None:
    chiso = str(Path(sys.executable).with_name("chiso"))
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    listing = subprocess.run([chiso, "--help"], capture_output=True, text=True, timeout=120,
                             env=env)
    assert listing.returncode == 0, listing.stderr[-3000:]
    for name in ("status", "init", "demo", "funding", "extract", "collection", "plan",
                 "values", "bench"):
        assert f" {name} " in listing.stdout, listing.stdout
    funding = subprocess.run([chiso, "funding", "--help"], capture_output=True, text=True,
                             timeout=120, env=env)
    assert funding.returncode == 0 and "import" in funding.stdout, funding.stderr[-3000:]


def test_web_app_imports_no_bench_library() -> None:
    found = _loaded_after("""
        from chiso.web.app import create_app
        create_app(check_migrations=False)
    """)
    assert "pandas" not in found["loaded"] and "benchmarks" not in found["loaded"], found


def test_bench_group_still_lists_every_benchmark() -> None:
    chiso = str(Path(sys.executable).with_name("chiso"))
    done = subprocess.run([chiso, "bench", "--help"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("rollup", "import", "budget", "load", "records", "index"):
        assert f" {name} " in done.stdout, done.stdout

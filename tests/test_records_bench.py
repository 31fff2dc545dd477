"""`chiso bench records --keep DIR` run twice on the same folder: the second run reuses the
feed the first generated, starts from a new database and store, and again finds chiso and
the plain DuckDB reference storing the same rows (issue 18: a kept folder's re-run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_bench_records_reruns_on_the_folder_it_kept(tmp_path: Path) -> None:
    chiso = str(Path(sys.executable).with_name("chiso"))
    keep = tmp_path / "kept"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    for run, feed_line in ((1, "generate feed"), (2, "feed reused from --keep")):
        done = subprocess.run([chiso, "bench", "records", "--rows", "2000", "--months", "2",
                               "--keep", str(keep)], capture_output=True, text=True,
                              timeout=600, env=env, cwd=tmp_path)
        assert done.returncode == 0, f"run {run}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        out = done.stdout
        assert feed_line in out and "rows alike" in out and "Khớp / agree" in out, out
    assert (keep / "feed.parquet").exists() and not (keep / "reference").exists()

"""`chiso bench import --keep DIR` run twice on the same folder (issue 18 item 5: the second
run failed, inserting the reference data into the databases the first run kept)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_bench_import_reruns_on_the_folder_it_kept(tmp_path: Path) -> None:
    chiso = str(Path(sys.executable).with_name("chiso"))
    keep = tmp_path / "kept"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    for run in (1, 2):
        done = subprocess.run([chiso, "bench", "import", "--rows", "200", "--format", "csv",
                               "--keep", str(keep)], capture_output=True, text=True,
                              timeout=600, env=env, cwd=tmp_path)
        assert done.returncode == 0, f"run {run}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        assert "200 giá trị khớp / values agree" in done.stdout, done.stdout
    assert (keep / "csv" / "chiso.sqlite").exists() and (keep / "csv" / "so-lieu.csv").exists()

"""The `chiso` program refuses bad requests with one bilingual message and exit code 2,
never a traceback: an unmigrated database, an unknown code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHISO = str(Path(sys.executable).with_name("chiso"))


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHISO_DATA_DIR": str(tmp_path), "CHISO_DATABASE_URL": "",
           "COLUMNS": "200"}
    return subprocess.run([CHISO, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_unmigrated_database_names_the_command_that_fixes_it(tmp_path: Path) -> None:
    result = _run(tmp_path, "status", "--unit", "20", "--year", "2026")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "chiso db upgrade" in result.stderr and "Cơ sở dữ liệu" in result.stderr


@pytest.mark.slow
def test_unknown_code_is_refused_in_both_languages(tmp_path: Path) -> None:
    assert _run(tmp_path, "db", "upgrade").returncode == 0
    result = _run(tmp_path, "quality", "show", "NO_SUCH_SET", "2025Q3")
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    assert "NO_SUCH_SET" in output and " / " in output

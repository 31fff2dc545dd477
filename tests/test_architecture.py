"""The architecture contracts (issue 13 item 5): `lint-imports` keeps every contract in
`[tool.importlinter]` (pyproject.toml) — analytics' pure roll-up imports no web or database
code, a domain's routes and cli are imported only by the registries, other domains use a
domain only through its public modules, and chiso's packages import each other without
cycles. Each contract is also shown to fail on a copy of chiso with one bad import added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )


def test_the_code_keeps_every_contract() -> None:
    result = _lint_imports(ROOT, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


# (file to change, import added, the contract that must break)
BAD_IMPORTS = [
    ("analytics/rollup.py", "import sqlalchemy",
     "Analytics' pure computation works on Polars frames"),
    ("analytics/service.py", "import chiso.web.templating",
     "Analytics' loader and service read the database but import no web code"),
    ("values/service.py", "import chiso.tasks.routes",
     "A domain's routes are its web edge"),
    ("units/service.py", "import chiso.plans.chain",
     "Other domains use plans only through its public modules"),
    ("indicators/models.py", "import chiso.plans.models",
     "No cycles between chiso's packages"),
]


@pytest.mark.parametrize(("path", "line", "contract"), BAD_IMPORTS)
def test_a_bad_import_breaks_its_contract(
    tmp_path: Path, path: str, line: str, contract: str
) -> None:
    shutil.copytree(
        ROOT / "chiso", tmp_path / "chiso",
        ignore=lambda _dir, names: [n for n in names if n.endswith((".pyc", "data"))],
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    changed = tmp_path / "chiso" / path
    changed.write_text(changed.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")

    result = _lint_imports(tmp_path, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken, result.stdout

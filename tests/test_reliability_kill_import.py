"""A real `chiso import` process killed with SIGKILL in the middle of a large import leaves
the database exactly as before; running the import again then simply works, and a third
run changes nothing."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from chiso.db import get_engine
from chiso.units.models import OrgUnit, UnitKind
from tests.accounts_support import make_indicator

UNITS = 40
INDICATORS = 8
MONTHS = 96  # 2018-01 … 2025-12: 30,720 rows
COUNTED = ("data_value", "data_value_version", "import_batch", "audit_event")
CHISO = str(Path(sys.executable).with_name("chiso"))


def _reference_data(session, db_url: str) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    session.add(UnitKind(code="commune", name_vi="Xã", name_en="Commune", level=3))
    session.commit()
    codes = [f"{10000 + i:05d}" for i in range(UNITS)]
    with get_engine(db_url).begin() as conn:
        conn.execute(insert(OrgUnit), [{"code": c, "name": f"Xã thử nghiệm {c}",
                                        "kind": "commune"} for c in codes])
    indicators = [f"TEST.CHI_SO_{i}" for i in range(INDICATORS)]
    for code in indicators:
        make_indicator(session, code)
    return codes, indicators


def _write_csv(path: Path, units: list[str], indicators: list[str]) -> int:
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["Mã đơn vị", "Mã chỉ tiêu", "Kỳ báo cáo", "Tử số", "Mẫu số"])
        for unit in units:
            for indicator in indicators:
                for month in range(MONTHS):
                    year, index = 2018 + month // 12, month % 12 + 1
                    out.writerow([unit, indicator, f"{year}{index:02d}",
                                  (month * 7 + rows) % 90 + 5, 100])
                    rows += 1
    return rows


def _counts(db_url: str) -> dict[str, int]:
    with get_engine(db_url).connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in COUNTED}


def _import(path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([CHISO, "import", str(path)], env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _run_to_end(path: Path) -> float:
    started = time.monotonic()
    process = _import(path)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output.decode()
    return time.monotonic() - started


def _value_sum(db_url: str) -> float:
    with get_engine(db_url).connect() as conn:
        return float(conn.execute(text("SELECT sum(denominator) FROM data_value")).scalar_one())


@pytest.mark.slow
def test_sigkill_mid_import_leaves_the_database_as_before(session, db_url, tmp_path: Path
                                                          ) -> None:
    units, indicators = _reference_data(session, db_url)
    first = tmp_path / "so-lieu.csv"
    rows = _write_csv(first, units, indicators)
    corrected = tmp_path / "so-lieu-sua.csv"  # every figure corrected: a full update run
    corrected.write_text(first.read_text(encoding="utf-8").replace(",100\n", ",200\n"),
                         encoding="utf-8")
    _run_to_end(first)
    update_time = _run_to_end(corrected)
    settled = _counts(db_url)
    assert settled["data_value"] == rows and _value_sum(db_url) == 200 * rows

    interrupted = 0
    for fraction in (0.1, 0.25, 0.45):  # now import the first file again, kill it midway
        victim = _import(first)
        time.sleep(update_time * fraction)
        victim.send_signal(signal.SIGKILL)  # a no-op if it already ended (a fast run)
        victim.wait(30)
        if _counts(db_url) == settled and _value_sum(db_url) == 200 * rows:
            assert victim.returncode == -signal.SIGKILL
            interrupted += 1  # killed before its commit: nothing of it is stored
            continue
        # Killed after its commit, while printing the summary, or it had already ended:
        # then it is complete.
        assert _value_sum(db_url) == 100 * rows, f"half an import at {fraction:.0%}"
        assert _counts(db_url)["data_value_version"] == settled["data_value_version"] + rows
        break
    assert interrupted >= 1, "no kill landed inside the import: make the file larger"

    _run_to_end(first)  # simply run it again (if a kill came after the commit: a no-op)
    after = _counts(db_url)
    assert after["data_value"] == rows
    assert after["data_value_version"] == settled["data_value_version"] + rows
    assert _value_sum(db_url) == 100 * rows
    _run_to_end(first)  # and once more: nothing changes
    assert _counts(db_url)["data_value_version"] == after["data_value_version"]

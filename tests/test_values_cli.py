"""`chiso import` and `chiso export` through the real command line."""

from __future__ import annotations

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from typer.testing import CliRunner
from values_support import build_world

from chiso.cli.main import app
from chiso.db import new_session
from chiso.values.models import DataValue

runner = CliRunner()
GOOD = ("Mã đơn vị;Mã chỉ tiêu;Kỳ báo cáo;Tử số;Mẫu số;Giá trị\n"
        "06001;CQS.HS_TRUC_TUYEN;Quý I/2025;45;60;\n"
        "06002;CQS.SO_DVCTT;2025;;;1.234.567\n")


@pytest.fixture
def world(db_url):  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    built = build_world(session)
    session.commit()
    session.close()
    return built


def _stored(db_url: str) -> int:
    session = new_session(db_url)
    try:
        return session.scalar(select(func.count()).select_from(DataValue))
    finally:
        session.close()


def test_import_dry_run_then_store_then_export(world, db_url, tmp_path) -> None:
    path = tmp_path / "so-lieu.csv"
    path.write_text(GOOD, encoding="utf-8")
    preview = runner.invoke(app, ["import", str(path), "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "dry run" in preview.output and "inserted 2" in preview.output
    assert _stored(db_url) == 0
    stored = runner.invoke(app, ["import", str(path)])
    assert stored.exit_code == 0, stored.output
    assert "stored" in stored.output and _stored(db_url) == 2
    again = runner.invoke(app, ["import", str(path)])
    assert "unchanged 2" in again.output
    out = tmp_path / "xuat.xlsx"
    exported = runner.invoke(app, ["export", "--unit", "20", "--year", "2025", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert sorted(r[0] for r in rows[1:]) == ["06001", "06002"]
    assert {r[1]: r[5] for r in rows[1:]}["CQS.HS_TRUC_TUYEN"] == 75


def test_import_with_errors_exits_non_zero_with_a_table(world, db_url, tmp_path) -> None:
    path = tmp_path / "loi.csv"
    path.write_text(GOOD + "06001;CQS.HS_TRUC_TUYEN;2025Q2;70;60;\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "loi.csv" in result.output and "numerator_le_denominator" in result.output
    assert "│ 4 " in result.output and "numerator" in result.output
    assert _stored(db_url) == 0


def test_help_has_examples() -> None:
    for command in ("import", "export"):
        result = runner.invoke(app, [command, "--help"])
        assert "Example: chiso" in result.output

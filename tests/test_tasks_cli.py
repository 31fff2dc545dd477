"""The `chiso tasks`, `chiso meetings` and `chiso report` commands, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from chiso.cli.main import app
from chiso.errors import UserError
from chiso.settings import reset_settings_cache
from chiso.tasks.models import FocusArea, Task
from tests.tasks_support import TODAY, build_world

DATA = Path(__file__).parent.parent / "chiso" / "tasks" / "data"


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    monkeypatch.setenv("COLUMNS", "220")  # Rich tables must not wrap names in the test
    reset_settings_cache()
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        """The command's output and exit code as the `chiso` program gives them: a
        UserError (a refusal meant for people) is printed with exit code 2."""
        result = runner.invoke(app, list(args))
        output, exit_code = result.output, result.exit_code
        if isinstance(result.exception, UserError):
            output, exit_code = output + result.exception.message, 2
        assert exit_code == code, output
        return output

    return invoke


@pytest.mark.slow
def test_focus_areas_tasks_and_meetings(session: Session, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    build_world(session, with_tasks=False)
    session.commit()
    csv = str(DATA / "focus-areas-72-KH-BCD.csv")
    assert "11 nội dung trọng tâm" in run("tasks", "focus-areas", csv, "--plan", "72-KH/BCĐ")
    run("tasks", "focus-areas", csv, "--plan", "72-KH/BCĐ")
    assert session.scalar(select(func.count()).select_from(FocusArea)) == 11
    assert "NV-0001" in run("tasks", "add", "Báo cáo kết quả CĐS quý", "--lead", "S_KHCN",
                            "--due", "30/09/2025", "--recurrence", "Q")
    evidence = tmp_path / "bao-cao.pdf"
    evidence.write_bytes(b"%PDF bao cao")
    assert "100%" in run("tasks", "progress", "NV-0001", "--percent", "100", "--note", "Đã gửi",
                         "--evidence", str(evidence))
    listing = run("tasks", "list")
    assert "NV-0001" in listing and "NV-0002" in listing  # the next quarter's occurrence
    assert "Sở Khoa học" in run("tasks", "scorecard")
    out = tmp_path / "nv.xlsx"
    run("tasks", "export", str(out))
    assert "giữ nguyên 2" in run("tasks", "import", str(out), "--dry-run")
    bad = run("tasks", "add", "x", "--lead", "S_KHCN", "--due", "31/02/2025", code=2)
    assert "không phải ngày hợp lệ" in bad
    assert "Phiên họp quý IV" in run("meetings", "add", "Phiên họp quý IV", "--unit", "20",
                                     "--on", "15/12/2025")
    out = run("meetings", "conclude", "1", "Số hóa hồ sơ", "--lead", "S_NV", "--lead", "S_TC",
              "--due", "31/12/2025")
    assert "NV-0003" in out and "NV-0004" in out
    assert session.scalar(select(func.count()).select_from(Task)
                          .where(Task.conclusion_id.is_not(None))) == 2


def test_report_command_writes_the_files(session: Session, run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    build_world(session)
    session.commit()
    output = run("report", "quarterly", "--unit", "20", "--period", "2025Q3", "--out",
                 str(tmp_path), "--no-pdf", "--closing-date", "12/10/2025")
    docx = tmp_path / "bao-cao-quy-III-2025.docx"
    assert docx.exists() and (tmp_path / "bao-cao-quy-III-2025-phu-luc.xlsx").exists()
    assert str(docx) in output.replace("\n", "")
    assert any("76,6%" in c.text for t in Document(str(docx)).tables for r in t.rows
               for c in r.cells)
    # Today (05/10) is before the closing date: provisional, and the signer is missing.
    assert "BEFORE SIGNING" in output and "tạm tính" in output
    assert "Chưa có họ tên người ký" in output
    wrong = run("report", "half-year", "--unit", "20", "--period", "2025Q3", code=2)
    assert "6 tháng đầu năm 2025" in wrong  # the period named as people write it


@pytest.mark.slow
def test_every_command_has_an_example(run) -> None:  # type: ignore[no-untyped-def]
    for group, commands in {"tasks": ["list", "add", "progress", "import", "export", "remind",
                                      "scorecard", "focus-areas"],
                            "meetings": ["list", "add", "conclude"],
                            "report": ["quarterly", "half-year", "annual"]}.items():
        for command in commands:
            assert "Example: chiso" in run(group, command, "--help"), (group, command)

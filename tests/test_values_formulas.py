"""A comment or a source that looks like a formula ('=HYPERLINK(…)', '+84 …') leaves chiso
as text in the exported CSV and XLSX, and comes back as typed when the file is imported."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.values.exporter import export_frame, write_export
from chiso.values.importer import import_values
from chiso.values.models import DataValue
from chiso.values.service import save_value

TRAP = '=HYPERLINK("http://example.invalid","Bấm vào đây")'


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_formula_looking_comment_is_exported_as_text_and_read_back(session, tmp_path,
                                                                     suffix) -> None:
    world = build_world(session)
    access = Access.system(session, "test")
    save_value(session, unit_id=world.commune_a.id, indicator_id=world.count.id,
               period="2025", value=7, comment=TRAP, source="+84 số máy", access=access)
    session.commit()
    path = write_export(export_frame(session), tmp_path / f"xuat{suffix}")
    if suffix == ".xlsx":
        cell = load_workbook(path)["Số liệu"]["H2"]
        assert cell.data_type == "s" and cell.value == "'" + TRAP
    else:
        text = path.read_text(encoding="utf-8-sig")
        assert "\"'=HYPERLINK(" in text and ",'+84 số máy," in text
    result = import_values(session, path, access=access)
    session.commit()
    assert result.ok and result.counts["unchanged"] == 1, [e.text() for e in result.errors]
    stored = session.scalar(select(DataValue))
    assert stored is not None and (stored.comment, stored.source) == (TRAP, "+84 số máy")

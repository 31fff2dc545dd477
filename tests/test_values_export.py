"""Export to the long format and back: a round trip changes nothing."""

from __future__ import annotations

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.values.exporter import export_frame, write_export
from chiso.values.importer import import_values
from chiso.values.models import DataValueVersion
from chiso.values.service import delete_value, save_value


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    built = build_world(session)
    save = dict(indicator_id=built.ratio.id)
    save_value(session, unit_id=built.commune_a.id, period="2025Q1", numerator=1,
               denominator=3, comment="Một phần ba", **save, access=Access.system(session, "test"))
    save_value(session, unit_id=built.commune_b.id, period="2025Q1", value="76,6%", **save,
               access=Access.system(session, "test"))
    save_value(session, unit_id=built.commune_a.id, indicator_id=built.count.id,
               period="2025", value="1.234.567", source="một cửa",
               access=Access.system(session, "test"))
    save_value(session, unit_id=built.commune_b.id, indicator_id=built.count.id,
               period="2024", value=12.125, access=Access.system(session, "test"))
    gone = save_value(session, unit_id=built.commune_b.id, indicator_id=built.count.id,
                      period="2023", value=5, access=Access.system(session, "test"))
    delete_value(session, gone.id, access=Access.system(session, "test"))
    session.commit()
    return built


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_changes_nothing(session, world, tmp_path, suffix) -> None:
    frame = export_frame(session)
    assert frame.height == 4  # the deleted value is not exported
    path = write_export(frame, tmp_path / f"xuat{suffix}")
    versions = session.scalar(select(func.count()).select_from(DataValueVersion))
    result = import_values(session, path, access=Access.system(session, "test"))
    session.commit()
    assert result.ok, [e.text() for e in result.errors]
    assert result.counts["unchanged"] == 4
    assert result.counts["inserted"] == result.counts["updated"] == 0
    assert session.scalar(select(func.count()).select_from(DataValueVersion)) == versions


def test_export_filters_by_unit_subtree_indicator_and_year(session, world) -> None:
    under_province = export_frame(session, unit="20")
    assert under_province.height == 4
    commune_b = export_frame(session, unit="06002")
    assert set(commune_b.get_column("unit_code")) == {"06002"}
    only_2025 = export_frame(session, year=2025)
    assert sorted(only_2025.get_column("period")) == ["2025", "2025Q1", "2025Q1"]
    counts = export_frame(session, indicator="cqs.so_dvctt", period_from="2024",
                          period_to="2024")
    assert counts.select("unit_code", "value").rows() == [("06002", 12.125)]


def test_exported_xlsx_has_readable_header_and_numbers(session, world, tmp_path) -> None:
    path = write_export(export_frame(session, unit="06001"), tmp_path / "xa.xlsx")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Số liệu").to_python()
    assert rows[0][:8] == ["unit_code", "indicator_code", "period", "numerator",
                           "denominator", "value", "source", "comment"]
    by_indicator = {r[1]: r for r in rows[1:]}
    assert by_indicator["CQS.SO_DVCTT"][5] == 1234567
    assert by_indicator["CQS.SO_DVCTT"][9] == "Xã Đồng Đăng"
    assert by_indicator["CQS.HS_TRUC_TUYEN"][5] == pytest.approx(100 / 3)

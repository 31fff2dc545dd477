"""Importing value files: real CSV and XLSX files written to disk and read back."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.audit.models import AuditEvent
from chiso.values.importer import import_values
from chiso.values.models import DataValue, DataValueVersion, ImportBatch

HEADER_VI = "Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Tử số,Mẫu số,Giá trị,Nguồn,Ghi chú"


@pytest.fixture
def world(session):  # type: ignore[no-untyped-def]
    built = build_world(session)
    session.commit()
    return built


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def _csv(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes("\r\n".join(lines).encode(encoding))
    return path


def _good_csv(tmp_path: Path) -> Path:
    nfd_comment = unicodedata.normalize("NFD", "Số liệu Sở Khoa học và Công nghệ")
    return _csv(tmp_path / "so_lieu.csv", [
        "BÁO CÁO SỐ LIỆU CHUYỂN ĐỔI SỐ QUÝ III/2025,,,,,,,",
        ",,,,,,,",
        HEADER_VI,
        '06001,CQS.HS_TRUC_TUYEN,2025Q3,,,"76,6%",,' + nfd_comment + "  ",
        '06002,CQS.HS_TRUC_TUYEN,Quý III/2025,"1.532","2.000",,một cửa,',
        "06001,CQS.SO_DVCTT,2025,,,1.234.567,,",
        "06003,CQS.SO_DVCTT,202506,,,5,,",
        "06003,CQS.SO_DVCTT,202509,,,6,,",
    ])


def test_csv_import_stores_clean_values(session, world, tmp_path) -> None:
    result = import_values(session, _good_csv(tmp_path), access=Access.system(session, "test"))
    session.commit()
    assert result.ok, [e.text() for e in result.errors]
    assert result.counts == {"rows": 5, "inserted": 5, "updated": 0, "unchanged": 0,
                             "errors": 0}
    stored = {(v.unit_id, v.indicator_id, v.period): v for v in session.scalars(
        select(DataValue))}
    share_a = stored[(world.commune_a.id, world.ratio.id, "2025Q3")]
    assert share_a.value == pytest.approx(76.6) and share_a.numerator is None
    assert share_a.comment == "Số liệu Sở Khoa học và Công nghệ"
    assert unicodedata.is_normalized("NFC", share_a.comment)
    share_b = stored[(world.commune_b.id, world.ratio.id, "2025Q3")]
    assert (share_b.numerator, share_b.denominator, share_b.value) == (1532, 2000, 76.6)
    assert share_b.source == "một cửa"
    assert stored[(world.commune_a.id, world.count.id, "2025")].value == 1234567
    # Code 06003 was re-used on 1/7/2025: June is the old commune's, September the new one's.
    assert stored[(world.old_commune.id, world.count.id, "202506")].value == 5
    assert stored[(world.new_commune.id, world.count.id, "202509")].value == 6
    batch = session.scalars(select(ImportBatch)).one()
    assert (batch.file_name, batch.inserted, batch.status) == ("so_lieu.csv", 5, "done")
    assert len(batch.sha256) == 64
    assert session.scalars(select(AuditEvent.action)).all() == ["values.import"]


def test_importing_the_same_file_twice_changes_nothing(session, world, tmp_path) -> None:
    path = _good_csv(tmp_path)
    import_values(session, path, access=Access.system(session, "test"))
    session.commit()
    versions, batches = _count(session, DataValueVersion), _count(session, ImportBatch)
    again = import_values(session, path, access=Access.system(session, "test"))
    session.commit()
    assert again.ok and again.counts["unchanged"] == 5
    assert again.counts["inserted"] == again.counts["updated"] == 0
    assert (_count(session, DataValueVersion), _count(session, ImportBatch)) == (
        versions, batches)


def test_one_bad_row_stores_nothing_and_names_row_and_column(session, world, tmp_path
                                                             ) -> None:
    path = _csv(tmp_path / "loi.csv", [
        HEADER_VI,
        "06001,CQS.HS_TRUC_TUYEN,2025Q3,10,20,,,",
        "06002,CQS.HS_TRUC_TUYEN,2025Q3,30,20,,,",
        "06001,CQS.SO_DVCTT,2025,,,7,,",
    ])
    result = import_values(session, path, access=Access.system(session, "test"))
    session.commit()
    assert not result.ok
    assert [(e.row, e.column, e.rule) for e in result.errors] == [
        (3, "numerator", "numerator_le_denominator")]
    text = result.errors[0].text()
    assert text.startswith(
        "Tệp 'loi.csv', dòng 3, cột 'Tử số' (numerator): tử số (30) lớn hơn mẫu số (20)")
    assert ("file 'loi.csv', row 3, column 'Tử số' (numerator): the numerator (30) is "
            "greater than the denominator (20)") in text
    assert _count(session, DataValue) == 0 and _count(session, ImportBatch) == 0


def test_every_problem_is_reported_at_once(session, world, tmp_path) -> None:
    path = _csv(tmp_path / "nhieu_loi.csv", [
        "unit_code,indicator_code,period,numerator,denominator,value,source,comment",
        "99999,CQS.HS_TRUC_TUYEN,2025Q3,,,50,,",
        "06001,KHONG.CO,2025Q3,,,50,,",
        "06001,CQS.HS_TRUC_TUYEN,2025Q9,,,50,,",
        "06001,CQS.HS_TRUC_TUYEN,2025Q3,,,140%,,",
        "06001,CQS.SO_DVCTT,2025,mười,,,,",
        "06001,CQS.SO_DVCTT,2025,,,12,,",
        "06001,CQS.SO_DVCTT,2025,,,13,,",
    ])
    result = import_values(session, path, access=Access.system(session, "test"))
    found = {(e.row, e.column, e.rule) for e in result.errors}
    assert {(2, "unit_code", "unit_unknown"), (3, "indicator_code", "indicator_unknown"),
            (4, "period", "period_format"), (5, "value", "percent_range"),
            (6, "numerator", "number_format"), (8, "unit_code", "duplicate_row")} <= found
    assert _count(session, DataValue) == 0


def test_dry_run_lists_changes_and_writes_nothing(session, world, tmp_path) -> None:
    import_values(session, _good_csv(tmp_path), access=Access.system(session, "test"))
    session.commit()
    versions = _count(session, DataValueVersion)
    changed = _csv(tmp_path / "sua.csv", [
        HEADER_VI,
        '06001,CQS.HS_TRUC_TUYEN,2025Q3,,,"80,1%",,',
        "06001,CQS.SO_DVCTT,2025,,,1.234.567,,",
        "06002,CQS.SO_DVCTT,2025,,,42,,",
    ])
    preview = import_values(session, changed, dry_run=True, access=Access.system(session, "test"))
    session.commit()
    assert preview.ok and preview.dry_run and preview.batch_id is None
    assert (preview.inserts.height, preview.updates.height, preview.unchanged.height) == (
        1, 1, 1)
    update = preview.updates.row(0, named=True)
    assert (update["row"], update["value_old"], update["value"]) == (2, pytest.approx(76.6),
                                                                    pytest.approx(80.1))
    assert _count(session, DataValueVersion) == versions
    assert session.scalar(select(DataValue.value).where(
        DataValue.unit_id == world.commune_a.id, DataValue.period == "2025Q3")) == (
        pytest.approx(76.6))


def test_xlsx_with_title_and_merged_two_level_header(session, world, tmp_path) -> None:
    book = openpyxl.Workbook()
    guide = book.active
    guide.title = "Hướng dẫn"
    guide["A1"] = "Điền số liệu vào trang Số liệu"
    sheet = book.create_sheet("Số liệu")
    sheet["A1"] = "BÁO CÁO KẾT QUẢ CHUYỂN ĐỔI SỐ"
    sheet.merge_cells("A1:G1")
    for column, label in zip("ABC", ["Mã đơn vị", "Mã chỉ tiêu", "Kỳ báo cáo"], strict=True):
        sheet[f"{column}3"] = label
        sheet.merge_cells(f"{column}3:{column}4")
    sheet["D3"] = "Số liệu"
    sheet.merge_cells("D3:F3")
    sheet["D4"], sheet["E4"], sheet["F4"] = "Tử số", "Mẫu số", "Giá trị (%)"
    sheet["G3"] = "Ghi chú"
    sheet.append(["(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)"])
    sheet.append([6001, "cqs.hs_truc_tuyen", "Quý III/2025", 383, 500, 76.6, "Đạt  "])
    sheet.append(["06002", "CQS.SO_DVCTT", 2025, None, None, 1234567, None])
    sheet.append([None] * 7)
    sheet.append(["06001", "CQS.SO_DVCTT", "2025", None, None, "12,5", None])
    path = tmp_path / "bao_cao.xlsx"
    book.save(path)
    result = import_values(session, path, access=Access.system(session, "test"))
    assert result.ok, [e.text() for e in result.errors]
    session.commit()
    assert sorted(result.inserts.select("sheet", "row").rows()) == [
        ("Số liệu", 6), ("Số liệu", 7), ("Số liệu", 9)]
    stored = dict(session.execute(select(DataValue.period, DataValue.value)
                                  .where(DataValue.unit_id == world.commune_a.id)).all())
    assert stored == {"2025Q3": pytest.approx(76.6), "2025": 12.5}
    assert session.scalar(select(DataValue.comment).where(DataValue.period == "2025Q3")) == (
        "Đạt")

    sheet["F9"] = "mười hai"
    bad = tmp_path / "bao_cao_loi.xlsx"
    book.save(bad)
    refused = import_values(session, bad, access=Access.system(session, "test"))
    assert [(e.sheet, e.row, e.column, e.rule) for e in refused.errors] == [
        ("Số liệu", 9, "value", "number_format")]
    assert "trang 'Số liệu', dòng 9, cột 'Giá trị (%)' (value)" in refused.errors[0].text()


def test_focal_officer_may_import_only_their_unit(session, world, tmp_path, make_user
                                                  ) -> None:
    officer, _pw = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id)
    user = session.merge(officer)
    path = _csv(tmp_path / "hai_xa.csv", [
        HEADER_VI,
        "06001,CQS.SO_DVCTT,2025,,,3,,",
        "06002,CQS.SO_DVCTT,2025,,,4,,",
    ])
    result = import_values(session, path, access=Access(session, user))
    assert [(e.row, e.rule) for e in result.errors] == [(3, "permission")]
    assert "06002" in result.errors[0].message_vi
    assert _count(session, DataValue) == 0


def test_legacy_windows_1258_csv_is_read(session, world, tmp_path) -> None:
    path = tmp_path / "cu.csv"
    path.write_bytes(_cp1258("Mã đơn vị;Mã chỉ tiêu;Kỳ báo cáo;Giá trị;Ghi chú\r\n"
                             "06001;CQS.SO_DVCTT;2025;7;Đã kiểm tra\r\n"))
    result = import_values(session, path, access=Access.system(session, "test"))
    assert result.ok, [e.text() for e in result.errors]
    session.commit()
    assert session.scalar(select(DataValue.comment)) == "Đã kiểm tra"


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed, tone marks combining."""
    out = b""
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", char)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
            out += (base + "".join(c for c in parts if c in _TONES)).encode("cp1258")
    return out


def test_percent_formatted_excel_cells_are_read_as_percentages(session, world, tmp_path
                                                                ) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["unit_code", "indicator_code", "period", "value"])
    sheet.append(["06001", "CQS.HS_TRUC_TUYEN", "2025", 0.766])
    sheet.append(["06002", "CQS.HS_TRUC_TUYEN", "2025", 0.5])
    sheet.append(["06001", "CQS.SO_DVCTT", "2025", 12])
    sheet["D2"].number_format = "0.0%"
    sheet["D3"].number_format = "0%"
    path = tmp_path / "phan_tram.xlsx"
    book.save(path)
    result = import_values(session, path, access=Access.system(session, "test"))
    assert result.ok, [e.text() for e in result.errors]
    values = {(r["unit_code"], r["indicator_code"]): r["value"]
              for r in result.inserts.iter_rows(named=True)}
    assert values == {("06001", "CQS.HS_TRUC_TUYEN"): pytest.approx(76.6),
                      ("06002", "CQS.HS_TRUC_TUYEN"): 50.0, ("06001", "CQS.SO_DVCTT"): 12.0}


def test_excel_cells_of_mixed_types_read_back_exactly() -> None:
    import datetime as dt

    import polars as pl

    from chiso.text.columns import parse_number_expr
    from chiso.values.reader import _column_texts

    numbers = (0.766, 1.234, 1e-07, 2025.0, 12345678.125, 5, "", "76,6%", "1.234")
    texts = _column_texts(numbers)
    assert texts.to_list()[3:] == ["2025", "12345678,125", "5", None, "76,6%", "1.234"]
    parsed = pl.DataFrame({"a": texts}).select(parse_number_expr("a")).to_series().to_list()
    assert parsed == [0.766, 1.234, 1e-07, 2025.0, 12345678.125, 5.0, None, 76.6, 1234.0]
    dates = _column_texts((dt.datetime(2025, 5, 23), "Quý III/2025", None))
    assert dates.to_list() == ["23/05/2025", "Quý III/2025", None]

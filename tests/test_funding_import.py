"""Importing the table a finance department sends: messy headers, Vietnamese numbers, section
rows, a total row, TCVN3 text; all or nothing, idempotent, a dry run that stores nothing,
and errors that name the sheet, row, column and rule. Real XLSX files, written and read."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from chiso.accounts.access import Access
from chiso.accounts.models import Role, User
from chiso.funding.importer import import_budget_file
from chiso.funding.models import BudgetLine, Figure
from chiso.funding.workbook import MAX_ROWS
from chiso.values.models import ImportBatch
from tests.test_funding_support import budget_workbook, make_world, today_fixture  # noqa: F401

MILLION = 1_000_000


def _count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def _amounts(session) -> dict[tuple[str, str, str], int]:  # type: ignore[no-untyped-def]
    rows = session.execute(select(BudgetLine.name, Figure.stage, Figure.period, Figure.amount)
                           .join(Figure, Figure.line_id == BudgetLine.id))
    return {(name, stage, period): amount for name, stage, period, amount in rows}


def test_the_finance_table_is_read_as_written(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path, targets=False)
    path = budget_workbook(tmp_path / "Du toan KHCN 2026.xlsx")
    system = Access.system(session, "test")

    dry = import_budget_file(session, path, access=system, dry_run=True)
    assert dry.ok, [e.text() for e in dry.errors]
    assert _count(session, Figure) == 0 and _count(session, BudgetLine) == 0
    assert (dry.years, dry.amount_unit, dry.lines) == ([2026], "triệu đồng", 5)

    stored = import_budget_file(session, path, access=system)
    session.commit()
    assert stored.ok and stored.counts()["inserted"] == dry.counts()["inserted"] == 49
    amounts = _amounts(session)
    platform = "Nền tảng số dùng chung và trung tâm dữ liệu tỉnh"
    assert amounts[(platform, "estimate", "2026")] == 45_000 * MILLION
    assert amounts[(platform, "disbursed", "202609")] == 28_500 * MILLION
    # "29.700,5" triệu đồng, written the Vietnamese way, is exact to the đồng.
    assert amounts[("Sự nghiệp khoa học và công nghệ", "disbursed", "202609")] == 29_700_500_000
    assert amounts[("Tổng chi ngân sách địa phương", "estimate", "2026")] == (
        19_800_000 * MILLION)
    lines = {line.name: line for line in session.scalars(select(BudgetLine))}
    # Section rows gave the type (I. đầu tư / II. thường xuyên) and, under B, the source.
    assert (lines[platform].source, lines[platform].spend_type, lines[platform].area) == (
        "local", "investment", "dx")
    science = lines["Sự nghiệp khoa học và công nghệ"]
    assert (science.spend_type, science.area, science.unit_id) == (
        "recurrent", "science", world.unit("20.SKHCN").id)  # found by its short name
    health = lines["Bệnh án điện tử tại các bệnh viện tuyến tỉnh"]
    assert (health.source, health.spend_type) == ("central", "investment")
    assert "Tổng cộng" not in lines and "NGÂN SÁCH ĐỊA PHƯƠNG" not in lines
    assert {f.status for f in session.scalars(select(Figure))} == {"submitted"}
    batch = session.scalar(select(ImportBatch))
    assert (batch.kind, batch.inserted, batch.status) == ("funding-xlsx", 49, "done")

    again = import_budget_file(session, path, access=system)
    assert again.ok and again.counts()["inserted"] == 0 and again.counts()["unchanged"] == 49


def test_a_bad_row_refuses_the_whole_table_and_is_named(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    make_world(session, tmp_path, targets=False)
    path = budget_workbook(tmp_path / "du-toan.xlsx", bad_row=True)

    result = import_budget_file(session, path, access=Access.system(session, "test"))
    assert not result.ok and _count(session, Figure) == 0
    by_rule = {e.rule: e for e in result.errors}
    amount = by_rule["number_format"]
    assert (amount.sheet, amount.row, amount.column_label) == ("Du toan 2026", 19,
                                                               "Dự toán giao")
    assert "'8.0.00' không phải là số tiền" in amount.text()
    assert "row 19, column 'Dự toán giao' (stage:estimate)" in amount.text()
    unit = by_rule["unit_unknown"]
    assert (unit.row, unit.column_label) == (19, "Đơn vị chủ trì")
    assert "không có đơn vị 'Công an tỉnh' trong tỉnh" in unit.message_vi
    assert {e.row for e in result.errors} == {19}


def test_an_edit_after_approval_is_counted_and_waits_again(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from chiso.funding import service

    world = make_world(session, tmp_path, targets=False)
    system = Access.system(session, "test")
    import_budget_file(session, budget_workbook(tmp_path / "a.xlsx"), access=system)
    service.approve_figures(session, access=system, scope_unit_id=world.province.id)
    changed = import_budget_file(session, budget_workbook(tmp_path / "b.xlsx", changed=True),
                                 access=system, dry_run=True)
    assert changed.ok
    counts = changed.counts()
    assert (counts["updated"], counts["reopened"], counts["inserted"]) == (1, 1, 0)
    change = changed.plan.changes[0].as_dict()
    assert (change["period"], change["old_amount"], change["amount"], change["row"]) == (
        "202609", 28_500 * MILLION, 30_000 * MILLION, 10)


def test_legacy_tcvn3_names_are_read_as_vietnamese(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    make_world(session, tmp_path, targets=False)
    path = budget_workbook(tmp_path / "tcvn3.xlsx", tcvn3=True)
    result = import_budget_file(session, path, access=Access.system(session, "test"))
    assert result.ok, [e.text() for e in result.errors]
    names = set(session.scalars(select(BudgetLine.name)))
    assert "Nền tảng số dùng chung và trung tâm dữ liệu tỉnh" in names


def test_someone_else_s_units_are_refused_row_by_row(session, make_user, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path, targets=False)
    officer, _pw = make_user(Role.FOCAL_OFFICER, world.unit("20.SYT").id)
    access = Access(session, session.get(User, officer.id))
    result = import_budget_file(session, budget_workbook(tmp_path / "t.xlsx"), access=access)
    assert not result.ok and _count(session, Figure) == 0
    refused = sorted((e.row, e.rule) for e in result.errors)
    # Rows 10, 11 and 13 are other departments' lines, row 18 the province's total
    # spending; the health department's own line (row 16) is not refused.
    assert refused == [(10, "permission"), (11, "permission"), (13, "permission"),
                       (18, "permission")]
    assert "bạn không có quyền nhập kinh phí cho Sở Khoa học và Công nghệ" in (
        result.errors[0].message_vi)


def test_a_table_without_its_year_says_how_to_give_it(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    make_world(session, tmp_path, targets=False)
    path = tmp_path / "khong-nam.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Nội dung", "Đơn vị", "Nguồn vốn", "Loại chi", "Lĩnh vực",
                         "Dự toán giao"])
        writer.writerow(["Nền tảng số", "Sở Y tế", "NSĐP", "ĐTPT", "CĐS", "1.200"])
    system = Access.system(session, "test")
    result = import_budget_file(session, path, access=system)
    assert [e.rule for e in result.errors] == ["year"]
    assert "chọn năm khi nhập" in result.errors[0].message_vi
    given = import_budget_file(session, path, access=system, year=2026,
                               amount_unit="tỷ đồng")
    assert given.ok and _amounts(session)[("Nền tảng số", "estimate", "2026")] == 1_200 * 10**9


def test_an_oversized_table_is_refused_before_reading_it(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    make_world(session, tmp_path, targets=False)
    path = tmp_path / "qua-lon.csv"
    path.write_text("Nội dung,Đơn vị,Dự toán giao\n" + "x,Sở Y tế,1\n" * (MAX_ROWS + 50),
                    encoding="utf-8")
    result = import_budget_file(session, path, access=Access.system(session, "test"),
                                year=2026)
    assert [e.rule for e in result.errors] == ["file_unreadable"]
    assert "quá lớn" in result.errors[0].message_vi


@pytest.mark.parametrize("text", ["Tổng cộng", "Cộng", "TỔNG SỐ"])
def test_total_rows_are_not_lines(session, today, tmp_path, text) -> None:  # type: ignore[no-untyped-def]
    make_world(session, tmp_path, targets=False)
    path = tmp_path / "tong.csv"
    path.write_text("Nội dung,Đơn vị,Nguồn vốn,Loại chi,Lĩnh vực,Dự toán giao\n"
                    f"{text},,,,,9.999\nNền tảng số,Sở Y tế,NSĐP,ĐTPT,CĐS,1.200\n",
                    encoding="utf-8")
    result = import_budget_file(session, path, access=Access.system(session, "test"),
                                year=2026)
    assert result.ok and result.lines == 1


def test_a_new_source_heading_starts_afresh(session, today, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Under "B. Ngân sách trung ương" the type of section A's "I. Chi đầu tư phát triển" no
    longer holds: a line there without its own type is refused, not silently typed."""
    make_world(session, tmp_path, targets=False)
    path = tmp_path / "hai-nguon.csv"
    path.write_text(
        "STT,Nội dung,Đơn vị,Lĩnh vực,Dự toán giao\n"
        "A,Ngân sách địa phương,,,\n"
        "I,Chi đầu tư phát triển,,,\n"
        "1,Nền tảng số,Sở Y tế,CĐS,1.200\n"
        "B,Ngân sách trung ương,,,\n"
        "1,Bệnh án điện tử,Sở Y tế,CĐS,800\n", encoding="utf-8")
    result = import_budget_file(session, path, access=Access.system(session, "test"),
                                year=2026)
    assert [(e.row, e.column, e.rule) for e in result.errors] == [(6, "spend_type",
                                                                   "required")]
    assert "thiếu loại chi" in result.errors[0].message_vi

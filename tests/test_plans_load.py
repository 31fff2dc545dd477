"""Plans from YAML and XLSX: the shipped 72-KH/BCĐ, round trips, and rejected rows."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.audit.models import AuditEvent
from chiso.indicators.problems import InputRejected
from chiso.indicators.service import get_indicator
from chiso.plans.models import Plan, Target
from chiso.plans.service import (
    create_target,
    export_plan_xlsx,
    get_plan,
    load_plan,
    plan_targets,
    target_as_dict,
    update_target,
)
from tests.plans_support import PLAN_CODE, PLAN_XLSX, PLAN_YAML, count, prepared

# The 2023 targets of Kế hoạch 72-KH/BCĐ (seed article 002).
EXPECTED_2023 = {
    "CQS.DVCTT_PHAT_SINH_HS": 85, "CQS.HS_TRUC_TUYEN": 70, "CQS.QUAN_TRI_NOI_BO": 100,
    "KTS.TY_TRONG_GRDP": 10, "KTS.TY_TRONG_NGANH": 2, "KTS.HOA_DON_DT": 100,
    "XHS.HO_CAP_QUANG": 75, "XHS.SMARTPHONE": 85, "XHS.TK_THANH_TOAN": 75,
    "CKS.DOI_TUONG_NEN_TANG": 100, "CKS.CO_QUAN_SU_DUNG": 100, "CQS.HTTT_CAP_DO": 100,
    "CQS.THIET_BI_BAO_VE": 90,
}


def _targets(session) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    plan = get_plan(session, PLAN_CODE)
    return {row["indicator"]: row for row in
            (target_as_dict(session, t) for t in plan_targets(session, plan))}


def test_shipped_yaml_plan_loads(session) -> None:
    units = prepared(session)
    summary = load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    session.commit()
    assert summary.plan_created and len(summary.inserted) == len(EXPECTED_2023)
    plan = get_plan(session, PLAN_CODE)
    assert (plan.issued_on, plan.year_from, plan.year_to, plan.scope_unit_id) == (
        dt.date(2023, 5, 23), 2023, 2023, units.lang_son.id)
    assert plan.issuer == "Ban Chỉ đạo về chuyển đổi số tỉnh Lạng Sơn"
    rows = _targets(session)
    assert {code: row["value"] for code, row in rows.items()} == EXPECTED_2023
    assert {row["unit"] for row in rows.values()} == {"20"}
    assert {row["target_date"] for row in rows.values()} == {dt.date(2023, 12, 31)}
    assert {row["comparator"] for row in rows.values()} == {">="}
    assert rows["CKS.CO_QUAN_SU_DUNG"]["baseline_value"] == 100
    assert rows["CKS.CO_QUAN_SU_DUNG"]["baseline_date"] == dt.date(2022, 12, 31)
    assert rows["XHS.HO_CAP_QUANG"]["pillar"] == "XHS"
    assert count(session, AuditEvent) >= 1 + len(EXPECTED_2023)


def test_loading_twice_changes_nothing_and_xlsx_matches_yaml(session) -> None:
    prepared(session)
    load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    session.commit()
    events = count(session, AuditEvent)
    again = load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    # the shipped XLSX example is the same plan
    from_excel = load_plan(session, PLAN_XLSX, access=Access.system(session, "test"))
    session.commit()
    assert not again.changed and not from_excel.changed, from_excel
    assert len(from_excel.unchanged) == len(EXPECTED_2023)
    assert count(session, AuditEvent) == events


def test_shipped_xlsx_loads_into_an_empty_database(session) -> None:
    prepared(session)
    summary = load_plan(session, PLAN_XLSX, access=Access.system(session, "test"))
    session.commit()
    assert summary.plan_created
    assert {code: row["value"] for code, row in _targets(session).items()} == EXPECTED_2023


def test_export_then_load_changes_nothing(session, tmp_path) -> None:
    units = prepared(session)
    load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    plan_code = PLAN_CODE
    create_target(session, plan_code, {
        "indicator": "CQS.HS_DUNG_HAN", "comparator": "between", "value": "95,5",
        "value_high": 100, "baseline_value": "87,25", "baseline_date": "30/06/2023",
        "trajectory": "milestones", "milestones": "30/09/2023: 90,125; 31/12/2023: 95,5",
        "note": "Chỉ tiêu thử: hồ sơ đúng hạn"}, access=Access.system(session, "test"))
    create_target(session, plan_code, {"indicator": "CQS.HS_TRE_HAN", "comparator": "<=",
                                       "value": 1.5, "unit": "06130", "year": 2023},
                  access=Access.system(session, "test"))
    session.commit()
    exported = export_plan_xlsx(session, plan_code, tmp_path / "out" / "plan.xlsx")
    summary = load_plan(session, exported, access=Access.system(session, "test"))
    assert not summary.changed, summary
    assert len(summary.unchanged) == len(EXPECTED_2023) + 2
    between = _targets(session)["CQS.HS_DUNG_HAN"]
    assert (between["value"], between["value_high"], between["baseline_value"]) == (
        95.5, 100.0, 87.25)
    assert between["milestones"] == [{"date": "2023-09-30", "value": 90.125},
                                     {"date": "2023-12-31", "value": 95.5}]
    assert _targets(session)["CQS.HS_TRE_HAN"]["unit"] == "06130"
    assert units.lang_son.code == "20"


def _edited_copy(tmp_path: Path, edits: dict[str, object]) -> Path:
    """The shipped XLSX with cells changed: {'B5': 'CQS.KHONG_CO', …}."""
    path = tmp_path / "edited.xlsx"
    shutil.copy(PLAN_XLSX, path)
    workbook = load_workbook(path)
    sheet = workbook["Chỉ tiêu"]
    for ref, value in edits.items():
        sheet[ref] = value
    workbook.save(path)
    return path


def test_bad_rows_are_named_by_sheet_row_and_column_and_nothing_is_stored(session, tmp_path
                                                                         ) -> None:
    prepared(session)
    path = _edited_copy(tmp_path, {"B5": "CQS.KHONG_CO", "D7": "99999", "H9": "nhiều"})
    with pytest.raises(InputRejected) as caught:
        load_plan(session, path, access=Access.system(session, "test"))
    session.rollback()
    messages = [p.message() for p in caught.value.problems]
    assert len(messages) == 3, messages
    assert messages[0].startswith("Tệp 'edited.xlsx', trang 'Chỉ tiêu', dòng 5, cột B "
                                  "\"Mã chỉ số / Indicator\": chỉ số 'CQS.KHONG_CO' không có")
    assert "file 'edited.xlsx', sheet 'Chỉ tiêu', row 5, column B \"Mã chỉ số / Indicator\": " \
           "indicator 'CQS.KHONG_CO' is not in the catalogue" in messages[0]
    assert "dòng 7, cột D \"Mã đơn vị / Unit\": không có đơn vị mã '99999' vào ngày đích " \
           "31/12/2023" in messages[1]
    assert "row 9, column H \"Chỉ tiêu / Value\": 'nhiều'" in messages[2]
    assert count(session, Plan) == 0 and count(session, Target) == 0


def test_unit_is_resolved_on_the_target_date(session, tmp_path) -> None:
    prepared(session)
    document = yaml.safe_load(PLAN_YAML.read_text(encoding="utf-8"))
    document["plan"].update(year_to=2026)
    document["targets"] = [
        {"indicator": "XHS.HO_CAP_QUANG", "unit": "06187", "year": 2025, "value": 80},
        {"indicator": "XHS.HO_CAP_QUANG", "unit": "06187", "year": 2024, "value": 78},
        {"indicator": "XHS.HO_CAP_QUANG", "unit": "06130", "year": 2026, "value": 90}]
    path = tmp_path / "units.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        load_plan(session, path, access=Access.system(session, "test"))
    messages = [p.message() for p in caught.value.problems]
    assert [m.split(": ")[0] for m in messages] == [
        "Tệp 'units.yaml', danh sách 'targets', mục 2 (XHS.HO_CAP_QUANG), trường 'unit'",
        "Tệp 'units.yaml', danh sách 'targets', mục 3 (XHS.HO_CAP_QUANG), trường 'unit'"]
    assert "no unit with code '06187' on the target date 2024-12-31" in messages[0]


def test_campaign_end_date_percent_cells_and_multi_year_rules(session, tmp_path) -> None:
    prepared(session)
    document = {"plan": {"code": "15/KH-BCĐ", "title": "Chiến dịch 100 ngày chuyển đổi số "
                         "trong thực hiện dịch vụ công trực tuyến", "issued_on": "01/09/2023",
                         "year_from": 2023, "year_to": 2023, "scope_unit": "20",
                         "default_target_date": "09/12/2023"},
                "targets": [{"indicator": "CQS.HS_TRUC_TUYEN", "value": "76,6%"},
                            {"indicator": "CQS.HS_TOAN_TRINH", "value": 40,
                             "target_date": "31/12/2023"}]}
    path = tmp_path / "campaign.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    load_plan(session, path, access=Access.system(session, "test"))
    rows = {t.indicator_id: t for t in get_plan(session, "15/KH-BCĐ").targets}
    campaign = rows[get_indicator(session, "CQS.HS_TRUC_TUYEN").id]
    assert (campaign.target_date, campaign.year, campaign.value) == (
        dt.date(2023, 12, 9), 2023, 76.6)
    assert rows[get_indicator(session, "CQS.HS_TOAN_TRINH").id].target_date == dt.date(
        2023, 12, 31)
    # A cell formatted as a percentage holds 0,85 for 85%.
    export = export_plan_xlsx(session, "15/KH-BCĐ", tmp_path / "c.xlsx")
    workbook = load_workbook(export)
    sheet = workbook["Chỉ tiêu"]
    row = next(c.row for c in sheet["B"] if c.value == "CQS.HS_TOAN_TRINH")
    sheet[f"H{row}"] = 0.8
    sheet[f"H{row}"].number_format = "0%"
    workbook.save(export)
    summary = load_plan(session, export, access=Access.system(session, "test"))
    assert summary.updated == ["CQS.HS_TOAN_TRINH @ 20 31/12/2023"]
    assert rows[get_indicator(session, "CQS.HS_TOAN_TRINH").id].value == 80.0


def test_multi_year_plan_needs_a_year_and_years_inside_the_plan(session, tmp_path) -> None:
    prepared(session)
    document = {"plan": {"code": "08-NQ/TU", "title": "Nghị quyết về chuyển đổi số",
                         "year_from": 2021, "year_to": 2025, "scope_unit": "20"},
                "targets": [{"indicator": "XHS.SMARTPHONE", "value": 85},
                            {"indicator": "XHS.SMARTPHONE", "value": 90, "year": 2030},
                            {"indicator": "XHS.SMARTPHONE", "value": 80, "year": 2024,
                             "comparator": "≥", "value_high": 90},
                            {"indicator": "CQS.SU_CO_ATTT_CHUA_XL", "value": "5%",
                             "year": 2024, "comparator": "<="}]}
    path = tmp_path / "nq.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        load_plan(session, path, dry_run=True, access=Access.system(session, "test"))
    rules = [p.rule_en for p in caught.value.problems]
    assert rules == ["missing the target's year (the plan spans several years)",
                     "year 2030 is outside the plan's years (2021–2025)",
                     "value_high is only used with comparator 'between'",
                     "'5%' is a percentage but CQS.SU_CO_ATTT_CHUA_XL is not measured in % "
                     "(incidents)"]


def test_dry_run_stores_nothing(session) -> None:
    prepared(session)
    summary = load_plan(session, PLAN_YAML, dry_run=True, access=Access.system(session, "test"))
    session.commit()
    assert summary.plan_created and len(summary.inserted) == len(EXPECTED_2023)
    assert count(session, Plan) == 0 and count(session, Target) == 0


def test_update_keeps_the_old_value_in_the_audit_trail(session) -> None:
    prepared(session)
    load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    target = session.scalar(select(Target).where(
        Target.indicator_id == get_indicator(session, "XHS.SMARTPHONE").id))
    update_target(session, target.id, {"value": "87,5", "note": "Điều chỉnh"},
                  access=Access.system(session, "test"))
    update_target(session, target.id, {"value": 88}, access=Access.system(session, "test"))
    session.commit()
    assert target.value == 88.0
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.action == "target.update", AuditEvent.object_id == str(target.id))
        .order_by(AuditEvent.id)).all()
    assert [(e.before["value"], e.after["value"]) for e in events] == [(85.0, 87.5),
                                                                       (87.5, 88.0)]
    # Reloading the file restores the planned value, and says so.
    summary = load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    assert summary.updated == ["XHS.SMARTPHONE @ 20 31/12/2023"] and target.value == 85.0


def test_messy_hand_made_workbook_loads(session, tmp_path) -> None:
    """A title above the header, English headers in another order, a code typed as a number,
    '76,6%' as text, a date as text, NFD text, blank rows: all as users send them."""
    import unicodedata

    from openpyxl import Workbook

    prepared(session)
    workbook = Workbook()
    plan_sheet = workbook.active
    plan_sheet.title = "Plan"
    for label, value in (("code", "15-KH/UBND"), ("Trích yếu", unicodedata.normalize(
            "NFD", "Kế hoạch chuyển đổi số năm 2024")), ("Year from", 2024),
            ("Scope unit", 20), ("Ngày ban hành", "05/01/2024")):
        plan_sheet.append([label, value])
    targets = workbook.create_sheet("CHI TIEU")
    targets.append(["KẾ HOẠCH CHUYỂN ĐỔI SỐ NĂM 2024 — BIỂU CHỈ TIÊU"])
    targets.merge_cells("A1:F1")
    targets.append([])
    targets.append(["Value", "Indicator", "Ghi chú", "Target date", "Unit", "comparator"])
    targets.append(["76,6%", " CQS.HS_TRUC_TUYEN ", unicodedata.normalize("NFD", "Ghi chú"),
                    "31/12/2024", 20, "≥"])
    targets.append([])
    targets.append([2, "cqs.hs_tre_han", None, None, None, "≤"])
    path = tmp_path / "messy.xlsx"
    workbook.save(path)
    summary = load_plan(session, path, access=Access.system(session, "test"))
    session.commit()
    plan = get_plan(session, "15-KH/UBND")
    assert plan.title == "Kế hoạch chuyển đổi số năm 2024"
    assert plan.issued_on == dt.date(2024, 1, 5)
    assert len(summary.inserted) == 2
    rows = {r["indicator"]: r for r in (target_as_dict(session, t) for t in plan.targets)}
    assert (rows["CQS.HS_TRUC_TUYEN"]["value"], rows["CQS.HS_TRUC_TUYEN"]["note"]) == (
        76.6, "Ghi chú")
    assert (rows["CQS.HS_TRE_HAN"]["comparator"], rows["CQS.HS_TRE_HAN"]["target_date"],
            rows["CQS.HS_TRE_HAN"]["unit"]) == ("<=", dt.date(2024, 12, 31), "20")


def test_plan_header_problems_name_the_field(session, tmp_path) -> None:
    prepared(session)
    path = tmp_path / "header.yaml"
    path.write_text('plan:\n  code: 1/KH\n  year_from: "năm nay"\n  scope_unit: "99"\n'
                    "targets: []\n", encoding="utf-8")
    with pytest.raises(InputRejected) as caught:
        load_plan(session, path, access=Access.system(session, "test"))
    assert [p.message().split(" / ")[0] for p in caught.value.problems] == [
        "Tệp 'header.yaml', trường 'plan.title': thiếu trích yếu văn bản",
        "Tệp 'header.yaml', trường 'plan.year_from': năm 'năm nay' không hợp lệ (ví dụ 2023)"]

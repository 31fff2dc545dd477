"""Helpers for the funding tests (no tests here): a small Lạng Sơn with the departments that
hold money, the funding catalogue, a plan with the funding targets, the people of the
story (a finance officer, a project owner, the standing office, a leader), and the budget
table a finance department really sends."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.collection.legacy import to_tcvn3
from chiso.funding import service
from chiso.funding.indicators import load_funding_catalog
from chiso.plans.service import load_plan
from chiso.settings import reset_settings_cache
from chiso.units.models import OrgUnit, UnitKind

TODAY = dt.date(2026, 10, 15)
PLAN_YAML = """format: chiso-plan/1
plan:
  code: KH-KP/2026
  title: Kế hoạch kinh phí khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số năm 2026
  issuer: Ban Chỉ đạo tỉnh Lạng Sơn
  issued_on: 10/01/2026
  year_from: 2026
  year_to: 2026
  scope_unit: "20"
targets: []
"""
DEPARTMENTS = [("20.STC", "Sở Tài chính", ""), ("20.SKHCN", "Sở Khoa học và Công nghệ",
                                                 "Sở KH&CN"),
               ("20.SYT", "Sở Y tế", ""), ("20.VPUBND", "Văn phòng Ủy ban nhân dân tỉnh",
                                          "Văn phòng UBND tỉnh")]


@dataclass
class World:
    province: OrgUnit
    units: dict[str, OrgUnit]

    def unit(self, code: str) -> OrgUnit:
        return self.units[code]


@pytest.fixture(name="today")
def today_fixture(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """Today is 15/10/2026 for chiso (CHISO_TODAY)."""
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    reset_settings_cache()
    return TODAY


def make_world(session: Session, tmp_path: Path, *, targets: bool = True) -> World:
    """Tỉnh Lạng Sơn with four departments, the funding catalogue and (with `targets`) a
    2026 plan carrying the funding targets; committed."""
    for code, vi, en, level in (("province", "Tỉnh", "Province", 1),
                                ("so_ban_nganh", "Sở, ban, ngành", "Department", 2)):
        if session.get(UnitKind, code) is None:
            session.add(UnitKind(code=code, name_vi=vi, name_en=en, level=level))
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", name_en="Lang Son Province",
                       kind="province")
    session.add(province)
    session.flush()
    units = {"20": province}
    for code, name, short in DEPARTMENTS:
        units[code] = OrgUnit(code=code, name=name, short_name=short, kind="so_ban_nganh",
                              parent_id=province.id)
        session.add(units[code])
    session.flush()
    load_funding_catalog(session)
    if targets:
        plan = tmp_path / "plan.yaml"
        plan.write_text(PLAN_YAML, encoding="utf-8")
        load_plan(session, plan, access=Access.system(session, "test"))
        service.set_funding_targets(session, plan_code="KH-KP/2026", unit_code="20",
                                    year=2026, access=Access.system(session, "test"))
    session.commit()
    return World(province, units)


# ------------------------------------------------------------------ the budget table

HEAD_TOP = ["STT", "Nội dung ", "Đơn vị chủ trì", "Nguồn vốn", "Lĩnh vực",
            "Kinh phí năm 2026", None, None, "Giải ngân lũy kế năm 2026"]
HEAD_LOW = [None, None, None, None, None, "Đề xuất", "Dự toán giao", "Phân bổ"]
MONTHS = 9  # reported to the end of September

# (STT, name, unit, source, area, proposed, estimate, allocated, monthly cumulative…)
ROWS: list[list[object]] = [
    ["A", "NGÂN SÁCH ĐỊA PHƯƠNG", None, None, None, None, "154.000", None],
    ["I", "Chi đầu tư phát triển", None, None, None, None, "70.000", None],
    [1, "Nền tảng số dùng chung và trung tâm dữ liệu tỉnh", "Sở Khoa học và Công nghệ ",
     "NSĐP", "Chuyển đổi số", "60.000", "45.000", "45.000",
     "1.500", "3.000", "5.000", "8.000", "12.000", "16.500", "20.000", "24.000", "28.500"],
    [2, "Trung tâm giám sát, điều hành thông minh (IOC)", "Văn phòng UBND tỉnh", "NSĐP",
     "CĐS", 30000, 25000, 25000, 0, 0, 500, 800, 1200, 2000, 3000, 5000, 8900],
    ["II", "Chi thường xuyên", None, None, None, None, "84.000", None],
    [1, "Sự nghiệp khoa học và công nghệ", "Sở KH&CN", "Ngân sách địa phương",
     "Khoa học công nghệ", "42.000", "38.000", "38.000",
     "2.000", "5.000", "8.500", "12.000", "15.500", "19.000", "22.500", "26.000", "29.700,5"],
    ["B", "NGÂN SÁCH TRUNG ƯƠNG", None, None, None, None, None, None],
    ["I", "Chi đầu tư phát triển", None, None, None, None, None, None],
    [1, "Bệnh án điện tử tại các bệnh viện tuyến tỉnh", "Sở Y tế", "NSTW",
     "Chuyển đổi số", "20.000", "18.000", "18.000",
     "500", "1.000", "1.800", "2.500", "3.500", "4.200", "5.000", "6.100", "7.200"],
    [None, "Tổng cộng", None, None, None, None, "201.000", "126.000"],
    [None, "Tổng chi ngân sách địa phương năm 2026", None, None, None, None, "19.800.000",
     None],
]
SECTION_TYPES = {"I": "investment", "II": "recurrent"}


def budget_workbook(path: Path, *, bad_row: bool = False, tcvn3: bool = False,
                    changed: bool = False) -> Path:
    """The table a finance department sends: title lines, "Đơn vị tính: triệu đồng", a
    two-level header with merged cells and a trailing space, the "(1) (2) (3)" numbering
    row, section rows that give the type of the lines below them, Vietnamese numbers as
    text ("1.234,5") and as numbers, a total row, and the province's total spending.
    `bad_row` writes an amount no one can read; `tcvn3` writes names in the old .VnTime
    encoding; `changed` raises September's disbursement of the first line."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Du toan 2026"
    sheet["A1"] = "ỦY BAN NHÂN DÂN TỈNH LẠNG SƠN"
    sheet["A2"] = ("DỰ TOÁN CHI KHOA HỌC, CÔNG NGHỆ, ĐỔI MỚI SÁNG TẠO VÀ CHUYỂN ĐỔI SỐ "
                   "NĂM 2026 VÀ TÌNH HÌNH GIẢI NGÂN")
    sheet["A2"].font = Font(bold=True)
    sheet["A3"] = "Đơn vị tính: triệu đồng"
    top = [*HEAD_TOP, *[None] * (MONTHS - 1), "Ghi chú"]
    low = [*HEAD_LOW, *[f"Tháng {m}" for m in range(1, MONTHS + 1)], None]
    sheet.append([])
    sheet.append(top)
    sheet.append(low)
    for column in range(1, 6):  # STT … Lĩnh vực span both header rows
        sheet.merge_cells(start_row=5, start_column=column, end_row=6, end_column=column)
    sheet.merge_cells(start_row=5, start_column=6, end_row=5, end_column=8)
    sheet.merge_cells(start_row=5, start_column=9, end_row=5, end_column=8 + MONTHS)
    sheet.merge_cells(start_row=5, start_column=9 + MONTHS, end_row=6,
                      end_column=9 + MONTHS)
    sheet.append([f"({n})" for n in range(1, 10 + MONTHS)])
    for row in ROWS:
        cells = list(row)
        if tcvn3:
            cells = [to_tcvn3(c) if isinstance(c, str) and index in (1, 2, 4) else c
                     for index, c in enumerate(cells)]
        if changed and cells[0] == 1 and "Nền tảng" in str(row[1]):
            cells[-1] = "30.000"
        sheet.append(cells)
    if bad_row:
        sheet.append([3, "Đề án 06 trên địa bàn tỉnh", "Công an tỉnh", "NSTW", "CĐS",
                      "8.000", "8.0.00", "8.000"])
    book.save(path)
    return path

"""The demo's money: Lạng Sơn's 2021–2025 DX infrastructure project and the 2026 budget,
invented figures labelled as such, dated as a province would have known them, built once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.funding import demo, service
from chiso.funding.models import BudgetLine, Programme
from chiso.indicators.models import Indicator
from chiso.units.models import OrgUnit, UnitKind
from chiso.units.service import DATA_DIR, load_departments
from chiso.values.models import DataValue
from tests.test_funding_support import TODAY, today_fixture  # noqa: F401

PROJECT = ("Đầu tư hạ tầng trang thiết bị công nghệ thông tin, các phần mềm nền tảng, số hóa "
           "cơ sở dữ liệu phục vụ chương trình chuyển đổi số trên địa bàn tỉnh giai đoạn "
           "2021–2025")


def _lang_son(session) -> None:  # type: ignore[no-untyped-def]
    for code, vi, en, level in (("tinh", "tỉnh", "province", 1),
                                ("so_ban_nganh", "sở, ban, ngành", "department", 2)):
        session.add(UnitKind(code=code, name_vi=vi, name_en=en, level=level))
    session.flush()
    session.add(OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="tinh"))
    session.flush()
    load_departments(session, DATA_DIR / "departments-20.yaml",
                     access=Access.system(session, "test"))
    session.commit()


def test_the_demo_builds_the_project_and_the_budget_once(session, today) -> None:  # type: ignore[no-untyped-def]
    _lang_son(session)
    first = demo.build(session, today=TODAY, access=Access.system(session, "demo"))
    session.commit()
    again = demo.build(session, today=TODAY, access=Access.system(session, "demo"))
    session.commit()
    assert first.figures > 200 and first.approved == first.figures and first.values > 100
    assert (again.figures, again.approved, again.values) == (0, 0, 0)

    project = session.scalar(select(Programme))
    assert (project.name, project.year_from, project.year_to, project.illustrative) == (
        PROJECT, 2021, 2025, True)
    owners = dict(session.execute(
        select(BudgetLine.year, OrgUnit.code).join(OrgUnit, OrgUnit.id == BudgetLine.unit_id)
        .where(BudgetLine.programme_id == project.id)).all())
    # Sở TT&TT owned it until its merger on 1/3/2025; Sở KH&CN since.
    assert owners == {2021: "20.STTTT", 2022: "20.STTTT", 2023: "20.STTTT",
                      2024: "20.STTTT", 2025: "20.SKHCN"}
    assert all(session.scalars(select(BudgetLine.illustrative)))
    sources = set(session.scalars(select(DataValue.source).join(
        Indicator, Indicator.id == DataValue.indicator_id).where(
        Indicator.code.like("KP.%"))))
    assert sources == {"demo"}


def test_the_demo_reads_as_known_then_and_says_it_is_illustrative(session, today) -> None:  # type: ignore[no-untyped-def]
    _lang_son(session)
    demo.build(session, today=TODAY, access=Access.system(session, "demo"))
    session.commit()
    year_2025 = service.report_section(session, unit_code="20",
                                       period_start=dt.date(2025, 1, 1),
                                       period_end=dt.date(2025, 12, 31),
                                       known_at=dt.date(2026, 1, 31))
    assert year_2025["illustrative"]
    assert year_2025["disbursement"]["year_end"] == "missed"
    assert "(Số liệu minh họa, không phải số liệu chính thức.)" in year_2025["paragraph_vi"]
    assert "không đạt" in year_2025["paragraph_vi"]
    # On 1 July the June figures (known on 5 July) were not in yet.
    second_quarter = service.report_section(session, unit_code="20",
                                            period_start=dt.date(2026, 4, 1),
                                            period_end=dt.date(2026, 6, 30),
                                            known_at=dt.date(2026, 7, 1))
    assert second_quarter["last_period"] == "202605"
    assert "đến hết tháng 5/2026" in second_quarter["paragraph_vi"]
    assert "182,0 tỷ đồng, bằng 0,92% tổng chi ngân sách địa phương" in (
        second_quarter["paragraph_vi"])

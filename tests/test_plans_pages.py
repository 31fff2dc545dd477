"""The /catalog and /plans pages: server-rendered content, and a real browser using them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.plans.models import Plan, Target
from chiso.plans.service import get_plan, load_plan
from chiso.units.models import OrgUnit
from tests.conftest import browser_login, login
from tests.plans_support import PLAN_CODE, PLAN_YAML, prepared


def _loaded(session):  # type: ignore[no-untyped-def]
    units = prepared(session)
    load_plan(session, PLAN_YAML, access=Access.system(session, "test"))
    session.commit()
    return units


def test_pages_need_a_signed_in_user(client, session) -> None:
    _loaded(session)
    for path in ("/catalog", "/plans", "/plans/1"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login"), path


def test_catalog_page_groups_by_pillar_in_both_languages(client, session, make_user) -> None:
    _loaded(session)
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    page = client.get("/catalog").text
    assert "Danh mục chỉ số" in page and "63 chỉ số thuộc 6 trụ cột" in page
    positions = [page.index(name) for name in ("Chính quyền số", "Kinh tế số", "Xã hội số",
                                               "Cửa khẩu số")]
    assert positions == sorted(positions)
    assert "Tỷ lệ hộ gia đình có đường truyền Internet băng rộng cáp quang" in page
    assert "Càng thấp càng tốt" in page and "tổng tử số / tổng mẫu số" in page
    english = client.get("/catalog?lang=en").text
    assert "Indicator catalogue" in english and "Households with fibre broadband" in english
    assert re.search(r'<a href="/catalog"[^>]*>Danh mục chỉ số</a>', page)  # nav entries
    assert re.search(r'<a href="/plans"[^>]*>Kế hoạch</a>', page)


def test_plan_pages(client, session, make_user) -> None:
    _loaded(session)
    plan = get_plan(session, PLAN_CODE)
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    listing = client.get("/plans").text
    assert f'href="/plans/{plan.id}"' in listing and "72-KH/BCĐ" in listing
    page = client.get(f"/plans/{plan.id}").text
    assert "23/05/2023" in page and "≥ 85%" in page and "≥ 10% GRDP" not in page
    assert "≥ 10 % GRDP" in page
    assert 'href="/units/20/indicators/XHS.HO_CAP_QUANG?year=2023"' in page  # its progress
    assert "button type=\"button\" class=\"secondary small edit-toggle" not in page  # viewer
    assert client.get("/plans/987654").status_code == 404
    assert client.get(f"/plans/{2**40}").status_code == 404
    download = client.get(f"/plans/{plan.id}/export.xlsx")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert "72-KH-BC%C4%90.xlsx" in download.headers["content-disposition"]


@pytest.mark.browser
def test_browser_catalog_search_and_plan_edit(live_server, page, session, make_user) -> None:
    units = _loaded(session)
    plan_id = session.scalar(select(Plan.id))
    office, password = make_user(Role.STANDING_OFFICE, unit_id=units.lang_son.id)
    browser_login(page, live_server, office.username, password)

    page.goto(f"{live_server}/catalog")
    assert page.locator("h1").inner_text() == "Danh mục chỉ số"
    assert page.locator("tr.indicator-row:visible").count() == 63
    page.fill("#catalog-search", "đúng hạn")  # typed with accents: matched as written
    visible = page.locator("tr.indicator-row:visible td.code").all_inner_texts()
    assert visible == ["CQS.HS_DUNG_HAN"]
    page.fill("#catalog-search", "cap quang")  # typed without accents: accent-free
    visible = page.locator("tr.indicator-row:visible td.code").all_inner_texts()
    assert set(visible) == {"XHS.HO_CAP_QUANG", "XHS.THON_CAP_QUANG"}
    page.fill("#catalog-search", "cửa khẩu")
    assert page.locator("section.pillar:visible").count() >= 1
    page.fill("#catalog-search", "")
    page.screenshot(path="/tmp/chiso-catalog.png", full_page=False)

    page.goto(f"{live_server}/plans")
    page.click(f'a[href="/plans/{plan_id}"] >> nth=0')
    page.wait_for_url(f"{live_server}/plans/{plan_id}")
    assert page.locator("main h2 .pillar-tag").all_inner_texts() == ["CQS", "KTS", "XHS",
                                                                      "CKS"]
    assert page.locator("tr.target-row").count() == 13
    page.screenshot(path="/tmp/chiso-plan.png", full_page=True)

    page.click("details.add-target summary")
    add = page.locator("#add-target-form")
    add.locator('select[name="indicator"]').select_option("XHS.VNEID_MUC_2")
    add.locator('input[name="value"]').fill("80%")
    add.locator('input[name="baseline_value"]').fill("61,5")
    with page.expect_navigation():
        add.locator('button[type="submit"]').click()
    assert page.locator("tr.target-row").count() == 14
    assert "Tỷ lệ công dân được kích hoạt tài khoản định danh điện tử mức độ 2" in page.locator(
        "table.targets").nth(2).inner_text()

    target = session.scalar(select(Target).order_by(Target.id).limit(1))
    row = page.locator(f'tr.target-row[data-target-id="{target.id}"]')
    row.locator("button.edit-toggle").click()
    form = page.locator(f'form.target-form[data-target-id="{target.id}"]')
    form.locator('input[name="value"]').fill("nhiều")
    form.locator('button[type="submit"]').click()
    error = form.locator(".edit-error")
    error.wait_for(state="visible")
    assert "không phải là số" in error.inner_text()
    form.locator('input[name="value"]').fill("92,5")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    assert "≥ 92,5%" in page.locator(f'tr.target-row[data-target-id="{target.id}"]').inner_text()
    session.expire_all()
    assert session.get(Target, target.id).value == 92.5


def test_milestone_dates_follow_the_language(client, session, make_user) -> None:  # type: ignore[no-untyped-def]
    _loaded(session)
    plan = get_plan(session, PLAN_CODE)
    target = session.scalars(select(Target).where(Target.plan_id == plan.id)).first()
    target.trajectory = "milestones"
    target.milestones = [{"date": "2023-06-30", "value": 40.0}]
    session.commit()
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    assert "30/06/2023: " in client.get(f"/plans/{plan.id}?lang=vi").text
    english = client.get(f"/plans/{plan.id}?lang=en").text
    assert "2023-06-30: " in english and "30/06/2023" not in english


def test_catalog_links_each_indicator_to_its_progress_for_province_readers(  # type: ignore[no-untyped-def]
        client, session, make_user) -> None:
    _loaded(session)
    link = '<a href="/units/20/indicators/XHS.HO_CAP_QUANG">'
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    assert link in client.get("/catalog").text
    commune = session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_not(None))).first()
    officer, officer_pw = make_user(Role.FOCAL_OFFICER, unit_id=commune.id)
    client.cookies.clear()
    login(client, officer.username, officer_pw)
    page = client.get("/catalog").text
    assert "XHS.HO_CAP_QUANG" in page and link not in page  # no link to a page it may not read

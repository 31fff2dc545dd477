"""DTI pages and JSON API through the real app, and the what-if panel in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.dti import service
from chiso.dti.framework import DATA_DIR
from tests.conftest import browser_login, login

ROWS = [("01", "Hà Nội", 0.82), ("20", "Lạng Sơn", 0.61), ("48", "Đà Nẵng", 0.80),
        ("79", "TP. Hồ Chí Minh", 0.71), ("30", "Hải Dương", 0.63), ("40", "Nghệ An", 0.58)]


def _system(session):  # type: ignore[no-untyped-def]
    """The authority an internal job writes with (issue 12: access is mandatory)."""
    return Access.system(session, "test")


@pytest.fixture
def dti_data(db_url: str, tmp_path: Path) -> str:
    lines = ["Mã tỉnh,Tỉnh,NTS,TCS,HTS,NLS,ATTT,CQS,KTS,XHS"]
    lines += [f"{c},{n}," + ",".join([str(v)] * 8) for c, n, v in ROWS]
    path = tmp_path / "dti_2023.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    session = new_session(db_url)
    try:
        service.load_shipped_frameworks(session)
        service.import_results(session, path, framework_code="DTI_TINH_922", year=2023,
                               access=_system(session))
        service.import_results(session, DATA_DIR / "dti_2022_mau.csv",
                               framework_code="DTI_TINH_922", year=2022, access=_system(session))
        session.commit()
    finally:
        session.close()
    return db_url


def test_anonymous_users_are_sent_to_login(client, dti_data) -> None:
    assert client.get("/dti", follow_redirects=False).status_code == 303
    assert client.get("/api/dti/ranking").status_code == 401
    assert client.post("/api/dti/what-if", json={"unit": "20", "changes": {}}
                       ).status_code == 401


def test_ranking_profile_and_assessment_pages(admin_client, dti_data) -> None:
    page = admin_client.get("/dti?year=2023")
    assert page.status_code == 200
    html = page.text
    assert "Lạng Sơn" in html and "echarts.min.js" in html and "0,8200" in html
    assert html.index("Hà Nội") < html.index("Đà Nẵng") < html.index("Lạng Sơn")
    assert ">DTI<" in html  # the navigation entry
    english = admin_client.get("/dti?year=2023&lang=en").text
    assert "Ranking" in english and "0.8200" in english
    profile = admin_client.get("/dti/units/20?year=2023&lang=vi")
    assert profile.status_code == 200 and "Lạng Sơn" in profile.text
    assert "Điểm nghẽn" in profile.text
    assert admin_client.get("/dti/units/99?year=2023").status_code == 404
    work = admin_client.get("/dti/assessment")
    assert work.status_code == 200 and "Tự đánh giá" in work.text
    english_profile = admin_client.get("/dti/units/20?year=2023&lang=en").text
    assert "raised at most to the level of the best peer. Checked" in english_profile


def test_api_ranking_what_if_and_bottlenecks(admin_client, dti_data) -> None:
    ranking = admin_client.get("/api/dti/ranking?year=2022").json()
    assert [r["unit_code"] for r in ranking["rows"]] == ["48", "79"]
    assert all(c["total_ok"] for c in ranking["published_check"])
    response = admin_client.post("/api/dti/what-if", json={
        "unit": "20", "year": 2023, "changes": {"CQS": 1.0, "KTS": 1.0, "XHS": 1.0}},
        headers={"X-CSRF-Token": _csrf(admin_client)})
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["rank_before"] == 5 and found["rank_after"] == 2  # 0,805 < 0,82
    assert found["points_gained"] == pytest.approx((1 - 0.61) * 500)
    plan = admin_client.get("/api/dti/bottlenecks/20?year=2023&places=2").json()
    assert plan["target_rank"] == 3 and plan["rank_after_plan"] <= 3
    sens = admin_client.get("/api/dti/sensitivity?year=2023&samples=50").json()
    assert len(sens) == 6
    frameworks = admin_client.get("/api/dti/frameworks").json()
    assert {f["code"] for f in frameworks} >= {"DTI_TINH_922", "DTI_TINH_405"}


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    import re

    html = client.get("/dti/assessment").text
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_assessment_through_the_web_and_permissions(client, dti_data, make_user) -> None:
    from chiso.units.models import OrgUnit, UnitKind

    session = new_session(dti_data)
    session.add(UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1))
    session.flush()
    province = OrgUnit(code="20", name="Lạng Sơn", kind="tinh")
    elsewhere = OrgUnit(code="79", name="TP. Hồ Chí Minh", kind="tinh")
    session.add_all([province, elsewhere])
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    stranger, stranger_pw = make_user(Role.STANDING_OFFICE, unit_id=elsewhere.id)
    session.close()
    login(client, stranger.username, stranger_pw)
    assert client.get("/dti/assessment?unit=20").status_code == 403
    client.cookies.clear()
    login(client, office.username, password)
    csrf = _csrf(client)
    opened = client.post("/dti/assessment/open", data={
        "csrf_token": csrf, "framework": "VIDU_SO_NGANH", "year": "2025", "unit": "20"},
        follow_redirects=True)
    assert opened.status_code == 200 and "S3.1" in opened.text
    session = new_session(dti_data)
    from sqlalchemy import select

    from chiso.dti.models import DtiCriterion

    criterion = session.scalars(select(DtiCriterion).where(DtiCriterion.code == "S3.1")).one()
    session.close()
    saved = client.post(f"/dti/assessment/criteria/{criterion.id}", data={
        "csrf_token": csrf, "version": "1", "self_score": "20,5", "status": "in_progress"},
        follow_redirects=True)
    assert saved.status_code == 200 and "20,50" in saved.text
    too_big = client.post(f"/dti/assessment/criteria/{criterion.id}", data={
        "csrf_token": csrf, "version": "2", "self_score": "30"}, follow_redirects=True)
    assert "ngoài khoảng" in too_big.text
    uploaded = client.post(f"/dti/assessment/criteria/{criterion.id}/evidence",
                           data={"csrf_token": csrf},
                           files={"file": ("minh-chung.pdf", b"%PDF-1.4 test", "application/pdf")},
                           follow_redirects=True)
    assert "minh-chung.pdf" in uploaded.text
    export = client.get(f"/dti/assessment/{criterion.assessment_id}/export.xlsx")
    assert export.status_code == 200 and export.content[:2] == b"PK"
    no_csrf = client.post(f"/dti/assessment/criteria/{criterion.id}", data={"self_score": "1"})
    assert no_csrf.status_code == 403
    history = client.get(f"/dti/assessment/criteria/{criterion.id}")
    assert history.status_code == 200 and "20,50" in history.text
    panel = client.get("/dti/what-if?source=assessment&framework=VIDU_SO_NGANH&year=2025"
                       "&unit=20")
    assert panel.status_code == 200 and 'id="v-S3.1"' in panel.text
    simulated = client.post("/api/dti/what-if", headers={"X-CSRF-Token": csrf}, json={
        "unit": "20", "year": 2025, "framework": "VIDU_SO_NGANH", "source": "assessment",
        "changes": {"S3.1": 25}})
    assert simulated.status_code == 200 and simulated.json()["points_gained"] == (
        pytest.approx(4.5))


@pytest.mark.browser
def test_what_if_panel_raises_one_criterion_and_shows_the_new_rank(
        page, live_server, dti_data, make_user) -> None:
    user, password = make_user(Role.ADMIN)
    browser_login(page, live_server, user.username, password)
    page.goto(f"{live_server}/dti/what-if?year=2023&unit=20")
    assert page.locator("text=Lạng Sơn").first.is_visible()
    page.fill("#v-CQS", "1")
    page.click("#what-if-run")
    page.wait_for_selector("#wi-rank:has-text('/6')")
    assert page.inner_text("#wi-rank").startswith("4/6")
    assert page.inner_text("#wi-total") == "0,6880"
    assert page.inner_text("#wi-points") == "+78,00 điểm"
    page.screenshot(path="/tmp/dti_what_if.png", full_page=True)
    page.goto(f"{live_server}/dti?year=2023")
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/dti_ranking.png", full_page=True)
    page.goto(f"{live_server}/dti/units/20?year=2023")
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/dti_profile.png", full_page=True)


@pytest.mark.browser
def test_assessment_workspace_in_the_browser(page, live_server, dti_data, make_user) -> None:
    user, password = make_user(Role.ADMIN)
    browser_login(page, live_server, user.username, password)
    page.goto(f"{live_server}/dti/assessment?framework=VIDU_SO_NGANH&year=2025&unit=20")
    page.click("button:has-text('Mở đợt tự đánh giá')")
    page.wait_for_load_state("networkidle")
    row = page.locator("#criterion-S3\\.1")
    row.locator("input[name=self_score]").fill("20,5")
    row.locator("input[name=appraised_score]").fill("18")
    row.locator("select[name=status]").select_option("needs_evidence")
    row.locator("button:has-text('Lưu')").click()
    page.wait_for_load_state("networkidle")
    row = page.locator("#criterion-S3\\.1")
    assert row.locator("input[name=self_score]").input_value() == "20,50"
    assert "-2,50" in row.inner_text()
    assert "20,50" in page.locator(".dti-kpis").inner_text()
    page.screenshot(path="/tmp/dti_assessment.png", full_page=True)


def test_only_managers_load_frameworks_through_the_api(client, dti_data, make_user) -> None:
    text = "code: API_XA\nname_vi: Khung API\nvalid_from_year: 2026\nnodes:\n  - {code: A}\n"
    viewer, password = make_user(Role.VIEWER)
    login(client, viewer.username, password)
    csrf = _csrf(client)
    refused = client.post("/api/dti/frameworks", content=text.encode(),
                          headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    client.cookies.clear()
    admin, admin_pw = make_user(Role.ADMIN)
    login(client, admin.username, admin_pw)
    csrf = _csrf(client)
    bad = client.post("/api/dti/frameworks", content=b"code: X\nnodes: []\n",
                      headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 422 and "name_vi" in bad.json()["detail"]
    loaded = client.post("/api/dti/frameworks", content=text.encode(),
                         headers={"X-CSRF-Token": csrf})
    assert loaded.status_code == 200 and loaded.json() == {"code": "API_XA", "version": 1,
                                                           "created": True}


def test_assessment_menu_opens_the_units_latest_round(client, dti_data, make_user) -> None:  # type: ignore[no-untyped-def]
    from chiso.units.models import OrgUnit, UnitKind

    session = new_session(dti_data)
    session.add(UnitKind(code="tinh", name_vi="Tỉnh", name_en="Province", level=1))
    session.flush()
    province = OrgUnit(code="20", name="Tỉnh Lạng Sơn", kind="tinh")
    session.add(province)
    session.commit()
    office, password = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    session.close()
    login(client, office.username, password)
    client.post("/dti/assessment/open", data={
        "csrf_token": _csrf(client), "framework": "VIDU_SO_NGANH", "year": "2023",
        "unit": "20"})
    menu = client.get("/dti/assessment", params={"lang": "vi"}).text
    assert "Tự đánh giá — 2023" in menu and "S3.1" in menu  # not an empty current year
    assert "Tỉnh Lạng Sơn" in menu and "Đơn vị 20" not in menu
    later = client.get("/dti/assessment", params={"framework": "VIDU_SO_NGANH",
                                                  "year": "2030"}).text
    assert "Các đợt đã mở" in later and "year=2023&amp;unit=20" in later

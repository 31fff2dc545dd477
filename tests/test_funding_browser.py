"""In a real Chromium, on a desktop and on a phone: the finance officer imports the
department's budget table (a bad row is refused and named; the corrected table is checked,
then stored), the standing office approves, and the overview and the funding page show the
budget share and the disbursement status."""

from __future__ import annotations

from pathlib import Path

import pytest

from chiso.accounts.models import Role
from tests.conftest import browser_login
from tests.test_funding_support import budget_workbook, make_world, today_fixture  # noqa: F401

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens/funding")
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_finance_officer_imports_standing_office_approves_overview_shows_it(
        session, today, live_server, browser, make_user, tmp_path, device) -> None:  # type: ignore[no-untyped-def]
    world = make_world(session, tmp_path)
    finance, finance_pw = make_user(Role.FOCAL_OFFICER, world.unit("20.STC").id)
    office, office_pw = make_user(Role.STANDING_OFFICE, world.province.id)
    bad = budget_workbook(tmp_path / "Du toan 2026 (loi).xlsx", bad_row=True)
    good = budget_workbook(tmp_path / "Du toan 2026.xlsx")
    SCREENS.mkdir(parents=True, exist_ok=True)
    viewport = VIEWPORTS[device]

    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    browser_login(page, live_server, finance.username, finance_pw)
    page.goto(f"{live_server}/funding/import")
    page.set_input_files("input[name=file]", str(bad))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    errors = page.locator("table.errors")
    assert "'8.0.00' không phải là số tiền" in errors.inner_text()
    assert "19" in errors.locator("tr", has_text="8.0.00").inner_text()
    assert page.locator("#confirm").count() == 0
    page.screenshot(path=str(SCREENS / f"browser-import-error-{device}.png"), full_page=True)

    page.set_input_files("input[name=file]", str(good))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "49" in page.locator(".count-tile.insert").inner_text()
    page.click("#confirm")
    page.wait_for_load_state("networkidle")
    assert "Đã lưu: 49 mới" in page.locator("p.alert.ok").inner_text()
    context.close()

    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    browser_login(page, live_server, office.username, office_pw)
    page.goto(f"{live_server}/funding/approvals?unit=20&year=2026")
    assert page.locator("tr[data-figure]").count() == 49
    page.click("#approve")
    page.wait_for_load_state("networkidle")
    assert "Đã phê duyệt 49 số liệu." in page.locator("p.alert.ok").inner_text()

    page.goto(f"{live_server}/units/20/overview?year=2026")
    share = page.locator("tr", has_text="KP.TY_LE_CHI_NS")
    assert "0,64" in share.inner_text() and "Chậm tiến độ" in share.inner_text()
    disbursement = page.locator("tr", has_text="KP.GIAI_NGAN")
    assert "59,0" in disbursement.inner_text() and "Chậm tiến độ" in disbursement.inner_text()
    page.screenshot(path=str(SCREENS / f"browser-overview-{device}.png"), full_page=True)

    page.goto(f"{live_server}/funding/units/20?year=2026")
    page.wait_for_load_state("networkidle")
    assert "Giải ngân chậm so với lộ trình" in page.locator("#behind-warning").inner_text()
    assert page.locator("[data-kpi=share]").inner_text().startswith("0,64%")
    # The charts are drawn (ECharts renders SVG into each container).
    for chart in ("#funding-months", "#funding-sources", "#funding-units"):
        assert page.locator(f"{chart} svg").count() == 1, chart
    # Nothing overflows the screen sideways on a phone except inside scrollable tables.
    width = page.evaluate("document.querySelector('.funding').scrollWidth")
    assert width <= viewport["width"], width
    page.screenshot(path=str(SCREENS / f"browser-funding-{device}.png"), full_page=True)
    context.close()

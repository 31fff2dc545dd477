"""In a real browser: a commune's focal officer cannot store another commune's figure —
not through the import page, not by calling the API from the page's own script — and the
administration and audit pages work for an administrator."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from chiso.accounts.models import Role
from chiso.db import get_engine
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import make_indicator, make_units
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def _values_of(db_url: str, unit_id: int) -> int:
    with get_engine(db_url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM data_value WHERE unit_id = :u"),
                            {"u": unit_id}).scalar_one()


def test_commune_officer_cannot_write_another_commune_in_the_browser(
        page, live_server, make_user, session, db_url, tmp_path) -> None:
    reset_all_windows()
    units = make_units(session)
    make_indicator(session)
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
    browser_login(page, live_server, officer.username, password)

    other = tmp_path / "so-lieu-xa-khac.csv"
    other.write_text("Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Tử số,Mẫu số\n"
                     "05986,CQS.HS_TRUC_TUYEN,2025Q3,383,500\n", encoding="utf-8")
    page.goto(f"{live_server}/values/import")
    page.set_input_files("#file", str(other))
    page.click("text=Kiểm tra tệp")
    page.wait_for_selector("table.errors, .alert.error")
    assert "05986" in page.content()
    assert page.locator("#confirm").count() == 0
    page.screenshot(path="/tmp/security-import-other-commune.png", full_page=True)

    # The page's own script, with the page's CSRF token, calling the API directly.
    answers = page.evaluate("""async () => {
        const token = document.querySelector('input[name=csrf_token]').value;
        const post = (unit) => fetch('/api/values', {method: 'POST',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify({unit, indicator: 'CQS.HS_TRUC_TUYEN', period: '2025Q3',
                                  numerator: 383, denominator: 500})});
        const forged = await fetch('/api/values', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({unit: '06187', indicator: 'CQS.HS_TRUC_TUYEN',
                                  period: '2025Q3', numerator: 1, denominator: 2})});
        return [(await post('05986')).status, (await post('06187')).status, forged.status];
    }""")
    assert answers == [403, 200, 403]
    assert _values_of(db_url, units.commune_b.id) == 0
    assert _values_of(db_url, units.commune_a.id) == 1


def test_admin_pages_in_the_browser(page, live_server, make_user, session, db_url) -> None:
    reset_all_windows()
    make_units(session)
    admin, password = make_user(Role.ADMIN, username="quantri")
    make_user(Role.LEADER, username="lanh-dao-tinh")
    browser_login(page, live_server, admin.username, password)
    page.goto(f"{live_server}/admin/users")
    page.fill("#create-user input[name=username]", "can-bo-xa")
    page.fill("#create-user input[name=full_name]", "Hoàng Thị Lan")
    page.select_option("#create-user select[name=role]", "focal_officer")
    page.fill("#create-user input[name=unit_code]", "06187")
    page.click("#create-user button[type=submit]")
    page.wait_for_selector("#one-time-secret")
    assert len(page.locator("#one-time-secret").inner_text()) >= 16
    assert "Hoàng Thị Lan" in page.locator("#users").inner_text()
    page.screenshot(path="/tmp/admin-users.png", full_page=True)
    page.goto(f"{live_server}/admin/tokens")
    page.fill("input[name=name]", "Hệ thống một cửa")
    page.fill("input[name=unit_codes]", "06187")
    page.click("text=Tạo mã truy cập")
    page.wait_for_selector("#one-time-secret")
    assert page.locator("#one-time-secret").inner_text().startswith("chiso_")
    page.screenshot(path="/tmp/admin-tokens.png", full_page=True)
    page.goto(f"{live_server}/audit?action=user.")
    rows = page.locator("table.data tbody tr")
    assert rows.count() >= 3
    assert "can-bo-xa" in page.content()
    page.screenshot(path="/tmp/audit.png", full_page=True)

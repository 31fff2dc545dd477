"""The import page in a real browser: upload, see the dry-run diff, confirm, see it stored;
a bad file shows the error table with row and column."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from values_support import build_world

from chiso.accounts.access import Access
from chiso.accounts.models import Role
from chiso.db import new_session
from chiso.values.models import DataValue
from chiso.values.service import save_value
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


@pytest.fixture
def world(db_url):  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    built = build_world(session)
    save_value(session, unit_id=built.commune_a.id, indicator_id=built.ratio.id,
               period="2025Q2", numerator=300, denominator=500,
               access=Access.system(session, "test"))
    session.commit()
    session.close()
    return built


def test_upload_preview_and_confirm(page, live_server, make_user, world, tmp_path,
                                    db_url) -> None:
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id)
    browser_login(page, live_server, officer.username, password)
    good = tmp_path / "so-lieu-quy-2.csv"
    good.write_text(
        "BÁO CÁO SỐ LIỆU QUÝ II/2025\n\n"
        "Mã đơn vị,Mã chỉ tiêu,Kỳ báo cáo,Tử số,Mẫu số,Giá trị,Nguồn,Ghi chú\n"
        "06001,CQS.HS_TRUC_TUYEN,Quý II/2025,383,500,,,Số liệu một cửa\n"
        "06001,CQS.SO_DVCTT,2025,,,\"1.234\",,\n", encoding="utf-8")
    page.goto(f"{live_server}/values/import")
    assert page.locator("nav.mainnav a", has_text="Nhập số liệu").count() == 1
    page.set_input_files("#file", str(good))
    page.click("text=Kiểm tra tệp")
    page.wait_for_selector("table.changes")
    assert page.locator(".count-tile.insert strong").inner_text() == "1"
    assert page.locator(".count-tile.update strong").inner_text() == "1"
    changes = page.locator("table.changes").inner_text()
    assert "76,6" in changes
    # Names first, as people know them; the codes beside, marked class="code".
    assert "Quý II/2025" in changes and "Năm 2025" in changes and "2025Q2" not in changes
    assert "Xã Đồng Đăng" in changes and "Tỷ lệ hồ sơ trực tuyến" in changes
    assert "Số dịch vụ công trực tuyến" in changes
    assert set(page.locator("table.changes .code").all_inner_texts()) == {
        "06001", "CQS.HS_TRUC_TUYEN", "CQS.SO_DVCTT"}
    page.screenshot(path="/tmp/values-import-preview.png", full_page=True)
    page.click("#confirm")
    page.wait_for_selector(".alert.ok")
    assert "Đã lưu: 1 số liệu mới, 1 thay đổi" in page.locator(".alert.ok").inner_text()
    session = new_session(db_url)
    try:
        values = session.scalars(select(DataValue.value).order_by(DataValue.id)).all()
    finally:
        session.close()
    assert values == [pytest.approx(76.6), 1234.0]


def test_bad_file_shows_error_table(page, live_server, make_user, world, tmp_path) -> None:
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=world.commune_a.id)
    browser_login(page, live_server, officer.username, password)
    bad = tmp_path / "loi.csv"
    bad.write_text("unit_code,indicator_code,period,numerator,denominator,value\n"
                   "06001,CQS.HS_TRUC_TUYEN,2025Q3,600,500,\n"
                   "06002,CQS.SO_DVCTT,2025,,,3\n", encoding="utf-8")
    page.goto(f"{live_server}/values/import")
    page.set_input_files("#file", str(bad))
    page.click("text=Kiểm tra tệp")
    page.wait_for_selector("table.errors")
    rows = page.locator("table.errors tbody tr")
    assert rows.count() == 2
    assert "tử số (600) lớn hơn mẫu số (500)" in rows.nth(0).inner_text()
    assert "06002" in rows.nth(1).inner_text()
    assert page.locator("#confirm").count() == 0
    page.screenshot(path="/tmp/values-import-errors.png", full_page=True)


def test_english_page_gives_english_number_examples(admin_client) -> None:  # type: ignore[no-untyped-def]
    english = admin_client.get("/values/import", params={"lang": "en"}).text
    assert "Numbers as 76.6% or 1,234,567 (or the Vietnamese 76,6% and 1.234.567)" in english
    vietnamese = admin_client.get("/values/import", params={"lang": "vi"}).text
    assert "Số ghi như 76,6% hoặc 1.234.567" in vietnamese

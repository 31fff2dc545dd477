"""In a real Chromium, on a desktop and on a phone: the standing office reads the tasks
counted by who assigned them, with those done ahead of schedule, and narrows the board to
the centre's tasks; a commune's officer sends "không phát sinh" for the month; the province
sees every commune committee with its tasks done ahead of schedule."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.settings import reset_settings_cache
from tests.conftest import browser_login
from tests.tasks_support import TODAY, add_origin_tasks, build_world

pytestmark = pytest.mark.browser
SIZES = ((1366, 768), (390, 844))


@pytest.fixture
def pinned_today(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    reset_settings_cache()


def _no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_counts_by_origin_ahead_of_schedule_and_nothing_this_month(
        session: Session, pinned_today: None, live_server: str, browser,  # type: ignore[no-untyped-def]
        make_user) -> None:
    w = build_world(session, with_tasks=False)
    tasks = add_origin_tasks(session, w)
    session.commit()
    office, office_pw = make_user(Role.STANDING_OFFICE, w.province.id, username="thuong-truc")
    officer, officer_pw = make_user(Role.FOCAL_OFFICER, w.commune_a.id, username="xa-dong-kinh")
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="vi-VN")
        page = context.new_page()
        browser_login(page, live_server, office.username, office_pw)
        page.goto(f"{live_server}/tasks")
        central = page.locator("#origin-counts tr[data-origin=central]").inner_text()
        assert central.split() == ["Trung", "ương", "giao", "5", "3", "1", "1", "1", "1", "1"]
        assert "trước hạn" in page.locator("#origin-counts thead").inner_text()
        _no_sideways_scroll(page)
        page.click("#origin-counts tr[data-origin=central] a")
        page.wait_for_load_state("networkidle")
        codes = page.locator("#task-board tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.code)")
        assert set(codes) == {tasks[k].code for k in ("c_ahead", "c_on_time", "c_late",
                                                       "c_overdue", "c_running", "c_cancelled")}
        ahead = page.locator(f"tr[data-code={tasks['c_ahead'].code}]").inner_text()
        assert "trước hạn" in ahead and "145/KH-UBND" in ahead
        page.goto(f"{live_server}/meetings/committees")
        row = page.locator(f"#committees tr[data-unit='{w.commune_a.code}']").inner_text()
        assert "0/1 nhiệm vụ hoàn thành" in row and "1" in row
        _no_sideways_scroll(page)
        context.close()

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN")
    page = context.new_page()
    browser_login(page, live_server, officer.username, officer_pw)
    page.goto(f"{live_server}/tasks/monthly")  # September 2025: the last month due
    assert "Tháng 9/2025" in page.locator("h1").inner_text()
    page.click(f"#month-form-{w.commune_a.id} button[value=nothing]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#month-sent").is_visible()
    row = page.locator(f"#month-table tr[data-unit='{w.commune_a.id}']").inner_text()
    assert "Không phát sinh" in row
    _no_sideways_scroll(page)
    context.close()

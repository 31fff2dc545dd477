"""In a real Chromium: a focal officer reports progress with an evidence file; the
standing office sees it on the board and in the task's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from chiso.accounts.models import Role
from chiso.settings import reset_settings_cache
from tests.conftest import browser_login
from tests.tasks_support import TODAY, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def pinned_today(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHISO_TODAY", TODAY.isoformat())
    reset_settings_cache()


def test_focal_officer_progress_reaches_the_standing_office(
        session: Session, pinned_today: None, live_server: str, browser, make_user,  # type: ignore[no-untyped-def]
        tmp_path: Path) -> None:
    w = build_world(session)
    session.commit()
    task_id = w.tasks["overdue"].id
    officer, officer_pw = make_user(Role.FOCAL_OFFICER, w.noi_vu.id, username="dau-moi-nv")
    office, office_pw = make_user(Role.STANDING_OFFICE, w.province.id, username="thuong-truc")
    evidence = tmp_path / "bien-ban-so-hoa.pdf"
    evidence.write_bytes(b"%PDF-1.4 bien ban so hoa ho so")

    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="vi-VN")
    page = context.new_page()
    browser_login(page, live_server, officer.username, officer_pw)
    page.goto(f"{live_server}/tasks/{task_id}")
    page.fill("input[name=progress_pct]", "85")
    page.fill("textarea[name=note]", "Đã số hóa 85% hồ sơ còn hiệu lực")
    page.set_input_files("input[name=files]", str(evidence))
    page.screenshot(path="/tmp/chiso-task-page.png", full_page=True)
    page.click("#progress-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "85% — Đã số hóa 85%" in page.locator("#history li").first.inner_text()
    context.close()

    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="vi-VN")
    page = context.new_page()
    browser_login(page, live_server, office.username, office_pw)
    page.goto(f"{live_server}/tasks?unit=S_NV")
    row = page.locator("tr[data-code=NV-0002]")
    assert "85%" in row.inner_text()
    assert "Quá hạn" in row.inner_text()
    page.goto(f"{live_server}/tasks")
    page.screenshot(path="/tmp/chiso-task-board.png", full_page=True)
    page.click("tr[data-code=NV-0002] td a >> nth=0")
    page.wait_for_load_state("networkidle")
    history = page.locator("#history li").first.inner_text()
    assert "Đã số hóa 85% hồ sơ còn hiệu lực" in history and "bien-ban-so-hoa.pdf" in history
    with page.expect_download() as download:
        page.click("text=bien-ban-so-hoa.pdf")
    assert Path(download.value.path()).read_bytes() == evidence.read_bytes()
    context.close()

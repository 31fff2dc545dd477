"""The review page in a real browser: upload a DOCX plan, accept two targets, edit one,
reject one, and find the plan's targets on the province overview; screenshots at 1366 and
390 px are kept under /tmp/screens/extract/ to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from chiso.accounts.models import Role
from chiso.audit.models import AuditEvent
from chiso.db import new_session
from tests.conftest import browser_login
from tests.extract_support import PLAN_PARAGRAPHS, prepared, write_docx

SCREENS = Path("/tmp/screens/extract")


def _decide(page, indicator_name: str, action: str, value: str | None = None) -> None:  # type: ignore[no-untyped-def]
    card = page.locator("section.proposal[data-kind=target]", has=page.locator(
        f"select[name=indicator_code] option[selected]:text-is('{indicator_name}')")).first
    if value is not None:
        card.locator("input[name=value]").fill(value)
    card.locator(f"button[value={action}]").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.browser
def test_upload_accept_edit_reject_then_see_targets_on_the_overview(
        db_url: str, live_server: str, page, make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = new_session(db_url)
    province = prepared(session)
    session.close()
    officer, password = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    browser_login(page, live_server, officer.username, password)
    docx_path = write_docx(tmp_path / "ke-hoach-90-KH-BCD.docx", PLAN_PARAGRAPHS)

    page.goto(f"{live_server}/extract")
    page.set_input_files("input[name=file]", str(docx_path))
    page.click("button.primary")
    page.wait_for_load_state("networkidle")
    assert "90-KH/BCĐ" in page.inner_text("h1")
    assert page.locator("section.proposal[data-kind=target] mark").count() == 4
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "review-1366.png"), full_page=True)

    _decide(page, "Tỷ lệ hồ sơ thủ tục hành chính xử lý trực tuyến", "accept")
    _decide(page, "Tỷ lệ doanh nghiệp sử dụng hóa đơn điện tử", "accept")
    _decide(page, "Tỷ lệ hộ gia đình có đường truyền Internet băng rộng cáp quang", "accept",
            value="87,5")
    _decide(page, "Tỷ lệ người trưởng thành có điện thoại di động thông minh", "reject")
    assert page.locator("section.proposal.rejected").count() == 1
    assert page.locator("section.proposal.edited").count() == 1
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=str(SCREENS / "review-decided-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENS / "review-390.png"), full_page=True)
    page.goto(f"{live_server}/extract")
    page.screenshot(path=str(SCREENS / "index-390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto(f"{live_server}/units/20/overview?year=2026")
    overview = page.inner_text("main")
    assert "87,5" in overview and "80,0" in overview and "100,0" in overview
    page.screenshot(path=str(SCREENS / "overview-1366.png"), full_page=True)

    session = new_session(db_url)
    events = list(session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "extract_proposal")))
    session.close()
    assert sorted(e.after["decision"] for e in events) == ["accepted", "accepted", "edited",
                                                           "rejected"]
    assert {(e.actor_label, e.after["filename"]) for e in events} == {
        (officer.username, "ke-hoach-90-KH-BCD.docx")}


def test_a_document_is_read_only_by_readers_of_its_unit(db_url: str, client, make_user) -> None:  # type: ignore[no-untyped-def]
    """A plan read for the province is not shown to a department's officer (404 on the
    page and the API, absent from the list), and they cannot decide its proposals."""
    from sqlalchemy import select as sql_select

    from chiso.units.models import OrgUnit
    from tests.conftest import form_token, login

    session = new_session(db_url)
    province = prepared(session)
    department = session.scalar(sql_select(OrgUnit).where(OrgUnit.parent_id == province.id)
                                .limit(1))
    assert department is not None
    session.close()
    office, office_pw = make_user(Role.STANDING_OFFICE, unit_id=province.id)
    officer, officer_pw = make_user(Role.FOCAL_OFFICER, unit_id=department.id)

    login(client, office.username, office_pw)
    made = client.post("/extract", data={"pasted": "\n".join(PLAN_PARAGRAPHS),
                                         "csrf_token": form_token(client, "/extract")},
                       follow_redirects=False)
    assert made.status_code == 303, made.text
    document_path = made.headers["location"]
    document_id = int(document_path.rsplit("/", 1)[1])
    proposals = client.get(f"/api/extract/{document_id}").json()["proposals"]
    assert proposals
    client.cookies.clear()

    login(client, officer.username, officer_pw)
    assert client.get(document_path).status_code == 404
    assert client.get(f"/api/extract/{document_id}").status_code == 404
    assert document_path not in client.get("/extract").text
    refused = client.post(f"{document_path}/proposals/{proposals[0]['id']}",
                          data={"action": "reject", "csrf_token": form_token(client, "/extract")},
                          follow_redirects=False)
    assert refused.status_code == 404

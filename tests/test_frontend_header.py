"""The header and the administration page as people meet them (issue 14 item 11): the bell
counts unread notifications and leads to them; the users page's buttons can be seen (they
were white on white) and a new account starts with the least privilege (it defaulted to
administrator)."""

from __future__ import annotations

import pytest

from chiso.accounts.models import User
from chiso.db import new_session
from chiso.notify.service import notify
from tests.conftest import browser_login

pytestmark = pytest.mark.browser


def test_the_bell_shows_the_unread_count(live_server, page, make_user, db_url) -> None:  # type: ignore[no-untyped-def]
    user, password = make_user("leader")
    with new_session(db_url) as db:
        reader = db.get(User, user.id)
        assert reader is not None
        for n in range(3):
            notify(db, recipients=[reader], event_key=f"test-{n}", subject=f"Báo cáo {n}",
                   body="Đã duyệt", link="/collection", email_now=False)
        db.commit()
    browser_login(page, live_server, user.username, password)
    count = page.locator("[data-bell] .bell-count")
    count.wait_for(state="visible")
    assert count.inner_text() == "3"
    assert "(3)" in (page.locator("[data-bell]").get_attribute("aria-label") or "")
    page.click("[data-bell]")
    assert page.url.endswith("/notifications")
    assert page.locator("text=Báo cáo 2").count() >= 1


def _visible_against_white(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    colours = page.eval_on_selector(selector, """el => {
      const s = getComputedStyle(el);
      return [s.color, s.backgroundColor];
    }""")
    text, background = colours
    white = ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    return not (text == "rgb(255, 255, 255)" and background in white)


def test_admin_users_page_buttons_show_and_a_new_account_reads_only(live_server, page,  # type: ignore[no-untyped-def]
                                                                    make_user) -> None:
    admin, password = make_user("admin")
    make_user("viewer")
    browser_login(page, live_server, admin.username, password)
    page.goto(f"{live_server}/admin/users")
    for selector in ("#users form.rolef button", "#users form[action$='/active'] button",
                     "#users form[action$='/password'] button"):
        assert _visible_against_white(page, selector), selector
    chosen = page.eval_on_selector("#create-user select[name=role]", "s => s.value")
    assert chosen == "viewer"

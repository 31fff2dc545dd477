"""Password change, reset by e-mail through a real local SMTP server, lockout."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import time
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from chiso.accounts.models import Role, User, UserSession
from chiso.audit.models import AuditEvent
from chiso.db import new_session
from chiso.settings import reset_settings_cache
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import csrf_of
from tests.conftest import login, submit


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.rcpt_tos, message["Subject"] + "\n" +
                              message.get_content()))
        return "250 OK"


@pytest.fixture
def mailbox(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("CHISO_SMTP_PORT", str(port))
    monkeypatch.setenv("CHISO_BASE_URL", "http://chiso.test")
    reset_settings_cache()
    yield box
    controller.stop()


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    reset_all_windows()


def _events(db_url: str, action: str) -> list[AuditEvent]:
    db = new_session(db_url)
    try:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))
    finally:
        db.close()


def test_change_password_ends_sessions_and_needs_the_current_one(client, make_user, db_url
                                                                 ) -> None:
    user, password = make_user(Role.VIEWER)
    login(client, user.username, password)
    token = csrf_of(client)
    wrong = client.post("/account/password", data={
        "csrf_token": token, "current": "not-it", "new": "n" * 12, "confirm": "n" * 12})
    assert wrong.status_code == 400
    assert "Mật khẩu hiện tại không đúng" in wrong.text
    short = client.post("/account/password", data={
        "csrf_token": token, "current": password, "new": "short", "confirm": "short"})
    assert short.status_code == 400 and "ít nhất 10 ký tự" in short.text
    done = client.post("/account/password", follow_redirects=False, data={
        "csrf_token": token, "current": password, "new": "mật khẩu mới 2025",
        "confirm": "mật khẩu mới 2025"})
    assert done.status_code == 303
    assert client.get("/account/password", follow_redirects=False).status_code == 303
    bad = submit(client, "/login", {"username": user.username, "password": password})
    assert bad.status_code == 401
    login(client, user.username, "mật khẩu mới 2025")
    assert [e.object_id for e in _events(db_url, "user.password_change")] == [str(user.id)]


def test_reset_by_emailed_link(client, make_user, mailbox, db_url) -> None:
    user, old = make_user(Role.FOCAL_OFFICER)
    db = new_session(db_url)
    db.get(User, user.id).email = "canbo@langson.gov.vn"  # type: ignore[union-attr]
    db.commit()
    db.close()
    for who in ("nobody-here", "CANBO@langson.gov.vn"):  # same answer for both
        answer = submit(client, "/password/forgot", {"who": who})
        assert answer.status_code == 200 and "liên kết" in answer.text
    deadline = time.time() + 5
    while not mailbox.messages and time.time() < deadline:
        time.sleep(0.05)
    assert len(mailbox.messages) == 1
    recipients, body = mailbox.messages[0]
    assert recipients == ["canbo@langson.gov.vn"]
    assert "đặt lại mật khẩu" in body and "Xin chào" in body
    link = re.search(r"http://chiso\.test/password/reset\?token=(\S+)", body)
    assert link, body
    token = link.group(1)
    page = client.get(f"/password/reset?token={token}")
    assert page.status_code == 200
    changed = submit(client, "/password/reset", follow_redirects=False,
                     data={"token": token, "new": "Lạng Sơn 2025!", "confirm": "Lạng Sơn 2025!"})
    assert changed.status_code == 303
    again = submit(client, "/password/reset", {"token": token, "new": "x" * 12,
                                                 "confirm": "x" * 12})
    assert again.status_code == 400 and "không hợp lệ hoặc đã hết hạn" in again.text
    assert submit(client, "/login", {"username": user.username, "password": old}
                       ).status_code == 401
    login(client, user.username, "Lạng Sơn 2025!")
    assert _events(db_url, "user.password_reset")


def test_lockout_holds_even_with_the_right_password_then_expires(client, make_user, db_url
                                                                 ) -> None:
    user, password = make_user(Role.VIEWER)
    for _ in range(5):
        assert submit(client, "/login", {"username": user.username, "password": "x"}
                           ).status_code == 401
    assert submit(client, "/login", {"username": user.username, "password": password}
                       ).status_code == 401
    assert _events(db_url, "login.locked")
    db = new_session(db_url)
    row = db.get(User, user.id)
    assert row is not None and row.failed_logins == 5 and row.locked_until is not None
    row.locked_until = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)  # time passes
    db.commit()
    db.close()
    login(client, user.username, password)


def test_login_rate_limit_per_address_and_account(client, make_user) -> None:
    user, password = make_user(Role.VIEWER)
    for _ in range(10):
        submit(client, "/login", {"username": "ghost", "password": "x"})
    throttled = submit(client, "/login", {"username": "ghost", "password": "x"})
    assert throttled.status_code == 429
    assert "Quá nhiều lần đăng nhập" in throttled.text
    login(client, user.username, password)  # another account from the same place still works


def test_session_cookie_flags_and_server_side_revocation(client, make_user, db_url) -> None:
    user, password = make_user(Role.VIEWER)
    response = submit(client, "/login", {"username": user.username, "password": password},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    token = csrf_of(client)
    client.post("/logout", data={"csrf_token": token})
    db = new_session(db_url)
    rows = list(db.scalars(select(UserSession).where(UserSession.user_id == user.id)))
    db.close()
    assert rows and all(r.revoked for r in rows)
    assert client.get("/account/password", follow_redirects=False).status_code == 303


def test_no_default_password_anywhere(db_url, monkeypatch: pytest.MonkeyPatch) -> None:
    """`chiso init` generates the first admin's password; running it twice prints none."""
    import chiso.setup
    from chiso.setup import initialise

    # Reference data (all the country's units) is not what this test is about.
    monkeypatch.setattr(chiso.setup, "reference_loaders", lambda: [])

    first = initialise(admin_username="admin")
    second = initialise(admin_username="admin")
    assert first.admin_password and len(first.admin_password) >= 16
    assert second.admin_password is None
    for guess in ("admin", "password", "123456", "chiso", "admin123", ""):
        from chiso.accounts.service import authenticate

        db = new_session(db_url)
        assert authenticate(db, username="admin", password=guess).user is None
        db.rollback()
        db.close()

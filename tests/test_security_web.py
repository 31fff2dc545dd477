"""Web hygiene: security headers, CSRF on forms, escaping, upload limits, friendly errors
without stack traces, no open redirect."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from chiso.accounts.models import Role, User
from chiso.db import new_session
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import csrf_of
from tests.conftest import login, submit

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    reset_all_windows()


def test_security_headers_on_pages_api_and_errors(client) -> None:
    for path in ("/login", "/healthz", "/no-such-page", "/api/audit"):
        response = client.get(path, follow_redirects=False)
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["referrer-policy"] == "same-origin", path


def test_logout_form_needs_the_csrf_token(client, make_user) -> None:
    user, password = make_user(Role.VIEWER)
    login(client, user.username, password)
    forged = client.post("/logout", follow_redirects=False)
    assert forged.status_code == 403
    assert "Biểu mẫu đã hết hạn" in forged.text  # friendly, Vietnamese
    assert client.get("/account/password").status_code == 200  # still signed in
    real = client.post("/logout", data={"csrf_token": csrf_of(client)},
                       follow_redirects=False)
    assert real.status_code == 303


def test_forms_with_wrong_csrf_token_change_nothing(admin_client, db_url) -> None:
    refused = admin_client.post("/admin/users", data={
        "csrf_token": "forged", "username": "mallory", "role": "admin"})
    assert refused.status_code == 403
    db = new_session(db_url)
    assert db.scalar(select(User).where(User.username == "mallory")) is None
    db.close()


def test_user_supplied_text_is_escaped(admin_client, make_user, db_url) -> None:
    victim, _ = make_user(Role.LEADER)
    db = new_session(db_url)
    db.get(User, victim.id).full_name = XSS  # type: ignore[union-attr]
    db.commit()
    db.close()
    page = admin_client.get("/admin/users")
    assert page.status_code == 200
    assert XSS not in page.text
    assert "&lt;script&gt;alert(" in page.text
    audit = admin_client.get("/audit", params={"actor": XSS})
    assert XSS not in audit.text and "&lt;script&gt;" in audit.text


def test_login_next_cannot_redirect_to_another_site(client, make_user) -> None:
    user, password = make_user(Role.VIEWER)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = submit(client, "/login", follow_redirects=False, data={
            "username": user.username, "password": password, "next": target})
        assert response.status_code == 303
        assert response.headers["location"] == "/", target


# Upload limits: tests/test_security_uploads.py.


def test_crash_shows_a_friendly_page_without_stack_trace(app) -> None:
    def boom() -> None:
        raise RuntimeError("SECRET-INTERNAL-DETAIL in /work/main/chiso/x.py line 12")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as crashing:
        page = crashing.get("/boom")
        api = crashing.get("/api/boom")
    assert page.status_code == 500 and api.status_code == 500
    for body in (page.text, api.text):
        assert "SECRET-INTERNAL-DETAIL" not in body and "Traceback" not in body
        assert ".py" not in body
    assert "Đã có lỗi" in page.text or "lỗi" in page.text.lower()


def test_not_found_page_is_vietnamese_then_english(client) -> None:
    vi = client.get("/khong-co-trang-nay")
    assert vi.status_code == 404 and "Không tìm thấy trang" in vi.text
    en = client.get("/khong-co-trang-nay?lang=en")
    assert en.status_code == 404 and "Page not found" in en.text

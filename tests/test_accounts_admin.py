"""The /admin/users pages and the `chiso users` commands: create, role over a unit,
disable, new password; each writes an audit event."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.models import Role, User
from chiso.audit.models import AuditEvent
from chiso.cli.main import app as cli
from chiso.db import new_session
from tests.accounts_support import csrf_of, make_units
from tests.conftest import login, submit


def _actions(db_url: str) -> list[str]:
    db = new_session(db_url)
    try:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    finally:
        db.close()


def _one_time_secret(html: str) -> str:
    match = re.search(r'id="one-time-secret">([^<]+)<', html)
    assert match, html[:2000]
    return match.group(1)


def test_admin_creates_a_focal_officer_who_can_sign_in(admin_client, client, session,
                                                       db_url) -> None:
    units = make_units(session)
    token = csrf_of(admin_client)
    created = admin_client.post("/admin/users", data={
        "csrf_token": token, "username": "NVA", "full_name": "Nguyễn Văn A",
        "email": "nva@langson.gov.vn", "role": "focal_officer", "unit_code": "06187",
        "include_subunits": "true"})
    assert created.status_code == 200, created.text
    password = _one_time_secret(created.text)
    assert "Nguyễn Văn A" in created.text and "Cán bộ đầu mối" in created.text
    db = new_session(db_url)
    user = db.scalar(select(User).where(User.username == "nva"))
    assert user is not None and password not in user.password_hash
    assert [(m.role, m.unit_id) for m in user.memberships] == [
        ("focal_officer", units.commune_a.id)]
    db.close()
    assert "user.create" in _actions(db_url)


def test_admin_page_refuses_bad_role_and_unknown_unit(admin_client, session) -> None:
    make_units(session)
    token = csrf_of(admin_client)
    bad = admin_client.post("/admin/users", data={"csrf_token": token, "username": "x1",
                                                  "role": "king"})
    assert bad.status_code == 400 and "Vai trò 'king' không hợp lệ" in unescape(bad.text)
    nowhere = admin_client.post("/admin/users", data={
        "csrf_token": token, "username": "x2", "role": "focal_officer", "unit_code": "99999"})
    assert nowhere.status_code == 400
    assert "Không có đơn vị mã '99999'" in unescape(nowhere.text)
    unscoped = admin_client.post("/admin/users", data={
        "csrf_token": token, "username": "x3", "role": "viewer", "unit_code": ""})
    assert unscoped.status_code == 400 and "cần mã đơn vị" in unscoped.text


def test_set_role_disable_and_new_password_are_audited(admin_client, make_user, session,
                                                       db_url) -> None:
    units = make_units(session)
    user, password = make_user(Role.VIEWER, unit_id=units.commune_a.id)
    token = csrf_of(admin_client)
    moved = admin_client.post(f"/admin/users/{user.id}/role", follow_redirects=False, data={
        "csrf_token": token, "role": "standing_office", "unit_code": "20",
        "include_subunits": "true"})
    assert moved.status_code == 303
    fresh = admin_client.post(f"/admin/users/{user.id}/password",
                              data={"csrf_token": token})
    new_password = _one_time_secret(fresh.text)
    off = admin_client.post(f"/admin/users/{user.id}/active", follow_redirects=False,
                            data={"csrf_token": token, "active": "false"})
    assert off.status_code == 303
    actions = _actions(db_url)
    for expected in ("user.set_role", "user.password_reset_by_admin", "user.disable"):
        assert expected in actions
    db = new_session(db_url)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "user.set_role"))
    assert event is not None and event.actor_label == "admin"
    assert event.before == {"memberships": f"viewer@{units.commune_a.id}+"}
    assert event.after == {"memberships": f"standing_office@{units.province.id}+"}
    db.close()
    from fastapi.testclient import TestClient

    with TestClient(admin_client.app) as other:
        for attempt in (password, new_password):
            assert submit(other, "/login", {"username": user.username,
                                              "password": attempt}).status_code == 401


def test_admin_cannot_demote_or_disable_itself(admin_client, db_url) -> None:
    db = new_session(db_url)
    me = db.scalar(select(User).where(User.username == "admin"))
    db.close()
    token = csrf_of(admin_client)
    demote = admin_client.post(f"/admin/users/{me.id}/role", data={  # type: ignore[union-attr]
        "csrf_token": token, "role": "viewer", "unit_code": "20"})
    assert demote.status_code == 400 and "tự đổi vai trò" in demote.text
    disable = admin_client.post(f"/admin/users/{me.id}/active",  # type: ignore[union-attr]
                                data={"csrf_token": token, "active": "false"})
    assert disable.status_code == 400


def test_non_admins_get_403_on_admin_pages(client, make_user, session) -> None:
    units = make_units(session)
    office, password = make_user(Role.STANDING_OFFICE, unit_id=units.province.id)
    login(client, office.username, password)
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/tokens").status_code == 403
    assert client.get("/audit").status_code == 403
    assert client.get("/api/audit").status_code == 403


def test_cli_users_add_list_set_role_disable_reset(session, db_url) -> None:
    make_units(session)
    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "ttb", "--role", "focal_officer",
                                "--unit", "05986", "--full-name", "Trần Thị B"])
    assert added.exit_code == 0, added.output
    password = re.search(r"password: (\S+)", added.output)
    assert password, added.output
    listed = runner.invoke(cli, ["users", "list"])
    assert "ttb" in listed.output and "05986" in listed.output, listed.output
    moved = runner.invoke(cli, ["users", "set-role", "ttb", "--role", "leader"])
    assert moved.exit_code == 0, moved.output
    reset = runner.invoke(cli, ["users", "reset-password", "ttb"])
    assert reset.exit_code == 0 and "new password" in reset.output
    off = runner.invoke(cli, ["users", "disable", "ttb"])
    assert off.exit_code == 0, off.output
    unknown = runner.invoke(cli, ["users", "disable", "nobody"])
    assert unknown.exit_code == 1 and "Không có tài khoản" in unknown.output
    bad = runner.invoke(cli, ["users", "add", "x", "--role", "viewer"])
    assert bad.exit_code == 1 and "cần mã đơn vị" in bad.output
    db = new_session(db_url)
    user = db.scalar(select(User).where(User.username == "ttb"))
    assert user is not None and not user.is_active
    assert [m.role for m in user.memberships] == ["leader"]
    db.close()
    actions = _actions(db_url)
    assert actions.count("user.create") == 1
    assert {"user.set_role", "user.password_reset_by_admin", "user.disable"} <= set(actions)


@pytest.mark.slow
def test_every_users_command_help_has_an_example() -> None:
    runner = CliRunner()
    for command in ("add", "list", "disable", "enable", "set-role", "reset-password",
                    "token"):
        shown = runner.invoke(cli, ["users", command, "--help"])
        assert "Example: chiso users" in shown.output, (command, shown.output)
    for command in ("backup", "restore"):
        assert "Example: chiso" in runner.invoke(cli, [command, "--help"]).output


def test_users_page_names_every_field_for_screen_readers(admin_client, make_user) -> None:
    make_user(Role.VIEWER, username="xem.thu")
    page = admin_client.get("/admin/users?lang=vi").text
    table = page.split('id="users"')[1].split("</table>")[0]
    fields = re.findall(r"<(?:select|input)\b[^>]*>", table)
    visible = [f for f in fields if 'type="hidden"' not in f and 'type="checkbox"' not in f]
    assert len(visible) == 4  # role and unit code for admin and xem.thu
    assert all("aria-label=" in f for f in visible)
    assert 'aria-label="Vai trò · xem.thu"' in table


def test_token_permissions_are_named_in_the_readers_language(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/admin/tokens", params={"lang": "vi"}).text
    # Each box inside its own label, beside its Vietnamese name.
    assert '<label><input type="checkbox" name="actions" value="read" checked> xem</label>' in page
    admin_id = re.search(r'<option value="(\d+)">admin</option>', page).group(1)  # type: ignore[union-attr]
    created = admin_client.post("/admin/tokens", data={
        "csrf_token": csrf_of(admin_client), "name": "Một cửa", "user_id": admin_id,
        "actions": ["read", "capture"], "days": "30"})
    row = created.text.split("Một cửa")[1].split("</tr>")[0]
    assert "nhập số liệu, xem" in row and "read" not in row

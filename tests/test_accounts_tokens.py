"""API tokens for system-to-system feeds: bearer authentication through the same
dependencies as browser sessions, scope that only narrows the owner's rights, hashed at
rest, revocable, expiring. And the commune officer who tries another commune's value."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from chiso.accounts.access import Access, Action
from chiso.accounts.models import ApiToken, Role, User
from chiso.accounts.service import create_api_token, revoke_api_token
from chiso.audit.models import AuditEvent
from chiso.db import new_session
from chiso.web.ratelimit import reset_all_windows
from tests.accounts_support import Units, csrf_of, make_indicator, make_units
from tests.conftest import login


@pytest.fixture
def units(session) -> Units:  # type: ignore[no-untyped-def]
    reset_all_windows()
    return make_units(session)


def _token(db_url: str, user_id: int, actions: list[Action], unit_ids: list[int] | None = None,
           days: int = 30) -> str:
    db = new_session(db_url)
    try:
        owner = db.get(User, user_id)
        assert owner is not None
        secret, _row = create_api_token(db, access=Access.system(db, "test"),
                                        user=owner, name="một cửa feed", actions=actions,
                                        unit_ids=unit_ids, days=days)
        db.commit()
        return secret
    finally:
        db.close()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _value(unit: str, version: int | None = 0, numerator: int = 40) -> dict[str, object]:
    return {"unit": unit, "indicator": "CQS.HS_TRUC_TUYEN", "period": "2025Q3",
            "numerator": numerator, "denominator": 100, "expected_version": version}


def test_token_is_hashed_at_rest_and_admin_scope_gates_the_audit_api(client, make_user, units,
                                                                      db_url) -> None:
    admin, _ = make_user(Role.ADMIN)
    full = _token(db_url, admin.id, [Action.READ, Action.ADMIN])
    read_only = _token(db_url, admin.id, [Action.READ])
    assert client.get("/api/audit", headers=_bearer(full)).status_code == 200
    assert client.get("/api/audit", headers=_bearer(read_only)).status_code == 403
    db = new_session(db_url)
    stored = db.execute(text("SELECT token_hash, name FROM api_token")).all()
    db.close()
    assert len(stored) == 2
    assert all(full not in row.token_hash and read_only not in row.token_hash
               for row in stored)


def test_bad_revoked_and_expired_tokens_get_401(client, make_user, units, db_url) -> None:
    admin, _ = make_user(Role.ADMIN)
    secret = _token(db_url, admin.id, [Action.ADMIN])
    assert client.get("/api/audit", headers=_bearer("chiso_not-a-token")).status_code == 401
    db = new_session(db_url)
    row = db.scalar(select(ApiToken))
    assert row is not None and row.last_used_at is None
    revoke_api_token(db, row, access=Access.system(db, "test"))
    db.commit()
    db.close()
    revoked = client.get("/api/audit", headers=_bearer(secret))
    assert revoked.status_code == 401 and "thu hồi" in revoked.json()["detail"]
    expiring = _token(db_url, admin.id, [Action.ADMIN])
    assert client.get("/api/audit", headers=_bearer(expiring)).status_code == 200
    db = new_session(db_url)
    for token in db.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))):
        token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db.commit()
    db.close()
    assert client.get("/api/audit", headers=_bearer(expiring)).status_code == 401


def test_token_scope_narrows_but_never_widens(session, make_user, units, db_url) -> None:
    office, _ = make_user(Role.STANDING_OFFICE, unit_id=units.province.id)
    viewer, _ = make_user(Role.VIEWER, unit_id=units.commune_a.id)
    db = new_session(db_url)
    office_row, viewer_row = db.get(User, office.id), db.get(User, viewer.id)
    from chiso.accounts.access import TokenScope

    narrow = Access(db, office_row, TokenScope(frozenset({Action.CAPTURE}),
                                               frozenset({units.commune_a.id})))
    assert narrow.can(Action.CAPTURE, units.commune_a.id)
    assert not narrow.can(Action.CAPTURE, units.commune_b.id)  # outside the token's units
    assert not narrow.can(Action.APPROVE, units.commune_a.id)  # not a token action
    wide = Access(db, viewer_row, TokenScope(frozenset(Action), frozenset()))
    assert wide.can(Action.READ, units.commune_a.id)
    assert not wide.can(Action.CAPTURE, units.commune_a.id)  # the owner cannot
    assert not wide.can(Action.ADMIN)
    db.close()


def test_can_somewhere_is_a_right_on_some_unit(session, make_user, units, db_url) -> None:
    """What a menu entry or a button asks: may this user do the action on some unit? A
    unit-bound role may (capture, approve on its unit) though `can` with no unit says no;
    a token narrows it to its actions and units."""
    from chiso.accounts.access import TokenScope

    office, _ = make_user(Role.STANDING_OFFICE, unit_id=units.province.id)
    officer, _ = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id,
                           include_subunits=False)
    viewer, _ = make_user(Role.VIEWER, unit_id=units.commune_a.id)
    db = new_session(db_url)
    office_row, officer_row, viewer_row = (db.get(User, office.id), db.get(User, officer.id),
                                           db.get(User, viewer.id))
    for action in (Action.CAPTURE, Action.APPROVE, Action.MANAGE):
        assert not Access(db, office_row).can(action)  # everywhere: no
        assert Access(db, office_row).can_somewhere(action)
    assert not Access(db, office_row).can_somewhere(Action.ADMIN)
    assert Access(db, officer_row).can_somewhere(Action.CAPTURE)
    assert not Access(db, officer_row).can_somewhere(Action.APPROVE)
    assert not Access(db, viewer_row).can_somewhere(Action.CAPTURE)
    assert Access(db, viewer_row).can_somewhere(Action.READ)
    capture_a = TokenScope(frozenset({Action.CAPTURE}), frozenset({units.commune_a.id}))
    assert Access(db, officer_row, capture_a).can_somewhere(Action.CAPTURE)
    assert not Access(db, officer_row, capture_a).can_somewhere(Action.READ)
    capture_b = TokenScope(frozenset({Action.CAPTURE}), frozenset({units.commune_b.id}))
    assert not Access(db, officer_row, capture_b).can_somewhere(Action.CAPTURE)
    assert Access.system(db, "test").can_somewhere(Action.ADMIN)
    db.close()


def test_feed_token_writes_its_commune_only_and_needs_no_csrf(client, session, make_user,
                                                              units, db_url) -> None:
    make_indicator(session)
    office, _ = make_user(Role.STANDING_OFFICE, unit_id=units.province.id)
    feed = _token(db_url, office.id, [Action.CAPTURE], unit_ids=[units.commune_a.id])
    ok = client.post("/api/values", json=_value("06187"), headers=_bearer(feed))
    assert ok.status_code == 200, ok.text
    refused = client.post("/api/values", json=_value("05986"), headers=_bearer(feed))
    assert refused.status_code == 403, refused.text
    db = new_session(db_url)
    event = db.scalar(select(AuditEvent).where(AuditEvent.object_type != "user",
                                               AuditEvent.action.like("value%")))
    db.close()
    assert event is not None and event.actor_label == office.username


def test_commune_officer_cannot_write_another_communes_value_in_the_api(
        client, session, make_user, units, db_url) -> None:
    make_indicator(session)
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
    login(client, officer.username, password)
    csrf = {"X-CSRF-Token": csrf_of(client)}
    own = client.post("/api/values", json=_value("06187"), headers=csrf)
    assert own.status_code == 200, own.text
    other = client.post("/api/values", json=_value("05986"), headers=csrf)
    assert other.status_code == 403, other.text
    by_id = client.post("/api/values", headers=csrf, json={
        **_value("05986"), "unit": None, "unit_id": units.commune_b.id})
    assert by_id.status_code == 403, by_id.text
    db = new_session(db_url)
    count = db.execute(text("SELECT count(*) FROM data_value WHERE unit_id = :u"),
                       {"u": units.commune_b.id}).scalar()
    db.close()
    assert count == 0


def test_cookie_session_needs_the_csrf_token_to_write(client, session, make_user, units
                                                      ) -> None:
    make_indicator(session)
    officer, password = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
    login(client, officer.username, password)
    missing = client.post("/api/values", json=_value("06187"))
    assert missing.status_code == 403 and "CSRF" in missing.text
    wrong = client.post("/api/values", json=_value("06187"), headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    right = client.post("/api/values", json=_value("06187"),
                        headers={"X-CSRF-Token": csrf_of(client)})
    assert right.status_code == 200, right.text


def test_a_use_noted_before_the_tables_are_emptied_is_not_written_on_the_next_token(
        make_user, units, db_url) -> None:
    """Stop 25's CI: test 1 used token 1; the tables were emptied (ids start again); the
    background recorder then wrote that use onto test 2's new token 1, whose `last_used_at`
    had to be empty. `usage.discard` (called where tables are emptied) forgets such uses."""
    from chiso.accounts import usage
    from tests.conftest import _empty_all_tables

    admin, _ = make_user(Role.ADMIN)
    _token(db_url, admin.id, [Action.ADMIN])
    usage.note_use(db_url, 1, None, dt.datetime.now(dt.UTC))  # noted, not yet written
    _empty_all_tables(db_url)
    admin, _ = make_user(Role.ADMIN)
    _token(db_url, admin.id, [Action.ADMIN])
    usage.flush()  # what the background thread would do a moment later
    db = new_session(db_url)
    try:
        row = db.scalar(select(ApiToken))
        assert row is not None and row.id == 1 and row.last_used_at is None
    finally:
        db.close()

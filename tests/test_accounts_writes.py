"""Accounts change only with an authority (issue 12, item 1): creating a user, giving a
role, disabling, setting someone's password and making or revoking an API token take a
required `access`, checked for ADMIN (or for one's own account where self-service makes
sense) and recorded once in the audit trail under who did it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from chiso.accounts.access import Access, Action, PermissionDenied, TokenScope
from chiso.accounts.models import ApiToken, Role, User
from chiso.accounts.service import (
    create_api_token,
    create_user,
    revoke_api_token,
    set_active,
    set_membership,
    set_password,
)
from chiso.audit.models import AuditEvent
from chiso.cli.main import app as cli
from chiso.db import new_session
from tests.accounts_support import make_units


def _events(db_url: str, action: str) -> list[tuple[str, str]]:
    db = new_session(db_url)
    try:
        return [(e.actor_label, e.object_id) for e in db.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]
    finally:
        db.close()


def test_a_standing_office_cannot_change_accounts_through_the_service(make_user, session,
                                                                       db_url) -> None:
    units = make_units(session)
    office, _ = make_user(Role.STANDING_OFFICE, unit_id=units.province.id)
    viewer, _ = make_user(Role.VIEWER, unit_id=units.commune_a.id)
    db = new_session(db_url)
    try:
        me, other = db.get(User, office.id), db.get(User, viewer.id)
        assert me is not None and other is not None
        access = Access(db, me)
        attempts = [
            lambda: create_user(db, access=access, username="quan.tri2", password="x" * 12,
                                role=Role.ADMIN),
            lambda: set_membership(db, other, access=access, role=Role.ADMIN, unit_id=None),
            lambda: set_active(db, other, False, access=access),
            lambda: set_password(db, other, "new-password-1", access=access),
            lambda: create_api_token(db, access=access, user=other, name="lậu",
                                     actions=[Action.READ]),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied):
                attempt()
        db.rollback()
    finally:
        db.close()
    # Nothing was written: the viewer keeps its role and the admin was never created.
    assert _events(db_url, "user.create") == [("system:test", str(office.id)),
                                              ("system:test", str(viewer.id))]
    assert not _events(db_url, "user.set_role") and not _events(db_url, "token.create")


def test_a_person_changes_their_own_password_and_tokens_but_not_their_role(
        make_user, session, db_url) -> None:
    units = make_units(session)
    officer, _ = make_user(Role.FOCAL_OFFICER, unit_id=units.commune_a.id)
    db = new_session(db_url)
    try:
        me = db.get(User, officer.id)
        assert me is not None
        own = Access(db, me)
        set_password(db, me, "my-own-new-password", access=own, reason="change")
        _secret, token = create_api_token(db, access=own, user=me, name="máy của tôi",
                                          actions=[Action.READ])
        revoke_api_token(db, token, access=own)
        with pytest.raises(PermissionDenied):  # roles are the administrator's
            set_membership(db, me, access=own, role=Role.STANDING_OFFICE,
                           unit_id=units.province.id)
        # Holding a token is not being the person: a token cannot reset its owner's password.
        by_token = Access(db, me, TokenScope(actions=frozenset(Action)))
        with pytest.raises(PermissionDenied):
            set_password(db, me, "stolen-token-password", access=by_token)
        db.commit()
    finally:
        db.close()
    me_label = officer.username
    assert _events(db_url, "user.password_change") == [(me_label, str(officer.id))]
    assert [e[0] for e in _events(db_url, "token.create")] == [me_label]
    assert [e[0] for e in _events(db_url, "token.revoke")] == [me_label]


def test_only_an_administrator_or_the_owner_revokes_a_token(make_user, db_url) -> None:
    """Another user's token is revoked by an administrator or its owner, nobody else."""
    owner, _ = make_user(Role.VIEWER)
    stranger, _ = make_user(Role.LEADER)
    admin, _ = make_user(Role.ADMIN)
    db = new_session(db_url)
    try:
        owner_row = db.get(User, owner.id)
        assert owner_row is not None
        _secret, token = create_api_token(db, access=Access.system(db, "test"),
                                          user=owner_row, name="feed", actions=[Action.READ])
        with pytest.raises(PermissionDenied):
            revoke_api_token(db, token, access=Access(db, db.get(User, stranger.id)))
        revoke_api_token(db, token, access=Access(db, db.get(User, admin.id)))
        db.commit()
        assert db.scalar(select(ApiToken.revoked_at).where(ApiToken.id == token.id))
    finally:
        db.close()
    assert [e[0] for e in _events(db_url, "token.revoke")] == [admin.username]


def test_the_console_is_named_in_the_audit_trail(session, db_url) -> None:
    """`chiso users add` acts as the operator's console, recorded as system:cli (it used
    to be an anonymous 'system', the same as anything else without an actor)."""
    make_units(session)
    added = CliRunner().invoke(cli, ["users", "add", "ttb", "--role", "focal_officer",
                                     "--unit", "05986"])
    assert added.exit_code == 0, added.output
    assert [e[0] for e in _events(db_url, "user.create")] == ["system:cli"]

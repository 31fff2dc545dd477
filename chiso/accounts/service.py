"""Users and sessions. Only these functions create users, change roles or open sessions,
and each writes an audit event."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Membership, Role, User, UserSession
from chiso.accounts.passwords import hash_password, verify_password
from chiso.audit.service import record_event
from chiso.db.base import utcnow
from chiso.settings import get_settings
from chiso.text import nfc


class AccountError(ValueError):
    """A bad request about accounts, with a bilingual message."""


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    unit_id: int | None = None,
    full_name: str = "",
    email: str = "",
    include_subunits: bool = True,
    actor: User | None = None,
) -> User:
    username = nfc(username).lower()
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"Tài khoản '{username}' đã tồn tại / user '{username}' exists")
    user = User(
        username=username,
        full_name=nfc(full_name),
        email=email.strip(),
        password_hash=hash_password(password),
    )
    user.memberships.append(
        Membership(role=role.value, unit_id=unit_id, include_subunits=include_subunits)
    )
    session.add(user)
    session.flush()
    record_event(
        session, action="user.create", object_type="user", object_id=user.id, actor=actor,
        after={"username": username, "role": role.value, "unit_id": unit_id},
    )
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The user if the password is right and the account is usable; counts failures and
    locks the account for a while after too many."""
    settings = get_settings()
    user = session.scalar(select(User).where(User.username == nfc(username).lower()))
    now = utcnow()
    if user is None or not user.is_active:
        return None
    if user.locked_until and _aware(user.locked_until) > now:
        record_event(session, action="login.locked", object_type="user", object_id=user.id)
        return None
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + dt.timedelta(minutes=settings.login_lock_minutes)
        record_event(session, action="login.failed", object_type="user", object_id=user.id,
                     after={"failed_logins": user.failed_logins})
        return None
    user.failed_logins = 0
    user.locked_until = None
    record_event(session, action="login", object_type="user", object_id=user.id, actor=user)
    return user


def open_session(session: Session, user: User) -> tuple[str, UserSession]:
    """Create a server-side session; returns the cookie token (shown once) and the row."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        expires_at=utcnow() + dt.timedelta(days=get_settings().session_days),
        csrf_token=secrets.token_urlsafe(24),
    )
    session.add(row)
    session.flush()
    return token, row


def resolve_session(session: Session, token: str | None) -> tuple[User, UserSession] | None:
    if not token:
        return None
    row = session.get(UserSession, _token_hash(token))
    if row is None or row.revoked or _aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return user, row


def close_session(session: Session, token: str | None) -> None:
    if not token:
        return
    row = session.get(UserSession, _token_hash(token))
    if row is not None:
        row.revoked = True
        record_event(session, action="logout", object_type="user", object_id=row.user_id)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

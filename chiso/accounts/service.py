"""Users and sessions. Only these functions create users, change roles or open sessions,
and each writes an audit event.

Every administrative write (a user, a role, an account's state, a password set by someone
else, an API token) takes a required `access`: a person's (checked for ADMIN, or for their
own account where self-service makes sense), or `Access.system(session, "setup")` for
`chiso init`, the demo and the operator's CLI. Nobody changes an account without an
authority that is checked and recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from chiso.accounts import throttle, usage
from chiso.accounts.access import Access, Action, Actor, TokenScope
from chiso.accounts.errors import AccountError, AccountNotFound
from chiso.accounts.models import (
    ApiToken,
    Membership,
    PasswordResetToken,
    Role,
    User,
    UserSession,
)
from chiso.accounts.names import check_new_username
from chiso.accounts.passwords import hash_password, verify_password
from chiso.audit.service import record_event
from chiso.db.base import utcnow
from chiso.db.engine import bind_url
from chiso.settings import get_settings
from chiso.text import nfc


def create_user(
    session: Session,
    *,
    access: Access,
    username: str,
    password: str,
    role: Role,
    unit_id: int | None = None,
    full_name: str = "",
    email: str = "",
    include_subunits: bool = True,
) -> User:
    """A new account with one role over one unit (or everywhere); ADMIN only."""
    access.require(Action.ADMIN)
    username = check_new_username(session, username)
    _check_password_strength(password)
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
        session, action="user.create", object_type="user", object_id=user.id,
        actor=access.actor,
        after={"username": username, "role": role.value, "unit_id": unit_id},
    )
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Failed sign-ins per (address, user name) in a 5-minute window. Not per address alone: a
# whole office behind one NAT address shares it, and one person guessing there locked every
# colleague out (M8). The account lockout (CHISO_LOGIN_MAX_FAILURES) bounds guesses per
# account wherever they come from.
SIGN_IN_ATTEMPTS_PER_PAIR = 10
SIGN_IN_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: the user, or why not (`throttled`: too many
    attempts from this address for this name; otherwise wrong, locked or disabled — which
    one is never told)."""

    user: User | None
    throttled: bool = False


def login_name(username: str) -> str:
    """How a typed user name is compared: NFKC (fullwidth 'ａ' is 'a'), trimmed, lower case."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def authenticate(session: Session, *, username: str, password: str,
                 address: str = "?") -> SignIn:
    """Check a password, counting the attempt first (atomically, in the database) so that
    no burst of simultaneous guesses gets more than `login_max_failures` of them checked.
    Every refusal costs one password hash, so the time taken does not tell whether the
    account exists."""
    name = login_name(username)
    pair = f"sign-in|{address}|{name}"
    if not throttle.hit(session, pair, limit=SIGN_IN_ATTEMPTS_PER_PAIR,
                        seconds=SIGN_IN_WINDOW_SECONDS):
        _waste_a_hash(password)
        return SignIn(None, throttled=True)
    user = session.scalar(select(User).where(User.username == name))
    if user is None or not user.is_active:
        _waste_a_hash(password)
        return SignIn(None)
    if not _check_counted(session, user, password):
        return SignIn(None)
    throttle.clear_sign_in(session, user.id)
    throttle.forget(session, pair)
    record_event(session, action="login", object_type="user", object_id=user.id, actor=user)
    return SignIn(user)


def _check_counted(session: Session, user: User, password: str) -> bool:
    """The password check of a counted attempt; locks the account at the limit."""
    settings = get_settings()
    attempt = throttle.reserve_sign_in(session, user.id)
    until = utcnow() + dt.timedelta(minutes=settings.login_lock_minutes)
    if attempt is None or attempt > settings.login_max_failures:
        _waste_a_hash(password)
        if attempt is not None:  # beyond the limit in a burst: lock now
            throttle.lock_account(session, user.id, until)
        record_event(session, action="login.locked", object_type="user", object_id=user.id)
        return False
    if verify_password(user.password_hash, password):
        return True
    if attempt >= settings.login_max_failures:
        throttle.lock_account(session, user.id, until)
    record_event(session, action="login.failed", object_type="user", object_id=user.id,
                 after={"failed_logins": attempt})
    return False


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _waste_a_hash(password: str) -> None:
    """Spend what a real check would: refusals must take as long as a wrong password."""
    verify_password(_dummy_hash(), password)


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
    # One round trip for the session, its user and the user's memberships: every page and
    # API call starts here.
    found = session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _token_hash(token))
        .options(joinedload(User.memberships))).unique().first()
    if found is None:
        return None
    row, user = found
    if row.revoked or _aware(row.expires_at) < utcnow() or not user.is_active:
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


# ---------------------------------------------------------------- passwords

MIN_PASSWORD_LENGTH = 10


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự / the password must have "
            f"at least {MIN_PASSWORD_LENGTH} characters"
        )


def require_admin_or_self(access: Access, user: User) -> None:
    """Self-service (a person signed in with their own session — not a token) or ADMIN."""
    own = access.scope is None and access.user is not None and access.user.id == user.id
    if not own:
        access.require(Action.ADMIN)


def set_password(session: Session, user: User, new_password: str, *, access: Access,
                 reason: str = "reset_by_admin") -> None:
    """Give `user` a new password: an administrator's reset, or the user's own change."""
    require_admin_or_self(access, user)
    _replace_password(session, user, new_password, actor=access.actor, reason=reason)


def _replace_password(session: Session, user: User, new_password: str, *,
                      actor: Actor | None, reason: str) -> None:
    """Replace a password, end every open session of the user, clear the lockout and
    void every reset link still outstanding (an older e-mail must not work afterwards).
    Callers have established the authority: ADMIN, the current password or a reset link."""
    _check_password_strength(new_password)
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    _revoke_sessions(session, user.id)
    _void_reset_tokens(session, user.id)
    record_event(session, action=f"user.password_{reason}", object_type="user",
                 object_id=user.id, actor=actor)


def change_password(session: Session, user: User, *, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise AccountError("Mật khẩu hiện tại không đúng / the current password is wrong")
    _replace_password(session, user, new, actor=user, reason="change")


def _revoke_sessions(session: Session, user_id: int) -> None:
    for row in session.scalars(select(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked.is_(False))):
        row.revoked = True


def _void_reset_tokens(session: Session, user_id: int) -> None:
    session.execute(update(PasswordResetToken)
                    .where(PasswordResetToken.user_id == user_id,
                           PasswordResetToken.used_at.is_(None))
                    .values(used_at=utcnow()))


RESET_TOKEN_MINUTES = 60


def start_password_reset(session: Session, *, username_or_email: str) -> tuple[User, str] | None:
    """Create a one-time reset token for the account; returns (user, token) so the caller
    can e-mail the link, or None (the caller must answer the same either way, so the form
    does not reveal which accounts exist)."""
    key = login_name(username_or_email)
    user = session.scalar(select(User).where(
        (User.username == key) | (func.lower(User.email) == key)))
    if user is None or not user.is_active or not user.email:
        return None
    token = secrets.token_urlsafe(32)
    session.add(PasswordResetToken(
        token_hash=_token_hash(token), user_id=user.id,
        expires_at=utcnow() + dt.timedelta(minutes=RESET_TOKEN_MINUTES)))
    record_event(session, action="user.password_reset_requested", object_type="user",
                 object_id=user.id)
    return user, token


def finish_password_reset(session: Session, *, token: str, new_password: str) -> User:
    row = session.get(PasswordResetToken, _token_hash(token))
    if row is None or row.used_at is not None or _aware(row.expires_at) < utcnow():
        raise AccountError("Liên kết đặt lại mật khẩu không hợp lệ hoặc đã hết hạn / the "
                           "reset link is invalid or has expired")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise AccountError("Tài khoản đã bị khóa / the account is disabled")
    _replace_password(session, user, new_password, actor=user,
                      reason="reset")  # voids `row` too
    return user


# ---------------------------------------------------------------- administration

def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == login_name(username)))
    if user is None:
        raise AccountNotFound(f"Không có tài khoản '{username}' / no user '{username}'")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def set_active(session: Session, user: User, active: bool, *, access: Access) -> None:
    """Enable or disable an account (ADMIN); disabling ends its sessions and tokens. An
    administrator cannot disable itself (nobody might be left to enable it again)."""
    access.require(Action.ADMIN)
    if not active and _is_self(access, user):
        raise AccountError("Không thể tự khóa tài khoản của mình / you cannot disable your "
                           "own account", status=400)
    if user.is_active == active:
        return
    before = {"is_active": user.is_active}
    user.is_active = active
    if not active:
        _revoke_sessions(session, user.id)
        for token in session.scalars(select(ApiToken).where(
                ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
            token.revoked_at = utcnow()
    record_event(session, action="user.enable" if active else "user.disable",
                 object_type="user", object_id=user.id, actor=access.actor, before=before,
                 after={"is_active": active})


def _describe_memberships(user: User) -> str:
    return "; ".join(sorted(
        f"{m.role}@{m.unit_id if m.unit_id is not None else '*'}"
        f"{'+' if m.include_subunits else ''}" for m in user.memberships))


def _is_self(access: Access, user: User) -> bool:
    return access.user is not None and access.user.id == user.id


def refuse_own_role_change(access: Access, user: User) -> None:
    """ADMIN, on someone else: nobody changes their own role (an administrator could
    demote the last administrator)."""
    access.require(Action.ADMIN)
    if _is_self(access, user):
        raise AccountError("Không thể tự đổi vai trò của mình (tránh mất quyền quản trị) / "
                           "you cannot change your own role (you could lock yourself out)",
                           status=400)


def set_membership(session: Session, user: User, *, access: Access, role: Role,
                   unit_id: int | None, include_subunits: bool = True) -> None:
    """Replace the user's memberships by one role over one unit (or everywhere); ADMIN,
    on another user's account."""
    refuse_own_role_change(access, user)
    before = _describe_memberships(user)
    user.memberships.clear()
    session.flush()
    user.memberships.append(Membership(role=role.value, unit_id=unit_id,
                                       include_subunits=include_subunits))
    session.flush()
    _revoke_sessions(session, user.id)  # rights changed: sign in again to pick them up
    record_event(session, action="user.set_role", object_type="user", object_id=user.id,
                 actor=access.actor, unit_id=unit_id, before={"memberships": before},
                 after={"memberships": _describe_memberships(user)})


# ---------------------------------------------------------------- API tokens

API_TOKEN_PREFIX = "chiso_"


def create_api_token(session: Session, *, access: Access, user: User, name: str,
                     actions: list[Action], unit_ids: list[int] | None = None,
                     days: int = 90) -> tuple[str, ApiToken]:
    """A token for a system-to-system feed; the secret is returned once, only its hash kept.
    ADMIN, or the owner for their own token (its rights never exceed the owner's)."""
    require_admin_or_self(access, user)
    if not actions:
        raise AccountError("Mã truy cập phải có ít nhất một quyền / a token needs an action")
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=nfc(name), token_hash=_token_hash(secret),
                   actions=sorted(a.value for a in actions), unit_ids=sorted(unit_ids or []),
                   expires_at=utcnow() + dt.timedelta(days=days))
    session.add(row)
    session.flush()
    record_event(session, action="token.create", object_type="api_token", object_id=row.id,
                 actor=access.actor, after={"user": user.username, "name": row.name,
                                     "actions": ",".join(row.actions),
                                     "units": ",".join(map(str, row.unit_ids)),
                                     "expires_at": row.expires_at})
    return secret, row


def revoke_api_token(session: Session, token: ApiToken, *, access: Access) -> None:
    """End a token now: ADMIN, or its owner."""
    owner = session.get(User, token.user_id)
    if owner is None:
        access.require(Action.ADMIN)
    else:
        require_admin_or_self(access, owner)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_event(session, action="token.revoke", object_type="api_token",
                     object_id=token.id, actor=access.actor)


def resolve_api_token(session: Session, secret: str) -> tuple[User, TokenScope] | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    if row is None or row.revoked_at is not None or _aware(row.expires_at) < utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    # Noted in memory and written later, outside this request: a read must not write (M5).
    now = utcnow()
    usage.note_use(bind_url(session), row.id,
                   _aware(row.last_used_at) if row.last_used_at else None, now)
    scope = TokenScope(actions=frozenset(Action(a) for a in row.actions),
                       unit_ids=frozenset(row.unit_ids))
    return user, scope

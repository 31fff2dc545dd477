"""Request dependencies, named like the types they give (SessionDep, AccessDep, …)."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from pydantic import BeforeValidator, WithJsonSchema
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.accounts.models import User
from chiso.accounts.service import resolve_api_token, resolve_session
from chiso.db import new_session
from chiso.errors import Forbidden, UserError
from chiso.settings import get_settings
from chiso.text import parse_date
from chiso.units.models import OrgUnit
from chiso.units.service import get_unit
from chiso.web.i18n import SUPPORTED_LOCALES

SESSION_COOKIE = "chiso_session"
LOCALE_COOKIE = "chiso_lang"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No signed-in user: pages redirect to the login form, the API answers 401."""


class CsrfFailed(Forbidden):
    """A state-changing browser request without the session's CSRF token: 403."""

    def __init__(self) -> None:
        super().__init__("Biểu mẫu đã hết hạn (thiếu hoặc sai mã CSRF); hãy tải lại trang rồi "
                         "thử lại", "the form has expired (missing or wrong CSRF token); "
                         "reload the page and try again")


def get_db() -> Iterator[Session]:
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# "function" scope: commit before the response is sent, so an acknowledged write is stored.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


@dataclass(frozen=True)
class SignedIn:
    """What pages show about the signed-in user. A plain copy, not the ORM row, so an error
    page can still be drawn after the request's transaction was rolled back."""

    id: int
    username: str
    full_name: str
    email: str
    locale: str

    @classmethod
    def of(cls, user: User) -> SignedIn:
        return cls(user.id, user.username, user.full_name, user.email, user.locale)


class BadToken(UserError):
    """An `Authorization: Bearer` header with an unknown, revoked or expired token: 401."""

    status = 401
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

    def __init__(self) -> None:
        super().__init__("Mã truy cập không hợp lệ, đã thu hồi hoặc hết hạn",
                         "the API token is invalid, revoked or expired")


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def resolve_request_user(request: Request, session: SessionDep) -> User | None:
    """Who is asking: an API token (Authorization: Bearer …) or a browser session cookie.
    A token's scope is kept on the request so `AccessDep` narrows the user's rights."""
    request.state.token_scope = None
    secret = _bearer(request)
    if secret is not None:
        found_token = resolve_api_token(session, secret)
        if found_token is None:
            raise BadToken
        user, scope = found_token
        request.state.user = SignedIn.of(user)
        request.state.token_scope = scope
        return user
    found = resolve_session(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    user, row = found
    request.state.user = SignedIn.of(user)
    request.state.csrf_token = row.csrf_token
    return user


async def get_optional_user(
    request: Request, user: Annotated[User | None, Depends(resolve_request_user)]
) -> User | None:
    """The signed-in user, after checking the CSRF token of a cookie-authenticated request
    that changes something (a bearer-token call cannot be forged by another site)."""
    if user is not None and getattr(request.state, "csrf_token", None):
        await verify_csrf(request, request.state.csrf_token)
    return user


async def verify_csrf(request: Request, expected: str) -> None:
    if request.method in SAFE_METHODS:
        return
    sent: object = request.headers.get(CSRF_HEADER)
    if not sent and _is_form(request):
        sent = (await request.form()).get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfFailed


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


OptionalUserDep = Annotated[User | None, Depends(get_optional_user)]


# ------------------------------------------------------------ forms before signing in
# The sign-in and password-reset forms have no session to hold a CSRF token, yet another
# site must not post them (signing a victim into the attacker's account, or spending the
# reset budget). A random token is kept in a SameSite=Strict cookie and repeated in the
# form ("double submit"): a page of another site can neither read nor send the cookie.

FORM_COOKIE = "chiso_form"


def anonymous_form_token(request: Request) -> str:
    """The token for this browser's anonymous forms (created on first use); templates get
    it as `csrf_token`."""
    token = request.cookies.get(FORM_COOKIE, "")
    if not 20 <= len(token) <= 64:
        token = request.state.new_form_token = secrets.token_urlsafe(24)
    request.state.csrf_token = token
    return token


def keep_form_token(request: Request, response: Response) -> Response:
    """Send the cookie of a token `anonymous_form_token` has just created."""
    token = getattr(request.state, "new_form_token", None)
    if token:
        response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="strict",
                            secure=get_settings().base_url.startswith("https"))
    return response


async def verify_anonymous_form(request: Request) -> None:
    """Refuse (403) an anonymous form posted without this browser's token."""
    expected = request.cookies.get(FORM_COOKIE)
    if not expected:
        raise CsrfFailed
    await verify_csrf(request, expected)
    request.state.csrf_token = expected


AnonymousFormDep = Depends(verify_anonymous_form)


def get_user(user: OptionalUserDep) -> User:
    if user is None:
        raise LoginRequired
    return user


UserDep = Annotated[User, Depends(get_user)]


def get_access(request: Request, session: SessionDep, user: UserDep) -> Access:
    return Access(session=session, user=user, scope=getattr(request.state, "token_scope", None))


AccessDep = Annotated[Access, Depends(get_access)]


def request_locale(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in SUPPORTED_LOCALES:
        return chosen
    default = get_settings().default_locale
    return default if default in SUPPORTED_LOCALES else "vi"


LocaleDep = Annotated[str, Depends(request_locale)]


# ------------------------------------------------------------ shared route helpers
# Typed dependencies that several domains' routes need alike (issue 13: they lived in
# chiso/tasks/routes.py and were imported from there by meetings and reports).


def get_manager(access: AccessDep) -> Access:
    """The reader's rights, refused (403) unless they manage some unit: for pages and
    actions that create things (new task, import, new meeting)."""
    if not access.manages_somewhere():
        access.require(Action.MANAGE, None)
    return access


ManagerDep = Annotated[Access, Depends(get_manager)]


def get_unit_filter(session: SessionDep, unit: Annotated[str | None, Query(
        max_length=40, description="A unit's code (today's unit for a re-used code); "
                                   "empty: no filter")] = None) -> OrgUnit | None:
    """The `?unit=` filter of a list or export: the unit valid today, or 404 naming the
    code; None when no code was given."""
    return get_unit(session, unit.strip()) if unit and unit.strip() else None


UnitFilterDep = Annotated[OrgUnit | None, Depends(get_unit_filter)]


def _person_day(value: object) -> object:
    if isinstance(value, str):
        return parse_date(value) if value.strip() else None
    return value


PersonDay = Annotated[
    dt.date | None, BeforeValidator(_person_day),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date"},
                              {"type": "string", "maxLength": 0}],
                    "description": "dd/mm/yyyy or yyyy-mm-dd; empty: none"})]
"""A day typed by a person, for a query or form field: `day: Annotated[PersonDay,
Query()] = None` takes 23/5/2025 or 2025-05-23 (`chiso.text.parse_date`), empty is None,
anything else a 422 naming the value."""


def requires(action: Action) -> Callable[[Access], Access]:
    """A dependency that refuses (403) before the request body is even validated, for
    routes that need one right regardless of unit: `dependencies=[requires(Action.ADMIN)]`
    on a router, or `access: Annotated[Access, Depends(requires(Action.ADMIN))]`."""

    def check(access: AccessDep) -> Access:
        access.require(action)
        return access

    return check

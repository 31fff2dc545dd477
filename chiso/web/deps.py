"""Request dependencies, named like the types they give (SessionDep, AccessDep, …)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.accounts.models import User
from chiso.accounts.service import resolve_session
from chiso.db import new_session
from chiso.web.i18n import SUPPORTED_LOCALES

SESSION_COOKIE = "chiso_session"
LOCALE_COOKIE = "chiso_lang"


class LoginRequired(Exception):
    """No signed-in user: pages redirect to the login form, the API answers 401."""


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


SessionDep = Annotated[Session, Depends(get_db)]


def get_optional_user(request: Request, session: SessionDep) -> User | None:
    found = resolve_session(session, request.cookies.get(SESSION_COOKIE))
    if found is None:
        return None
    user, row = found
    request.state.user = user
    request.state.csrf_token = row.csrf_token
    return user


OptionalUserDep = Annotated[User | None, Depends(get_optional_user)]


def get_user(user: OptionalUserDep) -> User:
    if user is None:
        raise LoginRequired
    return user


UserDep = Annotated[User, Depends(get_user)]


def get_access(session: SessionDep, user: UserDep) -> Access:
    return Access(session=session, user=user)


AccessDep = Annotated[Access, Depends(get_access)]


def request_locale(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in SUPPORTED_LOCALES else "vi"


LocaleDep = Annotated[str, Depends(request_locale)]

"""Sign in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from chiso.accounts.service import authenticate, close_session, open_session
from chiso.settings import get_settings
from chiso.web.deps import SESSION_COOKIE, SessionDep
from chiso.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect would let a link send users to another site.
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "failed": False})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    user = authenticate(session, username=username, password=password)
    if user is None:
        session.commit()  # keep the failure count and the audit event
        return render(request, "login.html", {"next": _safe_next(next), "failed": True},
                      status_code=401)
    token, _row = open_session(session, user)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax",
        secure=get_settings().base_url.startswith("https"),
        max_age=get_settings().session_days * 86400,
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    close_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

"""Sign in and out, change a password, reset a forgotten one by e-mail."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from chiso.accounts import throttle
from chiso.accounts.mail import reset_mail_body
from chiso.accounts.service import (
    RESET_TOKEN_MINUTES,
    AccountError,
    authenticate,
    change_password,
    close_session,
    finish_password_reset,
    open_session,
    start_password_reset,
)
from chiso.notify.service import send_email
from chiso.settings import get_settings
from chiso.web.deps import (
    SESSION_COOKIE,
    AnonymousFormDep,
    OptionalUserDep,
    SessionDep,
    UserDep,
    anonymous_form_token,
    keep_form_token,
)
from chiso.web.templating import render

router = APIRouter(include_in_schema=False)
log = logging.getLogger("chiso.accounts")

# Password-reset e-mails asked from one address: 5 in 5 minutes (counted in the database).
RESET_REQUESTS_PER_ADDRESS = 5
RESET_WINDOW_SECONDS = 300


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect would let a link send users to another site.
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


def _form(request: Request, template: str, context: dict[str, Any],
          status_code: int = 200) -> Response:
    """A page with a form posted before signing in: it carries this browser's form token."""
    anonymous_form_token(request)
    return keep_form_token(request, render(request, template, context,
                                           status_code=status_code))


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _form(request, "login.html", {"next": _safe_next(next), "failed": False})


@router.post("/login", dependencies=[AnonymousFormDep])
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    outcome = authenticate(session, username=username, password=password,
                           address=_address(request))
    if outcome.user is None:
        session.commit()  # keep the audit event of the failure
        return _form(request, "login.html", {
            "next": _safe_next(next), "failed": not outcome.throttled,
            "throttled": outcome.throttled}, status_code=429 if outcome.throttled else 401)
    user = outcome.user
    token, _row = open_session(session, user)
    # Without a target, through the front door (chiso.web.home), which sends each person
    # where they should start: a late report owed, the finance officer's funding page, or
    # the overview of a unit they may read (never the province's, a 403 for an officer).
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax",
        secure=get_settings().base_url.startswith("https"),
        max_age=get_settings().session_days * 86400,
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, _user: OptionalUserDep) -> Response:
    # OptionalUserDep has checked the CSRF token: another site cannot sign users out.
    close_session(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password")
def password_form(request: Request, user: UserDep) -> Response:
    return render(request, "accounts/password.html", {"error": "", "done": False})


@router.post("/account/password")
def password_change(
    request: Request,
    session: SessionDep,
    user: UserDep,
    current: Annotated[str, Form(max_length=500)],
    new: Annotated[str, Form(max_length=500)],
    confirm: Annotated[str, Form(max_length=500)],
) -> Response:
    try:
        if new != confirm:
            raise AccountError("Hai mật khẩu mới không khớp / the two new passwords differ")
        change_password(session, user, current=current, new=new)
    except AccountError as exc:
        session.commit()
        return render(request, "accounts/password.html", {"error": str(exc), "done": False},
                      status_code=400)
    session.commit()
    response = RedirectResponse("/login?changed=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)  # every session was ended: sign in again
    return response


@router.get("/password/forgot")
def forgot_form(request: Request) -> Response:
    return _form(request, "accounts/forgot.html", {"sent": False})


@router.post("/password/forgot", dependencies=[AnonymousFormDep])
def forgot(request: Request, session: SessionDep,
           who: Annotated[str, Form(max_length=200)]) -> Response:
    if not throttle.hit(session, f"reset|{_address(request)}", limit=RESET_REQUESTS_PER_ADDRESS,
                        seconds=RESET_WINDOW_SECONDS):
        return _form(request, "accounts/forgot.html", {"sent": False, "throttled": True},
                     status_code=429)
    started = start_password_reset(session, username_or_email=who)
    session.commit()
    if started is not None:
        user, token = started
        link = f"{get_settings().base_url.rstrip('/')}/password/reset?token={token}"
        try:
            send_email(to=user.email, subject="chiso: đặt lại mật khẩu / password reset",
                      body=reset_mail_body(full_name=user.full_name or user.username,
                                           link=link, minutes=RESET_TOKEN_MINUTES))
        except OSError:
            log.exception("could not send the password-reset e-mail to user %s", user.id)
    # The same answer whether or not the account exists.
    return _form(request, "accounts/forgot.html", {"sent": True})


@router.get("/password/reset")
def reset_form(request: Request, token: str = "") -> Response:
    return _form(request, "accounts/reset.html", {"token": token, "error": ""})


@router.post("/password/reset", dependencies=[AnonymousFormDep])
def reset(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=200)],
    new: Annotated[str, Form(max_length=500)],
    confirm: Annotated[str, Form(max_length=500)],
) -> Response:
    try:
        if new != confirm:
            raise AccountError("Hai mật khẩu mới không khớp / the two new passwords differ")
        finish_password_reset(session, token=token, new_password=new)
    except AccountError as exc:
        return _form(request, "accounts/reset.html", {"token": token, "error": str(exc)},
                     status_code=400)
    return RedirectResponse("/login?changed=1", status_code=303)

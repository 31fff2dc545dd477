"""/admin/users and /admin/tokens: accounts, roles over units, API tokens (ADMIN only).

Generated passwords and token secrets are shown once on the page that created them and
never stored in clear."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from chiso.accounts.access import Access, Action
from chiso.accounts.models import ApiToken, Role, User
from chiso.accounts.passwords import generate_password
from chiso.accounts.service import (
    AccountError,
    AccountNotFound,
    create_api_token,
    create_user,
    list_users,
    refuse_own_role_change,
    revoke_api_token,
    set_active,
    set_membership,
    set_password,
)
from chiso.admin.service import (
    list_tokens,
    membership_parts,
    parse_role_choice,
    unit_by_code,
)
from chiso.web.deps import AccessDep, SessionDep, requires
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(prefix="/admin", include_in_schema=False,
                   dependencies=[Depends(requires(Action.ADMIN))])
ShortText = Annotated[str, Form(max_length=200)]


def _users_page(request: Request, access: Access, *, notice: str = "", error: str = "",
                secret: str = "", status_code: int = 200) -> Response:
    users = list_users(access.session)
    return render(request, "admin/users.html", {
        "access": access, "users": users, "roles": list(Role),
        "memberships": membership_parts(access.session, users),
        "notice": notice, "error": error, "secret": secret}, status_code=status_code)


def _user(access: Access, user_id: int) -> User:
    user = access.session.get(User, user_id)
    if user is None:
        raise AccountNotFound("Không có tài khoản này / no such user")
    return user


@router.get("/users")
def users_page(request: Request, access: AccessDep) -> Response:
    access.require(Action.ADMIN)
    return _users_page(request, access)


@router.post("/users")
def user_create(request: Request, session: SessionDep, access: AccessDep,
                username: ShortText, role: ShortText, full_name: ShortText = "",
                email: ShortText = "", unit_code: ShortText = "",
                include_subunits: Annotated[bool, Form()] = False) -> Response:
    access.require(Action.ADMIN)
    password = generate_password()
    try:
        choice = parse_role_choice(session, role=role, unit_code=unit_code)
        user = create_user(session, username=username, password=password, role=choice.role,
                           unit_id=choice.unit_id, full_name=full_name, email=email,
                           include_subunits=include_subunits, access=access)
    except AccountError as exc:
        session.rollback()
        return _users_page(request, access, error=str(exc), status_code=400)
    session.commit()
    return _users_page(request, access, secret=password,
                       notice=f"{user.username}")


@router.post("/users/{user_id}/role")
def user_set_role(request: Request, session: SessionDep, access: AccessDep, user_id: int,
                  role: ShortText, unit_code: ShortText = "",
                  include_subunits: Annotated[bool, Form()] = False) -> Response:
    access.require(Action.ADMIN)
    user = _user(access, user_id)
    try:
        refuse_own_role_change(access, user)  # said first: whatever else the form holds
        choice = parse_role_choice(session, role=role, unit_code=unit_code)
        set_membership(session, user, role=choice.role, unit_id=choice.unit_id,
                       include_subunits=include_subunits, access=access)
    except AccountError as exc:
        session.rollback()
        return _users_page(request, access, error=str(exc), status_code=400)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/active")
def user_set_active(session: SessionDep, access: AccessDep, user_id: int,
                    active: Annotated[bool, Form()] = False) -> Response:
    access.require(Action.ADMIN)
    user = _user(access, user_id)
    set_active(session, user, active, access=access)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/password")
def user_reset_password(request: Request, session: SessionDep, access: AccessDep,
                        user_id: int) -> Response:
    access.require(Action.ADMIN)
    user = _user(access, user_id)
    password = generate_password()
    set_password(session, user, password, access=access, reason="reset_by_admin")
    session.commit()
    return _users_page(request, access, secret=password, notice=user.username)


# ---------------------------------------------------------------- API tokens

@router.get("/tokens")
def tokens_page(request: Request, access: AccessDep) -> Response:
    access.require(Action.ADMIN)
    return _tokens_page(request, access)


def _tokens_page(request: Request, access: Access, *, secret: str = "", error: str = "",
                 status_code: int = 200) -> Response:
    tokens = list_tokens(access.session)
    owners = {u.id: u.username for u in list_users(access.session)}
    return render(request, "admin/tokens.html", {
        "access": access, "tokens": tokens, "owners": owners, "actions": list(Action),
        "secret": secret, "error": error}, status_code=status_code)


@router.post("/tokens")
async def token_create(request: Request, session: SessionDep, access: AccessDep) -> Response:
    access.require(Action.ADMIN)
    form = await request.form()
    try:
        owner = session.get(User, int(str(form.get("user_id", "0")) or 0))
        if owner is None:
            raise AccountError("Chọn tài khoản sở hữu / choose the owning user")
        codes = [c.strip() for c in str(form.get("unit_codes", "")).split(",") if c.strip()]
        secret, _row = create_api_token(
            session, user=owner, name=str(form.get("name", ""))[:200] or "feed",
            actions=[Action(a) for a in form.getlist("actions") if a in set(Action)],
            unit_ids=[unit_by_code(session, c).id for c in codes],
            days=max(1, min(int(str(form.get("days", "90")) or 90), 730)), access=access)
    except (AccountError, ValueError) as exc:
        session.rollback()
        return _tokens_page(request, access, error=str(exc), status_code=400)
    session.commit()
    return _tokens_page(request, access, secret=secret)


@router.post("/tokens/{token_id}/revoke")
def token_revoke(session: SessionDep, access: AccessDep, token_id: int) -> Response:
    access.require(Action.ADMIN)
    token = session.get(ApiToken, token_id)
    if token is None:
        raise AccountNotFound("Không có mã truy cập này / no such token")
    revoke_api_token(session, token, access=access)
    return RedirectResponse("/admin/tokens", status_code=303)


NAV = [NavItem("Administration", "/admin/users", Action.ADMIN, order=95)]

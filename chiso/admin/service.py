"""What the admin pages and the `chiso users` commands need beyond chiso.accounts.service:
finding units by code and turning form fields into a role over a unit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chiso.accounts.access import GLOBAL_ROLES
from chiso.accounts.models import ApiToken, Role, User
from chiso.accounts.service import AccountError
from chiso.settings import get_settings
from chiso.text import nfc
from chiso.units.models import OrgUnit
from chiso.web.i18n import gettext_for


def unit_by_code(session: Session, code: str) -> OrgUnit:
    """The unit valid today with this code (codes are reused after mergers: DESIGN §3)."""
    today = get_settings().current_date()
    unit = session.scalar(
        select(OrgUnit).where(OrgUnit.code == nfc(code).strip(),
                              or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= today))
        .order_by(OrgUnit.valid_from.desc()))
    if unit is None:
        raise AccountError(f"Không có đơn vị mã '{code}' / no unit with code '{code}'")
    return unit


@dataclass(frozen=True)
class RoleChoice:
    role: Role
    unit_id: int | None


def parse_role_choice(session: Session, *, role: str, unit_code: str) -> RoleChoice:
    """A role and the unit it applies to. Admins and leaders act everywhere; the other
    roles need a unit, so that no scoped role silently becomes global."""
    try:
        chosen = Role(role)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in Role)
        raise AccountError(f"Vai trò '{role}' không hợp lệ (chọn: {allowed}) / "
                           f"unknown role '{role}' (choose: {allowed})") from exc
    if chosen in GLOBAL_ROLES:
        return RoleChoice(chosen, None)
    if not unit_code.strip():
        raise AccountError(f"Vai trò '{chosen.value}' cần mã đơn vị / role "
                           f"'{chosen.value}' needs a unit code")
    return RoleChoice(chosen, unit_by_code(session, unit_code).id)


def unit_codes(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name)
                           .where(OrgUnit.id.in_(ids)))
    return {row.id: f"{row.name} ({row.code})" for row in rows}  # the name leads


def membership_labels(session: Session, users: list[User]) -> dict[int, str]:
    """'Cán bộ đầu mối @ Phường Kỳ Lừa (06187) (+)' for each user ((+): with sub-units):
    the role by its Vietnamese name, as `chiso users list` shows it."""
    name = gettext_for("vi")
    return {user_id: "; ".join(f"{name(role)} @ {unit}" if unit else name(role)
                               for role, unit in parts)
            for user_id, parts in membership_parts(session, users).items()}


def membership_parts(session: Session, users: list[User]) -> dict[int, list[tuple[str, str]]]:
    """(role, 'name (code) (+)') pairs per user, for pages that translate the role."""
    codes = unit_codes(session, {m.unit_id for u in users for m in u.memberships
                                 if m.unit_id is not None})
    return {user.id: [(m.role, "" if m.unit_id is None else
                       f"{codes.get(m.unit_id, m.unit_id)}{' (+)' if m.include_subunits else ''}")
                      for m in user.memberships] for user in users}


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))

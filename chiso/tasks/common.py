"""What the committee's three domains — tasks, meetings and reports — share on their pages
and in their commands: the units a list offers, a unit named by its code, a date typed by
a person, and whether to offer "manage" buttons.

None of it is about tasks; it lives here, below the route modules, so that meetings and
reports no longer import helpers from `chiso/tasks/routes.py`. It is general enough for
`chiso/web` (typed dependencies) once the platform offers them.
"""

from __future__ import annotations

import datetime as dt

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import ROLE_ACTIONS, Access, Action
from chiso.accounts.models import Role
from chiso.errors import NotFound, UserError
from chiso.settings import get_settings
from chiso.tasks.models import Origin
from chiso.text import parse_date
from chiso.units.models import OrgUnit, UnitKind
from chiso.units.service import descendant_ids


def current_units(session: Session) -> list[OrgUnit]:
    """The units a unit list offers: the province and the units under it today, by level
    (province, departments, communes), then name. With the national register loaded, every
    list had 3,371 units with other provinces first, and a new task defaulted to Cần Thơ."""
    query = (select(OrgUnit).outerjoin(UnitKind, UnitKind.code == OrgUnit.kind)
             .where(OrgUnit.valid_to.is_(None)))
    province = session.scalar(query.where(OrgUnit.code == get_settings().default_unit))
    if province is not None:
        query = query.where(OrgUnit.id.in_([province.id, *descendant_ids(session, province.id)]))
    return list(session.scalars(query.order_by(UnitKind.level, OrgUnit.name)))


COMMUNE_LEVEL = 3  # unit_kind.level of xã, phường, đặc khu (and the former thị trấn)


def is_commune(session: Session, unit_id: int) -> bool:
    """A commune-level unit (its kind's level is 3), whose committee is a commune's."""
    level = session.scalar(select(UnitKind.level).join(OrgUnit, OrgUnit.kind == UnitKind.code)
                           .where(OrgUnit.id == unit_id))
    return level == COMMUNE_LEVEL


def origin_of_committee(session: Session, unit_id: int) -> Origin:
    """The origin of a task a unit's own committee assigns: xã for a commune's, else tỉnh."""
    return Origin.COMMUNE if is_commune(session, unit_id) else Origin.PROVINCE


def readable_units(session: Session, access: Access) -> list[OrgUnit]:
    """The units of `current_units` this reader may open (offering another answered 403)."""
    return [u for u in current_units(session) if access.can(Action.READ, u.id)]


def managed_units(session: Session, access: Access) -> list[OrgUnit]:
    """The units this user may give a task to (leading it needs MANAGE on the unit)."""
    return [u for u in current_units(session) if access.can(Action.MANAGE, u.id)]


def find_unit(session: Session, code: str) -> OrgUnit:
    """The unit with this code, today's first (a code re-used after a merger names today's
    unit); NotFound names the code."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code.strip())
                          .order_by(OrgUnit.valid_to.is_not(None), OrgUnit.valid_from.desc()))
    if unit is None:
        raise NotFound(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'")
    return unit


def unit_by_code(session: Session, code: str | None) -> OrgUnit | None:
    """`find_unit`, or None when no code was given (an optional filter)."""
    return find_unit(session, code) if code else None


def manages_somewhere(access: Access) -> bool:
    """Whether to offer "new task", "import" and similar buttons; the action itself is
    checked on its unit. An API token without the manage right manages nowhere."""
    if access.system_name:
        return True
    if access.scope is not None and Action.MANAGE not in access.scope.actions:
        return False
    return any(Action.MANAGE in ROLE_ACTIONS[Role(r)] for r in access.roles())


def require_manager(access: Access) -> None:
    if not manages_somewhere(access):
        access.require(Action.MANAGE, None)


def optional_date(text: str | None) -> dt.date | None:
    """A date typed by a person (dd/mm/yyyy, or ISO from a date input); empty → None."""
    if not text or not text.strip():
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise UserError(str(exc)) from exc


def required_date(text: str | None, what_vi: str, what_en: str) -> dt.date:
    day = optional_date(text)
    if day is None:
        raise UserError(f"Cần {what_vi}", f"{what_en} is required")
    return day


# ------------------------------------------------------------------ command-line options

def date_option(text: str | None) -> dt.date | None:
    """A --date option: a bad date is a usage error (exit 2) naming the value."""
    try:
        return optional_date(text)
    except UserError as exc:
        raise typer.BadParameter(exc.message) from exc


def unit_option(session: Session, code: str | None) -> int | None:
    """A --unit option: the unit's id, or a usage error naming the code."""
    try:
        unit = unit_by_code(session, code)
    except NotFound as exc:
        raise typer.BadParameter(exc.message) from exc
    return unit.id if unit else None

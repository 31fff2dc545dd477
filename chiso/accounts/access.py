"""The one access layer: may this user do this action on this unit?

Every route and service that reads or changes unit data asks `Access.require(...)`.
Roles (DESIGN §1, issue 7): admin does everything; the standing office reads, captures,
approves and manages within its scope; a focal officer reads and captures within its
unit; a leader reads everything; a viewer reads within its scope.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.models import Role, User
from chiso.errors import Forbidden
from chiso.settings import get_settings
from chiso.units.models import OrgUnit
from chiso.units.tree import ancestor_ids


class Action(enum.StrEnum):
    READ = "read"
    CAPTURE = "capture"  # enter or import data values, update tasks
    APPROVE = "approve"  # approve or return submissions
    MANAGE = "manage"  # plans, targets, data sets, frameworks, meetings
    ADMIN = "admin"  # users, roles, tokens, audit


ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.STANDING_OFFICE: frozenset(
        {Action.READ, Action.CAPTURE, Action.APPROVE, Action.MANAGE}
    ),
    Role.FOCAL_OFFICER: frozenset({Action.READ, Action.CAPTURE}),
    Role.LEADER: frozenset({Action.READ}),
    Role.VIEWER: frozenset({Action.READ}),
}

# Roles whose rights hold over every unit, whatever the membership's unit says.
GLOBAL_ROLES = frozenset({Role.ADMIN, Role.LEADER})


ACTION_WORDS_VI = {Action.READ: "xem", Action.CAPTURE: "nhập số liệu cho",
                   Action.APPROVE: "phê duyệt", Action.MANAGE: "quản lý",
                   Action.ADMIN: "quản trị"}


class PermissionDenied(Forbidden):
    """Raised when a user may not do an action: a 403 user error. The message names the
    unit as people know it (name and code), not its database id."""

    def __init__(self, action: Action, unit_id: int | None = None,
                 unit_label: str | None = None) -> None:
        self.action = action
        self.unit_id = unit_id
        target_vi = f"đơn vị {unit_label}" if unit_label else (
            f"đơn vị #{unit_id}" if unit_id is not None else "toàn hệ thống")
        target_en = f"unit {unit_label}" if unit_label else (
            f"unit #{unit_id}" if unit_id is not None else "system-wide")
        super().__init__(f"Không có quyền {ACTION_WORDS_VI[action]} {target_vi}",
                         f"not allowed to {action} {target_en}")


@dataclass(frozen=True)
class TokenScope:
    """An API token's limits: it can only narrow its owner's rights, never widen them.
    `unit_ids` empty = the owner's whole scope; a listed unit covers its sub-units."""

    actions: frozenset[Action]
    unit_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SystemActor:
    """Who acts when no person does (a scheduled job, the records feed, the demo builder):
    recorded in the audit trail as `system:<name>`."""

    name: str
    id: None = None

    @property
    def username(self) -> str:
        return f"system:{self.name}"


Actor = User | SystemActor
"""Whoever a change is made by: a person, or the system under a name."""


@dataclass
class Access:
    """What one user may do; built once per request. `scope` is set when the request came
    with an API token instead of a browser session. `Access.system(...)` is the explicit
    authority of an internal job: write paths take an Access and never a missing one."""

    session: Session
    user: User | None
    scope: TokenScope | None = None
    _ancestors: dict[int, list[int]] = field(default_factory=dict)
    system_name: str = ""

    @classmethod
    def system(cls, session: Session, name: str) -> Access:
        """Full rights for an internal job named `name` (e.g. "records-feed", "demo",
        "cli"): used where no person is signed in, and audited under that name."""
        return cls(session, None, system_name=name)

    @property
    def actor(self) -> Actor | None:
        """The User, or the SystemActor of a system Access (for audit events)."""
        if self.system_name:
            return SystemActor(self.system_name)
        return self.user

    def can(self, action: Action, unit_id: int | None = None) -> bool:
        if self.system_name:
            return True
        if self.user is None or not self.user.is_active:
            return False
        if self.scope is not None and not self._scope_allows(action, unit_id):
            return False
        return any(self._grants(m, action, unit_id) for m in self.user.memberships)

    def _scope_allows(self, action: Action, unit_id: int | None) -> bool:
        assert self.scope is not None
        if action not in self.scope.actions:
            return False
        if not self.scope.unit_ids:
            return True
        if unit_id is None:
            return action is Action.READ
        return any(u in self.scope.unit_ids for u in self._chain(unit_id))

    def require(self, action: Action, unit_id: int | None = None) -> None:
        if not self.can(action, unit_id):
            unit = self.session.get(OrgUnit, unit_id) if unit_id is not None else None
            label = f"{unit.name} ({unit.code})" if unit is not None else None
            raise PermissionDenied(action, unit_id, label)

    def home_unit_code(self) -> str:
        """The unit whose pages this user starts from: the province (the default unit) when
        they may read it, else the unit of their first membership. A commune or
        department officer sent to the province lands on a refusal."""
        default = get_settings().default_unit
        memberships = self.user.memberships if self.user else []
        if not memberships or any(m.unit_id is None or Role(m.role) in GLOBAL_ROLES
                                  for m in memberships):
            return default
        province = self.session.scalar(select(OrgUnit.id).where(OrgUnit.code == default)
                                       .order_by(OrgUnit.valid_from.desc()).limit(1))
        if province is None or self.can(Action.READ, province):
            return default
        own = self.session.scalar(select(OrgUnit.code).where(
            OrgUnit.id == memberships[0].unit_id))
        return own or default

    def roles(self) -> set[str]:
        return {m.role for m in self.user.memberships} if self.user else set()

    def can_somewhere(self, action: Action) -> bool:
        """Whether this user may do `action` on at least one unit: the rule for showing a
        menu entry or a button (the action itself is checked on its unit). `can(action)`
        with no unit asks "everywhere", which a role tied to one unit only passes for
        reading. A token narrows it: its actions, and its units when it lists some."""
        if self.system_name:
            return True
        if self.user is None or not self.user.is_active:
            return False
        if self.scope is not None:
            if action not in self.scope.actions:
                return False
            if self.scope.unit_ids:
                return any(self.can(action, unit_id) for unit_id in self.scope.unit_ids)
        return any(action in ROLE_ACTIONS[Role(m.role)] for m in self.user.memberships)

    def manages_somewhere(self) -> bool:
        """Whether to offer "new …" and "import" buttons (the action itself is checked on
        its unit). A token without the manage right manages nowhere."""
        return self.can_somewhere(Action.MANAGE)

    def _grants(self, membership, action: Action, unit_id: int | None) -> bool:  # type: ignore[no-untyped-def]
        role = Role(membership.role)
        if action not in ROLE_ACTIONS[role]:
            return False
        if role in GLOBAL_ROLES or membership.unit_id is None:
            return True
        if unit_id is None:
            # A system-wide question ("may I see the list of units?") from a scoped role:
            # only reading is allowed without naming a unit.
            return action is Action.READ
        if membership.unit_id == unit_id:
            return True
        return membership.include_subunits and membership.unit_id in self._chain(unit_id)

    def prime_chain(self, unit_id: int, chain: list[int]) -> None:
        """Give the unit's ancestor chain (itself first) read in bulk elsewhere, so that
        checking thousands of units does not cost one query per unit and level."""
        self._ancestors.setdefault(unit_id, chain)

    def _chain(self, unit_id: int) -> list[int]:
        if unit_id not in self._ancestors:
            self._ancestors[unit_id] = ancestor_ids(self.session, unit_id)
        return self._ancestors[unit_id]

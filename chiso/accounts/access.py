"""The one access layer: may this user do this action on this unit?

Every route and service that reads or changes unit data asks `Access.require(...)`.
Roles (DESIGN §1, issue 7): admin does everything; the standing office reads, captures,
approves and manages within its scope; a focal officer reads and captures within its
unit; a leader reads everything; a viewer reads within its scope.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from chiso.accounts.models import Role, User
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


class PermissionDenied(Exception):
    """Raised when a user may not do an action; the web layer turns it into 403."""

    def __init__(self, action: Action, unit_id: int | None = None) -> None:
        self.action = action
        self.unit_id = unit_id
        super().__init__(
            f"Không có quyền '{action}' trên đơn vị {unit_id} / not allowed to {action} "
            f"unit {unit_id}"
        )


@dataclass(frozen=True)
class TokenScope:
    """An API token's limits: it can only narrow its owner's rights, never widen them.
    `unit_ids` empty = the owner's whole scope; a listed unit covers its sub-units."""

    actions: frozenset[Action]
    unit_ids: frozenset[int] = frozenset()


@dataclass
class Access:
    """What one user may do; built once per request. `scope` is set when the request came
    with an API token instead of a browser session."""

    session: Session
    user: User | None
    scope: TokenScope | None = None
    _ancestors: dict[int, list[int]] = field(default_factory=dict)

    def can(self, action: Action, unit_id: int | None = None) -> bool:
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
            raise PermissionDenied(action, unit_id)

    def roles(self) -> set[str]:
        return {m.role for m in self.user.memberships} if self.user else set()

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

    def _chain(self, unit_id: int) -> list[int]:
        if unit_id not in self._ancestors:
            self._ancestors[unit_id] = ancestor_ids(self.session, unit_id)
        return self._ancestors[unit_id]

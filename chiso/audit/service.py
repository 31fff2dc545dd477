"""The one function that writes audit events. Callers pass the session they change data in,
so the event commits or rolls back with the change it describes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from chiso.audit.models import AuditEvent


def record_event(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: object = "",
    actor: Any = None,
    unit_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Append an audit event; `actor` is a User (or None for the system/CLI)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "username", None) or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        unit_id=unit_id,
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
    )
    session.add(event)
    return event


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {key: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
            for key, v in data.items()}

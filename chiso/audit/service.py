"""The one function that writes audit events. Callers pass the session they change data in,
so the event commits or rolls back with the change it describes."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.audit.models import AuditEvent
from chiso.text.clock import iso_instant, vn_zone

if TYPE_CHECKING:  # accounts records its own events here: no import at run time
    from chiso.accounts.access import Actor


def record_event(
    session: Session,
    *,
    action: str,
    object_type: str,
    object_id: object = "",
    actor: Actor | None = None,
    unit_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditEvent:
    """Append an audit event; `actor` is a User or a SystemActor (None: not known)."""
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
    """The fields as JSON keeps them, so that the trail can be read back: lists and
    mappings (a target's milestones) stay lists and mappings, days and moments ISO text.
    Anything else (a Decimal, an object) is kept as its text."""
    if data is None:
        return None
    return {str(key): _json_value(value) for key, value in data.items()}


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _json_value(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    return str(value)


def search_events(
    session: Session,
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    unit_id: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[AuditEvent]:
    """Newest first. `action` matches a prefix ("value." finds every value change);
    dates are inclusive days in Vietnam time."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor_label == actor.strip().lower())
    if action:
        query = query.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if object_type:
        query = query.where(AuditEvent.object_type == object_type.strip())
    if object_id:
        query = query.where(AuditEvent.object_id == object_id.strip())
    if unit_id is not None:
        query = query.where(AuditEvent.unit_id == unit_id)
    if date_from is not None:
        query = query.where(AuditEvent.at >= _day_start(date_from))
    if date_to is not None:
        query = query.where(AuditEvent.at < _day_start(date_to + dt.timedelta(days=1)))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    return list(session.scalars(query.limit(max(1, min(limit, 1000))).offset(max(0, offset))))


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight of a day in Vietnam, where the people searching live: an event at 06:30 on
    the 5th in Lạng Sơn (23:30 on the 4th in UTC) is on the 5th. Given in UTC, as stored:
    SQLite compares the text and would drop the zone."""
    return dt.datetime.combine(day, dt.time(), tzinfo=vn_zone()).astimezone(dt.UTC)


def event_as_dict(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": iso_instant(event.at), "actor": event.actor_label,
            "actor_id": event.actor_id, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id,
            "unit_id": event.unit_id, "before": event.before, "after": event.after,
            "note": event.note}


def changed_fields(current: object, data: dict[str, Any], fields: tuple[str, ...]
                   ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields of `current` whose values differ from `data`: (before, after), ready to
    be an audit event's before → after."""
    before, after = {}, {}
    for name in fields:
        old, new = getattr(current, name), data[name]
        if old != new:
            before[name], after[name] = old, new
    return before, after


def assign_fields(target: object, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(target, name, value)

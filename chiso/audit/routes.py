"""Searching the audit trail: the /audit page and GET /api/audit (administrators only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from chiso.accounts.access import Access, Action
from chiso.audit.service import event_as_dict, search_events
from chiso.text.dates import DateError, parse_date
from chiso.web.deps import AccessDep, SessionDep, requires
from chiso.web.templating import render

router = APIRouter(dependencies=[Depends(requires(Action.ADMIN))])


class AuditFilters:
    """The search form's fields, shared by the page and the API."""

    def __init__(
        self,
        actor: Annotated[str, Query(max_length=64)] = "",
        action: Annotated[str, Query(max_length=64)] = "",
        object_type: Annotated[str, Query(max_length=64)] = "",
        object_id: Annotated[str, Query(max_length=64)] = "",
        unit_id: Annotated[str, Query(max_length=9, pattern=r"^\d*$")] = "",
        date_from: Annotated[str, Query(max_length=40, description="dd/mm/yyyy")] = "",
        date_to: Annotated[str, Query(max_length=40, description="dd/mm/yyyy")] = "",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> None:
        self.values: dict[str, Any] = {
            "actor": actor, "action": action, "object_type": object_type,
            "object_id": object_id, "unit_id": int(unit_id) if unit_id else None,
            "date_from": _day(date_from, "date_from"), "date_to": _day(date_to, "date_to"),
            "limit": limit, "offset": offset}


def _day(text: str, field: str) -> dt.date | None:
    """Empty means no bound (the page's form sends empty fields)."""
    if not text.strip():
        return None
    try:
        return parse_date(text)
    except DateError as exc:
        raise HTTPException(422, f"{field}: {exc}") from exc


FiltersDep = Annotated[AuditFilters, Depends()]


def _require_admin(access: Access) -> None:
    access.require(Action.ADMIN)


@router.get("/api/audit", tags=["audit"], summary="Search the audit trail (administrators)")
def api_audit(session: SessionDep, access: AccessDep, filters: FiltersDep
              ) -> dict[str, Any]:
    _require_admin(access)
    events = search_events(session, **filters.values)
    return {"events": [event_as_dict(e) for e in events], "count": len(events)}


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, session: SessionDep, access: AccessDep,
               filters: FiltersDep) -> Response:
    _require_admin(access)
    events = search_events(session, **filters.values)
    return render(request, "audit/search.html", {
        "access": access, "events": events, "filters": filters.values})

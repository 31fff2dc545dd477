"""In-app notifications: `/notifications` (page) and `/api/notifications` (JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from chiso.notify.service import mark_all_read, recent, unread_count
from chiso.text import iso_instant
from chiso.web.deps import AccessDep, SessionDep, UserDep
from chiso.web.templating import render

router = APIRouter(tags=["notifications"])


@router.get("/notifications", include_in_schema=False)
def notifications_page(request: Request, session: SessionDep, user: UserDep,
                       access: AccessDep) -> Response:
    return render(request, "notify/list.html", {
        "access": access, "items": recent(session, user),
        "unread": unread_count(session, user)})


@router.post("/notifications/read", include_in_schema=False)
def read_all(session: SessionDep, user: UserDep) -> Response:
    mark_all_read(session, user)
    return RedirectResponse("/notifications", status_code=303)


@router.get("/api/notifications")
def api_notifications(session: SessionDep, user: UserDep) -> dict[str, Any]:
    """The signed-in user's latest notifications and the unread count."""
    return {"unread": unread_count(session, user), "items": [
        {"id": n.id, "event_key": n.event_key, "subject": n.subject, "body": n.body,
         "link": n.link, "created_at": iso_instant(n.created_at),
         "read": n.read_at is not None, "email_status": n.email_status}
        for n in recent(session, user)]}

"""Searching the audit trail: the /audit page and GET /api/audit (administrators only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from chiso.accounts.access import Access, Action
from chiso.audit import presenter
from chiso.audit.service import event_as_dict, search_events
from chiso.errors import UserError
from chiso.text.dates import DateError, parse_date
from chiso.web.deps import AccessDep, SessionDep, requires
from chiso.web.templating import render

router = APIRouter(dependencies=[Depends(requires(Action.ADMIN))])


DAY = "dd/mm/yyyy or yyyy-mm-dd, a day in Vietnam time; empty: no bound"
# What the API description promises for a day: a date, or nothing (the form sends "").
DAY_SCHEMA = {"anyOf": [{"type": "string", "format": "date"},
                        {"type": "string", "maxLength": 0}]}


class AuditFilters:
    """The search form's fields, shared by the page and the API."""

    def __init__(
        self,
        actor: Annotated[str, Query(max_length=64)] = "",
        action: Annotated[str, Query(max_length=64)] = "",
        object_type: Annotated[str, Query(max_length=64)] = "",
        object_id: Annotated[str, Query(max_length=64)] = "",
        # Documented, not enforced by the framework: the page explains a typo itself.
        unit_id: Annotated[str, Query(max_length=40, description="a unit's id; empty: all",
                                      json_schema_extra={"pattern": "^[0-9]{0,9}$"})] = "",
        date_from: Annotated[str, Query(max_length=40, description=DAY,
                                        json_schema_extra=DAY_SCHEMA)] = "",
        date_to: Annotated[str, Query(max_length=40, description=DAY,
                                      json_schema_extra=DAY_SCHEMA)] = "",
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    ) -> None:
        # Mistakes in the form are collected, not raised: the page shows them above the
        # form the admin typed (a letter in the unit id showed a validator's raw dump).
        self.errors: list[tuple[str, str]] = []  # (Vietnamese, English)
        self.values: dict[str, Any] = {
            "actor": actor, "action": action, "object_type": object_type,
            "object_id": object_id, "unit_id": self._unit(unit_id),
            "date_from": self._day(date_from, "Từ ngày", "from"),
            "date_to": self._day(date_to, "Đến ngày", "to"),
            "limit": limit, "offset": offset}

    def _unit(self, text: str) -> int | None:
        text = text.strip()
        if text and not (text.isascii() and text.isdigit() and len(text) <= 9):
            self.errors.append((f"Mã số đơn vị phải là số, nhận '{text}'",
                                f"the unit id must be a number, got '{text}'"))
            return None
        return int(text) if text else None

    def _day(self, text: str, label_vi: str, label_en: str) -> dt.date | None:
        """Empty means no bound (the page's form sends empty fields)."""
        if not text.strip():
            return None
        try:
            return parse_date(text)
        except DateError as exc:
            self.errors.append((f"{label_vi}: {exc.message_vi}", f"{label_en}: {exc.message_en}"))
            return None

    def refusal(self) -> UserError:
        return UserError("; ".join(vi for vi, _ in self.errors),
                         "; ".join(en for _, en in self.errors))

    def messages(self) -> list[str]:
        """Each mistake in both languages, as the page lists them."""
        return [f"{vi} / {en}" for vi, en in self.errors]


FiltersDep = Annotated[AuditFilters, Depends()]


def _require_admin(access: Access) -> None:
    access.require(Action.ADMIN)


@router.get("/api/audit", tags=["audit"], summary="Search the audit trail (administrators)")
def api_audit(session: SessionDep, access: AccessDep, filters: FiltersDep
              ) -> dict[str, Any]:
    _require_admin(access)
    if filters.errors:
        raise filters.refusal()
    events = search_events(session, **filters.values)
    return {"events": [event_as_dict(e) for e in events], "count": len(events)}


# A page of the trail is read on a screen: 50 events, then "older entries" (issue 14: the
# whole trail on one page was 63,000 px tall). The API keeps its own limit (200).
PAGE_SIZE = 50


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, session: SessionDep, access: AccessDep,
               filters: FiltersDep) -> Response:
    _require_admin(access)
    search = dict(filters.values)
    if "limit" not in request.query_params:
        search["limit"] = PAGE_SIZE
    # One more than the page: whether older entries exist, without counting them all.
    found = [] if filters.errors else search_events(session, **{**search,
                                                                "limit": search["limit"] + 1})
    locale = request.state.locale
    return render(request, "audit/search.html", {
        "errors": filters.messages(), "raw": request.query_params, "access": access,
        "rows": presenter.rows(session, found[:search["limit"]], locale),
        "older": len(found) > search["limit"], "filters": search,
        "choices": presenter.choices(session, locale)},
        status_code=422 if filters.errors else 200)

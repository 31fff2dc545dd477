"""Searching the audit trail: the /audit page and GET /api/audit (administrators only)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from chiso.accounts.access import Access, Action
from chiso.audit.service import event_as_dict, search_events
from chiso.errors import UserError
from chiso.text import format_date, format_number
from chiso.text.dates import DateError, parse_date
from chiso.web.deps import AccessDep, SessionDep, requires
from chiso.web.i18n import gettext_for
from chiso.web.templating import render

router = APIRouter(dependencies=[Depends(requires(Action.ADMIN))])


DAY = "dd/mm/yyyy or yyyy-mm-dd; empty: no bound"
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


def _shown(value: Any, locale: str) -> str:
    """One recorded field as the reader expects it: '–' for nothing, 76,6 and 31/12/2025 in
    Vietnamese. Whole numbers are left ungrouped: they are mostly ids, codes and years."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return gettext_for(locale)("Yes" if value else "No")
    if isinstance(value, float):
        decimals = min(len(repr(value).partition(".")[2].rstrip("0")), 6)
        return format_number(value, decimals, locale).replace(
            "." if locale == "vi" else ",", "")
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        return format_date(dt.date.fromisoformat(value[:10]), locale)
    if isinstance(value, list):
        return ", ".join(_shown(v, locale) for v in value) or "–"
    return str(value)


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None,
                   locale: str) -> list[tuple[str, str, str]]:
    """(field, before, after) for the fields an event changed. An update records the whole
    object on both sides; listing every unchanged field buried the one that changed."""
    before, after = before or {}, after or {}
    rows = []
    for key in list(before) + [k for k in after if k not in before]:
        old, new = before.get(key), after.get(key)
        if before and after and old == new:
            continue
        rows.append((key, _shown(old, locale) if before else "",
                     _shown(new, locale) if after else ""))
    return rows


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, session: SessionDep, access: AccessDep,
               filters: FiltersDep) -> Response:
    _require_admin(access)
    events = [] if filters.errors else search_events(session, **filters.values)
    return render(request, "audit/search.html", {
        "errors": filters.messages(), "raw": request.query_params,
        "access": access, "events": events, "filters": filters.values,
        "changed_fields": lambda e: changed_fields(e.before, e.after, request.state.locale)},
        status_code=422 if filters.errors else 200)

"""Overview of a unit for a year, and an indicator's page. Thin: look up, check, render."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from chiso.accounts.access import Action
from chiso.analytics.cache import reading_as
from chiso.analytics.service import UnknownIndicator
from chiso.analytics.status import Status
from chiso.dashboard.service import UnitCard, drawn_overview, indicator_detail, unit_card
from chiso.indicators.models import Indicator
from chiso.settings import get_settings
from chiso.text import format_measure
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.templating import render, render_fragment

router = APIRouter(include_in_schema=False)
NAV = [NavItem("Overview", "/units/{unit}/overview", order=10)]


def _unit_or_404(session: SessionDep, code: str) -> UnitCard:
    return unit_card(session, code)  # UnitNotFound is a NotFound: the error handler's 404


COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", "=": "=", "between": "∈"}


def _status_context(request: Request) -> dict[str, object]:
    locale = getattr(request.state, "locale", "vi")
    return {
        "comparator_sign": lambda c: COMPARATOR_SIGNS.get(c, c),
        "measure": lambda value, decimals, unit: format_measure(value, decimals, unit, locale),
        "status_label": lambda value: Status(value).label(locale),
        "statuses_labels": {s.value: s.label(locale) for s in Status},
    }


def _default_year() -> int:
    return get_settings().current_date().year


@router.get("/units/{code}/overview", response_class=HTMLResponse)
def overview_page(request: Request, code: str, session: SessionDep, access: AccessDep,
                  year: int | None = None, as_of: dt.date | None = None) -> HTMLResponse:
    unit = _unit_or_404(session, code)
    access.require(Action.READ, unit.id)
    reading_as(session, access.user.id if access.user else None)  # bounded staleness
    content = drawn_overview(
        session, unit=unit, year=year or _default_year(), as_of=as_of,
        locale=getattr(request.state, "locale", "vi"),
        draw=lambda data: render_fragment(request, "dashboard/overview_content.html",
                                          {"o": data, **_status_context(request)}))
    return render(request, "dashboard/overview.html",
                  {"unit": unit, "content": content, "access": access})


@router.get("/units/{code}/indicators/{indicator_code}", response_class=HTMLResponse)
def indicator_page(request: Request, code: str, indicator_code: str, session: SessionDep,
                   access: AccessDep, year: int | None = None) -> HTMLResponse:
    unit = _unit_or_404(session, code)
    access.require(Action.READ, unit.id)
    reading_as(session, access.user.id if access.user else None)  # bounded staleness
    indicator = session.scalar(select(Indicator).where(Indicator.code == indicator_code))
    if indicator is None:
        raise UnknownIndicator(indicator_code)
    detail = indicator_detail(session, unit=unit, indicator=indicator,
                              year=year or _default_year())
    return render(request, "dashboard/indicator.html",
                  {"d": detail, "access": access, **_status_context(request)})

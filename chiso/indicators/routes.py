"""The catalogue: JSON API (`/api/pillars`, `/api/indicators`, `/api/frameworks`) and the
`/catalog` page (indicators with their legal basis, then the national frameworks of targets,
each citing its document, article and source).

The catalogue is not unit data, but it is not public either: every route asks Access for
READ (any signed-in user with a role may read it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from chiso.accounts.access import Action
from chiso.errors import ERROR_RESPONSES
from chiso.indicators import frameworks, service
from chiso.indicators.models import Indicator
from chiso.settings import get_settings
from chiso.text import accent_free_key, nfc
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(tags=["catalogue"], responses=ERROR_RESPONSES)


@router.get("/api/pillars")
def list_pillars(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """Pillars (trụ cột) in display order, each with its number of active indicators."""
    access.require(Action.READ)
    counts: dict[str | None, int] = {}
    for indicator in service.list_indicators(session):
        counts[indicator.pillar_code] = counts.get(indicator.pillar_code, 0) + 1
    return [{**service.pillar_as_dict(p), "indicator_count": counts.get(p.code, 0)}
            for p in service.list_pillars(session)]


@router.get("/api/indicators")
def list_indicators(session: SessionDep, access: AccessDep, pillar: str | None = None
                    ) -> list[dict[str, Any]]:
    """Active indicators, in pillar order; `?pillar=CQS` keeps one pillar."""
    access.require(Action.READ)
    return [service.indicator_as_dict(i) for i in service.list_indicators(session, pillar)]


@router.get("/api/indicators/{code}")
def show_indicator(code: str, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """One indicator with its definition, unit, kind, direction and aggregation rules."""
    access.require(Action.READ)
    return service.indicator_as_dict(service.get_indicator(session, code))


@router.get("/api/frameworks")
def list_frameworks(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """National frameworks of targets (NQ 57-NQ/TW to 2030, the 2026 plan, …): each target
    with its indicator, year, value, the document (số hiệu, date), article, monitoring body,
    a later amendment if any, and the source the figure was read from."""
    access.require(Action.READ)
    return frameworks.frameworks_as_dicts(session)


@router.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
def catalog_page(request: Request, session: SessionDep, access: AccessDep,
                 q: str = "") -> HTMLResponse:
    access.require(Action.READ)
    indicators = service.list_indicators(session)
    groups = [(pillar, [i for i in indicators if i.pillar_code == pillar.code])
              for pillar in service.list_pillars(session)]
    return render(request, "indicators/catalog.html", {
        "access": access, "groups": [(p, items) for p, items in groups if items],
        "total": len(indicators), "q": q, "search_keys": _search_keys(indicators),
        "progress_unit": _progress_unit(session, access),
        "frameworks": frameworks.framework_listing(session),
    })


def _progress_unit(session: Any, access: Any) -> str | None:
    """The province's code when the reader may see its progress: each indicator's name then
    links to its progress page (the catalogue was a dead end for a leader)."""
    code = get_settings().default_unit
    unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
    return code if unit_id is not None and access.can(Action.READ, unit_id) else None


def _search_keys(indicators: list[Indicator]) -> dict[str, dict[str, str]]:
    """Per indicator, its searchable text with accents (lower-case NFC) and without, so the
    page's filter finds 'cap quang' in 'cáp quang' but 'đúng hạn' only where it is written."""
    keys = {}
    for i in indicators:
        text = " ".join([i.code, i.name_vi, i.name_en, i.definition_vi, i.definition_en])
        keys[i.code] = {"exact": nfc(text).lower(), "plain": accent_free_key(text)}
    return keys


# "Indicators" alone is translated differently by another domain ("Chỉ số liên quan").
NAV = [NavItem("Indicator catalogue", "/catalog", order=60)]

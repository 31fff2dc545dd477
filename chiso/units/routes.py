"""Units: JSON API (`/api/units`, `/api/units/{code}`) and the unit page (`/units/{code}`).

Every read asks `Access` for READ: on the unit when one is named, system-wide otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Action
from chiso.errors import ERROR_RESPONSES, UserError
from chiso.text import parse_date
from chiso.text.dates import DateError
from chiso.units import service
from chiso.units.models import FAR_PAST, OrgUnit, UnitKind
from chiso.units.tree import ancestor_ids
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import OptionalDayText
from chiso.web.templating import render

router = APIRouter(tags=["units"], responses=ERROR_RESPONSES)


def parse_on(on: str | None) -> dt.date:
    """`on` as yyyy-mm-dd or dd/mm/yyyy; today when absent."""
    if not on:
        return service.today()
    try:
        return parse_date(on)
    except DateError as exc:  # name the parameter: the date alone does not say where
        raise UserError(f"Tham số 'on': {exc.message_vi}", f"parameter 'on': "
                        f"{exc.message_en}") from exc


def unit_or_404(session: Session, code: str, on: dt.date) -> OrgUnit:
    """The unit valid on `on` (UnitNotFound, a 404, otherwise)."""
    return service.get_unit(session, code, on)


def unit_json(unit: OrgUnit, parent_code: str | None = None) -> dict[str, Any]:
    return {
        "id": unit.id, "code": unit.code, "name": unit.name, "short_name": unit.short_name,
        "name_en": unit.name_en, "kind": unit.kind, "parent_code": parent_code,
        "valid_from": None if unit.valid_from == FAR_PAST else unit.valid_from.isoformat(),
        "valid_to": unit.valid_to.isoformat() if unit.valid_to else None,
        "area_km2": unit.area_km2, "latitude": unit.latitude, "longitude": unit.longitude,
    }


def parent_codes(session: Session, units: list[OrgUnit]) -> dict[int, str]:
    ids = {u.parent_id for u in units if u.parent_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(ids)))
    return {unit_id: code for unit_id, code in rows}


def link_json(link: service.LineageLink) -> dict[str, Any]:
    return {**unit_json(link.unit), "link_kind": link.kind,
            "event_date": link.event_date.isoformat(), "share": link.share,
            "is_primary": link.is_primary, "legal_basis": link.legal_basis}


@router.get("/api/units")
def list_units(session: SessionDep, access: AccessDep, parent: str | None = None,
               on: OptionalDayText = None, q: str | None = None, kind: str | None = None
               ) -> list[dict[str, Any]]:
    """Units valid on a date: sub-units of `parent`, or matches of `q` (accent- and
    tone-insensitive), or the provinces; optionally of one `kind`."""
    day = parse_on(on)
    parent_unit = unit_or_404(session, parent, day) if parent else None
    access.require(Action.READ, parent_unit.id if parent_unit else None)
    if q:
        units = service.find_units(session, q, day, kind=kind,
                                   parent_id=parent_unit.id if parent_unit else None)
    elif parent_unit:
        units = service.children(session, parent_unit.id, day, kind=kind)
    else:
        units = service.top_units(session, day, kind=kind)
    codes = parent_codes(session, units)
    return [unit_json(u, codes.get(u.parent_id) if u.parent_id else None) for u in units]


@router.get("/api/units/{code}")
def show_unit(code: str, session: SessionDep, access: AccessDep, on: OptionalDayText = None
              ) -> dict[str, Any]:
    """One unit valid on a date, with its parent, number of sub-units and lineage."""
    day = parse_on(on)
    unit = unit_or_404(session, code, day)
    access.require(Action.READ, unit.id)
    parent = session.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return {
        **unit_json(unit, parent.code if parent else None),
        "parent": unit_json(parent) if parent else None,
        "children_count": service.children_count(session, unit.id, day),
        "predecessors": [link_json(lk) for lk in service.predecessors(session, unit.id)],
        "successors": [link_json(lk) for lk in service.successors(session, unit.id)],
    }


def kind_labels(session: Session) -> dict[str, UnitKind]:
    return {k.code: k for k in session.scalars(select(UnitKind))}


def grouped_children(units: list[OrgUnit]) -> list[tuple[str, list[OrgUnit]]]:
    """Sub-units grouped by kind, in the order the service returned them."""
    groups: dict[str, list[OrgUnit]] = {}
    for unit in units:
        groups.setdefault(unit.kind, []).append(unit)
    return list(groups.items())


def breadcrumbs(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    chain = ancestor_ids(session, unit.id)[1:]
    return [session.get(OrgUnit, i) for i in reversed(chain)]  # type: ignore[misc]


@router.get("/units/{code}", response_class=HTMLResponse, include_in_schema=False)
def unit_page(code: str, request: Request, session: SessionDep, access: AccessDep,
              on: str | None = None) -> HTMLResponse:
    day = parse_on(on)
    unit = unit_or_404(session, code, day)
    access.require(Action.READ, unit.id)
    subunits = service.children(session, unit.id, day)
    counts = {u.id: service.children_count(session, u.id, day) for u in subunits
              if u.kind in GROUPING_KINDS}
    return render(request, "units/unit.html", {
        "access": access, "unit": unit, "on": day, "far_past": FAR_PAST,
        "kinds": kind_labels(session), "crumbs": breadcrumbs(session, unit),
        "groups": grouped_children(subunits), "subunit_counts": counts,
        "subunit_total": len(subunits),
        "predecessors": service.predecessors(session, unit.id),
        "successors": service.successors(session, unit.id),
    })


# Kinds whose sub-unit count is worth a column (historic districts hold communes).
GROUPING_KINDS = frozenset({"huyen", "quan", "thi_xa", "thanh_pho_thuoc_tinh"})

NAV = [NavItem("Units", "/units/{unit}", order=80)]

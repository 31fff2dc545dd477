"""Plans and targets: JSON API and the `/plans` pages.

Plan codes contain '/' (72-KH/BCĐ): the API takes the code URL-encoded or as a path
(`/api/plans/72-KH%2FBC%C4%90` and `/api/plans/72-KH/BCĐ` both work); pages use the plan id.
Reading needs READ; creating or changing a target needs MANAGE on the target's unit.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from chiso.accounts.access import Action
from chiso.errors import ERROR_RESPONSES
from chiso.indicators.models import Indicator, Pillar
from chiso.indicators.service import list_indicators, list_pillars
from chiso.plans import service
from chiso.plans.models import Plan
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.templating import render

router = APIRouter(tags=["plans"], responses=ERROR_RESPONSES)

Number = float | str  # "76,6%" and "1.234.567" are accepted as typed


class TargetIn(BaseModel):
    """A target as in a plan file's `targets` entry; omitted fields take the plan's defaults."""

    model_config = ConfigDict(extra="forbid")

    indicator: str
    value: Number
    unit: str | None = None
    year: int | None = None
    target_date: dt.date | str | None = None
    comparator: str | None = None
    value_high: Number | None = None
    baseline_value: Number | None = None
    baseline_date: dt.date | str | None = None
    trajectory: str | None = None
    milestones: list[dict[str, Any]] | str | None = None
    note: str | None = None


class TargetChanges(BaseModel):
    """Fields to change on a target; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    indicator: str | None = None
    value: Number | None = None
    unit: str | None = None
    year: int | None = None
    target_date: dt.date | str | None = None
    comparator: str | None = None
    value_high: Number | None = None
    baseline_value: Number | None = None
    baseline_date: dt.date | str | None = None
    trajectory: str | None = None
    milestones: list[dict[str, Any]] | str | None = None
    note: str | None = None


# ------------------------------------------------------------------------------ API


@router.get("/api/plans")
def list_plans(session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """Plans (kế hoạch, nghị quyết, …), newest first, with their number of targets."""
    access.require(Action.READ)
    return [{**service.plan_as_dict(session, plan), "target_count": count}
            for plan, count in service.list_plans(session)]


@router.post("/api/plans/{code:path}/targets", status_code=201)
def create_target(code: str, body: TargetIn, session: SessionDep, access: AccessDep
                  ) -> dict[str, Any]:
    """Add a target to a plan (MANAGE on the target's unit). Errors are bilingual and name
    the field (422, with `problems`); an unknown plan is 404."""
    target = service.create_target(session, code, body.model_dump(exclude_unset=True),
                                   access=access)
    return service.target_as_dict(session, target)


@router.get("/api/plans/{code:path}")
def show_plan(code: str, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """One plan with its targets (in pillar order)."""
    access.require(Action.READ)
    plan = service.get_plan(session, code)
    return {**service.plan_as_dict(session, plan),
            "targets": [service.target_as_dict(session, t)
                        for t in service.plan_targets(session, plan)]}


@router.put("/api/targets/{target_id}")
def update_target(target_id: int, body: TargetChanges, session: SessionDep,
                  access: AccessDep) -> dict[str, Any]:
    """Change a target (MANAGE on its unit, and on the new unit if it moves). The old values
    stay in the audit trail."""
    target = service.update_target(session, target_id, body.model_dump(exclude_unset=True),
                                   access=access)
    return service.target_as_dict(session, target)


# ------------------------------------------------------------------------------ pages


@router.get("/plans", response_class=HTMLResponse, include_in_schema=False)
def plans_page(request: Request, session: SessionDep, access: AccessDep) -> HTMLResponse:
    access.require(Action.READ)
    plans = [(plan, count, _scope_name(session, plan)) for plan, count
             in service.list_plans(session)]
    return render(request, "plans/list.html", {"access": access, "plans": plans})


@router.get("/plans/{plan_id}", response_class=HTMLResponse, include_in_schema=False)
def plan_page(plan_id: int, request: Request, session: SessionDep, access: AccessDep
              ) -> HTMLResponse:
    access.require(Action.READ)
    plan = service.get_plan_by_id(session, plan_id)
    targets = service.plan_targets(session, plan)
    can_add = plan.scope_unit_id is not None and access.can(Action.MANAGE, plan.scope_unit_id)
    return render(request, "plans/plan.html", {
        "access": access, "plan": plan, "scope_name": _scope_name(session, plan),
        "groups": _grouped(session, targets), "target_count": len(targets),
        "can_manage": {t.id: access.can(Action.MANAGE, t.unit_id) for t in targets},
        "can_add": can_add, "api_code": _quote(plan.code),
        "scope_code": _scope_code(session, plan),
        "indicator_groups": _indicator_choices(session) if can_add else [],
    })


@router.get("/plans/{plan_id}/export.xlsx", include_in_schema=False)
def plan_export(plan_id: int, session: SessionDep, access: AccessDep) -> Response:
    """The plan as XLSX, in the layout `chiso plan load` reads."""
    access.require(Action.READ)
    plan = service.get_plan_by_id(session, plan_id)
    with tempfile.TemporaryDirectory() as folder:
        path = service.export_plan_xlsx(session, plan.code, Path(folder) / "plan.xlsx")
        content = path.read_bytes()
    filename = plan.code.replace("/", "-") + ".xlsx"
    return Response(content, media_type="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition": "attachment; filename*=UTF-8''"
                        + _quote(filename)})


def _quote(text: str) -> str:
    """Percent-encode everything, '/' included: plan codes such as 72-KH/BCĐ contain it."""
    return quote(text, safe="")


def _scope_code(session: SessionDep, plan: Plan) -> str:
    unit = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    return unit.code if unit else ""


def _indicator_choices(session: SessionDep) -> list[tuple[Pillar, list[Indicator]]]:
    indicators = list_indicators(session)
    return [(p, [i for i in indicators if i.pillar_code == p.code])
            for p in list_pillars(session)]


def _scope_name(session: SessionDep, plan: Plan) -> str:
    unit = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    return unit.name if unit else ""


def _grouped(session: SessionDep, targets: list[Any]) -> list[tuple[Pillar | None, list[Any]]]:
    """Targets with their indicator and unit, grouped by pillar in pillar order."""
    groups: dict[str | None, list[Any]] = {}
    for target in targets:
        row = {"target": target, "indicator": session.get(Indicator, target.indicator_id),
               "unit": session.get(OrgUnit, target.unit_id)}
        groups.setdefault(target.pillar_code, []).append(row)
    return [(session.get(Pillar, code) if code else None, rows) for code, rows in groups.items()]


NAV = [NavItem("Plans", "/plans", order=65)]

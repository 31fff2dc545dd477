"""Plans and targets: JSON API and the `/plans` pages.

Plan codes contain '/' (72-KH/BCĐ): the API takes the code URL-encoded or as a path
(`/api/plans/72-KH%2FBC%C4%90` and `/api/plans/72-KH/BCĐ` both work); pages use the plan id.
Reading needs READ; creating, changing or revising a target needs MANAGE on the target's
unit. A revision (`POST /api/targets/{id}/revisions`) is a new version with an effective date
and a basis document; `GET /api/targets/in-force?on=…` gives every target as it stood on a
day and `GET /api/target-revisions?period=…` the revisions that took effect in a period.
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
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Action
from chiso.errors import ERROR_RESPONSES, NotFound
from chiso.indicators.models import Indicator, Pillar
from chiso.indicators.problems import InputRejected, Problem
from chiso.indicators.service import list_indicators, list_pillars
from chiso.periods import parse_period
from chiso.plans import details, revisions, service
from chiso.plans.models import Plan, Target
from chiso.settings import get_settings
from chiso.text import parse_date
from chiso.text.dates import DateError
from chiso.units import service as unit_service
from chiso.units.models import OrgUnit
from chiso.web.deps import AccessDep, SessionDep
from chiso.web.nav import NavItem
from chiso.web.schema import OptionalDayText, OptionalPeriodText, OptionalYear
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


class RevisionIn(BaseModel):
    """A revision: the new value from `effective_from` on, resting on the document
    `basis_code` (số hiệu) of `basis_date`. Dates as dd/mm/yyyy or ISO."""

    model_config = ConfigDict(extra="forbid")

    value: Number
    effective_from: dt.date | str
    basis_code: str
    basis_date: dt.date | str | None = None
    basis_title: str = ""
    comparator: str | None = None
    value_high: Number | None = None
    note: str = ""


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


@router.get("/api/plans/{code:path}/targets")
def plan_targets(code: str, session: SessionDep, access: AccessDep) -> list[dict[str, Any]]:
    """A plan's targets (in pillar order), as in `GET /api/plans/{code}`. (Plan codes hold
    '/', so this path always answered GET; it is now said.)"""
    access.require(Action.READ)
    plan = service.get_plan(session, code)
    return [service.target_as_dict(session, t) for t in service.plan_targets(session, plan)]


@router.get("/api/plans/{code:path}")
def show_plan(code: str, session: SessionDep, access: AccessDep) -> dict[str, Any]:
    """One plan with its targets (in pillar order)."""
    access.require(Action.READ)
    plan = service.get_plan(session, code)
    return {**service.plan_as_dict(session, plan),
            "targets": [service.target_as_dict(session, t)
                        for t in service.plan_targets(session, plan)]}


@router.get("/api/targets/in-force")
def targets_in_force(session: SessionDep, access: AccessDep, on: OptionalDayText = None,
                     unit: str | None = None, year: OptionalYear = None,
                     plan: str | None = None) -> list[dict[str, Any]]:
    """Every target as it stood on `on` (default today; dd/mm/yyyy or ISO): the version in
    force, its effective date and basis (`revised` when it is not the plan's own value).
    A report for Q1 asks `on=31/03/2025`, one for Q3 `on=30/09/2025`."""
    access.require(Action.READ)
    unit_ids = _readable_unit_ids(session, access, unit) if unit else None
    rows = revisions.targets_in_force(session, on=_day(on, "on"), unit_ids=unit_ids,
                                      year=year, plan_code=plan)
    return [r.to_dict() for r in rows if access.can(Action.READ, _unit_of(session, r))]


@router.get("/api/target-revisions")
def target_revisions(session: SessionDep, access: AccessDep, period: OptionalPeriodText = None,
                     unit: str | None = None, year: OptionalYear = None
                     ) -> list[dict[str, Any]]:
    """Revisions that took effect in `period` (any spelling: 'Quý III/2025', '9 tháng đầu
    năm 2025'; default all), with the value before and after and the basis document."""
    access.require(Action.READ)
    first = last = None
    if period:
        span = parse_period(period, as_of=get_settings().current_date())
        first, last = span.start(), span.end()
    unit_ids = _readable_unit_ids(session, access, unit) if unit else None
    rows = revisions.target_revisions(session, first_day=first, last_day=last, year=year,
                                      unit_ids=unit_ids)
    return [{**r.to_dict(), "sentence_vi": r.sentence("vi"), "sentence_en": r.sentence("en")}
            for r in rows if access.can(Action.READ, _unit_of(session, r))]


@router.get("/api/targets/{target_id:int}/revisions")
def target_versions(target_id: int, session: SessionDep, access: AccessDep
                    ) -> list[dict[str, Any]]:
    """Every version of a target, oldest first: the plan's own value, then each revision.
    404 for a target that does not exist."""
    access.require(Action.READ)
    if session.get(Target, target_id) is None:
        raise revisions.RevisionTargetNotFound(target_id)
    return revisions.target_versions(session, target_id)


@router.get("/api/targets/{target_id:int}/corrections")
def target_corrections(target_id: int, session: SessionDep, access: AccessDep
                       ) -> list[dict[str, Any]]:
    """What the target was and how it was to be judged, oldest first: as the plan set it
    (`original`), then each correction of its indicator, unit, year, date, baseline, path or
    pillar with its moment and the fields it changed. Empty for a target never corrected.
    404 for a target that does not exist."""
    access.require(Action.READ)
    if session.get(Target, target_id) is None:
        raise revisions.RevisionTargetNotFound(target_id)
    return details.history_rows(session, target_id)


@router.post("/api/targets/{target_id:int}/revisions", status_code=201)
def revise(target_id: int, body: RevisionIn, session: SessionDep, access: AccessDep
           ) -> dict[str, Any]:
    """Revise a target from a date on, on a document (MANAGE on its unit). The earlier
    values stay; 422 (bilingual, naming the field) for a missing basis or an effective date
    not after the previous revision's."""
    revisions.revise_target(
        session, target_id, value=body.value, value_high=body.value_high,
        comparator=body.comparator, effective_from=_day(body.effective_from, "effective_from"),
        basis_code=body.basis_code, basis_date=_optional_day(body.basis_date, "basis_date"),
        basis_title=body.basis_title, note=body.note, access=access)
    return {"versions": revisions.target_versions(session, target_id)}


@router.put("/api/targets/{target_id:int}")
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


def _corrections(session: Session, targets: list[Target], locale: str
                 ) -> dict[int, list[tuple[dt.datetime, str]]]:
    """Each target's corrections for its history: when, and each field from what to what."""
    return {target_id: [(c.recorded_at, c.told(locale)) for c in found]
            for target_id, found in details.corrections(session, [t.id for t in targets]).items()}


@router.get("/plans/{plan_id}", response_class=HTMLResponse, include_in_schema=False)
def plan_page(plan_id: int, request: Request, session: SessionDep, access: AccessDep
              ) -> HTMLResponse:
    access.require(Action.READ)
    plan = service.get_plan_by_id(session, plan_id)
    targets = service.plan_targets(session, plan)
    versions = {t.id: revisions.target_versions(session, t.id) for t in targets}
    can_add = plan.scope_unit_id is not None and access.can(Action.MANAGE, plan.scope_unit_id)
    return render(request, "plans/plan.html", {
        "access": access, "plan": plan, "scope_name": _scope_name(session, plan),
        "parents": service.plan_parents(session, plan),
        "children": service.plan_children(session, plan),
        "versions": versions,
        "corrections": _corrections(session, targets, getattr(request.state, "locale", "vi")),
        "badges": {t.id: revisions.revision_badge(history) for t, history
                   in zip(targets, versions.values(), strict=True)},
        "groups": _grouped(session, targets), "target_count": len(targets),
        "can_manage": {t.id: access.can(Action.MANAGE, t.unit_id) for t in targets},
        "can_add": can_add, "api_code": _quote(plan.code),
        "scope_code": _scope_code(session, plan),
        "unit_choices": _unit_choices(session, access, plan) if can_add else [],
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


def _day(text: dt.date | str | None, field: str) -> dt.date:
    if text in (None, ""):
        return get_settings().current_date()
    if isinstance(text, dt.date):
        return text
    try:
        return parse_date(text)
    except DateError as exc:
        raise InputRejected([Problem("", exc.message_vi, exc.message_en, column=field)]
                            ) from None


def _optional_day(text: dt.date | str | None, field: str) -> dt.date | None:
    return None if text in (None, "") else _day(text, field)


def _readable_unit_ids(session: SessionDep, access: AccessDep, code: str) -> list[int]:
    """The ids a unit code has had (a re-used code has several); 403 unless the reader may
    read the unit (another commune's targets were listed to a commune officer)."""
    ids = list(session.scalars(select(OrgUnit.id).where(OrgUnit.code == code.strip())))
    if not ids:
        raise NotFound(f"Không có đơn vị mã '{code}'", f"no unit with code '{code}'")
    if not any(access.can(Action.READ, unit_id) for unit_id in ids):
        access.require(Action.READ, ids[-1])
    return ids


def _unit_of(session: SessionDep,
             row: revisions.TargetInForce | revisions.TargetRevision) -> int | None:
    return session.scalar(select(OrgUnit.id).where(OrgUnit.code == row.unit_code))


def _quote(text: str) -> str:
    """Percent-encode everything, '/' included: plan codes such as 72-KH/BCĐ contain it."""
    return quote(text, safe="")


def _scope_code(session: SessionDep, plan: Plan) -> str:
    unit = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    return unit.code if unit else ""


def _unit_choices(session: SessionDep, access: AccessDep, plan: Plan) -> list[OrgUnit]:
    """The units a new target of the plan may be for: its scope unit, then those under it
    the person manages (shown by name, the code beside)."""
    scope = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    if scope is None:
        return []
    return [scope] + [u for u in unit_service.children(session, scope.id)
                      if access.can(Action.MANAGE, u.id)]


def _indicator_choices(session: SessionDep) -> list[tuple[Pillar, list[Indicator]]]:
    indicators = list_indicators(session)
    return [(p, [i for i in indicators if i.pillar_code == p.code])
            for p in list_pillars(session)]


def _scope_name(session: SessionDep, plan: Plan) -> tuple[str, str]:
    """The scope unit's (vi, en) names, for the page's `pick`; blank for a plan without."""
    unit = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    return (unit.name, unit.name_en) if unit else ("", "")


def _grouped(session: SessionDep, targets: list[Any]) -> list[tuple[Pillar | None, list[Any]]]:
    """Targets with their indicator and unit, grouped by pillar in pillar order."""
    groups: dict[str | None, list[Any]] = {}
    for target in targets:
        row = {"target": target, "indicator": session.get(Indicator, target.indicator_id),
               "unit": session.get(OrgUnit, target.unit_id)}
        groups.setdefault(target.pillar_code, []).append(row)
    return [(session.get(Pillar, code) if code else None, rows) for code, rows in groups.items()]


NAV = [NavItem("Plans", "/plans", order=65)]

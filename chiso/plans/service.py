"""Plans and targets: load from YAML or XLSX, create and update targets, export to XLSX.

The one way to change a plan or a target: every write takes a required `access` (a
person's, or `Access.system(session, "cli")` for the operator's command) and needs MANAGE
on every unit it touches — the plan's scope unit (old and new), each target's unit, and a
moved target's old unit — refuses to run before `chiso.boot.boot()`, and writes an audit
event that keeps the old and new values, so no earlier target value is ever lost.

A plan may implement several documents (`parents`: loaded plans or cited documents). A
target keeps every version of its value (`chiso.plans.revisions`): a plan file or an edit
sets or corrects the plan's own value; a revision with an effective date and a basis
document is a new version, and the file's value is compared with the plan's own value, so
reloading the plan never undoes a revision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, Actor
from chiso.audit.service import assign_fields, changed_fields, record_event
from chiso.boot import require_booted
from chiso.errors import NotFound
from chiso.indicators.models import Indicator, Pillar
from chiso.indicators.problems import InputRejected, Problem
from chiso.plans import chain, details, revisions
from chiso.plans.files import RawPlan, RawRow, read_plan_file, write_plan_xlsx
from chiso.plans.models import Plan, PlanParent, Target
from chiso.plans.rows import (
    PLAN_MODEL_FIELDS,
    TARGET_MODEL_FIELDS,
    PlanDraft,
    PlanValidator,
    TargetDraft,
    TargetRowValidator,
)
from chiso.text import format_date, nfc
from chiso.units.models import OrgUnit

VALUE_FIELDS = ("comparator", "value", "value_high")
EDITABLE_TARGET_FIELDS = frozenset({"indicator", "unit", "year", "target_date", "comparator",
                                    "value", "value_high", "baseline_value", "baseline_date",
                                    "trajectory", "milestones", "note"})


class PlanNotFound(NotFound):
    def __init__(self, code: object) -> None:
        super().__init__(f"Không có kế hoạch '{code}'", f"no plan '{code}'")


class TargetNotFound(NotFound):
    def __init__(self, target_id: object) -> None:
        super().__init__(f"Không có chỉ tiêu số {target_id}", f"no target {target_id}")


@dataclass
class PlanSummary:
    """What a load did (or, in a dry run, would do). Targets are labelled
    'indicator @ unit dd/mm/yyyy'; `kept` are in the database but not in the file."""

    file: str
    plan_code: str
    dry_run: bool
    plan_created: bool = False
    plan_changes: dict[str, Any] = field(default_factory=dict)
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    parents_changed: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.plan_created or self.plan_changes or self.inserted or self.updated
                    or self.parents_changed or self.revised)


# ------------------------------------------------------------------------------ loading


def load_plan(session: Session, path: str | Path, *, access: Access,
              dry_run: bool = False) -> PlanSummary:
    """Load a plan and its targets from YAML or XLSX (by extension), as `access` (MANAGE on
    the plan's scope unit and on every target's unit). All-or-nothing: raises InputRejected
    naming file, sheet, row, column and rule before writing anything. Idempotent; targets
    missing from the file are kept (listed in `kept`), never deleted."""
    require_booted()
    raw = read_plan_file(path)
    draft = PlanValidator(session, raw).run()
    _require_manage_plan(session, access, draft)
    summary = PlanSummary(file=raw.file, plan_code=draft.code, dry_run=dry_run)
    actor = access.actor
    plan = _apply_plan(session, draft, summary, actor)
    _apply_targets(session, plan, draft, summary, actor)
    if plan is not None and not dry_run:
        summary.parents_changed = chain.apply_parents(session, plan, draft.parents, actor,
                                                      note=summary.file)
        session.flush()
        summary.revised = chain.apply_revisions(session, plan, draft.revisions, access)
    if not dry_run:
        session.flush()
    return summary


def _require_manage_plan(session: Session, access: Access, draft: PlanDraft) -> None:
    """MANAGE on the scope unit the file gives, on the one the stored plan has (a file
    cannot take over another unit's plan), and on each target's unit."""
    stored = session.scalar(select(Plan.scope_unit_id).where(Plan.code == draft.code))
    scopes = sorted(u for u in {draft.scope_unit_id, stored} if u is not None)
    if not scopes:
        access.require(Action.MANAGE)  # a plan of no unit: system-wide
    for unit_id in scopes:
        access.require(Action.MANAGE, unit_id)
    for unit_id in sorted({t.unit_id for t in draft.targets}):
        access.require(Action.MANAGE, unit_id)


def _apply_plan(session: Session, draft: PlanDraft, summary: PlanSummary, actor: Actor | None
                ) -> Plan | None:
    plan = session.scalar(select(Plan).where(Plan.code == draft.code))
    if plan is None:
        summary.plan_created = True
        if summary.dry_run:
            return None
        plan = Plan(code=draft.code, **draft.fields())
        session.add(plan)
        session.flush()
        record_event(session, action="plan.create", object_type="plan", object_id=plan.id,
                     actor=actor, unit_id=plan.scope_unit_id,
                     after={"code": plan.code, **draft.fields()}, note=summary.file)
        return plan
    before, after = changed_fields(plan, draft.fields(), PLAN_MODEL_FIELDS)
    if after:
        summary.plan_changes = after
        if not summary.dry_run:
            assign_fields(plan, after)
            record_event(session, action="plan.update", object_type="plan", object_id=plan.id,
                         actor=actor, unit_id=plan.scope_unit_id, before=before, after=after,
                         note=summary.file)
    return plan


def _apply_targets(session: Session, plan: Plan | None, draft: PlanDraft,
                   summary: PlanSummary, actor: Actor | None) -> None:
    existing = _targets_by_key(session, plan.id) if plan is not None else {}
    for target_draft in draft.targets:
        label = _label(target_draft.indicator_code, target_draft.unit_code,
                       target_draft.target_date)
        current = existing.pop(target_draft.key(), None)
        if current is None:
            summary.inserted.append(label)
            if plan is not None and not summary.dry_run:
                _insert_target(session, plan, target_draft, actor, note=summary.file)
            continue
        before, after = changed_fields(_as_planned(session, current), target_draft.fields(),
                                       TARGET_MODEL_FIELDS)
        if not after:
            summary.unchanged.append(label)
            continue
        summary.updated.append(label)
        if not summary.dry_run:
            _update(session, current, before, after, actor, note=summary.file)
    summary.kept = [_target_label(session, t) for t in existing.values()]


def _as_planned(session: Session, target: Target) -> Any:
    """The target with the plan's own value (version 1 as corrected) when it has been
    revised since: a plan file states the plan's own value, never the revised one."""
    versions = revisions.versions_of(session, target.id)
    if not revisions.is_revised(versions):
        return target
    original = revisions.as_planned(versions)
    assert original is not None
    planned = {name: getattr(target, name) for name in TARGET_MODEL_FIELDS}
    planned.update(comparator=original.comparator, value=original.value,
                   value_high=original.value_high)
    return SimpleNamespace(**planned)


def _targets_by_key(session: Session, plan_id: int) -> dict[tuple[int, int, dt.date], Target]:
    targets = session.scalars(select(Target).where(Target.plan_id == plan_id))
    return {(t.indicator_id, t.unit_id, t.target_date): t for t in targets}


def _insert_target(session: Session, plan: Plan, draft: TargetDraft, actor: Actor | None,
                   note: str = "") -> Target:
    target = Target(plan_id=plan.id, **draft.fields())
    session.add(target)
    session.flush()
    revisions.record_original(session, target, plan, actor)
    record_event(session, action="target.create", object_type="target", object_id=target.id,
                 actor=actor, unit_id=target.unit_id,
                 after={"plan": plan.code, "indicator": draft.indicator_code,
                        "unit": draft.unit_code, **draft.fields()}, note=note)
    return target


def _update(session: Session, target: Target, before: dict[str, Any], after: dict[str, Any],
            actor: Actor | None, note: str = "", planned: bool = True) -> None:
    """Change a target; the audit event keeps the old values. A changed value is a
    correction, kept as a version of its own (`revisions.correct`), never an edit in place:
    with `planned` (a plan file, which states the plan's own value) it corrects the plan's
    value when the target was revised since; otherwise (an edit of the target as it stands)
    the version in force now. A change of how the target is judged (its date, baseline,
    path, pillar) is kept beside the row (`details`), so a report closed before it keeps
    what it said."""
    values = {name: after[name] for name in VALUE_FIELDS if name in after}
    # Before the row changes: a target made before versions were kept gets its version 1
    # from the value it holds now, which the correction then puts right.
    versions = revisions.ensure_original(session, target, actor) if values else []
    revised = planned and revisions.is_revised(versions)
    # Its date, baseline, path or pillar: kept as it was and as it is now (chiso.plans.details).
    judged_anew = details.changes_detail(after)
    if judged_anew:
        details.keep_before_change(session, target, actor)
    assign_fields(target, {k: v for k, v in after.items() if not (revised and k in values)})
    if judged_anew:
        details.record_change(session, target, actor)
    if values:
        corrected = (revisions.as_planned(versions) if revised
                     else revisions.governing(versions))
        assert corrected is not None
        fixed = {name: values.get(name, getattr(corrected, name)) for name in VALUE_FIELDS}
        revisions.correct(session, target, corrected, actor=actor,
                          note="" if note == "api" else note, **fixed)
    session.flush()
    record_event(session, action="target.update", object_type="target", object_id=target.id,
                 actor=actor, unit_id=target.unit_id, before=before, after=after, note=note)


def _label(indicator_code: str, unit_code: str, day: dt.date) -> str:
    return f"{indicator_code} @ {unit_code} {format_date(day)}"


def _target_label(session: Session, target: Target) -> str:
    indicator = session.get(Indicator, target.indicator_id)
    unit = session.get(OrgUnit, target.unit_id)
    return _label(indicator.code if indicator else "?", unit.code if unit else "?",
                  target.target_date)


# ------------------------------------------------------------------------------ editing


def create_target(session: Session, plan_code: str, values: dict[str, Any], *,
                  access: Access) -> Target:
    """Add one target to a plan, as `access` (MANAGE on the target's unit). `values` as in
    a plan file's target entry. Raises InputRejected (bilingual, naming the field) or
    PermissionDenied."""
    require_booted()
    plan = get_plan(session, plan_code)
    draft = _validate_one(session, plan, values)
    access.require(Action.MANAGE, draft.unit_id)
    _refuse_duplicate(session, plan, draft, exclude_id=None)
    return _insert_target(session, plan, draft, access.actor, note="api")


def update_target(session: Session, target_id: int, changes: dict[str, Any], *,
                  access: Access) -> Target:
    """Change fields of a target, as `access` (MANAGE on its unit, and on the new one when
    it moves); the audit event records every old and new value."""
    require_booted()
    target = session.get(Target, target_id) if _is_row_id(target_id) else None
    if target is None:
        raise TargetNotFound(target_id)
    access.require(Action.MANAGE, target.unit_id)
    plan = session.get(Plan, target.plan_id)
    assert plan is not None
    draft = _validate_one(session, plan, _merged_values(session, target, changes))
    if draft.unit_id != target.unit_id:
        access.require(Action.MANAGE, draft.unit_id)
    _refuse_duplicate(session, plan, draft, exclude_id=target.id)
    before, after = changed_fields(target, draft.fields(), TARGET_MODEL_FIELDS)
    if after:
        _update(session, target, before, after, access.actor, note="api", planned=False)
    return target


def _merged_values(session: Session, target: Target, changes: dict[str, Any]
                   ) -> dict[str, Any]:
    values = target_as_dict(session, target, for_input=True)
    if "year" in changes and "target_date" not in changes and (
            target.target_date == dt.date(target.year, 12, 31)):
        values.pop("target_date")  # the default date follows the new year
    values.update(changes)
    return values


def _validate_one(session: Session, plan: Plan, values: dict[str, Any]) -> TargetDraft:
    unknown = sorted(set(values) - EDITABLE_TARGET_FIELDS)
    if unknown:
        raise InputRejected([Problem("", "trường không được sửa qua API", "field cannot be set "
                                     "through the API", column=name) for name in unknown])
    raw = RawPlan(file="", spreadsheet=False, plan={}, plan_sheet="", plan_columns={},
                  plan_rows={}, target_sheet="", targets=[])
    validator = PlanValidator(session, raw)
    draft = TargetRowValidator(validator, _plan_draft(session, plan),
                               RawRow(values=dict(values), row=None)).run()
    if draft is None:
        raise InputRejected(validator.problems)
    return draft


def _plan_draft(session: Session, plan: Plan) -> PlanDraft:
    scope = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    return PlanDraft(code=plan.code, title=plan.title, document_kind=plan.document_kind,
                     issuer=plan.issuer, issued_on=plan.issued_on, year_from=plan.year_from,
                     year_to=plan.year_to, scope_unit_id=plan.scope_unit_id,
                     scope_unit_code=scope.code if scope else "", parent_id=plan.parent_id,
                     note=plan.note, default_target_date=None)


def _refuse_duplicate(session: Session, plan: Plan, draft: TargetDraft,
                      exclude_id: int | None) -> None:
    clash = session.scalar(select(Target.id).where(
        Target.plan_id == plan.id, Target.indicator_id == draft.indicator_id,
        Target.unit_id == draft.unit_id, Target.target_date == draft.target_date))
    if clash is not None and clash != exclude_id:
        raise InputRejected([Problem(
            "", f"kế hoạch đã có chỉ tiêu này (số {clash}) cho đơn vị và ngày đích này",
            f"the plan already has this target (id {clash}) for this unit and target date",
            column="indicator")])


# ------------------------------------------------------------------------------ reading


def get_plan(session: Session, code: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.code == nfc(code)))
    if plan is None:
        raise PlanNotFound(code)
    return plan


def get_plan_by_id(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id) if _is_row_id(plan_id) else None
    if plan is None:
        raise PlanNotFound(plan_id)
    return plan


def _is_row_id(value: int) -> bool:
    # PostgreSQL's INTEGER overflows past 2³¹−1: such an id cannot exist, it is not an error.
    return 0 < value <= 2_147_483_647


def list_plans(session: Session) -> list[tuple[Plan, int]]:
    """Plans, newest first, each with its number of targets."""
    counts = (select(Target.plan_id, func.count(Target.id).label("n"))
              .group_by(Target.plan_id).subquery())
    rows = session.execute(
        select(Plan, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.plan_id == Plan.id)
        .order_by(Plan.issued_on.desc(), Plan.code))
    return [(plan, int(count)) for plan, count in rows]


def plan_targets(session: Session, plan: Plan) -> list[Target]:
    """Targets in reading order: by pillar, then as the plan lists them."""
    query = (select(Target).outerjoin(Pillar, Pillar.code == Target.pillar_code)
             .where(Target.plan_id == plan.id)
             .order_by(Pillar.sort_order, Target.id))
    return list(session.scalars(query))


def plan_as_dict(session: Session, plan: Plan) -> dict[str, Any]:
    """A plan's public shape; `parent` names every document it implements ('57-NQ/TW;
    72-KH/BCĐ', as a plan file writes it), `parents` describes each."""
    scope = session.get(OrgUnit, plan.scope_unit_id) if plan.scope_unit_id else None
    parents = plan_parents(session, plan)
    return {"id": plan.id, "code": plan.code, "title": plan.title,
            "document_kind": plan.document_kind, "issuer": plan.issuer,
            "issued_on": plan.issued_on, "year_from": plan.year_from, "year_to": plan.year_to,
            "scope_unit": scope.code if scope else None,
            "parent": "; ".join(p["code"] for p in parents) or None, "parents": parents,
            "note": plan.note}


def plan_parents(session: Session, plan: Plan) -> list[dict[str, Any]]:
    """The documents the plan implements, in the file's order: code, title, date, note and
    `loaded` (the parent is a plan in chiso: its page can be opened)."""
    rows = session.scalars(select(PlanParent).where(PlanParent.plan_id == plan.id)
                           .order_by(PlanParent.position, PlanParent.id)).all()
    if not rows and plan.parent_id:  # a plan stored before parents were listed
        parent = session.get(Plan, plan.parent_id)
        return [{"code": parent.code, "title": parent.title, "issued_on": parent.issued_on,
                 "note": "", "loaded": True, "plan_id": parent.id}] if parent else []
    return [{"code": p.parent_code, "title": p.title or _loaded_title(session, p),
             "issued_on": p.issued_on, "note": p.note, "loaded": p.parent_plan_id is not None,
             "plan_id": p.parent_plan_id} for p in rows]


def _loaded_title(session: Session, parent: PlanParent) -> str:
    plan = session.get(Plan, parent.parent_plan_id) if parent.parent_plan_id else None
    return plan.title if plan else ""


def plan_children(session: Session, plan: Plan) -> list[Plan]:
    """Plans that implement this one (the next links of the chain)."""
    ids = select(PlanParent.plan_id).where(PlanParent.parent_plan_id == plan.id)
    return list(session.scalars(select(Plan).where(
        (Plan.id.in_(ids)) | (Plan.parent_id == plan.id)).order_by(Plan.issued_on, Plan.code)))


def target_as_dict(session: Session, target: Target, *, for_input: bool = False
                   ) -> dict[str, Any]:
    """A target's public shape; `for_input` gives only what a plan file or the API sets."""
    indicator = session.get(Indicator, target.indicator_id)
    unit = session.get(OrgUnit, target.unit_id)
    assert indicator is not None and unit is not None
    values = {"indicator": indicator.code, "unit": unit.code, "year": target.year,
              "target_date": target.target_date, "comparator": target.comparator,
              "value": target.value, "value_high": target.value_high,
              "baseline_value": target.baseline_value, "baseline_date": target.baseline_date,
              "trajectory": target.trajectory, "milestones": target.milestones,
              "note": target.note}
    if for_input:
        return values
    return {"id": target.id, **values, "pillar": target.pillar_code,
            "indicator_name_vi": indicator.name_vi, "indicator_name_en": indicator.name_en,
            "unit_vi": indicator.unit_vi, "unit_en": indicator.unit_en,
            "direction": indicator.direction, "decimals": indicator.decimals,
            "unit_name": unit.name}


# ------------------------------------------------------------------------------ export


def export_plan_xlsx(session: Session, code: str, path: str | Path) -> Path:
    """Write the plan as XLSX in the layout load_plan reads (loading it back changes nothing)."""
    plan = get_plan(session, code)
    header = plan_as_dict(session, plan)
    header.pop("id")
    header.pop("parents")
    rows = []
    for target in plan_targets(session, plan):
        data = target_as_dict(session, target)
        data["indicator_name"] = data["indicator_name_vi"]
        data["measure"] = data["unit_vi"]
        rows.append(data)
    return write_plan_xlsx(path, header, rows)

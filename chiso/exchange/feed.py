"""The feed for the systems above the province (docs/exchange.md): the unit's KPIs — each
target with its value in force, the actual, the expected value, the status — and its task
progress, as of a date, in one versioned shape written as JSON, CSV or XLSX
(`chiso.exchange.formats`).

Everything here is read through the owners' functions: statuses from `chiso.analytics`
(the target version in force at the as-of date), revisions from `chiso.plans.revisions`,
estimates from `chiso.values.estimates`, tasks from `chiso.tasks.history`, the committee's
name from `chiso.units.committee`. The feed changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.analytics.service import TargetStatus, target_statuses, unit_id_for
from chiso.db.base import utcnow
from chiso.plans.revisions import TargetInForce, targets_in_force
from chiso.settings import get_settings
from chiso.tasks.history import tasks_as_of
from chiso.tasks.service import TaskRow
from chiso.tasks.status import is_ahead, origin_label, status_label
from chiso.text import to_vn
from chiso.units.committee import NoCommitteeName, committee_names
from chiso.units.models import OrgUnit
from chiso.values.exporter import subtree_ids

FORMAT = "chiso-exchange"
VERSION = "1.0"
KPI_FIELDS = (
    "unit_code", "unit_name", "indicator_code", "indicator_name_vi", "indicator_name_en",
    "measure_vi", "measure_en", "pillar", "plan_code", "target_id", "year", "target_date",
    "comparator", "target_value", "target_value_high", "target_version",
    "target_revised_on", "target_basis", "actual", "actual_estimate", "actual_illustrative",
    "expected", "judged_at", "status", "status_vi", "status_en", "closed")
TASK_FIELDS = (
    "task_code", "title", "origin", "origin_vi", "assigned_doc_number", "assigned_doc_date",
    "lead_unit_code", "lead_unit_name", "start_date", "due_date", "completed_on",
    "progress_pct", "status", "status_vi", "ahead", "expected_product")


@dataclass
class Feed:
    generated_at: dt.datetime
    as_of: dt.date
    year: int
    unit: OrgUnit
    committee: dict[str, str] | None
    kpis: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"kpis": {"total": len(self.kpis),
                         "by_status": dict(Counter(k["status"] for k in self.kpis))},
                "tasks": {"total": len(self.tasks),
                          "by_status": dict(Counter(t["status"] for t in self.tasks)),
                          "by_origin": dict(Counter(t["origin"] for t in self.tasks))}}

    def header(self) -> dict[str, Any]:
        """The metadata every format carries (JSON's top level, XLSX's first sheet)."""
        return {"format": FORMAT, "version": VERSION,
                "generated_at": self.generated_at.isoformat(timespec="seconds"),
                "as_of": self.as_of.isoformat(), "year": self.year,
                "unit": {"code": self.unit.code, "name": self.unit.name,
                         "name_en": self.unit.name_en or ""},
                "committee": self.committee}


def build_feed(session: Session, *, unit_code: str, access: Access,
               as_of: dt.date | None = None, year: int | None = None) -> Feed:
    """The feed of `unit_code` (READ on it) for `year` (default: the as-of date's) as of
    `as_of` (default today): its targets' statuses, and the tasks led by it or by units
    under it, each in its state on that date."""
    day = as_of or get_settings().current_date()
    year = year or day.year
    unit = session.get(OrgUnit, unit_id_for(session, unit_code, day))
    assert unit is not None
    access.require(Action.READ, unit.id)
    feed = Feed(to_vn(utcnow()), day, year, unit, _committee(session, day))
    statuses = target_statuses(session, unit_code=unit_code, year=year, as_of=day)
    in_force = {t.target_id: t for t in targets_in_force(session, on=day, unit_ids=[unit.id],
                                                         year=year)}
    feed.kpis = [_nulls(_kpi(unit, s, in_force.get(s.target_id))) for s in statuses]
    below = subtree_ids(session, unit_code)
    rows = tasks_as_of(session, day=day, known_at=utcnow(), lead_unit_ids=below)
    feed.tasks = [_nulls(_task(session, row)) for row in rows]
    return feed


def _nulls(row: dict[str, Any]) -> dict[str, Any]:
    """Empty text is a missing value: null in JSON, empty in CSV and XLSX alike."""
    return {key: None if value == "" else value for key, value in row.items()}


def _committee(session: Session, day: dt.date) -> dict[str, str] | None:
    try:
        names = committee_names(session, on=day)
    except NoCommitteeName:
        return None
    return {"name_vi": names.committee_vi, "name_en": names.committee_en,
            "agency_vi": names.agency_vi, "agency_en": names.agency_en}


def _kpi(unit: OrgUnit, s: TargetStatus, force: TargetInForce | None) -> dict[str, Any]:
    return {
        "unit_code": unit.code, "unit_name": unit.name, "indicator_code": s.indicator_code,
        "indicator_name_vi": s.indicator_name_vi, "indicator_name_en": s.indicator_name_en,
        "measure_vi": s.unit_vi, "measure_en": s.unit_en, "pillar": s.pillar_code,
        "plan_code": s.plan_code, "target_id": s.target_id, "year": s.year,
        "target_date": s.target_date, "comparator": s.comparator,
        "target_value": s.target_value, "target_value_high": s.value_high,
        "target_version": force.version if force else 1,
        "target_revised_on": force.effective_from if force else None,
        "target_basis": force.basis_code if force else s.plan_code,
        # ước: an estimate is among the very figures behind the actual (the status's own
        # flag, so the feed, the page and the report cannot disagree).
        "actual": s.actual, "actual_estimate": s.actual is not None and s.estimate,
        "actual_illustrative": s.illustrative, "expected": s.expected,
        "judged_at": s.year_to_date or s.as_of, "status": str(s.status),
        "status_vi": s.status.label("vi"), "status_en": s.status.label("en"),
        "closed": s.closed}


def _task(session: Session, row: TaskRow) -> dict[str, Any]:
    t = row.task
    lead = session.scalar(select(OrgUnit.code).where(OrgUnit.id == t.lead_unit_id))
    return {
        "task_code": t.code, "title": t.title, "origin": t.origin,
        "origin_vi": origin_label(t.origin), "assigned_doc_number": t.assigned_doc_number,
        "assigned_doc_date": t.assigned_doc_date, "lead_unit_code": lead or "",
        "lead_unit_name": row.lead_unit_name, "start_date": t.start_date,
        "due_date": t.due_date, "completed_on": t.completed_on,
        "progress_pct": t.progress_pct, "status": str(row.status),
        "status_vi": status_label(row.status), "ahead": is_ahead(t),
        "expected_product": t.expected_product}

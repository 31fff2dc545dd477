"""What the funding pages, the API and the reports show, composed from approved figures.

Nothing here writes. Amounts stay in đồng until a template or a report formats them.
Statuses come from the status engine: for a unit whose plan has the funding targets, the
very `TargetStatus` the overview shows (`chiso.analytics.service.target_statuses`); for a
unit or programme without them, the engine on the default path (`chiso.funding.paths`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.analytics.service import target_statuses
from chiso.analytics.status import Status, YearEndResult
from chiso.funding import compute, paths
from chiso.funding.frames import figures_frame, scope_years
from chiso.funding.models import BudgetLine, Figure, Programme
from chiso.funding.service import pending_figures, programme_links
from chiso.funding.vocab import (
    AREAS,
    SOURCES,
    SPEND_TYPES,
    STATE_BUDGET_SOURCES,
    FigureStatus,
    LineKind,
    Source,
    Stage,
    term_label,
)
from chiso.indicators.models import Indicator
from chiso.plans.models import Plan, Target
from chiso.settings import get_settings
from chiso.tasks.models import Task
from chiso.units.models import OrgUnit
from chiso.units.service import descendant_ids
from chiso.units.tree import ancestor_ids

STAGE_COLUMNS = ["proposed", "estimate", "allocated", "plan", "disbursed", "settled"]


@dataclass
class Judgement(paths.StatusWords):
    """A figure against its target: the engine's status, in the reader's words."""

    actual: float | None
    target: float
    expected: float | None
    status: Status
    year_end: YearEndResult | None
    as_of: dt.date
    plan_code: str = ""


@dataclass
class FundingView:
    unit: OrgUnit
    province: OrgUnit
    year: int
    years: list[int]
    as_of: dt.date
    totals: dict[str, float]
    social: float
    share: Judgement | None
    total_spending: float | None
    disbursement: Judgement | None
    last_period: str | None
    monthly: list[dict[str, Any]]
    by_source: list[dict[str, Any]]
    by_type: list[dict[str, Any]]
    by_area: list[dict[str, Any]]
    by_unit: list[dict[str, Any]]
    programmes: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    pending: int
    illustrative: bool

    @property
    def is_province(self) -> bool:
        return self.unit.id == self.province.id

    @property
    def empty(self) -> bool:
        return not self.lines


def province_of(session: Session, unit_id: int) -> OrgUnit:
    chain = ancestor_ids(session, unit_id)
    province = session.get(OrgUnit, chain[-1])
    assert province is not None
    return province


def unit_ids_below(session: Session, unit: OrgUnit, day: dt.date) -> list[int]:
    return [unit.id, *descendant_ids(session, unit.id, on=day)]


def as_of_for(year: int, today: dt.date | None = None) -> dt.date:
    today = today or get_settings().current_date()
    return min(today, dt.date(year, 12, 31))


def unit_view(session: Session, *, unit: OrgUnit, year: int, locale: str = "vi"
              ) -> FundingView:
    """The funding page of a province, department or commune for a year."""
    province = province_of(session, unit.id)
    today = get_settings().current_date()
    as_of = as_of_for(year, today)
    figures = figures_frame(session, scope_unit_id=province.id, years=(year, year))
    if unit.id != province.id:
        figures = figures.filter(pl.col("unit_id").is_in(unit_ids_below(session, unit, today)))
    lines = compute.line_table(figures)
    budget = lines.filter(pl.col("kind") == LineKind.LINE)
    statuses = _overview_statuses(session, unit, year, as_of)
    monthly = _monthly(figures, session, unit.id, year, today)
    return FundingView(
        unit=unit, province=province, year=year, years=_years(session, province.id, year),
        as_of=as_of, totals=_totals(budget), social=_stage_sum(budget.filter(
            pl.col("source") == Source.SOCIAL), "estimate"),
        share=_share(session, lines, unit, province, year, statuses, today),
        total_spending=_total_spending(lines),
        disbursement=_disbursement(session, monthly, unit, year, statuses, today),
        last_period=monthly[-1]["period"] if monthly else None, monthly=monthly,
        by_source=_grouped(budget, "source", SOURCES, locale),
        by_type=_grouped(budget, "spend_type", SPEND_TYPES, locale),
        by_area=_grouped(budget, "area", AREAS, locale),
        by_unit=_by_unit(session, _state(budget), year, today),
        programmes=_programmes(session, budget, locale),
        lines=_line_rows(session, budget, locale),
        pending=_pending(session, province.id, year, budget["unit_id"].unique().to_list()
                         if unit.id != province.id else None),
        illustrative=bool(lines["illustrative"].any()) if lines.height else False,
    )


def _years(session: Session, province_id: int, year: int) -> list[int]:
    return sorted(set(scope_years(session, province_id)) | {year})


def _stage_sum(lines: pl.DataFrame, stage: str) -> float:
    return float(lines[stage].sum() or 0) if lines.height else 0.0


def _state(budget: pl.DataFrame) -> pl.DataFrame:
    return budget.filter(pl.col("source").is_in([s.value for s in STATE_BUDGET_SOURCES]))


def _totals(budget: pl.DataFrame) -> dict[str, float]:
    """Stage totals of the state budget (xã hội hóa is shown apart)."""
    state = _state(budget)
    return {stage: _stage_sum(state, stage) for stage in STAGE_COLUMNS}


def _total_spending(lines: pl.DataFrame) -> float | None:
    total = lines.filter((pl.col("kind") == LineKind.TOTAL) & pl.col("estimate").is_not_null())
    return float(total["estimate"].sum()) if total.height else None


def _overview_statuses(session: Session, unit: OrgUnit, year: int, as_of: dt.date
                       ) -> dict[str, Any]:
    """The overview's own evaluation of the unit's funding targets, when it has any."""
    has_targets = session.scalar(select(func.count()).select_from(Target).join(
        Plan, Plan.id == Target.plan_id).where(Target.unit_id == unit.id, Target.year == year,
                                               Target.pillar_code == "KP"))
    if not has_targets:
        return {}
    return {s.indicator_code: s for s in target_statuses(
        session, unit_code=unit.code, year=year, as_of=as_of) if s.pillar_code == "KP"}


def _judged(status: Any) -> Judgement:
    return Judgement(status.actual, status.target_value, status.expected,
                     Status(status.status),
                     YearEndResult(status.year_end) if status.year_end else None,
                     status.as_of or status.target_date, status.plan_code)


def _share(session: Session, lines: pl.DataFrame, unit: OrgUnit, province: OrgUnit, year: int,
           statuses: dict[str, Any], today: dt.date) -> Judgement | None:
    if unit.id != province.id:
        return None
    if compute.SHARE in statuses:
        return _judged(statuses[compute.SHARE])
    total = _total_spending(lines)
    budget = lines.filter((pl.col("kind") == LineKind.LINE) & pl.col("source").is_in(
        [s.value for s in STATE_BUDGET_SOURCES]))
    if not total:
        return None
    value = _stage_sum(budget, "estimate") / total * 100
    path = paths.share_path(session, unit_id=unit.id, year=year)
    judged = paths.statuses(path, [(as_of_for(year, today), value)], today)[0]
    return Judgement(value, path.target, judged.expected, judged.status, judged.year_end,
                     judged.as_of, path.plan_code)


def _monthly(figures: pl.DataFrame, session: Session, unit_id: int, year: int,
             today: dt.date) -> list[dict[str, Any]]:
    """Cumulative disbursement and plan month by month, with the path's expected rate."""
    rolled = compute.disbursement_rollup(compute.state_budget_figures(figures), [])
    if rolled.is_empty():
        return []
    expected = dict(paths.expected_by_month(paths.disbursement_path(
        session, unit_id=unit_id, year=year)))
    return [{**row, "expected_rate": expected.get(row["period"])}
            for row in rolled.to_dicts()]


def _disbursement(session: Session, monthly: list[dict[str, Any]], unit: OrgUnit, year: int,
                  statuses: dict[str, Any], today: dt.date) -> Judgement | None:
    if compute.DISBURSEMENT in statuses:
        return _judged(statuses[compute.DISBURSEMENT])
    if not monthly:
        return None
    path = paths.disbursement_path(session, unit_id=unit.id, year=year)
    return _path_judgement(path, monthly[-1]["rate"], year, today)


def _path_judgement(path: paths.TargetPath, rate: float | None, year: int, today: dt.date
                    ) -> Judgement:
    judged = paths.statuses(path, [(as_of_for(year, today), rate)], today)[0]
    return Judgement(rate, path.target, judged.expected, judged.status, judged.year_end,
                     judged.as_of, path.plan_code)


def _grouped(budget: pl.DataFrame, column: str, terms: dict[str, Any], locale: str
             ) -> list[dict[str, Any]]:
    if budget.is_empty():
        return []
    rows = compute.by_group(budget, [column]).to_dicts()
    order = list(terms)
    rows.sort(key=lambda r: order.index(r[column]) if r[column] in order else 99)
    return [{**r, "code": r[column], "label": term_label(terms, r[column], locale)}
            for r in rows]


def _by_unit(session: Session, budget: pl.DataFrame, year: int, today: dt.date
             ) -> list[dict[str, Any]]:
    """Each owner unit: plan, disbursed, rate and its status on its path (worst first)."""
    if budget.is_empty():
        return []
    rows = compute.by_group(budget, ["unit_id"]).to_dicts()
    names = _unit_names(session, [r["unit_id"] for r in rows])
    out = []
    for row in rows:
        path = paths.disbursement_path(session, unit_id=row["unit_id"], year=year)
        judged = _path_judgement(path, row["rate"], year, today) if row["plan"] else None
        out.append({**row, **names[row["unit_id"]], "judgement": judged})
    order = [Status.OFF_TRACK, Status.AT_RISK, Status.NO_DATA, Status.ON_TRACK,
             Status.ACHIEVED]
    out.sort(key=lambda r: (order.index(r["judgement"].status) if r["judgement"] else 2,
                            -(r["plan"] or 0)))
    return out


def _unit_names(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids))).all()
    return {u.id: {"unit_code": u.code, "unit_name": u.name, "unit_name_en": u.name_en or u.name,
                   "unit_short": u.short_name or u.name} for u in units}


def _programmes(session: Session, budget: pl.DataFrame, locale: str) -> list[dict[str, Any]]:
    with_programme = budget.filter(pl.col("programme_id").is_not_null())
    if with_programme.is_empty():
        return []
    rows = compute.by_group(with_programme, ["programme_id"]).to_dicts()
    programmes = {p.id: p for p in session.scalars(select(Programme).where(
        Programme.id.in_([r["programme_id"] for r in rows])))}
    return sorted(({**r, "programme": programmes[r["programme_id"]]} for r in rows),
                  key=lambda r: -(r["plan"] or 0))


def _line_rows(session: Session, budget: pl.DataFrame, locale: str) -> list[dict[str, Any]]:
    if budget.is_empty():
        return []
    names = _unit_names(session, budget["unit_id"].unique().to_list())
    rows = budget.with_columns(compute._rate("disbursed", "plan")).sort(
        "unit_id", "source", "spend_type", "area", "name").to_dicts()
    return [{**r, **names[r["unit_id"]],
             "source_label": term_label(SOURCES, r["source"], locale),
             "type_label": term_label(SPEND_TYPES, r["spend_type"], locale),
             "area_label": term_label(AREAS, r["area"], locale)} for r in rows]


def _pending(session: Session, province_id: int, year: int, unit_ids: list[int] | None
             ) -> int:
    query = select(func.count()).select_from(Figure).join(
        BudgetLine, BudgetLine.id == Figure.line_id).where(
        BudgetLine.scope_unit_id == province_id, BudgetLine.year == year,
        Figure.status == FigureStatus.SUBMITTED, Figure.deleted.is_(False))
    if unit_ids is not None:
        query = query.where(BudgetLine.unit_id.in_(unit_ids))
    return int(session.scalar(query) or 0)


# ------------------------------------------------------------------ a programme


@dataclass
class ProgrammeView:
    programme: Programme
    owner: OrgUnit
    province: OrgUnit
    plan: Plan | None
    targets: list[dict[str, Any]]
    tasks: list[Task]
    year: int
    years: list[int]
    roadmap: list[dict[str, Any]]
    totals: dict[str, float]
    monthly: list[dict[str, Any]]
    disbursement: Judgement | None
    lines: list[dict[str, Any]]
    illustrative: bool
    children: list[Programme] = field(default_factory=list)


def programme_view(session: Session, *, programme: Programme, year: int | None,
                   locale: str = "vi") -> ProgrammeView:
    """A programme or project: its decision and links, its money year by year (the
    roadmap of its period), and one year's disbursement month by month."""
    today = get_settings().current_date()
    children = list(session.scalars(select(Programme).where(
        Programme.parent_id == programme.id).order_by(Programme.code)))
    ids = [programme.id, *[c.id for c in children]]
    everything = figures_frame(session, scope_unit_id=programme.scope_unit_id,
                               programme_ids=ids)
    years = sorted(set(range(programme.year_from, programme.year_to + 1))
                   | set(everything["year"].unique().to_list()))
    chosen = year or min(max(today.year, programme.year_from), programme.year_to)
    figures = everything.filter(pl.col("year") == chosen)
    lines = compute.line_table(figures)
    monthly = _monthly(figures, session, programme.owner_unit_id, chosen, today)
    target_ids, task_ids = programme_links(session, programme.id)
    owner = session.get(OrgUnit, programme.owner_unit_id)
    province = session.get(OrgUnit, programme.scope_unit_id)
    assert owner is not None and province is not None
    return ProgrammeView(
        programme=programme, owner=owner, province=province,
        plan=session.get(Plan, programme.plan_id) if programme.plan_id else None,
        targets=_targets(session, target_ids),
        tasks=list(session.scalars(select(Task).where(Task.id.in_(task_ids))
                                   .order_by(Task.due_date))) if task_ids else [],
        year=chosen, years=years, roadmap=_roadmap_rows(everything, years),
        totals=_totals(lines), monthly=monthly,
        disbursement=_path_judgement(paths.disbursement_path(
            session, unit_id=programme.owner_unit_id, year=chosen),
            monthly[-1]["rate"], chosen, today) if monthly else None,
        lines=_line_rows(session, lines, locale),
        illustrative=programme.illustrative or bool(everything["illustrative"].any()),
        children=children)


def _targets(session: Session, target_ids: list[int]) -> list[dict[str, Any]]:
    if not target_ids:
        return []
    rows = session.execute(select(Target, Indicator).join(
        Indicator, Indicator.id == Target.indicator_id).where(Target.id.in_(target_ids))
        .order_by(Target.year, Indicator.code))
    return [{"target": t, "indicator": i} for t, i in rows]


def _roadmap_rows(figures: pl.DataFrame, years: list[int]) -> list[dict[str, Any]]:
    """Each year of the programme: its stage totals (đồng; None where no figure exists)."""
    lines = compute.line_table(figures) if figures.height else None
    rows = []
    for year in years:
        chosen = lines.filter(pl.col("year") == year) if lines is not None else None
        rows.append({"year": year, **{s: _stage_or_none(chosen, s) for s in STAGE_COLUMNS}})
    return rows


def _stage_or_none(lines: pl.DataFrame | None, stage: str) -> float | None:
    if lines is None or not lines.height or lines[stage].is_null().all():
        return None
    return float(lines[stage].sum())


# ------------------------------------------------------------------ pending approvals


def pending_rows(session: Session, *, province: OrgUnit, year: int | None,
                 unit_ids: list[int] | None, locale: str = "vi") -> list[dict[str, Any]]:
    """Figures awaiting approval with the amount last approved (if any), grouped by line."""
    rows = pending_figures(session, scope_unit_id=province.id, year=year, unit_ids=unit_ids)
    names = _unit_names(session, sorted({line.unit_id for _f, line in rows}))
    return [{"figure": f, "line": line, **names.get(line.unit_id, {}),
             "source_label": term_label(SOURCES, line.source, locale),
             "type_label": term_label(SPEND_TYPES, line.spend_type, locale),
             "area_label": term_label(AREAS, line.area, locale),
             "is_total": line.kind == LineKind.TOTAL} for f, line in rows]


STAGE_ORDER = [s.value for s in Stage]

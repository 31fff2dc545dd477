"""The demo's money (all figures invented, stored and labelled as illustrative): Lạng Sơn's
2021–2025 project "Đầu tư hạ tầng trang thiết bị công nghệ thông tin, các phần mềm nền tảng,
số hóa cơ sở dữ liệu phục vụ chương trình chuyển đổi số trên địa bàn tỉnh giai đoạn
2021–2025", the 2025 and 2026 science-innovation-DX budgets with monthly disbursement up to
today, proposals for 2027–2028, and an illustrative plan with the funding targets.

Built only through chiso's own services (plans, funding), figures approved by the system,
indicator values stored with source "demo". Deterministic for a given `today`; running it
again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.db.base import utcnow
from chiso.funding import service
from chiso.funding.indicators import indicator_rows, load_funding_catalog, refresh_indicators
from chiso.funding.models import Programme
from chiso.funding.paths import default_path, expected_by_month
from chiso.funding.service import FigureInput, LineSpec, ProgrammeInput
from chiso.funding.vocab import LineKind, ProgrammeKind, Stage
from chiso.indicators.models import Indicator
from chiso.periods import parse_period
from chiso.plans.models import Plan, Target
from chiso.plans.service import load_plan
from chiso.tasks.models import Task
from chiso.text import name_key
from chiso.text.clock import vn_zone
from chiso.units.service import get_unit
from chiso.values.service import upsert_values

DATA = Path(__file__).parent / "data"
DEMO_SOURCE = "demo"
BILLION = 1_000_000_000
MILLION = 1_000_000


@dataclass
class FundingDemo:
    programme_id: int = 0
    figures: int = 0
    approved: int = 0
    values: int = 0
    years: list[int] = field(default_factory=list)


def build(session: Session, *, today: dt.date, access: Access) -> FundingDemo:
    """Create (or leave as it is) the demo's funding data; returns what it stored."""
    story = yaml.safe_load((DATA / "demo.yaml").read_text(encoding="utf-8"))
    load_funding_catalog(session)
    load_plan(session, DATA / "demo-plan.yaml", access=access)
    province = get_unit(session, "20")
    result = FundingDemo()
    programme = _project(session, story["project"], story.get("links", {}), province.id,
                         access)
    result.programme_id = programme.id
    figures = _project_figures(session, story["project"], programme, province.id, today)
    figures += _budget(session, story, province.id, today)
    # Each figure is captured when a finance department would have known it and approved
    # two days later, so a report of a past quarter reads what was known then.
    for moment, group in sorted(_by_moment(figures, today).items()):
        plan = service.save_figures(session, group, access=access, source=DEMO_SOURCE,
                                    at=moment)
        result.figures += len(plan.changes)
        approval = service.approve_figures(session, access=access, scope_unit_id=province.id,
                                           refresh=False, at=moment + APPROVAL_DELAY)
        result.approved += approval.approved
    result.years = sorted({f.line.year for f in figures if f.line.year <= today.year})
    for year in result.years:
        if year == today.year:
            result.values += _this_year(session, province.id, year, access)
            continue
        # A closed year's values as the province would have had them in January.
        recorded = dt.datetime(year + 1, 1, 10, 2, tzinfo=dt.UTC)
        summary = refresh_indicators(session, scope_unit_id=province.id, year=year,
                                     access=access, source=DEMO_SOURCE, recorded_at=recorded)
        result.values += summary.inserted + summary.updated
    return result


def _this_year(session: Session, province_id: int, year: int, access: Access) -> int:
    """The current year's values dated when the province knew them — the year's budget
    figures on 10 January, a month's disbursement when that month's figure was approved —
    so a report of a past quarter of this year reads them (written as known now, a Q3
    report said "chưa có số liệu")."""
    rows = indicator_rows(session, scope_unit_id=province_id, year=year)
    stored = 0
    for (period,), group in rows.group_by("period"):
        summary = upsert_values(session, group, source=DEMO_SOURCE, access=access,
                                recorded_at=_known_at(str(period)))
        stored += summary.inserted + summary.updated
    return stored


def _known_at(period: str) -> dt.datetime:
    if len(period) == 4:  # the year: its budget estimate, decided in December
        day = dt.date(int(period), 1, 10)
    else:  # a month's disbursement, approved two days after the 5th of the next month
        day = parse_period(period).end() + dt.timedelta(days=5) + APPROVAL_DELAY
    moment = dt.datetime.combine(day, dt.time(9), tzinfo=vn_zone()).astimezone(dt.UTC)
    return min(moment, utcnow())


APPROVAL_DELAY = dt.timedelta(days=2)


def known_on(figure: FigureInput) -> dt.date:
    """When a finance department knows a figure: proposals in July of the year before, the
    budget estimate when the People's Council decides it (20 December), the allocation in
    January, a month's disbursement on the 5th of the next month."""
    year = figure.line.year
    if figure.stage == Stage.PROPOSED:
        return dt.date(year - 1, 7, 20)
    if figure.stage == Stage.ESTIMATE:
        return dt.date(year - 1, 12, 20)
    if figure.stage == Stage.DISBURSED:
        month = int(figure.period[4:])
        return dt.date(year + month // 12, month % 12 + 1, 5)
    return dt.date(year, 1, 15)


def _by_moment(figures: list[FigureInput], today: dt.date
               ) -> dict[dt.datetime, list[FigureInput]]:
    """Figures grouped by the instant they were known (9:00 Vietnam time that day), leaving
    out those not known yet on `today`; never later than the real clock."""
    groups: dict[dt.datetime, list[FigureInput]] = {}
    for figure in figures:
        day = known_on(figure)
        if day > today:
            continue
        moment = min(dt.datetime.combine(day, dt.time(9), tzinfo=vn_zone()).astimezone(dt.UTC),
                     utcnow() - APPROVAL_DELAY)
        groups.setdefault(moment, []).append(figure)
    return groups


def _project(session: Session, data: dict[str, Any], links: dict[str, list[str]],
             province_id: int, access: Access) -> Programme:
    owner = get_unit(session, data["owner_unit"])
    plan = session.scalar(select(Plan).where(Plan.code == data["plan"]))
    return service.save_programme(session, ProgrammeInput(
        code=data["code"], kind=ProgrammeKind(data["kind"]), name=data["name"],
        name_en=data["name_en"], owner_unit_id=owner.id, scope_unit_id=province_id,
        year_from=data["year_from"], year_to=data["year_to"],
        total_investment=data["total_investment"] * BILLION,
        plan_id=plan.id if plan else None, note=data["note"], illustrative=True,
        target_ids=_linked_targets(session, plan, links.get("targets", [])),
        task_ids=_linked_tasks(session, links.get("tasks", [])),
    ), access=access)


def _linked_targets(session: Session, plan: Plan | None, codes: list[str]) -> list[int]:
    """The plan's targets of these indicators (none when the plan is not loaded)."""
    if plan is None:
        return []
    return list(session.scalars(select(Target.id).join(
        Indicator, Indicator.id == Target.indicator_id).where(
        Target.plan_id == plan.id, Indicator.code.in_(codes)).order_by(Target.id)))


def _linked_tasks(session: Session, phrases: list[str]) -> list[int]:
    """The demo's tasks whose titles contain these words (none when there are no tasks)."""
    words = [name_key(w) for w in phrases]
    tasks = session.execute(select(Task.id, Task.title).where(Task.deleted.is_(False))).all()
    return sorted(task_id for task_id, title in tasks
                  if any(w in name_key(title) for w in words))


def _project_figures(session: Session, data: dict[str, Any], programme: Programme,
                     province_id: int, today: dt.date) -> list[FigureInput]:
    figures = []
    for year, entry in sorted(data["years"].items()):
        if dt.date(year, 1, 1) > today:
            continue
        owner = get_unit(session, entry["owner"], dt.date(year, 12, 31))
        line = LineSpec(scope_unit_id=province_id, unit_id=owner.id, year=year,
                        name=f"{data['line_name']} năm {year}", source="local",
                        spend_type="investment", area="dx", programme_id=programme.id,
                        illustrative=True)
        estimate = entry["estimate"] * BILLION
        figures.append(FigureInput(line, Stage.ESTIMATE, str(year), estimate))
        figures.append(FigureInput(line, Stage.ALLOCATED, str(year), estimate))
        figures += _finished_year(line, estimate, entry["disbursed_share"] / 100, today)
    return figures


def _finished_year(line: LineSpec, plan: int, final_share: float, today: dt.date
                   ) -> list[FigureInput]:
    """A closed (or running) year disbursed slowly at first, most in the last quarter."""
    figures = []
    for month in range(1, 13):
        if dt.date(line.year, month, 1) > today:
            break
        share = final_share * (month / 12) ** 1.6
        figures.append(FigureInput(line, Stage.DISBURSED, f"{line.year}{month:02d}",
                                   _millions(plan * share)))
    return figures


def _millions(amount: float) -> int:
    """Budget tables are kept to the million đồng."""
    return round(amount / MILLION) * MILLION


def _budget(session: Session, story: dict[str, Any], province_id: int, today: dt.date
            ) -> list[FigureInput]:
    figures: list[FigureInput] = []
    for year, total in story["total_spending"].items():
        line = LineSpec(scope_unit_id=province_id, unit_id=province_id, year=year,
                        name="Tổng chi ngân sách địa phương", kind=LineKind.TOTAL,
                        illustrative=True)
        figures.append(FigureInput(line, Stage.ESTIMATE, str(year), total * BILLION))
    for entry in story["budget_2025"]:
        line = _line(session, entry, province_id, 2025)
        estimate = entry["estimate"] * BILLION
        figures += [FigureInput(line, Stage.ESTIMATE, "2025", estimate),
                    FigureInput(line, Stage.ALLOCATED, "2025", estimate),
                    *_finished_year(line, estimate, entry["disbursed_share"] / 100, today)]
    for entry in story["budget_2026"]:
        figures += _year_2026(_line(session, entry, province_id, 2026), entry, today)
    for year, entries in story["proposals"].items():
        for entry in entries:
            figures.append(FigureInput(_line(session, entry, province_id, year),
                                       Stage.PROPOSED, str(year), entry["proposed"] * BILLION))
    return figures


def _line(session: Session, entry: dict[str, Any], province_id: int, year: int) -> LineSpec:
    unit = get_unit(session, entry["unit"], dt.date(year, 12, 31))
    return LineSpec(scope_unit_id=province_id, unit_id=unit.id, year=year, name=entry["name"],
                    source=entry["source"], spend_type=entry["type"], area=entry["area"],
                    illustrative=True)


def _year_2026(line: LineSpec, entry: dict[str, Any], today: dt.date) -> list[FigureInput]:
    """The stages, then disbursement month by month up to today at the line's own pace
    against the default path (pace 1 = on the path)."""
    figures = [FigureInput(line, Stage(stage), "2026", entry[stage] * BILLION)
               for stage in ("proposed", "estimate", "allocated") if stage in entry]
    expected = dict(expected_by_month(default_path(2026)))
    plan = entry["allocated"] * BILLION
    for month in range(1, 13):
        if dt.date(2026, month, 1) > today:
            break
        share = min(1.0, expected[f"2026{month:02d}"] / 100 * entry["pace"])
        figures.append(FigureInput(line, Stage.DISBURSED, f"2026{month:02d}",
                                   _millions(plan * share)))
    return figures

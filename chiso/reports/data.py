"""Everything a committee report says, gathered from the store as plain data.

The DOCX, the XLSX annex and the web page are all written from one `ReportData`, so they
cannot disagree. Everything is read as it was known at the report's cut-off
(chiso/reports/cutoff.py): targets from `target_statuses(as_of=E, known_at=K)`, values and
their comments, submissions, tasks and meetings as recorded by K. Nothing reads today.
The sentences of sections III–IV and the warnings are written in chiso/reports/sentences.py.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.analytics.service import TargetStatus, indicator_series, target_statuses
from chiso.analytics.status import Status, vocabulary
from chiso.funding.service import report_section, roadmap_table
from chiso.indicators.models import Indicator, IndicatorKind, Pillar
from chiso.meetings.models import Meeting
from chiso.periods import parse_period
from chiso.plans.models import Plan, TargetVersion
from chiso.plans.revisions import TargetRevision, target_revisions
from chiso.reports.asof import (
    KnownValue,
    ReportingGap,
    illustrative,
    reporting_gaps,
    units_without_figures,
    values_known_at,
)
from chiso.reports.cutoff import Cutoff, cutoff_for
from chiso.reports.errors import ReportError
from chiso.reports.texts import current_texts
from chiso.tasks.common import find_unit
from chiso.tasks.counts import OriginCount, count_by_origin
from chiso.tasks.followup import UnitScore
from chiso.tasks.history import tasks_as_of
from chiso.tasks.models import StoredState, TaskStatus
from chiso.tasks.monthly import MonthSummary, due_date, month_standing, summarise
from chiso.tasks.service import TaskRow
from chiso.text import format_date, format_measure, format_number, parse_date
from chiso.units.models import OrgUnit
from chiso.units.service import UnitNotFound, get_unit

KIND_PERIOD_TYPE = {"quarterly": "Q", "half_year": "S", "annual": "Y"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
ROMAN_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
SOURCE_WORDS = {  # DataValue.source → how the report names it
    "demo": "số liệu minh họa (không phải số liệu chính thức)",
    "records": "hệ thống thông tin giải quyết thủ tục hành chính (một cửa điện tử)",
    "dhis2": "hệ thống DHIS2",
}
REPORTED = "báo cáo của các cơ quan, đơn vị"


@dataclass
class PillarSection:
    code: str
    name_vi: str
    name_en: str
    statuses: list[TargetStatus]


@dataclass(frozen=True)
class PlanRef:
    """A plan the targets come from, as its số hiệu names it."""

    code: str
    issued_on: dt.date | None
    issuer: str

    def citation(self) -> str:
        """'Kế hoạch số 72-KH/BCĐ ngày 23/05/2023 của Ban Chỉ đạo …'"""
        text = f"Kế hoạch số {self.code}"
        if self.issued_on:
            text += f" ngày {format_date(self.issued_on)}"
        return text + (f" của {self.issuer}" if self.issuer else "")


@dataclass(frozen=True)
class FocusConclusion:
    held_on: dt.date
    text: str


@dataclass
class ReportData:
    unit: OrgUnit
    kind: str
    period: str
    period_title: str  # "quý III năm 2025"
    cutoff: Cutoff
    issue_date: dt.date | None  # None: the date line is left for the clerk to fill in
    texts: dict[str, str]
    pillars: list[PillarSection]
    plans: list[PlanRef]
    values: list[KnownValue]
    reporting: list[ReportingGap]
    silent_units: list[str]  # sub-units without figures where no reporting cycle applies
    anomalies: list[str]
    tasks: list[TaskRow]
    scores: list[UnitScore]
    conclusions: list[FocusConclusion]
    indicator_names: dict[int, str]
    unit_names: dict[int, str]
    series: dict[str, list[tuple[dt.date, float]]] = field(default_factory=dict)
    limitations: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Tasks counted as the centre counts them, for the year to the judged day.
    origin_counts: list[OriginCount] = field(default_factory=list)
    month_reports: list[MonthSummary] = field(default_factory=list)
    task_lines: list[str] = field(default_factory=list)  # section II's sentences
    # Targets revised in the year up to the judged day (chiso.plans.revisions), as known
    # at the cut-off: the report says when, and judges on the version then in force.
    revisions: list[TargetRevision] = field(default_factory=list)
    # Money (chiso.funding): the budget section, and for an annual report the roadmap.
    budget: dict[str, Any] | None = None
    roadmap: dict[str, Any] | None = None

    @property
    def period_start(self) -> dt.date:
        return self.cutoff.period_start

    @property
    def period_end(self) -> dt.date:
        return self.cutoff.period_end

    @property
    def as_of(self) -> dt.date:
        """The day targets and tasks are judged on."""
        return self.cutoff.judged_on

    @property
    def statuses(self) -> list[TargetStatus]:
        return [s for p in self.pillars for s in p.statuses]

    @property
    def illustrative(self) -> bool:
        """Any figure the demo invented is behind the report."""
        return (illustrative(self.values) or any(s.illustrative for s in self.statuses)
                or any(bool(part and part.get("illustrative"))
                       for part in (self.budget, self.roadmap)))

    @property
    def stamp_date(self) -> dt.date:
        """The document's own date (core properties): the issue date, else the closing date."""
        return self.issue_date or self.cutoff.closing_date

    def status_counts(self) -> dict[Status, int]:
        """Counts in the vocabulary of the moment (year-end words once the year is over)."""
        counts = dict.fromkeys(vocabulary(s.closed for s in self.statuses), 0)
        for s in self.statuses:
            counts[Status(s.status)] = counts.get(Status(s.status), 0) + 1
        return counts

    @property
    def sections(self) -> list[str]:
        """The report's sections in order; the budget one only when there is a budget."""
        return ["results", *(["budget"] if self.budget else []), "tasks", "limitations",
                "focus", "proposals"]

    def numeral(self, section: str) -> str:
        """'III' for the third section."""
        return ROMAN_NUMERALS[self.sections.index(section)]

    def tasks_with(self, *statuses: TaskStatus) -> list[TaskRow]:
        return [r for r in self.tasks if r.status in statuses]

    def overdue_days(self, row: TaskRow) -> int:
        """Days past the due date on the day the report judges (never today)."""
        return (self.as_of - row.task.due_date).days


def period_title(kind: str, period: str) -> str:
    p = parse_period(period)
    if kind == "quarterly":
        return f"quý {ROMAN[p.index]} năm {p.year}"
    if kind == "half_year":
        return f"6 tháng {'đầu' if p.index == 1 else 'cuối'} năm {p.year}"
    return f"năm {p.year}"


def period_label(period: str) -> str:
    """'202508' → 'tháng 08/2025', '2025Q3' → 'quý III/2025', as a report writes them."""
    p = parse_period(period)
    kind = p.type.value
    if kind == "M":
        return f"tháng {p.index:02d}/{p.year}"
    if kind == "Q":
        return f"quý {ROMAN[p.index]}/{p.year}"
    if kind == "S":
        return f"6 tháng {'đầu' if p.index == 1 else 'cuối'} năm {p.year}"
    return f"năm {p.year}"


def check_period(kind: str, period: str) -> str:
    """The period's id if it is of the report's kind (any spelling: 'Quý III/2025')."""
    if kind not in KIND_PERIOD_TYPE:
        raise ReportError(f"Loại báo cáo '{kind}' không có", f"unknown report kind '{kind}'")
    parsed = parse_period(period)
    wanted = KIND_PERIOD_TYPE[kind]
    if parsed.type.value != wanted:
        example = parse_period({"Q": "2025Q3", "S": "2025S1", "Y": "2025"}[wanted])
        raise ReportError(f"Báo cáo '{kind}' cần kỳ dạng {example.label('vi')}, nhận '{period}'",
                          f"a {kind} report needs a period like {example.label('en')}, "
                          f"got '{period}'")
    return parsed.id


def descendant_ids(session: Session, unit_id: int) -> list[int]:
    """The unit and every unit ever below it (former communes too: past periods)."""
    found, frontier = [unit_id], [unit_id]
    while frontier:
        frontier = list(session.scalars(select(OrgUnit.id).where(
            OrgUnit.parent_id.in_(frontier), OrgUnit.id.not_in(found))))
        found += frontier
    return found


def closing_date_of(texts: dict[str, str], override: dt.date | None) -> dt.date | None:
    if override is not None:
        return override
    text = texts.get("closing_date", "").strip()
    return parse_date(text) if text else None


def gather(session: Session, *, unit_code: str, kind: str, period: str, today: dt.date,
           closing_date: dt.date | None = None) -> ReportData:
    """Everything the report shows, as known at its cut-off (its sentences are added by
    chiso.reports.sentences.compose)."""
    period = check_period(kind, period)
    parsed = parse_period(period)
    unit = _unit_of_period(session, unit_code, min(parsed.end(), today))
    texts = current_texts(session, unit, period)
    cutoff = cutoff_for(parsed.start(), parsed.end(), closing_date_of(texts, closing_date),
                        today)
    units = descendant_ids(session, unit.id)
    statuses = target_statuses(session, unit_code=unit.code, year=parsed.year,
                               as_of=cutoff.judged_on, known_at=cutoff.known_at)
    values = values_known_at(session, units, dt.date(parsed.year, 1, 1), cutoff.judged_on,
                             cutoff)
    period_values = [v for v in values if v.period_start >= cutoff.period_start]
    all_tasks = tasks_as_of(session, day=cutoff.judged_on, known_at=cutoff.known_at,
                            lead_unit_ids=units)
    tasks = _tasks_in_scope(all_tasks, cutoff)
    data = ReportData(
        unit=unit, kind=kind, period=period, period_title=period_title(kind, period),
        cutoff=cutoff, issue_date=_issue_date(texts), texts=texts,
        pillars=_pillar_sections(session, statuses), plans=_plans(session, statuses),
        values=values, reporting=reporting_gaps(session, units, cutoff),
        silent_units=[], anomalies=anomalies(session, period_values),
        tasks=tasks, scores=scorecard_for(tasks),
        conclusions=_conclusions(session, unit, cutoff),
        indicator_names=_indicator_names(session),
        unit_names=dict(session.execute(select(OrgUnit.id, OrgUnit.name)
                                        .where(OrgUnit.id.in_(units))).all()))
    if not data.reporting:
        data.silent_units = units_without_figures(session, unit, period_values, cutoff)
    data.series = monthly_series(session, unit.code, statuses, cutoff)
    data.origin_counts = count_by_origin(all_tasks, year=parsed.year)
    data.month_reports = _month_reports(session, units, cutoff)
    data.revisions = _revisions(session, unit, parsed.year, cutoff)
    data.budget = _budget(session, unit, cutoff)
    if kind == "annual":
        data.roadmap = _roadmap(session, unit, parsed.year, cutoff)
    return data


def _issue_date(texts: dict[str, str]) -> dt.date | None:
    text = texts.get("issue_date", "").strip()
    return parse_date(text) if text else None


def _unit_of_period(session: Session, code: str, day: dt.date) -> OrgUnit:
    """The unit that held the code on the period's last day (a code re-used after a merger
    named another unit then: the report is that unit's, as its statuses are), else the
    code's unit of today."""
    try:
        return get_unit(session, code, on=day)
    except UnitNotFound:
        return find_unit(session, code)


def monthly_series(session: Session, unit_code: str, statuses: list[TargetStatus],
                   cutoff: Cutoff) -> dict[str, list[tuple[dt.date, float]]]:
    """Each indicator's monthly values from January to the judged day (trend charts)."""
    series: dict[str, list[tuple[dt.date, float]]] = {}
    year = cutoff.judged_on.year
    for status in statuses:
        if status.actual is None or status.indicator_code in series:
            continue
        frame = indicator_series(session, unit_code=unit_code,
                                 indicator_code=status.indicator_code, year_from=year,
                                 year_to=year, period_type="M", known_at=cutoff.known_at,
                                 on=cutoff.judged_on)
        points = [(row["period_end"], float(row["value"])) for row in frame.iter_rows(named=True)
                  if row["value"] is not None and row["period_end"] <= cutoff.judged_on]
        if len(points) >= 2:
            series[status.indicator_code] = points
    return series


def _pillar_sections(session: Session, statuses: list[TargetStatus]) -> list[PillarSection]:
    by_pillar: dict[str, list[TargetStatus]] = defaultdict(list)
    for status in statuses:
        by_pillar[status.pillar_code or ""].append(status)
    pillars = {p.code: p for p in session.scalars(select(Pillar))}
    order = sorted(by_pillar, key=lambda c: (pillars[c].sort_order if c in pillars else 99, c))
    return [PillarSection(code, pillars[code].name_vi if code in pillars else "Chỉ tiêu khác",
                          pillars[code].name_en if code in pillars else "Other indicators",
                          sorted(by_pillar[code], key=lambda s: s.indicator_code))
            for code in order]


def _plans(session: Session, statuses: list[TargetStatus]) -> list[PlanRef]:
    codes = sorted({s.plan_code for s in statuses if s.plan_code})
    plans = {p.code: p for p in session.scalars(select(Plan).where(Plan.code.in_(codes)))}
    return [PlanRef(c, plans[c].issued_on, plans[c].issuer) if c in plans
            else PlanRef(c, None, "") for c in codes]


def _indicator_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Indicator.id, Indicator.name_vi)).all())


# ------------------------------------------------------------------ tasks and meetings

def _tasks_in_scope(rows: list[TaskRow], cutoff: Cutoff) -> list[TaskRow]:
    """Of the tasks led by the unit or a unit below it as they stood at the period end
    (known at the cut-off): those not cancelled and not finished before the period began."""
    return [r for r in rows if r.status != TaskStatus.CANCELLED
            and not (r.task.state == StoredState.DONE and r.task.completed_on is not None
                     and r.task.completed_on < cutoff.period_start)]


def _month_reports(session: Session, units: list[int], cutoff: Cutoff) -> list[MonthSummary]:
    """The monthly task reports of the period's months due by the closing date, as known
    at the cut-off (a month whose report is not yet due is not judged)."""
    found = []
    day = cutoff.period_start
    while day <= cutoff.period_end:
        month = parse_period(f"{day:%Y%m}")
        if due_date(month) <= cutoff.closing_date:
            summary = summarise(month_standing(session, period=month.id, unit_ids=units,
                                               known_at=cutoff.known_at))
            if summary is not None:
                found.append(summary)
        day = month.end() + dt.timedelta(days=1)
    return found


def _revisions(session: Session, unit: OrgUnit, year: int, cutoff: Cutoff
               ) -> list[TargetRevision]:
    """The unit's targets of the year revised with effect by the judged day, as recorded
    by the cut-off (a revision recorded later does not exist for the report)."""
    found = target_revisions(session, first_day=dt.date(year, 1, 1),
                             last_day=cutoff.judged_on, unit_ids=[unit.id], year=year)
    if not found:
        return []
    known = {(t, v) for t, v, at in session.execute(select(
        TargetVersion.target_id, TargetVersion.version, TargetVersion.recorded_at).where(
        TargetVersion.target_id.in_({r.target_id for r in found})))
        if cutoff.known_by(at)}
    return [r for r in found if (r.target_id, r.version) in known]


def _budget(session: Session, unit: OrgUnit, cutoff: Cutoff) -> dict[str, Any] | None:
    """The budget section (chiso.funding) as approved by the cut-off; None when the unit
    has no budget line for the year (a report does not print an empty section)."""
    section = report_section(session, unit_code=unit.code, period_start=cutoff.period_start,
                             period_end=cutoff.period_end, known_at=cutoff.known_at)
    return None if section.get("empty") else section


ROADMAP_YEARS = 3  # the report's year and the two after it


def _roadmap(session: Session, unit: OrgUnit, year: int, cutoff: Cutoff
             ) -> dict[str, Any] | None:
    """Lộ trình kinh phí for the annual report's appendix: the year and the next two, as
    approved or proposed by the cut-off; None when there is nothing to show."""
    table = roadmap_table(session, unit_code=unit.code, year_from=year,
                          year_to=year + ROADMAP_YEARS - 1, known_at=cutoff.known_at)
    return table if table["rows"] else None


def scorecard_for(rows: list[TaskRow]) -> list[UnitScore]:
    scores: dict[int, UnitScore] = {}
    for row in rows:
        score = scores.setdefault(row.task.lead_unit_id,
                                  UnitScore(row.task.lead_unit_id, row.lead_unit_name))
        score.total += 1
        score.ownerless += row.ownerless
        if row.status == TaskStatus.DONE:
            score.done_on_time += 1
        elif row.status == TaskStatus.DONE_LATE:
            score.done_late += 1
        elif row.status == TaskStatus.OVERDUE:
            score.overdue += 1
        else:
            score.open += 1
    return sorted(scores.values(), key=lambda s: (-s.overdue, -s.done_late, s.unit_name))


def _conclusions(session: Session, unit: OrgUnit, cutoff: Cutoff) -> list[FocusConclusion]:
    """Conclusions of the committee's meetings held in the period (by the closing date),
    as recorded by the cut-off: what the committee itself set for the time ahead."""
    meetings = session.scalars(select(Meeting).where(
        Meeting.unit_id == unit.id, Meeting.deleted.is_(False),
        Meeting.held_on >= cutoff.period_start, Meeting.held_on <= cutoff.closing_date)
        .order_by(Meeting.held_on, Meeting.id))
    return [FocusConclusion(m.held_on, c.text) for m in meetings
            if cutoff.known_by(m.created_at) for c in m.conclusions
            if cutoff.known_by(c.created_at)]


# ------------------------------------------------------------------ figures that cannot be right

def anomalies(session: Session, values: list[KnownValue]) -> list[str]:
    """Figures that cannot be right: a share whose part exceeds its whole, a part with a
    zero whole, a negative figure. A unit that sent a rate without its parts (which the
    reporting form allows) is not one of them."""
    kinds = {i: (k, scale) for i, k, scale in session.execute(
        select(Indicator.id, Indicator.kind, Indicator.scale))}
    units = dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.id.in_({v.unit_id for v in values}))).all())
    names = _indicator_names(session)
    found = []
    for v in sorted(values, key=lambda v: (units.get(v.unit_id, ""), v.indicator_id, v.period)):
        kind, scale = kinds.get(v.indicator_id, ("", 1.0))
        rule = _anomaly(kind, scale, v)
        if rule:
            found.append(f"{units.get(v.unit_id, '')} — {names.get(v.indicator_id, '')}, "
                         f"{period_label(v.period)}: {rule}")
    return found


def _anomaly(kind: str, scale: float, v: KnownValue) -> str:
    if v.value is not None and v.value < 0:
        return f"giá trị âm ({format_number(v.value)})"
    if kind != IndicatorKind.RATIO or v.numerator is None or v.denominator is None:
        return ""
    if v.denominator == 0 and v.numerator > 0:
        return f"tử số {format_number(v.numerator, 0)} trên mẫu số bằng 0"
    if scale == 100 and v.numerator > v.denominator:
        return (f"tử số ({format_number(v.numerator, 0)}) lớn hơn mẫu số "
                f"({format_number(v.denominator, 0)})")
    return ""


# ------------------------------------------------------------------ values for people

def fmt_value(value: float | None, status: Any, decimals: int | None = None) -> str:
    if value is None:
        return "–"
    decimals = getattr(status, "decimals", 1) if decimals is None else decimals
    return format_measure(value, decimals, getattr(status, "unit_vi", ""))


def shown_decimals(status: Any) -> int:
    """As many decimals as it takes for the actual not to look like its target when it is
    not: 2,04% against ≤ 2,00% — never "2,0%, mục tiêu ≤ 2,0%: không đạt"."""
    actual, target = status.actual, status.target_value
    decimals = getattr(status, "decimals", 1)
    if actual is not None and target is not None and actual != target:
        while decimals < 4 and round(actual, decimals) == round(target, decimals):
            decimals += 1
    return int(decimals)


def fmt_actual(status: Any) -> str:
    return fmt_value(status.actual, status, shown_decimals(status))


def reached(status: Any) -> float | None:
    """How far the actual is toward the target, as a share of it (inverted when lower is
    better): 0,74 for 37,1 % against 50 %."""
    target, actual = status.target_value, status.actual
    if actual is None or not target:
        return None
    if str(getattr(status, "direction", "higher")) == "lower":
        return target / actual if actual else None
    return actual / target


def target_text(status: Any) -> str:
    """'≥ 80,0%', '≤ 2,0%': the target with its comparator."""
    comparator = {">=": "≥ ", "<=": "≤ ", "=": ""}.get(str(status.comparator), "")
    return comparator + fmt_value(status.target_value, status, shown_decimals(status))


def sources_of(data: ReportData, indicator_id: int) -> str:
    """Where an indicator's figures in the report come from, in words."""
    found = sorted({v.source for v in data.values if v.indicator_id == indicator_id})
    words = sorted({SOURCE_WORDS.get(s, REPORTED) for s in found})
    return "; ".join(words)

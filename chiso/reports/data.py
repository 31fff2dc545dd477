"""Everything a committee report says, gathered from the store as plain data.

The DOCX, the XLSX annex and the web preview are all written from one `ReportData`, so
they cannot disagree. Sentences of section II are generated here from the figures.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator, IndicatorKind, Pillar
from chiso.periods import parse_period
from chiso.reports.texts import current_texts
from chiso.tasks.followup import UnitScore
from chiso.tasks.models import TaskStatus
from chiso.tasks.service import TaskFilter, TaskRow, list_tasks
from chiso.text import format_date, format_number, format_percent, parse_date
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue

KIND_PERIOD_TYPE = {"quarterly": "Q", "half_year": "S", "annual": "Y"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


class ReportError(ValueError):
    """A report that cannot be made as asked, with a bilingual message."""


@dataclass
class PillarSection:
    code: str
    name_vi: str
    name_en: str
    statuses: list[Any]  # chiso.analytics TargetStatus


@dataclass
class ReportData:
    unit: OrgUnit
    kind: str
    period: str
    period_title: str  # "quý III năm 2025"
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    issue_date: dt.date
    texts: dict[str, str]
    pillars: list[PillarSection]
    status_counts: dict[str, int]
    plan_codes: list[str]
    limitations: list[str]
    late_units: list[str]
    quality_problems: list[str]
    tasks: list[TaskRow]
    scores: list[UnitScore]
    series: dict[str, list[tuple[dt.date, float]]] = field(default_factory=dict)

    def tasks_with(self, *statuses: TaskStatus) -> list[TaskRow]:
        return [r for r in self.tasks if r.status in statuses]


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


def check_period(kind: str, period: str) -> None:
    try:
        parsed = parse_period(period)
    except ValueError as exc:
        raise ReportError(f"Kỳ '{period}' không hợp lệ / invalid period '{period}'") from exc
    wanted = KIND_PERIOD_TYPE[kind]
    if parsed.type.value != wanted:
        example = {"Q": "2025Q3", "S": "2025S1", "Y": "2025"}[wanted]
        raise ReportError(f"Báo cáo '{kind}' cần kỳ dạng {example}, nhận '{period}' / "
                          f"a {kind} report needs a period like {example}, got '{period}'")


def find_unit(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code)
                          .order_by(OrgUnit.valid_to.is_not(None), OrgUnit.valid_from.desc()))
    if unit is None:
        raise ReportError(f"Không có đơn vị mã '{code}' / no unit with code '{code}'")
    return unit


def descendant_ids(session: Session, unit_id: int) -> list[int]:
    found, frontier = [unit_id], [unit_id]
    while frontier:
        frontier = list(session.scalars(select(OrgUnit.id).where(
            OrgUnit.parent_id.in_(frontier), OrgUnit.id.not_in(found))))
        found += frontier
    return found


def gather(session: Session, *, unit_code: str, kind: str, period: str,
           today: dt.date) -> ReportData:
    from chiso.analytics.service import target_statuses

    check_period(kind, period)
    unit = find_unit(session, unit_code)
    parsed = parse_period(period)
    texts = current_texts(session, unit, period)
    issue_date = parse_date(texts["issue_date"]) if texts["issue_date"].strip() else today
    as_of = min(parsed.end(), issue_date)
    statuses = target_statuses(session, unit_code=unit.code, year=parsed.year, as_of=as_of)
    pillars = _pillar_sections(session, statuses)
    tasks = _tasks_in_scope(session, unit, issue_date, parsed.end())
    late_units = units_late_in_reporting(session, unit, parsed.start(), parsed.end())
    quality = quality_problems(session, unit, parsed.start(), parsed.end())
    data = ReportData(
        unit=unit, kind=kind, period=period, period_title=period_title(kind, period),
        period_start=parsed.start(), period_end=parsed.end(), as_of=as_of,
        issue_date=issue_date, texts=texts, pillars=pillars,
        status_counts=_count_statuses(statuses), plan_codes=sorted({s.plan_code for s in statuses}),
        limitations=[], late_units=late_units, quality_problems=quality, tasks=tasks,
        scores=scorecard_for(tasks))
    data.limitations = limitation_sentences(data)
    data.series = monthly_series(session, unit.code, statuses, as_of)
    return data


def monthly_series(session: Session, unit_code: str, statuses: list[Any], as_of: dt.date
                   ) -> dict[str, list[tuple[dt.date, float]]]:
    """Each indicator's monthly values from January to the as-of date (for trend charts)."""
    from chiso.analytics.service import indicator_series

    series: dict[str, list[tuple[dt.date, float]]] = {}
    for status in statuses:
        if status.actual is None or status.indicator_code in series:
            continue
        frame = indicator_series(session, unit_code=unit_code,
                                 indicator_code=status.indicator_code, year_from=as_of.year,
                                 year_to=as_of.year, period_type="M")
        points = [(row["period_end"], float(row["value"])) for row in frame.iter_rows(named=True)
                  if row["value"] is not None and row["period_end"] <= as_of]
        if len(points) >= 2:
            series[status.indicator_code] = points
    return series


def _pillar_sections(session: Session, statuses: list[Any]) -> list[PillarSection]:
    by_pillar: dict[str, list[Any]] = defaultdict(list)
    for status in statuses:
        by_pillar[status.pillar_code or ""].append(status)
    pillars = {p.code: p for p in session.scalars(select(Pillar))}
    order = sorted(by_pillar, key=lambda c: (pillars[c].sort_order if c in pillars else 99, c))
    return [PillarSection(code, pillars[code].name_vi if code in pillars else "Chỉ tiêu khác",
                          pillars[code].name_en if code in pillars else "Other indicators",
                          sorted(by_pillar[code], key=lambda s: s.indicator_code))
            for code in order]


STATUS_ORDER = ("achieved", "on_track", "at_risk", "off_track", "no_data")


def _count_statuses(statuses: list[Any]) -> dict[str, int]:
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for status in statuses:
        counts[str(status.status)] = counts.get(str(status.status), 0) + 1
    return counts


def _tasks_in_scope(session: Session, unit: OrgUnit, day: dt.date, period_end: dt.date
                    ) -> list[TaskRow]:
    """Tasks led by the unit or any unit below it, started by the end of the period."""
    units = set(descendant_ids(session, unit.id))
    rows = list_tasks(session, TaskFilter(include_partner=False), day)
    return [r for r in rows if r.task.lead_unit_id in units
            and (r.task.start_date is None or r.task.start_date <= max(period_end, day))
            and r.status != TaskStatus.CANCELLED]


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


# ------------------------------------------------------------------ reporting and quality

def units_late_in_reporting(session: Session, unit: OrgUnit, start: dt.date, end: dt.date
                            ) -> list[str]:
    """Direct sub-units with no figure at all in the period while units of the same kind
    have some (departments that report nothing are not compared with communes)."""
    children = list(session.scalars(select(OrgUnit).where(
        OrgUnit.parent_id == unit.id, OrgUnit.valid_from <= end,
        (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= end)).order_by(OrgUnit.name)))
    if not children:
        return []
    reporting = set(session.scalars(select(DataValue.unit_id).where(
        DataValue.unit_id.in_([c.id for c in children]), DataValue.deleted.is_(False),
        DataValue.period_start >= start, DataValue.period_end <= end).distinct()))
    if not reporting:
        return []  # nobody reports at this level: not a lateness signal
    kinds = {c.kind for c in children if c.id in reporting}
    return [c.name for c in children if c.id not in reporting and c.kind in kinds]


def quality_problems(session: Session, unit: OrgUnit, start: dt.date, end: dt.date
                     ) -> list[str]:
    """Figures that cannot be right: parts above the whole, zero or missing denominators."""
    units = descendant_ids(session, unit.id)
    rows = session.execute(
        select(OrgUnit.name, Indicator.name_vi, DataValue.period, DataValue.numerator,
               DataValue.denominator, DataValue.value, Indicator.kind, Indicator.scale)
        .join(Indicator, Indicator.id == DataValue.indicator_id)
        .join(OrgUnit, OrgUnit.id == DataValue.unit_id)
        .where(and_(DataValue.unit_id.in_(units), DataValue.deleted.is_(False),
                    DataValue.period_start >= start, DataValue.period_end <= end))
        .order_by(OrgUnit.name, Indicator.code, DataValue.period))
    problems = []
    for name, indicator, period, num, den, value, kind, scale in rows:
        rule = _quality_rule(kind, scale, num, den, value)
        if rule:
            problems.append(f"{name} — {indicator}, {period_label(period)}: {rule}")
    return problems


def _quality_rule(kind: str, scale: float, num: float | None, den: float | None,
                  value: float | None) -> str:
    if value is not None and value < 0:
        return f"giá trị âm ({format_number(value)})"
    if kind != IndicatorKind.RATIO:
        return ""
    if num is None or den is None:
        return "thiếu tử số hoặc mẫu số"
    if den == 0:
        return "mẫu số bằng 0"
    if scale == 100 and num > den:
        return (f"tử số ({format_number(num, 0)}) lớn hơn mẫu số "
                f"({format_number(den, 0)})")
    return ""


# ------------------------------------------------------------------ section II sentences

def fmt_value(value: float | None, status: Any) -> str:
    if value is None:
        return "–"
    decimals = getattr(status, "decimals", 1)
    if (getattr(status, "unit_vi", "") or "").strip() == "%":
        return format_percent(value, decimals)
    unit = (getattr(status, "unit_vi", "") or "").strip()
    return f"{format_number(value, decimals)}{' ' + unit if unit else ''}"


def limitation_sentences(data: ReportData) -> list[str]:
    all_statuses = [s for p in data.pillars for s in p.statuses]
    sentences = _target_sentences(all_statuses, data)
    if data.late_units:
        sentences.append(
            f"Có {len(data.late_units)} đơn vị chưa cập nhật số liệu kỳ {data.period_title}: "
            f"{_join(data.late_units)}.")
    if data.quality_problems:
        sentences.append(
            f"Phát hiện {len(data.quality_problems)} số liệu bất thường cần rà soát, "
            f"chuẩn hóa: {_join(data.quality_problems[:5])}"
            f"{' và các số liệu khác (xem Phụ lục)' if len(data.quality_problems) > 5 else ''}.")
    overdue = data.tasks_with(TaskStatus.OVERDUE)
    if overdue:
        worst = [s for s in data.scores if s.overdue]
        sentences.append(
            f"Còn {len(overdue)} nhiệm vụ quá hạn chưa hoàn thành; nhiều nhất tại "
            f"{_join([f'{s.unit_name} ({s.overdue} nhiệm vụ)' for s in worst[:3]])}.")
    if not sentences:
        sentences.append("Không có chỉ tiêu chậm tiến độ hoặc nhiệm vụ quá hạn trong kỳ.")
    return sentences


def _target_sentences(statuses: list[Any], data: ReportData) -> list[str]:
    out = []
    off = [s for s in statuses if str(s.status) == "off_track"]
    risk = [s for s in statuses if str(s.status) == "at_risk"]
    none = [s for s in statuses if str(s.status) == "no_data"]
    if off:
        out.append(f"Có {len(off)} chỉ tiêu chậm tiến độ so với lộ trình đến "
                   f"{format_date(data.as_of)}: " + "; ".join(
                       f"{s.indicator_name_vi} mới đạt {fmt_value(s.actual, s)}, "
                       f"mục tiêu {fmt_value(s.target_value, s)}" for s in off) + ".")
    if risk:
        out.append(f"Có {len(risk)} chỉ tiêu có nguy cơ không đạt mục tiêu năm {data.as_of.year}: "
                   + "; ".join(s.indicator_name_vi for s in risk) + ".")
    if none:
        out.append(f"Có {len(none)} chỉ tiêu chưa có số liệu để đánh giá: "
                   + "; ".join(s.indicator_name_vi for s in none) + ".")
    bottleneck = _largest_gap(off + risk)
    if bottleneck is not None:
        s = bottleneck
        out.append(f"Điểm nghẽn lớn nhất là chỉ tiêu “{s.indicator_name_vi}”: thực hiện "
                   f"{fmt_value(s.actual, s)} so với {fmt_value(s.expected, s)} theo lộ trình "
                   f"(mục tiêu {fmt_value(s.target_value, s)}).")
    return out


def _largest_gap(statuses: list[Any]) -> Any | None:
    candidates = [s for s in statuses if s.progress_ratio is not None]
    return min(candidates, key=lambda s: (s.progress_ratio, s.indicator_code), default=None)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " và " + items[-1]

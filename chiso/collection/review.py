"""What an approver looks at before approving or returning a report (issue 14 item 2).

For each figure of the report: the figure with its comment, the same unit's figure for the
previous period and for the same period last year, chiso's own figure computed from the
one-stop dossiers (values of source `records`, monthly, summed over the period's months)
where there is one, the validation and outlier problems the scorecard finds, and the
evidence files. Read-only; READ on the unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.collection import quality, service
from chiso.collection.models import DataSet, Evidence, Submission, SubmissionEvent
from chiso.indicators.models import Indicator
from chiso.periods import Period, parse_period
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue

RECORDS_SOURCE = "records"  # chiso.records.service.SOURCE: figures computed from dossiers


@dataclass
class ReviewRow:
    indicator: Indicator
    value: DataValue | None
    previous: float | None
    last_year: float | None
    computed: float | None
    problems: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """Relative change from the previous period (0.25 = +25 %)."""
        current = self.value.value if self.value else None
        if current is None or not self.previous:
            return None
        return (current - self.previous) / abs(self.previous)


@dataclass
class Review:
    submission: Submission
    data_set: DataSet
    unit: OrgUnit
    period: Period
    rows: list[ReviewRow]
    history: list[SubmissionEvent]
    late_days: int

    @property
    def problem_count(self) -> int:
        return sum(len(r.problems) for r in self.rows)


def review(session: Session, submission: Submission, *, access: Access) -> Review:
    access.require(Action.READ, submission.unit_id)
    data_set = session.get(DataSet, submission.data_set_id)
    unit = session.get(OrgUnit, submission.unit_id)
    assert data_set is not None and unit is not None
    period = parse_period(submission.period)
    indicators = service.indicators_of(session, data_set)
    ids = [i.id for i in indicators]
    current = _stored(session, unit.id, ids, period.id)
    previous = _figures(session, unit.id, ids, period.previous().id)
    last_year = _figures(session, unit.id, ids, Period(period.year - 1, period.type,
                                                       period.index).id)
    computed = _computed(session, unit.id, indicators, period)
    problems = _problems(session, data_set, submission)
    files = _evidence(session, unit.id, period.id)
    rows = [ReviewRow(i, current.get(i.id), previous.get(i.id), last_year.get(i.id),
                      computed.get(i.id), problems.get(i.id, []), files.get(i.id, []))
            for i in indicators]
    return Review(submission, data_set, unit, period, rows,
                  service.history(session, submission), late_days(submission))


def late_days(submission: Submission) -> int:
    """Days between the due date and the first sending (0: on time or not sent)."""
    if submission.first_submitted_at is None:
        return 0
    return max(0, (service.vn_date(submission.first_submitted_at)
                   - submission.due_date).days)


def _stored(session: Session, unit_id: int, indicator_ids: list[int], period: str
            ) -> dict[int, DataValue]:
    return {v.indicator_id: v for v in session.scalars(select(DataValue).where(
        DataValue.unit_id == unit_id, DataValue.period == period,
        DataValue.indicator_id.in_(indicator_ids or [-1]), DataValue.deleted.is_(False)))}


def _figures(session: Session, unit_id: int, indicator_ids: list[int], period: str
             ) -> dict[int, float | None]:
    return {k: v.value for k, v in _stored(session, unit_id, indicator_ids, period).items()}


def _computed(session: Session, unit_id: int, indicators: list[Indicator], period: Period
              ) -> dict[int, float | None]:
    """chiso's own figure from the dossiers: monthly records values over the period's
    months; a ratio as the ratio of the summed parts."""
    months = [m.id for m in period.months()]
    rows = session.execute(select(DataValue.indicator_id, DataValue.numerator,
                                  DataValue.denominator, DataValue.value).where(
        DataValue.unit_id == unit_id, DataValue.period.in_(months),
        DataValue.source == RECORDS_SOURCE, DataValue.deleted.is_(False),
        DataValue.indicator_id.in_([i.id for i in indicators] or [-1]))).all()
    sums: dict[int, list[float]] = {}
    for indicator_id, numerator, denominator, value in rows:
        total = sums.setdefault(indicator_id, [0.0, 0.0, 0.0])
        total[0] += numerator or 0.0
        total[1] += denominator or 0.0
        total[2] += value or 0.0
    out: dict[int, float | None] = {}
    for indicator in indicators:
        if indicator.id not in sums:
            continue
        numerator, denominator, value = sums[indicator.id]
        if indicator.kind == "ratio":
            out[indicator.id] = numerator / denominator * (indicator.scale or 1.0) \
                if denominator else None
        else:
            out[indicator.id] = value
    return out


def _problems(session: Session, data_set: DataSet, submission: Submission
              ) -> dict[int, list[dict[str, Any]]]:
    card = quality.scorecard(session, data_set, submission.period,
                             unit_ids={submission.unit_id})
    by_value = {v.id: v.indicator_id for v in session.scalars(select(DataValue).where(
        DataValue.unit_id == submission.unit_id, DataValue.period == submission.period))}
    found: dict[int, list[dict[str, Any]]] = {}
    for score in card.units:
        for problem in score.problems:
            indicator_id = by_value.get(problem["data_value_id"])
            if indicator_id is not None:
                found.setdefault(indicator_id, []).append(problem)
    return found


def _evidence(session: Session, unit_id: int, period: str) -> dict[int, list[Evidence]]:
    files: dict[int, list[Evidence]] = {}
    for row in session.scalars(select(Evidence).where(
            Evidence.unit_id == unit_id, Evidence.period == period).order_by(Evidence.id)):
        files.setdefault(row.indicator_id, []).append(row)
    return files


PROBLEM_WORDS = {
    "rule": ("Sai quy tắc kiểm tra", "Breaks a validation rule"),
    "outlier_history": ("Bất thường so với các kỳ trước", "Unusual against earlier periods"),
    "outlier_peers": ("Bất thường so với đơn vị cùng cấp", "Unusual against peer units"),
    "followup": ("Cần kiểm tra lại (DHIS2)", "Marked for follow-up (DHIS2)"),
    "conflicting_sources": ("Các nguồn cho số khác nhau", "Sources disagree"),
    "duplicate": ("Trùng với báo cáo đơn vị khác", "Same as another unit's report"),
    "unit_inconsistency": ("Có thể nhầm đơn vị tính (0,766 thay cho 76,6 %)",
                           "Possibly the wrong unit (0.766 for 76.6 %)"),
}


def problem_text(problem: dict[str, Any], locale: str) -> str:
    """A problem as a sentence for people (never a rule code)."""
    if problem.get("type") == "rule":
        return str(problem.get("message_en" if locale == "en" else "message_vi", ""))
    vi, en = PROBLEM_WORDS.get(str(problem.get("type")), (str(problem.get("type")),) * 2)
    return en if locale == "en" else vi

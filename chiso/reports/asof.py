"""Figures and reporting as they were known at a report's cut-off (chiso/reports/cutoff.py).

Read-only views over other domains' history tables:
- `values_known_at`: each data value as its latest version recorded by K had it (a value
  first entered after K does not exist; one deleted by K is gone);
- `reporting_gaps`: for each data set of the reporting cycle due in the period, which of
  the unit's reporting units had not submitted by K and which submitted after the due date.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.collection.models import DataSet, Submission, SubmissionEvent
from chiso.collection.service import due_date, reporting_units, vn_date
from chiso.periods import Period, PeriodType, parse_period
from chiso.reports.cutoff import Cutoff, end_of_day
from chiso.text import to_utc
from chiso.units.models import OrgUnit
from chiso.values.models import DataValue, DataValueVersion

ILLUSTRATIVE_SOURCE = "demo"  # the demo's invented figures (chiso/demo)


@dataclass(frozen=True)
class KnownValue:
    unit_id: int
    indicator_id: int
    period: str
    period_start: dt.date
    period_end: dt.date
    numerator: float | None
    denominator: float | None
    value: float | None
    source: str
    comment: str
    estimate: bool = False  # ước: no official figure had replaced it by the cut-off


def values_known_at(session: Session, unit_ids: Collection[int], start: dt.date,
                    end: dt.date, cutoff: Cutoff,
                    indicator_ids: Collection[int] | None = None) -> list[KnownValue]:
    """Values of `unit_ids` for periods inside [start, end], as recorded by the cut-off."""
    query = (select(DataValue.id, DataValue.unit_id, DataValue.indicator_id, DataValue.period,
                    DataValue.period_start, DataValue.period_end, DataValueVersion.version,
                    DataValueVersion.numerator, DataValueVersion.denominator,
                    DataValueVersion.value, DataValueVersion.source, DataValueVersion.comment,
                    DataValueVersion.deleted, DataValueVersion.estimate)
             .join(DataValueVersion, DataValueVersion.data_value_id == DataValue.id)
             .where(DataValue.unit_id.in_(list(unit_ids)), DataValue.period_start >= start,
                    DataValue.period_end <= end,
                    DataValueVersion.changed_at <= cutoff.known_at)
             .order_by(DataValue.id, DataValueVersion.version))
    if indicator_ids is not None:
        query = query.where(DataValue.indicator_id.in_(list(indicator_ids)))
    latest: dict[int, tuple] = {}  # type: ignore[type-arg]
    for row in session.execute(query):
        latest[row[0]] = tuple(row)  # ordered by version: the last recorded wins
    return [KnownValue(r[1], r[2], r[3], r[4], r[5], r[7], r[8], r[9], r[10] or "",
                       r[11] or "", bool(r[13])) for r in latest.values() if not r[12]]


def illustrative(values: Collection[KnownValue]) -> bool:
    return any(v.source == ILLUSTRATIVE_SOURCE for v in values)


# ------------------------------------------------------------------ the reporting cycle

@dataclass
class ReportingGap:
    """One data set over the report's period: who had not reported by the cut-off, who
    reported after the due date."""

    data_set: str  # its name
    periods: list[str]  # the judged periods (due by the closing date)
    expected: int  # units that must report
    missing: dict[str, int] = field(default_factory=dict)  # unit name → reports not sent
    late: list[tuple[str, str, int]] = field(default_factory=list)  # unit, period, days

    @property
    def never(self) -> list[str]:
        """Units that sent none of the judged reports."""
        return [u for u, n in self.missing.items() if n == len(self.periods)]

    @property
    def partly(self) -> list[tuple[str, int]]:
        return [(u, n) for u, n in self.missing.items() if n < len(self.periods)]


def reporting_gaps(session: Session, unit_ids: Collection[int], cutoff: Cutoff
                   ) -> list[ReportingGap]:
    """For each active data set whose periods end inside the report's period and are due
    by the closing date: its reporting units among `unit_ids`, judged at the cut-off."""
    wanted = set(unit_ids)
    gaps = []
    for data_set in session.scalars(select(DataSet).where(DataSet.active.is_(True))
                                    .order_by(DataSet.code)):
        periods = [p for p in _periods_of(data_set, cutoff)
                   if due_date(data_set, p) <= cutoff.closing_date]
        if not periods:
            continue
        gap = _gap(session, data_set, periods, wanted, cutoff)
        if gap.expected:
            gaps.append(gap)
    return gaps


def _periods_of(data_set: DataSet, cutoff: Cutoff) -> list[Period]:
    """The data set's periods that lie inside the report's period."""
    kind = PeriodType(data_set.period_type)
    year = cutoff.period_start.year
    count = 12 // kind.months
    candidates = [Period(year, kind, i) for i in range(1, count + 1)]
    return [p for p in candidates
            if cutoff.period_start <= p.start() and p.end() <= cutoff.period_end]


def _gap(session: Session, data_set: DataSet, periods: list[Period], wanted: set[int],
         cutoff: Cutoff) -> ReportingGap:
    gap = ReportingGap(data_set.name_vi, [p.id for p in periods], 0)
    expected: set[int] = set()
    submitted = _first_submissions(session, data_set, periods, cutoff)
    names: dict[int, str] = {}
    for period in periods:
        units = [u for u in reporting_units(session, data_set, period) if u.id in wanted]
        expected |= {u.id for u in units}
        due = due_date(data_set, period)
        for unit in units:
            names[unit.id] = unit.name
            at = submitted.get((unit.id, period.id))
            if at is None:
                gap.missing[unit.name] = gap.missing.get(unit.name, 0) + 1
            elif at > end_of_day(due):
                # Vietnam days, as the collection pages count them (review.late_days).
                days = (vn_date(at) - due).days
                gap.late.append((unit.name, period.id, max(days, 1)))
    gap.expected = len(expected)
    gap.missing = dict(sorted(gap.missing.items()))
    return gap


def _first_submissions(session: Session, data_set: DataSet, periods: list[Period],
                       cutoff: Cutoff) -> dict[tuple[int, str], dt.datetime]:
    """When each unit first submitted each period's report, among submissions recorded by
    the cut-off (an approval implies a submission).

    Whether the report knew of a submission is decided by when chiso recorded it (the
    event's time); when it was sent is `first_submitted_at` where that is earlier. The two
    differ for a report completed elsewhere: a DHIS2 import dates the sending on DHIS2's
    completeDate (`mark_sent_on`) while its event is dated the day of the import, months
    later. The events are left as recorded, not back-dated, so a past report drawn again
    with its cut-off still does not see what was imported after it; it only now agrees
    with the scorecard on the lateness of what it does see. (`first_submitted_at` keeps no
    history: a later import moving completeDate changes how late a past report says a
    report was, never whether it knew of it.)"""
    rows = session.execute(
        select(Submission.unit_id, Submission.period, SubmissionEvent.at,
               Submission.first_submitted_at)
        .join(SubmissionEvent, SubmissionEvent.submission_id == Submission.id)
        .where(Submission.data_set_id == data_set.id,
               Submission.period.in_([p.id for p in periods]),
               SubmissionEvent.action.in_(["submit", "approve"]),
               SubmissionEvent.at <= cutoff.known_at)
        .order_by(SubmissionEvent.at))
    first: dict[tuple[int, str], dt.datetime] = {}
    for unit_id, period, at, sent in rows:
        moment = to_utc(at)
        if sent is not None:
            moment = min(moment, to_utc(sent))
        first.setdefault((unit_id, period), moment)
    return first


# ------------------------------------------------------------------ units without figures

def units_without_figures(session: Session, unit: OrgUnit, values: list[KnownValue],
                          cutoff: Cutoff) -> list[str]:
    """Where no reporting cycle applies: direct sub-units (valid at the period end) with
    no figure known in the period while units of the same kind have some."""
    children = list(session.scalars(select(OrgUnit).where(
        OrgUnit.parent_id == unit.id, OrgUnit.valid_from <= cutoff.period_end,
        (OrgUnit.valid_to.is_(None)) | (OrgUnit.valid_to >= cutoff.period_end))
        .order_by(OrgUnit.name)))
    reporting = {v.unit_id for v in values} & {c.id for c in children}
    if not reporting:
        return []  # nobody reports at this level: not a lateness signal
    kinds = {c.kind for c in children if c.id in reporting}
    return [c.name for c in children if c.id not in reporting and c.kind in kinds]


def by_indicator(values: Collection[KnownValue]) -> dict[int, list[KnownValue]]:
    grouped: dict[int, list[KnownValue]] = defaultdict(list)
    for v in values:
        grouped[v.indicator_id].append(v)
    return grouped


def period_of(value: KnownValue) -> Period:
    return parse_period(value.period)

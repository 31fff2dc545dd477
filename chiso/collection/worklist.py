"""What each person owes and what waits for them (issue 14 item 3): the reports their own
units must send (with how late they are and the link to the form), the sent reports that
wait for their approval, and how many units in their scope are late.

A commune or department officer owes the reports of the units they are a member of; the
standing office owes its own unit's reports and reviews the reports it may approve.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action
from chiso.collection import service
from chiso.collection.models import DataSet, Submission
from chiso.periods import Calendar, Period, PeriodType, parse_period, period_containing
from chiso.units.models import OrgUnit

# Earlier periods still unsent stay on the list for about a year: four quarters, twelve
# months, two halves, one year (a 2022 annual report nobody sent is history, not a task).
LOOKBACK = {"Y": 1, "S": 2, "Q": 4, "M": 12}


@dataclass
class Owed:
    data_set: DataSet
    period: Period
    unit: OrgUnit
    submission: Submission
    today: dt.date

    @property
    def days_late(self) -> int:
        return max(0, (self.today - self.submission.due_date).days)

    @property
    def days_left(self) -> int:
        return (self.submission.due_date - self.today).days

    @property
    def link(self) -> str:
        return service.form_link(self.data_set, self.period.id, self.unit.code)


@dataclass
class Worklist:
    to_send: list[Owed] = field(default_factory=list)
    to_review: list[Owed] = field(default_factory=list)
    late_in_scope: int = 0

    @property
    def late(self) -> list[Owed]:
        return [o for o in self.to_send if o.days_late > 0]

    def review_groups(self) -> list[tuple[DataSet, Period, list[Owed]]]:
        """What waits for approval, by data set and period (a province reviews dozens)."""
        groups: dict[tuple[int, str], list[Owed]] = {}
        for owed in self.to_review:
            groups.setdefault((owed.data_set.id, owed.period.id), []).append(owed)
        return [(items[0].data_set, items[0].period, items) for items in groups.values()]


def ended_periods(data_set: DataSet, today: dt.date, count: int | None = None
                  ) -> list[Period]:
    """The periods that have ended by `today` under the data set's calendar, newest first
    (`count` of them; by default about a year's worth)."""
    current = period_containing(today, PeriodType(data_set.period_type),
                                Calendar(data_set.calendar))
    periods = [current.previous()]
    for _ in range((count or LOOKBACK.get(data_set.period_type, 4)) - 1):
        periods.append(periods[-1].previous())
    return periods


def worklist(session: Session, access: Access, today: dt.date) -> Worklist:
    result = Worklist()
    own = _own_units(access)
    data_sets = list(session.scalars(select(DataSet).where(DataSet.active.is_(True))
                                     .order_by(DataSet.name_vi)))
    for data_set in data_sets:
        for period in ended_periods(data_set, today):
            for submission in service.expected_submissions(session, data_set, period.id):
                if submission.unit_id in own and submission.status in (service.DRAFT,
                                                                       service.RETURNED):
                    result.to_send.append(_owed(session, data_set, submission, today))
    result.to_send.sort(key=lambda o: (o.submission.due_date, o.unit.name))
    result.to_review = _to_review(session, access, today)
    result.late_in_scope = _late_count(session, access, today)
    return result


def _own_units(access: Access) -> set[int]:
    """Units the person reports for: their memberships where they may capture."""
    if access.user is None:
        return set()
    return {m.unit_id for m in access.user.memberships
            if m.unit_id is not None and access.can(Action.CAPTURE, m.unit_id)}


def _owed(session: Session, data_set: DataSet, submission: Submission, today: dt.date
          ) -> Owed:
    unit = session.get(OrgUnit, submission.unit_id)
    assert unit is not None
    return Owed(data_set, parse_period(submission.period), unit, submission, today)


def _to_review(session: Session, access: Access, today: dt.date) -> list[Owed]:
    sent = list(session.scalars(select(Submission).where(
        Submission.status == service.SUBMITTED).order_by(Submission.submitted_at)))
    allowed = service.units_allowed(session, access, Action.APPROVE,
                                    {s.unit_id for s in sent})
    data_sets = {d.id: d for d in session.scalars(select(DataSet))}
    return [_owed(session, data_sets[s.data_set_id], s, today) for s in sent
            if s.unit_id in allowed]


def _late_count(session: Session, access: Access, today: dt.date) -> int:
    late = session.execute(select(Submission.unit_id).where(
        Submission.status.in_((service.DRAFT, service.RETURNED)),
        Submission.due_date < today)).scalars().all()
    allowed = service.units_allowed(session, access, Action.READ, set(late))
    return sum(unit_id in allowed for unit_id in late)

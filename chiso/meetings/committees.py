"""The province sees every commune committee (Ban Chỉ đạo cấp xã) at once: for each commune
valid on the day, its own targets of the year by status (where its committee has set
any), the tasks it leads (done, of which ahead of schedule, and overdue), its committee's
meetings and its last monthly task report. Read-only: everything comes from the domains'
own reading functions (analytics, tasks, meetings)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.analytics.service import target_statuses
from chiso.analytics.status import Status
from chiso.meetings.models import Meeting
from chiso.periods import Period, PeriodType
from chiso.plans.models import Target
from chiso.tasks.common import COMMUNE_LEVEL
from chiso.tasks.counts import OriginCount, count_by_origin, total_of
from chiso.tasks.monthly import UnitMonth, due_date, month_standing
from chiso.tasks.service import TaskFilter, list_tasks
from chiso.units.models import OrgUnit, UnitKind
from chiso.units.service import descendant_ids


@dataclass
class CommuneCommittee:
    unit: OrgUnit
    statuses: Counter[str] = field(default_factory=Counter)  # the year's targets by status
    tasks: OriginCount | None = None  # the tasks the commune leads, all origins together
    meetings: int = 0
    last_meeting: dt.date | None = None
    month: UnitMonth | None = None  # the last monthly task report due

    @property
    def targets(self) -> int:
        return sum(self.statuses.values())

    @property
    def active(self) -> bool:
        """The committee has something on chiso: targets, tasks, meetings or a report."""
        return bool(self.targets or self.tasks or self.meetings or (
            self.month is not None and self.month.report is not None))

    @property
    def behind(self) -> int:
        """Targets off track, at risk or missed: what the province asks about first."""
        return sum(self.statuses[s] for s in (Status.OFF_TRACK, Status.AT_RISK,
                                              Status.MISSED))


@dataclass
class CommitteesView:
    year: int
    day: dt.date
    month: str | None  # the month whose task reports are judged
    rows: list[CommuneCommittee]

    @property
    def active(self) -> list[CommuneCommittee]:
        return [r for r in self.rows if r.active]

    @property
    def idle(self) -> list[CommuneCommittee]:
        """Communes with nothing on chiso yet (listed by name, not as empty rows)."""
        return [r for r in self.rows if not r.active]

    @property
    def with_targets(self) -> int:
        return sum(1 for r in self.rows if r.targets)

    @property
    def overdue_tasks(self) -> int:
        return sum(r.tasks.overdue for r in self.rows if r.tasks)

    @property
    def month_missing(self) -> int:
        return sum(1 for r in self.rows if r.month is not None and r.month.report is None)


def communes_of(session: Session, province: OrgUnit, day: dt.date) -> list[OrgUnit]:
    """The province's communes, wards and special zones valid on `day`, by name."""
    ids = descendant_ids(session, province.id, on=day)
    kinds = select(UnitKind.code).where(UnitKind.level == COMMUNE_LEVEL)
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_(ids), OrgUnit.kind.in_(kinds)).order_by(OrgUnit.name)))


def commune_committees(session: Session, *, province: OrgUnit, year: int, day: dt.date
                       ) -> CommitteesView:
    """Every commune committee of the province as of `day`, those behind first."""
    communes = communes_of(session, province, day)
    rows = {u.id: CommuneCommittee(u) for u in communes}
    _statuses(session, rows, year, day)
    _tasks(session, rows, day)
    _meetings(session, rows, year)
    month = _last_month_due(day)
    if month is not None:
        for standing in month_standing(session, period=month.id, unit_ids=list(rows)):
            rows[standing.unit_id].month = standing
    ordered = sorted(rows.values(), key=lambda r: (
        -r.behind, -(r.tasks.overdue if r.tasks else 0), -r.targets, r.unit.name))
    return CommitteesView(year, day, month.id if month else None, ordered)


def _statuses(session: Session, rows: dict[int, CommuneCommittee], year: int,
              day: dt.date) -> None:
    """Only communes whose committee set targets for the year are evaluated."""
    planned = set(session.scalars(select(Target.unit_id).where(
        Target.year == year, Target.unit_id.in_(list(rows)))))
    for unit_id in sorted(planned):
        row = rows[unit_id]
        for status in target_statuses(session, unit_code=row.unit.code, year=year,
                                      as_of=min(day, dt.date(year, 12, 31))):
            if status.unit_code == row.unit.code:
                row.statuses[str(status.status)] += 1


def _tasks(session: Session, rows: dict[int, CommuneCommittee], day: dt.date) -> None:
    led: dict[int, list] = {}  # type: ignore[type-arg]
    for task_row in list_tasks(session, TaskFilter(include_partner=False), day):
        if task_row.task.lead_unit_id in rows:
            led.setdefault(task_row.task.lead_unit_id, []).append(task_row)
    for unit_id, task_rows in led.items():
        rows[unit_id].tasks = total_of(count_by_origin(task_rows, year=day.year))


def _meetings(session: Session, rows: dict[int, CommuneCommittee], year: int) -> None:
    for unit_id, held_on in session.execute(select(Meeting.unit_id, Meeting.held_on).where(
            Meeting.unit_id.in_(list(rows)), Meeting.deleted.is_(False),
            Meeting.held_on >= dt.date(year, 1, 1), Meeting.held_on <= dt.date(year, 12, 31))):
        row = rows[unit_id]
        row.meetings += 1
        row.last_meeting = max(row.last_meeting or held_on, held_on)


def _last_month_due(day: dt.date) -> Period | None:
    """The latest month whose task report was due by `day` (the 5th of the next month)."""
    month = Period(day.year, PeriodType.MONTH, day.month)
    for _ in range(3):
        if due_date(month) <= day:
            return month
        month = month.previous()
    return None

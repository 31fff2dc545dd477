"""The units' monthly task reports in the demo (báo cáo tháng về nhiệm vụ): from July 2025
to the last month whose report was due by `today`, most units report on time — "không
phát sinh" when they recorded no progress that month —, some late, a few never, each
recorded on the day the story gives it. Deterministic (a stable hash per unit and month);
a rebuild leaves what is recorded as it is."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.orm import Session

from chiso.accounts.access import Access
from chiso.demo.tasks import on_day
from chiso.periods import Period, PeriodType
from chiso.tasks.monthly import UnitMonth, due_date, month_standing, submit_month_report
from chiso.units.service import descendant_ids, get_unit

FIRST_MONTH = Period(2025, PeriodType.MONTH, 7)  # the communes' first month after the merger


def seed_month_reports(session: Session, *, province_code: str, today: dt.date) -> int:
    """Returns how many reports were recorded."""
    access = Access.system(session, "demo")
    province = get_unit(session, province_code)
    units = [province.id, *descendant_ids(session, province.id)]
    recorded, month = 0, FIRST_MONTH
    while due_date(month) <= today:
        for unit in month_standing(session, period=month.id, unit_ids=units):
            day = _report_day(unit, month)
            if unit.report is None and day is not None and day <= today:
                submit_month_report(session, unit_id=unit.unit_id, period=month.id,
                                    nothing=not unit.updates, note=_note(unit),
                                    access=access, recorded_at=on_day(day))
                recorded += 1
        month = _next(month)
    return recorded


def _report_day(unit: UnitMonth, month: Period) -> dt.date | None:
    """On time (up to 4 days before the due date) for most, 2–9 days late for some, never
    for about one in eight."""
    roll = int(hashlib.sha256(f"{unit.unit_code}:{month.id}".encode()).hexdigest()[:8], 16)
    due = due_date(month)
    if roll % 100 < 70:
        return due - dt.timedelta(days=roll % 5)
    if roll % 100 < 88:
        return due + dt.timedelta(days=2 + roll % 8)
    return None


def _note(unit: UnitMonth) -> str:
    if not unit.updates:
        return "Trong tháng không phát sinh công việc mới đối với các nhiệm vụ được giao."
    return f"Đã cập nhật tiến độ {len(unit.updates)} lượt cho {len(unit.tasks)} nhiệm vụ."


def _next(month: Period) -> Period:
    if month.index == 12:
        return Period(month.year + 1, PeriodType.MONTH, 1)
    return Period(month.year, PeriodType.MONTH, month.index + 1)

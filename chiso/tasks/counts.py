"""Tasks counted the way the centre counts them: by the level that assigned them (Trung
ương / tỉnh / xã giao) — how many, how many done (of which ahead of schedule, on time,
late), how many still running within their deadline and how many overdue.

"33 of 67 central tasks done, 13 ahead of schedule" is `OriginCount(central)`: total 67,
done 33, done_ahead 13. Ahead means finished at least `AHEAD_MARGIN_DAYS` before the due
date (chiso/tasks/status.py); a cancelled task is not counted. The counts are of the rows
given, so a report counts its tasks as they stood at its cut-off (chiso.tasks.history).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chiso.tasks.models import Origin, StoredState, TaskStatus
from chiso.tasks.service import TaskRow
from chiso.tasks.status import is_ahead, origin_label


@dataclass
class OriginCount:
    origin: Origin
    total: int = 0
    done_ahead: int = 0  # hoàn thành trước hạn
    done_on_time: int = 0  # hoàn thành đúng hạn (not ahead)
    done_late: int = 0  # hoàn thành quá hạn
    running: int = 0  # đang thực hiện trong hạn (not started or in progress)
    overdue: int = 0  # quá hạn chưa hoàn thành

    @property
    def done(self) -> int:
        return self.done_ahead + self.done_on_time + self.done_late

    def label(self, locale: str = "vi") -> str:
        return origin_label(self.origin, locale)

    def add(self, row: TaskRow) -> None:
        self.total += 1
        if row.status == TaskStatus.DONE_LATE:
            self.done_late += 1
        elif row.status == TaskStatus.DONE:
            if is_ahead(row.task):
                self.done_ahead += 1
            else:
                self.done_on_time += 1
        elif row.status == TaskStatus.OVERDUE:
            self.overdue += 1
        else:
            self.running += 1

    def to_dict(self, locale: str = "vi") -> dict[str, Any]:
        return {"origin": self.origin.value, "label": self.label(locale),
                "total": self.total, "done": self.done, "done_ahead": self.done_ahead,
                "done_on_time": self.done_on_time, "done_late": self.done_late,
                "running": self.running, "overdue": self.overdue}


def count_by_origin(rows: Iterable[TaskRow], *, year: int | None = None) -> list[OriginCount]:
    """One count per origin, always in the order Trung ương, tỉnh, xã. With `year`, tasks
    finished before that year began are left out (a year's count is of the tasks still
    open on 1 January or assigned since)."""
    counts = {origin: OriginCount(origin) for origin in Origin}
    for row in rows:
        if row.status == TaskStatus.CANCELLED or _finished_before(row, year):
            continue
        counts[Origin(row.task.origin or Origin.PROVINCE)].add(row)
    return list(counts.values())


def _finished_before(row: TaskRow, year: int | None) -> bool:
    task = row.task
    return (year is not None and task.state == StoredState.DONE
            and task.completed_on is not None and task.completed_on < dt.date(year, 1, 1))


def total_of(counts: Iterable[OriginCount]) -> OriginCount:
    """All origins together (the "Tổng cộng" row)."""
    total = OriginCount(Origin.PROVINCE)
    for c in counts:
        total.total += c.total
        total.done_ahead += c.done_ahead
        total.done_on_time += c.done_on_time
        total.done_late += c.done_late
        total.running += c.running
        total.overdue += c.overdue
    return total

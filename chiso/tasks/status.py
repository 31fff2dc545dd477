"""A task's displayed status follows from its stored state and its dates, never typed in."""

from __future__ import annotations

import datetime as dt

from chiso.tasks.models import Origin, StoredState, Task, TaskStatus

AHEAD_MARGIN_DAYS = 7
"""Hoàn thành trước hạn: finished at least this many days before the due date. No central
document defines the margin; a week keeps "ahead" meaningful (a task finished the day
before its deadline is on time, not ahead). docs/report.md says so."""

STATUS_LABELS: dict[TaskStatus, tuple[str, str]] = {
    TaskStatus.NOT_STARTED: ("Chưa thực hiện", "Not started"),
    TaskStatus.IN_PROGRESS: ("Đang thực hiện", "In progress"),
    TaskStatus.DONE: ("Hoàn thành", "Done"),
    TaskStatus.DONE_LATE: ("Hoàn thành muộn", "Done late"),
    TaskStatus.OVERDUE: ("Quá hạn", "Overdue"),
    TaskStatus.CANCELLED: ("Đã hủy", "Cancelled"),
}

# Colours shared with the status badges of targets, so the board reads at a glance.
STATUS_CSS: dict[TaskStatus, str] = {
    TaskStatus.NOT_STARTED: "no_data",
    TaskStatus.IN_PROGRESS: "on_track",
    TaskStatus.DONE: "achieved",
    TaskStatus.DONE_LATE: "at_risk",
    TaskStatus.OVERDUE: "off_track",
    TaskStatus.CANCELLED: "no_data",
}


ORIGIN_LABELS: dict[Origin, tuple[str, str]] = {
    Origin.CENTRAL: ("Trung ương giao", "Assigned by the centre"),
    Origin.PROVINCE: ("Tỉnh giao", "Assigned by the province"),
    Origin.COMMUNE: ("Xã giao", "Assigned by the commune"),
}


def origin_label(origin: Origin | str, locale: str = "vi") -> str:
    vi, en = ORIGIN_LABELS[Origin(origin)]
    return en if locale == "en" else vi


def is_ahead(task: Task, margin_days: int = AHEAD_MARGIN_DAYS) -> bool:
    """Done at least `margin_days` before the due date (hoàn thành trước hạn)."""
    if task.state != StoredState.DONE or task.completed_on is None:
        return False
    return (task.due_date - task.completed_on).days >= margin_days


def status_label(status: TaskStatus | str, locale: str = "vi") -> str:
    vi, en = STATUS_LABELS[TaskStatus(status)]
    return en if locale == "en" else vi


def status_of(task: Task, today: dt.date) -> TaskStatus:
    """Done on or before the due date → done; after it → done late; open past it → overdue."""
    if task.state == StoredState.CANCELLED:
        return TaskStatus.CANCELLED
    if task.state == StoredState.DONE:
        finished = task.completed_on or today
        return TaskStatus.DONE if finished <= task.due_date else TaskStatus.DONE_LATE
    if today > task.due_date:
        return TaskStatus.OVERDUE
    return TaskStatus.IN_PROGRESS if task.progress_pct > 0 else TaskStatus.NOT_STARTED

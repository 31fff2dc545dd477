"""A task's displayed status follows from its stored state and its dates, never typed in."""

from __future__ import annotations

import datetime as dt

from chiso.tasks.models import StoredState, Task, TaskStatus

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

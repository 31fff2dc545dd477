"""Tasks (nhiệm vụ): assigned actions with a lead unit, partners, dates and progress.

A task row holds the current state; `task_update` keeps every state it ever had (nothing
is overwritten without a history row), and evidence files hang off an update. A history
row holds everything a report shows about the task (title, lead unit, partners, focus
area, dates, progress, state, owner), when it was recorded (`changed_at`) and the day the
change took effect (`update_date`), so the task as it stood on any past day, as known at
any past instant, can be told (chiso.tasks.history).
Overdue and done-late are never stored: they follow from the dates (see status.status_of).

A task also says where it comes from as the centre counts it (chiso/tasks/counts.py): its
origin level (Trung ương / tỉnh / xã giao), the document that assigned it (số hiệu and
date) and its expected product; and each unit reports monthly on the tasks it leads
(`TaskMonthReport`), "không phát sinh" when nothing happened that month.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chiso.db.base import Base, Timestamped, utcnow


class StoredState(enum.StrEnum):
    """What people type; the displayed status also depends on the dates."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class TaskStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DONE_LATE = "done_late"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"


class Origin(enum.StrEnum):
    """Cấp giao nhiệm vụ: who assigned the task, as the centre counts tasks."""

    CENTRAL = "central"  # Trung ương giao (the central committee, the Government, a ministry)
    PROVINCE = "province"  # tỉnh giao (the provincial committee or People's Committee)
    COMMUNE = "commune"  # xã giao (a commune's own committee)


class Recurrence(enum.StrEnum):
    NONE = ""
    MONTHLY = "M"
    QUARTERLY = "Q"
    HALF_YEARLY = "S"
    YEARLY = "Y"


class FocusArea(Base):
    """Nội dung trọng tâm: a plan's own list of focus areas (e.g. the 11 of 72-KH/BCĐ)."""

    __tablename__ = "focus_area"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(400))
    name_en: Mapped[str] = mapped_column(String(400), default="")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Task(Timestamped, Base):
    __tablename__ = "task"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"), index=True)
    conclusion_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_conclusion.id"), index=True)
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_area.id"), index=True)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(16), default=StoredState.OPEN)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    progress_pct: Mapped[float] = mapped_column(Float, default=0.0)
    recurrence: Mapped[str] = mapped_column(String(1), default=Recurrence.NONE)
    # The occurrence this one was generated from (recurring tasks form a chain).
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    origin: Mapped[str] = mapped_column(String(16), default=Origin.PROVINCE, index=True)
    # Văn bản giao nhiệm vụ: its số hiệu (e.g. 145/KH-UBND) and date.
    assigned_doc_number: Mapped[str] = mapped_column(String(100), default="")
    assigned_doc_date: Mapped[dt.date | None] = mapped_column(Date)
    expected_product: Mapped[str] = mapped_column(Text, default="")  # sản phẩm dự kiến

    partners: Mapped[list[TaskPartner]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TaskPartner.unit_id")
    links: Mapped[list[TaskLink]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TaskLink.id")


class TaskPartner(Base):
    """Đơn vị phối hợp."""

    __tablename__ = "task_partner"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))


class TaskLink(Base):
    """An indicator (and optionally a target) the task moves."""

    __tablename__ = "task_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id"))


class TaskUpdate(Base):
    """One entry of a task's history: the full state after the change, and a note."""

    __tablename__ = "task_update"
    __table_args__ = (UniqueConstraint("task_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # create | edit | progress | cancel | import
    update_date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    progress_pct: Mapped[float] = mapped_column(Float, default=0.0)
    state: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    due_date: Mapped[dt.date] = mapped_column(Date)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    focus_area_id: Mapped[int | None] = mapped_column(ForeignKey("focus_area.id"))
    partner_unit_ids: Mapped[list[int] | None] = mapped_column(JSON)
    # Null in rows written before these were kept: the task's current value then stands.
    origin: Mapped[str | None] = mapped_column(String(16))
    assigned_doc_number: Mapped[str | None] = mapped_column(String(100))
    assigned_doc_date: Mapped[dt.date | None] = mapped_column(Date)
    expected_product: Mapped[str | None] = mapped_column(Text)
    # When the change was recorded (a system job loading history may give a past instant).
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    evidence: Mapped[list[TaskEvidence]] = relationship(lazy="selectin",
                                                        order_by="TaskEvidence.id")


class TaskEvidence(Base):
    """Minh chứng: a file stored under the data dir, named by its sha256."""

    __tablename__ = "task_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id"), index=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("task_update.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(400))
    content_type: Mapped[str] = mapped_column(String(120), default="")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)


class MonthReportKind(enum.StrEnum):
    PROGRESS = "progress"  # the month's progress on the unit's tasks
    NOTHING = "nothing"  # không phát sinh: nothing to report this month


class TaskMonthReport(Base):
    """Báo cáo tháng về nhiệm vụ: a unit's report for a month on the tasks it leads, or
    "không phát sinh". Append-only: a correction is a new version; the report reads the
    latest version recorded by its cut-off."""

    __tablename__ = "task_month_report"
    __table_args__ = (UniqueConstraint("unit_id", "period", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    period: Mapped[str] = mapped_column(String(8), index=True)  # YYYYMM
    version: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

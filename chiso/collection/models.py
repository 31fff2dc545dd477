"""Data sets (reporting forms), submissions and their history, validation rules, follow-up
flags and evidence files. Values themselves live in `chiso.values`; this domain decides who
must report what and when, and whether a unit's figures for a period are approved."""

from __future__ import annotations

import datetime as dt

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
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, Timestamped, utcnow


class DataSet(Timestamped, Base):
    """Biểu mẫu báo cáo: indicators, a period type, who reports, and when it is due."""

    __tablename__ = "collection_data_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(400))
    name_en: Mapped[str] = mapped_column(String(400), default="")
    period_type: Mapped[str] = mapped_column(String(1))  # Y S Q M
    calendar: Mapped[str] = mapped_column(String(16), default="standard")  # standard | nd09
    due_days: Mapped[int] = mapped_column(Integer, default=10)  # days after period end
    # Days relative to the due date on which reminders go out (negative = before).
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON, default=list)
    # "All units of kind X under unit Y" — used when no explicit unit list is given.
    unit_kind: Mapped[str] = mapped_column(String(120), default="")  # comma-separated kinds
    parent_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    active: Mapped[bool] = mapped_column(default=True)


class DataSetIndicator(Base):
    __tablename__ = "collection_data_set_indicator"
    __table_args__ = (UniqueConstraint("data_set_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("collection_data_set.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class DataSetUnit(Base):
    """An explicitly listed reporting unit (overrides the kind/parent rule)."""

    __tablename__ = "collection_data_set_unit"
    __table_args__ = (UniqueConstraint("data_set_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("collection_data_set.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))


class Submission(Base):
    """One unit's report for one period of a data set: draft → submitted → returned →
    approved. Approved figures are locked; an approver's later edit is counted and sends
    the submission back to `submitted` for approval again."""

    __tablename__ = "collection_submission"
    __table_args__ = (UniqueConstraint("data_set_id", "unit_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_set_id: Mapped[int] = mapped_column(ForeignKey("collection_data_set.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    due_date: Mapped[dt.date] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    first_submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    return_reason: Mapped[str] = mapped_column(Text, default="")
    edits_after_approval: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SubmissionEvent(Base):
    """Append-only history of a submission: who did what, when, and why."""

    __tablename__ = "collection_submission_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("collection_submission.id"),
                                               index=True)
    action: Mapped[str] = mapped_column(String(24))  # save submit return approve edit_after
    from_status: Mapped[str] = mapped_column(String(16), default="")
    to_status: Mapped[str] = mapped_column(String(16), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class ValidationRule(Timestamped, Base):
    """A rule over values of the same unit and period: left operator right."""

    __tablename__ = "collection_validation_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    left: Mapped[str] = mapped_column(String(400))
    operator: Mapped[str] = mapped_column(String(4))  # <= < >= > == !=
    right: Mapped[str] = mapped_column(String(400))
    importance: Mapped[str] = mapped_column(String(8), default="medium")  # high medium low
    message_vi: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    # skip_if_any_missing | skip_if_all_missing | never_skip (missing counts as 0)
    missing_strategy: Mapped[str] = mapped_column(String(24), default="skip_if_any_missing")
    active: Mapped[bool] = mapped_column(default=True)


class ValueFlag(Base):
    """A figure flagged for follow-up (outlier, rule violation). Never hides the value."""

    __tablename__ = "collection_value_flag"
    __table_args__ = (UniqueConstraint("unit_id", "indicator_id", "period", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    period: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # outlier_history | outlier_peers
    score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Evidence(Base):
    """A file backing one value (minh chứng), kept under the data dir by its sha256."""

    __tablename__ = "collection_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    period: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(400))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

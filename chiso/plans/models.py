"""A plan document, the documents it implements, the numeric targets it sets, and every
version of each target (a revision takes effect on a date and rests on a document), and
each correction of how a target is judged (its date, baseline, path, pillar)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
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


class Comparator(enum.StrEnum):
    AT_LEAST = ">="
    AT_MOST = "<="
    EQUAL = "="
    BETWEEN = "between"


class Trajectory(enum.StrEnum):
    LINEAR = "linear"
    S_CURVE = "s_curve"
    MILESTONES = "milestones"


class Plan(Timestamped, Base):
    """Kế hoạch / nghị quyết / chỉ thị / quyết định, identified by its số hiệu (e.g. 72-KH/BCĐ)."""

    __tablename__ = "plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    document_kind: Mapped[str] = mapped_column(String(16), default="KH")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    year_from: Mapped[int] = mapped_column(Integer)
    year_to: Mapped[int] = mapped_column(Integer)
    scope_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    # The first parent that is a loaded plan (kept for older readers); all of them, loaded
    # or not, are in `plan_parent`.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    targets: Mapped[list[Target]] = relationship(back_populates="plan")


class Target(Timestamped, Base):
    """Phấn đấu đạt: an indicator's planned value for a unit at a date (end of year by default)."""

    __tablename__ = "target"
    __table_args__ = (UniqueConstraint("plan_id", "indicator_id", "unit_id", "target_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    target_date: Mapped[dt.date] = mapped_column(Date)
    comparator: Mapped[str] = mapped_column(String(8), default=Comparator.AT_LEAST)
    value: Mapped[float] = mapped_column(Float)
    value_high: Mapped[float | None] = mapped_column(Float)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    trajectory: Mapped[str] = mapped_column(String(16), default=Trajectory.LINEAR)
    # [{"date": "2025-06-30", "value": 60.0}, …] when trajectory == milestones
    milestones: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    pillar_code: Mapped[str | None] = mapped_column(ForeignKey("pillar.code"))
    note: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[Plan] = relationship(back_populates="targets")


class PlanParent(Base):
    """A document the plan implements (căn cứ): a Party action programme, the committee's
    plan, a People's Committee plan … A plan may implement several. `parent_plan_id` links
    the parent when it is loaded in chiso; otherwise the document is named by its số hiệu,
    title and date (NQ 57-NQ/TW need not be loaded to be cited)."""

    __tablename__ = "plan_parent"
    __table_args__ = (UniqueConstraint("plan_id", "parent_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    parent_code: Mapped[str] = mapped_column(String(64))
    parent_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


class TargetVersion(Base):
    """One version of a target's value. Version 1 is the value as the plan set it
    (`effective_from` null: from the start); each revision takes effect on its date and
    rests on a document (số hiệu, date), e.g. a 2025 target lowered from 3 % to 1 % on the
    central committee's request. A correction (a typo fixed, a plan file's value put right)
    is a version too, `corrects` naming the version it puts right: it takes that version's
    effective date and replaces it from the moment it is recorded, so a report closed
    before it keeps what it said. The target row carries the value in force now; status and
    reports use the version in force at their date (`chiso.plans.revisions`)."""

    __tablename__ = "target_version"
    __table_args__ = (UniqueConstraint("target_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date | None] = mapped_column(Date)
    comparator: Mapped[str] = mapped_column(String(8))
    value: Mapped[float] = mapped_column(Float)
    value_high: Mapped[float | None] = mapped_column(Float)
    basis_code: Mapped[str] = mapped_column(String(64), default="")
    basis_date: Mapped[dt.date | None] = mapped_column(Date)
    basis_title: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    corrects: Mapped[int | None] = mapped_column(Integer)  # the version a correction puts right
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class TargetDetail(Base):
    """What a target was and how it was to be judged, as recorded at `recorded_at`: its
    indicator, unit and year, its date, baseline, path and pillar. These are not revised by
    a document from a date on, as its value is (`TargetVersion`); they are put right. So
    each change is a row of its own, and a report closed before it reads the row it knew
    (`chiso.plans.details`). The first change of a target first keeps the target as it was
    (`original`, known from the start); a target never changed has no rows: its row is
    it."""

    __tablename__ = "target_detail"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("target.id"), index=True)
    original: Mapped[bool] = mapped_column(Boolean, default=False)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int] = mapped_column(Integer)
    target_date: Mapped[dt.date] = mapped_column(Date)
    baseline_value: Mapped[float | None] = mapped_column(Float)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    trajectory: Mapped[str] = mapped_column(String(16))
    milestones: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    pillar_code: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

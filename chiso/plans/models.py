"""A plan document and the numeric targets it sets."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chiso.db.base import Base, Timestamped


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

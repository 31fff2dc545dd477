"""Rubric indices that score departments and communes (bộ chỉ số đánh giá, xếp hạng).

A framework is a tree of criteria on a points scale (e.g. 1,000 points in 7 groups); each
scored criterion says how it is scored: by level, by ratio, or yes/no. A unit's assessment
for a period holds its scores: the unit's own (tự chấm) and the appraisal council's (thẩm
định), each citing its evidence (số hiệu, ngày, trích yếu, file), and the progress % it
reports per criterion as the year goes. Scores and progress are append-only: a new score
is a new row, the latest is the one that counts, and every earlier one stays.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

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


class Method(enum.StrEnum):
    LEVEL = "level"  # one of the listed levels, each with its points
    RATIO = "ratio"  # a percentage: points by steps, or in proportion up to `full_at`
    YES_NO = "yes_no"  # all the points or none
    GROUP = "group"  # the sum of its sub-criteria


class ScoreKind(enum.StrEnum):
    SELF = "self"  # tự chấm: the unit's own score
    APPRAISED = "appraised"  # thẩm định: the appraisal council's score


class ScoringFramework(Timestamped, Base):
    __tablename__ = "scoring_framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[float] = mapped_column(Float)
    # Unit kinds it scores (so_ban_nganh, xa, phuong, dac_khu …), as a JSON list.
    unit_kinds: Mapped[list[str]] = mapped_column(JSON)
    basis: Mapped[str] = mapped_column(Text, default="")  # the document that issues it
    example: Mapped[bool] = mapped_column(default=False)  # chiso's illustrative example
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(32), default="")


class ScoringCriterion(Base):
    __tablename__ = "scoring_criterion"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("scoring_framework.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("scoring_criterion.id"))
    code: Mapped[str] = mapped_column(String(16))  # '1', '1.2'
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    # level: [{"label_vi", "label_en", "points"}]; ratio: {"steps": [{"from", "points"}]}
    # or {"full_at": 100}
    rule: Mapped[dict[str, Any] | list[Any] | None] = mapped_column(JSON)
    evidence_required: Mapped[bool] = mapped_column(default=True)
    guidance: Mapped[str] = mapped_column(Text, default="")


class ScoringAssessment(Timestamped, Base):
    """One unit's assessment on one framework for one period ('2025')."""

    __tablename__ = "scoring_assessment"
    __table_args__ = (UniqueConstraint("framework_id", "unit_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("scoring_framework.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    self_total: Mapped[float | None] = mapped_column(Float)
    appraised_total: Mapped[float | None] = mapped_column(Float)


class ScoreEntry(Base):
    """A score given to a criterion: append-only, the latest per kind counts."""

    __tablename__ = "scoring_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("scoring_assessment.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("scoring_criterion.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(String(200))  # the level, the ratio, yes / no
    points: Mapped[float] = mapped_column(Float)
    evidence_number: Mapped[str] = mapped_column(String(100), default="")  # số hiệu
    evidence_date: Mapped[dt.date | None] = mapped_column(Date)  # ngày
    evidence_summary: Mapped[str] = mapped_column(Text, default="")  # trích yếu
    evidence_file: Mapped[str] = mapped_column(String(300), default="")
    evidence_sha256: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class CriterionProgress(Base):
    """Progress % a unit reports on a criterion for a month or a quarter: append-only."""

    __tablename__ = "scoring_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("scoring_assessment.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("scoring_criterion.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))  # '202509', '2025Q3'
    percent: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

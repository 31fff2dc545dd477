"""DTI storage: framework versions, published/imported results, the self-assessment workspace.

Nothing is overwritten in place: a changed framework file becomes a new version, a changed
published value supersedes the old row (kept, `is_current` false), and every change of a
criterion appends a snapshot to `dti_criterion_version`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chiso.db.base import Base, utcnow


class DtiFramework(Base):
    """One version of a framework file (the YAML text is kept verbatim)."""

    __tablename__ = "dti_framework"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name_vi: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300), default="")
    level: Mapped[str] = mapped_column(String(16))
    valid_from_year: Mapped[int] = mapped_column(Integer)
    valid_to_year: Mapped[int | None] = mapped_column(Integer)
    legal_basis: Mapped[str] = mapped_column(String(300), default="")
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(64), default="system")


class DtiResult(Base):
    """A value of one node (main indicator, or `_TOTAL` as published) for a unit and year."""

    __tablename__ = "dti_result"
    __table_args__ = (Index("ix_dti_result_lookup", "framework_code", "year", "is_current"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    # "" = the units as assessed that year; "merged" = a table republished over today's
    # units (DTI 2024 for the 34 provinces after 1/7/2025), kept apart because a code such
    # as 48 (Đà Nẵng) names a different territory in each.
    basis: Mapped[str] = mapped_column(String(16), default="", server_default="")
    unit_code: Mapped[str] = mapped_column(String(32))
    # The name as written in the imported file, kept for the record; pages show the
    # unit register's name (an import never renames a unit).
    unit_name: Mapped[str] = mapped_column(String(200), default="")
    node_code: Mapped[str] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300), default="")
    batch_id: Mapped[str] = mapped_column(String(64), default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DtiAssessment(Base):
    """One self-assessment round: a unit assesses itself against a framework for a year."""

    __tablename__ = "dti_assessment"
    __table_args__ = (UniqueConstraint("framework_code", "year", "unit_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_code: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | submitted
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    criteria: Mapped[list[DtiCriterion]] = relationship(
        back_populates="assessment", order_by="DtiCriterion.position")


class DtiCriterion(Base):
    __tablename__ = "dti_criterion"
    __table_args__ = (UniqueConstraint("assessment_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("dti_assessment.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(500))
    group_name: Mapped[str] = mapped_column(String(300), default="")
    max_points: Mapped[float] = mapped_column(Float)
    lead_unit_code: Mapped[str] = mapped_column(String(32), default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    self_score: Mapped[float | None] = mapped_column(Float)
    appraised_score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(24), default="not_started")
    notes: Mapped[str] = mapped_column(Text, default="")
    evidence_refs: Mapped[str] = mapped_column(Text, default="")  # references kept as text
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")

    assessment: Mapped[DtiAssessment] = relationship(back_populates="criteria")
    evidence: Mapped[list[DtiEvidence]] = relationship(
        back_populates="criterion", order_by="DtiEvidence.id")


class DtiCriterionVersion(Base):
    """Append-only history: the criterion as it was after each change."""

    __tablename__ = "dti_criterion_version"
    __table_args__ = (UniqueConstraint("criterion_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("dti_criterion.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)  # type: ignore[type-arg]
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64), default="system")


class DtiEvidence(Base):
    """An evidence file, stored under the data directory by its sha256."""

    __tablename__ = "dti_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("dti_criterion.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str] = mapped_column(String(500))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(String(64), default="system")
    is_deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    criterion: Mapped[DtiCriterion] = relationship(back_populates="evidence")

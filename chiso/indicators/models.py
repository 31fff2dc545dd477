"""Indicators and pillars; reference documents and the national frameworks of targets
(NQ 57-NQ/TW to 2030, the 2026 plans) that cite them. The catalogue is data shipped as YAML
and extended by users."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, Timestamped


class IndicatorKind(enum.StrEnum):
    RATIO = "ratio"  # numerator / denominator, shown ×scale (100 for a percentage)
    COUNT = "count"
    AMOUNT = "amount"
    SCORE = "score"
    BOOLEAN = "boolean"


class Direction(enum.StrEnum):
    HIGHER = "higher"  # higher is better
    LOWER = "lower"  # lower is better
    BAND = "band"  # inside [target, target_high] is best


class UnitAggregation(enum.StrEnum):
    """How values of sub-units combine into their parent (DESIGN §5.2)."""

    SUM = "sum"
    RATIO_OF_SUMS = "ratio_of_sums"
    MEAN = "mean"
    MAX = "max"
    MIN = "min"
    NONE = "none"  # only a value reported for the unit itself counts


class TimeAggregation(enum.StrEnum):
    """How values of sub-periods combine: flows sum, stocks take the last value."""

    SUM = "sum"
    LAST = "last"
    MEAN = "mean"


class Pillar(Base):
    """Trụ cột: chính quyền số, kinh tế số, xã hội số, and the optional provincial ones."""

    __tablename__ = "pillar"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    optional: Mapped[bool] = mapped_column(default=False)


class Indicator(Timestamped, Base):
    __tablename__ = "indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(400))
    name_en: Mapped[str] = mapped_column(String(400))
    definition_vi: Mapped[str] = mapped_column(Text, default="")
    definition_en: Mapped[str] = mapped_column(Text, default="")
    unit_vi: Mapped[str] = mapped_column(String(64), default="")
    unit_en: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(16), default=Direction.HIGHER)
    unit_aggregation: Mapped[str] = mapped_column(String(16))
    time_aggregation: Mapped[str] = mapped_column(String(16))
    # A ratio's stored `value` is numerator / denominator × scale (100 for percentages).
    scale: Mapped[float] = mapped_column(default=1.0)
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    pillar_code: Mapped[str | None] = mapped_column(ForeignKey("pillar.code"))
    data_source: Mapped[str] = mapped_column(String(400), default="")
    owner_unit_code: Mapped[str] = mapped_column(String(32), default="")
    legal_basis: Mapped[str] = mapped_column(String(400), default="")
    catalog_version: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(default=True)


class ReferenceDocument(Timestamped, Base):
    """A published document that defines or sets indicators and targets (NQ 57-NQ/TW, QĐ
    805/QĐ-TTg, …): its số hiệu, title, issuer and date, and where chiso read it. When the
    signing date was not found, `reported_on` is the date it was first reported."""

    __tablename__ = "reference_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="")
    title_vi: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text, default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    reported_on: Mapped[dt.date | None] = mapped_column(Date)
    source_url: Mapped[str] = mapped_column(String(500), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class Framework(Timestamped, Base):
    """A set of targets from one document for a level (national, provincial): "Mục tiêu
    đến năm 2030 của NQ 57-NQ/TW", "Mục tiêu năm 2026 của BCĐ Chính phủ"."""

    __tablename__ = "reference_framework"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(String(16), default="national")
    document_id: Mapped[int] = mapped_column(ForeignKey("reference_document.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    catalog_version: Mapped[str] = mapped_column(String(32), default="")


class FrameworkTarget(Base):
    """One published target: an indicator's value for a year, the document and article
    that set it, the body that monitors it, and where a later document changed it."""

    __tablename__ = "reference_target"
    __table_args__ = (UniqueConstraint("framework_id", "indicator_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("reference_framework.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    comparator: Mapped[str] = mapped_column(String(8), default=">=")
    value: Mapped[float] = mapped_column(Float)
    value_high: Mapped[float | None] = mapped_column(Float)
    document_id: Mapped[int] = mapped_column(ForeignKey("reference_document.id"))
    article: Mapped[str] = mapped_column(String(200), default="")
    wording_vi: Mapped[str] = mapped_column(Text, default="")  # the target as the text says it
    monitoring_body: Mapped[str] = mapped_column(String(200), default="")
    amended_by_id: Mapped[int | None] = mapped_column(ForeignKey("reference_document.id"))
    amendment_note: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

"""Indicators and pillars. The catalogue is data shipped as YAML and extended by users."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, Integer, String, Text
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

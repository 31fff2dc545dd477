"""Org units and their lineage.

Unit kinds and levels are data (table `unit_kind`), never code: districts existed until
30/6/2025 and the standing agency changed its name in 2025. A code is unique only
together with `valid_from`, because the 2025 reform re-used old commune codes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chiso.db.base import Base

FAR_PAST = dt.date(1900, 1, 1)


class UnitKind(Base):
    """tỉnh, xã, phường, đặc khu, sở, huyện (until 2025), … with a level for ordering."""

    __tablename__ = "unit_kind"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)


class OrgUnit(Base):
    """Đơn vị: a province, department, commune or (historic) district, valid over a date range."""

    __tablename__ = "org_unit"
    __table_args__ = (UniqueConstraint("code", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # Matching keys (chiso.text.name_key / accent_free_key of the name), kept in the row so
    # a search is one indexed query: 'Thanh Hoá' = 'Thanh Hóa', 'dong dang' → Đồng Đăng.
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    search_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date, default=FAR_PAST)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id])

    def is_valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


class UnitLineage(Base):
    """A predecessor → successor link: merge, split, rename or absorption, on a date.

    `share` is the predecessor's fraction carried to this successor; for a split the
    successor marked `is_primary` receives the predecessor's reported figures.
    """

    __tablename__ = "unit_lineage"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id", "event_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    event_date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # merge | split | rename | absorb
    share: Mapped[float] = mapped_column(Float, default=1.0)
    is_primary: Mapped[bool] = mapped_column(default=True)
    legal_basis: Mapped[str] = mapped_column(String(200), default="")


class CommitteeName(Base):
    """What the steering committee and its standing agency are called, and from when: the
    Ban Chỉ đạo về chuyển đổi số with the Sở Thông tin và Truyền thông as standing agency
    until 28/02/2025, then (NQ 57-NQ/TW) the Ban Chỉ đạo về phát triển khoa học, công nghệ,
    đổi mới sáng tạo và chuyển đổi số with the Sở Khoa học và Công nghệ. Configuration with
    dates (chiso/units/data/committee.yaml), read through `chiso.units.committee`. `{unit}`
    in a name stands for the installation's unit ('tỉnh Lạng Sơn'), `{province}` in the
    agency's code for its code."""

    __tablename__ = "committee_name"

    id: Mapped[int] = mapped_column(primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(Date, default=FAR_PAST, unique=True)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    committee_vi: Mapped[str] = mapped_column(String(300))
    committee_en: Mapped[str] = mapped_column(String(300), default="")
    short_vi: Mapped[str] = mapped_column(String(120), default="")
    short_en: Mapped[str] = mapped_column(String(120), default="")
    agency_vi: Mapped[str] = mapped_column(String(200))
    agency_en: Mapped[str] = mapped_column(String(200), default="")
    agency_unit_code: Mapped[str] = mapped_column(String(32), default="")
    basis: Mapped[str] = mapped_column(String(400), default="")

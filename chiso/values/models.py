"""Data values. `data_value` holds the current figure per unit × indicator × period;
`data_value_version` keeps every version ever saved, so nothing is lost when a figure
is corrected. Only `chiso.values.service` writes either table.

An estimate (ước, ước thực hiện) is a figure given before the official one: while it is the
only figure, it is the current figure with `estimate` true; the official figure replaces it
as the current figure and the estimate stays beside it (`estimate_*`), so both are shown and
every reader that takes the current figure (status, roll-up) takes the official one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, utcnow


class ImportBatch(Base):
    """One import run: which file, who, and what it changed."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # values-csv, values-xlsx, dhis2, records, …
    file_name: Mapped[str] = mapped_column(String(400), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")


class DataValue(Base):
    """The current value of an indicator for a unit and period (kỳ báo cáo)."""

    __tablename__ = "data_value"
    __table_args__ = (UniqueConstraint("unit_id", "indicator_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicator.id"), index=True)
    period: Mapped[str] = mapped_column(String(16), index=True)
    period_type: Mapped[str] = mapped_column(String(1))  # Y S Q M
    period_start: Mapped[dt.date] = mapped_column(Date, index=True)
    period_end: Mapped[dt.date] = mapped_column(Date)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32), default="manual")
    comment: Mapped[str] = mapped_column(Text, default="")
    # Ước: the current figure is an estimate (no official figure yet).
    estimate: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The latest estimate given for this period, kept once the official figure replaces it.
    estimate_numerator: Mapped[float | None] = mapped_column(Float)
    estimate_denominator: Mapped[float | None] = mapped_column(Float)
    estimate_value: Mapped[float | None] = mapped_column(Float)
    # Optimistic concurrency: a save names the version it read; a stale one is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class DataValueVersion(Base):
    """Every saved state of a data value, append-only."""

    __tablename__ = "data_value_version"
    __table_args__ = (UniqueConstraint("data_value_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    data_value_id: Mapped[int] = mapped_column(ForeignKey("data_value.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    estimate: Mapped[bool] = mapped_column(default=False, server_default=false())
    deleted: Mapped[bool] = mapped_column(default=False)
    change: Mapped[str] = mapped_column(String(16))  # insert | update | delete | restore
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))


class ValueChange(Base):
    """Which (unit, indicator) pairs each value write touched, in commit order, for readers
    that keep derived answers in memory (analytics' memo) and want to refresh only what a
    write could have changed. `unit_id` is null when a large write touched an indicator in
    too many units to list. Append-only; old rows are pruned (readers that fall behind the
    oldest row recompute in full)."""

    __tablename__ = "value_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(Integer)
    indicator_id: Mapped[int] = mapped_column(Integer)
    # PostgreSQL transaction id of the writer: ids are handed out before commit, so a
    # reader also asks for rows of transactions still running at its last read.
    txid: Mapped[int | None] = mapped_column(BigInteger, index=True)

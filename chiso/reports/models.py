"""The committee report's tables: the editable text blocks and each generation run.

Moved from chiso/meetings/models.py with the same table names (no schema change).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, utcnow


class ReportText(Base):
    """An editable block of a report (proposals, signer, recipients); append-only versions.

    The current text of (unit, period, key) is the row with the highest version.
    """

    __tablename__ = "report_text"
    __table_args__ = (UniqueConstraint("unit_id", "period", "key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))  # "*" = the unit's default for all periods
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class GeneratedReport(Base):
    """One generation run of a report: progress while running, then the files' hashes.

    Each run keeps its own files (`files` names them in chiso.storage), so a later
    run never replaces the file an earlier run's checksum describes. A running job beats
    `heartbeat_at` at every step and names its `worker` (host:pid:token): a job whose worker
    is gone or whose heartbeat has stopped is failed by `reap_stale_jobs`, never left
    "running" with its page polling forever.
    """

    __tablename__ = "generated_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # quarterly | half_year | annual
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(200), default="")
    docx_sha256: Mapped[str] = mapped_column(String(64), default="")
    # One line per file: "store:<sha256>/<name>" (chiso.storage), or before the store a
    # path relative to the data dir.
    files: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    # What the reader must know before signing (missing signer, plan number…), one per line.
    warnings: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(200), default="")
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Committee meetings, their conclusions, and the report texts edited before a meeting."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chiso.db.base import Base, Timestamped, utcnow


class MeetingKind(enum.StrEnum):
    QUARTERLY = "quarterly"  # phiên họp định kỳ hằng quý
    EXTRAORDINARY = "extraordinary"  # phiên họp bất thường


class Meeting(Timestamped, Base):
    """Phiên họp Ban Chỉ đạo."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16), default=MeetingKind.QUARTERLY)
    title: Mapped[str] = mapped_column(Text)
    chair: Mapped[str] = mapped_column(String(200), default="")
    attendees: Mapped[str] = mapped_column(Text, default="")  # one per line
    agenda: Mapped[str] = mapped_column(Text, default="")  # one item per line
    deleted: Mapped[bool] = mapped_column(default=False)

    conclusions: Mapped[list[MeetingConclusion]] = relationship(
        lazy="selectin", order_by="MeetingConclusion.seq")


class MeetingConclusion(Base):
    """Kết luận: one numbered conclusion; it may become one or more tasks."""

    __tablename__ = "meeting_conclusion"
    __table_args__ = (UniqueConstraint("meeting_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


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
    """One generation run of a report: progress while running, then the files' hashes."""

    __tablename__ = "generated_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # quarterly | half_year | annual
    period: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|done|failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    step: Mapped[str] = mapped_column(String(200), default="")
    docx_sha256: Mapped[str] = mapped_column(String(64), default="")
    files: Mapped[str] = mapped_column(Text, default="")  # names relative to the data dir
    error: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

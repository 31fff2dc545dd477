"""Committee meetings and their numbered conclusions (the report's tables live in
chiso/reports/models.py)."""

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

"""In-app notifications; one row per (recipient, event), so an event is never sent twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, utcnow


class Notification(Base):
    """Thông báo: what a user was told, when, and whether the email went out."""

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    event_key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(400))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # sent | failed | pending (to send after the request) | none (no e-mail address)
    email_status: Mapped[str] = mapped_column(String(16), default="none")
    email_error: Mapped[str] = mapped_column(Text, default="")

"""The installation's data generation: a stamp that `chiso restore` replaces.

A restore puts back older data whose change marks can be lower than what running server
processes have already seen, so "nothing written since" would wrongly hold and their memo
would keep serving pre-restore figures. Every restore writes a new random `token` here;
the analytics memo reads it in its structure stamp, so any change of it drops every
memoised answer in every process on its next request; the records key index
(`chiso.records.keyindex`) is rebuilt when it changes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from chiso.db.base import Base, utcnow


class DataGeneration(Base):
    __tablename__ = "data_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def current_generation(session: Session) -> str | None:
    """The data generation now (None before the first restore)."""
    return session.scalar(select(func.max(DataGeneration.token)))

"""A document read for extraction and what was proposed from it, with each decision: the
audit trail of 'who accepted what from which document'."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, Timestamped


class Decision(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EDITED = "edited"  # accepted with the officer's changes
    REJECTED = "rejected"


class ExtractDocument(Timestamped, Base):
    __tablename__ = "extract_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # docx, pdf, pdf-ocr, txt, pasted
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON)  # DocumentMeta.to_dict()
    notes: Mapped[list[str]] = mapped_column(JSON)
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # The unit the document is read for: who may read it and its proposals (READ there)
    # and decide them (CAPTURE there) follows from it.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))  # the draft plan made


class ExtractProposal(Base):
    __tablename__ = "extract_proposal"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("extract_document.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # target, value, rank, task
    sentence: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    mark_start: Mapped[int] = mapped_column(Integer)
    mark_end: Mapped[int] = mapped_column(Integer)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)  # as proposed, never changed
    confidence: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16), default=Decision.PENDING)
    decided_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # as accepted
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    result_type: Mapped[str] = mapped_column(String(32), default="")  # target, data_value, task
    result_id: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

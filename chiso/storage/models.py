"""The store's tables, used when files live in the database (`CHISO_FILE_STORE=database`).

A file is one `stored_blob` row (its SHA-256, size and kind) and its content cut into
`stored_chunk` rows of at most 1 MiB, so that no row is large, a download is streamed chunk
by chunk and PostgreSQL keeps them out of line (TOAST) without any large-object API. Being
ordinary rows, they are in every database dump: `chiso backup` needs nothing more.

`stored_name` names files that are found by a path rather than by their content — the
records store's Parquet files (`namespace` "records") — each pointing to its blob.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, utcnow


class StoredBlob(Base):
    __tablename__ = "stored_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16), default="")
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StoredChunk(Base):
    __tablename__ = "stored_chunk"

    sha256: Mapped[str] = mapped_column(ForeignKey("stored_blob.sha256", ondelete="CASCADE"),
                                        primary_key=True)
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class StoredName(Base):
    __tablename__ = "stored_name"

    namespace: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_blob.sha256"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

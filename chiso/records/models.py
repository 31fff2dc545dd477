"""SQL side of the records feed: the procedure catalogue and the batch log.

The dossiers themselves are not SQL rows: tens of millions of them live as Parquet
partitions under the data directory (see `chiso.records.store` and docs/records.md).
A batch becomes visible only when its row here says `committed`, which makes every
ingestion all-or-nothing whatever the database backend.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, Timestamped, utcnow


class ServiceLevel(enum.StrEnum):
    """Mức độ dịch vụ công trực tuyến (Nghị định 42/2022/NĐ-CP)."""

    FULL = "toan_trinh"  # toàn trình
    PARTIAL = "mot_phan"  # một phần
    NONE = "khong"  # not an online service


class Channel(enum.StrEnum):
    """Kênh tiếp nhận hồ sơ."""

    IN_PERSON = "truc_tiep"  # trực tiếp
    ONLINE = "truc_tuyen"  # trực tuyến
    POSTAL = "buu_chinh"  # bưu chính công ích


class BatchStatus(enum.StrEnum):
    STAGING = "staging"  # files being written; invisible to every reader
    COMMITTED = "committed"
    FAILED = "failed"


class RecordProcedure(Timestamped, Base):
    """Thủ tục hành chính: one procedure of the national catalogue as this install uses it."""

    __tablename__ = "record_procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(32))  # cấp thực hiện: tinh, xa, …
    service_level: Mapped[str] = mapped_column(String(16), default=ServiceLevel.NONE)
    field: Mapped[str] = mapped_column(String(200), default="")  # lĩnh vực
    active: Mapped[bool] = mapped_column(default=True)


class RecordBatch(Base):
    """One ingestion: a file or an API post, with what it stored and which months it touched."""

    __tablename__ = "record_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # file | api
    file_name: Mapped[str] = mapped_column(String(400), default="")
    sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.STAGING, index=True)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_stored: Mapped[int] = mapped_column(Integer, default=0)  # new or newer versions
    rows_ignored: Mapped[int] = mapped_column(Integer, default=0)  # same or older versions
    months: Mapped[str] = mapped_column(Text, default="")  # touched months, "202501,202502"
    values_inserted: Mapped[int] = mapped_column(Integer, default=0)
    values_updated: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float | None] = mapped_column(Float)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

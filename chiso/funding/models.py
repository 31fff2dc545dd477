"""Funding tables. Only `chiso.funding.service` writes them.

- `funding_programme`: a programme (chương trình, đề án) or project (dự án) with its
  decision, owner unit, period and total investment, linked to a plan (`plan`), and through
  `funding_programme_link` to the plan's targets and tasks.
- `funding_line`: a budget line — year, source, type, area and owner unit — or the
  province's total budget spending for the year (`kind = total`), the denominator of the
  "≥ 3 % of budget spending" indicator.
- `funding_figure`: the current amount of a line at one stage of the cycle and period
  (the year for đề xuất, dự toán giao, phân bổ, quyết toán; a month for cumulative giải
  ngân), with its approval status and the amount as last approved.
- `funding_figure_version`: every state a figure ever had, append-only — nothing is
  overwritten in place.

Amounts are whole đồng (BigInteger): exact, whatever unit the file was written in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from chiso.db.base import Base, Timestamped, utcnow


class Programme(Timestamped, Base):
    """Chương trình / đề án / dự án: the vehicle money is decided for."""

    __tablename__ = "funding_programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="project")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("funding_programme.id"))
    name: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text, default="")
    decision_number: Mapped[str] = mapped_column(String(64), default="")
    decision_date: Mapped[dt.date | None] = mapped_column(Date)
    # Chủ đầu tư / đơn vị chủ trì; the province whose funding page lists it.
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    year_from: Mapped[int] = mapped_column(Integer)
    year_to: Mapped[int] = mapped_column(Integer)
    total_investment: Mapped[int | None] = mapped_column(BigInteger)  # đồng
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plan.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    # Invented figures (the demo): every surface says so.
    illustrative: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ProgrammeLink(Base):
    """A target or a task of the plan that the programme pays for."""

    __tablename__ = "funding_programme_link"
    __table_args__ = (UniqueConstraint("programme_id", "target_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("funding_programme.id"), index=True)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("target.id"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"))


class BudgetLine(Timestamped, Base):
    """Dòng kinh phí: one year's money of one owner unit, source, type and area."""

    __tablename__ = "funding_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Natural key (year, scope, unit, source, type, area, programme, name): an import of
    # the same table finds the same lines again.
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="line")
    scope_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("funding_programme.id"),
                                                     index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(16), default="")
    spend_type: Mapped[str] = mapped_column(String(16), default="")
    area: Mapped[str] = mapped_column(String(16), default="")
    name: Mapped[str] = mapped_column(Text, default="")
    illustrative: Mapped[bool] = mapped_column(default=False)


class Figure(Base):
    """The current amount of a line at a stage and period (kỳ: 2026, or 202603 for the
    cumulative disbursement to the end of March 2026)."""

    __tablename__ = "funding_figure"
    __table_args__ = (UniqueConstraint("line_id", "stage", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("funding_line.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)  # đồng
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    # What the indicators use: the amount as the standing office last approved it.
    approved_amount: Mapped[int | None] = mapped_column(BigInteger)
    approved_version: Mapped[int | None] = mapped_column(Integer)
    # Edits after approval, each re-opened for approval (DESIGN §6).
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(32), default="manual")
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    deleted: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class FigureVersion(Base):
    """Every saved state of a figure, append-only: amount changes and approvals alike."""

    __tablename__ = "funding_figure_version"
    __table_args__ = (UniqueConstraint("figure_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    figure_id: Mapped[int] = mapped_column(ForeignKey("funding_figure.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    change: Mapped[str] = mapped_column(String(16))  # insert update approve return delete
    source: Mapped[str] = mapped_column(String(32), default="manual")
    comment: Mapped[str] = mapped_column(Text, default="")
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                    index=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    changed_by: Mapped[str] = mapped_column(String(80), default="")  # user or system:<job>
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

"""What a target is and how it is judged, as known at a moment: its indicator, unit and
year, its date, baseline, path and pillar.

A target's value is revised from a date by a document, or corrected (`chiso.plans.
revisions`). The rest of what it is — the indicator it counts, the unit it is set for, its
year, the date it is due, the baseline the path starts from, the path (linear, S-curve,
milestones) and the pillar a report files it under — is not revised from a date: when it
changes, it was wrong, and it is put right. The target row
holds it as it stands now, which is what today's statuses read. A report closed before a
change must still read what it was made with, so every change is also kept as a
`TargetDetail` row with the moment it was recorded; the first change first keeps the
target as it was, known from the start. Reading as known at a moment
(`known_subquery`) takes, of each target's rows, the last one recorded by then; a target
with no such row is read from its row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, case, func, or_, select
from sqlalchemy.orm import Session

from chiso.accounts.access import Actor
from chiso.audit.labels import field_label
from chiso.plans.models import Target, TargetDetail
from chiso.text import to_utc

# Which target it is (a report files it under its indicator and unit, in its year) ...
IDENTITY = ("indicator_id", "unit_id", "year")
# ... and how it is judged.
FIELDS = (*IDENTITY, "target_date", "baseline_value", "baseline_date", "trajectory",
          "milestones", "pillar_code")


def changes_detail(after: dict[str, Any]) -> bool:
    """Whether an edit (field → new value) changes how the target is judged."""
    return any(name in after for name in FIELDS)


def keep_before_change(session: Session, target: Target, actor: Actor | None) -> None:
    """Call before the row changes: the first change of a target keeps the target as it was
    (known from the start, as the plan set it)."""
    if session.scalar(select(TargetDetail.id).where(TargetDetail.target_id == target.id)
                      .limit(1)) is None:
        session.add(_row(target, actor, original=True))


def record_change(session: Session, target: Target, actor: Actor | None) -> None:
    """Call after the row changed: keep the target as it now stands, known from now."""
    session.add(_row(target, actor, original=False))


def _row(target: Target, actor: Actor | None, *, original: bool) -> TargetDetail:
    return TargetDetail(target_id=target.id, original=original,
                        recorded_by_id=getattr(actor, "id", None),
                        **{name: getattr(target, name) for name in FIELDS})


def known_subquery(known_at: dt.datetime) -> Subquery:
    """target_id and the FIELDS of each changed target as recorded by `known_at` (a naive
    datetime is UTC): its last row recorded by then, or the target as the plan set it."""
    moment = to_utc(known_at)
    d = TargetDetail
    ranked = (select(d.target_id, *[d.__table__.c[name] for name in FIELDS],
                     func.row_number().over(partition_by=d.target_id, order_by=d.id.desc())
                     .label("rank"))
              .where(or_(d.original.is_(True), d.recorded_at <= moment))
              .subquery())
    return (select(ranked.c.target_id, *[ranked.c[name] for name in FIELDS])
            .where(ranked.c.rank == 1).subquery())


@dataclass(frozen=True)
class Known:
    """The target's FIELDS as recorded by a moment, for a query over `Target`: each column
    reads the target's last kept row by then, or the target row when it has none; with no
    moment, the target row itself (no join: today's statuses, the cold overview)."""

    subquery: Subquery | None

    def column(self, name: str) -> ColumnElement[Any]:
        own = getattr(Target, name)
        if self.subquery is None:
            return own  # type: ignore[no-any-return]
        known = self.subquery.c
        return case((known.target_id.is_(None), own), else_=known[name])

    def join(self, query: Select[Any]) -> Select[Any]:
        if self.subquery is None:
            return query
        return query.outerjoin(self.subquery, self.subquery.c.target_id == Target.id)

    def where(self, query: Select[Any], *, unit_ids: Iterable[int] | None = None,
              year: int | None = None) -> Select[Any]:
        """`query` kept to the targets of these units and this year, as known. The target
        row's indexes find the targets that are there now; a target with kept rows is found
        by them too, so one moved since still counts where it was."""
        units = sorted(set(unit_ids)) if unit_ids is not None else None

        def kept_to(unit: Any, of_year: Any) -> list[ColumnElement[bool]]:
            return [c for c in (unit.in_(units) if units is not None else None,
                                of_year == year if year is not None else None)
                    if c is not None]

        now = kept_to(Target.unit_id, Target.year)
        if not now or self.subquery is None:
            return query.where(*now)
        candidates = select(Target.id).where(*now).union(select(TargetDetail.target_id).where(
            *kept_to(TargetDetail.unit_id, TargetDetail.year)))
        return query.where(Target.id.in_(candidates),
                           *kept_to(self.column("unit_id"), self.column("year")))


def as_known(known_at: dt.datetime | None) -> Known:
    """The target's FIELDS as known at `known_at` (None: as they stand now)."""
    return Known(known_subquery(known_at) if known_at is not None else None)


def history(session: Session, target_id: int) -> list[TargetDetail]:
    """The target's kept details, oldest first (none: never changed)."""
    return list(session.scalars(select(TargetDetail).where(TargetDetail.target_id == target_id)
                                .order_by(TargetDetail.id)))


def history_rows(session: Session, target_id: int) -> list[dict[str, Any]]:
    """`history` for the API: each kept row's FIELDS, when it was recorded, whether it is
    the target as the plan set it, and which FIELDS it changed from the row before."""
    rows: list[dict[str, Any]] = []
    before: TargetDetail | None = None
    for row in history(session, target_id):
        rows.append({"original": row.original, "recorded_at": row.recorded_at,
                     **{name: getattr(row, name) for name in FIELDS},
                     "changed": list(_changed(before, row))})
        before = row
    return rows


def _changed(before: TargetDetail | None, row: TargetDetail) -> tuple[str, ...]:
    """The FIELDS `row` changed from the row before it (none for the first)."""
    if before is None:
        return ()
    return tuple(name for name in FIELDS if getattr(row, name) != getattr(before, name))


@dataclass(frozen=True)
class Correction:
    """One change of how a target is judged, for its history: when, and which fields."""

    recorded_at: dt.datetime
    fields: tuple[str, ...]

    def named(self, locale: str) -> str:
        """The fields as people call them, mid-sentence: "ngày đích, giá trị xuất phát"."""
        return ", ".join((field_label(f, locale) or f).lower() for f in self.fields)


def corrections(session: Session, target_ids: Iterable[int]) -> dict[int, list[Correction]]:
    """Each target's changes, oldest first, each naming the FIELDS it changed (one query)."""
    found: dict[int, list[Correction]] = {}
    previous: dict[int, TargetDetail] = {}
    for row in session.scalars(select(TargetDetail).where(
            TargetDetail.target_id.in_(sorted(set(target_ids)))).order_by(TargetDetail.id)):
        changed = _changed(previous.get(row.target_id), row)
        previous[row.target_id] = row
        if changed:
            found.setdefault(row.target_id, []).append(Correction(row.recorded_at, changed))
    return found

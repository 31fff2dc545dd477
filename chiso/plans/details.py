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
from chiso.audit.labels import field_label, value_label
from chiso.indicators.models import Indicator, Pillar
from chiso.plans.models import Target, TargetDetail
from chiso.text import entered_decimals, format_date, format_number, parse_date, to_utc
from chiso.units.models import OrgUnit

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
class Names:
    """Names of the units, indicators and pillars some corrections mention, as (vi, en)."""

    units: dict[int, tuple[str, str]]
    indicators: dict[int, tuple[str, str]]
    pillars: dict[str, tuple[str, str]]

    @classmethod
    def of(cls, session: Session, rows: Iterable[TargetDetail]) -> Names:
        """One query per kind for every name `rows` mention."""
        rows = list(rows)
        unit_ids = {r.unit_id for r in rows}
        indicator_ids = {r.indicator_id for r in rows}
        pillars = {r.pillar_code for r in rows if r.pillar_code}
        return cls(
            units={i: (vi, en or vi) for i, vi, en in session.execute(
                select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en)
                .where(OrgUnit.id.in_(sorted(unit_ids))))} if unit_ids else {},
            indicators={i: (vi, en or vi) for i, vi, en in session.execute(
                select(Indicator.id, Indicator.name_vi, Indicator.name_en)
                .where(Indicator.id.in_(sorted(indicator_ids))))} if indicator_ids else {},
            pillars={c: (vi, en or vi) for c, vi, en in session.execute(
                select(Pillar.code, Pillar.name_vi, Pillar.name_en)
                .where(Pillar.code.in_(sorted(pillars))))} if pillars else {})


@dataclass(frozen=True)
class Correction:
    """One change of what a target is or how it is judged, for its history: when, which
    fields, and each field's value before and after."""

    recorded_at: dt.datetime
    fields: tuple[str, ...]
    before: dict[str, Any]
    after: dict[str, Any]
    names: Names

    def told(self, locale: str) -> str:
        """Each field from what it was to what it is: "đơn vị: Tỉnh Lạng Sơn → Phường Đông
        Kinh; ngày đích: 31/12/2026 → 30/09/2026" — names, never ids."""
        return "; ".join(
            f"{_field_name(f, locale)}: {self._shown(f, self.before[f], locale)} → "
            f"{self._shown(f, self.after[f], locale)}" for f in self.fields)

    def _shown(self, field: str, value: Any, locale: str) -> str:
        if value is None or value == "" or value == []:
            return "–"
        en = locale == "en"
        if field in ("unit_id", "indicator_id", "pillar_code"):
            table: dict[Any, tuple[str, str]] = (
                self.names.units if field == "unit_id" else
                self.names.indicators if field == "indicator_id" else self.names.pillars)
            pair = table.get(value)
            return (pair[1] if en else pair[0]) if pair else str(value)
        if isinstance(value, dt.date):
            return format_date(value, locale)
        if field == "trajectory":
            return (value_label(value, locale) or value).lower()
        if field == "milestones":
            # Milestones carry a decimal comma in Vietnamese: set apart by semicolons.
            return "; ".join(f"{format_date(parse_date(m['date']), locale)}: "
                             f"{_number(m['value'], locale)}" for m in value)
        if isinstance(value, float):
            return _number(value, locale)
        return str(value)


def _field_name(field: str, locale: str) -> str:
    return (field_label(field, locale) or field).lower()


def _number(value: float, locale: str) -> str:
    """As entered: 1,5 and 2,25, not 1,50 (the plan page shows the indicator's decimals)."""
    return format_number(float(value), entered_decimals(value), locale)


def corrections(session: Session, target_ids: Iterable[int]) -> dict[int, list[Correction]]:
    """Each target's changes, oldest first, each naming the FIELDS it changed and their
    values before and after (one query for the rows, one per kind of name)."""
    rows = list(session.scalars(select(TargetDetail).where(
        TargetDetail.target_id.in_(sorted(set(target_ids)))).order_by(TargetDetail.id)))
    names = Names.of(session, rows)
    found: dict[int, list[Correction]] = {}
    previous: dict[int, TargetDetail] = {}
    for row in rows:
        before = previous.get(row.target_id)
        previous[row.target_id] = row
        changed = _changed(before, row)
        if before is not None and changed:
            found.setdefault(row.target_id, []).append(Correction(
                row.recorded_at, changed, {f: getattr(before, f) for f in changed},
                {f: getattr(row, f) for f in changed}, names))
    return found

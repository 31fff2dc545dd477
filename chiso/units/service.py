"""Org units: load the official lists and the departments file, look units up by code,
date and name, walk the hierarchy and the lineage.

Loading changes the register of the whole installation: every loader takes a required
`access` with MANAGE on the installation's unit (a system Access for `chiso init` and the
operator's commands), refuses to run before `chiso.boot.boot()` and audits what changed.

A code is unique only with its `valid_from` (the 2025 reform re-used commune codes), so
every lookup takes a date: `on`, today by default.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Action, Actor
from chiso.audit.service import record_event
from chiso.boot import require_booted
from chiso.errors import NotFound, UserError
from chiso.settings import get_settings
from chiso.text import accent_free_key, format_date, name_key, nfc, vn_today
from chiso.units.models import OrgUnit, UnitKind, UnitLineage
from chiso.units.official import (
    DATA_DIR,
    LineageRecord,
    UnitRecord,
    read_kinds,
    read_official,
)

if TYPE_CHECKING:
    from chiso.units.departments import DepartmentSummary

Progress = Callable[[int, int], None]  # (done, total)
UNIT_FIELDS = ("name", "short_name", "name_en", "kind", "valid_to", "area_km2", "latitude",
               "longitude", "name_key", "search_key")
COMPARED = (*UNIT_FIELDS, "parent_id")


class UnitNotFound(NotFound):
    """No unit with that code is valid on that date (404)."""

    def __init__(self, code: str, on: dt.date) -> None:
        self.code, self.on = code, on
        super().__init__(
            f"Không tìm thấy đơn vị mã '{code}' có hiệu lực ngày {format_date(on, 'vi')}",
            f"no unit with code '{code}' valid on {on.isoformat()}")


def today() -> dt.date:
    """Today in Vietnam (or the pinned CHISO_TODAY): the default date of every lookup."""
    return vn_today()


def valid_on(on: dt.date) -> ColumnElement[bool]:
    """SQL condition: the unit exists on that day."""
    return and_(OrgUnit.valid_from <= on,
                or_(OrgUnit.valid_to.is_(None), OrgUnit.valid_to >= on))


# ------------------------------------------------------------------ kinds


def require_manage_installation(session: Session, access: Access) -> None:
    """Reference data of the whole installation (the unit register, the catalogue) is
    changed with MANAGE on its own unit (`CHISO_DEFAULT_UNIT`), or with MANAGE everywhere
    before that unit is loaded (a first `chiso init` runs as a system Access)."""
    unit_id = session.scalar(select(OrgUnit.id).where(
        OrgUnit.code == get_settings().default_unit, valid_on(today())).limit(1))
    access.require(Action.MANAGE, unit_id)


def load_unit_kinds(session: Session, *, access: Access) -> int:
    """Insert or correct the shipped unit kinds, as `access`; returns how many changed."""
    require_booted()
    require_manage_installation(session, access)
    return ensure_unit_kinds(session, access.actor)


def ensure_unit_kinds(session: Session, actor: Actor | None) -> int:
    """The shipped unit kinds, for a loader that has checked its access already."""
    existing = {k.code: k for k in session.scalars(select(UnitKind))}
    changed = 0
    for row in read_kinds():
        current = existing.get(str(row["code"]))
        if current is None:
            session.add(UnitKind(**row))
        elif (current.name_vi, current.name_en, current.level) != (
                row["name_vi"], row["name_en"], row["level"]):
            before = {"name_vi": current.name_vi, "name_en": current.name_en,
                      "level": current.level}
            current.name_vi, current.name_en, current.level = (
                row["name_vi"], row["name_en"], row["level"])
            record_event(session, action="update", object_type="unit_kind",
                         object_id=row["code"], actor=actor, before=before, after=row)
        else:
            continue
        changed += 1
    session.flush()
    return changed


# ------------------------------------------------------------------ official units


@dataclass
class LoadSummary:
    units_inserted: int = 0
    units_updated: int = 0
    units_unchanged: int = 0
    lineage_inserted: int = 0
    lineage_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.units_inserted or self.units_updated or self.lineage_inserted)


def load_official_units(session: Session, progress: Progress | None = None, *,
                        access: Access, provinces: Iterable[str] | None = None
                        ) -> LoadSummary:
    """Load the shipped official units (before and after 1/7/2025) and their lineage, as
    `access` (MANAGE on the installation's unit).

    Idempotent: a second run changes nothing. `provinces` (today's codes) restricts the
    load to those provinces and the old provinces merged into them — for a one-province
    install or a small test database."""
    require_booted()
    require_manage_installation(session, access)
    actor = access.actor
    ensure_unit_kinds(session, actor)
    units, links = read_official(DATA_DIR, provinces=set(provinces) if provinces else None)
    total = len(units) + len(links)
    report = progress or (lambda done, total: None)
    summary = LoadSummary()
    index = UnitIndex.from_db(session)
    _load_units(session, units, index, summary, report, total, actor)
    _load_lineage(session, links, index, summary)
    report(total, total)
    if summary.changed:
        record_event(session, action="load", object_type="org_unit", actor=actor,
                     object_id="official", after=summary.__dict__,
                     note="Danh mục đơn vị hành chính / official administrative units")
    session.flush()
    return summary


@dataclass
class UnitIndex:
    """(code, valid_from) → id and code → [(valid_from, valid_to, id)] for the whole table."""

    ids: dict[tuple[str, dt.date], int]
    by_code: dict[str, list[tuple[dt.date, dt.date | None, int]]]

    @classmethod
    def from_db(cls, session: Session) -> UnitIndex:
        rows = session.execute(select(OrgUnit.code, OrgUnit.valid_from, OrgUnit.valid_to,
                                      OrgUnit.id)).all()
        index = cls(ids={}, by_code={})
        for code, start, end, unit_id in rows:
            index.add(code, start, end, unit_id)
        return index

    def add(self, code: str, start: dt.date, end: dt.date | None, unit_id: int) -> None:
        self.ids[(code, start)] = unit_id
        self.by_code.setdefault(code, []).append((start, end, unit_id))

    def valid_id(self, code: str, on: dt.date) -> int | None:
        for start, end, unit_id in self.by_code.get(code, ()):
            if start <= on and (end is None or on <= end):
                return unit_id
        return None


def _unit_values(record: UnitRecord, parent_id: int | None) -> dict[str, object]:
    return {
        "code": record.code, "name": record.name, "short_name": record.short_name,
        "name_en": record.name_en, "kind": record.kind, "parent_id": parent_id,
        "valid_from": record.valid_from, "valid_to": record.valid_to,
        "area_km2": record.area_km2, "latitude": record.latitude,
        "longitude": record.longitude, "name_key": name_key(record.name),
        "search_key": accent_free_key(record.name),
    }


def _load_units(session: Session, units: list[UnitRecord], index: UnitIndex,
                summary: LoadSummary, report: Progress, total: int,
                actor: Actor | None) -> None:
    """Insert level by level, so every parent has an id before its children arrive."""
    existing = _existing_units(session)
    pending = list(units)
    done = 0
    while pending:
        ready = [u for u in pending if not u.parent_code
                 or index.valid_id(u.parent_code, u.valid_from) is not None]
        if not ready:
            missing = sorted({u.parent_code for u in pending})[:5]
            raise UserError(f"Thiếu đơn vị cha {missing}", f"missing parent units {missing}")
        ready_keys = {(u.code, u.valid_from) for u in ready}
        pending = [u for u in pending if (u.code, u.valid_from) not in ready_keys]
        _write_units(session, ready, index, existing, summary, actor)
        done += len(ready)
        report(done, total)


def _existing_units(session: Session) -> dict[tuple[str, dt.date], dict[str, object]]:
    columns = [OrgUnit.id, OrgUnit.code, OrgUnit.valid_from, OrgUnit.parent_id] + [
        getattr(OrgUnit, name) for name in UNIT_FIELDS]
    return {(row.code, row.valid_from): row._asdict()
            for row in session.execute(select(*columns))}


def _write_units(session: Session, records: list[UnitRecord], index: UnitIndex,
                 existing: dict[tuple[str, dt.date], dict[str, object]],
                 summary: LoadSummary, actor: Actor | None) -> None:
    new_rows = []
    for record in records:
        parent_id = (index.valid_id(record.parent_code, record.valid_from)
                     if record.parent_code else None)
        values = _unit_values(record, parent_id)
        old = existing.get((record.code, record.valid_from))
        if old is None:
            new_rows.append(values)
        elif _differs(old, values):
            _update_unit(session, old, values, actor)
            summary.units_updated += 1
        else:
            summary.units_unchanged += 1
    if new_rows:
        session.execute(insert(OrgUnit), new_rows)
        summary.units_inserted += len(new_rows)
        _index_new(session, index, new_rows)


def _differs(old: dict[str, object], new: dict[str, object]) -> bool:
    return tuple(map(_norm, map(old.__getitem__, COMPARED))) != tuple(
        map(_norm, map(new.__getitem__, COMPARED)))


def _norm(value: object) -> object:
    return round(value, 6) if isinstance(value, float) else value


def _update_unit(session: Session, old: dict[str, object], new: dict[str, object],
                 actor: Actor | None) -> None:
    changes = {k: new[k] for k in COMPARED if _norm(old[k]) != _norm(new[k])}
    session.execute(update(OrgUnit).where(OrgUnit.id == old["id"]).values(**changes))
    record_event(session, action="update", object_type="org_unit", object_id=old["id"],
                 actor=actor, before={k: old[k] for k in changes}, after=changes)


def _index_new(session: Session, index: UnitIndex, rows: list[dict[str, object]]) -> None:
    codes = {str(r["code"]) for r in rows}
    found = session.execute(
        select(OrgUnit.code, OrgUnit.valid_from, OrgUnit.valid_to, OrgUnit.id)
        .where(OrgUnit.code.in_(codes))).all() if len(codes) < 500 else session.execute(
        select(OrgUnit.code, OrgUnit.valid_from, OrgUnit.valid_to, OrgUnit.id)).all()
    for code, start, end, unit_id in found:
        if (code, start) not in index.ids:
            index.add(code, start, end, unit_id)


def _load_lineage(session: Session, links: list[LineageRecord], index: UnitIndex,
                  summary: LoadSummary) -> None:
    existing: set[tuple[int, int, dt.date]] = {
        (pred, succ, day) for pred, succ, day in session.execute(
            select(UnitLineage.predecessor_id, UnitLineage.successor_id,
                   UnitLineage.event_date))}
    new_rows = []
    for link in links:
        pred = index.ids.get((link.predecessor_code, link.predecessor_valid_from))
        succ = index.ids.get((link.successor_code, link.successor_valid_from))
        if pred is None or succ is None:
            continue  # outside the provinces chosen for this load
        if (pred, succ, link.event_date) in existing:
            summary.lineage_unchanged += 1
            continue
        existing.add((pred, succ, link.event_date))
        new_rows.append({"predecessor_id": pred, "successor_id": succ,
                         "event_date": link.event_date, "kind": link.kind,
                         "share": link.share, "is_primary": link.is_primary,
                         "legal_basis": link.legal_basis})
    if new_rows:
        session.execute(insert(UnitLineage), new_rows)
    summary.lineage_inserted += len(new_rows)


# ------------------------------------------------------------------ lookups


def get_unit(session: Session, code: str, on: dt.date | None = None) -> OrgUnit:
    """The unit with this code valid on `on` (today by default); raises UnitNotFound."""
    day = on or today()
    code = nfc(code)
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code, valid_on(day)))
    if unit is None:
        raise UnitNotFound(code, day)
    return unit


def get_unit_by_id(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise UnitNotFound(str(unit_id), today())
    return unit


def _ordered(query: Select) -> Select:  # type: ignore[type-arg]
    # Sorted on the accent-free key: the same order on SQLite and PostgreSQL collations.
    return (query.join(UnitKind, UnitKind.code == OrgUnit.kind)
            .order_by(UnitKind.level, OrgUnit.search_key, OrgUnit.code))


def find_units(session: Session, text: str, on: dt.date | None = None, *,
               kind: str | None = None, parent_id: int | None = None,
               limit: int = 100) -> list[OrgUnit]:
    """Units whose name contains `text`, ignoring case, normalisation and tone placement;
    text typed without diacritics matches accent-free ('dong dang' → Đồng Đăng)."""
    typed = nfc(text)
    if not typed:
        return []
    keyed, bare = name_key(typed), accent_free_key(typed)
    column, needle = ((OrgUnit.search_key, bare) if keyed == bare
                      else (OrgUnit.name_key, keyed))
    query = select(OrgUnit).where(column.like(f"%{_escape_like(needle)}%", escape="\\"),
                                  valid_on(on or today()))
    if kind:
        query = query.where(OrgUnit.kind == kind)
    if parent_id is not None:
        query = query.where(OrgUnit.parent_id == parent_id)
    return list(session.scalars(_ordered(query).limit(limit)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def top_units(session: Session, on: dt.date | None = None, *,
              kind: str | None = None) -> list[OrgUnit]:
    """Units without a parent (provinces) valid on the date."""
    query = select(OrgUnit).where(OrgUnit.parent_id.is_(None), valid_on(on or today()))
    if kind:
        query = query.where(OrgUnit.kind == kind)
    return list(session.scalars(_ordered(query)))


def children(session: Session, unit_id: int, on: dt.date | None = None, *,
             kind: str | None = None) -> list[OrgUnit]:
    """Direct sub-units valid on the date (today by default), departments before
    communes, then by name."""
    query = select(OrgUnit).where(OrgUnit.parent_id == unit_id, valid_on(on or today()))
    if kind:
        query = query.where(OrgUnit.kind == kind)
    return list(session.scalars(_ordered(query)))


def children_count(session: Session, unit_id: int, on: dt.date | None = None) -> int:
    return session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.parent_id == unit_id, valid_on(on or today()))) or 0


def descendant_ids(session: Session, unit_id: int, on: dt.date | None = None) -> list[int]:
    """Ids of every unit below this one (not itself) valid on the date; one query a level."""
    day = on or today()
    found: list[int] = []
    level = [unit_id]
    while level:
        level = list(session.scalars(select(OrgUnit.id).where(
            OrgUnit.parent_id.in_(level), valid_on(day))))
        level = [i for i in level if i not in found]
        found.extend(level)
    return found


# ------------------------------------------------------------------ lineage


@dataclass(frozen=True)
class LineageLink:
    """One side of a lineage link, seen from the unit asked about."""

    unit: OrgUnit
    kind: str
    event_date: dt.date
    share: float
    is_primary: bool
    legal_basis: str


def successors(session: Session, unit_id: int) -> list[LineageLink]:
    """Units that took this one over (merge, split, rename, absorb)."""
    return _links(session, UnitLineage.predecessor_id, UnitLineage.successor_id, unit_id)


def predecessors(session: Session, unit_id: int) -> list[LineageLink]:
    """Units this one was formed from."""
    return _links(session, UnitLineage.successor_id, UnitLineage.predecessor_id, unit_id)


def _links(session: Session, this_side, other_side, unit_id: int) -> list[LineageLink]:  # type: ignore[no-untyped-def]
    rows = session.execute(
        select(UnitLineage, OrgUnit).join(OrgUnit, OrgUnit.id == other_side)
        .where(this_side == unit_id)
        .order_by(UnitLineage.event_date, UnitLineage.is_primary.desc(), OrgUnit.search_key)
    ).all()
    return [LineageLink(unit=unit, kind=link.kind, event_date=link.event_date,
                        share=link.share, is_primary=link.is_primary,
                        legal_basis=link.legal_basis) for link, unit in rows]


def current_successor(session: Session, unit_id: int, on: dt.date | None = None
                      ) -> OrgUnit | None:
    """The unit valid on `on` (today) that this one became, following primary links;
    the unit itself when it is still valid; None when the chain ends nowhere valid."""
    day = on or today()
    seen: set[int] = set()
    current: int | None = unit_id
    while current is not None and current not in seen:
        seen.add(current)
        unit = session.get(OrgUnit, current)
        if unit is None:
            return None
        if unit.is_valid_on(day):
            return unit
        current = session.scalar(
            select(UnitLineage.successor_id).where(UnitLineage.predecessor_id == current,
                                                   UnitLineage.is_primary.is_(True))
            .order_by(UnitLineage.event_date.desc()).limit(1))
    return None


def current_successor_ids(session: Session, on: dt.date | None = None) -> dict[int, int]:
    """For every unit not valid on `on` (today) whose primary lineage leads to one that is:
    old id → that unit's id. Set-wise, for roll-ups of history onto today's units
    (units valid on the date map to themselves implicitly and are left out)."""
    day = on or today()
    valid = set(session.scalars(select(OrgUnit.id).where(valid_on(day))))
    primary: dict[int, int] = {}
    for pred, succ, _date in session.execute(
            select(UnitLineage.predecessor_id, UnitLineage.successor_id,
                   UnitLineage.event_date).where(UnitLineage.is_primary.is_(True))
            .order_by(UnitLineage.event_date)):
        primary[pred] = succ  # the latest event wins, as in current_successor
    resolved: dict[int, int] = {}
    for start in primary:
        if start not in valid:
            target = _follow(start, primary, valid, resolved)
            if target is not None:
                resolved[start] = target
    return resolved


def _follow(start: int, primary: dict[int, int], valid: set[int],
            resolved: dict[int, int]) -> int | None:
    seen: set[int] = set()
    current: int | None = start
    while current is not None and current not in seen:
        if current in valid:
            return current
        if current in resolved:
            return resolved[current]
        seen.add(current)
        current = primary.get(current)
    return None


# ------------------------------------------------------------------ departments


def load_departments(session: Session, path: str | Path, *, access: Access,
                     dry_run: bool = False) -> DepartmentSummary:
    """Load an editable departments file (sở, ban, ngành; see departments-20.yaml), as
    `access` (MANAGE on the installation's unit). All or nothing: any error raises
    DepartmentFileError listing every problem."""
    from chiso.units.departments import load_departments_file  # it imports this module

    require_booted()
    require_manage_installation(session, access)
    return load_departments_file(session, Path(path), dry_run=dry_run, actor=access.actor)


# The loaders `chiso init` runs (chiso.setup.reference_loaders): shipped data, idempotent,
# loaded by the set-up job itself.


def load_shipped_unit_kinds(session: Session) -> int:
    return load_unit_kinds(session, access=Access.system(session, "setup"))


def load_shipped_units(session: Session) -> LoadSummary:
    return load_official_units(session, access=Access.system(session, "setup"))


def load_shipped_departments(session: Session) -> list[DepartmentSummary]:
    """The departments files shipped in chiso/units/data (departments-<province>.yaml)."""
    access = Access.system(session, "setup")
    return [load_departments(session, path, access=access)
            for path in sorted(DATA_DIR.glob("departments-*.yaml"))]

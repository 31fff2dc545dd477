"""The editable departments file (sở, ban, ngành): validate everything, then write.

Format (see data/departments-20.yaml): `province`, `kind`, a list of `units` (code, name,
short_name, name_en, optional kind, valid_from, valid_to) and a list of `lineage` links
(from, to, kind, date, primary, share, legal_basis) with `lineage_defaults`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from chiso.accounts.access import Actor
from chiso.audit.service import record_event
from chiso.errors import UserError
from chiso.text import accent_free_key, name_key, nfc, parse_date, vn_today
from chiso.units.models import FAR_PAST, OrgUnit, UnitKind, UnitLineage
from chiso.units.service import UnitIndex, ensure_unit_kinds

CODE_PATTERN = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
LINK_KINDS = ("merge", "split", "rename", "absorb")
EDITABLE = ("name", "short_name", "name_en", "kind", "parent_id", "valid_to", "name_key",
            "search_key")


class DepartmentFileError(UserError, ValueError):
    """Every problem found in a departments file; nothing was stored (422). Each problem
    is one line, Vietnamese / English."""

    status = 422

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.partition(" / ")[0] for p in problems),
                         "\n".join(p.partition(" / ")[2] or p for p in problems),
                         issues=problems)

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass
class DepartmentSummary:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    lineage_inserted: int = 0
    lineage_unchanged: int = 0
    dry_run: bool = False


@dataclass
class Department:
    code: str
    name: str
    short_name: str
    name_en: str
    kind: str
    valid_from: dt.date
    valid_to: dt.date | None
    parent_id: int | None = None


@dataclass
class Link:
    source: str
    target: str
    kind: str
    date: dt.date
    primary: bool
    share: float
    legal_basis: str


class Problems:
    """Collects bilingual messages that name the file and the entry."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, where_vi: str, where_en: str, vi: str, en: str) -> None:
        self.items.append(f"{self.path.name}, {where_vi}: {vi} / {self.path.name}, "
                          f"{where_en}: {en}")


def load_departments_file(session: Session, path: Path, *, dry_run: bool = False,
                          actor: Actor | None) -> DepartmentSummary:
    """Check the whole file, then write it as `actor` (the caller checked its access:
    `chiso.units.service.load_departments`)."""
    problems = Problems(path)
    document = _read_yaml(path, problems)
    ensure_unit_kinds(session, actor)
    kinds = set(session.scalars(select(UnitKind.code)))
    departments = _parse_units(document, kinds, problems)
    links = _parse_links(document, problems)
    index = UnitIndex.from_db(session)
    _resolve_parents(document, departments, index, problems)
    _check_links(links, departments, index, problems)
    if problems.items:
        raise DepartmentFileError(problems.items)
    summary = DepartmentSummary(dry_run=dry_run)
    _write_departments(session, departments, index, summary, actor, dry_run)
    if not dry_run:
        _write_links(session, links, departments, index, summary, actor)
        session.flush()
    return summary


def _read_yaml(path: Path, problems: Problems) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise DepartmentFileError([f"Không đọc được tệp {path}: {exc} / cannot read file "
                                   f"{path}: {exc}"]) from exc
    except yaml.YAMLError as exc:
        raise DepartmentFileError([f"{path.name}: YAML không hợp lệ: {exc} / "
                                   f"{path.name}: invalid YAML: {exc}"]) from exc
    if not isinstance(document, dict) or not isinstance(document.get("units"), list):
        raise DepartmentFileError([
            f"{path.name}: thiếu danh sách 'units' / {path.name}: no 'units' list"])
    return document


def _date_field(entry: dict[str, Any], key: str, where: tuple[str, str],
                problems: Problems) -> dt.date | None:
    value = entry.get(key)
    if value in (None, ""):
        return None
    try:
        return parse_date(value)
    except ValueError:
        problems.add(*where, f"trường '{key}' = '{value}' không phải ngày",
                     f"field '{key}' = '{value}' is not a date")
        return None


def _parse_units(document: dict[str, Any], kinds: set[str], problems: Problems
                 ) -> list[Department]:
    default_kind = nfc(document.get("kind") or "so_ban_nganh")
    parsed: list[Department] = []
    seen: set[tuple[str, dt.date]] = set()
    for number, entry in enumerate(document["units"], start=1):
        if not isinstance(entry, dict):
            problems.add(f"mục {number}", f"entry {number}", "không phải một bản ghi",
                         "is not a mapping")
            continue
        code = nfc(entry.get("code"))
        where = (f"mục {number} ({code or '?'})", f"entry {number} ({code or '?'})")
        department = _department(entry, code, default_kind, kinds, where, problems)
        if department is None:
            continue
        key = (department.code, department.valid_from)
        if key in seen:
            problems.add(*where, "trùng mã và ngày bắt đầu với một mục trước",
                         "same code and start date as an earlier entry")
        seen.add(key)
        parsed.append(department)
    return parsed


def _department(entry: dict[str, Any], code: str, default_kind: str, kinds: set[str],
                where: tuple[str, str], problems: Problems) -> Department | None:
    before = len(problems.items)
    if not CODE_PATTERN.match(code):
        problems.add(*where, "mã trống hoặc có ký tự không hợp lệ (chữ, số, . _ -)",
                     "code is empty or has invalid characters (letters, digits, . _ -)")
    name = nfc(entry.get("name"))
    if not name:
        problems.add(*where, "thiếu tên (name)", "name is missing")
    kind = nfc(entry.get("kind") or default_kind)
    if kind not in kinds:
        problems.add(*where, f"loại đơn vị '{kind}' không có trong danh mục",
                     f"unit kind '{kind}' is not in the list of kinds")
    start = _date_field(entry, "valid_from", where, problems) or FAR_PAST
    end = _date_field(entry, "valid_to", where, problems)
    if end is not None and end < start:
        problems.add(*where, "ngày kết thúc trước ngày bắt đầu",
                     "valid_to is before valid_from")
    if len(problems.items) > before:
        return None
    return Department(code=code, name=name, short_name=nfc(entry.get("short_name")),
                      name_en=nfc(entry.get("name_en")), kind=kind, valid_from=start,
                      valid_to=end)


def _parse_links(document: dict[str, Any], problems: Problems) -> list[Link]:
    defaults = document.get("lineage_defaults") or {}
    links = []
    for number, entry in enumerate(document.get("lineage") or [], start=1):
        merged = {**defaults, **(entry if isinstance(entry, dict) else {})}
        where = (f"lineage mục {number}", f"lineage entry {number}")
        kind = nfc(merged.get("kind") or "merge")
        if kind not in LINK_KINDS:
            problems.add(*where, f"loại '{kind}' không hợp lệ ({', '.join(LINK_KINDS)})",
                         f"kind '{kind}' is not one of {', '.join(LINK_KINDS)}")
        date = _date_field(merged, "date", where, problems)
        if date is None:
            problems.add(*where, "thiếu ngày (date)", "date is missing")
            continue
        links.append(Link(source=nfc(merged.get("from")), target=nfc(merged.get("to")),
                          kind=kind, date=date, primary=bool(merged.get("primary", True)),
                          share=float(merged.get("share", 1.0)),
                          legal_basis=nfc(merged.get("legal_basis"))[:200]))
    return links


def _resolve_parents(document: dict[str, Any], departments: list[Department],
                     index: UnitIndex, problems: Problems) -> None:
    province = nfc(document.get("province"))
    for department in departments:
        # A department older than its (re-formed) province hangs under today's province.
        parent = (index.valid_id(province, department.valid_from)
                  or index.valid_id(province, department.valid_to or vn_today()))
        if parent is None:
            problems.add(f"mục {department.code}", f"entry {department.code}",
                         f"tỉnh '{province}' chưa có trong danh mục đơn vị (chạy "
                         "'chiso units load' trước)",
                         f"province '{province}' is not loaded (run 'chiso units load' first)")
        department.parent_id = parent


def _check_links(links: list[Link], departments: list[Department], index: UnitIndex,
                 problems: Problems) -> None:
    spans = {code: [(start, end) for start, end, _id in rows]
             for code, rows in index.by_code.items()}
    for d in departments:
        spans.setdefault(d.code, []).append((d.valid_from, d.valid_to))
    primaries: dict[str, int] = {}
    for number, link in enumerate(links, start=1):
        where = (f"lineage mục {number} ({link.source} → {link.target})",
                 f"lineage entry {number} ({link.source} → {link.target})")
        # The predecessor is the unit valid the day before; the successor the day itself.
        for code, day in ((link.source, link.date - dt.timedelta(days=1)),
                          (link.target, link.date)):
            if not any(s <= day and (e is None or day <= e) for s, e in spans.get(code, [])):
                problems.add(*where, f"không có đơn vị mã '{code}' hiệu lực ngày "
                             f"{day:%d/%m/%Y}", f"no unit with code '{code}' valid on "
                             f"{day.isoformat()}")
        if link.kind == "split":
            primaries[link.source] = primaries.get(link.source, 0) + int(link.primary)
    for source, count in primaries.items():
        if count != 1:
            problems.add(f"lineage {source}", f"lineage {source}",
                         f"tách đơn vị cần đúng một đơn vị kế thừa chính (primary), có {count}",
                         f"a split needs exactly one primary successor, found {count}")


def _values(d: Department) -> dict[str, object]:
    return {"code": d.code, "name": d.name, "short_name": d.short_name, "name_en": d.name_en,
            "kind": d.kind, "parent_id": d.parent_id, "valid_from": d.valid_from,
            "valid_to": d.valid_to, "name_key": name_key(d.name),
            "search_key": accent_free_key(d.name)}


def _write_departments(session: Session, departments: list[Department], index: UnitIndex,
                       summary: DepartmentSummary, actor: Actor | None, dry_run: bool) -> None:
    for department in departments:
        values = _values(department)
        unit_id = index.ids.get((department.code, department.valid_from))
        if unit_id is None:
            summary.inserted.append(department.code)
            if not dry_run:
                _insert(session, values, index, actor)
            continue
        old = session.get(OrgUnit, unit_id)
        changes = {k: values[k] for k in EDITABLE if getattr(old, k) != values[k]}
        if not changes:
            summary.unchanged.append(department.code)
            continue
        summary.updated.append(department.code)
        if not dry_run:
            before = {k: getattr(old, k) for k in changes}
            session.execute(update(OrgUnit).where(OrgUnit.id == unit_id).values(**changes))
            session.expire(old)
            record_event(session, action="update", object_type="org_unit", object_id=unit_id,
                         actor=actor, unit_id=unit_id, before=before, after=changes)


def _insert(session: Session, values: dict[str, object], index: UnitIndex,
            actor: Actor | None) -> None:
    unit_id = session.execute(insert(OrgUnit).values(**values)
                              .returning(OrgUnit.id)).scalar_one()
    index.add(str(values["code"]), values["valid_from"], values["valid_to"],  # type: ignore[arg-type]
              unit_id)
    record_event(session, action="create", object_type="org_unit", object_id=unit_id,
                 actor=actor, unit_id=unit_id, after=values)


def _write_links(session: Session, links: list[Link], departments: list[Department],
                 index: UnitIndex, summary: DepartmentSummary, actor: Actor | None) -> None:
    existing = set(session.execute(select(UnitLineage.predecessor_id,
                                          UnitLineage.successor_id,
                                          UnitLineage.event_date)))
    for link in links:
        pred = index.valid_id(link.source, link.date - dt.timedelta(days=1))
        succ = index.valid_id(link.target, link.date)
        if (pred, succ, link.date) in existing:
            summary.lineage_unchanged += 1
            continue
        values = {"predecessor_id": pred, "successor_id": succ, "event_date": link.date,
                  "kind": link.kind, "share": link.share, "is_primary": link.primary,
                  "legal_basis": link.legal_basis}
        session.execute(insert(UnitLineage).values(**values))
        record_event(session, action="create", object_type="unit_lineage",
                     object_id=f"{link.source}>{link.target}", actor=actor, after=values)
        summary.lineage_inserted += 1

"""The indicator catalogue: load the shipped YAML (or a user's own), look indicators up.

A catalogue file is validated as a whole before anything is written, so a file with one bad
entry stores nothing; loading the same file twice changes nothing the second time; every
created or changed pillar and indicator writes an audit event with its before and after.
The catalogue serves the whole installation: loading it takes a required `access` with
MANAGE on the installation's own unit (`CHISO_DEFAULT_UNIT`), or a system Access.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.accounts.access import Access, Actor
from chiso.audit.service import assign_fields, changed_fields, record_event
from chiso.boot import require_booted
from chiso.errors import NotFound
from chiso.indicators.models import (
    Direction,
    Indicator,
    IndicatorKind,
    Pillar,
    TimeAggregation,
    UnitAggregation,
)
from chiso.indicators.problems import InputRejected, Problem
from chiso.text import nfc, parse_number
from chiso.text.numbers import NumberError
from chiso.units.service import require_manage_installation

SHIPPED_CATALOG = Path(__file__).parent / "data" / "catalog.yaml"

CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)*$")
PILLAR_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")

# Which unit aggregations make sense for each kind (DESIGN §5.2): a ratio never sums its
# percentages, a count never divides.
ALLOWED_UNIT_AGGREGATION: dict[str, frozenset[str]] = {
    IndicatorKind.RATIO: frozenset({"ratio_of_sums", "none", "mean", "min", "max"}),
    IndicatorKind.COUNT: frozenset({"sum", "none", "mean", "min", "max"}),
    IndicatorKind.AMOUNT: frozenset({"sum", "none", "mean", "min", "max"}),
    IndicatorKind.SCORE: frozenset({"mean", "none", "min", "max"}),
    IndicatorKind.BOOLEAN: frozenset({"none", "mean", "min", "max"}),
}

TEXT_FIELDS = ("name_vi", "name_en", "definition_vi", "definition_en", "unit_vi", "unit_en",
               "data_source", "owner_unit_code", "legal_basis")
INDICATOR_FIELDS = (*TEXT_FIELDS, "kind", "direction", "unit_aggregation", "time_aggregation",
                    "scale", "decimals", "pillar_code", "active")
INDICATOR_KEYS = frozenset({"code", "pillar", "owner_unit", *INDICATOR_FIELDS}) - {
    "pillar_code", "owner_unit_code"}
PILLAR_FIELDS = ("name_vi", "name_en", "sort_order", "optional")


class IndicatorNotFound(NotFound):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"Không có chỉ số '{code}' trong danh mục",
                         f"no indicator '{code}' in the catalogue")


@dataclass
class CatalogSummary:
    """What a load did (or, in a dry run, would do)."""

    file: str
    version: str
    dry_run: bool
    pillars_inserted: list[str] = field(default_factory=list)
    pillars_updated: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.pillars_inserted or self.pillars_updated or self.inserted
                    or self.updated)


# ------------------------------------------------------------------------------ loading


def load_catalog(session: Session, path: str | Path | None = None, *, access: Access,
                 dry_run: bool = False) -> CatalogSummary:
    """Load the shipped catalogue, or a user's YAML that adds or updates indicators, as
    `access` (MANAGE on the installation's unit).

    Nothing is deleted: indicators absent from the file stay as they are.
    Raises InputRejected (bilingual, naming file, entry and field) before writing anything.
    """
    require_booted()
    require_manage_installation(session, access)
    actor = access.actor
    source = Path(path) if path else SHIPPED_CATALOG
    document = read_yaml_mapping(source)
    validator = _CatalogValidator(session, source.name, document)
    pillars, indicators = validator.run()
    summary = CatalogSummary(file=source.name, version=validator.version, dry_run=dry_run)
    _apply_pillars(session, pillars, summary, actor)
    _apply_indicators(session, indicators, summary, actor)
    if not dry_run:
        session.flush()
    return summary


def read_yaml_mapping(source: Path) -> dict[str, Any]:
    """Parse a YAML file whose top level is a mapping, or reject it naming the line."""
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8-sig"))
    except FileNotFoundError as exc:
        raise InputRejected([Problem(source.name, "không tìm thấy tệp", "file not found")]
                            ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputRejected([Problem(
            source.name, f"YAML sai cú pháp ở dòng {line}: {exc}",
            f"invalid YAML at line {line}", row=line, spreadsheet=True)]) from exc
    if not isinstance(document, dict):
        raise InputRejected([Problem(source.name, "nội dung phải là một bảng khóa: giá trị",
                                     "the top level must be a mapping")])
    return document


class _CatalogValidator:
    """Checks a whole catalogue document, collecting every problem before raising."""

    def __init__(self, session: Session, file: str, document: dict[str, Any]) -> None:
        self.session = session
        self.file = file
        self.document = document
        self.problems: list[Problem] = []
        self.version = nfc(document.get("version") or "")

    def run(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if not self.version:
            self._problem("", None, "version", "thiếu phiên bản danh mục (version: \"2026.1\")",
                          "missing catalogue version (version: \"2026.1\")")
        pillars = [p for p in self._entries("pillars", required=False) if p is not None]
        pillars = self._pillars(pillars)
        indicators = self._indicators(self._entries("indicators", required=True),
                                      {p["code"] for p in pillars})
        if self.problems:
            raise InputRejected(self.problems)
        return pillars, indicators

    def _problem(self, sheet: str, row: int | None, column: str, vi: str, en: str,
                 key: str = "") -> None:
        self.problems.append(Problem(self.file, vi, en, sheet=sheet, row=row, column=column,
                                     key=key))

    def _entries(self, name: str, *, required: bool) -> list[Any]:
        entries = self.document.get(name)
        if entries is None and not required:
            return []
        if not isinstance(entries, list):
            self._problem(name, None, "", f"'{name}' phải là một danh sách",
                          f"'{name}' must be a list")
            return []
        return entries

    # -- pillars

    def _pillars(self, entries: list[Any]) -> list[dict[str, Any]]:
        seen: set[str] = set()
        valid = []
        for index, entry in enumerate(entries, start=1):
            pillar = self._pillar(index, entry)
            if pillar is None:
                continue
            if pillar["code"] in seen:
                self._problem("pillars", index, "code", "mã trụ cột bị trùng",
                              "duplicate pillar code", key=pillar["code"])
            seen.add(pillar["code"])
            valid.append(pillar)
        return valid

    def _pillar(self, index: int, entry: Any) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            self._problem("pillars", index, "", "mục phải là bảng khóa: giá trị",
                          "entry must be a mapping")
            return None
        code = nfc(entry.get("code") or "")
        if not PILLAR_PATTERN.match(code):
            self._problem("pillars", index, "code", f"mã trụ cột '{code}' không hợp lệ "
                          "(chữ in hoa, số, gạch dưới)", f"invalid pillar code '{code}' "
                          "(capitals, digits, underscore)", key=code)
        pillar = {"code": code, "name_vi": nfc(entry.get("name_vi") or ""),
                  "name_en": nfc(entry.get("name_en") or ""),
                  "sort_order": entry.get("sort_order", 0),
                  "optional": bool(entry.get("optional", False))}
        for name in ("name_vi", "name_en"):
            if not pillar[name]:
                self._problem("pillars", index, name, "thiếu tên", "missing name", key=code)
        if not isinstance(pillar["sort_order"], int):
            self._problem("pillars", index, "sort_order", "thứ tự phải là số nguyên",
                          "sort_order must be an integer", key=code)
        return pillar

    # -- indicators

    def _indicators(self, entries: list[Any], file_pillars: set[str]) -> list[dict[str, Any]]:
        known_pillars = file_pillars | set(self.session.scalars(select(Pillar.code)))
        seen: dict[str, int] = {}
        valid = []
        for index, entry in enumerate(entries, start=1):
            indicator = _IndicatorEntry(self, index, entry, known_pillars).parse()
            if indicator is None:
                continue
            code = indicator["code"]
            if code in seen:
                self._problem("indicators", index, "code",
                              f"mã chỉ số bị trùng với mục {seen[code]}",
                              f"duplicate indicator code (also entry {seen[code]})", key=code)
            seen.setdefault(code, index)
            valid.append(indicator)
        return valid


class _IndicatorEntry:
    """One indicator entry: parsed into model fields, problems reported to the validator."""

    def __init__(self, validator: _CatalogValidator, index: int, entry: Any,
                 known_pillars: set[str]) -> None:
        self.validator = validator
        self.index = index
        self.entry = entry
        self.known_pillars = known_pillars
        self.code = ""

    def problem(self, column: str, vi: str, en: str) -> None:
        self.validator._problem("indicators", self.index, column, vi, en, key=self.code)

    def parse(self) -> dict[str, Any] | None:
        if not isinstance(self.entry, dict):
            self.problem("", "mục phải là bảng khóa: giá trị", "entry must be a mapping")
            return None
        self.code = nfc(self.entry.get("code") or "")
        if not CODE_PATTERN.match(self.code):
            self.problem("code", f"mã chỉ số '{self.code}' không hợp lệ (ví dụ CQS.HS_TRUC_TUYEN)",
                         f"invalid indicator code '{self.code}' (e.g. CQS.HS_TRUC_TUYEN)")
        for key in sorted(set(self.entry) - INDICATOR_KEYS):
            self.problem(key, "trường không được hỗ trợ", "unknown field")
        parsed: dict[str, Any] = {"code": self.code}
        parsed.update(self._texts())
        parsed.update(self._choices())
        parsed["scale"] = self._scale(parsed.get("kind"))
        parsed["decimals"] = self._decimals()
        parsed["pillar_code"] = self._pillar()
        parsed["active"] = bool(self.entry.get("active", True))
        self._check_aggregation(parsed.get("kind"), parsed.get("unit_aggregation"))
        return parsed

    def _texts(self) -> dict[str, str]:
        texts = {name: nfc(self.entry.get(name) or "") for name in TEXT_FIELDS
                 if name != "owner_unit_code"}
        texts["owner_unit_code"] = nfc(self.entry.get("owner_unit") or "")
        texts = {name: " ".join(value.split()) if name.startswith("name") else value.strip()
                 for name, value in texts.items()}
        for name in ("name_vi", "name_en"):
            if not texts[name]:
                self.problem(name, "thiếu tên chỉ số", "missing indicator name")
        return texts

    def _choices(self) -> dict[str, str]:
        choices: dict[str, str] = {}
        for name, enum, default in (("kind", IndicatorKind, None),
                                    ("direction", Direction, Direction.HIGHER),
                                    ("unit_aggregation", UnitAggregation, None),
                                    ("time_aggregation", TimeAggregation, None)):
            raw = self.entry.get(name, default)
            allowed = ", ".join(e.value for e in enum)
            if raw is None:
                self.problem(name, f"thiếu giá trị (một trong: {allowed})",
                             f"missing value (one of: {allowed})")
                continue
            value = nfc(raw).lower()
            if value not in {e.value for e in enum}:
                self.problem(name, f"giá trị '{raw}' không hợp lệ (một trong: {allowed})",
                             f"unknown value '{raw}' (one of: {allowed})")
                continue
            choices[name] = value
        return choices

    def _scale(self, kind: str | None) -> float:
        raw = self.entry.get("scale")
        if raw is None:
            if kind == IndicatorKind.RATIO:
                self.problem("scale",
                             "chỉ số tỷ lệ phải khai báo hệ số 'scale' (100 cho phần trăm)",
                             "a ratio needs a 'scale' (100 for a percentage)")
            return 1.0
        try:
            scale = float(parse_number(raw).value)
        except NumberError:
            scale = 0.0
        if scale <= 0:
            self.problem("scale", f"hệ số '{raw}' phải là số dương",
                         f"scale '{raw}' must be a positive number")
        return scale

    def _decimals(self) -> int:
        raw = self.entry.get("decimals", 1)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 6:
            self.problem("decimals", f"số chữ số thập phân '{raw}' phải là số nguyên từ 0 đến 6",
                         f"decimals '{raw}' must be an integer from 0 to 6")
            return 1
        return raw

    def _pillar(self) -> str | None:
        raw = self.entry.get("pillar")
        if raw is None:
            self.problem("pillar", "thiếu trụ cột", "missing pillar")
            return None
        code = nfc(raw)
        if code not in self.known_pillars:
            self.problem("pillar", f"trụ cột '{code}' không có trong tệp hay trong cơ sở dữ liệu",
                         f"pillar '{code}' is neither in the file nor in the database")
        return code

    def _check_aggregation(self, kind: str | None, aggregation: str | None) -> None:
        if kind is None or aggregation is None:
            return
        allowed = ALLOWED_UNIT_AGGREGATION[kind]
        if aggregation not in allowed:
            self.problem(
                "unit_aggregation",
                f"chỉ số loại '{kind}' không thể tổng hợp theo '{aggregation}' "
                f"(được dùng: {', '.join(sorted(allowed))})",
                f"a '{kind}' indicator cannot aggregate by '{aggregation}' "
                f"(allowed: {', '.join(sorted(allowed))})")


# ------------------------------------------------------------------------------ applying


def _apply_pillars(session: Session, pillars: list[dict[str, Any]], summary: CatalogSummary,
                   actor: Actor | None) -> None:
    for data in pillars:
        existing = session.get(Pillar, data["code"])
        if existing is None:
            summary.pillars_inserted.append(data["code"])
            if not summary.dry_run:
                session.add(Pillar(**data))
                record_event(session, action="pillar.create", object_type="pillar",
                             object_id=data["code"], actor=actor, after=data,
                             note=f"catalogue {summary.file} {summary.version}")
            continue
        before, after = changed_fields(existing, data, PILLAR_FIELDS)
        if after:
            summary.pillars_updated.append(data["code"])
            if not summary.dry_run:
                assign_fields(existing, after)
                record_event(session, action="pillar.update", object_type="pillar",
                             object_id=data["code"], actor=actor, before=before, after=after,
                             note=f"catalogue {summary.file} {summary.version}")
    if pillars and not summary.dry_run:
        session.flush()  # indicators refer to pillars by foreign key


def _apply_indicators(session: Session, indicators: list[dict[str, Any]],
                      summary: CatalogSummary, actor: Actor | None) -> None:
    codes = [data["code"] for data in indicators]
    existing = {i.code: i for i in session.scalars(select(Indicator).where(
        Indicator.code.in_(codes)))} if codes else {}
    for data in indicators:
        current = existing.get(data["code"])
        if current is None:
            summary.inserted.append(data["code"])
            if not summary.dry_run:
                _insert_indicator(session, data, summary, actor)
            continue
        before, after = changed_fields(current, data, INDICATOR_FIELDS)
        if not after:
            summary.unchanged.append(data["code"])
            continue
        summary.updated.append(data["code"])
        if not summary.dry_run:
            assign_fields(current, {**after, "catalog_version": summary.version})
            record_event(session, action="indicator.update", object_type="indicator",
                         object_id=data["code"], actor=actor, before=before, after=after,
                         note=f"catalogue {summary.file} {summary.version}")


def _insert_indicator(session: Session, data: dict[str, Any], summary: CatalogSummary,
                      actor: Actor | None) -> None:
    indicator = Indicator(**data, catalog_version=summary.version)
    session.add(indicator)
    record_event(session, action="indicator.create", object_type="indicator",
                 object_id=data["code"], actor=actor, after=data,
                 note=f"catalogue {summary.file} {summary.version}")


def load_shipped_catalog(session: Session) -> CatalogSummary:
    """The reference loader run by `chiso init`: the shipped catalogue, idempotent."""
    return load_catalog(session, access=Access.system(session, "setup"))


# ------------------------------------------------------------------------------ reading


def get_indicator(session: Session, code: str) -> Indicator:
    indicator = session.scalar(select(Indicator).where(Indicator.code == nfc(code).strip()))
    if indicator is None:
        raise IndicatorNotFound(code)
    return indicator


def list_pillars(session: Session) -> list[Pillar]:
    return list(session.scalars(select(Pillar).order_by(Pillar.sort_order, Pillar.code)))


def list_indicators(session: Session, pillar: str | None = None, *, active_only: bool = True
                    ) -> list[Indicator]:
    query = select(Indicator).outerjoin(Pillar, Pillar.code == Indicator.pillar_code)
    if pillar:
        query = query.where(Indicator.pillar_code == pillar.strip().upper())
    if active_only:
        query = query.where(Indicator.active.is_(True))
    # Within a pillar, the catalogue file's own order (insertion order), which is curated.
    return list(session.scalars(query.order_by(Pillar.sort_order, Indicator.id)))


def indicator_as_dict(indicator: Indicator) -> dict[str, Any]:
    """The public shape of an indicator (API and exports)."""
    return {"code": indicator.code, "pillar": indicator.pillar_code,
            **{name: getattr(indicator, name) for name in INDICATOR_FIELDS
               if name != "pillar_code"},
            "catalog_version": indicator.catalog_version}


def pillar_as_dict(pillar: Pillar) -> dict[str, Any]:
    return {"code": pillar.code, **{name: getattr(pillar, name) for name in PILLAR_FIELDS}}

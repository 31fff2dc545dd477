"""What the extractor matches against: the indicator catalogue and the register of units
(provinces and their sở, ban, ngành). Owners of tasks are matched to this register, never
guessed by a named-entity model (which reads 'Sở Khoa học và Công nghệ' as a place).

Built from the database for the service, or from the shipped files for the benchmark (no
database, same matching), so the bench measures exactly what users get.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from chiso.indicators.models import Indicator, Pillar
from chiso.units.models import OrgUnit

PROVINCE_KINDS = ("tinh", "thanh_pho_tw")
DEPARTMENT_KINDS = ("so_ban_nganh",)
_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class IndicatorEntry:
    code: str
    name_vi: str
    unit_vi: str
    kind: str
    pillar_code: str | None
    id: int | None = None


@dataclass(frozen=True)
class UnitEntry:
    code: str
    name: str
    short_name: str
    kind: str
    id: int | None = None

    @property
    def is_province(self) -> bool:
        return self.kind in PROVINCE_KINDS


@dataclass
class Registers:
    indicators: list[IndicatorEntry]
    units: list[UnitEntry]
    pillars: dict[str, str] = field(default_factory=dict)  # code → Vietnamese name

    @classmethod
    def from_session(cls, session: Session) -> Registers:
        indicators = [IndicatorEntry(i.code, i.name_vi, i.unit_vi, i.kind, i.pillar_code, i.id)
                      for i in session.scalars(select(Indicator).where(Indicator.active)
                                               .order_by(Indicator.code))]
        kinds = PROVINCE_KINDS + DEPARTMENT_KINDS
        units = [UnitEntry(u.code, u.name, u.short_name, u.kind, u.id)
                 for u in session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(kinds))
                                          .order_by(OrgUnit.valid_from.desc()))]
        pillars = {p.code: p.name_vi for p in session.scalars(select(Pillar))}
        return cls(indicators, _newest_first_unique(units), pillars)

    @classmethod
    def from_shipped_files(cls) -> Registers:
        """The catalogue and unit files chiso ships, read without a database."""
        catalog = yaml.safe_load((_ROOT / "indicators/data/catalog.yaml").read_text("utf-8"))
        indicators = [IndicatorEntry(e["code"], e["name_vi"], str(e.get("unit_vi", "")),
                                     e["kind"], e.get("pillar"))
                      for e in catalog["indicators"] if e.get("active", True)]
        pillars = {p["code"]: p["name_vi"] for p in catalog["pillars"]}
        return cls(indicators, _shipped_units(), pillars)


def _shipped_units() -> list[UnitEntry]:
    units: list[UnitEntry] = []
    for name in ("units-2025.csv.gz", "units-legacy.csv.gz"):
        with gzip.open(_ROOT / "units/data" / name, "rt", encoding="utf-8") as handle:
            units += [UnitEntry(r["code"], r["name"], r["short_name"], r["kind"])
                      for r in csv.DictReader(handle) if r["kind"] in PROVINCE_KINDS]
    for path in sorted((_ROOT / "units/data").glob("departments-*.yaml")):
        document = yaml.safe_load(path.read_text("utf-8"))
        units += [UnitEntry(str(e["code"]), e["name"], e.get("short_name", ""),
                            e.get("kind", document.get("kind", "so_ban_nganh")))
                  for e in document["units"]]
    return _newest_first_unique(units)


def _newest_first_unique(units: list[UnitEntry]) -> list[UnitEntry]:
    seen: set[str] = set()
    unique = []
    for unit in units:
        if unit.code not in seen:
            seen.add(unit.code)
            unique.append(unit)
    return unique

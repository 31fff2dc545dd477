"""Reading the shipped unit data files (written by scripts/derive_units.py)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).parent / "data"
UNIT_FILES = ("units-legacy.csv.gz", "units-2025.csv.gz")
LINEAGE_FILES = ("lineage-2025.csv.gz",)


@dataclass(frozen=True)
class UnitRecord:
    code: str
    name: str
    short_name: str
    name_en: str
    kind: str
    parent_code: str
    valid_from: dt.date
    valid_to: dt.date | None
    area_km2: float | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class LineageRecord:
    predecessor_code: str
    predecessor_valid_from: dt.date
    successor_code: str
    successor_valid_from: dt.date
    event_date: dt.date
    kind: str
    share: float
    is_primary: bool
    legal_basis: str


def read_kinds(path: Path = DATA_DIR / "unit_kinds.yaml") -> list[dict[str, Any]]:
    rows = yaml.safe_load(path.read_text("utf-8"))
    return [{"code": str(r["code"]), "name_vi": str(r["name_vi"]),
             "name_en": str(r["name_en"]), "level": int(r["level"])} for r in rows]


def _rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _float(text: str) -> float | None:
    return float(text) if text else None


def _unit(row: dict[str, str]) -> UnitRecord:
    return UnitRecord(
        code=row["code"], name=row["name"], short_name=row["short_name"],
        name_en=row["name_en"], kind=row["kind"], parent_code=row["parent_code"],
        valid_from=dt.date.fromisoformat(row["valid_from"]), valid_to=_date(row["valid_to"]),
        area_km2=_float(row["area_km2"]), latitude=_float(row["latitude"]),
        longitude=_float(row["longitude"]),
    )


def _link(row: dict[str, str]) -> LineageRecord:
    return LineageRecord(
        predecessor_code=row["predecessor_code"],
        predecessor_valid_from=dt.date.fromisoformat(row["predecessor_valid_from"]),
        successor_code=row["successor_code"],
        successor_valid_from=dt.date.fromisoformat(row["successor_valid_from"]),
        event_date=dt.date.fromisoformat(row["event_date"]), kind=row["kind"],
        share=float(row["share"]), is_primary=row["is_primary"] == "1",
        legal_basis=row["legal_basis"],
    )


@lru_cache(maxsize=2)
def _read_all(data_dir: Path) -> tuple[list[UnitRecord], list[LineageRecord]]:
    # The shipped files never change while the process runs; records are frozen.
    units = [_unit(r) for name in UNIT_FILES for r in _rows(data_dir / name)]
    links = [_link(r) for name in LINEAGE_FILES for r in _rows(data_dir / name)]
    return units, links


def read_official(data_dir: Path = DATA_DIR, *, provinces: set[str] | None = None
                  ) -> tuple[list[UnitRecord], list[LineageRecord]]:
    """All shipped units and lineage links; with `provinces` (today's codes), only those
    provinces, the old provinces merged into them, and everything below them."""
    units, links = _read_all(data_dir)
    if provinces is None:
        return units, links
    keep = _province_subtrees(units, links, provinces)
    units = [u for u in units if (u.code, u.valid_from) in keep]
    links = [lk for lk in links if (lk.predecessor_code, lk.predecessor_valid_from) in keep
             and (lk.successor_code, lk.successor_valid_from) in keep]
    return units, links


def _province_subtrees(units: list[UnitRecord], links: list[LineageRecord],
                       provinces: set[str]) -> set[tuple[str, dt.date]]:
    roots = {(u.code, u.valid_from) for u in units if not u.parent_code and u.code in provinces}
    roots |= {(lk.predecessor_code, lk.predecessor_valid_from) for lk in links
              if (lk.successor_code, lk.successor_valid_from) in roots}
    root_codes = {code for code, _ in roots}
    keep = set(roots)
    # Parents are named by code and resolved by date; codes of different levels never
    # collide (2, 3 and 5 digits), so following codes down the tree is safe here.
    frontier = root_codes
    while frontier:
        level = [u for u in units if u.parent_code in frontier]
        keep |= {(u.code, u.valid_from) for u in level}
        frontier = {u.code for u in level} - root_codes
        root_codes |= frontier
    return keep

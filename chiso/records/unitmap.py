"""Which org unit a dossier counts under, and the units above it.

A receiving-unit code is resolved to the unit that carried it in the dossier's month
(codes were re-used by the 2025 reform, so a code alone is ambiguous). When that unit no
longer existed in the month — an old commune code still used after the merger of
1/7/2025 — the lineage is followed to the successor valid then. With `current=True`
every code maps to today's successor whatever the month: the view "on today's
boundaries" used to show a merged commune's history as one series.

"Month" is a period month id (YYYYMM) under a calendar: the civil month by default; under
Nghị định 09/2019 month 202601 runs from 15/12/2025 to 14/01/2026, and a unit is valid in it
when its validity overlaps those dates (the values service's rule).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chiso.db.engine import bind_url as _bind_url
from chiso.periods import Calendar, Period, PeriodType
from chiso.units.models import OrgUnit, UnitLineage

CACHE_SECONDS = 60.0
_CACHE: dict[tuple[object, ...], tuple[float, UnitResolver]] = {}


@dataclass(frozen=True)
class UnitRow:
    id: int
    code: str
    parent_id: int | None
    valid_from: dt.date
    valid_to: dt.date | None

    def valid_in(self, first: dt.date, last: dt.date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)


@lru_cache(maxsize=8192)
def month_bounds(month: int, calendar: Calendar = Calendar.STANDARD
                 ) -> tuple[dt.date, dt.date]:
    """First and last day of period month `month` (YYYYMM) under `calendar`."""
    period = Period(int(month) // 100, PeriodType.MONTH, int(month) % 100)
    return period.start(calendar), period.end(calendar)


def month_bounds_exprs(calendar: Calendar) -> tuple[pl.Expr, pl.Expr]:
    """`month_bounds` as polars expressions over an integer column `month`."""
    year, mon = pl.col("month") // 100, pl.col("month") % 100
    civil = pl.date(year, mon, 1)
    if calendar is Calendar.CUTOFF_ND09:
        return (civil.dt.offset_by("-1mo").dt.offset_by("14d"), civil.dt.offset_by("13d"))
    return civil, civil.dt.month_end()


def unit_codes(session: Session) -> list[str]:
    """Every unit code, of any time (a feed names units by code)."""
    return list(session.scalars(select(OrgUnit.code).distinct()))


class UnitResolver:
    """Loads the unit tree and lineage once; resolves (code, month) pairs in memory."""

    @classmethod
    def cached(cls, session: Session) -> UnitResolver:
        """A resolver reused for a minute while the unit and lineage tables keep the same
        size and highest id: an incremental batch need not reload 13,000 units. A full
        recompute builds a fresh one."""
        key = (_bind_url(session),
               *session.execute(select(func.count(OrgUnit.id), func.max(OrgUnit.id),
                                       func.sum(OrgUnit.parent_id),
                                       func.max(OrgUnit.valid_to))).one(),
               *session.execute(select(func.count(UnitLineage.id),
                                       func.max(UnitLineage.id))).one())
        found = _CACHE.get(key)
        if found is None or time.monotonic() - found[0] > CACHE_SECONDS:
            _CACHE.clear()
            found = _CACHE[key] = (time.monotonic(), cls(session))
        return found[1]

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.parent_id,
                                      OrgUnit.valid_from, OrgUnit.valid_to)).all()
        self.units = {r.id: UnitRow(r.id, r.code, r.parent_id, r.valid_from, r.valid_to)
                      for r in rows}
        self.by_code: dict[str, list[UnitRow]] = {}
        for unit in sorted(self.units.values(), key=lambda u: u.valid_from):
            self.by_code.setdefault(unit.code, []).append(unit)
        self._leaves_by_era: dict[tuple[str, tuple[int, int], bool, Calendar], int | None] = {}
        self.successor: dict[int, int] = {}
        links = session.execute(select(UnitLineage.predecessor_id, UnitLineage.successor_id,
                                       UnitLineage.is_primary, UnitLineage.event_date)
                                .order_by(UnitLineage.event_date)).all()
        for link in links:
            if link.is_primary and link.predecessor_id != link.successor_id:
                self.successor[link.predecessor_id] = link.successor_id

    def codes(self) -> list[str]:
        return list(self.by_code)

    def leaf(self, code: str, month: int, *, current: bool = False,
             calendar: Calendar = Calendar.STANDARD) -> int | None:
        candidates = self.by_code.get(code)
        if not candidates:
            return None
        first, last = month_bounds(month, calendar)
        # The unit that holds the code at the end of the period reports for it: under NĐ 09
        # period 07/2025 (15/06–14/07) belongs to the commune formed on 1/7, not to the one
        # it replaced (the values service accepts both, but a unit gone by then would leave
        # its ancestors — an abolished district — with a value for a period they missed).
        valid = [u for u in candidates if u.valid_in(last, last)] or [
            u for u in candidates if u.valid_in(first, last)]
        unit = valid[-1] if valid else max(
            (u for u in candidates if u.valid_from <= last), key=lambda u: u.valid_from,
            default=candidates[0])
        return self._follow(unit.id, None if current else (last, last))

    def successor_today(self, unit_id: int) -> int:
        """The unit that carries on `unit_id` today (itself when it was never merged)."""
        return self._follow(unit_id, None)

    def lineage(self, unit_id: int) -> list[int]:
        """The unit and every unit that carried it on, in order (primary links)."""
        chain = [unit_id]
        while chain[-1] in self.successor and self.successor[chain[-1]] not in chain:
            chain.append(self.successor[chain[-1]])
        return chain

    @cache  # noqa: B019  (one resolver per request or batch)
    def _edges(self, code: str) -> tuple[dt.date, ...]:
        days: set[dt.date] = set()
        for unit in self.by_code.get(code, []):
            chain, seen = [unit.id], {unit.id}
            while chain[-1] in self.successor and self.successor[chain[-1]] not in seen:
                chain.append(self.successor[chain[-1]])
                seen.add(chain[-1])
            for unit_id in chain:
                row = self.units[unit_id]
                days.add(row.valid_from)
                if row.valid_to:
                    days.add(row.valid_to + dt.timedelta(days=1))
        return tuple(sorted(days))

    def _follow(self, unit_id: int, month: tuple[dt.date, dt.date] | None) -> int:
        seen = {unit_id}
        while unit_id in self.successor:
            if month is not None and self.units[unit_id].valid_in(*month):
                break
            unit_id = self.successor[unit_id]
            if unit_id in seen:
                break
            seen.add(unit_id)
        return unit_id

    def ancestors(self, unit_id: int) -> list[int]:
        chain: list[int] = []
        current: int | None = unit_id
        while current is not None and current not in chain and current in self.units:
            chain.append(current)
            current = self.units[current].parent_id
        return chain

    @cached_property
    def root_of(self) -> dict[int, int]:
        """unit id → the top-level unit above it (by parent links)."""
        return {unit_id: self.ancestors(unit_id)[-1] for unit_id in self.units}

    @cached_property
    def codes_by_root(self) -> dict[int, frozenset[str]]:
        """Top-level unit → the codes whose records can count under it: the codes of every
        unit below it, and of every unit whose lineage leads into one (an old commune code
        still used after a merger counts under its successor). Built once per resolver, so
        an incremental batch scopes its read without walking the tree."""
        found: dict[int, set[str]] = {}
        for unit_id, unit in self.units.items():
            member: int | None = unit_id
            seen: set[int] = set()
            while member is not None and member not in seen:
                seen.add(member)
                found.setdefault(self.root_of[member], set()).add(unit.code)
                member = self.successor.get(member)
        return {root: frozenset(codes) for root, codes in found.items()}

    @cached_property
    def _constant(self) -> pl.DataFrame:
        """Codes naming one unit that has no successor: the same leaf in every month (most)."""
        return pl.DataFrame(
            [(code, units[0].id) for code, units in self.by_code.items()
             if len(units) == 1 and units[0].id not in self.successor],
            schema={"unit_code": pl.String, "leaf_id": pl.Int64}, orient="row")

    @cached_property
    def _edge_frame(self) -> pl.DataFrame:
        """unit_code, edge: the days on which a re-used or merged code may change unit."""
        constant = set(self._constant.get_column("unit_code").to_list())
        return pl.DataFrame(
            [(code, day) for code in self.by_code if code not in constant
             for day in self._edges(code)],
            schema={"unit_code": pl.String, "edge": pl.Date}, orient="row")

    def _resolved(self, rest: pl.DataFrame, current: bool, calendar: Calendar
                  ) -> pl.DataFrame:
        """Pairs of re-used or merged codes: each (code, era) — months between the same
        edges — resolved once in Python, then joined back (a national store has about
        110,000 such pairs and a few thousand eras). The resolver outlives one batch
        (`cached`), so the next batch finds its eras resolved."""
        first, last = month_bounds_exprs(calendar)
        eras = (rest.with_columns(first.alias("first"), last.alias("last"))
                .join(self._edge_frame, on="unit_code", how="left")
                .group_by("unit_code", "month")
                .agg((pl.col("edge") <= pl.col("first")).sum().alias("lo"),
                     (pl.col("edge") <= pl.col("last")).sum().alias("hi")))
        keys = eras.group_by("unit_code", "lo", "hi").agg(pl.col("month").min())
        leaves = [(code, lo, hi, self._era_leaf(code, (lo, hi), month, current, calendar))
                  for code, lo, hi, month in keys.iter_rows()]
        table = pl.DataFrame(leaves, orient="row", schema={
            "unit_code": pl.String, "lo": eras.schema["lo"], "hi": eras.schema["hi"],
            "leaf_id": pl.Int64})
        return (eras.join(table, on=["unit_code", "lo", "hi"])
                .filter(pl.col("leaf_id").is_not_null())
                .select("unit_code", pl.col("month").cast(pl.Int32), "leaf_id"))

    def _era_leaf(self, code: str, era: tuple[int, int], month: int, current: bool,
                  calendar: Calendar) -> int | None:
        key = (code, era, current, calendar)
        if key not in self._leaves_by_era:
            self._leaves_by_era[key] = self.leaf(code, month, current=current,
                                                 calendar=calendar)
        return self._leaves_by_era[key]

    def umap(self, pairs: pl.DataFrame, *, current: bool = False,
             calendar: Calendar = Calendar.STANDARD) -> pl.DataFrame:
        """unit_code, month → leaf_id for every pair (unknown codes are dropped); `month`
        is a period month under `calendar`."""
        pairs = pairs.select("unit_code", pl.col("month").cast(pl.Int32)).unique()
        simple = pairs.join(self._constant, on="unit_code")
        rest = pairs.join(self._constant, on="unit_code", how="anti")
        resolved = self._resolved(rest, current, calendar)
        return pl.concat([simple.select(resolved.columns), resolved])

    def closure(self, leaf_ids: list[int]) -> pl.DataFrame:
        """leaf_id → unit_id for the leaf itself and every unit above it."""
        pairs = [(leaf, unit) for leaf in set(leaf_ids) for unit in self.ancestors(leaf)]
        return pl.DataFrame(pairs, schema={"leaf_id": pl.Int64, "unit_id": pl.Int64},
                            orient="row")

    @cached_property
    def _validity(self) -> pl.DataFrame:
        return pl.DataFrame(
            [(u.id, u.valid_from, u.valid_to) for u in self.units.values()],
            schema={"unit_id": pl.Int64, "valid_from": pl.Date, "valid_to": pl.Date},
            orient="row")

    def valid_mask(self, frame: pl.DataFrame, calendar: Calendar = Calendar.STANDARD
                   ) -> pl.Series:
        """For a frame with unit_id and month: does the unit exist at the end of that
        period month (the rule `leaf` follows; it implies the values service's overlap)?"""
        units = self._validity
        _first, last = month_bounds_exprs(calendar)
        joined = frame.select("unit_id", "month").join(units, on="unit_id", how="left",
                                                       maintain_order="left")
        return joined.select(
            (pl.col("valid_from") <= last)
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= last))
        ).to_series().fill_null(False)

    def with_predecessors(self, unit_ids: set[int]) -> set[int]:
        """The units and every unit whose lineage leads into one of them."""
        before: dict[int, list[int]] = {}
        for old, new in self.successor.items():
            before.setdefault(new, []).append(old)
        found, stack = set(), list(unit_ids)
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(before.get(current, []))
        return found

    def subtree(self, unit_id: int) -> set[int]:
        """The unit and every unit below it (by parent links, any validity)."""
        children: dict[int, list[int]] = {}
        for unit in self.units.values():
            if unit.parent_id is not None:
                children.setdefault(unit.parent_id, []).append(unit.id)
        found, stack = set(), [unit_id]
        while stack:
            current = stack.pop()
            if current not in found:
                found.add(current)
                stack.extend(children.get(current, []))
        return found

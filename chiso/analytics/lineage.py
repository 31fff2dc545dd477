"""Which unit valid today (or on a given date) carries the figures of every unit ever.

Administrative reform keeps redrawing the map: on 1/7/2025 Vietnam went from 63 to 34
provinces and from 10,035 to 3,321 communes, and districts disappeared (absorbed into their
province). `unit_lineage` records each predecessor → successor link. Following those links
from any unit — over several hops, e.g. old commune → 2024 commune → 2025 commune — gives
the unit valid on the chosen date that now answers for its history. For a split the
successor marked `is_primary` receives the predecessor's reported figures.

Everything here is pure and vectorised: pointer-jumping joins over the whole units frame,
never a Python walk per unit.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable

import polars as pl

MAX_HOPS = 32  # a lineage chain longer than this is a data error (a cycle); stop there

Resolver = Callable[[pl.DataFrame, pl.DataFrame, dt.date], pl.DataFrame]
_RECENT: OrderedDict[tuple[str, int, int, dt.date],
                     tuple[weakref.ref[pl.DataFrame], weakref.ref[pl.DataFrame],
                           pl.DataFrame]] = OrderedDict()
_RECENT_LOCK = threading.Lock()
RECENT_ANSWERS = 64


def _same_frames_same_answer(fn: Resolver) -> Resolver:
    """Remember `fn(units, lineage, day)` for the very same frame objects. The analytics
    memo hands out one unit world's frames for as long as units and lineage are unchanged,
    so a refresh after a value write does not walk the lineage again. Frames are never
    changed in place; the answer is shared, so callers treat it as read-only."""

    @functools.wraps(fn)
    def remembered(units: pl.DataFrame, lineage: pl.DataFrame, day: dt.date
                   ) -> pl.DataFrame:
        key = (fn.__name__, id(units), id(lineage), day)
        with _RECENT_LOCK:
            found = _RECENT.get(key)
        if found is not None and found[0]() is units and found[1]() is lineage:
            return found[2]
        answer = fn(units, lineage, day)
        with _RECENT_LOCK:
            _RECENT[key] = (weakref.ref(units), weakref.ref(lineage), answer)
            while len(_RECENT) > RECENT_ANSWERS:
                _RECENT.popitem(last=False)
        return answer

    return remembered


def valid_on(units: pl.DataFrame, day: dt.date) -> pl.Expr:
    """True for units whose validity range contains `day`."""
    return (pl.col("valid_from") <= day) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") >= day)
    )


def primary_successors(lineage: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """One successor per predecessor among links dated on or before `day`.

    The primary link wins, then the larger share, then the smaller successor id (only so
    the choice is deterministic)."""
    return (
        lineage.filter(pl.col("event_date") <= day)
        .sort(["predecessor_id", "is_primary", "share", "successor_id"],
              descending=[False, True, True, False])
        .group_by("predecessor_id", maintain_order=True)
        .first()
        .select(pl.col("predecessor_id").alias("unit_id"),
                pl.col("successor_id").alias("next_id"))
    )


@_same_frames_same_answer
def resolve_units(units: pl.DataFrame, lineage: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Map every unit to the unit valid on `day` that carries its figures.

    Returns columns `unit_id, current_id`. A unit valid on `day` maps to itself; a unit
    that was merged, renamed, split or absorbed maps along its (primary) successors until
    a valid unit is reached. Units with no path to a valid unit are left out: their figures
    belong to no unit of that date.
    """
    valid_ids = units.filter(valid_on(units, day)).select(pl.col("id").alias("unit_id"))
    step = pl.concat([
        valid_ids.with_columns(pl.col("unit_id").alias("next_id")),
        primary_successors(lineage, day).join(valid_ids, on="unit_id", how="anti"),
    ])
    mapping = units.select(pl.col("id").alias("unit_id"), pl.col("id").alias("current_id"))
    valid_set = valid_ids.with_columns(pl.lit(True).alias("is_valid"))
    for _ in range(MAX_HOPS):
        moved = (
            mapping.join(step, left_on="current_id", right_on="unit_id", how="left",
                         suffix="_step")
            .select("unit_id", pl.col("next_id").alias("current_id"),
                    pl.col("current_id").alias("before"))
        )
        mapping = moved.select("unit_id", "current_id")
        if moved.filter(pl.col("current_id").ne_missing(pl.col("before"))).is_empty():
            break
    return (
        mapping.join(valid_set, left_on="current_id", right_on="unit_id", how="inner")
        .select("unit_id", pl.col("current_id").cast(pl.Int64))
        .sort("unit_id")
    )


@_same_frames_same_answer
def current_tree(units: pl.DataFrame, lineage: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The hierarchy valid on `day`: `unit_id, parent_id, depth` (roots have depth 0).

    A valid unit whose recorded parent is no longer valid hangs under that parent's
    successor, so a half-updated register still rolls up somewhere sensible."""
    mapping = resolve_units(units, lineage, day)
    valid = units.filter(valid_on(units, day)).select(pl.col("id").alias("unit_id"),
                                                      "parent_id")
    tree = (
        valid.join(mapping.rename({"unit_id": "parent_id", "current_id": "parent_now"}),
                   on="parent_id", how="left")
        .select("unit_id", pl.col("parent_now").alias("parent_id"))
        .with_columns(pl.when(pl.col("parent_id") == pl.col("unit_id")).then(None)
                      .otherwise(pl.col("parent_id")).alias("parent_id"))
    )
    return with_depth(tree)


@_same_frames_same_answer
def part_units(units: pl.DataFrame, lineage: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """Units that no longer exist on `day` and stand for a *part* of the unit carrying their
    history: `unit_id` (the old unit), `parent_id` (its heir, which has sub-units on `day`).

    An absorbed district, or a province merged with others, covered only part of the unit
    that carries its history today; its own figure must replace only its own former
    sub-units' figures, never the heir's other sub-units'. Such a unit keeps its figures
    as a node of its own under its heir (see `rollup.place`). A predecessor of a unit
    without sub-units (communes merged into a commune) or a renamed unit is the whole of
    its heir: its figures join the heir's own timeline instead."""
    mapping = resolve_units(units, lineage, day)
    tree = current_tree(units, lineage, day)
    parents = tree.filter(pl.col("parent_id").is_not_null()).select(
        pl.col("parent_id").alias("current_id")).unique()
    moved = mapping.filter(pl.col("unit_id") != pl.col("current_id")).join(
        parents, on="current_id", how="semi")
    if "kind" in lineage.columns:
        renamed = _first_links(lineage, day).filter(pl.col("kind") == "rename")
        moved = moved.join(renamed.select("unit_id"), on="unit_id", how="anti")
    return moved.select("unit_id", pl.col("current_id").alias("parent_id"))


def _first_links(lineage: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    """The link each predecessor follows first (as `primary_successors` chooses it)."""
    return (
        lineage.filter(pl.col("event_date") <= day)
        .sort(["predecessor_id", "is_primary", "share", "successor_id"],
              descending=[False, True, True, False])
        .group_by("predecessor_id", maintain_order=True).first()
        .select(pl.col("predecessor_id").alias("unit_id"), "kind")
    )


def recorded_ancestors(units: pl.DataFrame, among: pl.DataFrame) -> pl.DataFrame:
    """(`unit_id`, `ancestor_id`) for every unit and each of its ancestors by the parent
    recorded on the unit (the hierarchy of its own time) that is in `among.unit_id`."""
    links = units.select(pl.col("id").alias("unit_id"), pl.col("parent_id").alias("above"))
    pairs = []
    step = links.filter(pl.col("above").is_not_null())
    for _ in range(MAX_HOPS):
        if step.is_empty():
            break
        pairs.append(step.join(among.select(pl.col("unit_id").alias("above")), on="above",
                               how="semi"))
        step = step.join(links.rename({"unit_id": "above", "above": "next"}), on="above"
                         ).select("unit_id", pl.col("next").alias("above")).filter(
            pl.col("above").is_not_null())
    found = pl.concat(pairs) if pairs else links.clear()
    return found.select("unit_id", pl.col("above").alias("ancestor_id")).unique()


def with_depth(tree: pl.DataFrame) -> pl.DataFrame:
    """Add `depth` (0 at the roots) by walking one level per join."""
    depth = tree.filter(pl.col("parent_id").is_null()).select(
        "unit_id", pl.lit(0, dtype=pl.Int32).alias("depth"))
    known = depth
    for _ in range(MAX_HOPS):
        children = tree.join(known.rename({"unit_id": "parent_id"}), on="parent_id",
                             how="inner").select("unit_id", (pl.col("depth") + 1)
                                                  .cast(pl.Int32).alias("depth"))
        children = children.join(depth, on="unit_id", how="anti")
        if children.is_empty():
            break
        depth = pl.concat([depth, children])
        known = children
    return tree.join(depth, on="unit_id", how="inner")


def descendants(tree: pl.DataFrame, root_ids: list[int]) -> pl.DataFrame:
    """`unit_id` of the roots and every unit below them in `tree`."""
    found = pl.DataFrame({"unit_id": root_ids}, schema={"unit_id": pl.Int64})
    frontier = found
    for _ in range(MAX_HOPS):
        frontier = tree.join(frontier.rename({"unit_id": "parent_id"}), on="parent_id",
                             how="inner").select("unit_id")
        frontier = frontier.join(found, on="unit_id", how="anti")
        if frontier.is_empty():
            break
        found = pl.concat([found, frontier])
    return found

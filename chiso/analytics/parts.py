"""Where each reported figure counts: lineage onto today's units without undercounting.

A unit's own reported total replaces only its own sub-units' sum, never its siblings':

- A predecessor that was the **whole** of the unit carrying its history today — communes
  merged into one commune, a renamed unit, the primary successor of a split commune —
  hands its figures to that unit's own timeline (the reform year then joins January–June
  of the old communes with July–December of the new one). A figure the successor
  reported itself for a period wins over its predecessors' for that period.
- A predecessor that was only a **part** of its heir — a district absorbed into the
  province, a province merged with others — keeps its figures as a node of its own under
  the heir, beside the heir's sub-units (`lineage.part_units`).
- A part's own figure for a period **replaces** the figures its own former sub-units (by
  the parent recorded on them, at any depth) reported for that period or inside it: those
  still show on the unit that carries them (the new commune shows its old communes'
  figures), but are not added again into any total above it. So a province absorbing a
  district that reported 4 while the rest of the province's communes reported 6 shows 10,
  not 4 and not 4 + the district's communes again.

Pure and vectorised, like `rollup`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from chiso.analytics import lineage, rollup

PAIR = ["unit_id", "indicator_id"]


@dataclass(frozen=True)
class Placed:
    """The values placed on the units valid on a day, ready to roll up by bucket."""

    values: pl.DataFrame  # `rollup.current_parts` output: the rows as each unit shows them
    keep: pl.Expr
    tree: pl.DataFrame  # today's hierarchy, with the parts under their heirs
    lift_values: pl.DataFrame | None = None  # the same without the replaced figures …
    lift_keep: pl.Expr | None = None
    lift_pairs: pl.DataFrame | None = None  # … for these (unit, indicator) holders only


def place(values: pl.DataFrame, indicators: pl.DataFrame, units: pl.DataFrame,
          unit_lineage: pl.DataFrame, day: dt.date) -> Placed:
    """`values` (with the columns of `rollup.with_period_parts`) placed on the hierarchy
    valid on `day`."""
    parts = lineage.part_units(units, unit_lineage, day)
    mapping = lineage.resolve_units(units, unit_lineage, day)
    tree = lineage.current_tree(units, unit_lineage, day)
    if not parts.is_empty():  # parts stay themselves, hung under their heirs
        mapping = mapping.with_columns(
            pl.when(pl.col("unit_id").is_in(parts["unit_id"].implode()))
            .then(pl.col("unit_id")).otherwise(pl.col("current_id")).alias("current_id"))
        depth = parts.join(tree.select(pl.col("unit_id").alias("parent_id"), "depth"),
                           on="parent_id").with_columns((pl.col("depth") + 1).cast(pl.Int32))
        tree = pl.concat([tree, depth.select(tree.columns)])
    current, keep = rollup.current_parts(values, mapping, indicators)
    replaced = _replaced_rows(values, units, parts)
    if replaced is None:
        return Placed(current, keep, tree)
    holders = values.filter(replaced).select("unit_id", "indicator_id").unique().join(
        mapping, on="unit_id").select(pl.col("current_id").alias("unit_id"), "indicator_id"
                                      ).unique()
    sources = mapping.join(holders.select(pl.col("unit_id").alias("current_id")).unique(),
                           on="current_id")["unit_id"]
    rest = values.filter(~replaced & pl.col("unit_id").is_in(sources.implode()))
    lift_current, lift_keep = rollup.current_parts(rest, mapping, indicators)
    return Placed(current, keep, tree, lift_current, lift_keep, holders)


def bucket_rollup(placed: Placed, indicators: pl.DataFrame, bucket_type: rollup.BucketType,
                  bucket_starts: list[int]) -> pl.DataFrame:
    """`rollup.time_aggregate` then `rollup.unit_rollup` on the placed values, with
    `replaced`: true on a unit's own value when some of the figures behind it are replaced
    in the totals above by a former unit's own figure (so the screens can say why the
    sub-units do not add up to the total)."""
    return bucket_rollups(placed, indicators, {bucket_type: bucket_starts})[bucket_type]


def bucket_rollups(placed: Placed, indicators: pl.DataFrame,
                   buckets: dict[rollup.BucketType, list[int]]
                   ) -> dict[rollup.BucketType, pl.DataFrame]:
    """`bucket_rollup` for several bucket types, their months combined over time once
    (`rollup.time_aggregates`)."""
    own = rollup.time_aggregates(placed.values, indicators, buckets, placed.keep)
    if placed.lift_values is None or placed.lift_pairs is None:
        return {kind: rollup.unit_rollup(own[kind], placed.tree, indicators).with_columns(
            pl.lit(False).alias("replaced")) for kind in buckets}
    lift = rollup.time_aggregates(placed.lift_values, indicators, buckets, placed.lift_keep)
    return {kind: _marked_rollup(own[kind], lift[kind], placed.tree, placed.lift_pairs,
                                 indicators) for kind in buckets}


def _marked_rollup(own: pl.DataFrame, lift: pl.DataFrame, tree: pl.DataFrame,
                   pairs: pl.DataFrame, indicators: pl.DataFrame) -> pl.DataFrame:
    rolled = rollup.unit_rollup(own, tree, indicators, lift, pairs)
    handed_up = lift.select(*rollup.KEYS, pl.col("value").alias("_handed_up"),
                            pl.lit(True).alias("_lifted"))
    held = pairs.with_columns(pl.lit(True).alias("_holder"))
    marked = rolled.join(held, on=PAIR, how="left").join(handed_up, on=rollup.KEYS,
                                                          how="left")
    differs = pl.col("_lifted").is_null() | (pl.col("_handed_up") != pl.col("value"))
    replaced = (pl.col("source") == "own") & pl.col("_holder").fill_null(False) & differs
    return marked.with_columns(replaced.fill_null(False).alias("replaced")).drop(
        "_holder", "_handed_up", "_lifted")


def _replaced_rows(values: pl.DataFrame, units: pl.DataFrame, parts: pl.DataFrame
                   ) -> pl.Series | None:
    """True for each value row that a part's own figure replaces: the part is among the
    row's unit's recorded ancestors and reported the same indicator for a period that
    contains the row's period. None when no row is replaced."""
    if parts.is_empty():
        return None
    claims = values.filter(pl.col("unit_id").is_in(parts["unit_id"].implode())).select(
        pl.col("unit_id").alias("ancestor_id"), "indicator_id",
        pl.col("p_m0").alias("q0"), pl.col("p_m1").alias("q1"))
    if claims.is_empty():
        return None
    ancestors = lineage.recorded_ancestors(units, claims.select(
        pl.col("ancestor_id").alias("unit_id")).unique())
    if ancestors.is_empty():
        return None
    rows = (values.lazy().with_row_index("_row")
            .select("_row", "unit_id", "indicator_id", "p_m0", "p_m1")
            .join(ancestors.lazy(), on="unit_id")
            .join(claims.lazy(), on=["ancestor_id", "indicator_id"])
            .filter((pl.col("q0") <= pl.col("p_m0")) & (pl.col("p_m1") <= pl.col("q1")))
            .select("_row").unique().collect())
    if rows.is_empty():
        return None
    return pl.repeat(False, values.height, eager=True).scatter(rows["_row"], True)

"""Roll-up: the value of every (unit, indicator) for a period, over time and over units.

DESIGN §5.2, done in three vectorised steps (Polars; no Python loop over data rows):

1. **Lineage.** Figures reported by a unit that no longer exists are moved to the unit that
   carries its history today (`lineage.resolve_units`): a commune merged on 1/7/2025 hands
   its 2024 figures to its successor commune, and so to that commune's province. When
   several predecessors land on one unit for the same period they are combined with the
   indicator's unit aggregation; a figure the successor reported itself for that period
   wins over its predecessors'. A predecessor that was only a part of its heir (a district
   absorbed into the province) keeps its figures as a unit of its own under the heir
   instead (`parts`).
2. **Over time** (per unit): a value reported for exactly the period P is used as it is;
   otherwise the finest sub-periods present inside P are combined — flows
   (`time_aggregation = sum`) add up, stocks (`last`) take the latest sub-period, and ratios
   combine numerator and denominator separately (Σnum/Σden for flows, the latest num/den for
   stocks), never their percentages.
3. **Over units** (bottom-up on the hierarchy valid on the as-of date): sum, ratio of sums
   (Σnumerator/Σdenominator × scale, NEVER a mean of percentages), mean, max, min, or none
   (only a unit's own figure counts).

**Precedence: a unit's own figure beats the aggregate of its sub-units** — its own, never
its siblings'. When a province reports a figure that its communes also report, the
province's own figure is used for the province and the communes' figures are not added to
it again; each commune still shows its own figure. An absorbed district's figure replaces
only its own former communes' figures in the province total (`parts`).

**Not aggregatable.** A ratio reported only as a percentage, without numerator and
denominator, is shown for the unit that reported it but cannot enter a ratio of sums: the
parent is computed from the sub-units that gave their parts, and `n_nonagg` counts the
figures that were left out, so the screens can say so. The same holds for a flow ratio whose
months were reported only as percentages (their percentages cannot be added up).

Periods are handled as month indexes (`year × 12 + month − 1`): a bucket of type Y, S, Q or
M is identified by the index of its first month (`b_m0`); see `bucket_ids`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from chiso.periods import Period, PeriodType

KEYS = ["unit_id", "indicator_id", "b_m0"]
RANK = {"Y": 0, "S": 1, "Q": 2, "M": 3}
MONTHS = {"Y": 12, "S": 6, "Q": 3, "M": 1}
VALUE_COLUMNS = ["num", "den", "value"]
PERIOD_COLUMNS = ["p_rank", "p_m0", "p_m1"]
# Optional Int8 column of bits about the figures behind a value, OR-ed as they combine:
# ILLUSTRATIVE, a figure the demo invented; ESTIMATE, an estimate (ước) no official figure
# has replaced yet. It exists only when some input figure has a bit (`frames.load_values`),
# so real data and the national benchmark carry nothing extra.
FLAGS = "flags"
ILLUSTRATIVE = 1
ESTIMATE = 2


def flag_columns(frame: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """["flags"] when the frame carries the flags column, else []."""
    schema = frame.collect_schema() if isinstance(frame, pl.LazyFrame) else frame.schema
    return [FLAGS] if FLAGS in schema else []


def has_flag(bit: int, frame: pl.DataFrame) -> pl.Expr:
    """True where the figures behind a row include one with `bit` (false without flags)."""
    if FLAGS not in frame.columns:
        return pl.lit(False)
    return (pl.col(FLAGS).fill_null(0) & bit) != 0


# ----------------------------------------------------------------------------- periods

@dataclass(frozen=True)
class Span:
    """A cumulative bucket (lũy kế): January to month `months` of each year asked for —
    '9 tháng đầu năm 2025' is `Span(9)` starting at 2025's first month. Flows add months
    1 … n, ratios Σnumerator/Σdenominator, stocks take the latest sub-period; a figure
    stored for exactly the span beats its sub-periods, as an exact period does."""

    months: int


BucketType = PeriodType | Span


def bucket_kind(period: Period) -> BucketType:
    """The bucket type to roll a period up by: its own type, or the span it covers."""
    return Span(period.index) if period.cumulative_span else period.type


def _bucket_shape(bucket_type: BucketType) -> tuple[int, int, int]:
    """(alignment in months, rank of its exact figures, length in months): a span is
    aligned on its year, ranked with it (`with_period_parts`) and n months long."""
    if isinstance(bucket_type, Span):
        return 12, RANK["Y"], bucket_type.months
    if bucket_type is PeriodType.CUMULATIVE:
        raise ValueError("a cumulative bucket needs its length: use rollup.Span(months)")
    size = MONTHS[bucket_type.value]
    return size, RANK[bucket_type.value], size


def with_period_parts(values: pl.DataFrame) -> pl.DataFrame:
    """Add `p_rank` (Y=0 … M=3), `p_m0` and `p_m1` (first and last month index) from `period`.

    A cumulative span from January ('2025C09', lũy kế 9 tháng: the only 7-character id) is
    the year's own figure so far: rank 0 like a year, covering months 1 … n, so it stands
    for its year and for nothing finer (`frames.load_values` keeps at most one figure for a
    unit's year: the year's, else the longest span unless finer periods reach further).

    Each distinct id is parsed once and joined back: a province's 28,000 values hold a few
    dozen ids (9.5 → 2 ms on the demo's cold overview; string work per row was the cost)."""
    distinct = values.select(pl.col("period").unique())
    return values.join(_period_parts(distinct), on="period", how="left",
                       maintain_order="left")


def _period_parts(values: pl.DataFrame) -> pl.DataFrame:
    text = pl.col("period").str.replace_all("-", "", literal=True)
    length = text.str.len_chars()
    # Materialise the type once: each step below reads plain columns.
    typed = values.with_columns(
        text.str.slice(0, 4).cast(pl.Int32).alias("_year"),
        pl.when(length == 4).then(pl.lit(0, pl.Int8))
        .when(length == 7).then(pl.lit(0, pl.Int8))
        .when(text.str.contains("S", literal=True)).then(pl.lit(1, pl.Int8))
        .when(text.str.contains("Q", literal=True)).then(pl.lit(2, pl.Int8))
        .otherwise(pl.lit(3, pl.Int8)).alias("p_rank"),
        (length == 7).alias("_span"),
        text.alias("_text"),
    )
    digits = (pl.when(pl.col("_span")).then(pl.col("_text").str.slice(5, 2))
              .when(pl.col("p_rank") == 0).then(pl.lit("1")).when(pl.col("p_rank") == 3).then(
        pl.col("_text").str.slice(4, 2)).otherwise(pl.col("_text").str.slice(5, 1)))
    typed = typed.with_columns(digits.cast(pl.Int32).alias("_index"))
    months = pl.col("p_rank").replace_strict({0: 12, 1: 6, 2: 3, 3: 1}, return_dtype=pl.Int32)
    first = pl.col("_year") * 12 + pl.when(pl.col("_span")).then(0).otherwise(
        (pl.col("_index") - 1) * months)
    last = pl.when(pl.col("_span")).then(first + pl.col("_index") - 1).otherwise(
        first + months - 1)
    return typed.with_columns(
        first.cast(pl.Int32).alias("p_m0"),
        last.cast(pl.Int32).alias("p_m1"),
    ).drop("_year", "_index", "_text", "_span")


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def bucket_ids(b_m0: pl.Expr, bucket_type: PeriodType) -> pl.Expr:
    """The period id ('2025', '2025S1', '2025Q3', '202509') of buckets starting at `b_m0`."""
    year = (b_m0 // 12).cast(pl.Utf8)
    month = b_m0 % 12 + 1
    if bucket_type is PeriodType.YEAR:
        return year
    if bucket_type is PeriodType.MONTH:
        return pl.concat_str(year, month.cast(pl.Utf8).str.zfill(2))
    index = ((month - 1) // bucket_type.months + 1).cast(pl.Utf8)
    return pl.concat_str(year, pl.lit(bucket_type.value), index)


# ----------------------------------------------------------------------------- units

def grouped(frame: pl.DataFrame | pl.LazyFrame, keys: list[str], aggregations: list[pl.Expr],
            *, bounds_from: pl.DataFrame | None = None, size: int | None = None
            ) -> pl.DataFrame:
    """`frame.group_by(keys).agg(...)` on Polars' streaming engine, which is several times
    cheaper than the in-memory group-by at national sizes.

    Integer keys are packed into one Int64 first (`key_layout`): hashing one word instead
    of three or five makes the group-by another ~2.5× cheaper. `bounds_from` (a frame
    holding at least every key value of `frame`) gives the key ranges when `frame` is lazy;
    without it a lazy frame is grouped on its plain keys. `size` (rows, about) picks the
    engine when `bounds_from` is only a frame of bounds."""
    source = frame if isinstance(frame, pl.DataFrame) else bounds_from
    # Small inputs (one province on request) skip the streaming engine's start-up cost.
    rows = size if size is not None else source.height if source is not None else None
    engine: Literal["in-memory", "streaming"] = (
        "in-memory" if rows is not None and rows < STREAMING_ROWS else "streaming")
    # Small inputs are grouped on their plain keys too: packing costs passes of its own.
    layout = key_layout(source, keys) if source is not None and engine == "streaming" else None
    if layout is None:
        return frame.lazy().group_by(keys).agg(aggregations).collect(engine=engine)
    packed = (frame.lazy().group_by(layout.pack().alias(PACKED)).agg(aggregations)
              .collect(engine=engine))
    return packed.select(*layout.unpack(), pl.exclude(PACKED))


def lookup(frame: pl.DataFrame, table: pl.DataFrame, on: list[str],
           table_on: list[str] | None = None) -> pl.DataFrame:
    """`frame` left-joined to `table` (unique on its keys), keeping `frame`'s rows and order.
    Only the key columns go through the join; the result is glued on beside the wide frame,
    so its text columns are not copied again at every join."""
    table_on = table_on or on
    # Packing pays at national sizes; on a province's frames its own passes (bounds of both
    # sides) cost more than the join they save.
    small = frame.height + table.height < STREAMING_ROWS
    layout = _shared_layout(frame, on, table, table_on) if len(on) > 1 and not small else None
    if layout is not None:  # one packed Int64 key instead of several columns
        left = frame.select(layout.pack(on).alias(PACKED))
        right = table.select(layout.pack(table_on).alias(PACKED), pl.exclude(table_on))
        found = left.join(right, on=PACKED, how="left", maintain_order="left")
        return frame.hstack(found.drop(PACKED).get_columns())
    found = frame.select(on).join(table, left_on=on, right_on=table_on, how="left",
                                  maintain_order="left")
    return frame.hstack(found.drop(on).get_columns())


def _shared_layout(frame: pl.DataFrame, on: list[str], table: pl.DataFrame,
                   table_on: list[str]) -> KeyLayout | None:
    """A key layout covering both sides' key values (named as in `table`)."""
    if frame.is_empty() or table.is_empty():
        return None
    if not all(frame.schema[c].is_integer() for c in on) or not all(
            table.schema[c].is_integer() for c in table_on):
        return None
    sides = [frame.select([pl.col(o).cast(pl.Int64).alias(t) for o, t in zip(on, table_on,
                                                                            strict=True)]),
             table.select([pl.col(t).cast(pl.Int64) for t in table_on])]
    bounds = pl.concat([side.select(getattr(pl.all(), extreme)())
                        for side in sides for extreme in ("min", "max")])
    return key_layout(bounds, table_on)


PACKED = "_key"
STREAMING_ROWS = 200_000


class KeyLayout:
    """Integer key columns packed into one Int64: (value − low) in its own bit field."""

    def __init__(self, fields: list[tuple[str, int, int, pl.DataType]]) -> None:
        self.fields = fields  # (column, low, shift, dtype)

    def pack(self, columns: list[str] | None = None) -> pl.Expr:
        """The packed key, from the layout's columns or from `columns` (same order)."""
        names = columns or [name for name, *_ in self.fields]
        parts = [(pl.col(name).cast(pl.Int64) - low) * (1 << shift)
                 for name, (_, low, shift, _) in zip(names, self.fields, strict=True)]
        return pl.sum_horizontal(parts) if len(parts) > 1 else parts[0]

    def unpack(self) -> list[pl.Expr]:
        key = pl.col(PACKED)
        columns = []
        for index, (name, low, shift, dtype) in enumerate(self.fields):
            upper = self.fields[index - 1][2] if index else 63
            field = (key // (1 << shift)) % (1 << (upper - shift))
            columns.append((field + low).cast(dtype).alias(name))
        return columns


def key_layout(frame: pl.DataFrame, keys: list[str]) -> KeyLayout | None:
    """The packing of `keys` (integer columns without nulls) into 63 bits, or None when
    they are not integers, hold nulls, or their ranges need more bits."""
    schema = frame.schema
    if frame.is_empty() or not all(schema[k].is_integer() for k in keys):
        return None
    bounds = frame.select(
        *[pl.col(k).min().cast(pl.Int64).alias(f"{k}.lo") for k in keys],
        *[pl.col(k).max().cast(pl.Int64).alias(f"{k}.hi") for k in keys],
        *[pl.col(k).null_count().alias(f"{k}.nulls") for k in keys],
    ).row(0, named=True)
    if any(bounds[f"{k}.nulls"] for k in keys):
        return None
    widths = [max(int(bounds[f"{k}.hi"] - bounds[f"{k}.lo"]).bit_length(), 1) for k in keys]
    if sum(widths) > 63:
        return None
    fields, shift = [], 63
    for key, width in zip(keys, widths, strict=True):
        shift -= width
        fields.append((key, int(bounds[f"{key}.lo"]), shift, schema[key]))
    return KeyLayout(fields)


def combine_units(rows: pl.DataFrame | pl.LazyFrame, keys: list[str], indicators: pl.DataFrame,
                  *, single_passes: bool = False, bounds_from: pl.DataFrame | None = None,
                  size: int | None = None) -> pl.DataFrame:
    """Combine several units' figures per `keys` with each indicator's unit aggregation.

    `rows` has `num, den, value, n_nonagg`. With `single_passes`, a group of one row is
    passed through unchanged (a renamed unit keeps its figure whatever the method).
    One group-by computes every method's statistic (sum, max, min; mean = sum ÷ count):
    cheaper than splitting the rows by method and grouping each part."""
    parts = pl.col("num").is_not_null() & pl.col("den").is_not_null()
    has_value = pl.col("value").is_not_null()
    # Helper columns first, then plain aggregations only: Polars' fast path.
    helpers = [
        pl.when(parts).then(pl.col("num")).alias("_num_p"),
        pl.when(parts).then(pl.col("den")).alias("_den_p"),
        parts.cast(pl.Int32).alias("_parts"),
        (has_value & ~parts).cast(pl.Int32).alias("_noparts"),
        has_value.cast(pl.Int32).alias("_has_value"),
    ]
    aggregations = [
        pl.col("_num_p").sum().alias("sum_n"),
        pl.col("_den_p").sum().alias("sum_d"),
        pl.col("_parts").sum().alias("n_parts"),
        pl.col("_noparts").sum().alias("n_noparts"),
        pl.col("_has_value").sum().alias("n_units"),
        pl.col("value").sum().alias("sum_v"),
    ]
    schema = rows.collect_schema()
    if "n_nonagg" in schema:  # figures already left out below (absent: none)
        aggregations.append(pl.col("n_nonagg").sum().alias("child_nonagg"))
    if FLAGS in schema:  # the flags of every figure combined (an invented one, an estimate)
        helpers.append(pl.when(has_value | parts).then(pl.col(FLAGS)).otherwise(0)
                       .alias("_flags"))
        aggregations.append(pl.col("_flags").bitwise_or().alias(FLAGS))
    methods = set(indicators["unit_agg"].to_list())
    # Each statistic costs a pass: max and min only when an indicator (or a rename) needs them.
    if single_passes or "max" in methods:
        aggregations.append(pl.col("value").max().alias("max_v"))
    if "min" in methods:
        aggregations.append(pl.col("value").min().alias("min_v"))
    if single_passes:
        # With one valued row (the only case `one_*` is used) max is that row's figure.
        helpers += [pl.when(has_value).then(pl.col("num")).alias("_num_v"),
                    pl.when(has_value).then(pl.col("den")).alias("_den_v")]
        aggregations += [pl.col("_num_v").max().alias("one_n"),
                         pl.col("_den_v").max().alias("one_d")]
    statistics = grouped(rows.lazy().with_columns(helpers), keys, aggregations,
                         bounds_from=bounds_from if bounds_from is not None
                         else rows if isinstance(rows, pl.DataFrame) else None, size=size)
    combined = statistics.with_columns(
        *[pl.lit(None, pl.Float64).alias(c) for c in ("max_v", "min_v")
          if c not in statistics.columns],
        *([] if "n_nonagg" in schema else [pl.lit(0, pl.Int32).alias("child_nonagg")]),
    ).join(indicators.select("indicator_id", "unit_agg", "scale"), on="indicator_id")
    return combined.select(*keys, *_unit_combination(single_passes),
                           *([pl.col(FLAGS)] if FLAGS in schema else []))


def _unit_combination(single_passes: bool) -> list[pl.Expr]:
    method = pl.col("unit_agg")
    ratio = method == "ratio_of_sums"
    any_parts = pl.col("n_parts") > 0
    ratio_value = pl.when(any_parts & (pl.col("sum_d") != 0)).then(
        pl.col("sum_n") / pl.col("sum_d") * pl.col("scale"))
    value: pl.Expr = (
        pl.when(ratio).then(ratio_value)
        .when(method == "sum").then(pl.col("sum_v"))
        .when(method == "mean").then(pl.when(pl.col("n_units") > 0).then(
            pl.col("sum_v") / pl.col("n_units")))
        .when(method == "max").then(pl.col("max_v"))
        .when(method == "min").then(pl.col("min_v"))
    )
    num: pl.Expr = pl.when(any_parts).then(pl.col("sum_n"))
    den: pl.Expr = pl.when(any_parts).then(pl.col("sum_d"))
    nonagg: pl.Expr = pl.col("child_nonagg") + pl.when(ratio).then(pl.col("n_noparts")).otherwise(0)
    if single_passes:
        single = pl.col("n_units") == 1
        value = pl.when(single).then(pl.col("max_v")).otherwise(value)
        num = pl.when(single).then(pl.col("one_n")).otherwise(num)
        den = pl.when(single).then(pl.col("one_d")).otherwise(den)
        nonagg = pl.when(single).then(pl.col("child_nonagg")).otherwise(nonagg)
    return [num.alias("num"), den.alias("den"), value.alias("value"),
            nonagg.cast(pl.Int32).alias("n_nonagg")]


def current_parts(values: pl.DataFrame, mapping: pl.DataFrame, indicators: pl.DataFrame
                  ) -> tuple[pl.DataFrame, pl.Expr]:
    """Move every figure to the unit valid today that carries its history (step 1), without
    copying the values: the values with the predecessors' combined figures appended (no
    copy: chunks are appended), and the filter that keeps the rows of units valid today (the
    appended rows belong to such units too). Callers apply the filter inside their own lazy
    pass. The successor's own figure for a period wins over its predecessors'; predecessors
    landing on the same unit and period are combined with the unit aggregation. Units that
    `mapping` maps to themselves (today's, and the parts of `parts.place`) stay."""
    stays = mapping.filter(pl.col("unit_id") == pl.col("current_id"))["unit_id"]
    moving = mapping.filter(pl.col("unit_id") != pl.col("current_id"))
    keep = pl.col("unit_id").is_in(stays.implode())
    if moving.is_empty():
        return values, keep
    # Lazy: the predecessors' rows are relabelled inside the group-by's pipeline.
    keys = ["unit_id", "indicator_id", *PERIOD_COLUMNS]
    inherited = values.lazy().filter(pl.col("unit_id").is_in(moving["unit_id"].implode())
                                     ).with_columns(
        pl.col("unit_id").replace_strict(moving["unit_id"], moving["current_id"]))
    bounds = pl.concat([values.select(pl.col(keys).min()),
                        values.select(pl.col(keys).max())]).with_columns(
        pl.Series("unit_id", [moving["current_id"].min(), moving["current_id"].max()],
                  dtype=values.schema["unit_id"]))
    combined = combine_units(inherited, keys, indicators, single_passes=True,
                             bounds_from=bounds, size=values.height)
    # The heir's own figure wins: drop whole combined groups (fewer than the rows behind
    # them) whose unit and period the heir reported itself.
    heirs = values.lazy().filter(
        pl.col("unit_id").is_in(moving["current_id"].unique().implode()))
    layout = key_layout(bounds, keys)
    if layout is None:
        combined = combined.join(heirs.select(keys).collect(), on=keys, how="anti")
    else:
        reported = heirs.select(layout.pack().alias(PACKED)).collect()[PACKED]
        combined = combined.filter(~layout.pack().is_in(reported.implode()))
    appended = pl.concat([values, combined.select(values.columns)], how="vertical_relaxed",
                         rechunk=False)
    return appended, keep


# ----------------------------------------------------------------------------- time

def time_aggregate(values: pl.DataFrame, indicators: pl.DataFrame, bucket_type: BucketType,
                   bucket_starts: list[int], keep: pl.Expr | None = None) -> pl.DataFrame:
    """Each unit's own value per bucket (step 2): `unit_id, indicator_id, b_m0, num, den,
    value, n_nonagg`. `values` must carry the columns of `with_period_parts`; only the rows
    `keep` selects count (all without it). A `Span` bucket (lũy kế) combines the halves,
    quarters and months inside it unless a figure for exactly the span exists; a shorter
    span or the year's own figure is not part of it."""
    _, rank, _ = _bucket_shape(bucket_type)
    placed, exact = _exact_figures(values, bucket_type, bucket_starts, keep)
    if rank == RANK["M"] or values.is_empty():  # nothing is finer than a month
        return exact
    ranks = values["p_rank"].unique()
    finer_ranks = ranks.filter(ranks > rank)
    if finer_ranks.is_empty():
        return exact
    finer = placed.filter(pl.col("p_rank") > rank)
    if finer_ranks.len() > 1:  # mixed quarters and months: keep the finest
        finer = finer.filter(pl.col("p_rank") == pl.col("p_rank").max().over(KEYS))
    sums = _sub_period_sums(finer, values, indicators, bucket_starts)
    return _exact_or_combined(exact, _combine_sub_periods(sums, values, indicators))


CALENDAR = (PeriodType.QUARTER, PeriodType.HALF, PeriodType.YEAR)  # finest first


def time_aggregates(values: pl.DataFrame, indicators: pl.DataFrame,
                    buckets: dict[BucketType, list[int]], keep: pl.Expr | None = None
                    ) -> dict[BucketType, pl.DataFrame]:
    """`time_aggregate` for several bucket types at once. Where every figure finer than a
    year is a month (no half or quarter reported: then each of these buckets combines its
    months), the months are combined once into the finest of the quarters, halves and years
    asked for, and the coarser ones add up those partial sums (sums, counts, the latest
    month) instead of reading every month again."""
    calendar = [kind for kind in CALENDAR if kind in buckets]
    ranks = set(values["p_rank"].unique().to_list()) if len(calendar) > 1 else set()
    if len(calendar) < 2 or RANK["M"] not in ranks or not ranks <= {RANK["Y"], RANK["M"]}:
        return {kind: time_aggregate(values, indicators, kind, starts, keep)
                for kind, starts in buckets.items()}
    finest = MONTHS[calendar[0].value]
    inside = sorted({first for kind in calendar for start in buckets[kind]
                     for first in range(start, start + MONTHS[kind.value], finest)})
    months = (values.lazy().with_row_index(_ROW)
              .filter((pl.col("p_rank") == RANK["M"]) & (pl.lit(True) if keep is None else keep))
              .with_columns((pl.col("p_m0") - pl.col("p_m0") % finest).alias("b_m0"))
              .filter(pl.col("b_m0").is_in(inside)))
    partial = _sub_period_sums(months, values, indicators, inside, additive=True)
    found = {}
    for kind, starts in buckets.items():
        if kind not in calendar:
            found[kind] = time_aggregate(values, indicators, kind, starts, keep)
            continue
        sums = (partial.filter(pl.col("b_m0").is_in(starts)) if kind is calendar[0]
                else _add_up(partial, MONTHS[kind.value], starts))
        _, exact = _exact_figures(values, kind, starts, keep)
        found[kind] = _exact_or_combined(exact, _combine_sub_periods(sums, values, indicators))
    return found


def _exact_figures(values: pl.DataFrame, bucket_type: BucketType, bucket_starts: list[int],
                   keep: pl.Expr | None) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """The rows inside the buckets at the bucket's rank or finer (lazy), and the figures
    reported for exactly a bucket."""
    size, rank, length = _bucket_shape(bucket_type)
    # Lazy and fused: the values are read once per step, never copied in between.
    placed = (
        values.lazy().with_row_index(_ROW)
        .filter((pl.col("p_rank") >= rank) & (pl.lit(True) if keep is None else keep))
        .with_columns((pl.col("p_m0") - pl.col("p_m0") % size).alias("b_m0"))
        .filter((pl.col("p_m1") <= pl.col("b_m0") + length - 1)
                & pl.col("b_m0").is_in(bucket_starts))
    )
    exact_rows = placed.filter(pl.col("p_rank") == rank)
    if length != size:  # a span: only a figure reaching its last month is exactly it
        exact_rows = exact_rows.filter(pl.col("p_m1") == pl.col("b_m0") + length - 1)
    exact = exact_rows.select(*KEYS, *VALUE_COLUMNS, pl.lit(0, dtype=pl.Int32).alias("n_nonagg"),
                              *flag_columns(values)).collect()
    return placed, exact


def _exact_or_combined(exact: pl.DataFrame, combined: pl.DataFrame) -> pl.DataFrame:
    """A value for exactly the bucket beats its sub-periods."""
    if not exact.is_empty():
        combined = combined.join(exact.select(KEYS), on=KEYS, how="anti")
    return pl.concat([exact, combined])


def _add_up(partial: pl.DataFrame, size: int, starts: list[int]) -> pl.DataFrame:
    """Partial sums of finer buckets added up into buckets of `size` months."""
    regrouped = partial.with_columns((pl.col("b_m0") - pl.col("b_m0") % size).alias("b_m0")
                                     ).filter(pl.col("b_m0").is_in(starts))
    merge = {"_latest": pl.col("_latest").max(), FLAGS: pl.col(FLAGS).bitwise_or()}
    return grouped(regrouped, KEYS, [merge.get(name, pl.col(name).sum()).alias(name)
                                     for name in regrouped.columns if name not in KEYS])


_ROW = "_row"


def _sub_period_sums(rows: pl.LazyFrame, values: pl.DataFrame, indicators: pl.DataFrame,
                     bucket_starts: list[int], *, additive: bool = False) -> pl.DataFrame:
    """Per kind of indicator, one group-by computing only what that kind needs: ratio flows
    their numerator and denominator sums, other flows their sum (and mean), stocks the row
    of their latest sub-period (the largest `p_m1`, packed with the row number so a max
    finds it). `additive`: a mean as its sum and count (`n_v`), so that sums of several
    buckets can be added up again (`_add_up`)."""
    parts = pl.col("num").is_not_null() & pl.col("den").is_not_null()
    bounds = values.select(pl.col("unit_id").min(), pl.col("indicator_id").min(),
                           pl.lit(min(bucket_starts), pl.Int32).alias("b_m0")).vstack(
        values.select(pl.col("unit_id").max(), pl.col("indicator_id").max(),
                      pl.lit(max(bucket_starts), pl.Int32).alias("b_m0")))
    stock = pl.col("time_agg") == "last"
    flags = [pl.col(FLAGS).bitwise_or().alias(FLAGS)] if FLAGS in values.columns else []
    mean = ([pl.col("value").count().alias("n_v")] if additive
            else [pl.col("value").mean().alias("mean_v")])
    kinds = [
        (indicators.filter(stock), [
            (pl.col("p_m1").cast(pl.Int64) * (1 << 32) + pl.col(_ROW).cast(pl.Int64))
            .max().alias("_latest")]),
        (indicators.filter(~stock & pl.col("is_ratio")), [
            pl.when(parts).then(pl.col("num")).sum().alias("sum_n"),
            pl.when(parts).then(pl.col("den")).sum().alias("sum_d"),
            parts.cast(pl.Int32).sum().alias("n_parts"),
            pl.len().alias("n_rows"),
            pl.col("value").sum().alias("sum_v"), *flags]),
        (indicators.filter(~stock & ~pl.col("is_ratio")), [
            pl.col("value").sum().alias("sum_v"), *flags,
            *(mean if "mean" in indicators["time_agg"].to_list() else [])]),
    ]
    parts_found = [
        grouped(rows.filter(pl.col("indicator_id").is_in(kind["indicator_id"].implode())),
                KEYS, aggregations, bounds_from=bounds, size=values.height)
        for kind, aggregations in kinds if not kind.is_empty()
    ]
    return pl.concat(parts_found, how="diagonal_relaxed")


def _combine_sub_periods(sums: pl.DataFrame, values: pl.DataFrame, indicators: pl.DataFrame
                         ) -> pl.DataFrame:
    """Each bucket's value from its sub-periods' sums (`_sub_period_sums`): a stock's
    latest sub-period read back from `values` by position instead of a join."""
    flags = [FLAGS] if FLAGS in values.columns else []
    if "n_v" in sums.columns:  # a mean kept as sum and count
        sums = sums.with_columns(pl.when(pl.col("n_v") > 0).then(
            pl.col("sum_v") / pl.col("n_v")).alias("mean_v")).drop("n_v")
    sums = sums.with_columns(
        *[pl.lit(None, dtype).alias(name) for name, dtype in _SUB_PERIOD_COLUMNS.items()
          if name not in sums.columns])
    # Flows have no `_latest`: a null position reads back nulls.
    rows_at = (sums["_latest"] % (1 << 32)).cast(pl.Int64)
    latest = values.select(pl.col("value").gather(rows_at).alias("last_v"),
                           pl.col("num").gather(rows_at).alias("last_n"),
                           pl.col("den").gather(rows_at).alias("last_d"),
                           *[pl.col(FLAGS).gather(rows_at).alias("_last_flags") for _ in flags])
    combined = pl.concat([sums.drop("_latest"), latest], how="horizontal").join(
        indicators.select("indicator_id", "is_ratio", "time_agg", "scale"), on="indicator_id")
    # A stock shows its latest sub-period only: only that figure is behind it.
    flag = [pl.when(pl.col("time_agg") == "last").then(pl.col("_last_flags"))
            .otherwise(pl.col(FLAGS)).fill_null(0).cast(pl.Int8).alias(FLAGS) for _ in flags]
    if flags and FLAGS not in combined.columns:  # no flow among the indicators
        combined = combined.with_columns(pl.lit(None, pl.Int8).alias(FLAGS))
    return combined.select(*KEYS, *_time_combination(), *flag)


_SUB_PERIOD_COLUMNS = {"sum_n": pl.Float64, "sum_d": pl.Float64, "n_parts": pl.Int32,
                       "n_rows": pl.UInt32, "sum_v": pl.Float64, "mean_v": pl.Float64,
                       "_latest": pl.Int64}


def _time_combination() -> list[pl.Expr]:
    last = pl.col("time_agg") == "last"
    ratio = pl.col("is_ratio")
    any_parts = pl.col("n_parts") > 0
    flow_ratio = pl.when(any_parts & (pl.col("sum_d") != 0)).then(
        pl.col("sum_n") / pl.col("sum_d") * pl.col("scale")
    ).when(pl.col("n_rows") == 1).then(pl.col("sum_v"))
    value = (
        pl.when(last).then(pl.col("last_v"))
        .when(ratio).then(flow_ratio)
        .when(pl.col("time_agg") == "mean").then(pl.col("mean_v"))
        .otherwise(pl.col("sum_v"))
    )
    num = pl.when(ratio & last).then(pl.col("last_n")).when(ratio & any_parts).then(
        pl.col("sum_n"))
    den = pl.when(ratio & last).then(pl.col("last_d")).when(ratio & any_parts).then(
        pl.col("sum_d"))
    # Flow-ratio months given only as percentages cannot be added up: count them.
    nonagg = pl.when(ratio & ~last & (pl.col("n_rows") > 1)).then(
        pl.col("n_rows") - pl.col("n_parts")).otherwise(0)
    return [num.alias("num"), den.alias("den"), value.alias("value"),
            nonagg.cast(pl.Int32).alias("n_nonagg")]


# ----------------------------------------------------------------------------- units

SOURCE = pl.Enum(["own", "aggregate"])  # one byte a row, not a string


def unit_rollup(own: pl.DataFrame, tree: pl.DataFrame, indicators: pl.DataFrame,
                lift: pl.DataFrame | None = None, lift_pairs: pl.DataFrame | None = None
                ) -> pl.DataFrame:
    """Bottom-up over `tree` (step 3): a unit's own value, else its sub-units' aggregate.

    Returns `unit_id, indicator_id, b_m0, num, den, value, n_nonagg, source` where
    source is 'own' or 'aggregate': every own value of a unit in the tree, then the
    aggregates level by level. The own values are never split or copied: each level's
    children are picked and lifted to their parents inside the streaming group-by (a
    lookup, not a materialised join).

    `lift` (same columns as `own`) replaces, for the (unit, indicator) pairs of
    `lift_pairs`, what those units hand up to their parents: their own values without the
    figures a former parent's own figure replaces (`parts.place`). Their own value as
    shown stays the one in `own`."""
    if tree.is_empty():
        return own.clear().with_columns(pl.lit("own", SOURCE).alias("source"))
    depth_of = pl.col("_depth")  # looked up once, as a column, not in every pass
    mine = own.with_columns(
        pl.lit("own", SOURCE).alias("source"),
        pl.col("unit_id").replace_strict(tree["unit_id"], tree["depth"], default=-1)
        .alias("_depth"))
    if mine.select((depth_of < 0).any()).item():  # units outside the tree have no place
        mine = mine.filter(depth_of >= 0)
    parents = tree.filter(pl.col("parent_id").is_not_null())
    if parents.is_empty():
        return mine.drop("_depth")
    lifting = mine
    if lift is not None and lift_pairs is not None and not lift_pairs.is_empty():
        pairs = ["unit_id", "indicator_id"]
        lifted_own = lift.join(lift_pairs, on=pairs, how="semi").with_columns(
            pl.lit("own", SOURCE).alias("source"),
            pl.col("unit_id").replace_strict(tree["unit_id"], tree["depth"], default=-1)
            .alias("_depth"))
        lifting = pl.concat([mine.join(lift_pairs, on=pairs, how="anti"),
                             lifted_own.select(mine.columns)])
    bounds = _unit_bounds(own, tree)
    aggregates: list[pl.DataFrame] = []
    below: pl.DataFrame | None = None  # the aggregates of the level below
    deepest = tree["depth"].max()
    for depth in range(int(deepest) if isinstance(deepest, int) else 0, 0, -1):
        children = lifting.lazy().filter(depth_of == depth).drop("_depth")
        if below is not None and not below.is_empty():
            children = pl.concat([children, below.lazy()])
        level_own = mine.lazy().filter(depth_of == depth - 1).select(KEYS)
        below = _aggregate_children(children, parents, level_own, indicators, bounds,
                                    mine.height)
        aggregates.append(below)
    return pl.concat([mine.drop("_depth"), *aggregates])


def _unit_bounds(own: pl.DataFrame, tree: pl.DataFrame) -> pl.DataFrame:
    """Two rows spanning every key a lifted row can have (for `key_layout`)."""
    return pl.DataFrame({
        "unit_id": [tree["unit_id"].min(), tree["unit_id"].max()],
        "indicator_id": [own["indicator_id"].min(), own["indicator_id"].max()],
        "b_m0": [own["b_m0"].min(), own["b_m0"].max()],
    }, schema={k: own.schema[k] for k in KEYS})


def _aggregate_children(children: pl.LazyFrame, parents: pl.DataFrame,
                        level_own: pl.LazyFrame, indicators: pl.DataFrame,
                        bounds: pl.DataFrame, size: int) -> pl.DataFrame:
    lifted = (
        children.filter(pl.col("value").is_not_null() | (pl.col("n_nonagg") > 0))
        .with_columns(pl.col("unit_id").replace_strict(parents["unit_id"], parents["parent_id"],
                                                       default=None))
        .filter(pl.col("unit_id").is_not_null())
        .drop("source")
    )
    aggregated = combine_units(lifted, KEYS, indicators, bounds_from=bounds, size=size)
    aggregated = aggregated.filter(pl.col("value").is_not_null() | (pl.col("n_nonagg") > 0))
    return aggregated.lazy().join(level_own, on=KEYS, how="anti").with_columns(
        pl.lit("aggregate", SOURCE).alias("source")).collect()

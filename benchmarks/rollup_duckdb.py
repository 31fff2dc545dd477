"""The roll-up and status computation of `chiso.analytics` as DuckDB SQL, written the way an
analyst who knows DuckDB would: the frames are scanned in place (Arrow, no copy), lineage is
a recursive CTE, each roll-up is a scan and a group-by with `FILTER` aggregates and
`arg_max`, precedence is an anti join, and the unit levels are one statement each. Only
the benchmark uses it: a second yardstick beside pandas, checked to give the same numbers
and statuses.

Covers what the benchmark data holds (as `rollup_pandas` does): linear paths, targets
evaluated at their year's end — so the path reads the target itself, a flow's share of the
year is whole and its projection is its actual — and every unit's value for every year,
half-year, quarter and month on today's hierarchy.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

SIZE = {"Y": 12, "S": 6, "Q": 3, "M": 1}
RANK = {"Y": 0, "S": 1, "Q": 2, "M": 3}
KEYS = "unit_id, indicator_id, b_m0"
PARTS = "num IS NOT NULL AND den IS NOT NULL"


class Engine:
    """One DuckDB connection holding the benchmark's frames as views over their Arrow
    data."""

    def __init__(self, *, values: pl.DataFrame, indicators: pl.DataFrame,
                 units: pl.DataFrame, lineage: pl.DataFrame) -> None:
        self.db = duckdb.connect()
        for name, frame in (("vals", values), ("indicators", indicators), ("units", units),
                            ("lineage", lineage)):
            self.db.register(name, frame.to_arrow())
        self.depth = 0

    # ------------------------------------------------------------------ hierarchy

    def place(self, day: dt.date) -> None:
        """`mapping` (every unit → the unit valid on `day` carrying its figures), `tree`
        (today's hierarchy with depths) and `placed` (the values on those units; several
        predecessors of one unit combined with the unit aggregation; the heir's own figure
        for a period wins)."""
        d = f"DATE '{day.isoformat()}'"
        self.db.execute(f"""
            CREATE OR REPLACE TEMP TABLE valid AS SELECT id FROM units
            WHERE valid_from <= {d} AND (valid_to IS NULL OR valid_to >= {d});
            CREATE OR REPLACE TEMP TABLE mapping AS
            WITH RECURSIVE step AS (
                SELECT predecessor_id AS unit_id, successor_id AS next_id FROM lineage
                WHERE event_date <= {d} AND predecessor_id NOT IN (SELECT id FROM valid)
                QUALIFY row_number() OVER (PARTITION BY predecessor_id
                    ORDER BY is_primary DESC, share DESC, successor_id) = 1),
            walk(unit_id, current_id, hops) AS (
                SELECT id, id, 0 FROM units
                UNION ALL
                SELECT w.unit_id, s.next_id, w.hops + 1 FROM walk w
                JOIN step s ON s.unit_id = w.current_id WHERE w.hops < 32)
            SELECT unit_id, current_id FROM walk WHERE current_id IN (SELECT id FROM valid);
            CREATE OR REPLACE TEMP TABLE tree AS
            WITH RECURSIVE edges AS (
                SELECT u.id AS unit_id, m.current_id AS parent_id FROM units u
                JOIN valid USING (id) LEFT JOIN mapping m ON m.unit_id = u.parent_id),
            levels(unit_id, depth) AS (
                SELECT unit_id, 0 FROM edges WHERE parent_id IS NULL
                UNION ALL
                SELECT e.unit_id, l.depth + 1 FROM edges e
                JOIN levels l ON e.parent_id = l.unit_id WHERE l.depth < 32)
            SELECT e.unit_id, e.parent_id, l.depth FROM edges e JOIN levels l USING (unit_id);
            CREATE OR REPLACE TEMP TABLE placed AS
            WITH own AS (
                SELECT v.* FROM vals v JOIN mapping m
                ON m.unit_id = v.unit_id AND m.current_id = v.unit_id
                WHERE v.p_m0 <= {day.year * 12 + day.month - 1}),
            moved AS (
                SELECT m.current_id AS unit_id, v.indicator_id, v.p_rank, v.p_m0, v.p_m1,
                       v.num, v.den, v.value, 0 AS n_nonagg
                FROM vals v JOIN mapping m ON m.unit_id = v.unit_id AND m.current_id <> v.unit_id
                WHERE v.p_m0 <= {day.year * 12 + day.month - 1}),
            combined AS ({_combine("moved", "unit_id, indicator_id, p_rank, p_m0, p_m1",
                                   single=True)})
            SELECT unit_id, indicator_id, p_rank, p_m0, p_m1, num, den, value FROM own
            UNION ALL
            SELECT unit_id, indicator_id, p_rank, p_m0, p_m1, num, den, value FROM combined c
            WHERE NOT EXISTS (SELECT 1 FROM own o WHERE o.unit_id = c.unit_id
                AND o.indicator_id = c.indicator_id AND o.p_rank = c.p_rank
                AND o.p_m0 = c.p_m0 AND o.p_m1 = c.p_m1);
        """)
        deepest = self.db.execute("SELECT max(depth) FROM tree").fetchone()
        self.depth = int(deepest[0] or 0) if deepest else 0

    # ------------------------------------------------------------------ roll-up

    def rolled(self, kind: str, starts: list[int]) -> str:
        """A table of every unit's value per bucket of `kind` starting at `starts`: its own
        (time-aggregated) value, else its sub-units' aggregate. Returns the table's name."""
        own = self._time_aggregate(kind, starts)
        table = f"rolled_{kind}"
        self.db.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {KEYS}, num, den, "
                        f"value, n_nonagg FROM {own} JOIN tree USING (unit_id)")
        for depth in range(self.depth, 0, -1):
            self.db.execute(f"""
                INSERT INTO {table}
                WITH children AS (
                    SELECT t.parent_id AS unit_id, r.indicator_id, r.b_m0, r.num, r.den,
                           r.value, r.n_nonagg
                    FROM {table} r JOIN tree t USING (unit_id)
                    WHERE t.depth = {depth} AND (r.value IS NOT NULL OR r.n_nonagg > 0)),
                combined AS ({_combine("children", KEYS, single=False)})
                SELECT {KEYS}, num, den, value, n_nonagg FROM combined c
                WHERE (value IS NOT NULL OR n_nonagg > 0) AND NOT EXISTS (
                    SELECT 1 FROM {table} r WHERE r.unit_id = c.unit_id
                    AND r.indicator_id = c.indicator_id AND r.b_m0 = c.b_m0)
            """)
        return table

    def _time_aggregate(self, kind: str, starts: list[int]) -> str:
        """Each unit's own value per bucket: the figure for exactly the bucket, else its
        finest sub-periods combined (flows add up, stocks take the latest, ratios add
        numerators and denominators)."""
        size, rank = SIZE[kind], RANK[kind]
        listed = ", ".join(str(s) for s in starts)
        finest = ("QUALIFY p_rank = max(p_rank) OVER (PARTITION BY unit_id, indicator_id, "
                  "b_m0)" if self._mixed_finer_ranks(rank) else "")
        table = f"own_{kind}"
        self.db.execute(f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            WITH inside AS (
                SELECT *, p_m0 - p_m0 % {size} AS b_m0 FROM placed WHERE p_rank >= {rank}),
            bucketed AS (
                SELECT * FROM inside WHERE p_m1 <= b_m0 + {size - 1} AND b_m0 IN ({listed})),
            exact AS (
                SELECT {KEYS}, num, den, value, 0 AS n_nonagg FROM bucketed
                WHERE p_rank = {rank}),
            finer AS (SELECT * FROM bucketed WHERE p_rank > {rank} {finest}),
            sums AS (
                SELECT {KEYS}, any_value(i.is_ratio) AS ratio,
                       any_value(i.time_agg) = 'last' AS last,
                       any_value(i.time_agg) AS time_agg, any_value(i.scale) AS scale,
                       sum(num) FILTER ({PARTS}) AS sum_n, sum(den) FILTER ({PARTS}) AS sum_d,
                       count(*) FILTER ({PARTS}) AS n_parts, count(*) AS n_rows,
                       coalesce(sum(value), 0) AS sum_v, avg(value) AS mean_v,
                       arg_max_null(value, p_m1) AS last_v, arg_max_null(num, p_m1) AS last_n,
                       arg_max_null(den, p_m1) AS last_d
                FROM finer JOIN indicators i USING (indicator_id) GROUP BY {KEYS}),
            combined AS (
                SELECT {KEYS},
                    CASE WHEN ratio AND last THEN last_n WHEN ratio AND n_parts > 0
                         THEN sum_n END AS num,
                    CASE WHEN ratio AND last THEN last_d WHEN ratio AND n_parts > 0
                         THEN sum_d END AS den,
                    CASE WHEN last THEN last_v
                         WHEN ratio THEN CASE WHEN n_parts > 0 AND sum_d <> 0
                              THEN sum_n / sum_d * scale WHEN n_rows = 1 THEN sum_v END
                         WHEN time_agg = 'mean' THEN mean_v ELSE sum_v END AS value,
                    CASE WHEN ratio AND NOT last AND n_rows > 1 THEN n_rows - n_parts
                         ELSE 0 END AS n_nonagg
                FROM sums)
            SELECT * FROM exact
            UNION ALL
            SELECT * FROM combined c WHERE NOT EXISTS (SELECT 1 FROM exact e
                WHERE e.unit_id = c.unit_id AND e.indicator_id = c.indicator_id
                AND e.b_m0 = c.b_m0)
        """)
        return table

    def _mixed_finer_ranks(self, rank: int) -> bool:
        found = self.db.execute(f"SELECT count(DISTINCT p_rank) FROM placed "
                                f"WHERE p_rank > {rank}").fetchone()
        return bool(found and found[0] > 1)

    # ------------------------------------------------------------------ targets

    def evaluate(self, targets: pl.DataFrame, today: dt.date) -> pl.DataFrame:
        """Every target, group by group of as-of date (all closed in the benchmark)."""
        as_of = pl.min_horizontal(pl.col("target_date"), pl.lit(today))
        groups = targets.with_columns(as_of.alias("as_of")).partition_by(
            "as_of", maintain_order=True)
        return pl.concat([self._evaluate_group(group, today) for group in groups])

    def _evaluate_group(self, targets: pl.DataFrame, today: dt.date) -> pl.DataFrame:
        day: dt.date = targets["as_of"][0]
        last: dt.date = targets["target_date"].max()  # type: ignore[assignment]
        assert last <= today, "the yardstick covers closed targets"
        self.place(day)
        as_of_m = day.year * 12 + day.month - 1
        years = sorted(set(targets["year"].to_list()))
        yearly = self.rolled("Y", sorted({y * 12 for y in years} | {(y - 1) * 12
                                                                   for y in years}))
        monthly = self.rolled("M", list(range(as_of_m - 23, as_of_m + 1)))
        self.db.register("targets", targets.to_arrow())
        return self.db.sql(_STATUS_SQL.format(yearly=yearly, monthly=monthly,
                                                  as_of_m=as_of_m,
                                                  today=f"DATE '{today}'")).pl()


def _combine(rows: str, keys: str, *, single: bool) -> str:
    """Several units' figures per `keys` with each indicator's unit aggregation (sum, ratio
    of sums, mean, max, min; `none` gives nothing). With `single`, a group of one valued
    row passes through unchanged (a renamed unit keeps its figure)."""
    value = """CASE unit_agg
        WHEN 'ratio_of_sums' THEN CASE WHEN n_parts > 0 AND sum_d <> 0
                                  THEN sum_n / sum_d * scale END
        WHEN 'sum' THEN sum_v
        WHEN 'mean' THEN CASE WHEN n_units > 0 THEN sum_v / n_units END
        WHEN 'max' THEN max_v WHEN 'min' THEN min_v END"""
    num = "CASE WHEN n_parts > 0 THEN sum_n END"
    den = "CASE WHEN n_parts > 0 THEN sum_d END"
    nonagg = ("child_nonagg + CASE WHEN unit_agg = 'ratio_of_sums' THEN n_noparts ELSE 0 "
              "END")
    if single:
        value, num, den, nonagg = (f"CASE WHEN n_units = 1 THEN {one} ELSE {many} END"
                                   for one, many in (("max_v", value), ("one_n", num),
                                                     ("one_d", den),
                                                     ("child_nonagg", nonagg)))
    return f"""
        SELECT {keys}, {num} AS num, {den} AS den, {value} AS value,
               CAST({nonagg} AS INTEGER) AS n_nonagg
        FROM (SELECT {keys}, any_value(i.unit_agg) AS unit_agg, any_value(i.scale) AS scale,
                  sum(num) FILTER ({PARTS}) AS sum_n, sum(den) FILTER ({PARTS}) AS sum_d,
                  count(*) FILTER ({PARTS}) AS n_parts,
                  count(*) FILTER (value IS NOT NULL AND NOT ({PARTS})) AS n_noparts,
                  count(value) AS n_units, coalesce(sum(value), 0) AS sum_v,
                  coalesce(sum(n_nonagg), 0) AS child_nonagg,
                  max(value) AS max_v, min(value) AS min_v,
                  max(num) FILTER (value IS NOT NULL) AS one_n,
                  max(den) FILTER (value IS NOT NULL) AS one_d
              FROM {rows} JOIN indicators i USING (indicator_id) GROUP BY {keys})"""


# The targets of one as-of month (`as_of_m`), all closed: the path reads the target, a
# flow's share of the year is whole (its projection is its actual), a stock follows the
# least-squares line of its last 24 months, a flow ratio adds its last 12 months' average
# numerator and denominator for the months not yet reported.
_STATUS_SQL = """
WITH framed AS (
    SELECT t.*, i.is_ratio, i.time_agg, i.scale, i.direction, i.decimals,
           i.time_agg = 'sum' AND NOT i.is_ratio AS ytd,
           y.value AS actual, y.num AS actual_num, y.den AS actual_den, y.n_nonagg,
           p.value AS prev_value
    FROM targets t JOIN indicators i USING (indicator_id)
    LEFT JOIN {yearly} y ON y.unit_id = t.unit_id AND y.indicator_id = t.indicator_id
        AND y.b_m0 = t.year * 12
    LEFT JOIN {yearly} p ON p.unit_id = t.unit_id AND p.indicator_id = t.indicator_id
        AND p.b_m0 = (t.year - 1) * 12),
months AS (
    SELECT m.*, m.b_m0 - {as_of_m} AS t FROM {monthly} m
    WHERE m.value IS NOT NULL AND m.b_m0 > {as_of_m} - 24 AND m.b_m0 <= {as_of_m}),
history AS (
    SELECT unit_id, indicator_id, count(*) AS h_n, sum(t) AS h_st, sum(value) AS h_sy,
           sum(t * t) AS h_stt, sum(t * value) AS h_sty, arg_max(value, b_m0) AS latest_v,
           avg(num) FILTER (t > -12) AS rate_n, avg(den) FILTER (t > -12) AS rate_d,
           avg(value) FILTER (t > -12) AS rate_v,
           count(*) FILTER (t > -12) AS recent_n
    FROM months GROUP BY unit_id, indicator_id),
firsts AS (
    SELECT unit_id, indicator_id, b_m0 // 12 AS year, arg_min(value, b_m0) AS first_value,
           last_day(make_date(CAST(min(b_m0) // 12 AS INTEGER),
                              CAST(min(b_m0) % 12 + 1 AS INTEGER), 1)) AS first_date,
           max(b_m0) AS last_m
    FROM months GROUP BY ALL),
based AS (
    SELECT f.*, h.* EXCLUDE (unit_id, indicator_id), s.first_value, s.first_date, s.last_m,
           coalesce(f.baseline_value, f.prev_value, s.first_value) AS b_value,
           CASE WHEN f.baseline_value IS NOT NULL
                THEN coalesce(f.baseline_date, make_date(CAST(f.year - 1 AS INTEGER), 12, 31))
                WHEN f.prev_value IS NOT NULL THEN make_date(CAST(f.year - 1 AS INTEGER), 12, 31)
                ELSE s.first_date END AS b_date,
           f.target_value AS expected,
           1e-9 * greatest(abs(f.target_value), 1.0) AS tol
    FROM framed f LEFT JOIN history h USING (unit_id, indicator_id)
    LEFT JOIN firsts s ON s.unit_id = f.unit_id AND s.indicator_id = f.indicator_id
        AND s.year = f.year),
judged AS (
    SELECT *,
        CASE WHEN comparator = '<=' THEN actual <= target_value + tol
             ELSE actual >= target_value - tol END AS meets,
        CASE WHEN comparator = '<=' THEN CASE WHEN actual > 0 THEN expected / actual
                                              ELSE 1.0 END
             ELSE CASE WHEN expected > 0 THEN actual / expected
                       WHEN actual >= expected THEN 1.0 ELSE 0.0 END END AS progress_ratio,
        greatest(year * 12 + 11 - coalesce(last_m, year * 12 + 11), 0) AS remaining
    FROM based),
projected AS (
    SELECT *,
        CASE WHEN ytd THEN actual
             WHEN actual IS NULL AND h_n IS NULL THEN NULL
             ELSE coalesce(CASE
                WHEN time_agg <> 'sum' THEN CASE
                    WHEN h_n >= 2 AND h_n * h_stt - h_st * h_st > 0 THEN
                        (h_sy - (h_n * h_sty - h_st * h_sy) / (h_n * h_stt - h_st * h_st)
                         * h_st) / h_n
                    ELSE latest_v END
                WHEN is_ratio THEN CASE
                    WHEN actual_den + coalesce(rate_d, 0) * remaining > 0 THEN
                        (actual_num + coalesce(rate_n, 0) * remaining)
                        / (actual_den + coalesce(rate_d, 0) * remaining) * scale
                    ELSE actual END
                ELSE actual + coalesce(rate_v, 0) * remaining END, actual) END AS raw_projection
    FROM judged)
SELECT target_id, actual, actual_num, actual_den, prev_value, b_value, expected,
       progress_ratio,
       CASE WHEN is_ratio THEN least(greatest(raw_projection, 0), scale)
            ELSE raw_projection END AS projected,
       CASE WHEN is_ratio THEN least(greatest(raw_projection, 0), scale)
            ELSE raw_projection END AS projected_year_end,
       CASE WHEN actual IS NULL THEN 'no_data' WHEN meets THEN 'met'
            WHEN actual = 0 THEN 'not_implemented' ELSE 'missed' END AS status
FROM projected
"""

"""The same roll-up and status computation as `chiso.analytics`, written the way a competent
analyst would in pandas (vectorised groupby/merge, no row loops). Only the benchmark uses
it: it is the yardstick chiso's figures and times are checked against.

Covers what the benchmark data holds: linear paths, targets evaluated at their year's end
(one as-of date per year, each year on the hierarchy of its date), and every unit's
rolled-up value for every year, half-year, quarter and month on today's hierarchy. Flows
(counts and amounts summed over time) are judged year to date on a linear share of the year
(`chiso.analytics.flows`); the units' seasonal profiles are not reproduced — at the
benchmark's as-of date, the target date, every share of the year is whole, seasonal or not.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

KEYS = ["unit_id", "indicator_id", "b_m0"]
PERIOD = ["p_rank", "p_m0", "p_m1"]
RANK = {"Y": 0, "S": 1, "Q": 2, "M": 3}
SIZE = {"Y": 12, "S": 6, "Q": 3, "M": 1}


def _valid(units: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    return (units["valid_from"] <= day) & (units["valid_to"].isna() | (units["valid_to"] >= day))


def resolve_units(units: pd.DataFrame, lineage: pd.DataFrame, day: pd.Timestamp
                  ) -> pd.DataFrame:
    valid = _valid(units, day)
    valid_ids = units.loc[valid, "id"]
    links = (lineage[lineage["event_date"] <= day]
             .sort_values(["predecessor_id", "is_primary", "share", "successor_id"],
                          ascending=[True, False, False, True])
             .drop_duplicates("predecessor_id"))
    links = links[~links["predecessor_id"].isin(valid_ids)]
    successors = pd.Series(links["successor_id"].values, index=links["predecessor_id"].values)
    step = pd.concat([pd.Series(valid_ids.values, index=valid_ids.values), successors])
    current = pd.Series(units["id"].values, index=units["id"].values, dtype="float64")
    for _ in range(32):
        moved = current.map(step)
        if moved.equals(current):
            break
        current = moved
    mapping = pd.DataFrame({"unit_id": current.index, "current_id": current.values})
    mapping = mapping[mapping["current_id"].isin(valid_ids)]
    return mapping.astype({"current_id": "int64"})


def current_tree(units: pd.DataFrame, lineage: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    mapping = resolve_units(units, lineage, day)
    valid = _valid(units, day)
    tree = units.loc[valid, ["id", "parent_id"]].rename(columns={"id": "unit_id"})
    tree = tree.merge(mapping.rename(columns={"unit_id": "parent_id", "current_id": "parent_now"}),
                      on="parent_id", how="left")
    tree["parent_id"] = tree["parent_now"]
    tree = tree.drop(columns="parent_now")
    depth = pd.Series(np.where(tree["parent_id"].isna(), 0, -1), index=tree["unit_id"].values)
    parent = pd.Series(tree["parent_id"].values, index=tree["unit_id"].values)
    for _ in range(32):
        unknown = depth < 0
        if not unknown.any():
            break
        parent_depth = parent[unknown].map(depth)
        depth[unknown] = np.where(parent_depth >= 0, parent_depth + 1, -1)
    tree["depth"] = tree["unit_id"].map(depth)
    return tree[tree["depth"] >= 0]


def combine_units(rows: pd.DataFrame, keys: list[str], indicators: pd.DataFrame,
                  single_passes: bool = False) -> pd.DataFrame:
    parts = rows["num"].notna() & rows["den"].notna()
    has_value = rows["value"].notna()
    work = rows.assign(
        num_p=rows["num"].where(parts), den_p=rows["den"].where(parts), parts=parts,
        noparts=has_value & ~parts, has_value=has_value,
        num_v=rows["num"].where(has_value), den_v=rows["den"].where(has_value))
    # Only the statistics some indicator's method (or a rename) needs, as chiso does.
    methods = set(indicators["unit_agg"])
    wanted = dict(
        sum_n=("num_p", "sum"), sum_d=("den_p", "sum"), n_parts=("parts", "sum"),
        n_noparts=("noparts", "sum"), n_units=("has_value", "sum"), sum_v=("value", "sum"),
        child_nonagg=("n_nonagg", "sum"))
    if "mean" in methods:
        wanted["mean_v"] = ("value", "mean")
    if "max" in methods:
        wanted["max_v"] = ("value", "max")
    if "min" in methods:
        wanted["min_v"] = ("value", "min")
    if single_passes:
        wanted.update(one_v=("value", "first"), one_n=("num_v", "first"),
                      one_d=("den_v", "first"))
    g = work.groupby(keys, sort=False).agg(**wanted).reset_index()
    for name in ("mean_v", "max_v", "min_v"):
        if name not in g:
            g[name] = np.nan
    g = g.merge(indicators[["indicator_id", "unit_agg", "scale"]], on="indicator_id")
    method = g["unit_agg"].to_numpy()
    any_parts = g["n_parts"].to_numpy() > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(any_parts & (g["sum_d"] != 0), g["sum_n"] / g["sum_d"] * g["scale"],
                         np.nan)
    value = np.select([method == "ratio_of_sums", method == "sum", method == "mean",
                       method == "max", method == "min"],
                      [ratio, g["sum_v"], g["mean_v"], g["max_v"], g["min_v"]], np.nan)
    num = np.where(any_parts, g["sum_n"], np.nan)
    den = np.where(any_parts, g["sum_d"], np.nan)
    nonagg = g["child_nonagg"] + np.where(method == "ratio_of_sums", g["n_noparts"], 0)
    if single_passes:
        single = g["n_units"].to_numpy() == 1
        value = np.where(single, g["one_v"], value)
        num = np.where(single, g["one_n"], num)
        den = np.where(single, g["one_d"], den)
        nonagg = np.where(single, g["child_nonagg"], nonagg)
    out = g[keys].copy()
    out["num"], out["den"], out["value"] = num, den, value
    out["n_nonagg"] = np.asarray(nonagg, dtype="int64")
    return out


def map_to_current(values: pd.DataFrame, mapping: pd.DataFrame, indicators: pd.DataFrame
                   ) -> pd.DataFrame:
    stays = mapping.loc[mapping["unit_id"] == mapping["current_id"], "unit_id"]
    moving = mapping[mapping["unit_id"] != mapping["current_id"]]
    own = values[values["unit_id"].isin(stays)]
    inherited = values.merge(moving, on="unit_id")
    inherited = inherited.drop(columns="unit_id").rename(columns={"current_id": "unit_id"})
    if inherited.empty:
        return own
    keys = ["unit_id", "indicator_id", *PERIOD]
    heirs = own.loc[own["unit_id"].isin(moving["current_id"].unique()), keys]
    marked = inherited.merge(heirs, on=keys, how="left", indicator=True)
    inherited = marked[marked["_merge"] == "left_only"].drop(columns="_merge")
    inherited = inherited.assign(n_nonagg=0)
    combined = combine_units(inherited, keys, indicators, single_passes=True)
    return pd.concat([own, combined[own.columns]], ignore_index=True)


def time_aggregate(values: pd.DataFrame, indicators: pd.DataFrame, bucket: str,
                   starts: list[int]) -> pd.DataFrame:
    size, rank = SIZE[bucket], RANK[bucket]
    placed = values[values["p_rank"] >= rank]
    b_m0 = placed["p_m0"] - placed["p_m0"] % size
    inside = (placed["p_m1"] <= b_m0 + size - 1) & b_m0.isin(starts)
    placed = placed[inside].assign(b_m0=b_m0[inside])
    exact = placed.loc[placed["p_rank"] == rank, [*KEYS, "num", "den", "value"]].assign(n_nonagg=0)
    finer = placed[placed["p_rank"] > rank]
    if not exact.empty and not finer.empty:
        marked = finer.merge(exact[KEYS], on=KEYS, how="left", indicator=True)
        finer = marked[marked["_merge"] == "left_only"].drop(columns="_merge")
    if finer.empty:
        return exact
    if finer["p_rank"].nunique() > 1:
        finer = finer[finer["p_rank"] == finer.groupby(KEYS)["p_rank"].transform("max")]
    return pd.concat([exact, _combine_sub_periods(finer, indicators)], ignore_index=True)


def _combine_sub_periods(rows: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    parts = rows["num"].notna() & rows["den"].notna()
    work = rows.assign(num_p=rows["num"].where(parts), den_p=rows["den"].where(parts),
                       parts=parts)
    wanted = dict(sum_n=("num_p", "sum"), sum_d=("den_p", "sum"), n_parts=("parts", "sum"),
                  n_rows=("value", "size"), sum_v=("value", "sum"))
    if (indicators["time_agg"] == "mean").any():
        wanted["mean_v"] = ("value", "mean")
    g = work.groupby(KEYS, sort=False).agg(**wanted)
    if "mean_v" not in g:
        g["mean_v"] = np.nan
    # The latest sub-period only for stocks (`last`), as chiso does.
    stock_ids = indicators.loc[indicators["time_agg"] == "last", "indicator_id"]
    stocks = work[work["indicator_id"].isin(stock_ids)]
    latest = (stocks.sort_values("p_m1", kind="stable").drop_duplicates(KEYS, keep="last")
              .set_index(KEYS)[["value", "num", "den"]]
              .rename(columns={"value": "last_v", "num": "last_n", "den": "last_d"}))
    g = g.join(latest).reset_index().merge(
        indicators[["indicator_id", "is_ratio", "time_agg", "scale"]], on="indicator_id")
    last = (g["time_agg"] == "last").to_numpy()
    ratio = g["is_ratio"].to_numpy()
    any_parts = g["n_parts"].to_numpy() > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        flow_ratio = np.where(any_parts & (g["sum_d"] != 0), g["sum_n"] / g["sum_d"] * g["scale"],
                              np.where(g["n_rows"] == 1, g["sum_v"], np.nan))
    value = np.select([last, ratio, (g["time_agg"] == "mean").to_numpy()],
                      [g["last_v"], flow_ratio, g["mean_v"]], g["sum_v"])
    num = np.select([ratio & last, ratio & any_parts], [g["last_n"], g["sum_n"]], np.nan)
    den = np.select([ratio & last, ratio & any_parts], [g["last_d"], g["sum_d"]], np.nan)
    nonagg = np.where(ratio & ~last & (g["n_rows"] > 1), g["n_rows"] - g["n_parts"], 0)
    out = g[KEYS].copy()
    out["num"], out["den"], out["value"], out["n_nonagg"] = num, den, value, nonagg
    return out


def unit_rollup(own: pd.DataFrame, tree: pd.DataFrame, indicators: pd.DataFrame) -> pd.DataFrame:
    own = own.merge(tree[["unit_id", "depth"]], on="unit_id")
    parents = tree.loc[tree["parent_id"].notna(), ["unit_id", "parent_id"]]
    levels, below = [], None
    for depth in range(int(tree["depth"].max()), -1, -1):
        level = own[own["depth"] == depth].drop(columns="depth").assign(source="own")
        if below is not None and not below.empty:
            lifted = below[below["value"].notna() | (below["n_nonagg"] > 0)]
            lifted = lifted.merge(parents, on="unit_id").drop(columns=["unit_id", "source"])
            lifted = lifted.rename(columns={"parent_id": "unit_id"})
            lifted["unit_id"] = lifted["unit_id"].astype("int64")
            agg = combine_units(lifted, KEYS, indicators)
            agg = agg[agg["value"].notna() | (agg["n_nonagg"] > 0)]
            marked = agg.merge(level[KEYS], on=KEYS, how="left", indicator=True)
            agg = marked[marked["_merge"] == "left_only"].drop(columns="_merge")
            level = pd.concat([level, agg.assign(source="aggregate")], ignore_index=True)
        levels.append(level)
        below = level
    return pd.concat(levels, ignore_index=True)


def rolled_buckets(values: pd.DataFrame, indicators: pd.DataFrame, units: pd.DataFrame,
                   lineage: pd.DataFrame, today: dt.date, buckets: dict[str, list[int]]
                   ) -> dict[str, pd.DataFrame]:
    """Every unit's value for every bucket of each type (first months in `buckets`), on
    the hierarchy valid `today`."""
    day = pd.Timestamp(today)
    current = map_to_current(values[values["p_m0"] <= day.year * 12 + day.month - 1],
                             resolve_units(units, lineage, day), indicators)
    tree = current_tree(units, lineage, day)
    return {kind: unit_rollup(time_aggregate(current, indicators, kind, starts), tree,
                              indicators) for kind, starts in buckets.items()}


def evaluate_targets(targets: pd.DataFrame, values: pd.DataFrame, indicators: pd.DataFrame,
                     units: pd.DataFrame, lineage: pd.DataFrame, today: dt.date
                     ) -> pd.DataFrame:
    """Each group of targets sharing an as-of date (min(today, target date)) on its own."""
    as_of = targets["target_date"].clip(upper=pd.Timestamp(today))
    return pd.concat([_evaluate_group(group, values, indicators, units, lineage, day, today)
                      for day, group in targets.groupby(as_of, sort=True)],
                     ignore_index=True)


def _evaluate_group(targets: pd.DataFrame, values: pd.DataFrame, indicators: pd.DataFrame,
                    units: pd.DataFrame, lineage: pd.DataFrame, day: pd.Timestamp,
                    today: dt.date) -> pd.DataFrame:
    as_of_m = day.year * 12 + day.month - 1
    mapping = resolve_units(units, lineage, day)
    tree = current_tree(units, lineage, day)
    seen = values[values["p_m0"] <= as_of_m]
    years = sorted(targets["year"].unique())
    year_starts = sorted({y * 12 for y in years} | {(y - 1) * 12 for y in years})
    current = map_to_current(seen, mapping, indicators)
    yearly = unit_rollup(time_aggregate(current, indicators, "Y", year_starts), tree, indicators)
    monthly = unit_rollup(time_aggregate(current, indicators, "M",
                                         list(range(as_of_m - 23, as_of_m + 1))),
                          tree, indicators)
    framed = _attach(targets.assign(as_of=day), yearly, monthly, indicators)
    framed = _judge_flows(framed, monthly, pd.Timestamp(today))
    framed = _expected(framed)
    framed = _classify(framed, pd.Timestamp(today))
    return _project(framed, monthly, as_of_m)


def _judge_flows(t: pd.DataFrame, monthly: pd.DataFrame, today: pd.Timestamp) -> pd.DataFrame:
    """Flows: the judged date E (the target date once closed; the end of the previous
    month when that is the last month reported; else the as-of date) and the linear
    shares of the year S(E), S(target date)."""
    t["ytd"] = (t["time_agg"] == "sum") & ~t["is_ratio"].astype(bool)
    keys = ["unit_id", "indicator_id"]
    present = monthly[monthly["value"].notna()].assign(year=lambda f: f["b_m0"] // 12)
    last = present.groupby([*keys, "year"])["b_m0"].max().rename("last_m").reset_index()
    t = t.merge(last, on=[*keys, "year"], how="left")
    as_of_m = t["as_of"].dt.year * 12 + t["as_of"].dt.month - 1
    month_before_end = t["as_of"].dt.to_period("M").dt.start_time - pd.Timedelta(days=1)
    judged = t["as_of"].where(t["last_m"] != as_of_m - 1, month_before_end)
    judged = judged.where(t["as_of"] < t["target_date"], t["target_date"])
    t["ytd_end"] = judged.where(t["ytd"])
    start = pd.to_datetime(dict(year=t["year"] - 1, month=12, day=31))
    days = (pd.to_datetime(dict(year=t["year"], month=12, day=31)) - start).dt.days
    share = lambda day: ((day - start).dt.days / days).clip(0, 1)  # noqa: E731
    t["share_end"] = share(t["ytd_end"]).where(t["ytd"])
    t["share_target"] = share(t["target_date"]).where(t["ytd"])
    return t.drop(columns="last_m")


def _attach(targets: pd.DataFrame, yearly: pd.DataFrame, monthly: pd.DataFrame,
            indicators: pd.DataFrame) -> pd.DataFrame:
    t = targets.merge(indicators, on="indicator_id", how="left")
    t["b_m0"], t["prev_m0"] = t["year"] * 12, (t["year"] - 1) * 12
    actual = yearly[[*KEYS, "value", "num", "den", "n_nonagg"]].rename(
        columns={"value": "actual", "num": "actual_num", "den": "actual_den"})
    t = t.merge(actual, on=KEYS, how="left")
    prev = yearly[[*KEYS, "value"]].rename(columns={"value": "prev_value", "b_m0": "prev_m0"})
    t = t.merge(prev, on=["unit_id", "indicator_id", "prev_m0"], how="left")
    present = monthly[monthly["value"].notna()].assign(year=lambda f: f["b_m0"] // 12)
    first = (present.sort_values("b_m0", kind="stable")
             .drop_duplicates(["unit_id", "indicator_id", "year"], keep="first"))
    first = first[["unit_id", "indicator_id", "year", "value", "b_m0"]].rename(
        columns={"value": "first_value", "b_m0": "first_m"})
    t = t.drop(columns=["b_m0", "prev_m0"]).merge(first, on=["unit_id", "indicator_id", "year"],
                                                  how="left")
    first_start = pd.to_datetime(dict(year=t["first_m"] // 12, month=t["first_m"] % 12 + 1,
                                      day=1), errors="coerce")
    t["first_date"] = first_start + pd.offsets.MonthEnd(0)
    given = t["baseline_value"].notna()
    year_end_before = pd.to_datetime(dict(year=t["year"] - 1, month=12, day=31))
    t["b_value"] = t["baseline_value"].where(given, t["prev_value"].where(
        t["prev_value"].notna(), t["first_value"]))
    t["b_date"] = t["baseline_date"].fillna(year_end_before).where(
        given, year_end_before.where(t["prev_value"].notna(), t["first_date"]))
    return t


def _expected(t: pd.DataFrame) -> pd.DataFrame:
    # A flow's path runs from 0 on 31/12 of the previous year, read at its judged date.
    flow = t["ytd"]
    a = t["ytd_end"].where(flow, t["as_of"])
    d0 = pd.to_datetime(dict(year=t["year"] - 1, month=12, day=31)).where(flow, t["b_date"])
    v0 = pd.Series(0.0, index=t.index).where(flow, t["b_value"])
    d1, v1 = t["target_date"], t["target_value"]
    has_base = v0.notna() & d0.notna()
    span = (d1 - d0).dt.days.astype(float)
    x = ((a - d0).dt.days / span).clip(0, 1)
    between = v0 + (v1 - v0) * x
    expected = np.select(
        [~has_base | (d0 >= d1), a < d0, a >= d1],
        [v1, v0, v1], between)
    t["expected"] = expected
    t["expected_high"] = t["expected"] + t["value_high"] - t["target_value"]
    return t


def _classify(t: pd.DataFrame, today: pd.Timestamp) -> pd.DataFrame:
    actual, target = t["actual"], t["target_value"]
    expected = t["expected"].fillna(target)
    tol = 1e-9 * np.maximum(target.abs(), 1.0)
    lower = t["comparator"] == "<="
    meets = np.where(lower, actual <= target + tol, actual >= target - tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        higher_ratio = np.where(expected > 0, actual / expected,
                                np.where(actual >= expected, 1.0, 0.0))
        lower_ratio = np.where(actual > 0, expected / actual, 1.0)
    ratio = np.where(lower, lower_ratio, higher_ratio)
    ratio = np.where(actual.isna(), np.nan, ratio)
    t["progress_ratio"] = ratio
    # Year to date a ceiling is never achieved, and once crossed it is off track.
    flow = t["ytd"].to_numpy()
    crossed = flow & lower & (actual > target + tol)
    achieved_now = meets & ~(flow & lower)
    running = np.select(
        [actual.isna(), crossed, achieved_now, ratio >= 0.95 - 1e-9, ratio >= 0.85 - 1e-9],
        ["no_data", "off_track", "achieved", "on_track", "at_risk"], "off_track")
    year_end = np.select([actual.isna(), meets, actual == 0],
                         ["no_data", "met", "not_implemented"], "missed")
    t["status"] = np.where(today >= t["target_date"], year_end, running)
    return t


def _project(t: pd.DataFrame, monthly: pd.DataFrame, as_of_m: int) -> pd.DataFrame:
    keys = ["unit_id", "indicator_id"]
    m = monthly.loc[monthly["value"].notna() & (monthly["b_m0"] <= as_of_m)
                    & (monthly["b_m0"] > as_of_m - 24), [*keys, "b_m0", "num", "den", "value"]]
    m = m.assign(t=(m["b_m0"] - as_of_m).astype(float))
    recent = m["t"] > -12
    m = m.assign(ty=m["t"] * m["value"], tt=m["t"] * m["t"], rn=m["num"].where(recent),
                 rd=m["den"].where(recent), rv=m["value"].where(recent), year=m["b_m0"] // 12)
    stats = m.groupby(keys).agg(
        h_n=("t", "size"), h_st=("t", "sum"), h_sy=("value", "sum"), h_stt=("tt", "sum"),
        h_sty=("ty", "sum"), rate_n=("rn", "mean"), rate_d=("rd", "mean"),
        rate_v=("rv", "mean"))
    latest = (m.sort_values("b_m0", kind="stable").drop_duplicates(keys, keep="last")
              .set_index(keys)["value"].rename("latest_v"))
    per_year = m.groupby([*keys, "year"])["b_m0"].max().rename("last_m").reset_index()
    t = t.merge(stats.join(latest).reset_index(), on=keys, how="left")
    t = t.merge(per_year, on=[*keys, "year"], how="left")
    target_m = t["target_date"].dt.year * 12 + t["target_date"].dt.month - 1
    run_rate = (t["ytd"] & (t["share_end"] > 0)).to_numpy()
    t["projected"] = np.where(run_rate, _flow_run_rate(t, True),
                              _projection_at(t, target_m, as_of_m))
    t["projected_year_end"] = np.where(run_rate, _flow_run_rate(t, False),
                                       _projection_at(t, t["year"] * 12 + 11, as_of_m))
    return t


def _projection_at(t: pd.DataFrame, month: pd.Series, as_of_m: int) -> np.ndarray:
    n, st, sy = t["h_n"], t["h_st"], t["h_sy"]
    spread = n * t["h_stt"] - st * st
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (n * t["h_sty"] - st * sy) / spread
        intercept = (sy - slope * st) / n
        trend = np.where((n >= 2) & (spread > 0), intercept + slope * (month - as_of_m),
                         t["latest_v"])
        remaining = (month - t["last_m"].fillna(month)).clip(lower=0)
        flow_count = t["actual"] + t["rate_v"].fillna(0.0) * remaining
        num = t["actual_num"] + t["rate_n"].fillna(0.0) * remaining
        den = t["actual_den"] + t["rate_d"].fillna(0.0) * remaining
        flow_ratio = np.where(den > 0, num / den * t["scale"], t["actual"])
    stock = (t["time_agg"] != "sum").to_numpy()
    projected = np.select([stock, t["is_ratio"].to_numpy()], [trend, flow_ratio], flow_count)
    projected = np.where(np.isnan(projected), t["actual"], projected)
    projected = np.where(t["actual"].isna() & t["h_n"].isna(), np.nan, projected)
    clipped = np.clip(projected, 0.0, t["scale"])
    return np.where(t["is_ratio"], clipped, projected)


def _flow_run_rate(t: pd.DataFrame, at_target: bool) -> np.ndarray:
    """A flow continues at its year-to-date pace: actual × S(target) ÷ S(judged date), or
    actual ÷ S(judged date) at 31/12."""
    reach = t["share_target"] if at_target else 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (t["actual"] * reach / t["share_end"]).to_numpy()

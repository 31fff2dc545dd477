"""`chiso bench index`: a 100-indicator framework over all 3,321 communes, the nominal index
and ranks, then 1,000 Monte Carlo samples of perturbed weights — chiso's engine (one batched
matrix product per chunk of samples) against a competent vectorised pandas version (per
sample: DataFrame arithmetic, `.dot` with the group weights, `rank(method="min")`), on the
same data and the very same weight samples, in one process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import typer
from rich.progress import Progress

from benchmarks.core import Comparison, assert_close, print_comparison, timed
from chiso.dti import engine
from chiso.dti.framework import parse_framework


def register_bench(bench: typer.Typer) -> None:
    bench.command("index")(bench_index)


def synthetic_framework(indicators: int, groups: int) -> engine.CompiledFramework:
    """Groups of indicators with goalposts 0–100, some lower-is-better, unequal weights."""
    lines = ["code: BENCH", "name_vi: Bench", "valid_from_year: 2025", "missing: skip",
             "rank_decimals: 4", "nodes:"]
    per_group = indicators // groups
    for g in range(groups):
        lines += [f"  - code: G{g}", f"    points: {10 + g}", "    children:"]
        for i in range(per_group):
            direction = -1 if (g * per_group + i) % 7 == 0 else 1
            lines.append(f"      - {{code: I{g}_{i}, points: {1 + i % 4}, normalisation: "
                         f"{{method: minmax, low: 0, high: 100, direction: {direction}}}}}")
    return engine.compile_framework(parse_framework("\n".join(lines)))


def synthetic_values(units: int, indicators: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.uniform(0, 110, size=(units, indicators))
    raw[rng.random(raw.shape) < 0.03] = np.nan  # 3 % missing, skipped and re-weighted
    return raw


class PandasIndex:
    """The same computation written the way a careful pandas user would."""

    def __init__(self, cf: engine.CompiledFramework, raw: np.ndarray) -> None:
        leaves = cf.leaf_codes
        frame = pd.DataFrame(raw, columns=leaves)
        low = pd.Series(cf.low, index=leaves)
        high = pd.Series(cf.high, index=leaves)
        direction = pd.Series(cf.direction, index=leaves)
        scaled = (frame - low) / (high - low)
        scaled = (scaled * direction + (direction < 0).astype(float)).clip(0, 1)
        self.present = scaled.notna().astype(float)
        self.filled = scaled.fillna(0.0)
        self.cf = cf
        self.leaves = leaves
        self.group_layer, self.root_layer = cf.layers
        self.group_codes = [cf.codes[p] for p in self.group_layer.parents]

    def index(self, leaf_w: np.ndarray, group_w: np.ndarray) -> pd.Series:
        w = pd.DataFrame(leaf_w[self.cf.leaf_index], index=self.leaves,
                         columns=self.group_codes)
        groups = self.filled.dot(w) / self.present.dot(w)
        g = pd.Series(group_w[self.group_layer.parents, 0], index=self.group_codes)
        return groups.mul(g, axis=1).sum(axis=1) / groups.notna().dot(g)

    def nominal(self) -> pd.Series:
        return self.index(self.group_layer.weights, self.root_layer.weights)

    def monte_carlo(self, sample_weights: list[np.ndarray]) -> pd.DataFrame:
        ranks = {s: self.index(sample_weights[0][s], sample_weights[1][s]).round(4).rank(
            method="min", ascending=False) for s in range(sample_weights[0].shape[0])}
        return pd.DataFrame(ranks).T


def bench_index(
    units: int = typer.Option(3321, help="Số đơn vị (xã) / Units (communes)."),
    indicators: int = typer.Option(100, help="Số chỉ tiêu / Indicators."),
    groups: int = typer.Option(10, help="Số nhóm (trụ cột) / Groups (pillars)."),
    samples: int = typer.Option(1000, help="Số mẫu Monte Carlo / Monte Carlo samples."),
    seed: int = typer.Option(2025),
) -> None:
    """Chỉ số tổng hợp và 1.000 mẫu độ nhạy trên 3.321 xã, so với pandas.

    Composite index + 1,000 sensitivity samples over 3,321 communes vs pandas.

    Example: chiso bench index --units 3321 --indicators 100 --samples 1000
    """
    cf = synthetic_framework(indicators, groups)
    raw = synthetic_values(units, indicators, seed)
    weights = engine.perturbed_layer_weights(cf, samples, 0.2, np.random.default_rng(seed))
    result = Comparison(f"Chỉ số tổng hợp / composite index: {units:,} đơn vị × {indicators} "
                        f"chỉ số × {samples:,} mẫu Monte Carlo")
    def ours_nominal_work() -> tuple[np.ndarray, np.ndarray]:
        total = engine.compute(cf, raw)[:, 0]
        return total, engine.competition_rank(total, decimals=4)

    ours_nominal, ours_rank = timed("chỉ số + hạng / index + ranks", result.ours,
                                    ours_nominal_work)
    with Progress(transient=True) as bar:
        task = bar.add_task("chiso Monte Carlo", total=samples)
        ours = timed("Monte Carlo", result.ours, lambda: engine.sensitivity(
            cf, raw, samples=samples, weights=weights, progress=lambda n: bar.advance(task, n)))
    def pandas_nominal() -> tuple[PandasIndex, pd.Series, pd.Series]:
        frame = PandasIndex(cf, raw)
        total = frame.nominal()
        return frame, total, total.round(4).rank(method="min", ascending=False)

    pandas, theirs_nominal, theirs_rank = timed("chỉ số + hạng / index + ranks",
                                                result.pandas, pandas_nominal)
    theirs_ranks = timed("Monte Carlo", result.pandas, lambda: pandas.monte_carlo(weights))
    compared = assert_close("index", ours_nominal, theirs_nominal.to_numpy())
    assert_close("rank", ours_rank, theirs_rank.to_numpy())
    same = np.mean(ours.ranks == theirs_ranks.to_numpy())
    # Sums in a different order can move a total across a 4-decimal rounding edge, so a
    # handful of ranks may differ by one; anything more is a real disagreement.
    if same < 0.9999:
        raise AssertionError(f"ranks agree on only {same:.5%} of unit-samples")
    p05, p95 = np.nanpercentile(theirs_ranks.to_numpy(), [5, 95], axis=0)
    if np.abs(p05 - ours.p05).max() > 1 or np.abs(p95 - ours.p95).max() > 1:
        raise AssertionError("rank intervals differ")
    result.notes.append(f"Khớp / agree: {compared:,} chỉ số tổng, {same:.4%} của "
                        f"{ours.ranks.size:,} hạng (đơn vị × mẫu)")
    print_comparison(result)

"""The composite-index engine: pure numpy, vectorised over units (and over Monte Carlo samples).

Method follows the JRC/OECD Handbook on Constructing Composite Indicators and COINr:
normalise each leaf indicator, aggregate each group as a weighted arithmetic or geometric
mean of its children (weights re-scaled to sum to one among the children present), rank with
competition ranks ("15, 15, 17"). Nothing here loops over units: a framework is compiled into
one weight matrix per tree height, and every unit (and sample) goes through matrix products.

Shapes: U units, L leaves, N nodes (the root is node 0), S samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from chiso.dti.framework import Framework, FrameworkError, Node

EPSILON = 1e-12


@dataclass(frozen=True)
class Layer:
    """Parents of one tree height and their weights over all nodes.

    Every node has one parent, so the (N, P) matrix is sparse: aggregation runs on the
    children listed parent by parent (`children`, segment `starts`) with `np.add.reduceat`,
    which is far cheaper than a batched matrix product for Monte Carlo samples.
    """

    parents: np.ndarray  # (P,) node indices
    weights: np.ndarray  # (N, P): weight of node n in parent p (0 if not a child)
    geometric: np.ndarray  # (P,) bool
    children: np.ndarray  # (K,) node indices, grouped by parent column
    child_parent: np.ndarray  # (K,) parent column of each child
    starts: np.ndarray  # (P,) first position of each parent's children in `children`

    def child_weights(self, weights: np.ndarray) -> np.ndarray:
        """(…, N, P) weights → (…, K) weight of each listed child."""
        return weights[..., self.children, self.child_parent]


@dataclass(frozen=True)
class CompiledFramework:
    framework: Framework
    codes: list[str]  # node codes, root first
    leaf_index: np.ndarray  # (L,) node indices of the leaves
    layers: list[Layer]
    methods: np.ndarray  # (L,) normalisation method per leaf
    low: np.ndarray
    high: np.ndarray
    target: np.ndarray
    direction: np.ndarray
    effort: np.ndarray  # (L,)

    @property
    def leaf_codes(self) -> list[str]:
        return [self.codes[i] for i in self.leaf_index]

    def index_of(self, code: str) -> int:
        return self.codes.index(code)

    def effective_weights(self) -> np.ndarray:
        """(N,) each node's share of the root when nothing is missing (root = 1)."""
        share = np.zeros(len(self.codes))
        share[0] = 1.0
        for layer in reversed(self.layers):  # from the root downwards
            totals = layer.weights.sum(axis=0)
            fractions = np.divide(layer.weights, totals, out=np.zeros_like(layer.weights),
                                  where=totals > 0)
            share += fractions @ share[layer.parents]
        return share


def compile_framework(framework: Framework, weights: dict[str, float] | None = None
                      ) -> CompiledFramework:
    """Turn the tree into matrices; `weights` overrides node weights (e.g. unknown points)."""
    overrides = weights or {}
    missing = [c for c in framework.unknown_weights() if c not in overrides]
    if missing:
        raise FrameworkError(
            f"{framework.code}: chưa biết điểm chính thức của {', '.join(missing)} — cần nhập "
            f"trọng số trước khi tính / the official points of {', '.join(missing)} are not "
            "known — supply weights before computing")
    codes = list(framework.nodes)
    position = {code: i for i, code in enumerate(codes)}
    heights = _heights(framework)
    layers = []
    for height in range(1, max(heights.values()) + 1):
        parents = [c for c in codes if heights[c] == height]
        matrix = np.zeros((len(codes), len(parents)))
        for column, parent in enumerate(parents):
            for child in framework.nodes[parent].children:
                node = framework.nodes[child]
                matrix[position[child], column] = overrides.get(child, node.weight or 0.0)
        geometric = np.array([(framework.nodes[p].aggregation or framework.aggregation)
                              == "geometric" for p in parents])
        pairs = [(position[child], column) for column, parent in enumerate(parents)
                 for child in framework.nodes[parent].children]
        children, child_parent = (np.array(x, dtype=int) for x in zip(*pairs, strict=True))
        starts = np.searchsorted(child_parent, np.arange(len(parents)))
        layers.append(Layer(np.array([position[p] for p in parents]), matrix, geometric,
                            children, child_parent, starts))
    leaves: list[Node] = framework.leaves
    norm = [leaf.normalisation for leaf in leaves]
    return CompiledFramework(
        framework=framework, codes=codes,
        leaf_index=np.array([position[leaf.code] for leaf in leaves]), layers=layers,
        methods=np.array([n.method for n in norm]),
        low=np.array([np.nan if n.low is None else n.low for n in norm]),
        high=np.array([np.nan if n.high is None else n.high for n in norm]),
        target=np.array([np.nan if n.target is None else n.target for n in norm]),
        direction=np.array([n.direction for n in norm], dtype=float),
        effort=np.array([leaf.effort for leaf in leaves]),
    )


def _heights(framework: Framework) -> dict[str, int]:
    heights: dict[str, int] = {}

    def height(code: str) -> int:
        if code not in heights:
            children = framework.nodes[code].children
            heights[code] = 0 if not children else 1 + max(height(c) for c in children)
        return heights[code]

    for code in framework.nodes:
        height(code)
    return heights


# ------------------------------------------------------------------ normalisation


def normalise(cf: CompiledFramework, raw: np.ndarray, *, method: str | None = None
              ) -> np.ndarray:
    """(U, L) raw values → (U, L) scores, higher is better. NaN stays NaN.

    `method` forces one method on every leaf (sensitivity analysis); goalposts then come
    from the data, as COINr does when none are given.
    """
    raw = np.asarray(raw, dtype=float)
    out = np.array(raw, copy=True)
    methods = np.full(cf.methods.shape, method) if method else cf.methods
    forced = method is not None
    for name, function in _NORMALISERS.items():
        columns = np.flatnonzero(methods == name)
        if columns.size:
            out[:, columns] = function(cf, raw[:, columns], columns, forced)
    return out


def _none(cf: CompiledFramework, x: np.ndarray, cols: np.ndarray, forced: bool) -> np.ndarray:
    return x


def _minmax(cf: CompiledFramework, x: np.ndarray, cols: np.ndarray, forced: bool) -> np.ndarray:
    low, high = cf.low[cols], cf.high[cols]
    if forced or np.isnan(low).any() or np.isnan(high).any():
        # Goalposts not given (or overridden for sensitivity): the observed range.
        low = _nan_min(x) if forced else np.where(np.isnan(low), _nan_min(x), low)
        high = _nan_max(x) if forced else np.where(np.isnan(high), _nan_max(x), high)
    span = high - low
    degenerate = ~(span > EPSILON)
    scaled = (x - low) / np.where(degenerate, 1.0, span)
    scaled = np.where(cf.direction[cols] < 0, 1.0 - scaled, scaled)
    # Fixed goalposts cap the score: beyond the goalpost there is nothing more to earn.
    np.clip(scaled, 0.0, 1.0, out=scaled)
    if degenerate.any():  # every unit equal: all score 1 (nothing separates them)
        scaled[:, degenerate] = np.where(np.isnan(x[:, degenerate]), np.nan, 1.0)
    return scaled


def _target(cf: CompiledFramework, x: np.ndarray, cols: np.ndarray, forced: bool) -> np.ndarray:
    if forced:
        return _minmax(cf, x, cols, forced)
    low = np.where(np.isnan(cf.low[cols]), 0.0, cf.low[cols])
    target = cf.target[cols]
    higher = (x - low) / np.where(np.abs(target - low) > EPSILON, target - low, np.nan)
    # Lower is better: the score falls from 1 at the target to 0 at `low` (the worst bound).
    return np.clip(np.where(cf.direction[cols] < 0, (low - x) / (low - target), higher), 0, 1)


def _rank(cf: CompiledFramework, x: np.ndarray, cols: np.ndarray, forced: bool) -> np.ndarray:
    oriented = x * cf.direction[cols]
    ranks = competition_rank(oriented.T, ascending=True).T  # 1 = worst
    present = np.sum(~np.isnan(x), axis=0)
    return (ranks - 1.0) / np.where(present > 1, present - 1, np.nan)


def _zscore(cf: CompiledFramework, x: np.ndarray, cols: np.ndarray, forced: bool) -> np.ndarray:
    mean = _nan_mean(x)
    spread = _nan_std(x)
    z = (x - mean) / np.where(spread > EPSILON, spread, np.nan)
    z = np.where(np.isnan(z) & ~np.isnan(x), 0.0, z)
    return z * cf.direction[cols]


def _nan_reduce(x: np.ndarray, reducer: Callable[..., np.ndarray]) -> np.ndarray:
    """Column-wise reduction ignoring NaN; an all-NaN column gives NaN, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return reducer(x, axis=0)


def _nan_min(x: np.ndarray) -> np.ndarray:
    return _nan_reduce(x, np.nanmin)


def _nan_max(x: np.ndarray) -> np.ndarray:
    return _nan_reduce(x, np.nanmax)


def _nan_mean(x: np.ndarray) -> np.ndarray:
    return _nan_reduce(x, np.nanmean)


def _nan_std(x: np.ndarray) -> np.ndarray:
    return _nan_reduce(x, np.nanstd)


_NORMALISERS = {"none": _none, "minmax": _minmax, "target": _target, "rank": _rank,
                "zscore": _zscore}


# ------------------------------------------------------------------ missing data


def apply_missing_rule(scores: np.ndarray, rule: str, groups: np.ndarray | None = None
                       ) -> np.ndarray:
    """skip: leave NaN (aggregation re-weights); zero: NaN → 0; impute: NaN → the mean of
    the unit's group (all units when no groups are given)."""
    if rule == "skip":
        return scores
    if rule == "zero":
        return np.where(np.isnan(scores), 0.0, scores)
    labels = np.zeros(scores.shape[0], dtype=int) if groups is None else np.unique(
        groups, return_inverse=True)[1]
    present = ~np.isnan(scores)
    count = np.zeros((labels.max() + 1, scores.shape[1]))
    total = np.zeros_like(count)
    np.add.at(count, labels, present.astype(float))
    np.add.at(total, labels, np.where(present, scores, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = total / count
    return np.where(present, scores, means[labels])


# ------------------------------------------------------------------ aggregation


def aggregate(cf: CompiledFramework, leaf_scores: np.ndarray,
              layer_weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """(…, U, L) leaf scores → (…, U, N) scores of every node.

    `layer_weights` replaces each layer's (N, P) weights, optionally with a leading sample
    axis (S, N, P), so Monte Carlo runs many weight samples at once; 2-D leaf scores are
    then shared by all samples. Children missing (NaN) or weighted 0 drop out and the
    remaining weights are re-scaled, so weights that sum to anything give the same result.
    """
    store, position = _group_scores(cf, leaf_scores, layer_weights)
    scores = np.empty((*store.shape[:-1], len(cf.codes)))
    scores[..., cf.leaf_index] = leaf_scores
    groups = np.flatnonzero(position >= 0)
    scores[..., groups] = store[..., position[groups]]
    return scores


def aggregate_root(cf: CompiledFramework, leaf_scores: np.ndarray,
                   layer_weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Only the root's scores, without building the (S, U, N) array (Monte Carlo)."""
    store, position = _group_scores(cf, leaf_scores, layer_weights)
    return store[..., position[0]]


def _group_scores(cf: CompiledFramework, leaf_scores: np.ndarray,
                  layer_weights: Sequence[np.ndarray] | None) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the group nodes only, layer by layer; `position[node]` is the node's
    column in the result (−1 for leaves). With shared leaves and sampled weights the first
    layer is one matrix product (U, K) @ (K, S·P) instead of S aggregations."""
    sampled = layer_weights is not None and layer_weights[0].ndim == 3
    shared = sampled and leaf_scores.ndim == 2
    batch = (layer_weights[0].shape[0],) if shared else leaf_scores.shape[:-2]  # type: ignore[index]
    slot = np.full(len(cf.codes), -1)
    slot[cf.leaf_index] = np.arange(len(cf.leaf_index))
    position = np.full(len(cf.codes), -1)
    groups = np.flatnonzero(slot < 0)
    position[groups] = np.arange(groups.size)
    store = np.empty((*batch, leaf_scores.shape[-2], groups.size))
    for number, layer in enumerate(cf.layers):
        weights = layer.weights if layer_weights is None else layer_weights[number]
        child_w = layer.child_weights(weights)  # (K,) or (S, K)
        leaf_children = slot[layer.children]
        is_leaf = leaf_children >= 0
        if shared and is_leaf.all():
            result = _first_layer_product(layer, leaf_scores[:, leaf_children], child_w)
        else:
            values = np.empty((*store.shape[:-1], layer.children.size))
            values[..., is_leaf] = leaf_scores[..., leaf_children[is_leaf]]
            values[..., ~is_leaf] = store[..., position[layer.children[~is_leaf]]]
            if child_w.ndim == 2:
                child_w = child_w[:, None, :]  # one weight row per sample, shared by units
            result = _segment_means(layer, values, child_w)
        store[..., position[layer.parents]] = result
    return store, position


def _segment_means(layer: Layer, values: np.ndarray, child_w: np.ndarray) -> np.ndarray:
    """Weighted arithmetic (or geometric) means of each parent's children, by segments."""
    present = ~np.isnan(values)
    present_weight = np.add.reduceat(present * child_w, layer.starts, axis=-1)
    arithmetic = np.add.reduceat(np.where(present, values, 0.0) * child_w, layer.starts,
                                 axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where(present_weight > 0, arithmetic / present_weight, np.nan)
        if layer.geometric.any():
            log_sum = np.add.reduceat(_weighted_logs(values, present, child_w), layer.starts,
                                      axis=-1)
            geometric = np.where(present_weight > 0, np.exp(log_sum / present_weight), np.nan)
            result = np.where(layer.geometric, geometric, result)
    return result


def _weighted_logs(values: np.ndarray, present: np.ndarray, child_w: np.ndarray
                   ) -> np.ndarray:
    """w·log(x) for present children; log 0 = −inf makes the geometric mean 0, unless
    that child weighs nothing."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(present, values, 1.0))
        weighted = logs * child_w
    return np.where(np.isneginf(logs) & (child_w > 0), -np.inf,
                    np.where(present & ~np.isneginf(logs), weighted, 0.0))


def _first_layer_product(layer: Layer, leaves: np.ndarray, child_w: np.ndarray
                         ) -> np.ndarray:
    """Leaves shared by S weight samples: (U, K) @ (K, S·P) → (S, U, P) in one product."""
    samples, parents = child_w.shape[0], len(layer.parents)
    by_leaf = np.zeros((leaves.shape[1], samples, parents))
    by_leaf[np.arange(leaves.shape[1]), :, layer.child_parent] = child_w.T
    spread = by_leaf.reshape(leaves.shape[1], samples * parents)
    present = ~np.isnan(leaves)

    def product(matrix: np.ndarray) -> np.ndarray:
        return (matrix @ spread).reshape(leaves.shape[0], samples, parents).transpose(1, 0, 2)

    present_weight = product(present.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        result = np.where(present_weight > 0,
                          product(np.where(present, leaves, 0.0)) / present_weight, np.nan)
        if layer.geometric.any():
            logs = np.log(np.where(present, leaves, 1.0))
            # A zero score (log −inf) zeroes its parent's geometric mean when it has weight.
            zero = product((np.isneginf(logs)).astype(float)) > 0
            log_sum = product(np.where(present & ~np.isneginf(logs), logs, 0.0))
            geometric = np.where(zero, 0.0, np.exp(log_sum / present_weight))
            geometric = np.where(present_weight > 0, geometric, np.nan)
            result = np.where(layer.geometric, geometric, result)
    return result


def compute(cf: CompiledFramework, raw: np.ndarray, *, missing: str | None = None,
            groups: np.ndarray | None = None, method: str | None = None) -> np.ndarray:
    """Raw leaf values (U, L) → scores of every node (U, N) in [0, 1] for bounded methods."""
    leaf_scores = normalise(cf, raw, method=method)
    leaf_scores = apply_missing_rule(leaf_scores, missing or cf.framework.missing, groups)
    return aggregate(cf, leaf_scores)


# ------------------------------------------------------------------ ranking


# Float noise allowed when rounding half up: a total that is 0.69495 in decimals may be
# 0.694949999999999 in binary; far below any real difference at the published precision.
HALF_UP_SLACK = 1e-9


def published(values: np.ndarray | float, decimals: int | None) -> np.ndarray:
    """Values at the published precision, rounded half up (0,69495 → 0,6950), as the
    ministry publishes them; `None` decimals leaves them as they are. Ranks are taken on
    exactly these values, so what is shown equal ties and what is shown different does
    not (numpy's round is half-to-even on the binary value: 0,69495 → 0,6949)."""
    values = np.asarray(values, dtype=float)
    if decimals is None:
        return values
    scale = 10.0 ** decimals
    with np.errstate(invalid="ignore"):
        magnitude = np.floor(np.abs(values) * scale + 0.5 + HALF_UP_SLACK) / scale
    return np.copysign(magnitude, values)


def competition_rank(values: np.ndarray, *, decimals: int | None = None,
                     ascending: bool = False) -> np.ndarray:
    """Rank along the last axis: ties share the best rank and the next rank skips
    (0.80, 0.75, 0.75, 0.70 → 1, 2, 2, 4). NaN gets NaN. Works on (…, U) arrays.
    With `decimals`, ranks are taken on the values as published (`published`)."""
    values = published(values, decimals)
    key = values if ascending else -values
    key = np.where(np.isnan(key), np.inf, key)
    order = np.argsort(key, axis=-1, kind="stable")
    ordered = np.take_along_axis(key, order, axis=-1)
    positions = np.broadcast_to(np.arange(key.shape[-1]), key.shape)
    with np.errstate(invalid="ignore"):  # inf − inf for the NaN tail
        steps = np.diff(ordered, axis=-1)
    starts_group = np.concatenate(
        [np.ones((*key.shape[:-1], 1), bool), steps != 0], axis=-1)
    first_of_group = np.maximum.accumulate(np.where(starts_group, positions, 0), axis=-1)
    ranks = np.empty(key.shape)
    np.put_along_axis(ranks, order, first_of_group + 1.0, axis=-1)
    return np.where(np.isnan(values), np.nan, ranks)


# ------------------------------------------------------------------ sensitivity


@dataclass(frozen=True)
class Sensitivity:
    nominal_rank: np.ndarray  # (U,)
    ranks: np.ndarray  # (S, U)
    p05: np.ndarray
    p50: np.ndarray
    p95: np.ndarray
    methods: list[str]  # normalisation used by each sample


def perturbed_layer_weights(cf: CompiledFramework, samples: int, spread: float,
                            rng: np.random.Generator) -> list[np.ndarray]:
    """Each weight × U(1 − spread, 1 + spread), independently per sample; aggregation
    re-scales, so this is the usual 'perturb and renormalise' scheme."""
    result = []
    for layer in cf.layers:
        factors = rng.uniform(1 - spread, 1 + spread, size=(samples, *layer.weights.shape))
        result.append(layer.weights[None, :, :] * factors)
    return result


def sensitivity(cf: CompiledFramework, raw: np.ndarray, *, samples: int = 1000,
                spread: float = 0.2, methods: Sequence[str] = ("framework",),
                seed: int = 12345, chunk: int = 50,
                progress: Callable[[int], None] | None = None,
                weights: Sequence[np.ndarray] | None = None) -> Sensitivity:
    """Monte Carlo: perturbed weights × a normalisation drawn per sample; ranks of the root.

    Samples run in chunks through one batched matrix product each (memory stays bounded).
    `weights` (one (S, N, P) array per layer) replaces the random draw, e.g. to compare
    with another implementation on the very same samples.
    """
    rng = np.random.default_rng(seed)
    decimals = cf.framework.rank_decimals
    nominal = competition_rank(compute(cf, raw)[:, 0], decimals=decimals)
    drawn = [str(m) for m in rng.choice(list(methods), size=samples)]
    ranks = np.empty((samples, raw.shape[0]))
    if weights is None:
        weights = perturbed_layer_weights(cf, samples, spread, rng)
    for method in sorted(set(drawn)):
        leaves = apply_missing_rule(normalise(cf, raw, method=None if method == "framework"
                                              else method), cf.framework.missing)
        chosen = np.flatnonzero(np.array(drawn) == method)
        for start in range(0, chosen.size, chunk):
            rows = chosen[start:start + chunk]
            root = aggregate_root(cf, leaves, [w[rows] for w in weights])
            ranks[rows] = competition_rank(root, decimals=decimals)
            if progress:
                progress(rows.size)
    percentile = np.nanpercentile if np.isnan(ranks).any() else np.percentile
    p05, p50, p95 = percentile(ranks, [5, 50, 95], axis=0)
    return Sensitivity(nominal, ranks, p05, p50, p95, drawn)


# ------------------------------------------------------------------ bottlenecks


@dataclass(frozen=True)
class Move:
    code: str
    current: float  # leaf score now
    proposed: float  # leaf score after the move
    gain: float  # index gain (root scale)
    effort: float


def improvement_moves(cf: CompiledFramework, unit_scores: np.ndarray, caps: np.ndarray
                      ) -> list[Move]:
    """One candidate move per leaf: raise its score to `caps` (best peer or maximum).
    Gains use the effective weights (exact for arithmetic aggregation with no gaps)."""
    shares = cf.effective_weights()[cf.leaf_index]
    current = unit_scores[cf.leaf_index]
    room = np.clip(np.nan_to_num(caps) - np.nan_to_num(current), 0, None)
    return [Move(code, float(c), float(c + r), float(s * r), float(e * r))
            for code, c, r, s, e in zip(cf.leaf_codes, np.nan_to_num(current), room, shares,
                                        cf.effort, strict=True) if r > EPSILON and s > 0]


def plan_to_gain(moves: Sequence[Move], needed: float, *, by: str = "count") -> list[Move]:
    """The smallest set of moves whose gains reach `needed`.

    by='count': fewest indicators — take the largest gains first; this is exact, because
    the gains add up and any k moves gain at most the k largest.
    by='effort': least total effort with partial moves allowed — a fractional knapsack,
    for which taking the best gain per unit of effort first is exact.
    The last move is trimmed to what is needed. Returns [] when `needed` cannot be reached.
    """
    key = (lambda m: m.gain) if by == "count" else (lambda m: m.gain / max(m.effort, EPSILON))
    chosen: list[Move] = []
    remaining = needed
    for move in sorted(moves, key=key, reverse=True):
        if remaining <= EPSILON:
            break
        if move.gain <= remaining:
            chosen.append(move)
            remaining -= move.gain
            continue
        part = remaining / move.gain
        chosen.append(Move(move.code, move.current,
                           move.current + (move.proposed - move.current) * part,
                           remaining, move.effort * part))
        remaining = 0.0
    return chosen if remaining <= EPSILON else []


def drag_by_unit(scores: np.ndarray) -> np.ndarray:
    """(U, K) sub-unit scores → (U, K): how much the mean over units would rise if this
    unit matched the mean of the others. Positive = pulls the figure down."""
    present = ~np.isnan(scores)
    count = present.sum(axis=0)
    total = np.where(present, scores, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        others_mean = (total - np.where(present, scores, 0.0)) / (count - present)
        return np.where(present, (others_mean - scores) / count, np.nan)

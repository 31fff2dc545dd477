"""The composite-index engine: DTI 2022 totals as published, competition ranks, normalisation,
missing-data rules, aggregation, sensitivity and improvement plans (pure, no database)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiso.dti import engine
from chiso.dti.framework import FrameworkError, parse_framework, shipped_frameworks

DA_NANG = [1.0000, 0.9000, 0.8253, 0.8487, 0.7578, 0.8575, 0.7836, 0.5197, np.nan]
HCM = [0.8917, 0.9000, 0.8258, 0.6267, 0.5580, 0.8406, 0.7611, 0.3590, np.nan]


@pytest.fixture(scope="module")
def dti922() -> engine.CompiledFramework:
    return engine.compile_framework(shipped_frameworks()["DTI_TINH_922"])


def test_dti_2022_totals_reproduce_the_published_figures(dti922) -> None:
    assert dti922.leaf_codes == ["NTS", "TCS", "HTS", "NLS", "ATTT", "CQS", "KTS", "XHS",
                                 "DTTM"]
    totals = engine.compute(dti922, np.array([DA_NANG, HCM]))[:, 0]
    assert abs(totals[0] - 0.8002) <= 0.0001
    assert abs(totals[1] - 0.7163) <= 0.0001
    # Σ value × points / 1000, exactly
    assert totals[0] == pytest.approx(800.175 / 1000)


def test_points_of_the_922_framework(dti922) -> None:
    shares = dict(zip(dti922.codes, dti922.effective_weights(), strict=True))
    assert shares["CQS"] == pytest.approx(0.2)
    assert shares["KTS"] == shares["XHS"] == pytest.approx(0.15)
    assert shares["NTS"] == pytest.approx(0.1)
    assert shares["DTTM"] == 0.0
    assert shares["NEN_TANG"] == pytest.approx(0.5)


def test_competition_ranks_share_and_skip() -> None:
    ranks = engine.competition_rank(np.array([0.70, 0.80, 0.75, 0.75, np.nan, 0.60]))
    assert ranks[:4].tolist() == [4, 1, 2, 2]
    assert np.isnan(ranks[4]) and ranks[5] == 5
    # Rounded as published: 0.71634 and 0.71626 both publish as 0.7163 and tie.
    tied = engine.competition_rank(np.array([0.71634, 0.71626, 0.9]), decimals=4)
    assert tied.tolist() == [2, 2, 1]
    # Works on a batch of samples at once (one row per sample).
    batch = engine.competition_rank(np.array([[3.0, 2.0, 2.0], [1.0, 1.0, 5.0]]))
    assert batch.tolist() == [[1, 2, 2], [2, 2, 1]]


FRAMEWORK = """
code: T
name_vi: Thử
valid_from_year: 2024
aggregation: {aggregation}
missing: {missing}
nodes:
  - code: G1
    points: 60
    children:
      - {{code: A, points: 2, normalisation: {{method: minmax, low: 0, high: 100}}}}
      - {{code: B, points: 1, normalisation: {{method: minmax, low: 0, high: 50, direction: -1}}}}
  - code: G2
    points: 40
    children:
      - {{code: C, points: 1, normalisation: {{method: target, target: 80}}}}
"""


def _compiled(aggregation: str = "arithmetic", missing: str = "skip"
              ) -> engine.CompiledFramework:
    return engine.compile_framework(parse_framework(
        FRAMEWORK.format(aggregation=aggregation, missing=missing)))


def test_normalisations() -> None:
    cf = _compiled()
    raw = np.array([[50.0, 10.0, 40.0], [120.0, 60.0, 100.0], [0.0, 0.0, 80.0]])
    scores = engine.normalise(cf, raw)
    assert scores[0].tolist() == pytest.approx([0.5, 0.8, 0.5])
    assert scores[1].tolist() == pytest.approx([1.0, 0.0, 1.0])  # goalposts cap
    assert scores[2].tolist() == pytest.approx([0.0, 1.0, 1.0])
    z = engine.normalise(cf, raw, method="zscore")
    assert np.mean(z, axis=0) == pytest.approx([0, 0, 0], abs=1e-12)
    ranked = engine.normalise(cf, raw, method="rank")
    assert ranked[:, 0].tolist() == [0.5, 1.0, 0.0]
    assert ranked[:, 1].tolist() == [0.5, 0.0, 1.0]  # lower is better


def test_aggregation_levels_and_missing_rules() -> None:
    cf = _compiled()
    raw = np.array([[50.0, 10.0, 40.0], [50.0, np.nan, 40.0]])
    scores = engine.compute(cf, raw)
    g1 = (2 * 0.5 + 1 * 0.8) / 3
    assert scores[0, cf.index_of("G1")] == pytest.approx(g1)
    assert scores[0, 0] == pytest.approx(0.6 * g1 + 0.4 * 0.5)
    # skip: B drops out of G1 and A carries G1 alone
    assert scores[1, cf.index_of("G1")] == pytest.approx(0.5)
    zero = engine.compute(cf, raw, missing="zero")
    assert zero[1, cf.index_of("G1")] == pytest.approx(2 * 0.5 / 3)
    imputed = engine.compute(cf, np.array([[50.0, 10.0, 40.0], [50.0, 30.0, 40.0],
                                           [50.0, np.nan, 40.0]]), missing="impute")
    assert imputed[2, cf.index_of("B")] == pytest.approx((0.8 + 0.4) / 2)
    groups = np.array(["north", "south", "north"])
    by_group = engine.apply_missing_rule(engine.normalise(cf, np.array(
        [[50.0, 10.0, 40.0], [50.0, 30.0, 40.0], [50.0, np.nan, 40.0]])), "impute", groups)
    assert by_group[2, 1] == pytest.approx(0.8)


def test_geometric_aggregation_penalises_imbalance() -> None:
    cf = _compiled("geometric")
    scores = engine.compute(cf, np.array([[50.0, 10.0, 40.0]]))
    g1 = np.exp((2 * np.log(0.5) + np.log(0.8)) / 3)
    assert scores[0, cf.index_of("G1")] == pytest.approx(g1)
    assert scores[0, 0] == pytest.approx(np.exp(0.6 * np.log(g1) + 0.4 * np.log(0.5)))
    zero_child = engine.compute(cf, np.array([[0.0, 10.0, 40.0]]))
    assert zero_child[0, cf.index_of("G1")] == pytest.approx(0.0)


def test_unknown_official_points_refuse_to_compute() -> None:
    fw = shipped_frameworks()["DTI_TINH_405"]
    assert not fw.weights_known and "CQS" in fw.unknown_weights()
    with pytest.raises(FrameworkError, match="not known"):
        engine.compile_framework(fw)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.lists(st.floats(0, 1), min_size=9, max_size=9), min_size=2,
                       max_size=12),
       factor=st.floats(0.01, 1000))
def test_rescaled_weights_give_the_same_ranks(values, factor) -> None:
    cf = engine.compile_framework(shipped_frameworks()["DTI_TINH_922"])
    raw = np.array(values)
    scaled = [layer.weights * factor for layer in cf.layers]
    base = engine.aggregate(cf, raw)[:, 0]
    other = engine.aggregate(cf, raw, scaled)[:, 0]
    assert np.allclose(base, other)
    assert (engine.competition_rank(base, decimals=9) ==
            engine.competition_rank(other, decimals=9)).all()


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(0, 100), min_size=3, max_size=3),
       others=st.lists(st.lists(st.floats(0, 100), min_size=3, max_size=3), max_size=5),
       which=st.integers(0, 2), step=st.floats(0, 100))
def test_improving_an_indicator_never_lowers_the_index(values, others, which, step) -> None:
    cf = _compiled("arithmetic")
    raw = np.array([values, *others])
    better = raw.copy()
    # "Improve" in the indicator's own direction (B is lower-is-better).
    better[0, which] += -step if which == 1 else step
    before = engine.compute(cf, raw)[0, 0]
    after = engine.compute(cf, better)[0, 0]
    assert after >= before - 1e-12


def test_sensitivity_reports_rank_intervals() -> None:
    cf = _compiled()
    rng = np.random.default_rng(1)
    raw = rng.uniform(0, 100, size=(30, 3))
    raw[0] = [100, 0, 80]  # best everywhere: first whatever the weights
    found = engine.sensitivity(cf, raw, samples=200, methods=("framework", "minmax", "rank"))
    assert found.ranks.shape == (200, 30)
    assert found.p05[0] == found.p95[0] == 1
    assert (found.p05 <= found.p95).all()
    assert set(found.methods) <= {"framework", "minmax", "rank"}
    assert (found.p95 - found.p05).max() > 0  # weights do move some units


def test_plans_fewest_moves_and_least_effort() -> None:
    moves = [engine.Move("A", 0.2, 1.0, 0.08, 0.8), engine.Move("B", 0.5, 1.0, 0.05, 0.1),
             engine.Move("C", 0.9, 1.0, 0.01, 0.05)]
    fewest = engine.plan_to_gain(moves, 0.10, by="count")
    assert [m.code for m in fewest] == ["A", "B"]
    assert sum(m.gain for m in fewest) == pytest.approx(0.10)
    cheapest = engine.plan_to_gain(moves, 0.10, by="effort")
    assert [m.code for m in cheapest] == ["B", "C", "A"]  # gain per effort 0.5, 0.2, 0.1
    assert sum(m.gain for m in cheapest) == pytest.approx(0.10)
    assert engine.plan_to_gain(moves, 0.5) == []


def test_drag_names_the_unit_that_pulls_the_mean_down() -> None:
    drag = engine.drag_by_unit(np.array([[0.9], [0.8], [0.2], [np.nan]]))
    assert int(np.nanargmax(drag[:, 0])) == 2
    assert drag[2, 0] == pytest.approx((0.85 - 0.2) / 3)
    assert np.isnan(drag[3, 0])


@pytest.mark.parametrize("aggregation", ["arithmetic", "geometric"])
def test_batched_samples_equal_one_sample_at_a_time(aggregation) -> None:
    cf = _compiled(aggregation)
    rng = np.random.default_rng(7)
    raw = rng.uniform(0, 100, size=(40, 3))
    raw[rng.random(raw.shape) < 0.15] = np.nan
    raw[3, 0] = 0.0  # a zero score inside a geometric mean
    leaves = engine.normalise(cf, raw)
    weights = engine.perturbed_layer_weights(cf, 12, 0.3, rng)
    batched = engine.aggregate(cf, leaves, weights)[..., 0]
    for s in range(12):
        single = engine.aggregate(cf, leaves, [w[s] for w in weights])[:, 0]
        np.testing.assert_allclose(batched[s], single, rtol=1e-12, atol=1e-15)

"""Choosing a frontier point by target, budget or share (with hull mixtures), the bootstrap
intervals, and the Learn-then-Test guarantee."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from llmcopula.cascade import (
    EmpiricalCopulaModel,
    Frontier,
    frontier_intervals,
    learn_then_test,
    score_cascade,
    select_point,
    tune,
)
from llmcopula.cascade.choose import upper_hull
from llmcopula.cascade.guarantee import fixed_sequence_test
from llmcopula.cascade.intervals import rule_quantiles
from llmcopula.datasets import ChainLog, load_benchmark


@pytest.fixture(scope="module")
def fitted():
    train = load_benchmark("mmlu", "llama", "train")
    model = EmpiricalCopulaModel().fit(train)
    return train, model, tune(model, (0, 2, 4), n_lambdas=10, rng=0)


def _toy(acc, cost, share):
    acc, cost, share = (np.asarray(v, dtype=float) for v in (acc, cost, share))
    usage = np.column_stack([1 - share, share])
    return Frontier(models=("a", "b"), cascade=(0, 1), method="toy",
                    thresholds=np.zeros((acc.size, 1)), raw_thresholds=np.zeros((acc.size, 1)),
                    accuracy=acc, cost=cost, stage_probabilities=usage)


def test_upper_hull_matches_a_brute_force_check_of_every_chord():
    rng = np.random.default_rng(0)
    for _ in range(50):
        x, y = rng.uniform(size=12), rng.uniform(size=12)
        hull = upper_hull(x, y)
        best = int(np.argmax(y))  # the hull ends at the highest point
        assert hull[0] == int(np.argmin(x)) and hull[-1] == best
        # no point lies strictly above a hull segment
        for a, b in zip(hull[:-1], hull[1:]):
            inside = (x > x[a]) & (x < x[b])
            chord = y[a] + (y[b] - y[a]) * (x[inside] - x[a]) / (x[b] - x[a])
            assert np.all(y[inside] <= chord + 1e-12)


def test_selectors_pick_the_documented_points_and_mixtures_hit_the_knob_exactly():
    f = _toy([0.5, 0.6, 0.9, 0.95], [10, 50, 100, 300], [0.0, 0.2, 0.5, 1.0])
    assert select_point(f, target_accuracy=0.7).index == 2
    assert select_point(f, budget=99).index == 1 and select_point(f, budget=100).index == 2
    assert select_point(f, max_share=0.6).index == 2
    mixed = select_point(f, target_accuracy=0.7, mix=True)
    assert mixed.is_mixture and mixed.accuracy == pytest.approx(0.7)
    assert mixed.cost < 100  # cheaper than the single point that meets the target
    p = mixed.probability
    assert mixed.cost == pytest.approx(p * f.cost[mixed.index] + (1 - p) * f.cost[mixed.other])
    b = select_point(f, budget=200, mix=True)
    assert b.cost == pytest.approx(200) and b.accuracy > 0.9
    assert select_point(f, budget=100, mix=True).index == 2  # a point hits it: no mixture


@pytest.mark.parametrize("kw, match", [
    (dict(), "exactly one"), (dict(target_accuracy=0.7, budget=50), "exactly one"),
    (dict(target_accuracy=0.99), r"target_accuracy: 0\.99 is above every accuracy"),
    (dict(budget=5.0), "budget: 5 .* below the cost of the first model"),
    (dict(max_share=1.5), r"max_share: must lie in \[0, 1\]"),
])
def test_bad_knobs_are_errors_naming_the_knob(kw, match):
    f = _toy([0.5, 0.6, 0.9, 0.95], [10, 50, 100, 300], [0.0, 0.2, 0.5, 1.0])
    with pytest.raises(ValueError, match=match):
        select_point(f, **kw)


def test_rule_quantiles_of_the_fitted_model_reproduce_its_own_thresholds(fitted):
    train, model, front = fitted
    sub = train.subset([0, 2, 4])
    refit = EmpiricalCopulaModel().fit(sub)
    s_rules = rule_quantiles(refit, sub.confidence, front.directions, front.raw_thresholds)
    s_model = model.to_quantile(front.thresholds, (0, 2, 4))
    # on the training data the rank scale of a rule is the share of queries it defers
    np.testing.assert_allclose(s_rules, s_model, atol=1.5 / train.n_queries)


def test_routing_bootstrap_intervals_agree_with_the_binomial_standard_error(fitted):
    train, model, front = fitted
    fi = frontier_intervals(front, train, n_resamples=400, rng=1)  # no model: route resamples
    acc = score_cascade(train, (0, 2, 4), front.raw_thresholds,
                        directions=front.directions)["accuracy"]
    half = (fi.intervals.accuracy[:, 1] - fi.intervals.accuracy[:, 0]) / 2
    expected = stats.norm.ppf(0.95) * np.sqrt(acc * (1 - acc) / train.n_queries)
    # 400 resamples: the percentile half-width is within ~15% of the normal one
    np.testing.assert_allclose(half, expected, rtol=0.2, atol=0.004)
    assert fi.intervals.draws["accuracy"].shape == (400, len(front))


def test_model_bootstrap_intervals_bracket_the_prediction_and_are_reproducible(fitted):
    train, model, front = fitted
    a = frontier_intervals(front, train, model=model, n_resamples=40, rng=3, n_jobs=2)
    b = frontier_intervals(front, train, model=model, n_resamples=40, rng=3)
    np.testing.assert_array_equal(a.intervals.accuracy, b.intervals.accuracy)
    lo, hi = a.intervals.accuracy.T
    assert np.all(lo <= front.accuracy + 0.01) and np.all(front.accuracy - 0.01 <= hi)
    assert np.all(hi - lo > 0.02)  # ~300 queries: several points of accuracy
    mix = a.intervals.mixture(2, 3, 0.25)
    assert a.intervals.accuracy[2, 0] - 0.01 <= mix["accuracy"][0]
    with pytest.raises(ValueError, match="level"):
        frontier_intervals(front, train, model=model, level=1.5)


def test_fixed_sequence_p_values_are_exact_binomial_tails():
    k = [140, 130, 120]
    p, n_rej = fixed_sequence_test(k, 150, 0.8, 0.05)
    for kk, pp in zip(k, p):
        assert pp == pytest.approx(stats.binomtest(kk, 150, 0.8, alternative="greater").pvalue)
    assert n_rej == int(np.argmax(p > 0.05)) if (p > 0.05).any() else 3


def _synthetic(n, rng):
    """Stage 1 is right with probability e^raw, stage 2 with 0.85: a rule's accuracy is known."""
    raw = np.log(rng.uniform(0.2, 1.0, n))
    correct = np.column_stack([rng.uniform(size=n) < np.exp(raw), rng.uniform(size=n) < 0.85])
    conf = np.column_stack([raw, np.log(rng.uniform(0.5, 1.0, n))])
    return ChainLog(("small", "large"), conf, correct.astype(int),
                    np.tile([1e-6, 1e-5], (n, 1)), signal="logprob")


def _true_accuracy(r):
    # E[correct] for "accept iff raw > r", raw = log U, U ~ U(0.2, 1): stage 1 when U > e^r
    u = np.clip(np.exp(r), 0.2, 1.0)
    return ((1.0 - u ** 2) / 2 + 0.85 * (u - 0.2)) / 0.8


def test_learn_then_test_violates_the_target_no_more_often_than_delta():
    """100 training sets of 200 queries from a known population, target 0.8, δ = 0.2 (a level
    loose enough to be tested with 100 draws): violations of the true accuracy must be rare."""
    rng = np.random.default_rng(7)
    violations = certified = 0
    for _ in range(100):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                res = learn_then_test("grid", _synthetic(200, rng), target_accuracy=0.8,
                                      confidence_level=0.8, rng=rng)
            except ValueError:
                continue
        certified += 1
        r = res.frontier.raw_thresholds[res.selection.index, 0]
        violations += _true_accuracy(r) < 0.8
    assert certified >= 50
    # binomial(certified, 0.2): the rate may exceed 0.2 only by sampling error (3 sd)
    assert violations / certified <= 0.2 + 3 * np.sqrt(0.2 * 0.8 / certified)


def test_learn_then_test_uses_only_the_training_split_and_reports_its_test(fitted):
    train, _, _ = fitted
    res = learn_then_test("empirical-copula", train, (0, 2, 4), target_accuracy=0.7,
                          confidence_level=0.9, rng=0)
    info = res.selection.info
    assert info["n_tuning"] + info["n_holdout"] == train.n_queries
    assert info["holdout_lower_bound"] >= 0.7 and info["p_value"] <= 0.1
    held = res.holdout
    acc = score_cascade(held, (0, 2, 4), res.frontier.raw_thresholds,
                        directions=res.frontier.directions)["accuracy"]
    assert acc[res.selection.index] == info["holdout_accuracy"]
    with pytest.raises(ValueError, match="target_accuracy: no frontier point is certified"):
        learn_then_test("empirical-copula", train, (0, 2, 4), target_accuracy=0.97,
                        confidence_level=0.9, rng=0)
    with pytest.raises(ValueError, match="confidence_level: must lie in"):
        learn_then_test("grid", train, (0, 4), target_accuracy=0.7, confidence_level=1.0)

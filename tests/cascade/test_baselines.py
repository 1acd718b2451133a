"""Tests of the cascade baselines: grid search, Bayesian optimisation, hindsight oracle."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.cascade import MarkovCopulaModel, evaluate_frontier, score_cascade
from llmcopula.cascade.baselines import (
    GRID_QUANTILES,
    RandomSearch,
    SkoptGP,
    bayes_opt,
    grid_scores,
    grid_search,
    oracle_frontier,
    quantile_thresholds,
    score_thresholds,
)
from llmcopula.datasets import ChainLog, load_benchmark


def _log(n, k, seed, levels=None):
    """A log with per-model constant costs (so mean costs equal per-query costs)."""
    rng = np.random.default_rng(seed)
    conf = rng.random((n, k)) if levels is None else rng.integers(0, levels, (n, k)) / levels
    correct = rng.random((n, k)) < 0.3 + 0.6 * conf
    cost = np.tile(np.cumsum(rng.random(k)) * 1e-6, (n, 1))
    return ChainLog.from_arrays([f"m{i}" for i in range(k)], conf, correct, cost)


@pytest.fixture(scope="module")
def mmlu():
    train = load_benchmark("mmlu", "llama", split="train")
    return MarkovCopulaModel().fit(train), train


@settings(max_examples=40)
@given(n=st.integers(1, 30), k=st.integers(2, 4), seed=st.integers(0, 10**6),
       levels=st.sampled_from([None, 3, 5]))
def test_empirical_label_scores_equal_score_cascade(n, k, seed, levels):
    log = _log(n, k, seed, levels)
    cas = list(range(k))
    t = np.random.default_rng(seed + 1).integers(0, 6, (7, k - 1)) / 5.0  # hits ties
    ours = score_thresholds(log.confidence, log.correct.astype(float),
                            np.cumsum(log.cost[0]) * 1e6, t)
    ref = score_cascade(log, cas, t, confidence=log.confidence)
    np.testing.assert_allclose(ours["accuracy"], ref["accuracy"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["cost"], ref["cost"], rtol=1e-12)
    np.testing.assert_allclose(ours["stage_usage"], ref["stage_usage"], rtol=0, atol=1e-12)


@settings(max_examples=40)
@given(n=st.integers(1, 25), k=st.integers(2, 4), seed=st.integers(0, 10**6),
       levels=st.sampled_from([None, 4]))
def test_grid_scores_equal_a_naive_loop_over_candidates(n, k, seed, levels):
    rng = np.random.default_rng(seed)
    log = _log(n, k, seed, levels)
    values = rng.random((n, k))
    cum_cost = np.cumsum(rng.random(k))
    # Grid values drawn from the confidences themselves (ties), with repeats.
    grids = [np.sort(rng.choice(np.append(log.confidence[:, j], [0.0, 1.0]), 4))
             for j in range(k - 1)]
    acc, cost = grid_scores(log.confidence, values, cum_cost, grids)
    for idx in itertools.product(*(range(4) for _ in range(k - 1))):
        t = np.array([g[i] for g, i in zip(grids, idx)])
        stage = [next((j for j in range(k - 1) if log.confidence[q, j] > t[j]), k - 1)
                 for q in range(n)]
        assert acc[idx] == pytest.approx(np.mean([values[q, s] for q, s in enumerate(stage)]),
                                         abs=1e-12)
        assert cost[idx] == pytest.approx(np.mean([cum_cost[s] for s in stage]), rel=1e-12)


def test_grid_search_uses_the_papers_40_quantiles_and_returns_a_pareto_front(mmlu):
    model, train = mmlu
    assert GRID_QUANTILES.size == 40
    np.testing.assert_allclose(GRID_QUANTILES[[0, -1]], [0.01, 0.985])
    cas = (0, 2, 4)
    front = grid_search(train, cas)
    everything = grid_search(train, cas, pareto=False)
    assert front.info["n_candidates"] == everything.info["n_candidates"] == 40 ** 2
    assert np.all(np.diff(front.cost) > 0) and np.all(np.diff(front.accuracy) > 0)
    # No candidate beats a frontier point: for each candidate, some point is cheaper-or-equal
    # and at least as accurate.
    dominated = (front.cost[None, :] <= everything.cost[:, None] + 1e-12) & (
        front.accuracy[None, :] >= everything.accuracy[:, None] - 1e-12)
    assert dominated.any(axis=1).all()
    # The frontier's training values are what the shared scoring gives at its thresholds.
    conf = model.calibrate(train)[:, list(cas)]
    ref = score_thresholds(conf, conf, np.cumsum(model.costs_[list(cas)]), front.thresholds)
    np.testing.assert_allclose(front.accuracy, ref["accuracy"], atol=1e-12)
    np.testing.assert_allclose(front.cost, ref["cost"], rtol=1e-12)
    # Raw thresholds reproduce the calibrated routing on raw signals.
    raw = score_cascade(train, cas, front.raw_thresholds)
    cal = score_cascade(train, cas, front.thresholds, confidence=model.calibrate(train))
    np.testing.assert_allclose(raw["stage_usage"], cal["stage_usage"], atol=1e-12)


def test_grid_labels_variant_scores_training_labels(mmlu):
    model, train = mmlu
    front = grid_search(train, (1, 3), score="labels")
    ref = score_cascade(train, (1, 3), front.thresholds, confidence=model.calibrate(train))
    assert front.method == "grid-labels"
    np.testing.assert_allclose(front.accuracy, ref["accuracy"], atol=1e-12)


@pytest.mark.slow
def test_grid_search_handles_the_full_k5_grid_of_2_56_million_candidates(mmlu):
    model, train = mmlu
    front = grid_search(train, (0, 1, 2, 3, 4))
    assert front.info["n_candidates"] == 40 ** 4 == 2_560_000
    assert len(front) > 10 and np.all(np.diff(front.cost) > 0)


def test_quantile_coordinates_span_accept_all_to_defer_all():
    conf = np.array([[0.2, 0.5], [0.2, 0.9], [0.7, 0.1]])
    t = quantile_thresholds(conf, [[0.0], [1.0]])
    assert np.all(conf[:, 0] > t[0, 0]) and not np.any(conf[:, 0] > t[1, 0])


def test_random_search_minimizer_follows_the_adapter_protocol():
    x, f = RandomSearch().minimize(lambda u: float(np.sum((u - 0.5) ** 2)), 2, n_calls=200,
                                   seed=1, x0=[np.array([0.5, 0.5])])
    assert f == 0.0 and np.allclose(x, 0.5)


def test_bayes_opt_is_reproducible_and_warm_start_never_hurts(mmlu):
    model, train = mmlu
    kw = dict(n_lambdas=4, n_calls=10, minimizer=RandomSearch(), rng=3, pareto=False)
    a = bayes_opt(train, (0, 2, 4), **kw)
    b = bayes_opt(train, (0, 2, 4), **kw)
    np.testing.assert_array_equal(a.thresholds, b.thresholds)
    import inspect

    assert inspect.signature(bayes_opt).parameters["rng"].default is None
    assert a.method == "bo" and a.lambdas.size == 4
    objective = 1 - a.accuracy + a.lambdas * a.cost
    # Each λ's run also evaluated the previous (larger) λ's point: its objective is no worse.
    order = np.argsort(a.lambdas)[::-1]
    for prev, cur in zip(order[:-1], order[1:]):
        assert objective[cur] <= 1 - a.accuracy[prev] + a.lambdas[cur] * a.cost[prev] + 1e-12


@pytest.mark.slow
def test_bayes_opt_skopt_adapter_smoke_without_deprecation_warnings(mmlu):
    pytest.importorskip("skopt", reason="scikit-optimize (extra 'baselines') not installed")
    model, train = mmlu
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        front = bayes_opt(train, (0, 4), lambdas=[1e-3], n_calls=15,
                          minimizer=SkoptGP(n_initial_points=5), rng=0)
    grid = grid_search(train, (0, 4))
    best_grid = np.min(1 - grid.accuracy + 1e-3 * grid.cost)
    # 15 GP-EI evaluations of a 1-d step function get within 0.01 of the 40-point grid.
    assert 1 - front.accuracy[0] + 1e-3 * front.cost[0] <= best_grid + 0.01


def test_bayes_opt_rejects_bad_input(mmlu):
    model, train = mmlu
    with pytest.raises(ValueError, match="^lambdas"):
        bayes_opt(train, (0, 4), lambdas=[-1.0], minimizer=RandomSearch())
    with pytest.raises(ValueError, match="^score"):
        grid_search(train, (0, 4), score="votes")
    with pytest.raises(ValueError, match="^calibrators: expected one per model of the log"):
        grid_search(train, (0, 4), calibrators=model.calibrators_[:2])
    with pytest.raises(ValueError, match="^calibrators: expected fitted calibrators"):
        grid_search(train, (0, 4), calibrators=[object()] * 5)
    with pytest.raises(ValueError, match="^costs: expected 5 finite non-negative"):
        bayes_opt(train, (0, 4), costs=[1.0, 2.0], minimizer=RandomSearch())
    with pytest.raises(ValueError, match="^log: expected a ChainLog"):
        grid_search(train.confidence, (0, 4))
    with pytest.raises(ValueError, match="^rng: expected None, an int seed"):
        bayes_opt(train, (0, 4), n_lambdas=2, minimizer=RandomSearch(), rng="seed")


def test_baselines_by_default_share_the_calibrators_and_costs_of_a_fitted_model(mmlu):
    """Calibrators fitted on the training log are the cascade model's own (the same Platt fit),
    so the baseline frontier is the one computed from the model's calibrators and costs."""
    model, train = mmlu
    own = grid_search(train, (0, 2, 4))
    given_ = grid_search(train, (0, 2, 4), calibrators=model.calibrators_, costs=model.costs_)
    for attr in ("thresholds", "raw_thresholds", "accuracy", "cost", "stage_probabilities"):
        np.testing.assert_array_equal(getattr(own, attr), getattr(given_, attr))
    test = load_benchmark("mmlu", "llama", split="test")
    a = evaluate_frontier(own, test, calibrators=model.calibrators_)
    b = evaluate_frontier(own, test, model=model)
    np.testing.assert_array_equal(a.test_accuracy, b.test_accuracy)
    np.testing.assert_array_equal(a.test_cost, b.test_cost)


def test_the_model_first_form_still_works_with_a_deprecation_warning(mmlu):
    model, train = mmlu
    with pytest.warns(DeprecationWarning, match=r"grid_search\(model, log, ...\)"):
        old = grid_search(model, train, (1, 3), score="labels")
    new = grid_search(train, (1, 3), score="labels", calibrators=model.calibrators_,
                      costs=model.costs_)
    np.testing.assert_array_equal(old.thresholds, new.thresholds)
    np.testing.assert_array_equal(old.raw_thresholds, new.raw_thresholds)
    kw = dict(n_lambdas=3, n_calls=6, minimizer=RandomSearch(), rng=1)
    with pytest.warns(DeprecationWarning, match=r"bayes_opt\(model, log, ...\)"):
        old = bayes_opt(model, train, (0, 4), **kw)
    np.testing.assert_array_equal(old.thresholds, bayes_opt(train, (0, 4), **kw).thresholds)
    with pytest.raises(ValueError, match="^model: not fitted yet"), \
            pytest.warns(DeprecationWarning):
        grid_search(MarkovCopulaModel(), train, (0, 4))
    other = load_benchmark("mmlu", "qwen_oai", split="train")
    with pytest.raises(ValueError, match="^log: its models"), pytest.warns(DeprecationWarning):
        grid_search(model, other, (0, 1))


def test_oracle_point_and_curve_by_hand():
    # Three queries; stage costs 1 and 3 (cumulative 1, 4) USD per million queries.
    log = ChainLog.from_arrays(["a", "b"], np.zeros((3, 2)),
                               correct=[[1, 1], [0, 1], [0, 0]], cost=[[1e-6, 3e-6]] * 3)
    point = oracle_frontier(log, curve=False)
    assert point.test_accuracy[0] == pytest.approx(2 / 3)
    assert point.test_cost[0] == pytest.approx((1 + 4 + 1) / 3)  # unanswerable query stops at a
    last = oracle_frontier(log, curve=False, fallback="last")
    assert last.test_cost[0] == pytest.approx((1 + 4 + 4) / 3)
    curve = oracle_frontier(log)
    np.testing.assert_allclose(curve.cost, [1.0, 2.0])
    np.testing.assert_allclose(curve.accuracy, [1 / 3, 2 / 3])
    np.testing.assert_allclose(curve.stage_probabilities, [[1, 0], [2 / 3, 1 / 3]])


def test_oracle_upgrades_cheapest_queries_first_and_bounds_every_router():
    log = _log(60, 3, seed=7)
    curve = oracle_frontier(log)
    assert np.all(np.diff(curve.cost) >= 0) and np.all(np.diff(curve.accuracy) >= 0)
    rng = np.random.default_rng(0)
    t = rng.random((200, 2))
    res = score_cascade(log, (0, 1, 2), t, confidence=log.confidence)
    # No threshold router is above the hindsight curve at its cost.
    best = np.interp(res["cost"], curve.cost, curve.accuracy)
    assert np.all(res["accuracy"] <= best + 1e-12)



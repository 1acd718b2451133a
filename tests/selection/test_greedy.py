"""Tests of greedy MI selection and its baselines (llmcopula.selection.greedy)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from llmcopula.selection.aggregation import MAPAggregator
from llmcopula.selection import (
    SELECTION_METHODS,
    SelectionResult,
    exhaustive_selection,
    greedy_mi_selection,
    mrmr_selection,
    random_selection,
    select_models,
    term1_selection,
    term12_selection,
    top_k_selection,
)
from llmcopula.selection.information import (
    SparsePatternWarning,
    mi_decomposition,
    mutual_information,
)

pytestmark = pytest.mark.filterwarnings("ignore::llmcopula.selection.information.SparsePatternWarning")


def _simulate(n: int, error_rates, corr, rng: np.random.Generator, prior: float = 0.5):
    """Binary labels and predictions with Gaussian-copula correlated errors (model i errs iff
    Z_i < Phi^-1(p_i), Z ~ N(0, corr)), errors independent of the label."""
    p = np.asarray(error_rates, dtype=float)
    z = rng.standard_normal((n, p.size)) @ np.linalg.cholesky(np.asarray(corr)).T
    err = z < stats.norm.ppf(p)
    y = (rng.random(n) < prior).astype(np.int64)
    return y, np.where(err, 1 - y[:, None], y[:, None])


def _block_scenario(n: int, seed: int):
    """The correlated-block example of docs/selection.md: three strong, highly correlated models
    (rho = 0.9) and two weaker ones (rho = 0.1 with everything)."""
    acc = np.array([0.82, 0.81, 0.80, 0.74, 0.72])
    corr = np.full((5, 5), 0.1)
    corr[:3, :3] = 0.9
    np.fill_diagonal(corr, 1.0)
    return _simulate(n, 1 - acc, corr, np.random.default_rng(seed))


@st.composite
def pools(draw, max_models: int = 6):
    m = draw(st.integers(2, max_models))
    rho = draw(st.floats(0.0, 0.8))
    rates = draw(st.lists(st.floats(0.1, 0.45), min_size=m, max_size=m))
    seed = draw(st.integers(0, 2**16))
    corr = np.full((m, m), rho)
    np.fill_diagonal(corr, 1.0)
    return _simulate(400, rates, corr, np.random.default_rng(seed))


# --------------------------------------------------------------------------------------------
# Theory as properties
# --------------------------------------------------------------------------------------------

@settings(max_examples=30)
@given(pools(), st.sampled_from(["plugin", "miller-madow"]))
def test_mi_never_decreases_along_the_greedy_path_and_trace_matches_direct_estimates(pool, est):
    y, X = pool
    res = greedy_mi_selection(X, y, k=X.shape[1], estimator=est)
    cumulative = [s.mi_bits for s in res.trace]
    if est == "plugin":
        assert np.all(np.diff(cumulative) >= -1e-12)
    for i, step in enumerate(res.trace):
        direct = mutual_information(X[:, list(res.selected[:i + 1])], y, estimator=est)
        assert step.mi_bits == pytest.approx(direct, abs=1e-10)
    assert res.mi_bits == pytest.approx(cumulative[-1], abs=1e-12)


@settings(max_examples=30)
@given(pools(max_models=5), st.integers(1, 3))
def test_each_greedy_step_takes_the_largest_exact_increment(pool, k):
    y, X = pool
    res = greedy_mi_selection(X, y, k=min(k, X.shape[1]))
    for i, step in enumerate(res.trace):
        chosen = list(res.selected[:i])
        increments = [mi_decomposition(X, y, candidate=j, selected=chosen).increment
                      for j in range(X.shape[1]) if j not in chosen]
        assert step.gain == pytest.approx(max(increments), abs=1e-10)


@settings(max_examples=25)
@given(pools(max_models=6), st.integers(1, 4))
def test_the_exhaustive_oracle_is_at_least_as_informative_as_every_method(pool, k):
    y, X = pool
    k = min(k, X.shape[1])
    oracle = exhaustive_selection(X, y, k=k)
    for method in SELECTION_METHODS:
        res = select_models(X, y, method=method, k=k, rng=0)
        assert oracle.mi_bits >= res.mi_bits - 1e-12


def test_exhaustive_oracle_matches_brute_force_over_all_subsets():
    y, X = _block_scenario(3000, seed=1)
    for k in (1, 2, 3):
        brute = max(mutual_information(X[:, list(s)], y)
                    for size in range(1, k + 1) for s in itertools.combinations(range(5), size))
        assert exhaustive_selection(X, y, k=k).mi_bits == pytest.approx(brute, abs=1e-12)


def test_greedy_beats_top_k_in_the_correlated_block_scenario():
    # docs/selection.md reports for this design and seed: k=2 greedy {0,3} 0.422 bits vs top-k
    # {0,1} 0.362; k=3 greedy {0,3,4} 0.472 bits, MAP accuracy 0.842 vs {0,1,2} 0.373 and 0.821.
    # The gaps (>= 0.06 bits, >= 0.02 accuracy) are many SEs at N = 10,000 (SE of a test accuracy
    # ~ 0.004), so the orderings are asserted, not the values.
    y, X = _block_scenario(20_000, seed=3)
    (y_tr, y_te), (X_tr, X_te) = (y[:10_000], y[10_000:]), (X[:10_000], X[10_000:])
    for k in (2, 3):
        greedy = greedy_mi_selection(X_tr, y_tr, k=k)
        top = top_k_selection(X_tr, y_tr, k=k)
        assert set(top.selected) == set(range(k))
        assert greedy.mi_bits > top.mi_bits + 0.03
        assert 3 in greedy.selected
    g3, t3 = greedy_mi_selection(X_tr, y_tr, k=3), top_k_selection(X_tr, y_tr, k=3)
    assert set(g3.selected) == {0, 3, 4}
    acc = {}
    for name, res in (("greedy", g3), ("top", t3)):
        cols = list(res.selected)
        acc[name] = MAPAggregator().fit(X_tr[:, cols], y_tr).score(X_te[:, cols], y_te)
    assert acc["greedy"] > acc["top"] + 0.01


def test_term3_matters_ablations_are_no_better_than_full_greedy_in_the_block_scenario():
    y, X = _block_scenario(10_000, seed=4)
    full = greedy_mi_selection(X, y, k=3).mi_bits
    assert term1_selection(X, y, k=3).mi_bits < full - 0.03
    assert term12_selection(X, y, k=3).mi_bits <= full + 1e-12
    assert mrmr_selection(X, y, k=3).mi_bits <= full + 1e-12


def test_a_duplicate_model_is_never_added_before_an_informative_one():
    rng = np.random.default_rng(0)
    y, X = _simulate(3000, [0.1, 0.3, 0.3], np.eye(3), rng)
    X = np.column_stack([X[:, 0], X[:, 0], X[:, 1]])
    res = greedy_mi_selection(X, y, k=2)
    assert res.selected == (0, 2)
    assert res.trace[1].gain > 0.01


# --------------------------------------------------------------------------------------------
# Baselines follow their definitions
# --------------------------------------------------------------------------------------------

def test_top_k_orders_by_accuracy_and_term1_by_relevance():
    y, X = _block_scenario(5000, seed=5)
    acc = (X == y[:, None]).mean(axis=0)
    assert top_k_selection(X, y, k=5).selected == tuple(np.argsort(-acc, kind="stable"))
    rel = [mutual_information(X[:, j], y) for j in range(5)]
    assert term1_selection(X, y, k=5).selected == tuple(np.argsort(rel)[::-1])


def test_mrmr_and_term12_second_steps_match_their_formulas():
    y, X = _block_scenario(5000, seed=6)
    first = mrmr_selection(X, y, k=1).selected[0]
    others = [j for j in range(5) if j != first]
    rel = {j: mutual_information(X[:, j], y) for j in others}
    red = {j: mutual_information(X[:, j], X[:, first]) for j in others}
    assert mrmr_selection(X, y, k=2).selected[1] == max(others, key=lambda j: rel[j] - red[j])
    # With |S| = 1 the Terms-1+2 score I(X_j;Y) - I(X_j;X_S) coincides with mRMR's.
    terms = {j: mi_decomposition(X, y, candidate=j, selected=[first]) for j in others}
    best12 = max(others, key=lambda j: terms[j].relevance - terms[j].redundancy)
    assert term12_selection(X, y, k=2).selected[1] == best12


def test_random_selection_is_reproducible_with_a_seed_and_varies_across_seeds():
    y, X = _block_scenario(500, seed=7)
    a = random_selection(X, y, k=3, rng=1)
    assert a == random_selection(X, y, k=3, rng=1)
    assert len({random_selection(X, y, k=3, rng=s).selected for s in range(10)}) > 1


def test_every_method_returns_a_selection_result_within_the_limits():
    y, X = _block_scenario(1000, seed=8)
    names = [f"m{j}" for j in range(5)]
    for method in SELECTION_METHODS:
        res = select_models(X, y, method=method, k=2, names=names, rng=0)
        assert isinstance(res, SelectionResult) and res.method == method
        assert 1 <= len(res) <= 2
        assert res.names == tuple(names[j] for j in res.selected)
        assert res.mi_bits == pytest.approx(mutual_information(X[:, list(res.selected)], y))


# --------------------------------------------------------------------------------------------
# Budgets, costs and ties
# --------------------------------------------------------------------------------------------

@settings(max_examples=30)
@given(pools(max_models=5), st.lists(st.floats(0.5, 5.0), min_size=5, max_size=5),
       st.floats(1.0, 10.0), st.sampled_from(SELECTION_METHODS))
def test_every_method_respects_the_budget(pool, costs, budget, method):
    y, X = pool
    costs = np.asarray(costs[:X.shape[1]])
    if budget < costs.min():
        budget = float(costs.min())
    res = select_models(X, y, method=method, budget=budget, costs=costs, rng=0)
    assert res.total_cost <= budget * (1 + 1e-9)
    assert res.total_cost == pytest.approx(costs[list(res.selected)].sum())


def test_cost_ratio_greedy_is_rescued_by_the_best_singleton_guard():
    # Model 0 (cost 1) is weakly informative, model 1 (cost 10) is perfect: the cost-ratio rule
    # takes model 0 first, which leaves no room for model 1; the guard returns model 1 instead.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000)
    weak = np.where(rng.random(4000) < 0.2, 1 - y, y)
    X = np.column_stack([weak, y])
    res = greedy_mi_selection(X, y, budget=10.0, costs=[1.0, 10.0])
    assert res.selected == (1,)
    assert res.mi_bits == pytest.approx(mutual_information(y, y))


def test_ties_go_to_higher_accuracy_then_lower_cost_then_lower_index():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    x = np.where(rng.random(2000) < 0.2, 1 - y, y)
    flipped = 1 - x  # the same information, accuracy 0.2 instead of 0.8
    assert greedy_mi_selection(np.column_stack([flipped, x]), y, k=1).selected == (1,)
    same = np.column_stack([x, x, x])
    assert greedy_mi_selection(same, y, k=1, costs=[2.0, 1.0, 1.0]).selected == (1,)
    assert greedy_mi_selection(same, y, k=1).selected == (0,)


def test_permutation_stop_keeps_informative_models_and_drops_pure_noise():
    rng = np.random.default_rng(21)
    y, X = _simulate(3000, [0.2, 0.25], np.eye(2), rng)
    noise = rng.integers(0, 2, (3000, 4))
    pool = np.column_stack([X, noise])
    res = greedy_mi_selection(pool, y, k=6, stop="permutation", n_perm=200, rng=1)
    assert set(res.selected) == {0, 1}


def test_greedy_handles_multiclass_string_answers_like_integer_codes():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 2000)
    X = np.where(rng.random((2000, 4)) < [0.8, 0.6, 0.5, 0.4], y[:, None], rng.integers(0, 4, (2000, 4)))
    letters = np.array(list("ABCD"))
    a = greedy_mi_selection(X, y, k=3)
    b = greedy_mi_selection(letters[X], letters[y], k=3)
    assert a.selected == b.selected and a.mi_bits == pytest.approx(b.mi_bits, abs=1e-12)


def test_sparse_selected_table_warns():
    y, X = _block_scenario(100, seed=9)
    with pytest.warns(SparsePatternWarning):
        greedy_mi_selection(X, y, k=4)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({}, "k: give k"),
    ({"k": 0}, "k: must be >= 1"),
    ({"k": 9}, "k: cannot select 9 models from a pool of 5"),
    ({"budget": -1.0}, "budget: must be a finite number > 0"),
    ({"budget": 0.5}, "budget: 0.5 is below the cheapest"),
    ({"k": 2, "costs": [1.0, 2.0]}, r"costs: expected shape \(5,\)"),
    ({"k": 2, "costs": [1.0, 2.0, 0.0, 1.0, 1.0]}, "costs: every cost must be finite and > 0"),
    ({"k": 2, "names": ["a"]}, "names: expected 5 names"),
    ({"k": 2, "estimator": "jackknife"}, "estimator:"),
    ({"k": 2, "stop": "early"}, "stop:"),
    ({"k": 2, "method": "boosting"}, "method:"),
])
def test_bad_selection_inputs_raise_value_errors(kwargs, message):
    y, X = _block_scenario(200, seed=0)
    method = kwargs.pop("method", "greedy-mi")
    with pytest.raises(ValueError, match=message):
        select_models(X, y, method=method, **kwargs)


def test_bad_shapes_and_oversized_exhaustive_searches_raise():
    y, X = _block_scenario(200, seed=0)
    with pytest.raises(ValueError, match="X: expected a 2-d array"):
        greedy_mi_selection(X[:, 0], y, k=1)
    with pytest.raises(ValueError, match="X: has 199 rows"):
        greedy_mi_selection(X[:-1], y, k=1)
    big = np.tile(X, (1, 5))
    with pytest.raises(ValueError, match="limited to 20 models"):
        exhaustive_selection(big, y, k=2)
    with pytest.raises(ValueError, match="max_subsets"):
        exhaustive_selection(X, y, k=5, max_subsets=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="y: contains 1 NaN"):
            greedy_mi_selection(X, np.r_[np.nan, y[1:].astype(float)], k=1)

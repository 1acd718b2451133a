"""One routing kernel and one Pareto filter: the tie rules, against brute-force definitions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.cascade import pareto_mask, route
from llmcopula.cascade.baselines import grid_scores, pareto_mask_fast, score_thresholds


def _loop_pareto(cost, acc, tol):
    """The one-pass definition: by cost (best accuracy first), keep a point iff it beats the last
    kept point by more than tol."""
    keep = np.zeros(cost.size, dtype=bool)
    best = -np.inf
    for i in np.lexsort((-acc, cost)):
        if acc[i] > best + tol:
            keep[i] = True
            best = acc[i]
    return keep


def _dominance_pareto(cost, acc):
    """tol = 0 from the dominance definition, O(P²): i is dropped iff some j is at most as
    costly and more accurate, or cheaper and as accurate, or an identical point earlier."""
    keep = np.ones(cost.size, dtype=bool)
    for i in range(cost.size):
        for j in range(cost.size):
            if j == i:
                continue
            if (cost[j] <= cost[i] and acc[j] > acc[i]) or (cost[j] < cost[i] and acc[j] >= acc[i]) \
                    or (cost[j] == cost[i] and acc[j] == acc[i] and j < i):
                keep[i] = False
    return keep


points = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 12)), min_size=1, max_size=40)


@settings(max_examples=80)
@given(points=points, tol=st.sampled_from([0.0, 1e-6, 0.5, 1.5, 4.0]))
def test_vectorised_pareto_mask_equals_the_one_pass_definition(points, tol):
    cost, acc = np.array(points, dtype=float).T
    np.testing.assert_array_equal(pareto_mask(cost, acc, tol=tol), _loop_pareto(cost, acc, tol))


@settings(max_examples=80)
@given(points=points)
def test_exact_pareto_mask_is_the_dominance_definition(points):
    cost, acc = np.array(points, dtype=float).T
    np.testing.assert_array_equal(pareto_mask(cost, acc, tol=0), _dominance_pareto(cost, acc))


def test_pareto_tie_rules():
    # Equal cost: the most accurate; equal within tol: the cheapest; duplicates: the first.
    assert pareto_mask([1.0, 1.0], [0.5, 0.6]).tolist() == [False, True]
    assert pareto_mask([1.0, 2.0], [0.6, 0.6 + 5e-7]).tolist() == [True, False]
    assert pareto_mask([1.0, 1.0, 2.0], [0.6, 0.6, 0.7]).tolist() == [True, False, True]


def test_pareto_mask_rejects_bad_input():
    with pytest.raises(ValueError, match="cost, accuracy: expected two 1-d arrays"):
        pareto_mask([1.0, 2.0], [0.5])
    with pytest.raises(ValueError, match="cost, accuracy: contain NaN"):
        pareto_mask([1.0, np.nan], [0.5, 0.6])
    with pytest.raises(ValueError, match="tol: must be >= 0"):
        pareto_mask([1.0], [0.5], tol=-1.0)


def test_deprecated_fast_pareto_mask_is_the_exact_one():
    cost, acc = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.5 + 1e-9, 0.4])
    with pytest.warns(DeprecationWarning, match=r"pareto_mask\(cost, accuracy, tol=0\)"):
        got = pareto_mask_fast(cost, acc)
    np.testing.assert_array_equal(got, pareto_mask(cost, acc, tol=0))
    assert got.tolist() == [True, True, False]


def test_routing_ties_defer_in_every_kernel():
    """A confidence equal to its threshold defers: in route, in the baselines' scorer and in the
    grid's rank kernel."""
    conf = np.array([[0.5, 0.9, 0.1], [0.7, 0.5, 0.2], [0.5, 0.5, 0.3]])
    t = np.array([[0.5, 0.5]])
    assert route(conf, t).tolist() == [[1, 0, 2]]
    values = np.array([[1.0, 2.0, 3.0]] * 3)
    cum_cost = np.array([1.0, 2.0, 4.0])
    scored = score_thresholds(conf, values, cum_cost, t)
    np.testing.assert_allclose(scored["stage_usage"], [[1 / 3, 1 / 3, 1 / 3]])
    acc, cost = grid_scores(conf, values, cum_cost, [np.array([0.5]), np.array([0.5])])
    assert acc[0, 0] == pytest.approx(scored["accuracy"][0])
    assert cost[0, 0] == pytest.approx(scored["cost"][0])

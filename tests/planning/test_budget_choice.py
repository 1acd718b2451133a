"""The budget rule (best predicted accuracy within the budget) against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcopula.planning import best_under_budget


def brute_force(acc, cost, budgets):
    out = []
    for b in budgets:
        best = -1
        for i in range(len(acc)):
            if cost[i] > b:
                continue
            if best < 0 or (acc[i], -cost[i], -i) > (acc[best], -cost[best], -best):
                best = i
        out.append(best)
    return out


@given(st.lists(st.tuples(st.sampled_from([0.5, 0.6, 0.7, 0.8]),
                          st.sampled_from([1.0, 2.0, 3.0, 5.0, 8.0])), max_size=12),
       st.lists(st.sampled_from([0.5, 1.0, 2.5, 3.0, 4.0, 10.0]), min_size=1, max_size=5))
def test_choice_is_the_brute_force_best_within_budget_with_ties(pairs, budgets):
    # few distinct values, so that ties in accuracy and in cost are frequent
    acc = [a for a, _ in pairs]
    cost = [c for _, c in pairs]
    assert best_under_budget(acc, cost, budgets).tolist() == brute_force(acc, cost, budgets)


def test_nothing_fits_gives_minus_one_and_a_budget_equal_to_the_cost_fits():
    assert best_under_budget([0.9], [10.0], [9.999, 10.0]).tolist() == [-1, 0]
    assert best_under_budget([], [], [5.0]).tolist() == [-1]


@pytest.mark.parametrize("acc, cost, budgets, match", [
    ([0.5, np.nan], [1, 2], [3], "predicted_accuracy"),
    ([0.5, 0.6], [1], [3], "predicted_cost"),
    ([0.5], [1], [np.inf], "budgets"),
])
def test_bad_input_names_the_argument(acc, cost, budgets, match):
    with pytest.raises(ValueError, match=match):
        best_under_budget(acc, cost, budgets)

"""Order-swap consistency and intransitivity diagnostics."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.ranking import (
    filter_swap_consistent,
    intransitivity,
    max_cyclic_triads,
    order_swap_consistency,
    simulate_logits,
)


def test_noise_free_small_bias_judge_is_fully_swap_consistent():
    M = simulate_logits(np.arange(5.0), bias=0.4, noise=0.0)
    r = order_swap_consistency(M)
    assert r.n_pairs == 10 and r.n_consistent == 10 and r.consistency == 1.0
    np.testing.assert_allclose(r.position_bias, 0.4, rtol=1e-12)
    assert not r.inconsistent.any()


def test_a_bias_larger_than_a_margin_flips_exactly_the_close_pairs():
    """Qualities 0, 0.2, 1, 3: with b = 0.5 the first-shown answer wins both orders of every pair
    with |mu_i - mu_j| < 0.5, i.e. only (0, 1)."""
    M = simulate_logits(np.array([0.0, 0.2, 1.0, 3.0]), bias=0.5, noise=0.0)
    r = order_swap_consistency(M)
    assert r.n_consistent == 5
    assert r.inconsistent[0, 1] and r.inconsistent[1, 0] and r.inconsistent.sum() == 2
    F = filter_swap_consistent(M)
    assert np.isnan(F[0, 1]) and np.isnan(F[1, 0]) and np.isfinite(F[2, 3])


def test_position_bias_estimate_is_within_four_standard_errors_of_the_truth():
    """(M_ij + M_ji)/2 = b + (eps_ij + eps_ji)/2: i.i.d. with SD sigma/sqrt(2) over pairs."""
    M = simulate_logits(np.random.default_rng(0).normal(size=40), bias=0.25, noise=1.0, rng=1)
    r = order_swap_consistency(M)
    assert abs(r.position_bias - 0.25) < 4 * r.position_bias_se
    np.testing.assert_allclose(r.position_bias_se, 1 / np.sqrt(2) / np.sqrt(780), rtol=0.15)


def test_pairs_queried_in_one_order_only_are_not_judged():
    M = np.full((3, 3), np.nan)
    M[0, 1], M[1, 0], M[0, 2] = 1.0, -1.0, 2.0
    r = order_swap_consistency(M)
    assert r.n_pairs == 1 and r.first_position_win_rate == 0.5


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 12))
@settings(max_examples=60)
def test_cyclic_triads_match_kendalls_score_formula_for_random_tournaments(seed, n):
    """For a complete tournament without ties, c = C(n,3) - sum_i C(w_i, 2) (Kendall and
    Babington Smith 1940), w_i = wins of i: an independent count of the enumeration."""
    rng = np.random.default_rng(seed)
    S = np.triu(rng.choice([-1.0, 1.0], size=(n, n)), 1)
    S = S - S.T
    r = intransitivity(S)
    wins = (S > 0).sum(axis=1)
    assert r.n_cyclic == comb(n, 3) - sum(comb(int(w), 2) for w in wins)
    assert r.n_triads == comb(n, 3)
    assert 0.0 <= r.consistence <= 1.0


def test_transitive_and_maximally_cyclic_tournaments():
    S = simulate_logits(np.arange(6.0), noise=0.0)
    assert intransitivity(S).n_cyclic == 0 and intransitivity(S).consistence == 1.0
    # the regular tournament on 5 items (i beats i+1, i+2 mod 5) attains c_max = 5
    T = np.zeros((5, 5))
    for i in range(5):
        T[i, (i + 1) % 5] = T[i, (i + 2) % 5] = 1.0
    T = T - T.T
    r = intransitivity(T)
    assert r.n_cyclic == max_cyclic_triads(5) == 5 and r.consistence == 0.0
    assert max_cyclic_triads(6) == 8


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="M: expected a square"):
        order_swap_consistency(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="M: contains 1 infinite"):
        intransitivity(np.array([[0, np.inf, 0], [0, 0, 0], [0, 0, 0]]))

"""``equicorrelated_bayes_error`` by bisection on the monotone likelihood ratio: the same
numbers as the exhaustive minimum over every threshold, and n = 10⁶ in constant memory."""

import numpy as np
import pytest

from llmcopula.selection import (
    equicorrelated_bayes_error,
    equicorrelated_error_floor,
    majority_vote_error,
)
from llmcopula.selection.floors import _equicorrelated_sf, _log_mixture_pmf


def _exhaustive(n, p, rho, prior):
    """min over every threshold t of π₀·P(errors > t) + π₁·P(errors >= n − t): O(n) memory."""
    t = np.arange(-1.0, n + 1.0)
    ones = np.ones_like(t)
    sf = _equicorrelated_sf(t, n * ones, p * ones, rho * ones)
    return float(np.min((1 - prior) * sf + prior * sf[::-1]))


@pytest.mark.parametrize("n", [1, 2, 3, 6, 31])
def test_bisection_matches_the_exhaustive_minimum(n):
    for p in (0.0, 0.01, 0.2, 0.45, 0.5):
        for rho in (0.0, 0.05, 0.3, 0.9, 1.0):
            for prior in (0.05, 0.3, 0.5, 0.9):
                assert float(equicorrelated_bayes_error(n, p, rho, prior)) == pytest.approx(
                    _exhaustive(n, p, rho, prior), abs=1e-12)


@pytest.mark.parametrize("n, p, rho, prior", [(120, 0.2, 0.05, 0.3), (301, 0.45, 0.3, 0.9),
                                              (301, 0.01, 0.9, 0.05), (400, 0.3, 0.0, 0.6)])
def test_bisection_matches_the_exhaustive_minimum_for_more_models(n, p, rho, prior):
    assert float(equicorrelated_bayes_error(n, p, rho, prior)) == pytest.approx(
        _exhaustive(n, p, rho, prior), abs=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.2, 0.7])
def test_point_masses_sum_to_one_and_match_the_binomial_mixture(rho):
    n, p = 40, 0.3
    log_pmf = np.array([_log_mixture_pmf(k, n, p, rho) for k in range(n + 1)])
    assert np.exp(log_pmf).sum() == pytest.approx(1.0, abs=1e-12)
    t = np.arange(0.0, n)
    ones = np.ones_like(t)
    sf = _equicorrelated_sf(t, n * ones, p * ones, rho * ones)
    assert np.allclose(np.exp(log_pmf)[1:], -np.diff(np.r_[sf, 0.0]), atol=1e-12)


def test_a_million_models_balanced_prior_equals_the_majority_vote():
    value = float(equicorrelated_bayes_error(10**6, 0.3, 0.2))
    assert value == pytest.approx(float(majority_vote_error(10**6, 0.3, 0.2)), abs=1e-12)


def test_large_n_decreases_to_the_floor_for_an_unbalanced_prior():
    n = np.array([10, 100, 10**3, 10**4, 10**5, 10**6])
    curve = equicorrelated_bayes_error(n, 0.3, 0.2, prior=0.2)
    floor = float(equicorrelated_error_floor(0.3, 0.2, prior=0.2))
    assert np.all(np.diff(curve) < 0)
    assert floor <= curve[-1] < floor + 1e-4

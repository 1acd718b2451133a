"""Property tests of the error floors (hypothesis, fixed-seed profile from tests/conftest.py)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

from llmcopula.selection.floors import (
    equicorrelated_bayes_error,
    equicorrelated_error_floor,
    fano_lower_bound,
    information_limit,
    majority_vote_error,
)

error_rates = st.floats(0.01, 0.49)
correlations = st.floats(0.01, 0.99)
priors = st.floats(0.05, 0.95)


@given(p=error_rates, rho1=correlations, rho2=correlations, prior=priors)
def test_floor_is_non_decreasing_in_rho(p, rho1, rho2, prior):
    lo, hi = sorted((rho1, rho2))
    assert (
        equicorrelated_error_floor(p, lo, prior) <= equicorrelated_error_floor(p, hi, prior) + 1e-12
    )


@given(p1=error_rates, p2=error_rates, rho=correlations)
def test_floor_is_non_decreasing_in_the_error_rate_and_information_is_not(p1, p2, rho):
    lo, hi = sorted((p1, p2))
    assert equicorrelated_error_floor(lo, rho) <= equicorrelated_error_floor(hi, rho) + 1e-12
    assert information_limit(lo, rho) >= information_limit(hi, rho) - 1e-10


@settings(max_examples=15)
@given(p=error_rates, rho=correlations, prior=priors)
def test_bayes_error_is_non_increasing_in_the_number_of_models_and_above_the_floor(p, rho, prior):
    curve = equicorrelated_bayes_error(np.arange(1, 12), p, rho, prior)
    # Adding a model adds information, so the MAP error cannot grow (up to quadrature error).
    assert (np.diff(curve) <= 1e-9).all()
    floor = equicorrelated_error_floor(p, rho, prior)
    assert (curve >= floor - 1e-9).all()
    assert floor >= fano_lower_bound(p, rho, prior) - 1e-12


@settings(max_examples=30)
@given(p=error_rates, rho=correlations, k=st.integers(1, 60))
def test_even_ensembles_with_coin_tie_breaks_equal_the_odd_one_below(p, rho, k):
    """With a fair-coin tie break, adding a model to an odd ensemble never changes the MV error
    (the classical identity P_e(2k) = P_e(2k − 1) for exchangeable voters)."""
    assert abs(majority_vote_error(2 * k, p, rho) - majority_vote_error(2 * k - 1, p, rho)) < 1e-10


def _hoeffding_gap_bound(n: int, p: float, rho: float) -> float:
    """∫ φ(w)·exp(−2n(q(w) − ½)²) dw: by Hoeffding, |1{q > ½} − P(Bin(n, q) > n/2)| is at most
    exp(−2n(q − ½)²) for odd n, so this bounds |MV(n) − floor|. It is Θ(1/√n): near the crossing
    w* = Φ⁻¹(p)/√ρ, q − ½ ≈ q'(w*)(w − w*), giving ≈ φ(w*)·√(π/(2n))/|q'(w*)|."""
    tau = stats.norm.ppf(p)

    def integrand(w: float) -> float:
        q = special.ndtr((tau - math.sqrt(rho) * w) / math.sqrt(1 - rho))
        return math.exp(-0.5 * w * w - 2 * n * (q - 0.5) ** 2) / math.sqrt(2 * math.pi)

    val, _ = integrate.quad(integrand, -12, 12, points=[tau / np.sqrt(rho)], limit=500)
    return val


@settings(max_examples=15)
@given(p=st.floats(0.05, 0.45), rho=st.floats(0.05, 0.95))
def test_majority_vote_at_501_models_is_within_the_hoeffding_rate_of_the_floor(p, rho):
    n = 501
    gap = abs(majority_vote_error(n, p, rho) - equicorrelated_error_floor(p, rho))
    # the quadrature of both sides is accurate to ~1e-10 (test_floors checks it against quad).
    assert gap <= _hoeffding_gap_bound(n, p, rho) + 1e-8


def test_majority_vote_gap_to_the_floor_shrinks_like_one_over_n():
    """The Hoeffding bound above is O(1/√n), but the true gap is O(1/n): for odd n,
    P(Bin(n, ½ + x) > n/2) + P(Bin(n, ½ − x) > n/2) = 1, so the O(δ) = O(1/√n) parts of the
    smoothed step on both sides of w* cancel and the remainder is O(δ²) = O(1/n). Each 4x
    increase of n must therefore shrink the gap by about 4."""
    n = np.array([101, 401, 1601, 6401])
    for p, rho in [(0.2, 0.3), (0.3, 0.9)]:
        gap = majority_vote_error(n, p, rho) - equicorrelated_error_floor(p, rho)
        assert (gap > 0).all()
        ratios = gap[:-1] / gap[1:]
        assert np.allclose(ratios, 4.0, rtol=0.05), ratios

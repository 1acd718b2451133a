"""Error floors: reference table, closed forms against independent quadrature, edge cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from llmcopula.selection.floors import (
    bayes_error,
    binary_entropy,
    effective_number_of_models,
    equicorrelated_bayes_error,
    equicorrelated_error_floor,
    error_pattern_probabilities,
    fano_lower_bound,
    information_limit,
    inverse_binary_entropy,
    majority_vote_error,
)

# The reference table of docs/selection.md: (p, rho, floor, I_inf bits, Fano bound), balanced
# prior, rounded to 4 decimals (I_inf to 3); the tests below also recompute them independently
# (scipy quadrature, Monte Carlo).
REFERENCE_TABLE = [
    (0.2, 0.1, 0.0039, 0.984, 0.0014),
    (0.2, 0.3, 0.0622, 0.775, 0.0362),
    (0.2, 0.5, 0.1170, 0.603, 0.0784),
    (0.2, 0.9, 0.1875, 0.411, 0.1417),
    (0.3, 0.1, 0.0486, 0.821, 0.0270),
    (0.3, 0.3, 0.1692, 0.458, 0.1244),
    (0.3, 0.5, 0.2292, 0.313, 0.1830),
    (0.3, 0.9, 0.2902, 0.192, 0.2480),
    (0.4, 0.5, 0.3601, 0.087, 0.3280),
    (0.4, 0.9, 0.3947, 0.050, 0.3695),
]


def _limit_densities(p: float, rho: float, prior: float):
    """Densities of the probit vote fraction G given Y = 0 and Y = 1 (π-weighted), and a range."""
    tau = stats.norm.ppf(p)
    mu, s = tau / np.sqrt(1 - rho), np.sqrt(rho / (1 - rho))
    # scalar math instead of scipy.stats keeps the thousands of integrand calls cheap.
    c = 1.0 / (s * math.sqrt(2 * math.pi))
    f0 = lambda g: (1 - prior) * c * math.exp(-0.5 * ((g - mu) / s) ** 2)
    f1 = lambda g: prior * c * math.exp(-0.5 * ((g + mu) / s) ** 2)
    return f0, f1, abs(mu) + 40 * s


def _quad_floor(p: float, rho: float, prior: float) -> float:
    """Bayes error of the limit problem, ∫ min(π₀f₀, π₁f₁), by adaptive quadrature."""
    f0, f1, lim = _limit_densities(p, rho, prior)
    val, _ = integrate.quad(
        lambda g: min(f0(g), f1(g)), -lim, lim, points=[0.0], limit=500, epsabs=1e-12
    )
    return val


def _quad_information(p: float, rho: float, prior: float) -> float:
    """H(Y) − E[h_b(P(Y=1|G))] by adaptive quadrature over G."""
    f0, f1, lim = _limit_densities(p, rho, prior)

    def integrand(g: float) -> float:
        a, b = f0(g), f1(g)
        post = b / (a + b) if a + b > 0 else 0.0
        if not 0.0 < post < 1.0:
            return 0.0
        return -(a + b) * (post * math.log2(post) + (1 - post) * math.log2(1 - post))

    h_cond, _ = integrate.quad(integrand, -lim, lim, points=[0.0], limit=1000, epsabs=1e-13)
    return float(binary_entropy(prior)) - h_cond


def _quad_majority_vote(n: int, p: float, rho: float) -> float:
    """∫ φ(w)·{P(Bin > n/2) + ½P(Bin = n/2)} dw with scipy's binomial and adaptive quadrature."""
    tau = stats.norm.ppf(p)

    def integrand(w: float) -> float:
        q = special.ndtr((tau - math.sqrt(rho) * w) / math.sqrt(1 - rho))
        tail = special.bdtrc(n // 2, n, q)
        if n % 2 == 0:  # half of P(Bin = n/2)
            tail += 0.5 * (special.bdtrc(n // 2 - 1, n, q) - tail)
        return math.exp(-0.5 * w * w) / math.sqrt(2 * math.pi) * tail

    w_star = tau / np.sqrt(rho)
    val, _ = integrate.quad(integrand, -12, 12, points=[w_star], limit=500, epsabs=1e-12)
    return val


@pytest.mark.parametrize(("p", "rho", "floor", "info", "fano"), REFERENCE_TABLE)
def test_floor_and_fano_reproduce_the_reference_table_to_four_decimals(p, rho, floor, info, fano):
    assert abs(equicorrelated_error_floor(p, rho) - floor) <= 5e-5
    assert abs(fano_lower_bound(p, rho) - fano) <= 5e-5


@pytest.mark.parametrize(("p", "rho", "floor", "info", "fano"), REFERENCE_TABLE)
def test_information_limit_reproduces_the_reference_table(p, rho, floor, info, fano):
    assert abs(information_limit(p, rho) - info) <= 5e-4


@pytest.mark.parametrize(
    ("p", "rho", "prior"),
    [
        (0.2, 0.1, 0.5),
        (0.3, 0.5, 0.5),
        (0.45, 0.9, 0.5),
        (0.3, 0.5, 0.3),
        (0.1, 0.7, 0.8),
        (0.49, 0.2, 0.1),
    ],
)
def test_information_limit_matches_adaptive_quadrature(p, rho, prior):
    assert information_limit(p, rho, prior) == pytest.approx(
        _quad_information(p, rho, prior), abs=1e-9
    )


@pytest.mark.parametrize(
    ("p", "rho", "prior"),
    [(0.2, 0.3, 0.5), (0.3, 0.5, 0.3), (0.1, 0.05, 0.5), (0.4, 0.9, 0.7), (0.25, 0.6, 0.1)],
)
def test_closed_form_floor_equals_quadrature_bayes_floor(p, rho, prior):
    assert equicorrelated_error_floor(p, rho, prior) == pytest.approx(
        _quad_floor(p, rho, prior), abs=1e-9
    )


def test_general_prior_floor_matches_documented_value():
    assert round(float(equicorrelated_error_floor(0.3, 0.5, prior=0.3)), 4) == 0.1959


def test_floor_limits_rho_zero_rho_one_and_chance_level():
    assert equicorrelated_error_floor(0.3, 0.0) == 0.0
    assert equicorrelated_error_floor(0.0, 0.4) == 0.0
    assert equicorrelated_error_floor(0.3, 1.0) == pytest.approx(0.3)
    # one model, prior 0.8: predicting the majority class every time (error 0.2) beats the model.
    assert equicorrelated_error_floor(0.3, 1.0, prior=0.8) == pytest.approx(0.2)
    assert equicorrelated_error_floor(0.5, 0.3, prior=0.3) == pytest.approx(0.3)
    assert information_limit(0.3, 0.0) == pytest.approx(1.0)
    assert fano_lower_bound(0.3, 0.0) == 0.0


def test_floor_broadcasts_over_p_rho_and_prior():
    out = equicorrelated_error_floor(np.array([[0.1], [0.2]]), np.array([0.2, 0.5, 0.9]), prior=0.5)
    assert out.shape == (2, 3)
    assert out[1, 1] == pytest.approx(float(equicorrelated_error_floor(0.2, 0.5)))


def test_fano_bound_is_below_the_floor_and_inverts_binary_entropy():
    p, rho = np.meshgrid([0.05, 0.2, 0.35, 0.49], [0.05, 0.3, 0.7, 0.95])
    assert (fano_lower_bound(p, rho) <= equicorrelated_error_floor(p, rho) + 1e-12).all()
    h = np.linspace(0, 1, 11)
    assert np.allclose(binary_entropy(inverse_binary_entropy(h)), h, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 51, 200, 501])
@pytest.mark.parametrize(("p", "rho"), [(0.2, 0.3), (0.35, 0.8), (0.1, 0.02)])
def test_majority_vote_error_matches_adaptive_quadrature(n, p, rho):
    assert majority_vote_error(n, p, rho) == pytest.approx(_quad_majority_vote(n, p, rho), abs=1e-9)


def test_majority_vote_limits():
    n = np.arange(1, 30)
    assert np.allclose(
        majority_vote_error(n, 0.3, 0.0),
        stats.binom.sf(n // 2, n, 0.3)
        + np.where(n % 2 == 0, 0.5, 0) * stats.binom.pmf(n // 2, n, 0.3),
    )
    assert np.allclose(majority_vote_error(n, 0.3, 1.0), 0.3)
    assert majority_vote_error(1, 0.27, 0.6) == pytest.approx(0.27, abs=1e-12)
    assert majority_vote_error(5, 0.0, 0.6) == 0.0


def test_tie_goes_to_the_prior_majority_class():
    # at n = 2 the vote is a tie when exactly one model errs; that costs min(π₀, π₁).
    both, one = 0.3 * 0.3, 2 * 0.3 * 0.7  # rho = 0: independent errors
    assert majority_vote_error(2, 0.3, 0.0, prior=0.2) == pytest.approx(both + 0.2 * one)


def test_bayes_curve_equals_majority_vote_for_balanced_prior():
    n = np.arange(1, 16)
    assert np.allclose(
        equicorrelated_bayes_error(n, 0.25, 0.4), majority_vote_error(n, 0.25, 0.4), atol=1e-12
    )


@pytest.mark.parametrize(
    ("n", "p", "rho", "prior"),
    [
        (3, 0.3, 0.5, 0.3),
        (6, 0.2, 0.3, 0.5),
        (7, 0.35, 0.8, 0.7),
        (4, 0.1, 0.95, 0.2),
        (8, 0.4, 0.1, 0.35),
    ],
)
def test_bayes_curve_matches_pattern_enumeration(n, p, rho, prior):
    """The threshold formula (monotone likelihood ratio) against Σ_x min(π₀P(x|0), π₁P(x|1))."""
    enumerated = bayes_error(np.full(n, p), loadings=np.full(n, np.sqrt(rho)), prior=prior)
    assert equicorrelated_bayes_error(n, p, rho, prior) == pytest.approx(enumerated, abs=1e-9)


def test_bayes_curve_at_forty_models_matches_a_sum_over_vote_counts():
    """Σ_k min(π₀P(K=k|0), π₁P(K=k|1)) with each P(errors = k) by adaptive quadrature."""
    n, p, rho, prior = 40, 0.3, 0.5, 0.3
    tau = stats.norm.ppf(p)

    def pmf(k: int) -> float:
        def integrand(w: float) -> float:
            q = special.ndtr((tau - math.sqrt(rho) * w) / math.sqrt(1 - rho))
            return (
                math.exp(-0.5 * w * w)
                / math.sqrt(2 * math.pi)
                * special.binom(n, k)
                * q**k
                * (1 - q) ** (n - k)
            )

        return integrate.quad(
            integrand, -12, 12, points=[tau / math.sqrt(rho)], limit=500, epsabs=1e-13
        )[0]

    errors_pmf = np.array([pmf(k) for k in range(n + 1)])
    # K = votes for "1": K = errors given Y = 0 and K = n − errors given Y = 1.
    expected = np.minimum((1 - prior) * errors_pmf, prior * errors_pmf[::-1]).sum()
    assert equicorrelated_bayes_error(n, p, rho, prior) == pytest.approx(expected, abs=1e-9)


def test_pattern_probabilities_of_independent_models_are_products():
    p = np.array([0.1, 0.25, 0.4])
    probs = error_pattern_probabilities(p, loadings=np.zeros(3))
    expected = [np.prod([p[i] if (k >> i) & 1 else 1 - p[i] for i in range(3)]) for k in range(8)]
    assert np.allclose(probs, expected, atol=1e-12)
    assert bayes_error(p, np.eye(3), rng=0) == pytest.approx(
        bayes_error(p, loadings=np.zeros(3)), abs=1e-6
    )


def test_general_corr_path_agrees_with_one_factor_quadrature():
    lam = np.array([0.9, 0.7, 0.5, 0.3])
    corr = np.outer(lam, lam)
    np.fill_diagonal(corr, 1.0)
    p = np.array([0.15, 0.2, 0.3, 0.35])
    exact = error_pattern_probabilities(p, loadings=lam)
    genz = error_pattern_probabilities(p, corr, rng=1)
    # Genz's algorithm stops at an estimated absolute error of 1e-5 per pattern.
    assert np.abs(genz - exact).max() < 5e-5
    assert bayes_error(p, corr, prior=0.4, rng=1) == pytest.approx(
        bayes_error(p, loadings=lam, prior=0.4), abs=2e-4
    )


def test_bayes_error_brute_force_single_model_and_marginals():
    # one model: the Bayes error is min(π₀(1−p), π₁p) + min(π₀p, π₁(1−p)).
    assert bayes_error([0.3], loadings=[0.5], prior=0.2) == pytest.approx(0.2)
    assert bayes_error([0.3], loadings=[0.5], prior=0.5) == pytest.approx(0.3)
    lam = np.array([0.8, 0.6, 0.4])
    probs = error_pattern_probabilities([0.2, 0.3, 0.4], loadings=lam)
    patterns = np.array(list(itertools.product([0, 1], repeat=3)))[:, ::-1]  # bit i in column i
    assert np.allclose(patterns.T @ probs, [0.2, 0.3, 0.4], atol=1e-10)


def test_effective_number_of_models():
    assert effective_number_of_models(np.eye(5)) == pytest.approx(5.0)
    assert effective_number_of_models(np.ones((5, 5))) == pytest.approx(1.0)
    corr = np.full((6, 6), 0.25) + 0.75 * np.eye(6)
    assert effective_number_of_models(corr, "kish") == pytest.approx(6 / (1 + 5 * 0.25))
    eig = np.linalg.eigvalsh(corr)
    assert effective_number_of_models(corr) == pytest.approx(eig.sum() ** 2 / (eig**2).sum())


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: equicorrelated_error_floor(0.6, 0.3), "p"),
        (lambda: equicorrelated_error_floor(np.nan, 0.3), "p"),
        (lambda: equicorrelated_error_floor(0.2, 1.5), "rho"),
        (lambda: information_limit(0.2, 0.3, prior=1.0), "prior"),
        (lambda: majority_vote_error(0, 0.2, 0.3), "n"),
        (lambda: majority_vote_error(2.5, 0.2, 0.3), "n"),
        (lambda: bayes_error([0.2, 0.0], loadings=[0.5, 0.5]), "error_rates"),
        (lambda: bayes_error([0.2, 0.3], np.array([[1, 2], [2, 1.0]])), "corr"),
        (lambda: bayes_error([0.2, 0.3], np.eye(2), loadings=[0.1, 0.1]), "corr"),
        (lambda: bayes_error([0.2, 0.3], loadings=[0.1, 1.1]), "loadings"),
        (lambda: effective_number_of_models(np.ones((2, 3))), "corr"),
        (lambda: effective_number_of_models(np.eye(3), "spectral"), "method"),
    ],
)
def test_bad_inputs_raise_value_error_naming_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()

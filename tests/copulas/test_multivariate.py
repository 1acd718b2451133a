"""Tests of MultivariateGaussianCopula."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import special, stats

from llmcopula.copulas import GaussianCopula, MultivariateGaussianCopula

CORR = np.array([[1.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 1.0]])


def test_logpdf_equals_scipy_joint_log_density_minus_normal_margins():
    cop = MultivariateGaussianCopula(CORR)
    u = np.random.default_rng(0).uniform(0.001, 0.999, (100, 3))
    x = special.ndtri(u)
    ref = stats.multivariate_normal(cov=CORR).logpdf(x) - stats.norm.logpdf(x).sum(axis=1)
    assert_allclose(cop.logpdf(u), ref, rtol=1e-12, atol=1e-12)
    assert_allclose(cop.pdf(u[0]), np.exp(ref[0]))


def test_two_dimensional_copula_agrees_with_gaussian_copula():
    cop = MultivariateGaussianCopula([[1, -0.7], [-0.7, 1]])
    u = np.random.default_rng(1).uniform(0, 1, (50, 2))
    ref = GaussianCopula(-0.7)
    assert_allclose(cop.cdf(u), ref.cdf(u), rtol=0, atol=1e-15)
    assert_allclose(cop.logpdf(u), ref.logpdf(u), rtol=1e-12)


def test_cdf_matches_scipy_within_the_requested_tolerance():
    cop = MultivariateGaussianCopula(CORR)
    u = np.random.default_rng(2).uniform(0.05, 0.95, (3, 3))
    # Two independent QMC runs at abseps 1e-6 each agree to within their sum.
    ref = stats.multivariate_normal(cov=CORR, abseps=1e-6, releps=0).cdf(special.ndtri(u), rng=9)
    assert_allclose(cop.cdf(u, abseps=1e-6, rng=3), ref, atol=2e-6)
    assert cop.cdf([0.0, 0.5, 0.5]) == 0.0


def test_sample_margins_are_uniform_and_normal_score_correlation_is_corr():
    n = 5000
    cop = MultivariateGaussianCopula(CORR)
    u = cop.sample(n, rng=4)
    for j in range(3):
        assert stats.kstest(u[:, j], "uniform").pvalue > 0.001
    r = np.corrcoef(special.ndtri(u), rowvar=False)
    # SE of a sample correlation of normal data: (1 - ρ²)/√n; allow 4 SE.
    se = (1 - CORR**2) / np.sqrt(n)
    assert np.all(np.abs(r - CORR) <= 4 * se + 1e-12)


@pytest.mark.parametrize("method", ["itau", "mle"])
def test_fit_recovers_the_correlation_within_sampling_error(method):
    n = 4000
    u = MultivariateGaussianCopula(CORR).sample(n, rng=5)
    est = MultivariateGaussianCopula.fit(u, method=method).corr
    # ρ̂ from τ̂ or normal scores has SE about (1 - ρ²)/√n (the itau one slightly larger,
    # at most ~1.1 times for |ρ| <= 0.6); allow 5 SE.
    assert np.all(np.abs(est - CORR) <= 5 * (1 - CORR**2) / np.sqrt(n) + 1e-12)


def test_fit_repairs_a_non_positive_definite_itau_estimate():
    rng = np.random.default_rng(6)
    z = rng.normal(size=(8, 3))
    u = stats.rankdata(z, axis=0) / 9
    fitted = MultivariateGaussianCopula.fit(u)
    assert np.linalg.eigvalsh(fitted.corr).min() > 0


def test_tau_matrix_and_bivariate_pairs():
    cop = MultivariateGaussianCopula(CORR)
    assert_allclose(cop.tau, 2 / np.pi * np.arcsin(CORR))
    assert cop.bivariate(0, 2) == GaussianCopula(-0.3)
    with pytest.raises(ValueError, match="^j"):
        cop.bivariate(1, 1)
    with pytest.raises(ValueError, match="^i"):
        cop.bivariate(5, 1)


def test_invalid_corr_raises_value_error_naming_corr_and_suggesting_repair():
    with pytest.raises(ValueError, match="^corr.*nearest_correlation"):
        MultivariateGaussianCopula([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    for bad in ([[1, 0.2], [0.3, 1]], [[2, 0.2], [0.2, 1]], [[1, np.nan], [np.nan, 1]], [1, 0]):
        with pytest.raises(ValueError, match="^corr"):
            MultivariateGaussianCopula(bad)
    with pytest.raises(ValueError, match="^u"):
        MultivariateGaussianCopula(CORR).logpdf([0.5, 0.5])
    with pytest.raises(ValueError, match="^method"):
        MultivariateGaussianCopula.fit(np.full((5, 2), 0.5), method="x")


def test_object_and_its_matrix_are_immutable():
    cop = MultivariateGaussianCopula(CORR)
    with pytest.raises(AttributeError):
        cop.corr = np.eye(3)
    with pytest.raises(ValueError):
        cop.corr[0, 1] = 0.0

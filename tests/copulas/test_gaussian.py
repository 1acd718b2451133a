"""Tests of the bivariate Gaussian copula and of the bivariate normal distribution function."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, special, stats

from llmcopula.copulas import GaussianCopula
from llmcopula.copulas._bvn import bvn_cdf

# The ten points of statsmodels' copula tests and the values of R `copula` 1.0-0,
# normalCopula(0.8): statsmodels/distributions/copula/tests/test_copula.py (CheckCopula.u,
# TestGaussianCopula) and copula_r_tests.rst. R printed 8 decimals, so agreement is
# expected to half a unit of the last printed digit (5e-9) plus our own error.
U_R = np.array([
    [0.33706249, 0.6075078], [0.62232507, 0.06241089], [0.2001457, 0.54027684],
    [0.77166391, 0.40610225], [0.98534253, 0.99212789], [0.72755898, 0.25913165],
    [0.05943888, 0.61044613], [0.0962475, 0.67585563], [0.35496733, 0.79584436],
    [0.44513594, 0.23050014],
])
R_PDF = [1.03308741, 0.06507279, 0.72896012, 0.65389439, 16.45012399, 0.34813218,
         0.06768115, 0.08168840, 0.40521741, 1.26723470]
R_CDF = [0.31906854, 0.06230196, 0.19284669, 0.39952707, 0.98144792, 0.25677003,
         0.05932818, 0.09605404, 0.35211017, 0.20885480]


def _owen_bvn(h, k, r):
    """Φ2 by Owen's T function (an independent closed form, Owen 1956)."""
    s = np.sqrt((1 - r) * (1 + r))
    ah, ak = (k - r * h) / (h * s), (h - r * k) / (k * s)
    beta = np.where((h * k < 0) | ((h * k == 0) & (h + k < 0)), 0.5, 0.0)
    return (0.5 * special.ndtr(h) + 0.5 * special.ndtr(k)
            - special.owens_t(h, ah) - special.owens_t(k, ak) - beta)


def test_cdf_and_pdf_match_r_copula_reference_values():
    cop = GaussianCopula(0.8)
    assert_allclose(cop.cdf(U_R), R_CDF, rtol=0, atol=1e-8)
    assert_allclose(cop.pdf(U_R), R_PDF, rtol=0, atol=1e-8)


@pytest.mark.parametrize("band", [(0.0, 0.3), (0.3, 0.75), (0.75, 0.925), (0.925, 1.0)])
def test_bvn_cdf_matches_owens_t_closed_form_to_1e_14_in_every_quadrature_band(band):
    rng = np.random.default_rng(1)
    n = 20000
    h, k = rng.normal(scale=2.5, size=(2, n))
    h[:500] = k[:500] + rng.normal(scale=1e-4, size=500)  # near the diagonal, b ~ 0
    r = rng.choice([-1, 1], n) * rng.uniform(*band, n)
    r = np.clip(r, -1 + 1e-12, 1 - 1e-12)
    assert_allclose(bvn_cdf(h, k, r), _owen_bvn(h, k, r), rtol=0, atol=1e-14)


def test_bvn_cdf_matches_adaptive_quadrature_of_the_conditional_cdf():
    rng = np.random.default_rng(2)
    for _ in range(60):
        h, k = rng.normal(scale=2, size=2)
        r = rng.uniform(-0.9, 0.9)
        s = np.sqrt(1 - r * r)
        ref = integrate.quad(lambda x: stats.norm.pdf(x) * special.ndtr((k - r * x) / s),
                             -np.inf, h, epsabs=1e-15, epsrel=1e-13)[0]
        assert abs(bvn_cdf(h, k, r) - ref) < 1e-13


def test_bvn_cdf_singular_limits_and_infinite_arguments_are_exact():
    h = np.array([0.3, 0.3, 0.3, 0.3, np.inf, -np.inf, 1.0])
    k = np.array([0.2, -0.2, 0.2, -0.4, 0.5, 0.5, np.inf])
    r = np.array([1, 1, -1, -1, 0.5, 0.5, 0.99])
    phi = special.ndtr
    expect = [phi(0.2), phi(-0.2), phi(0.3) + phi(0.2) - 1, 0.0, phi(0.5), 0.0, phi(1.0)]
    assert_allclose(bvn_cdf(h, k, r), expect, rtol=0, atol=1e-15)


def test_cdf_matches_scipy_multivariate_normal_within_its_tolerance():
    rng = np.random.default_rng(3)
    u = rng.uniform(0.01, 0.99, (20, 2))
    for rho in (-0.7, 0.3, 0.95):
        mvn = stats.multivariate_normal(cov=[[1, rho], [rho, 1]], abseps=1e-8, releps=1e-8)
        ref = mvn.cdf(special.ndtri(u), rng=0)
        assert_allclose(GaussianCopula(rho).cdf(u), ref, rtol=0, atol=1e-7)


def test_cdf_pdf_logpdf_match_statsmodels():
    from statsmodels.distributions.copula.api import GaussianCopula as SMGaussian

    rng = np.random.default_rng(4)
    u = rng.uniform(0.001, 0.999, (200, 2))
    for rho in (-0.9, -0.2, 0.5, 0.97):
        ours, sm = GaussianCopula(rho), SMGaussian(corr=rho)
        assert_allclose(ours.logpdf(u), sm.logpdf(u), rtol=1e-12, atol=1e-12)
        assert_allclose(ours.pdf(u), sm.pdf(u), rtol=1e-12)
        assert_allclose(ours.cdf(u), sm.cdf(u), rtol=0, atol=1e-10)


@pytest.mark.parametrize("rho", [-0.95, -0.3, 0.0, 0.6, 0.99])
def test_all_functions_match_pyvinecopulib(rho):
    pv = pytest.importorskip("pyvinecopulib")
    rng = np.random.default_rng(5)
    u = rng.uniform(0.001, 0.999, (500, 2))
    ref = pv.Bicop(family=pv.BicopFamily.gaussian, parameters=np.array([[rho]]))
    ours = GaussianCopula(rho)
    assert_allclose(ours.cdf(u), ref.cdf(u), rtol=0, atol=1e-10)
    assert_allclose(ours.pdf(u), ref.pdf(u), rtol=1e-9)
    for name in ("hfunc1", "hfunc2", "hinv1", "hinv2"):
        assert_allclose(getattr(ours, name)(u), getattr(ref, name)(u), rtol=0, atol=1e-9)


def test_logpdf_is_finite_far_in_the_tail_where_statsmodels_underflows():
    # log c at rho=-0.99, u=(0.0039, 0.00195); the same value from scipy's bivariate normal
    # log density minus the two normal marginal log densities.
    rho, u = -0.99, np.array([0.0039, 0.00195])
    x = special.ndtri(u)
    ref = (stats.multivariate_normal(cov=[[1, rho], [rho, 1]]).logpdf(x)
           - stats.norm.logpdf(x).sum())
    value = GaussianCopula(rho).logpdf(u)
    assert np.isfinite(value)
    assert_allclose(value, ref, rtol=1e-12)
    assert_allclose(value, -759.5032, atol=1e-4)


def test_edges_and_corners_give_exact_limits_without_nan():
    cop = GaussianCopula(0.7)
    edges = np.array([[0, 0.3], [0.3, 0], [1, 0.3], [0.3, 1], [0, 0], [1, 1], [0, 1]])
    assert_allclose(cop.cdf(edges), [0, 0, 0.3, 0.3, 0, 1, 0], atol=0)
    assert_allclose(cop.logpdf(np.array([[0, 0], [1, 1], [0, 1], [1, 0], [0, 0.4]])),
                    [np.inf, np.inf, -np.inf, -np.inf, -np.inf])
    assert_allclose(GaussianCopula(-0.7).logpdf([[0, 0], [0, 1]]), [-np.inf, np.inf])
    assert_allclose(GaussianCopula(0.0).logpdf([[0, 0], [0, 0.3]]), [0.0, 0.0])
    assert_allclose(cop.hfunc1([[0, 0.3], [1, 0.3], [0.3, 0], [0.3, 1]]), [1, 0, 0, 1])
    assert_allclose(cop.hinv1([[0.3, 0], [0.3, 1], [0, 0.5], [1, 0.5]]), [0, 1, 0, 1])
    assert_allclose(GaussianCopula(0.0).hfunc1([[0, 0.3]]), [0.3])


def test_hinv1_inverts_hfunc1_to_1e_9():
    rng = np.random.default_rng(6)
    u = rng.uniform(1e-6, 1 - 1e-6, (2000, 2))
    rho = rng.uniform(-0.99, 0.99, 2000)
    cop = GaussianCopula(rho)
    # h1(hinv1(p)) = p everywhere (well conditioned: dp/du2 = c(u1, u2) is bounded here) ...
    v2 = cop.hinv1(u)
    assert_allclose(cop.hfunc1(np.stack([u[:, 0], v2], -1)), u[:, 1], atol=1e-9)
    # ... and hinv1(h1(u2)) = u2 where h1 is not saturated at 0 or 1 in double precision
    # (there du2/dp = 1/c blows up and no inverse can recover u2).
    u = rng.uniform(0.01, 0.99, (2000, 2))
    cop = GaussianCopula(rng.uniform(-0.95, 0.95, 2000))
    p = cop.hfunc1(u)
    ok = (p > 1e-6) & (p < 1 - 1e-6)
    assert ok.mean() > 0.95
    assert_allclose(cop.hinv1(np.stack([u[:, 0], p], -1))[ok], u[ok, 1], atol=1e-9)


def test_tau_from_tau_and_tail_dependence():
    cop = GaussianCopula.from_tau(0.4)
    assert_allclose(cop.rho, np.sin(0.2 * np.pi))
    assert_allclose(cop.tau, 0.4)
    assert cop.lower_tail_dependence == 0 and cop.upper_tail_dependence == 0
    assert_allclose(GaussianCopula.from_tau(np.array([-0.5, 0.5])).tau, [-0.5, 0.5])


def test_invalid_parameters_raise_value_errors_naming_them():
    for bad in (1.0, -1.0, 1.5, np.nan, [0.2, 1.0]):
        with pytest.raises(ValueError, match="^rho"):
            GaussianCopula(bad)
    with pytest.raises(ValueError, match="^tau"):
        GaussianCopula.from_tau(1.0)
    with pytest.raises(ValueError, match="^rotation"):
        GaussianCopula.from_tau(0.3, rotation=90)
    with pytest.raises(ValueError, match="^u"):
        GaussianCopula(0.3).cdf([0.2, 1.2])


@pytest.mark.parametrize("rho", [-0.99, -0.6, 0.1, 0.5, 0.8, 0.95])
def test_cdf_with_the_margins_given_equals_the_generic_bivariate_normal(rho):
    # The copula passes its own u1, u2 as Φ(h), Φ(k) instead of recomputing them: the two
    # differ by the rounding of Φ(Φ⁻¹(u)), a few ulps (measured at most 4.4e-16).
    u = np.random.default_rng(4).random((50_000, 2))
    generic = bvn_cdf(special.ndtri(u[:, 0]), special.ndtri(u[:, 1]), rho)
    np.testing.assert_allclose(GaussianCopula(rho).cdf(u), generic, rtol=0, atol=1e-15)

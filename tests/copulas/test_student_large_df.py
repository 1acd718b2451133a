"""The t copula at large degrees of freedom: no overflow at df >= 1024 (the Gauss–Jacobi rule
of the first quadrature panel is computed by Golub–Welsch with normalised weights, and the panel
is summed in log space), and the values stay right up to the Gaussian limit."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, special, stats

from llmcopula.copulas import GaussianCopula, StudentTCopula
from llmcopula.copulas._bvn import _gauss_jacobi01, bvt_cdf


@pytest.mark.parametrize("beta", [-0.5, 0.0, 0.7, 3.0, 120.0, 900.0])
def test_jacobi_rule_matches_scipy_where_scipy_does_not_overflow(beta):
    x, w = special.roots_jacobi(20, 0.0, beta)
    t, v = _gauss_jacobi01(20, beta)
    assert_allclose(t, (x + 1) / 2, atol=1e-14)
    ref = w / 2.0 ** (beta + 1)
    assert_allclose(v, ref, rtol=1e-9, atol=1e-12 * ref.max())  # tiny weights: absolute


@pytest.mark.parametrize("beta", [0.0, 1023.0, 5000.0, 1e6])
def test_jacobi_rule_integrates_polynomials_exactly_for_any_beta(beta):
    t, v = _gauss_jacobi01(20, beta)
    for j in (0, 1, 7, 39):  # exact up to degree 2n - 1 = 39: ∫ t^beta t^j = 1/(beta + j + 1)
        assert np.sum(v * t**j) == pytest.approx(1.0 / (beta + j + 1.0), rel=1e-10)


def _y_form_reference(h, k, r, nu):
    s2 = (1 - r) * (1 + r) / (nu + 1)
    f = lambda y: stats.t.pdf(y, nu) * special.stdtr(nu + 1, (k - r * y) / np.sqrt((nu + y * y) * s2))  # noqa: E731
    return integrate.quad(f, -np.inf, h, epsabs=1e-15, epsrel=1e-13, limit=1000)[0]


@pytest.mark.parametrize("nu", [100.5, 800.5, 1023.9, 1024.0, 1500.5, 1e4, 1e5])
def test_bivariate_t_cdf_at_large_df_matches_quadrature(nu):
    """Also between 400 and 1e4, where the weight sin(φ)^(ν-1) is a narrow bump at the end of
    the range that the panels placed for the step of the conditional cdf used to miss."""
    rng = np.random.default_rng(int(nu))
    for _ in range(6):
        h, k = -abs(rng.normal(scale=2)), rng.normal(scale=2)
        r = rng.uniform(-0.95, 0.95)
        assert abs(bvt_cdf(h, k, r, nu) - _y_form_reference(h, k, r, nu)) < 1e-9


def test_copula_cdf_is_continuous_across_df_1024_and_tends_to_the_gaussian():
    u = np.random.default_rng(0).uniform(0.02, 0.98, (40, 2))
    below, above = StudentTCopula(0.5, 1023.9).cdf(u), StudentTCopula(0.5, 1024.0).cdf(u)
    assert np.isfinite(above).all()
    assert_allclose(above, below, atol=1e-7)
    gauss = GaussianCopula(0.5).cdf(u)
    gaps = [np.abs(StudentTCopula(0.5, nu).cdf(u) - gauss).max() for nu in (1e3, 1e4, 1e6)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-6  # O(1/df) convergence

"""Family-specific tests of the Frank copula (the generic contract lives in test_contract.py)."""

from decimal import localcontext

import numpy as np
import pytest
import statsmodels.distributions.copula.api as sm_copula
from _archimedean_checks import (
    D,
    check_against_pyvinecopulib,
    check_edges,
    check_hinv_roundtrips,
    check_per_row_parameters,
    pv_bicop,
    tau_by_quadrature,
)
from _reference import CDF_ATOL, PDF_ATOL, R_COPULA, U

from llmcopula.copulas import FrankCopula, IndependenceCopula
from llmcopula.copulas._archimedean import _debye1


def test_pdf_and_cdf_match_r_copula_reference_values():
    ref = R_COPULA["frank"]
    cop = FrankCopula(ref["theta"])
    np.testing.assert_allclose(cop.pdf(U), ref["pdf"], rtol=0, atol=PDF_ATOL)
    np.testing.assert_allclose(cop.cdf(U), ref["cdf"], rtol=0, atol=CDF_ATOL)


@pytest.mark.parametrize("theta", [-10.0, -2.0, 0.5, 6.0, 10.0])
def test_every_function_matches_pyvinecopulib(theta):
    # pyvinecopulib's Frank hinv is numerical (~3e-11); from |theta| ~ 15 its h-functions
    # lose digits near the corner (we checked those points against 60-digit arithmetic), so
    # the oracle is used on |theta| <= 10 only.
    u = np.random.default_rng(int(theta) + 50).random((4000, 2))
    check_against_pyvinecopulib(FrankCopula(theta), pv_bicop("frank", theta), u, atol=1e-10)


def test_cdf_and_pdf_match_statsmodels_for_positive_theta():
    # statsmodels' Frank logpdf is NaN for theta < 0, so only theta > 0 is compared.
    u = np.random.default_rng(0).random((5000, 2))
    ours, ref = FrankCopula(4.0), sm_copula.FrankCopula(theta=4.0)
    np.testing.assert_allclose(ours.cdf(u), ref.cdf(u), rtol=1e-12)
    np.testing.assert_allclose(ours.pdf(u), ref.pdf(u), rtol=1e-11)


def _exact(u1: float, u2: float, theta: float) -> tuple[float, float, float]:
    """(cdf, h1, logpdf) from the textbook formulas with 60-digit decimal arithmetic."""
    u, v, t = D(u1), D(u2), D(theta)
    e = lambda x: x.exp()  # noqa: E731
    g = e(-t) - 1
    core = g + (e(-t * u) - 1) * (e(-t * v) - 1)
    cdf = -(core / g).ln() / t
    h1 = e(-t * u) * (e(-t * v) - 1) / core
    logc = (-t * g * e(-t * (u + v)) / core**2).ln()
    return float(cdf), float(h1), float(logc)


@pytest.mark.parametrize("u1,u2,theta", [(0.97, 0.98, 35.0), (0.9, 0.95, 50.0),
                                         (0.3, 0.7, 1e-9), (1e-8, 0.999, -50.0),
                                         (0.01, 0.99, 40.0), (0.25, 0.98, -1e-7)])
def test_cdf_h1_and_logpdf_are_exact_at_extremes(u1, u2, theta):
    cdf, h1, logc = _exact(u1, u2, theta)
    cop = FrankCopula(theta)
    assert cop.cdf([u1, u2]) == pytest.approx(cdf, rel=1e-13, abs=1e-16)
    assert cop.hfunc1([u1, u2]) == pytest.approx(h1, rel=1e-12, abs=1e-16)
    assert cop.logpdf([u1, u2]) == pytest.approx(logc, rel=1e-12, abs=1e-14)


def test_theta_zero_is_exactly_independence_also_inside_a_parameter_array():
    u = np.random.default_rng(1).random((6, 2))
    thetas = np.array([0.0, -3.0, 0.0, 2.0, 1e-300, -1e-300])
    cop, ind = FrankCopula(thetas), IndependenceCopula()
    for name in ("cdf", "hfunc1", "hinv1"):
        got, want = getattr(cop, name)(u), getattr(ind, name)(u)
        np.testing.assert_array_equal(got[[0, 2]], want[[0, 2]])
        np.testing.assert_allclose(got[[4, 5]], want[[4, 5]], rtol=1e-15)
    assert FrankCopula(0.0).tau == 0.0


@pytest.mark.parametrize("theta", [-50.0, -1e-9, 0.0, 3.0, 50.0])
def test_boundary_values_are_exact_and_never_nan(theta):
    check_edges(FrankCopula(theta))


@pytest.mark.parametrize("theta", [-50.0, -6.0, -1e-6, 1e-9, 0.5, 26.0, 50.0])
def test_hinv1_inverts_hfunc1(theta):
    # statsmodels' inverse is off by 2e-7 at theta = 26.
    check_hinv_roundtrips(FrankCopula(theta), np.random.default_rng(7))


@pytest.mark.parametrize("theta", [-6.0, 3.0])
def test_tau_closed_form_equals_quadrature(theta):
    assert FrankCopula(theta).tau == pytest.approx(tau_by_quadrature(FrankCopula(theta)),
                                                   abs=1e-7)


def _debye1_exact(x: float) -> float:
    """D1(x) = (1/x) ∫_0^x t/(e^t - 1) dt by the series ∑_k e^{-kx}(x/k + 1/k²) for x > 0:
    ∫_0^x = pi²/6 - ∑_k e^{-kx}(x/k + 1/k²), summed in 60-digit decimals."""
    xd = D(x)
    pi2_6 = D("1.6449340668482264364724151666460251892189499012067984377355582293700074704032")
    tail = sum((-k * xd).exp() * (xd / k + D(1) / (k * k)) for k in range(1, 4000))
    return float((pi2_6 - tail) / xd)


def test_debye_function_follows_its_taylor_series_near_zero():
    # D1(x) = 1 - x/4 + x^2/36 - x^4/3600 + ... (Abramowitz & Stegun 27.1.1)
    for x in (1e-6, -1e-4, 1e-2):
        assert _debye1(x) == pytest.approx(1 - x / 4 + x**2 / 36 - x**4 / 3600, rel=1e-16)
    assert _debye1(0.0) == 1.0


@pytest.mark.parametrize("x", [0.3, 1.999, 2.001, 7.0, 40.0])
def test_debye_function_is_accurate_on_both_sides_of_the_series_switch(x):
    assert _debye1(x) == pytest.approx(_debye1_exact(x), rel=2e-15)
    # D1(-x) = D1(x) + x/2
    assert _debye1(-x) == pytest.approx(_debye1_exact(x) + x / 2, rel=2e-15)


@pytest.mark.parametrize("tau", [-0.9, -0.5135, -1e-8, 1e-12, 0.3, 0.95])
def test_from_tau_inverts_tau_to_1e_12(tau):
    # statsmodels' inversion is off by 2.3e-4 in theta at theta = -6.
    cop = FrankCopula.from_tau(tau)
    assert cop.tau == pytest.approx(tau, rel=1e-12, abs=1e-15)
    assert np.sign(cop.theta) == np.sign(tau)


def test_from_tau_of_zero_is_independence_and_rotation_other_than_zero_is_refused():
    assert FrankCopula.from_tau(0.0).theta == 0.0
    with pytest.raises(ValueError, match="^rotation"):
        FrankCopula.from_tau(0.3, rotation=90)
    with pytest.raises(ValueError, match="^rotation"):
        FrankCopula(2.0, rotation=180)


def test_tail_dependence_is_zero():
    cop = FrankCopula(20.0)
    assert cop.lower_tail_dependence == 0.0 and cop.upper_tail_dependence == 0.0


def test_per_row_parameters_with_mixed_signs_equal_a_loop_over_scalar_copulas():
    thetas = np.array([-45.0, -3.0, -1e-8, 0.0, 1e-8, 0.7, 12.0, 45.0])
    check_per_row_parameters(FrankCopula, thetas, np.random.default_rng(3))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, [1.0, np.nan]])
def test_invalid_theta_raises_value_error_naming_theta(bad):
    with pytest.raises(ValueError, match="^theta"):
        FrankCopula(bad)


def test_statsmodels_is_not_needed_for_the_negative_theta_density():
    # Frank with -theta is the 90-degree rotation of theta: c_{-theta}(u, v) = c_theta(1-u, v).
    u = np.random.default_rng(4).random((1000, 2))
    np.testing.assert_allclose(FrankCopula(-4.0).logpdf(u),
                               FrankCopula(4.0).logpdf(np.c_[1 - u[:, 0], u[:, 1]]), atol=1e-13)


def _hinv1_exact(theta: float, u1: float, p: float) -> float:
    """u2 = [log(1 - p + p e^θu1) - log(1 - p + p e^-θ(1-u1))] / θ in 400-digit decimals
    (p down to 1e-300 must survive 1 - p + p e^x)."""
    with localcontext() as ctx:
        ctx.prec = 400
        t, a, q = D(theta), D(u1), D(p)
        num = (1 - q + q * (t * a).exp()).ln()
        den = (1 - q + q * (-t * (1 - a)).exp()).ln()
        return float((num - den) / t)


@pytest.mark.parametrize("theta", [-800.0, -6.0, 1e-8, 0.7, 5.7, 60.0, 700.0, 5000.0])
def test_hinv1_matches_the_closed_form_in_high_precision(theta):
    # The fast path (a ratio of non-negative sums inside log1p) and, for theta beyond ~644,
    # the log-space fallback where e^-theta underflows; relative accuracy down to tiny p.
    rng = np.random.default_rng(11)
    u1 = np.concatenate([rng.random(40), [0.0, 1.0, 0.5, 0.5, 1e-9, 1 - 1e-9]])
    p = np.concatenate([rng.random(20), 10.0 ** rng.uniform(-300, -1, 20),
                        [0.3, 0.3, 1e-200, 1 - 1e-12, 0.5, 0.5]])
    got = FrankCopula(theta).hinv1(np.column_stack([u1, p]))
    want = np.array([_hinv1_exact(abs(theta), a, q) if theta > 0
                     else 1.0 - _hinv1_exact(-theta, a, 1.0 - q) for a, q in zip(u1, p)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300 if theta > 0 else 1e-15)

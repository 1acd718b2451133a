"""Family-specific tests of the Gumbel copula (the generic contract lives in test_contract.py)."""

import numpy as np
import pytest
import statsmodels.distributions.copula.api as sm_copula
from _archimedean_checks import (
    D,
    check_edges,
    check_hinv_roundtrips,
    check_per_row_parameters,
    pv_bicop,
    tau_by_quadrature,
)
from _reference import CDF_ATOL, PDF_ATOL, R_COPULA, U

from llmcopula.copulas import GumbelCopula, IndependenceCopula

ROTATIONS = (0, 90, 180, 270)


def test_pdf_and_cdf_match_r_copula_reference_values():
    ref = R_COPULA["gumbel"]
    cop = GumbelCopula(ref["theta"])
    np.testing.assert_allclose(cop.pdf(U), ref["pdf"], rtol=0, atol=PDF_ATOL)
    np.testing.assert_allclose(cop.cdf(U), ref["cdf"], rtol=0, atol=CDF_ATOL)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("theta", [1.0, 1.001, 2.0, 8.0, 40.0])
def test_closed_forms_match_pyvinecopulib(theta, rotation):
    # cdf/h/logpdf agree to ~1e-13; pyvinecopulib's Gumbel hinv is numerical and carries up to
    # ~2e-8 (checked against our round trips, which hold to 1e-12/c), so hinv gets 5e-8.
    u = np.random.default_rng(int(theta * 10) + rotation).random((4000, 2))
    cop, ref = GumbelCopula(theta, rotation=rotation), pv_bicop("gumbel", theta, rotation)
    for name in ("cdf", "hfunc1", "hfunc2"):
        np.testing.assert_allclose(getattr(cop, name)(u), getattr(ref, name)(u), atol=1e-11)
    for name in ("hinv1", "hinv2"):
        np.testing.assert_allclose(getattr(cop, name)(u), getattr(ref, name)(u), atol=5e-8)
    np.testing.assert_allclose(cop.logpdf(u), np.log(ref.pdf(u)), atol=1e-10)


def test_cdf_and_logpdf_match_statsmodels():
    u = np.random.default_rng(0).random((5000, 2))
    ours, ref = GumbelCopula(2.5), sm_copula.GumbelCopula(theta=2.5)
    np.testing.assert_allclose(ours.cdf(u), ref.cdf(u), rtol=1e-13)
    np.testing.assert_allclose(ours.logpdf(u), ref.logpdf(u), rtol=1e-11, atol=1e-12)


def _logpdf_exact(u1: float, u2: float, theta: float) -> float:
    """log c from the textbook density with 60-digit decimal arithmetic."""
    a, b, t = -D(u1).ln(), -D(u2).ln(), D(theta)
    s = a ** t + b ** t
    big_a = s ** (1 / t)
    return float(-big_a - D(u1).ln() - D(u2).ln() + (t - 1) * (a * b).ln()
                 + (2 / t - 2) * s.ln() + (1 + (t - 1) / big_a).ln())


@pytest.mark.parametrize("u1,u2,theta", [(0.5, 1e-6, 30.0), (1e-300, 0.5, 2.0),
                                         (1 - 1e-12, 1 - 1e-12, 50.0), (0.2, 0.9, 1.0),
                                         (1e-10, 1e-9, 1.3)])
def test_logpdf_is_finite_and_exact_at_extremes(u1, u2, theta):
    got = GumbelCopula(theta).logpdf([u1, u2])
    assert np.isfinite(got)
    assert got == pytest.approx(_logpdf_exact(u1, u2, theta), rel=1e-12, abs=1e-12)


def test_theta_one_is_exactly_independence():
    u = np.random.default_rng(1).random((1000, 2))
    cop, ind = GumbelCopula(1.0), IndependenceCopula()
    for name in ("cdf", "hfunc1", "hinv1", "hinv2"):
        np.testing.assert_allclose(getattr(cop, name)(u), getattr(ind, name)(u), rtol=1e-14)
    np.testing.assert_allclose(cop.logpdf(u), 0.0, atol=1e-14)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("theta", [1.0, 3.0, 50.0])
def test_boundary_values_are_exact_and_never_nan(theta, rotation):
    check_edges(GumbelCopula(theta, rotation=rotation))


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("theta", [1.0, 1.0001, 1.5, 5.0, 50.0])
def test_hinv1_inverts_hfunc1(theta, rotation):
    check_hinv_roundtrips(GumbelCopula(theta, rotation=rotation), np.random.default_rng(7))


@pytest.mark.parametrize("theta", [1.5, 4.0])
def test_tau_closed_form_equals_quadrature(theta):
    assert GumbelCopula(theta).tau == pytest.approx(tau_by_quadrature(GumbelCopula(theta)),
                                                    abs=1e-7)


@pytest.mark.parametrize("theta", [1.5, 3.0, 10.0])
def test_upper_tail_dependence_is_the_limit_of_survival_ratio(theta):
    cop = GumbelCopula(theta)
    # P(U1 > 1-q, U2 > 1-q)/q = (2q - 1 + C(1-q, 1-q))/q -> 2 - 2^(1/theta), error O(q).
    q = 1e-6
    ratio = (2 * q - 1 + cop.cdf([1 - q, 1 - q])) / q
    assert ratio == pytest.approx(cop.upper_tail_dependence, abs=1e-5)
    assert cop.lower_tail_dependence == 0.0
    assert GumbelCopula(1.0).upper_tail_dependence == 0.0


@pytest.mark.parametrize("tau", [-0.9, -0.3, 0.0, 0.4, 0.98])
def test_from_tau_round_trips_and_picks_rotation_by_sign(tau):
    cop = GumbelCopula.from_tau(tau)
    assert cop.tau == pytest.approx(tau, abs=1e-14)
    assert cop.rotation == (90 if tau < 0 else 0)


def test_from_tau_rejects_a_rotation_of_the_wrong_sign():
    with pytest.raises(ValueError, match="^tau"):
        GumbelCopula.from_tau(-0.3, rotation=180)


@pytest.mark.parametrize("rotation", [0, 270])
def test_per_row_parameters_equal_a_loop_over_scalar_copulas(rotation):
    thetas = np.array([1.0, 1.2, 3.0, 12.0, 49.0])
    check_per_row_parameters(GumbelCopula, thetas, np.random.default_rng(3), rotation)


@pytest.mark.parametrize("bad", [0.999, -1.0, np.nan, np.inf, [2.0, 0.5]])
def test_invalid_theta_raises_value_error_naming_theta(bad):
    with pytest.raises(ValueError, match="^theta"):
        GumbelCopula(bad)

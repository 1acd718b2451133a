"""Family-specific tests of the Clayton copula (the generic contract lives in test_contract.py)."""

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

from llmcopula.copulas import ClaytonCopula

ROTATIONS = (0, 90, 180, 270)


def test_pdf_and_cdf_match_r_copula_reference_values():
    ref = R_COPULA["clayton"]
    cop = ClaytonCopula(ref["theta"])
    np.testing.assert_allclose(cop.pdf(U), ref["pdf"], rtol=0, atol=PDF_ATOL)
    np.testing.assert_allclose(cop.cdf(U), ref["cdf"], rtol=0, atol=CDF_ATOL)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("theta", [1e-3, 0.7, 4.0, 27.0])
def test_every_function_matches_pyvinecopulib(theta, rotation):
    # pyvinecopulib's closed forms agree with ours to ~1e-14; its hinv carries ~1e-12 at
    # theta = 27, hence 1e-11 (its Clayton parameter is capped at 28).
    u = np.random.default_rng(int(theta * 100) + rotation).random((4000, 2))
    check_against_pyvinecopulib(ClaytonCopula(theta, rotation=rotation),
                                pv_bicop("clayton", theta, rotation), u, atol=1e-11)


def test_cdf_and_logpdf_match_statsmodels_where_it_is_finite():
    u = np.random.default_rng(0).random((5000, 2))
    ours, ref = ClaytonCopula(2.5), sm_copula.ClaytonCopula(theta=2.5)
    np.testing.assert_allclose(ours.cdf(u), ref.cdf(u), rtol=1e-13)
    np.testing.assert_allclose(ours.logpdf(u), ref.logpdf(u), rtol=1e-12, atol=1e-13)


def _logpdf_exact(u1: float, u2: float, theta: float) -> float:
    """log c with 60-digit decimal arithmetic."""
    a, b, t = D(u1), D(u2), D(theta)
    s = a ** -t + b ** -t - 1
    return float((1 + t).ln() - (1 + t) * (a * b).ln() - (2 + 1 / t) * s.ln())


@pytest.mark.parametrize("u1,u2,theta", [(0.5, 1e-6, 27.0), (1e-12, 1e-12, 50.0),
                                         (1e-9, 0.9, 50.0), (0.3, 0.7, 1e-4)])
def test_logpdf_is_finite_and_exact_where_pdf_underflows(u1, u2, theta):
    # statsmodels returns -inf at (0.5, 1e-6), theta = 27; the exact value is about -350.
    got = ClaytonCopula(theta).logpdf([u1, u2])
    assert np.isfinite(got)
    assert got == pytest.approx(_logpdf_exact(u1, u2, theta), rel=1e-13, abs=1e-13)


def test_cdf_stays_accurate_when_u_to_the_minus_theta_overflows():
    # u1^-50 overflows for u1 = 1e-7; the copula is then essentially min(u1, u2) = 1e-7.
    a, b, t = D(1e-7), D(0.5), D(50.0)
    exact = float((a ** -t + b ** -t - 1) ** (-1 / t))
    assert ClaytonCopula(50.0).cdf([1e-7, 0.5]) == pytest.approx(exact, rel=1e-14)


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("theta", [1e-4, 3.0, 50.0])
def test_boundary_values_are_exact_and_never_nan(theta, rotation):
    check_edges(ClaytonCopula(theta, rotation=rotation))


@pytest.mark.parametrize("rotation", ROTATIONS)
@pytest.mark.parametrize("theta", [1e-4, 0.5, 5.0, 50.0])
def test_hinv1_inverts_hfunc1(theta, rotation):
    check_hinv_roundtrips(ClaytonCopula(theta, rotation=rotation), np.random.default_rng(7))


@pytest.mark.parametrize("theta", [0.5, 3.0])
def test_tau_closed_form_equals_quadrature(theta):
    assert ClaytonCopula(theta).tau == pytest.approx(tau_by_quadrature(ClaytonCopula(theta)),
                                                     abs=1e-7)


@pytest.mark.parametrize("theta", [0.5, 2.0, 8.0])
def test_lower_tail_dependence_is_the_limit_of_c_q_q_over_q(theta):
    cop = ClaytonCopula(theta)
    # C(q, q)/q = (2 - q^theta)^(-1/theta) = 2^(-1/theta) (1 + q^theta/(2 theta) + ...)
    q = 1e-12
    assert cop.cdf([q, q]) / q == pytest.approx(cop.lower_tail_dependence,
                                                rel=q**theta / theta)
    assert cop.upper_tail_dependence == 0.0
    assert ClaytonCopula(theta, rotation=180).upper_tail_dependence == cop.lower_tail_dependence


@pytest.mark.parametrize("tau", [-0.8, -0.2, 0.1, 0.5, 0.95])
def test_from_tau_round_trips_and_picks_rotation_by_sign(tau):
    cop = ClaytonCopula.from_tau(tau)
    assert cop.tau == pytest.approx(tau, abs=1e-14)
    assert cop.rotation == (90 if tau < 0 else 0)
    assert ClaytonCopula.from_tau(tau, rotation=270 if tau < 0 else 180).tau == pytest.approx(tau)


def test_from_tau_rejects_a_rotation_of_the_wrong_sign_and_tau_zero():
    with pytest.raises(ValueError, match="^tau"):
        ClaytonCopula.from_tau(0.3, rotation=90)
    with pytest.raises(ValueError, match="^tau"):
        ClaytonCopula.from_tau(0.0)
    with pytest.raises(ValueError, match="^tau"):
        ClaytonCopula.from_tau(1.0)


@pytest.mark.parametrize("rotation", [0, 90])
def test_per_row_parameters_equal_a_loop_over_scalar_copulas(rotation):
    thetas = np.array([1e-4, 0.3, 1.0, 7.0, 45.0])
    check_per_row_parameters(ClaytonCopula, thetas, np.random.default_rng(3), rotation)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, [1.0, -2.0]])
def test_invalid_theta_raises_value_error_naming_theta(bad):
    with pytest.raises(ValueError, match="^theta"):
        ClaytonCopula(bad)

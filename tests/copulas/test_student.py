"""Tests of the bivariate Student t copula and of the bivariate t distribution function."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, special, stats

from llmcopula.copulas import StudentTCopula
from llmcopula.copulas._bvn import bvt_cdf

# statsmodels' ten test points (the same as in test_gaussian.py).
U_R = np.array([
    [0.33706249, 0.6075078], [0.62232507, 0.06241089], [0.2001457, 0.54027684],
    [0.77166391, 0.40610225], [0.98534253, 0.99212789], [0.72755898, 0.25913165],
    [0.05943888, 0.61044613], [0.0962475, 0.67585563], [0.35496733, 0.79584436],
    [0.44513594, 0.23050014],
])

# R `copula` 1.0-0, tCopula(0.8, df = 2), at statsmodels' ten test points
# (statsmodels/distributions/copula/tests/test_copula.py, TestStudentTCopula, and
# copula_r_tests.rst). The pdf was printed with 7 decimals, the cdf with 8.
R_PDF = [0.8303065, 0.1359839, 0.5157746, 0.4776421, 26.2173959, 0.3070661, 0.1349173,
         0.1597064, 0.3303230, 1.0482301]
R_CDF = [0.31140349, 0.05942746, 0.18548601, 0.39143974, 0.98347259, 0.24894028,
         0.05653947, 0.09210693, 0.34447385, 0.20429882]


def _angle_form_reference(h, k, r, nu):
    """P(X <= h, Y <= k) by adaptive quadrature (QUADPACK's algebraic-weight rule) of the
    h-function over φ, with X = -√ν cot φ, for h <= 0."""
    snu, kap = np.sqrt(nu), np.sqrt((nu + 1) / ((1 - r) * (1 + r)))
    lc = special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2) - 0.5 * np.log(np.pi)

    def g(p):
        ratio = np.sin(p) / p if p > 0 else 1.0
        return np.exp(lc + (nu - 1) * np.log(ratio)) * special.stdtr(
            nu + 1, kap * (k * np.sin(p) / snu + r * np.cos(p)))

    return integrate.quad(g, 0, np.arctan2(snu, -h), weight="alg", wvar=(nu - 1, 0),
                          epsabs=1e-15, epsrel=1e-13, limit=500)[0]


def _y_form_reference(h, k, r, nu):
    """The same probability by quadrature over the first variable itself."""
    s2 = (1 - r) * (1 + r) / (nu + 1)
    f = lambda y: stats.t.pdf(y, nu) * special.stdtr(nu + 1, (k - r * y) / np.sqrt((nu + y * y) * s2))  # noqa: E731
    return integrate.quad(f, -np.inf, h, epsabs=1e-15, epsrel=1e-13, limit=1000)[0]


def test_cdf_and_pdf_match_r_copula_reference_values():
    cop = StudentTCopula(0.8, 2)
    assert_allclose(cop.cdf(U_R), R_CDF, rtol=0, atol=1e-8)
    assert_allclose(cop.pdf(U_R), R_PDF, rtol=0, atol=6e-8)


def test_dunnett_sobel_cdf_for_integer_df_matches_quadrature_to_1e_13():
    rng = np.random.default_rng(0)
    for _ in range(25):
        nu = int(rng.choice([1, 2, 3, 4, 5, 8, 15, 30]))
        h, k = rng.normal(scale=2, size=2)
        h = -abs(h)
        r = rng.uniform(-0.98, 0.98)
        assert abs(bvt_cdf(h, k, r, nu) - _y_form_reference(h, k, r, nu)) < 1e-12


def test_quadrature_cdf_for_real_df_matches_adaptive_quadrature_to_1e_8():
    rng = np.random.default_rng(1)
    for _ in range(60):
        nu = rng.uniform(0.7, 40)
        h, k = rng.standard_t(3, size=2) * 2
        r = rng.choice([rng.uniform(-0.95, 0.95), rng.choice([-1, 1]) * (1 - 10 ** rng.uniform(-4, -1.3))])
        ref = (_angle_form_reference(h, k, r, nu) if h <= 0
               else special.stdtr(nu, k) - _angle_form_reference(-h, k, -r, nu))
        assert abs(bvt_cdf(h, k, r, nu) - ref) < 1e-8


def test_cdf_is_continuous_in_df_across_the_integer_and_real_methods():
    u = np.random.default_rng(2).uniform(0.01, 0.99, (50, 2))
    for nu in (3.0, 6.0):
        a = StudentTCopula(0.6, nu).cdf(u)
        b = StudentTCopula(0.6, nu + 1e-9).cdf(u)
        assert_allclose(a, b, atol=1e-8)


def test_cdf_matches_scipy_multivariate_t_within_its_tolerance():
    rng = np.random.default_rng(3)
    u = rng.uniform(0.05, 0.95, (6, 2))
    for rho, nu in ((0.5, 3.5), (-0.7, 7.0)):
        x = special.stdtrit(nu, u)
        ref = stats.multivariate_t(shape=[[1, rho], [rho, 1]], df=nu).cdf(x, maxpts=10**6, random_state=0)
        assert_allclose(StudentTCopula(rho, nu).cdf(u), ref, atol=2e-4)


@pytest.mark.parametrize("rho, nu", [(-0.9, 3.0), (0.3, 5.0), (0.8, 2.0), (0.95, 12.0)])
def test_functions_match_pyvinecopulib(rho, nu):
    pv = pytest.importorskip("pyvinecopulib")
    rng = np.random.default_rng(4)
    u = rng.uniform(0.001, 0.999, (400, 2))
    ref = pv.Bicop(family=pv.BicopFamily.student, parameters=np.array([[rho], [nu]]))
    ours = StudentTCopula(rho, nu)
    assert_allclose(ours.cdf(u), ref.cdf(u), rtol=0, atol=1e-9)
    assert_allclose(ours.pdf(u), ref.pdf(u), rtol=1e-8)
    for name in ("hfunc1", "hfunc2", "hinv1", "hinv2"):
        assert_allclose(getattr(ours, name)(u), getattr(ref, name)(u), rtol=0, atol=1e-8)


def test_logpdf_matches_statsmodels():
    from statsmodels.distributions.copula.api import StudentTCopula as SMStudent

    u = np.random.default_rng(5).uniform(0.001, 0.999, (200, 2))
    for rho, nu in ((-0.5, 3.0), (0.9, 7.5)):
        assert_allclose(StudentTCopula(rho, nu).logpdf(u), SMStudent(corr=rho, df=nu).logpdf(u),
                        rtol=1e-10, atol=1e-10)


def test_edges_give_exact_limits_and_no_nan():
    cop = StudentTCopula(0.7, 4.0)
    assert_allclose(cop.cdf([[0, 0.3], [1, 0.3], [0.3, 1], [0, 0]]), [0, 0.3, 0.3, 0], atol=0)
    lp = cop.logpdf([[0, 0], [1, 1], [0, 1], [0, 0.5]])
    assert_allclose(lp, [np.inf, np.inf, np.inf, -np.inf])
    lam = cop.lower_tail_dependence
    kap = np.sqrt(5 / (1 - 0.49))
    assert_allclose(cop.hfunc1([[0, 0.3], [1, 0.3]]),
                    [special.stdtr(5, 0.7 * kap), special.stdtr(5, -0.7 * kap)])
    assert not np.isnan(cop.hinv1([[0, 0.3], [1, 0.3], [0.4, 0], [0.4, 1]])).any()
    assert 0 < lam < 1


def test_hinv1_inverts_hfunc1_to_1e_9():
    rng = np.random.default_rng(6)
    u = rng.uniform(1e-6, 1 - 1e-6, (2000, 2))
    cop = StudentTCopula(rng.uniform(-0.99, 0.99, 2000), rng.uniform(1, 60, 2000))
    v2 = cop.hinv1(u)
    assert_allclose(cop.hfunc1(np.stack([u[:, 0], v2], -1)), u[:, 1], atol=1e-9)


def test_tau_and_tail_dependence_formulas():
    cop = StudentTCopula.from_tau(0.5, df=4)
    assert_allclose(cop.tau, 0.5)
    rho = np.sin(np.pi / 4)
    lam = 2 * stats.t.cdf(-np.sqrt(5 * (1 - rho) / (1 + rho)), 5)
    assert_allclose([cop.lower_tail_dependence, cop.upper_tail_dependence], [lam, lam])


def test_invalid_parameters_raise_value_errors_naming_them():
    for bad in (1.0, np.nan, -2.0):
        with pytest.raises(ValueError, match="^rho"):
            StudentTCopula(bad, 3)
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="^df"):
            StudentTCopula(0.3, bad)
    with pytest.raises(TypeError):
        StudentTCopula.from_tau(0.3)  # df is a required keyword
    cop = StudentTCopula(0.3, 3)
    with pytest.raises(AttributeError):
        cop.df = 4


@pytest.mark.parametrize("df", [2.0, 4.0, 30.0])
def test_hinv_inverts_hfunc_when_the_conditioning_value_is_extreme(df):
    """At u1 = 1e-300 the conditioning score is about -1e150 (clipped at 1e100), so the
    inverse cancels rho·x1 against sigma·q in floating point; it used to round to exactly 1,
    where h1 is 1 by definition. The result must stay a point where h1 equals p."""
    cop = StudentTCopula(0.735, df=df)
    u = np.array([[1e-300, 0.5], [1.0 - 1e-16, 0.5], [1e-300, 1e-3]])
    p = cop.hfunc1(u)
    back = cop.hinv1(np.stack([u[:, 0], p], axis=-1))
    assert np.all((back > 0) & (back < 1))
    np.testing.assert_allclose(cop.hfunc1(np.stack([u[:, 0], back], axis=-1)), p, atol=1e-12)


@pytest.mark.parametrize("df", [3.0, 4.0, 2.5])
def test_bvt_cdf_with_scalar_parameters_equals_the_broadcast_path(df):
    # One rho and one df take a blocked fast path; per-point parameter arrays the general one.
    # More points than one block, so that the block boundaries are crossed.
    n = 40_000 if df != 2.5 else 2_000
    rng = np.random.default_rng(5)
    h, k = rng.standard_t(df, size=(2, n)) * 2.0
    fast = bvt_cdf(h, k, -0.6, df)
    general = bvt_cdf(h, k, np.full(n, -0.6), np.full(n, df))
    np.testing.assert_array_equal(fast, general)

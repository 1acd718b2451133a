"""The forward recursion against closed forms, quadrature, finite differences and itself."""

import numpy as np
import pytest
from scipy import integrate, special

from llmcopula.cascade.recursion import StageFunctions, cascade_recursion
from llmcopula.copulas import (
    ClaytonCopula,
    FrankCopula,
    GaussianCopula,
    GumbelCopula,
    IndependenceCopula,
)


def beta_stage(a: float, b: float) -> StageFunctions:
    """Φ ~ Beta(a, b): K(u) = E[Φ 1{Φ > F⁻¹(u)}] in closed form."""

    def quantile(u):
        return special.betaincinv(a, b, np.clip(u, 0, 1))

    def upper_mean(u):
        x = quantile(u)
        return a / (a + b) * (1.0 - special.betainc(a + 1, b, x))

    return StageFunctions(upper_mean=upper_mean, quantile=quantile)


STAGES = [beta_stage(2, 2), beta_stage(3, 1.5), beta_stage(4, 1.2), beta_stage(5, 1), beta_stage(6, 1)]
COPULAS = [GumbelCopula(2.0), ClaytonCopula(1.5, rotation=180), GaussianCopula(0.6),
           FrankCopula(4.0)]


@pytest.mark.parametrize("k", [2, 3, 4, 5])
def test_independence_reduces_to_products(k):
    """With independence copulas every joint probability factorises."""
    rng = np.random.default_rng(k)
    s = rng.uniform(0.05, 0.95, size=(7, k - 1))
    stop, corr, _, _ = cascade_recursion(s, [IndependenceCopula()] * (k - 1), STAGES[:k])
    reach = np.concatenate([np.ones((7, 1)), np.cumprod(s, axis=1)], axis=1)
    s_ext = np.concatenate([s, np.zeros((7, 1))], axis=1)
    np.testing.assert_allclose(stop, reach * (1 - s_ext), atol=1e-13)
    expected = np.column_stack(
        [reach[:, j] * STAGES[j].upper_mean(s_ext[:, j]) for j in range(k)])
    np.testing.assert_allclose(corr, expected, atol=1e-13)


@pytest.mark.parametrize("approximation", ["exact", "event-markov"])
def test_stop_probabilities_are_a_distribution(approximation):
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 1, size=(50, 4))
    s[:5] = 0.0
    s[5:10] = 1.0
    stop, corr, _, _ = cascade_recursion(s, COPULAS, STAGES, approximation=approximation)
    assert np.all(stop >= -1e-14) and np.all(stop <= 1 + 1e-14)
    np.testing.assert_allclose(stop.sum(axis=1), 1.0, atol=1e-12)
    # the expected correctness of a stage never exceeds its stop probability
    assert np.all(corr <= stop + 1e-12) and np.all(corr >= -1e-14)
    # thresholds of 0 never defer: stage 1 answers everything
    np.testing.assert_allclose(stop[:5, 0], 1.0)
    np.testing.assert_allclose(stop[5:10, -1], 1.0, atol=1e-12)


def test_deep_stages_match_adaptive_quadrature():
    """Independent check of the third transition: under the Markov chain
    P(U1<=s1, U2<=s2, U3<=s3) = ∫_0^{s2} h2_12(s1, v) h1_23(v, s3) dv (scipy.quad), and
    E[Φ3 1{U1<=s1, U2<=s2}] = ∫_0^1 [∫_0^{s2} h2_12(s1, v) c23(v, w) dv] F3⁻¹(w) dw."""
    c12, c23, c34 = GumbelCopula(2.5), ClaytonCopula(2.0), GaussianCopula(0.5)
    s1, s2, s3 = 0.7, 0.6, 0.8
    stop4, _, _, _ = cascade_recursion(np.array([[s1, s2, s3]]), [c12, c23, c34], STAGES[:4])
    reach4, _ = integrate.quad(
        lambda v: float(c12.hfunc2([s1, v]) * c23.hfunc1([v, s3])), 0, s2, epsabs=1e-13)
    assert stop4[0, 3] == pytest.approx(reach4, abs=2e-5)
    stop, corr, _, _ = cascade_recursion(np.array([[s1, s2]]), [c12, c23], STAGES[:3])
    # E[Φ3 1{reach 3}] = ∫_0^1 P(U1<=s1, U2<=s2 | U3=w) F3⁻¹(w) dw, with the inner probability
    # ∫_0^{s2} h2_12(s1, v) c23(v, w) dv
    def inner(w):
        return integrate.quad(lambda v: float(c12.hfunc2([s1, v]) * c23.pdf([v, w])), 0, s2,
                              epsabs=1e-12, limit=200)[0]

    acc3, _ = integrate.quad(lambda w: inner(w) * float(STAGES[2].quantile(np.array(w))), 0, 1,
                             epsabs=1e-10, limit=200)
    assert corr[0, 2] == pytest.approx(acc3, abs=5e-5)


def test_discretisation_converges():
    rng = np.random.default_rng(3)
    s = rng.uniform(0.1, 0.95, size=(20, 4))
    fine = cascade_recursion(s, COPULAS, STAGES, n_cells=256)
    coarse = cascade_recursion(s, COPULAS, STAGES, n_cells=32)
    np.testing.assert_allclose(coarse[0], fine[0], atol=1e-4)
    np.testing.assert_allclose(coarse[1], fine[1], atol=1e-4)


@pytest.mark.parametrize("approximation", ["exact", "event-markov"])
def test_gradient_matches_central_differences(approximation):
    rng = np.random.default_rng(4)
    s = rng.uniform(0.1, 0.9, size=(3, 4))
    stop, corr, dstop, dcorr = cascade_recursion(s, COPULAS, STAGES, with_grad=True,
                                                 approximation=approximation)
    h = 1e-6
    for p in range(4):
        e = np.zeros(4)
        e[p] = h
        up = cascade_recursion(s + e, COPULAS, STAGES, approximation=approximation)
        dn = cascade_recursion(s - e, COPULAS, STAGES, approximation=approximation)
        np.testing.assert_allclose(dstop[:, :, p], (up[0] - dn[0]) / (2 * h), atol=2e-7)
        np.testing.assert_allclose(dcorr[:, :, p], (up[1] - dn[1]) / (2 * h), atol=2e-7)


def test_event_markov_is_the_product_of_pairwise_deferral_probabilities():
    """The paper's chaining: P(reach k) = s1 · Π C_i(s_i, s_{i+1}) / s_i."""
    rng = np.random.default_rng(5)
    s = rng.uniform(0.2, 0.9, size=(6, 4))
    stop, _, _, _ = cascade_recursion(s, COPULAS, STAGES, approximation="event-markov")
    reach = s[:, 0].copy()
    for i, cop in enumerate(COPULAS[:-1]):
        reach *= cop.cdf(np.stack([s[:, i], s[:, i + 1]], -1)) / s[:, i]
    np.testing.assert_allclose(stop[:, -1], reach, rtol=1e-10)


def test_event_markov_and_exact_agree_for_two_stages_only():
    rng = np.random.default_rng(6)
    s2 = rng.uniform(0.2, 0.9, size=(5, 1))
    a = cascade_recursion(s2, COPULAS[:1], STAGES[:2])
    b = cascade_recursion(s2, COPULAS[:1], STAGES[:2], approximation="event-markov")
    np.testing.assert_allclose(a[0], b[0], atol=1e-14)
    np.testing.assert_allclose(a[1], b[1], atol=1e-14)
    s3 = rng.uniform(0.4, 0.9, size=(5, 3))
    cops = [GumbelCopula(3.0)] * 3
    a = cascade_recursion(s3, cops, STAGES[:4])
    b = cascade_recursion(s3, cops, STAGES[:4], approximation="event-markov")
    # deferring twice (reaching stage 3) is still exact in the product ...
    np.testing.assert_allclose(a[0][:, :2], b[0][:, :2], atol=1e-14)
    # ... but under positive dependence it underestimates deferring three times
    assert np.all(b[0][:, 3] <= a[0][:, 3] + 1e-7)
    assert np.mean(a[0][:, 3] - b[0][:, 3]) > 1e-3


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="copulas/stages"):
        cascade_recursion(np.zeros((1, 2)), COPULAS[:1], STAGES[:3])
    with pytest.raises(ValueError, match="approximation"):
        cascade_recursion(np.zeros((1, 1)), COPULAS[:1], STAGES[:2], approximation="nope")

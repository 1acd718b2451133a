"""Bradley-Terry-Davidson MLE with position bias: recovery, brute force, statsmodels oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from scipy.optimize import minimize

from llmcopula.ranking import (
    BradleyTerry,
    davidson_probabilities,
    records_from_matrix,
    simulate_comparisons,
    simulate_logits,
)


def _design(n: int, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    first = rng.integers(0, n, m)
    second = (first + rng.integers(1, n, m)) % n
    return first, second


def _brute_loglik(d: np.ndarray, first, second, y) -> float:
    """Independent Davidson log-likelihood, record by record, in the parametrisation
    (lambda_1 - lambda_0, lambda_2 - lambda_0, b, log nu)."""
    lam = np.r_[0.0, d[0], d[1]]
    b, nu = d[2], np.exp(d[3])
    total = 0.0
    for f, s, o in zip(first, second, y):
        pf, ps = np.exp(lam[f] + b), np.exp(lam[s])
        pt = nu * np.sqrt(pf * ps)
        num = pf if o == 1 else (ps if o == 0 else pt)
        total += np.log(num / (pf + ps + pt))
    return total


def test_mle_matches_brute_force_maximisation_of_an_independent_likelihood_on_a_tiny_case():
    rng = np.random.default_rng(11)
    first, second = _design(3, 40, rng)
    y = simulate_comparisons([0.8, 0.0, -0.8], first, second, position_bias=0.4,
                             tie_param=0.6, rng=rng)
    bt = BradleyTerry(ties="davidson").fit(first, second, y)
    best = None
    for start in rng.normal(size=(4, 4)):  # multi-start Nelder-Mead, no gradients
        r = minimize(lambda d: -_brute_loglik(d, first, second, y), start, method="Nelder-Mead",
                     options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000})
        best = r if best is None or r.fun < best.fun else best
    lam = bt.strengths_
    ours = np.r_[lam[1] - lam[0], lam[2] - lam[0], bt.position_bias_, np.log(bt.tie_param_)]
    np.testing.assert_allclose(ours, best.x, atol=2e-5)
    np.testing.assert_allclose(bt.loglik_, -best.fun, rtol=1e-10)


def test_standard_errors_equal_the_inverse_numerical_hessian_of_the_brute_likelihood():
    rng = np.random.default_rng(12)
    first, second = _design(3, 60, rng)
    y = simulate_comparisons([0.5, 0.0, -0.5], first, second, position_bias=0.3,
                             tie_param=0.5, rng=rng)
    bt = BradleyTerry(ties="davidson").fit(first, second, y)
    lam = bt.strengths_
    x = np.r_[lam[1] - lam[0], lam[2] - lam[0], bt.position_bias_, np.log(bt.tie_param_)]
    h = 1e-4
    H = np.empty((4, 4))
    for a in range(4):
        for c in range(4):
            ea, ec = np.eye(4)[a] * h, np.eye(4)[c] * h
            H[a, c] = -(_brute_loglik(x + ea + ec, first, second, y)
                        - _brute_loglik(x + ea - ec, first, second, y)
                        - _brute_loglik(x - ea + ec, first, second, y)
                        + _brute_loglik(x - ea - ec, first, second, y)) / (4 * h * h)
    brute_cov = np.linalg.inv(H)
    C = bt.covariance_
    var_d1 = C[1, 1] + C[0, 0] - 2 * C[0, 1]
    np.testing.assert_allclose(var_d1, brute_cov[0, 0], rtol=1e-4)
    np.testing.assert_allclose(bt.position_bias_se_ ** 2, brute_cov[2, 2], rtol=1e-4)
    np.testing.assert_allclose(bt.log_tie_param_se_ ** 2, brute_cov[3, 3], rtol=1e-4)


def test_without_ties_the_fit_equals_statsmodels_logistic_regression():
    """No ties: P(first wins) = expit(lambda_f - lambda_s + b), a logistic GLM with columns
    e_f - e_s (item 0 dropped as reference) and an intercept b."""
    rng = np.random.default_rng(3)
    n, m = 5, 600
    first, second = _design(n, m, rng)
    y = simulate_comparisons(np.linspace(-1, 1, n), first, second, position_bias=0.5, rng=rng)
    bt = BradleyTerry().fit(first, second, y)
    X = np.zeros((m, n))
    X[np.arange(m), first] += 1
    X[np.arange(m), second] -= 1
    X = np.column_stack([np.ones(m), X[:, 1:]])
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-12)
    lam_ref = np.r_[0.0, glm.params[1:]]
    np.testing.assert_allclose(bt.strengths_, lam_ref - lam_ref.mean(), atol=1e-7)
    np.testing.assert_allclose(bt.position_bias_, glm.params[0], atol=1e-7)
    np.testing.assert_allclose(bt.position_bias_se_, glm.bse[0], rtol=1e-6)
    C = bt.covariance_
    np.testing.assert_allclose(np.sqrt(C[1, 1] + C[0, 0] - 2 * C[0, 1]), glm.bse[1], rtol=1e-6)
    assert bt.tie_param_ == 0.0 and np.isnan(bt.log_tie_param_se_)
    np.testing.assert_allclose(bt.loglik_, glm.llf, rtol=1e-10)


def test_soft_labels_equal_statsmodels_fractional_logit():
    rng = np.random.default_rng(4)
    n, m = 4, 300
    first, second = _design(n, m, rng)
    y = rng.uniform(size=m) * 0.6 + 0.2 * (first > second)
    bt = BradleyTerry().fit(first, second, y)
    X = np.zeros((m, n))
    X[np.arange(m), first] += 1
    X[np.arange(m), second] -= 1
    X = np.column_stack([np.ones(m), X[:, 1:]])
    glm = sm.GLM(y, X, family=sm.families.Binomial()).fit(tol=1e-12)
    lam_ref = np.r_[0.0, glm.params[1:]]
    np.testing.assert_allclose(bt.strengths_, lam_ref - lam_ref.mean(), atol=1e-7)
    np.testing.assert_allclose(bt.position_bias_, glm.params[0], atol=1e-7)


def test_recovers_known_strengths_bias_and_tie_parameter_within_four_standard_errors():
    """Each estimate is asymptotically normal around the truth with the reported SE; |z| <= 4
    has per-parameter false-alarm probability 6e-5 (family-wise < 1e-3 for these 10 values)."""
    rng = np.random.default_rng(2025)
    n, m = 8, 6000
    lam = rng.normal(size=n)
    lam -= lam.mean()
    b, nu = 0.35, 0.4
    first, second = _design(n, m, rng)
    y = simulate_comparisons(lam, first, second, position_bias=b, tie_param=nu, rng=rng)
    bt = BradleyTerry().fit(first, second, y)
    assert bt.converged_
    assert np.all(np.abs(bt.strengths_ - lam) <= 4 * bt.strengths_se_)
    assert abs(bt.position_bias_ - b) <= 4 * bt.position_bias_se_
    assert abs(np.log(bt.tie_param_) - np.log(nu)) <= 4 * bt.log_tie_param_se_


@pytest.mark.slow
def test_reported_standard_errors_match_the_spread_over_replications():
    """Over 40 replications, the empirical SD of b-hat and of lambda_0-hat matches the mean
    reported SE: the ratio of an SD from 40 draws has relative SE 1/sqrt(78) ~ 0.11, so we
    accept [0.65, 1.35] (about 3.1 of its SEs)."""
    rng = np.random.default_rng(99)
    n, m = 5, 500
    lam = np.linspace(-1, 1, n)
    est, se = [], []
    for _ in range(40):
        first, second = _design(n, m, rng)
        y = simulate_comparisons(lam, first, second, position_bias=0.2, tie_param=0.5, rng=rng)
        bt = BradleyTerry(solver="newton").fit(first, second, y)
        est.append([bt.position_bias_, bt.strengths_[0]])
        se.append([bt.position_bias_se_, bt.strengths_se_[0]])
    ratio = np.std(est, axis=0, ddof=1) / np.mean(se, axis=0)
    assert np.all((ratio > 0.65) & (ratio < 1.35)), ratio


def test_newton_and_trust_exact_solvers_agree():
    rng = np.random.default_rng(5)
    first, second = _design(6, 400, rng)
    y = simulate_comparisons(np.linspace(-1, 1, 6), first, second, position_bias=0.2,
                             tie_param=0.3, rng=rng)
    a = BradleyTerry(solver="trust-exact").fit(first, second, y)
    b = BradleyTerry(solver="newton").fit(first, second, y)
    np.testing.assert_allclose(a.params_vector(), b.params_vector(), atol=1e-8)
    np.testing.assert_allclose(a.covariance_, b.covariance_, atol=1e-8)


def test_predict_proba_matches_davidsons_formula_and_sums_to_one():
    rng = np.random.default_rng(6)
    first, second = _design(4, 200, rng)
    y = simulate_comparisons([1.0, 0.3, -0.2, -1.1], first, second, position_bias=0.2,
                             tie_param=0.5, rng=rng)
    bt = BradleyTerry().fit(first, second, y)
    p = bt.predict_proba([0, 2], [3, 1])
    lam, b, nu = bt.strengths_, bt.position_bias_, bt.tie_param_
    for row, (f, s) in zip(p, [(0, 3), (2, 1)]):
        pf, ps = np.exp(lam[f] + b), np.exp(lam[s])
        pt = nu * np.sqrt(pf * ps)
        np.testing.assert_allclose(row, np.array([pf, pt, ps]) / (pf + ps + pt), rtol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


def test_relabelling_items_permutes_the_strengths():
    rng = np.random.default_rng(7)
    first, second = _design(5, 300, rng)
    y = simulate_comparisons(np.linspace(-1, 1, 5), first, second, tie_param=0.3, rng=rng)
    perm = rng.permutation(5)
    a = BradleyTerry().fit(first, second, y)
    b = BradleyTerry().fit(perm[first], perm[second], y)
    np.testing.assert_allclose(b.strengths_[perm], a.strengths_, atol=1e-8)


def test_sample_weights_equal_repeated_records():
    first, second = np.array([0, 1, 0, 2, 1]), np.array([1, 2, 2, 0, 0])
    y = np.array([1.0, 1.0, 0.5, 0.0, 0.0])
    w = np.array([3, 1, 2, 1, 2])
    a = BradleyTerry().fit(first, second, y, sample_weight=w)
    b = BradleyTerry().fit(np.repeat(first, w), np.repeat(second, w), np.repeat(y, w))
    np.testing.assert_allclose(a.params_vector(), b.params_vector(), atol=1e-8)


def test_tie_and_bias_options():
    first = np.array([0, 1, 0, 1, 2, 2, 1, 2])
    second = np.array([1, 0, 2, 2, 0, 1, 0, 0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.5, 1.0, 1.0])
    assert BradleyTerry().fit(first, second, y).tie_param_ > 0
    no_bias = BradleyTerry(position_bias=False).fit(first, second, y)
    assert no_bias.position_bias_ == 0.0 and np.isnan(no_bias.position_bias_se_)
    with pytest.raises(ValueError, match="outcome: contains ties"):
        BradleyTerry(ties="none").fit(first, second, y)
    hard = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0])
    with pytest.warns(UserWarning, match="no ties"):
        BradleyTerry(ties="davidson", alpha=0.1).fit(first, second, hard)


def test_separated_data_warn_without_a_prior_and_stay_finite_with_one():
    first, second, y = np.array([0, 1, 0]), np.array([1, 0, 2]), np.array([1.0, 0.0, 1.0])
    with pytest.warns(UserWarning, match="diverges"):
        BradleyTerry(position_bias=False).fit(first, second, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bt = BradleyTerry(position_bias=False, alpha=0.5).fit(first, second, y)
    assert np.isfinite(bt.strengths_).all() and np.argmax(bt.strengths_) == 0


def test_records_from_matrix_sign_and_soft():
    M = simulate_logits([1.0, 0.0, -1.0], bias=0.2, noise=0.0)
    f, s, y = records_from_matrix(M, tie_margin=0.5)
    assert len(f) == 6
    assert set(y.tolist()) <= {0.0, 0.5, 1.0}
    _, _, soft = records_from_matrix(M, soft=True)
    np.testing.assert_allclose(soft, 1 / (1 + np.exp(-M[f, s])))


@pytest.mark.parametrize("kwargs, match", [
    ({"first": [0, 1], "second": [1], "outcome": [1, 0]}, "first, second: shapes"),
    ({"first": [0, 1], "second": [1, 1], "outcome": [1, 0]}, "compared with itself"),
    ({"first": [0, 1], "second": [1, 0], "outcome": [1.0, np.nan]}, "outcome: contains"),
    ({"first": [0, 1], "second": [1, 0], "outcome": [1.0, 2.0]}, "outcome: values"),
    ({"first": [0, 1], "second": [1, 0], "outcome": [1.0]}, "outcome: expected shape"),
    ({"first": [0.0, 1.0], "second": [1, 0], "outcome": [1, 0]}, "first: expected integer"),
    ({"first": [], "second": [], "outcome": []}, "first: need at least one"),
])
def test_bad_records_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BradleyTerry().fit(np.asarray(kwargs["first"]), np.asarray(kwargs["second"]),
                           kwargs["outcome"])


def test_bad_options_and_unfitted_use_raise():
    with pytest.raises(ValueError, match="alpha"):
        BradleyTerry(alpha=-1).fit([0], [1], [1.0])
    with pytest.raises(ValueError, match="ties"):
        BradleyTerry(ties="maybe").fit([0], [1], [1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="call fit"):
        BradleyTerry().predict_proba([0], [1])
    with pytest.raises(ValueError, match="tie_param"):
        davidson_probabilities([0.0, 1.0], 0.0, -1.0, [0], [1])

"""The Gaussian-copula MI estimator (llmcopula.selection.copula_information) against exact
enumeration, independent quadrature, simulation, and the table estimators."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy import special

from llmcopula._validation import NotFittedError
from llmcopula.selection import (
    MajorityVote,
    greedy_mi_selection,
    mutual_information,
    top_k_selection,
)
from llmcopula.selection.copula_information import CopulaInformation
from llmcopula.selection.floors import bayes_error, error_pattern_probabilities

RATES = np.array([0.2, 0.3, 0.35])
LOADINGS = np.array([0.8, 0.6, 0.5])
CORR = np.outer(LOADINGS, LOADINGS) + np.diag(1 - LOADINGS**2)
CLASSES = list("ABC")
PRIOR = [0.5, 0.3, 0.2]


def _truth(**kwargs):
    return CopulaInformation.from_parameters(RATES, CORR, classes=CLASSES, prior=PRIOR, rng=0,
                                             **kwargs)


def _brute_force_joint(kappa: float | None):
    """P(y, x) by plain loops over labels, error patterns, distractors and answers, with the
    error-pattern probabilities from exact one-factor quadrature (floors module)."""
    c, k = len(CLASSES), RATES.size
    pe = error_pattern_probabilities(RATES, loadings=LOADINGS)
    joint = {}
    for y in range(c):
        for x in itertools.product(range(c), repeat=k):
            wrong = [i for i in range(k) if x[i] != y]
            e = sum(1 << i for i in wrong)
            if kappa is None:
                w = (1 / (c - 1)) ** len(wrong)
            else:
                w = 0.0
                for d in range(c):
                    if d == y:
                        continue
                    term = 1 / (c - 1)
                    for i in wrong:
                        term *= kappa if x[i] == d else (1 - kappa) / (c - 2)
                    w += term
            joint[y, x] = PRIOR[y] * pe[e] * w
    return joint


def _mi_bits(joint):
    py, px = {}, {}
    for (y, x), p in joint.items():
        py[y] = py.get(y, 0) + p
        px[x] = px.get(x, 0) + p
    return sum(p * math.log2(p / (py[y] * px[x])) for (y, x), p in joint.items() if p > 0)


@pytest.mark.parametrize("kappa", [None, 0.75])
def test_mi_and_bayes_error_match_brute_force_enumeration_with_exact_quadrature(kappa):
    # The QMC error-pattern probabilities (2^16 scrambled Sobol draws) are within ~1e-4 of the
    # exact one-factor quadrature (measured: 1.0e-4); MI and Bayes error inherit errors of that
    # order (measured: 3e-4 bits).
    brute = _brute_force_joint(kappa)
    model = _truth(kappa=kappa) if kappa is not None else _truth()
    patterns, probs = model.joint([0, 1, 2])
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    codes = np.searchsorted(CLASSES, patterns)
    expected = np.array([[brute[y, tuple(row)] for y in range(3)] for row in codes])
    assert np.abs(probs - expected).max() < 5e-4
    assert model.mutual_information([0, 1, 2]) == pytest.approx(_mi_bits(brute), abs=1.5e-3)
    bayes = 1 - sum(max(brute[y, x] for y in range(3))
                    for x in itertools.product(range(3), repeat=3))
    assert model.bayes_error([0, 1, 2]) == pytest.approx(bayes, abs=1.5e-3)


def test_one_and_two_model_pattern_probabilities_are_exact():
    model = _truth()
    exact = error_pattern_probabilities(RATES[:2], loadings=LOADINGS[:2])
    assert np.allclose(model.error_pattern_probabilities([0, 1]), exact, atol=1e-9)
    assert np.allclose(model.error_pattern_probabilities([2]), [1 - RATES[2], RATES[2]])


def test_binary_bayes_error_matches_the_floors_module():
    model = CopulaInformation.from_parameters(RATES, CORR, classes=[0, 1], prior=[0.5, 0.5],
                                              rng=1)
    expected = bayes_error(RATES, loadings=LOADINGS)
    assert model.bayes_error([0, 1, 2]) == pytest.approx(expected, abs=2e-3)


def test_genz_and_qmc_error_patterns_agree():
    qmc = _truth(kappa=0.6)
    genz = CopulaInformation.from_parameters(RATES, CORR, classes=CLASSES, prior=PRIOR, rng=0,
                                             kappa=0.6, error_patterns="genz")
    assert np.abs(qmc.error_pattern_probabilities([0, 1, 2])
                  - genz.error_pattern_probabilities([0, 1, 2])).max() < 2e-3


def test_monte_carlo_beyond_max_cells_agrees_with_enumeration():
    exact = _truth(kappa=0.7)
    mc = CopulaInformation.from_parameters(RATES, CORR, classes=CLASSES, prior=PRIOR, rng=0,
                                           kappa=0.7, max_cells=10, n_draws=2**17)
    # MC SE of the mean log-posterior ratio with 131k draws: < 0.004 bits; Bayes error < 0.002.
    assert mc.mutual_information([0, 1, 2]) == pytest.approx(
        exact.mutual_information([0, 1, 2]), abs=0.015)
    assert mc.bayes_error([0, 1, 2]) == pytest.approx(exact.bayes_error([0, 1, 2]), abs=0.008)
    with pytest.raises(ValueError, match="max_cells"):
        mc.joint([0, 1, 2])


@pytest.mark.parametrize("kind", ["uniform", "shared-distractor", "confusion"])
def test_the_simulator_draws_from_the_enumerated_distribution(kind):
    # The plug-in MI of 200,000 simulated queries estimates the exact I(Y; X_S) with SE ~ 0.003
    # bits and bias ~ (cells - 1)/(2N ln 2) = 3e-4 bits.
    kwargs = {"shared-distractor": {"kappa": 0.8},
              "confusion": {"confusion": _random_confusion(3, 3, seed=4)}}.get(kind, {})
    model = _truth(**kwargs)
    X, y = model.simulate(200_000, rng=5)
    assert mutual_information(X, y) == pytest.approx(model.mutual_information([0, 1, 2]),
                                                     abs=0.012)
    vote = MajorityVote(classes=CLASSES).fit(X, y)
    assert vote.score(X, y) == pytest.approx(model.predicted_accuracy([0, 1, 2], vote), abs=0.005)


def _random_confusion(m, c, seed):
    theta = np.random.default_rng(seed).dirichlet(np.ones(c), size=(m, c))
    theta[:, np.arange(c), np.arange(c)] = 0
    return theta / theta.sum(axis=2, keepdims=True)


def test_fitted_estimator_is_consistent_on_simulated_pools():
    # Known answer: the MI of the generating model. The fit's error shrinks with n, and at
    # n = 40,000 it is within 0.01 bits (tetrachoric SE ~ 0.01 there, kappa SE ~ 0.005).
    truth = _truth(kappa=0.7)
    target = truth.mutual_information([0, 1, 2])
    errors = {}
    for n in (300, 40_000):
        X, y = truth.simulate(n, rng=n)
        fitted = CopulaInformation(rng=0).fit(X, y)
        errors[n] = abs(fitted.mutual_information([0, 1, 2]) - target)
        if n == 40_000:
            assert fitted.kappa_ == pytest.approx(0.7, abs=0.02)
            assert np.allclose(fitted.error_rates_, RATES, atol=0.01)
            assert np.allclose(fitted.corr_, CORR, atol=0.05)
    assert errors[40_000] < 0.01
    assert errors[40_000] < errors[300] + 0.005


def test_copula_mi_is_far_less_biased_than_the_plug_in_at_small_n():
    # 60 queries, 27 answer patterns x 3 labels: the plug-in is biased up by ~0.4 bits on
    # average; the model-based estimate by far less (average over 20 training sets).
    truth = _truth(kappa=0.7)
    target = truth.mutual_information([0, 1, 2])
    plug, cop = [], []
    for s in range(20):
        X, y = truth.simulate(60, rng=100 + s)
        plug.append(mutual_information(X, y, warn_sparse=False) - target)
        cop.append(CopulaInformation(n_draws=4096, rng=0).fit(X, y).mutual_information(
            [0, 1, 2]) - target)
    assert np.mean(plug) > 0.2
    assert abs(np.mean(cop)) < np.mean(plug) / 3


def test_greedy_with_the_copula_estimator_finds_the_correlated_block_answer():
    rng = np.random.default_rng(3)
    acc = np.array([0.82, 0.81, 0.80, 0.74, 0.72])
    corr = np.full((5, 5), 0.1)
    corr[:3, :3] = 0.9
    np.fill_diagonal(corr, 1.0)
    z = rng.standard_normal((3000, 5)) @ np.linalg.cholesky(corr).T
    y = rng.integers(0, 2, 3000)
    X = np.where(z < special.ndtri(1 - acc), 1 - y[:, None], y[:, None])
    res = greedy_mi_selection(X, y, k=3, estimator="gaussian-copula", rng=0)
    assert set(res.selected) == {0, 3, 4} and res.estimator == "gaussian-copula"
    assert set(top_k_selection(X, y, k=3).selected) == {0, 1, 2}
    # the trace reports the model's MI
    model = CopulaInformation(rng=0).fit(X, y)
    assert res.mi_bits == pytest.approx(model.mutual_information(list(res.selected)), abs=1e-9)
    # an unfitted instance chooses the options
    res2 = greedy_mi_selection(X, y, k=3, estimator=CopulaInformation(wrong_answers="uniform",
                                                                      rng=0))
    assert res2.selected == res.selected


def test_wrong_answer_log_likelihood_prefers_the_generating_model():
    truth = _truth(kappa=0.85)
    X, y = truth.simulate(4000, rng=7)
    train, test = slice(0, 2000), slice(2000, None)
    ll = {w: CopulaInformation(wrong_answers=w, n_draws=256, rng=0).fit(X[train], y[train])
          .wrong_answer_log_likelihood(X[test], y[test]) for w in
          ("uniform", "confusion", "shared-distractor")}
    assert ll["shared-distractor"] > max(ll["uniform"], ll["confusion"])


def test_answers_outside_the_classes_count_as_errors_everywhere():
    rng = np.random.default_rng(0)
    y = rng.choice(CLASSES, 500)
    X = np.where(rng.random((500, 2)) < 0.8, y[:, None], "B")
    X[:5, 0] = "none"
    model = CopulaInformation(rng=0).fit(X, y)
    assert model.error_rates_[0] == pytest.approx(np.mean(X[:, 0] != y))
    lj = model.log_joint([0, 1], [["none", "A"]])
    assert np.isfinite(lj[0, 0]) and lj[0, 0] > lj[0, 1]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: CopulaInformation(wrong_answers="x").fit([[0, 1], [1, 1]], [0, 1]), "wrong_answers"),
    (lambda: CopulaInformation(n_draws=3).fit([[0, 1], [1, 1]], [0, 1]), "n_draws"),
    (lambda: CopulaInformation().fit([[0, 1], [1, 1]], [0, 0]), "y: need at least 2 classes"),
    (lambda: CopulaInformation().fit([[0, 1]], [0]), "X: expected a 2-d array"),
    (lambda: CopulaInformation().fit([[0.0, np.nan], [1, 1]], [0, 1]), "X: contains NaN"),
    (lambda: _truth().mutual_information([0, 0]), "models:"),
    (lambda: _truth().mutual_information([3]), "models:"),
    (lambda: _truth(kappa=0.1), "kappa"),
])
def test_bad_inputs_raise_value_errors(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=message):
            call()


def test_unfitted_use_raises_not_fitted_error():
    with pytest.raises(NotFittedError):
        CopulaInformation().mutual_information([0])


def test_every_method_accepts_the_copula_estimator_and_reports_its_mi():
    from llmcopula.selection import SELECTION_METHODS, select_models

    truth = _truth(kappa=0.7)
    X, y = truth.simulate(400, rng=11)
    model = CopulaInformation(rng=0).fit(X, y)
    for method in SELECTION_METHODS:
        res = select_models(X, y, method=method, k=2, estimator="gaussian-copula", rng=0)
        assert res.estimator == "gaussian-copula" and len(res) == 2
        assert res.mi_bits == pytest.approx(model.mutual_information(list(res.selected)),
                                            abs=1e-9)

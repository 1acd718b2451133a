"""Tests of the information estimators (llmcopula.selection.information)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from llmcopula.selection.information import (
    SparsePatternWarning,
    conditional_mutual_information,
    entropy,
    mi_bootstrap_ci,
    mi_decomposition,
    mutual_information,
    permutation_null_threshold,
)


def _simulate_iid(n: int, error_rates: list[float], prior: float, rng: np.random.Generator):
    """Binary labels and predictions whose errors are independent given nothing (rho = 0)."""
    y = (rng.random(n) < prior).astype(np.int64)
    err = rng.random((n, len(error_rates))) < np.asarray(error_rates)
    return y, np.where(err, 1 - y[:, None], y[:, None])


def _exact_mi_iid(error_rates: list[float], prior: float) -> float:
    """I(Y; X) in bits by enumerating all 2^k prediction patterns."""
    p = np.asarray(error_rates)
    joint = {}
    for y in (0, 1):
        for x in itertools.product((0, 1), repeat=p.size):
            wrong = np.asarray(x) != y
            joint[(y, x)] = (prior if y else 1 - prior) * np.prod(np.where(wrong, p, 1 - p))
    px = {x: joint[(0, x)] + joint[(1, x)] for x in itertools.product((0, 1), repeat=p.size)}
    py = {0: 1 - prior, 1: prior}
    return sum(v * math.log2(v / (px[x] * py[y])) for (y, x), v in joint.items() if v > 0)


def _random_table(draw, n_max=60, k_max=3, classes=3):
    n = draw(st.integers(5, n_max))
    k = draw(st.integers(1, k_max))
    y = draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n))
    X = draw(st.lists(st.lists(st.integers(0, classes - 1), min_size=k, max_size=k),
                      min_size=n, max_size=n))
    return np.array(y), np.array(X)


random_tables = st.composite(_random_table)


# --------------------------------------------------------------------------------------------
# Reference values
# --------------------------------------------------------------------------------------------

def test_entropy_of_uniform_and_of_independent_pairs_are_log_counts():
    assert entropy([0, 1, 2, 3]) == pytest.approx(2.0, abs=1e-12)
    assert entropy([[0, 0], [0, 1], [1, 0], [1, 1]]) == pytest.approx(2.0, abs=1e-12)
    assert entropy(["a", "b"], base=math.e) == pytest.approx(math.log(2), abs=1e-12)


def test_a_perfect_predictor_carries_the_label_entropy_and_noise_carries_none():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert mutual_information(y, y, warn_sparse=False) == pytest.approx(math.log2(3), abs=1e-12)
    assert mutual_information([0, 1, 0, 1], [0, 0, 1, 1], warn_sparse=False) == pytest.approx(0, abs=1e-12)


@pytest.mark.parametrize("error_rates, prior", [([0.2, 0.3, 0.25, 0.4], 0.5),
                                                ([0.1, 0.35, 0.3], 0.3)])
def test_plugin_mi_matches_exact_enumeration_on_simulated_data(error_rates, prior):
    # N = 2e5: the plug-in bias is (2^k - 1)/(2N ln 2) < 1e-4 bits and the sampling SE of the
    # MI is sqrt(Var[log2 p(y,x)/(p(y)p(x))]/N) < 0.0015 bits here, so 0.005 bits is > 3 SE.
    rng = np.random.default_rng(12)
    y, X = _simulate_iid(200_000, error_rates, prior, rng)
    assert mutual_information(X, y) == pytest.approx(_exact_mi_iid(error_rates, prior), abs=0.005)


def test_bits_and_nats_differ_by_ln2():
    rng = np.random.default_rng(0)
    y, X = _simulate_iid(500, [0.2, 0.3], 0.5, rng)
    bits = mutual_information(X, y)
    nats = mutual_information(X, y, base=math.e)
    assert nats == pytest.approx(bits * math.log(2), rel=1e-12)


def test_mi_agrees_with_sklearn_mutual_info_score_on_single_columns():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 3000)
    x = np.where(rng.random(3000) < 0.6, y, rng.integers(0, 5, 3000))
    expected = sk.mutual_info_score(y, x) / math.log(2)  # sklearn reports nats
    assert mutual_information(x, y) == pytest.approx(expected, abs=1e-12)


def test_conditional_mi_with_no_conditioning_columns_is_plain_mi():
    rng = np.random.default_rng(1)
    y, X = _simulate_iid(1000, [0.2, 0.3], 0.5, rng)
    assert conditional_mutual_information(X, y, np.empty((1000, 0))) == pytest.approx(
        mutual_information(X, y), abs=1e-12)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

@given(random_tables())
@settings(max_examples=40)
def test_mi_is_nonnegative_bounded_by_entropies_and_symmetric(table):
    y, X = table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        i = mutual_information(X, y)
        assert i >= -1e-12
        assert i <= min(entropy(y), entropy(X)) + 1e-12
        assert mutual_information(X[:, 0], y) == pytest.approx(mutual_information(y, X[:, 0]), abs=1e-12)


@given(random_tables(), st.permutations([0, 1, 2]), st.permutations([0, 1, 2]))
@settings(max_examples=40)
def test_mi_is_invariant_to_relabelling_classes(table, perm_y, perm_x):
    y, X = table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        relabelled = mutual_information(np.asarray(perm_x)[X], np.asarray(perm_y)[y])
        as_strings = mutual_information(X.astype(str), np.char.add("c", y.astype(str)))
        assert relabelled == pytest.approx(mutual_information(X, y), abs=1e-12)
        assert as_strings == pytest.approx(mutual_information(X, y), abs=1e-12)


@given(random_tables(k_max=4), st.sampled_from(["plugin", "miller-madow"]))
@settings(max_examples=40)
def test_decomposition_terms_sum_to_the_exact_increment(table, estimator):
    y, X = table
    d = mi_decomposition(X, y, candidate=0, selected=range(1, X.shape[1]), estimator=estimator)
    assert d.relevance - d.redundancy + d.conditional_redundancy == pytest.approx(
        d.increment, abs=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        chain_rule = (mutual_information(X, y, estimator=estimator)
                      - (mutual_information(X[:, 1:], y, estimator=estimator)
                         if X.shape[1] > 1 else 0.0))
    assert d.increment == pytest.approx(chain_rule, abs=1e-12)
    assert d.increment == pytest.approx(
        conditional_mutual_information(X[:, :1], y, X[:, 1:], estimator=estimator), abs=1e-12)


@given(random_tables(), st.floats(0.1, 5.0))
@settings(max_examples=40)
def test_smoothed_mi_is_nonnegative(table, alpha):
    y, X = table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        assert mutual_information(X, y, alpha=alpha) >= -1e-12


def test_miller_madow_is_closer_to_the_truth_than_plugin_on_small_samples():
    # 400 seeded replicates of N = 60 rows and 3 binary models: the plug-in estimator's upward
    # bias (about 7 free cells / (2N ln 2) = 0.08 bits) dominates its error.
    rates, prior = [0.25, 0.3, 0.35], 0.5
    truth = _exact_mi_iid(rates, prior)
    rng = np.random.default_rng(2024)
    err = {"plugin": [], "miller-madow": []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        for _ in range(400):
            y, X = _simulate_iid(60, rates, prior, rng)
            for est in err:
                err[est].append(abs(mutual_information(X, y, estimator=est) - truth))
    assert np.mean(err["miller-madow"]) < np.mean(err["plugin"])


def test_bootstrap_interval_covers_the_truth_and_shrinks_with_n():
    rates, prior = [0.2, 0.3], 0.5
    truth = _exact_mi_iid(rates, prior)
    rng = np.random.default_rng(5)
    widths = []
    for n in (1_000, 16_000):
        y, X = _simulate_iid(n, rates, prior, rng)
        ci = mi_bootstrap_ci(X, y, n_boot=400, rng=7)
        assert ci.low <= ci.estimate <= ci.high
        assert ci.low <= truth <= ci.high
        widths.append(ci.high - ci.low)
    # the width scales like 1/sqrt(n): a 16x larger sample gives a ~4x narrower interval
    assert widths[1] < widths[0] / 2.5


def test_bootstrap_is_reproducible_with_a_seed():
    rng = np.random.default_rng(5)
    y, X = _simulate_iid(300, [0.2, 0.3], 0.5, rng)
    assert mi_bootstrap_ci(X, y, n_boot=50, rng=3) == mi_bootstrap_ci(X, y, n_boot=50, rng=3)


def test_permutation_threshold_matches_the_g_test_chi_square_quantile():
    # Under independence 2 N ln(2) I_bits is asymptotically chi-square with df = (number of
    # X_S cells) x (|X_j| - 1) x (|Y| - 1) = 4 here (G-test).  With 2000 permutations the
    # Monte-Carlo error of the 95% quantile is ~3%, and the chi-square approximation at N = 4000
    # is good to a few per cent: a 15% tolerance.
    rng = np.random.default_rng(11)
    n = 4000
    y = rng.integers(0, 2, n)
    X_S = rng.integers(0, 2, (n, 2))
    x_j = rng.integers(0, 2, n)
    t = permutation_null_threshold(np.column_stack([x_j, X_S]), y, candidate=0, selected=[1, 2],
                                   n_perm=2000, rng=1)
    expected = stats.chi2.ppf(0.95, df=4) / (2 * n * math.log(2))
    assert t == pytest.approx(expected, rel=0.15)


def test_sparse_pattern_warning_is_issued_only_for_sparse_tables():
    rng = np.random.default_rng(0)
    y, X = _simulate_iid(100, [0.2, 0.3, 0.3], 0.5, rng)
    with pytest.warns(SparsePatternWarning):
        mutual_information(X, y)  # 100 < 10 * 8 * 2
    y, X = _simulate_iid(1000, [0.2, 0.3], 0.5, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SparsePatternWarning)
        mutual_information(X, y)  # 1000 >= 10 * 4 * 2


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: mutual_information([0, 1], [0, 1, 0]), "X: has 2 rows"),
    (lambda: mutual_information([], []), "y: is empty"),
    (lambda: mutual_information(np.zeros((2, 1)), [[0, 1]]), "y: expected a 1-d array"),
    (lambda: mutual_information([0, 1], [0.0, np.nan]), "y: contains 1 NaN"),
    (lambda: mutual_information([0, 1], [0.5, 1.0]), "y: expected discrete values"),
    (lambda: mutual_information([0, 1], [0, 1], estimator="mle"), "estimator:"),
    (lambda: mutual_information([0, 1], [0, 1], alpha=-1.0), "alpha:"),
    (lambda: mutual_information([0, 1], [0, 1], base=1.0), "base:"),
    (lambda: mutual_information(np.zeros((2, 0)), [0, 1]), "X: has no columns"),
    (lambda: mi_bootstrap_ci([0, 1], [0, 1], level=1.5), "level:"),
    (lambda: mi_bootstrap_ci([0, 1], [0, 1], n_boot=0), "n_boot:"),
    (lambda: permutation_null_threshold([[0, 1], [1, 0]], [0, 1], candidate=2), "candidate:"),
    (lambda: permutation_null_threshold([[0, 1], [1, 0]], [0, 1], candidate=0, selected=[0]),
     "selected: contains the candidate"),
    (lambda: mi_decomposition([[0, 1], [1, 0]], [0, 1], candidate=0, selected=[5]), "selected:"),
    (lambda: permutation_null_threshold([[0], [1]], [0, 1], candidate=0, quantile=1.0),
     "quantile:"),
    (lambda: entropy(np.zeros((0, 2))), "X: expected a non-empty"),
])
def test_bad_inputs_raise_value_errors_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_plugin_mi_matches_exact_enumeration_under_correlated_errors():
    # Ground truth from the one-factor Gaussian copula (R_ij = l_i l_j): exact pattern
    # probabilities by 1-D quadrature (floors.error_pattern_probabilities), data from
    # CorrelatedErrorModel.simulate with the same parameters.  Tolerance as in the iid test:
    # sampling SE < 0.0015 bits at N = 2e5, bias < 1e-4 bits; 0.005 bits > 3 SE.
    from llmcopula.selection.error_model import CorrelatedErrorModel
    from llmcopula.selection.floors import error_pattern_probabilities

    rates = np.array([0.2, 0.25, 0.3, 0.35])
    loadings = np.array([0.8, 0.7, 0.6, 0.3])
    corr = np.outer(loadings, loadings)
    np.fill_diagonal(corr, 1.0)
    p_err = error_pattern_probabilities(rates, loadings=loadings)  # bit i set: model i wrong
    k = rates.size
    joint = np.zeros((2, 2**k))
    for e in range(2**k):
        for y in (0, 1):
            bits = np.array([(e >> i) & 1 for i in range(k)])
            x = bits ^ y
            joint[y, int(sum(int(b) << i for i, b in enumerate(x)))] += 0.5 * p_err[e]
    px, py = joint.sum(axis=0), joint.sum(axis=1)
    nz = joint > 0
    exact = float(np.sum(joint[nz] * np.log2(joint[nz] / np.outer(py, px)[nz])))
    sim = CorrelatedErrorModel.from_parameters(rates, corr).simulate(200_000, rng=3)
    assert mutual_information(sim.predictions, sim.labels) == pytest.approx(exact, abs=0.005)

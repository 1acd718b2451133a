"""Tests of the ensemble aggregators (llmcopula.selection.aggregation)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.selection.aggregation import (
    AGGREGATORS,
    DawidSkene,
    MajorityVote,
    MAPAggregator,
    WeightedMajorityVote,
    make_aggregator,
)


def _sample_table(joint: np.ndarray, n: int, rng: np.random.Generator):
    """Draw (y, x) rows from a joint table indexed [y, pattern] over 3 binary models."""
    flat = rng.choice(joint.size, size=n, p=joint.ravel())
    y, pattern = np.divmod(flat, joint.shape[1])
    X = (pattern[:, None] >> np.arange(3)[::-1]) & 1
    return y, X


def _known_joint(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(16, 0.7)).reshape(2, 8)


# --------------------------------------------------------------------------------------------
# MAP
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_map_is_the_bayes_decision_on_a_known_distribution(seed):
    joint = _known_joint(seed)
    rng = np.random.default_rng(100 + seed)
    y, X = _sample_table(joint, 60_000, rng)
    agg = MAPAggregator().fit(X, y)
    patterns = np.array(list(itertools.product((0, 1), repeat=3)))
    pred = agg.predict(patterns)
    px = joint.sum(axis=0)
    post1 = joint[1] / px
    n_x = 60_000 * px
    # Where the true posterior is more than 4 binomial SEs from 1/2 the empirical majority must
    # agree with the Bayes decision.
    clear = np.abs(post1 - 0.5) > 4 * np.sqrt(0.25 / n_x)
    np.testing.assert_array_equal(pred[clear], (post1 > 0.5).astype(int)[clear])
    # Test accuracy equals the Bayes accuracy sum_x max_y P(y, x) within 4 SEs.
    y_te, X_te = _sample_table(joint, 40_000, rng)
    bayes = joint.max(axis=0).sum()
    assert agg.score(X_te, y_te) == pytest.approx(bayes, abs=4 * np.sqrt(bayes * (1 - bayes) / 40_000))


def test_map_backs_off_to_the_largest_seen_sub_pattern_then_to_weighted_vote():
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    X = np.array([[0, 0, 0], [0, 0, 0], [0, 1, 1], [1, 1, 1], [1, 1, 1], [1, 0, 0], [1, 1, 0]])
    agg = MAPAggregator().fit(X, y)
    pred, level = agg.predict_with_level(np.array([[0, 0, 0],    # seen in full
                                                   [0, 1, 0],    # unseen; sub-patterns of 2 seen
                                                   [7, 7, 7]]))  # nothing seen: weighted vote
    assert level.tolist() == [3, 2, 0]
    assert pred[0] == 0
    # For (0, 1, 0): every pair sub-pattern seen is checked; (x1, x2) = (1, 0) was seen once with
    # y = 1, (x0, x2) = (0, 0) twice with y = 0 and (x0, x1) = (0, 1) once with y = 0: the most
    # supported sub-pattern, (x0, x2), decides.
    assert pred[1] == 0


def test_map_ties_go_to_the_more_frequent_training_class():
    y = np.array([1, 0, 1, 1])
    X = np.array([[0], [0], [1], [1]])
    assert MAPAggregator().fit(X, y).predict([[0]]).tolist() == [1]


def test_map_min_count_sends_rare_patterns_to_back_off():
    y = np.array([0, 0, 0, 1])
    X = np.array([[0, 0], [0, 0], [0, 1], [1, 1]])
    pred, level = MAPAggregator(min_count=2).fit(X, y).predict_with_level(np.array([[1, 1]]))
    # (1, 1) and x0 = 1 were seen once each; x1 = 1 twice (labels 0 and 1: a tie, which goes to
    # the more frequent training class 0).
    assert level.tolist() == [1] and pred.tolist() == [0]


# --------------------------------------------------------------------------------------------
# Voting rules
# --------------------------------------------------------------------------------------------

def test_majority_vote_ties_are_deterministic_by_prior_then_class_order():
    X = np.array([["A", "B"], ["C", "D"]])
    mv = MajorityVote(classes=list("ABCD")).fit(X, ["B", "B"])
    assert mv.predict(X).tolist() == ["B", "C"]  # B has the larger prior; C sorts before D


def test_invalid_answers_are_abstentions_for_the_votes():
    X = np.array([["A", "", "E"], ["", "", "B"]])
    mv = MajorityVote(classes=list("ABCD")).fit(X, ["A", "B"])
    assert mv.predict(X).tolist() == ["A", "B"]


def test_weighted_vote_weights_are_log_odds_of_smoothed_accuracy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 5000)
    acc = np.array([0.9, 0.6, 0.4])
    wrong = (y[:, None] + rng.integers(1, 4, (5000, 3))) % 4
    X = np.where(rng.random((5000, 3)) < acc, y[:, None], wrong)
    wmv = WeightedMajorityVote().fit(X, y)
    observed = (X == y[:, None]).sum(axis=0)
    expected_acc = (observed + 1) / (5000 + 2)
    np.testing.assert_allclose(wmv.weights_, np.log(3 * expected_acc / (1 - expected_acc)), rtol=1e-12)
    # Under conditional independence with uniform errors the weighted vote is the Bayes rule; it
    # must beat both the best single model and the plain vote (gaps >> the SE of 0.007).
    X_te_y = rng.integers(0, 4, 5000)
    wrong = (X_te_y[:, None] + rng.integers(1, 4, (5000, 3))) % 4
    X_te = np.where(rng.random((5000, 3)) < acc, X_te_y[:, None], wrong)
    assert wmv.score(X_te, X_te_y) > MajorityVote().fit(X, y).score(X_te, X_te_y) + 0.03
    assert wmv.score(X_te, X_te_y) >= 0.9 - 0.02


@settings(max_examples=40)
@given(st.lists(st.lists(st.sampled_from("ABC"), min_size=4, max_size=4), min_size=3, max_size=30),
       st.permutations(range(4)), st.sampled_from(list(AGGREGATORS)))
def test_predictions_are_classes_and_voting_is_invariant_to_model_order(rows, perm, name):
    X = np.array(rows)
    y = X[:, 0]  # labels must exist for the supervised aggregators
    agg = make_aggregator(name, classes=list("ABC")).fit(X, y)
    pred = agg.predict(X)
    assert set(pred.tolist()) <= {"A", "B", "C"}
    if name in ("majority-vote", "weighted-vote"):
        other = make_aggregator(name, classes=list("ABC")).fit(X[:, list(perm)], y)
        np.testing.assert_array_equal(other.predict(X[:, list(perm)]), pred)


# --------------------------------------------------------------------------------------------
# Dawid-Skene
# --------------------------------------------------------------------------------------------

def test_dawid_skene_recovers_known_confusion_matrices_and_prior():
    rng = np.random.default_rng(7)
    n, m, c = 20_000, 6, 3
    prior = np.array([0.5, 0.3, 0.2])
    conf = np.empty((m, c, c))
    for i in range(m):
        acc = rng.uniform(0.55, 0.85, c)
        for k in range(c):
            off = rng.dirichlet(np.ones(c - 1)) * (1 - acc[k])
            conf[i, k] = np.insert(off, k, acc[k])
    y = rng.choice(c, size=n, p=prior)
    u = rng.random((n, m))
    cdf = np.cumsum(conf[np.arange(m)[None, :], y[:, None]], axis=2)  # (n, m, c)
    X = (u[:, :, None] > cdf).sum(axis=2)
    ds = DawidSkene().fit(X)
    # Each entry is a proportion over ~n * prior_c rows: SE <= sqrt(0.25 / 4000) = 0.008 for the
    # rarest class; the latent labels are recovered with > 95% accuracy so EM adds little.
    # Tolerance 0.04 = 5 SEs.
    np.testing.assert_allclose(ds.confusion_, conf, atol=0.04)
    np.testing.assert_allclose(ds.prior_, prior, atol=0.02)
    assert np.mean(ds.predict(X) == y) > 0.9
    proba = ds.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_dawid_skene_ignores_abstentions_and_is_unsupervised():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    X = np.where(rng.random((2000, 5)) < 0.8, y[:, None], 1 - y[:, None]).astype(str)
    X[rng.random((2000, 5)) < 0.1] = ""  # invalid answers
    ds = DawidSkene(classes=["0", "1"]).fit(X)
    assert ds.confusion_.shape == (5, 2, 2)
    assert np.mean(ds.predict(X) == y.astype(str)) > 0.9


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: MAPAggregator().fit([[0], [1]], None), "y: MAPAggregator needs training labels"),
    (lambda: WeightedMajorityVote().fit([[0], [1]], [0]), "y: expected a 1-d array of 2 labels"),
    (lambda: MajorityVote(classes=[0, 1]).fit([[0], [1]], [0, 2]), "y: 1 label"),
    (lambda: MajorityVote().fit(np.zeros((0, 2))), "X: expected a non-empty 2-d"),
    (lambda: MajorityVote().fit([[0.0], [np.nan]]), "X: contains 1 NaN"),
    (lambda: MajorityVote().fit([[1], [1]]), "classes: need at least 2"),
    (lambda: MajorityVote().fit([[0, 1], [1, 0]]).predict([[0]]), "X: expected 2 columns"),
    (lambda: MAPAggregator(min_count=0).fit([[0], [1]], [0, 1]), "min_count:"),
    (lambda: DawidSkene(smoothing=0.0).fit([[0], [1]]), "smoothing:"),
    (lambda: make_aggregator("stacking"), "aggregator:"),
])
def test_bad_aggregator_inputs_raise_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("cls", [MajorityVote, WeightedMajorityVote, MAPAggregator, DawidSkene])
def test_unfitted_aggregators_raise_not_fitted_error(cls):
    from llmcopula._validation import NotFittedError

    with pytest.raises(NotFittedError, match=f"{cls.__name__}: not fitted yet"):
        cls().predict([[0, 1]])


@pytest.mark.parametrize("cls", [MajorityVote, WeightedMajorityVote, MAPAggregator, DawidSkene])
def test_aggregators_follow_the_estimator_protocol(cls):
    from llmcopula._estimator import BaseEstimator, clone

    agg = cls(classes=[0, 1])
    assert isinstance(agg, BaseEstimator)
    assert agg.get_params()["classes"] == [0, 1]
    copy = clone(agg.fit([[0, 1], [1, 1], [0, 0]], [0, 1, 0]))
    assert not hasattr(copy, "classes_") and copy.get_params().keys() == agg.get_params().keys()
    with pytest.raises(TypeError):
        cls([0, 1])  # options are keyword-only

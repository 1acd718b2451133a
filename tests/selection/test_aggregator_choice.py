"""choose_aggregator: stratified folds, the CV accuracies recomputed by a plain loop, the three
rules against their definitions, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmcopula._validation import check_rng
from llmcopula.selection import choose_aggregator, make_aggregator
from llmcopula.selection.aggregator_choice import (
    AggregatorChoice,
    resolve_aggregator,
    stratified_folds,
)

CLASSES = np.arange(4)


def pool(n, accuracy, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    right = rng.random((n, len(accuracy))) < accuracy
    return np.where(right, y[:, None], (y[:, None] + rng.integers(1, 4, (n, len(accuracy)))) % 4), y


@given(st.lists(st.integers(0, 3), min_size=10, max_size=80), st.integers(2, 6),
       st.integers(0, 2**16))
def test_folds_keep_class_proportions_and_sizes_within_one_row(labels, k, seed):
    y = np.asarray(labels)
    fold = stratified_folds(y, k, np.random.default_rng(seed))
    sizes = np.bincount(fold, minlength=k)
    assert sizes.max() - sizes.min() <= 1
    for c in np.unique(y):
        per_fold = np.bincount(fold[y == c], minlength=k)
        assert per_fold.max() - per_fold.min() <= 1


def test_cv_accuracies_are_those_of_a_plain_loop_over_the_same_folds():
    X, y = pool(200, [0.85, 0.6, 0.55], seed=0)
    names = ("majority-vote", "weighted-vote", "copula-bayes")
    choice = choose_aggregator(X, y, candidates=names, n_splits=4, n_repeats=2, classes=CLASSES,
                               rng=7)
    gen = check_rng(7)
    seed = int(gen.integers(0, 2**31 - 1))
    scores = {a: [] for a in names}
    for _ in range(2):
        fold = stratified_folds(y, 4, gen)
        for f in range(4):
            for a in names:
                agg = make_aggregator(a, classes=CLASSES,
                                      **({"rng": seed} if a == "copula-bayes" else {}))
                agg.fit(X[fold != f], y[fold != f])
                scores[a].append(np.mean(agg.predict(X[fold == f]) == y[fold == f]))
    np.testing.assert_allclose(choice.accuracy, [np.mean(scores[a]) for a in names])
    assert choice.best == names[int(np.argmax(choice.accuracy))] == choice.chosen


def _choice(acc, se, diff_se):
    acc = np.asarray(acc, dtype=float)
    names = tuple(f"a{i}" for i in range(acc.size))
    best = names[int(np.argmax(acc))]
    return AggregatorChoice(best, names, acc, np.asarray(se, float), np.asarray(diff_se, float),
                            best, "best", 5, 4)


@given(st.lists(st.sampled_from([0.80, 0.81, 0.82, 0.83]), min_size=1, max_size=5),
       st.sampled_from([0.0, 0.005, 0.01, 0.03]))
def test_rules_pick_what_their_definitions_say(acc, slack):
    c = _choice(acc, [slack] * len(acc), [slack / 2] * len(acc))
    top = max(acc)
    assert c.under("best") == f"a{acc.index(top)}"
    assert c.under("one-se") == f"a{min(i for i, a in enumerate(acc) if a >= top - slack)}"
    assert c.under("one-se-paired") == f"a{min(i for i, a in enumerate(acc) if a >= top - slack / 2)}"


def test_a_clearly_better_aggregator_is_chosen_and_copies_tie_to_the_simplest():
    X, y = pool(400, [0.92, 0.45, 0.4], seed=1)  # one strong model and two weak ones
    choice = choose_aggregator(X, y, classes=CLASSES, rng=0)
    assert choice.chosen != "majority-vote"
    assert choice.accuracy[0] < choice.accuracy.max() - 0.03
    same = np.repeat(pool(300, [0.8], seed=2)[0], 3, axis=1)
    choice = choose_aggregator(same, pool(300, [0.8], seed=2)[1], classes=CLASSES, rng=0)
    assert np.ptp(choice.accuracy) == 0 and choice.chosen == "majority-vote"


def test_choice_is_reproducible_and_resolve_fits_the_chosen_aggregator():
    X, y = pool(250, [0.8, 0.7, 0.6], seed=3)
    a = choose_aggregator(X, y, rng=5)
    b = choose_aggregator(X, y, rng=5)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)
    agg, choice = resolve_aggregator("auto", X, y, rng=5)
    assert choice.chosen == a.chosen
    ref = make_aggregator(a.chosen, **({"rng": 5} if a.chosen == "copula-bayes" else {}))
    np.testing.assert_array_equal(agg.predict(X), ref.fit(X, y).predict(X))
    fixed, none = resolve_aggregator("map", X, y)
    assert none is None and type(fixed).__name__ == "MAPAggregator"


@pytest.mark.parametrize("kwargs, match", [
    ({"candidates": ["majority-vote", "nope"]}, "candidates"),
    ({"candidates": []}, "candidates"),
    ({"candidates": ["map", "map"]}, "candidates"),
    ({"rule": "worst"}, "rule"),
    ({"n_splits": 1}, "n_splits"),
    ({"n_repeats": 0}, "n_repeats"),
])
def test_bad_options_raise_naming_the_argument(kwargs, match):
    X, y = pool(60, [0.8, 0.7], seed=4)
    with pytest.raises(ValueError, match=match):
        choose_aggregator(X, y, **kwargs)


def test_bad_data_raise():
    X, y = pool(8, [0.8, 0.7], seed=4)
    with pytest.raises(ValueError, match="too few"):
        choose_aggregator(X, y)
    with pytest.raises(ValueError, match="X, y"):
        choose_aggregator(X[:, 0], y)
    with pytest.raises(ValueError, match="aggregator"):
        resolve_aggregator("nope", X, y)
    with pytest.raises(ValueError, match="rule"):
        _choice([0.8], [0.0], [0.0]).under("nope")

"""auto_selection (the default selection of ``llmcopula select``): it keeps, of the sets that
greedy MI and top-k propose, the one whose best aggregator has the higher cross-validated
accuracy, recomputed here independently with choose_aggregator on the same folds."""

from __future__ import annotations

import numpy as np
import pytest

from llmcopula.selection import auto_selection, choose_aggregator, select_models
from llmcopula.selection.methods import DEFAULT_METHOD, SELECTION_METHODS


def _pool(seed: int, n: int = 240):
    """Three accurate models that err together and two weaker ones that err independently: greedy
    MI and top-k by accuracy propose different sets at k = 3."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    shared = rng.normal(size=(n, 1))
    latent = np.hstack([0.95 * shared + 0.3 * rng.normal(size=(n, 3)), rng.normal(size=(n, 2))])
    acc = np.array([0.82, 0.81, 0.80, 0.74, 0.73])
    right = latent > np.array([np.quantile(latent[:, j], 1 - a) for j, a in enumerate(acc)])
    X = np.where(right, y[:, None], (y[:, None] + rng.integers(1, 4, (n, 5))) % 4)
    return X, y


@pytest.mark.parametrize("seed", [0, 1])
def test_auto_keeps_the_set_of_higher_cross_validated_accuracy(seed):
    X, y = _pool(seed)
    result = auto_selection(X, y, k=3, estimator="gaussian-copula", rng=seed, warn_sparse=False)
    c = result.choice
    assert c.methods == ("greedy-mi", "top-k")
    for m, S in zip(c.methods, c.sets):
        assert S == select_models(X, y, method=m, k=3, estimator="gaussian-copula", rng=seed,
                                  warn_sparse=False).selected
    assert sorted(c.sets[0]) != sorted(c.sets[1])  # the data make the two methods disagree
    for i, S in enumerate(c.sets):
        cv = choose_aggregator(X[:, sorted(S)], y, classes=np.unique(y), rng=seed)
        assert c.accuracy[i] == pytest.approx(cv.accuracy.max(), abs=1e-12)
        assert c.aggregators[i] == cv.best
    best = int(np.argmax(c.accuracy))
    assert c.chosen == c.methods[best] and result.selected == c.sets[best]
    assert result.method == "auto"


def test_identical_sets_go_to_the_first_candidate():
    X, y = _pool(0)
    result = auto_selection(X, y, k=3, candidates=("top-k", "term1"), rng=0, warn_sparse=False)
    c = result.choice
    if sorted(c.sets[0]) == sorted(c.sets[1]):
        assert c.chosen == "top-k"
    result = auto_selection(X, y, k=1, rng=0, warn_sparse=False)  # one model: nothing to CV
    assert result.choice.chosen == "greedy-mi" and len(result.selected) == 1


def test_auto_is_a_registered_method_and_the_default():
    assert DEFAULT_METHOD == "auto" and "auto" in SELECTION_METHODS
    X, y = _pool(2)
    a = select_models(X, y, method="auto", k=3, estimator="gaussian-copula", rng=2,
                      warn_sparse=False)
    b = auto_selection(X, y, k=3, estimator="gaussian-copula", rng=2, warn_sparse=False)
    assert a.selected == b.selected and a.method == b.method == "auto"
    assert a.choice.chosen == b.choice.chosen


@pytest.mark.parametrize("candidates", [(), ("top-k", "top-k"), ("auto", "top-k")])
def test_bad_candidates_raise_naming_the_argument(candidates):
    X, y = _pool(0, n=60)
    with pytest.raises(ValueError, match="candidates"):
        auto_selection(X, y, k=2, candidates=candidates)

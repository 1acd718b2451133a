"""Choosing an ensemble's aggregator by cross-validation on its training answers.

Which aggregator is best depends on the set and the data: the Bayes rule of the fitted
correlated-error model (:class:`~llmcopula.selection.CopulaBayesAggregator`) uses most
structure and wins when it is estimated well; a plain or weighted vote has fewer parameters to
get wrong. :func:`choose_aggregator` estimates each candidate's accuracy by repeated stratified
K-fold cross-validation on the training answers of the chosen set and picks one by a rule:

* ``"best"`` — the highest mean held-out accuracy;
* ``"one-se"`` — the first candidate (candidates are listed simplest first) whose mean is within
  one standard error of the best's mean accuracy (the one-standard-error rule of Breiman,
  Friedman, Olshen and Stone 1984; Hastie, Tibshirani and Friedman 2009, §7.10);
* ``"one-se-paired"`` — the same with the standard error of the paired difference to the best,
  the relevant one when every candidate is scored on the same folds.

The standard errors are those of one K-fold run (standard deviation over folds / √K), averaged
over the repeats; repeats reduce the noise of the partition, not that of the sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import RNGLike, check_positive_int, check_rng

__all__ = ["AggregatorChoice", "choose_aggregator", "resolve_aggregator", "AUTO",
           "CHOICE_RULES", "DEFAULT_CANDIDATES"]

#: The aggregator name that means "choose by cross-validation" (:func:`resolve_aggregator`).
AUTO = "auto"
CHOICE_RULES = ("best", "one-se", "one-se-paired")
#: Simplest first: no parameters, one weight per model, the full correlated-error model.
DEFAULT_CANDIDATES = ("majority-vote", "weighted-vote", "copula-bayes")


@dataclass(frozen=True)
class AggregatorChoice:
    """The outcome of :func:`choose_aggregator`.

    Attributes
    ----------
    chosen : str
        The chosen aggregator's name.
    candidates : tuple of str
    accuracy : ndarray, shape (A,)
        Mean held-out accuracy of each candidate.
    se : ndarray, shape (A,)
        Standard error of each candidate's mean accuracy.
    difference_se : ndarray, shape (A,)
        Standard error of each candidate's paired difference to the best (0 for the best).
    best : str
        The candidate of highest mean accuracy.
    rule : str
    n_splits, n_repeats : int
    """

    chosen: str
    candidates: tuple[str, ...]
    accuracy: NDArray[np.float64]
    se: NDArray[np.float64]
    difference_se: NDArray[np.float64]
    best: str
    rule: str
    n_splits: int
    n_repeats: int

    def under(self, rule: str) -> str:
        """The candidate another rule would choose from the same cross-validation."""
        if rule not in CHOICE_RULES:
            raise ValueError(f"rule: expected one of {CHOICE_RULES}, got {rule!r}")
        best = self.candidates.index(self.best)
        if rule == "best":
            return self.best
        slack = self.se[best] if rule == "one-se" else self.difference_se
        ok = self.accuracy >= self.accuracy[best] - slack - 1e-12
        return self.candidates[int(np.flatnonzero(ok)[0])]


def stratified_folds(y: NDArray[np.int64], n_splits: int, gen: np.random.Generator
                     ) -> NDArray[np.int64]:
    """Fold of each row: each class shuffled and dealt round-robin from a random start, so that
    every fold has the class proportions to within one row."""
    fold = np.empty(y.size, dtype=np.int64)
    start = 0
    for c in np.unique(y):
        rows = gen.permutation(np.flatnonzero(y == c))
        fold[rows] = (np.arange(rows.size) + start) % n_splits
        start = (start + rows.size) % n_splits  # keeps the fold sizes balanced across classes
    return fold


def choose_aggregator(X: ArrayLike, y: ArrayLike, *,
                      candidates: Sequence[str] = DEFAULT_CANDIDATES, rule: str = "best",
                      n_splits: int = 5, n_repeats: int = 4, classes: ArrayLike | None = None,
                      rng: RNGLike = None) -> AggregatorChoice:
    """Choose an aggregator for the answers ``X`` (n, k) of a set of models by cross-validation.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Training answers of the set's models.
    y : array_like, shape (n,)
        Training labels.
    candidates : sequence of str
        Names of :data:`~llmcopula.selection.AGGREGATORS`, simplest first (the one-SE rules
        prefer earlier ones).
    rule : {"best", "one-se", "one-se-paired"}
        See the module docstring.
    n_splits, n_repeats : int
        Repeated stratified K-fold cross-validation.
    classes : array_like, optional
        The label classes (passed to every aggregator).
    rng : None, int or numpy.random.Generator
        Seeds the folds and the copula model's quasi-Monte Carlo.

    Returns
    -------
    AggregatorChoice

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 400)
    >>> right = rng.random((400, 3)) < [0.9, 0.55, 0.5]   # one strong model, two weak ones
    >>> X = np.where(right, y[:, None], (y[:, None] + rng.integers(1, 4, (400, 3))) % 4)
    >>> choice = choose_aggregator(X, y, rng=0)
    >>> choice.chosen, choice.candidates[int(np.argmax(choice.accuracy))] == choice.best
    ('weighted-vote', True)
    """
    from llmcopula.selection.aggregation import AGGREGATORS, make_aggregator

    names = tuple(candidates)
    if not names or len(set(names)) != len(names):
        raise ValueError(f"candidates: expected distinct aggregator names, got {list(names)}")
    unknown = [a for a in names if a not in AGGREGATORS]
    if unknown:
        raise ValueError(f"candidates: unknown {unknown}; expected names of "
                         f"{list(AGGREGATORS)}")
    if rule not in CHOICE_RULES:
        raise ValueError(f"rule: expected one of {CHOICE_RULES}, got {rule!r}")
    n_splits = check_positive_int(n_splits, "n_splits", minimum=2)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    Xa, ya = np.asarray(X), np.asarray(y)
    if Xa.ndim != 2 or ya.ndim != 1 or Xa.shape[0] != ya.shape[0]:
        raise ValueError(f"X, y: expected shapes (n, k) and (n,), got {Xa.shape} and {ya.shape}")
    if ya.size < 2 * n_splits:
        raise ValueError(f"y: {ya.size} rows are too few for {n_splits}-fold cross-validation; "
                         "name an aggregator instead of choosing one")
    gen = check_rng(rng)
    _, y_idx = np.unique(ya, return_inverse=True)
    cls = np.unique(ya) if classes is None else classes
    seed = int(gen.integers(0, 2**31 - 1))

    def make(name: str) -> Any:
        options: dict[str, Any] = {"classes": cls}
        if "rng" in AGGREGATORS[name]().get_params():
            options["rng"] = seed
        return make_aggregator(name, **options)

    acc = np.empty((n_repeats, n_splits, len(names)))
    for r in range(n_repeats):
        fold = stratified_folds(y_idx, n_splits, gen)
        for f in range(n_splits):
            train, held = fold != f, fold == f
            for a, name in enumerate(names):
                acc[r, f, a] = make(name).fit(Xa[train], ya[train]).score(Xa[held], ya[held])
    mean = acc.mean(axis=(0, 1))
    best = int(np.argmax(mean))  # ties: the simpler (earlier) candidate
    root = np.sqrt(n_splits)
    se = (acc.std(axis=1, ddof=1) / root).mean(axis=0)
    diff_se = ((acc - acc[:, :, best:best + 1]).std(axis=1, ddof=1) / root).mean(axis=0)
    result = AggregatorChoice(names[best], names, mean, se, diff_se, names[best], rule,
                              n_splits, n_repeats)
    return replace(result, chosen=result.under(rule))


def resolve_aggregator(name: str, X: ArrayLike, y: ArrayLike, *, classes: ArrayLike | None = None,
                       rng: RNGLike = None) -> tuple[Any, AggregatorChoice | None]:
    """An aggregator fitted to ``(X, y)``: the one called ``name``, or for ``"auto"`` the one
    :func:`choose_aggregator` picks (rule ``"best"``, default candidates). Returns the fitted
    aggregator and the choice (None unless ``"auto"``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> y = rng.integers(0, 3, 300)
    >>> X = np.where(rng.random((300, 3)) < 0.8, y[:, None], (y[:, None] + 1) % 3)
    >>> agg, choice = resolve_aggregator("auto", X, y, rng=0)
    >>> type(agg).__name__ == {"majority-vote": "MajorityVote", "weighted-vote":
    ...     "WeightedMajorityVote", "copula-bayes": "CopulaBayesAggregator"}[choice.chosen]
    True
    """
    from llmcopula.selection.aggregation import AGGREGATORS, make_aggregator

    choice = None
    if name == AUTO:
        choice = choose_aggregator(X, y, classes=classes, rng=rng)
        name = choice.chosen
    if name not in AGGREGATORS:
        raise ValueError(f"aggregator: expected {AUTO!r} or one of {list(AGGREGATORS)}, got "
                         f"{name!r}")
    options: dict[str, Any] = {} if classes is None else {"classes": classes}
    if "rng" in AGGREGATORS[name]().get_params():
        options["rng"] = rng
    return make_aggregator(name, **options).fit(X, y), choice

"""Choosing which selected set to use by cross-validation on the training answers.

Greedy MI and top-k by training accuracy propose different sets on some training splits, and
neither is better on every split: MI favours models whose errors differ, top-k models that are
each accurate. :func:`auto_selection` runs each candidate selection method on the training
data, then scores every distinct proposed set by repeated stratified K-fold cross-validation of
the aggregator choice on that set's training answers
(:func:`~llmcopula.selection.choose_aggregator`; the same folds for every set, so the comparison
is paired) and keeps the set
whose best aggregator has the highest mean held-out accuracy. Ties go to the earlier candidate
method (greedy MI first). Only training data enter; the score is the one the ``"auto"``
aggregator maximises, so set and aggregator are chosen by one criterion.

The sets themselves are selected on all training queries, not re-selected inside each fold: the
cross-validation compares the proposed sets, it does not estimate the accuracy of the selection
procedure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.selection.result import SelectionResult

__all__ = ["SetChoice", "auto_selection", "DEFAULT_SET_CANDIDATES"]

#: Selection methods whose sets :func:`auto_selection` compares, in order of preference on ties.
DEFAULT_SET_CANDIDATES = ("greedy-mi", "top-k")


@dataclass(frozen=True)
class SetChoice:
    """What :func:`auto_selection` compared.

    Attributes
    ----------
    methods : tuple of str
        The candidate selection methods.
    sets : tuple of tuple of int
        The set each method proposed (in selection order).
    accuracy : ndarray, shape (M,)
        Cross-validated accuracy of the best aggregator on each method's set (methods proposing
        the same set share the value).
    aggregators : tuple of str
        That best aggregator per method.
    chosen : str
        The method whose set was kept.
    """

    methods: tuple[str, ...]
    sets: tuple[tuple[int, ...], ...]
    accuracy: NDArray[np.float64]
    aggregators: tuple[str, ...]
    chosen: str


def auto_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                   k: int | None = None, costs: ArrayLike | None = None,
                   names: Sequence[str] | None = None, estimator: Any = "plugin",
                   candidates: Sequence[str] = DEFAULT_SET_CANDIDATES, n_splits: int = 5,
                   n_repeats: int = 4, rng: RNGLike = None, warn_sparse: bool = True,
                   **kwargs: Any) -> SelectionResult:
    """Select with each of ``candidates`` and keep the set of highest cross-validated accuracy.

    Parameters
    ----------
    X : array_like, shape (n, M)
        Training answers of the pool.
    y : array_like, shape (n,)
        Training labels.
    budget, k, costs, names, estimator
        As for every selection method (:func:`~llmcopula.selection.select_models`); the
        estimator computes the reported MI and drives greedy MI.
    candidates : sequence of str
        Selection methods (names of :data:`~llmcopula.selection.SELECTION_METHODS`, not
        ``"auto"``), preferred in this order on ties.
    n_splits, n_repeats : int
        Repeated stratified K-fold cross-validation of
        :func:`~llmcopula.selection.choose_aggregator` on each set.
    rng : None, int or numpy.random.Generator
        Seeds the folds (shared by all sets) and the methods' randomness.
    warn_sparse : bool
    **kwargs
        Passed to the ``"greedy-mi"`` candidate (e.g. ``stop``).

    Returns
    -------
    SelectionResult
        The kept method's result, with ``method`` ``"auto"`` and the comparison (which method
        was kept: ``choice.chosen``) in :attr:`SelectionResult.choice` (a :class:`SetChoice`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 300)
    >>> right = rng.random((300, 4)) < [0.85, 0.8, 0.6, 0.55]
    >>> X = np.where(right, y[:, None], (y[:, None] + rng.integers(1, 4, (300, 4))) % 4)
    >>> result = auto_selection(X, y, k=2, rng=0, warn_sparse=False)
    >>> result.method, result.choice.chosen in ("greedy-mi", "top-k"), len(result.selected)
    ('auto', True, 2)
    """
    from llmcopula.selection.aggregator_choice import choose_aggregator
    from llmcopula.selection.methods import select_models

    methods = tuple(candidates)
    if not methods or len(set(methods)) != len(methods) or "auto" in methods:
        raise ValueError(f"candidates: expected distinct selection methods other than 'auto', "
                         f"got {list(methods)}")
    n_splits = check_positive_int(n_splits, "n_splits", minimum=2)
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    gen = check_rng(rng)
    seed = int(gen.integers(0, 2**31 - 1))
    # An integer seed is passed on unchanged, so that the folds (and hence the aggregator each
    # set's cross-validation finds best) are those of resolve_aggregator("auto", ..., rng=rng),
    # as ``llmcopula select`` calls it: set and aggregator are chosen on the same folds.
    cv_rng = int(rng) if isinstance(rng, (int, np.integer)) else seed
    Xa, ya = np.asarray(X), np.asarray(y)
    results = []
    for m in methods:
        options = dict(kwargs) if m == "greedy-mi" else {}
        results.append(select_models(Xa, ya, method=m, budget=budget, k=k, costs=costs,
                                     names=names, estimator=estimator, rng=cv_rng,
                                     warn_sparse=warn_sparse and m == methods[0], **options))
    classes = np.unique(ya)
    scores: dict[tuple[int, ...], tuple[float, str]] = {}
    for res in results:
        key = tuple(sorted(res.selected))
        if key in scores:
            continue
        if len(key) < 2 or ya.size < 2 * n_splits:
            scores[key] = (np.nan, "")  # nothing to aggregate or to cross-validate
            continue
        choice = choose_aggregator(Xa[:, list(key)], ya, classes=classes, n_splits=n_splits,
                                   n_repeats=n_repeats, rng=cv_rng)  # same folds for every set
        scores[key] = (float(np.max(choice.accuracy)), choice.best)
    acc = np.array([scores[tuple(sorted(r.selected))][0] for r in results])
    best = 0 if np.isnan(acc).all() else int(np.nanargmax(acc))  # ties: the earlier method
    info = SetChoice(methods, tuple(r.selected for r in results), acc,
                     tuple(scores[tuple(sorted(r.selected))][1] for r in results),
                     methods[best])
    return replace(results[best], method="auto", choice=info)

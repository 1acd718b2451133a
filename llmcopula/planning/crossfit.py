"""Honest predictions for tuned cascades by cross-fitting.

A cascade's thresholds are tuned on the same training queries that fit its model, so the model's
accuracy and cost at the tuned thresholds are in-sample values: optimistic in accuracy (the
tuner picks the thresholds where the model's estimate happens to be high) and, when the model
misjudges how often the cheap models escalate, off in cost. :func:`crossfit_frontier` replaces
them by K-fold cross-fitting (the cross-validation estimate of a tuning procedure; Stone 1974,
Hastie, Tibshirani and Friedman 2009, §7.10):

1. split the training queries into K folds;
2. for each fold, fit the method on the other K − 1 folds and tune the cascade's frontier there;
3. for each point p of the full-data frontier, with cost sensitivity λ_p, take the fold
   frontier's point that minimises the fold model's Lagrangian (1 − accuracy) + λ_p · cost (the
   rule the tuning procedure gives at λ_p on that fold's data), route the held-out fold's raw
   signals with its deployable rules and record the realised accuracy and cost;
   points without a λ (the budget form's, which fills gaps of the λ path) are matched to the
   fold point of nearest predicted cost;
4. average over folds, weighted by fold size.

Each held-out query is routed by rules that never saw it, so the average estimates the accuracy
and cost of the tuning procedure at λ_p on new queries from the same distribution (trained on a
fraction (K − 1)/K of the data: if anything slightly pessimistic). Matching by "the most
accurate fold point within p's cost" instead would be biased towards cheaper, less accurate
points (a fold frontier is discrete), which is why the nearest cost is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import NDArray

from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.datasets import ChainLog

__all__ = ["crossfit_frontiers", "match_points"]

FloatArray = NDArray[np.float64]


def match_points(accuracy: FloatArray, cost: FloatArray, target_lambdas: FloatArray | None,
                 target_cost: FloatArray) -> NDArray[np.intp]:
    """Index into a fold's frontier (its predicted ``accuracy`` and ``cost``) of the point
    matching each target point: the minimiser of the Lagrangian (1 − accuracy) + λ·cost at the
    target's λ where it has one (ties: the cheaper point, then the lower index); otherwise (no λ,
    or NaN: points added by the budget form) the point of nearest predicted cost (ties: the more
    accurate).

    Examples
    --------
    >>> acc, cost = np.array([0.6, 0.8, 0.9]), np.array([1.0, 5.0, 20.0])
    >>> match_points(acc, cost, np.array([0.0, 0.02, 1.0]), np.zeros(3)).tolist()
    [2, 1, 0]
    >>> match_points(acc, cost, None, np.array([0.5, 6.0, 30.0])).tolist()
    [0, 1, 2]
    """
    target_cost = np.asarray(target_cost, dtype=np.float64)
    lam = (np.full(target_cost.size, np.nan) if target_lambdas is None
           else np.asarray(target_lambdas, dtype=np.float64))
    order = np.lexsort((np.arange(cost.size), cost))  # cheaper first, then lower index
    objective = (1.0 - accuracy[order])[None, :] + np.nan_to_num(lam)[:, None] * cost[order]
    by_lambda = order[np.argmin(objective, axis=1)]
    by_cost_order = np.lexsort((np.arange(cost.size), -accuracy))  # more accurate first
    distance = np.abs(cost[by_cost_order][None, :] - target_cost[:, None])
    by_cost = by_cost_order[np.argmin(distance, axis=1)]
    return np.where(np.isnan(lam), by_cost, by_lambda).astype(np.intp)


def _fold_frontiers(method: str, train: ChainLog, held: ChainLog,
                    cascades: Sequence[Sequence[int]], options, seeds: Sequence[int]
                    ) -> list:
    from llmcopula.cascade.methods import get_method, run_method

    fitted = get_method(method).fit(train, options)
    return [run_method(method, train, held, cas, options=options, rng=int(s), fitted=fitted)[0]
            for cas, s in zip(cascades, seeds)]


def crossfit_frontiers(method: str, train: ChainLog, cascades: Sequence[Sequence[int]],
                       frontiers: Sequence, *, options=None, n_folds: int = 5,
                       n_jobs: int = 1, rng: RNGLike = None
                       ) -> list[tuple[FloatArray, FloatArray]]:
    """Cross-fitted accuracy and cost of every point of each of ``frontiers`` (the full-data
    frontiers of ``cascades`` tuned by ``method`` on ``train``); see the module docstring.

    Returns one ``(accuracy, cost)`` pair of arrays per frontier, cost in the frontier's unit
    (USD per million queries). Folds run in parallel with ``n_jobs``.
    """
    from llmcopula.cascade.methods import MethodOptions

    n_folds = check_positive_int(n_folds, "n_folds", minimum=2)
    if train.n_queries < 2 * n_folds:
        raise ValueError(f"n_folds: {train.n_queries} training queries are too few for "
                         f"{n_folds}-fold cross-fitting")
    if len(frontiers) != len(cascades):
        raise ValueError("frontiers: expected one frontier per cascade")
    gen = check_rng(rng)
    fold = gen.permutation(np.arange(train.n_queries) % n_folds)
    seeds = gen.integers(0, 2**31 - 1, size=len(cascades))
    opts = MethodOptions() if options is None else options
    runs = Parallel(n_jobs=n_jobs)(
        delayed(_fold_frontiers)(method, train.take(fold != f), train.take(fold == f),
                                 cascades, opts, seeds) for f in range(n_folds))
    weights = np.bincount(fold, minlength=n_folds) / train.n_queries
    out = []
    for c, full in enumerate(frontiers):
        acc = np.zeros(len(full))
        cost = np.zeros(len(full))
        for f in range(n_folds):
            part = runs[f][c]
            idx = match_points(np.asarray(part.accuracy), np.asarray(part.cost),
                               None if full.lambdas is None else np.asarray(full.lambdas),
                               np.asarray(full.cost))
            acc += weights[f] * np.asarray(part.test_accuracy)[idx]
            cost += weights[f] * np.asarray(part.test_cost)[idx]
        out.append((acc, cost))
    return out

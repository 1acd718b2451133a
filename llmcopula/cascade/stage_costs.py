"""The cost a cascade's rules will cost: each stage's cost conditional on the queries that reach
it.

A call's cost depends on the query (the answer's length), and the queries a rule defers are not
typical ones: their confidences are low, and on some benchmarks so is the length of their
answers, or a few deferred queries run to very long answers. The expected cost of a cascade is

.. math::

    E[\\text{cost}] = \\sum_j P(\\text{reach } j)\\, E[c_j \\mid \\text{reach } j],

and the model of the confidences only gives the first factor. Taking the second as the model's
mean cost over *all* queries (what the tuner's objective does for the Markov-copula model)
biases the promise whenever cost and confidence are dependent. Here the conditional mean is
estimated by routing the training queries with the rules themselves, exactly as they will be
deployed (raw signals, directions, ties defer): ``c̄_j`` is the mean cost of model j over the
training queries that reach stage j. This needs no assumption on how cost depends on the
confidences (a binned or parametric cost model would), and it is exact where the model is the
data: with the empirical reach shares, Σ_j share_j · c̄_j is the training log's routed cost.
Where no training query reaches a stage its mean cost over all queries is used.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .routing import answering_stage_raw

__all__ = ["routed_stage_costs", "conditional_expected_cost"]

FloatArray = NDArray[np.float64]


def routed_stage_costs(raw: FloatArray, cost: FloatArray, directions: tuple[str, ...],
                       thresholds: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Mean cost of each stage's model over the training queries that reach the stage, and the
    share of queries that reach it.

    Parameters
    ----------
    raw : ndarray of shape (n, k)
        Raw signals of the cascade's models on the training queries.
    cost : ndarray of shape (n, k)
        Cost of each call (any unit; the result has the same unit).
    directions : tuple of str, length k − 1
    thresholds : ndarray of shape (P, k − 1)
        Raw thresholds (±inf allowed, absolute).

    Returns
    -------
    stage_cost : ndarray of shape (P, k)
        c̄_j; the mean cost of model j over all queries where none reaches stage j.
    reach_share : ndarray of shape (P, k)
        Share of the training queries that reach stage j (column 0 is 1).

    Examples
    --------
    >>> raw = np.array([[0.9, 0.0], [0.1, 0.0], [0.2, 0.0]])
    >>> cost = np.array([[1.0, 10.0], [1.0, 40.0], [1.0, 20.0]])
    >>> c, share = routed_stage_costs(raw, cost, ("above",), np.array([[0.5]]))
    >>> c.tolist(), share.tolist()   # queries 2 and 3 reach stage 2: (40 + 20) / 2
    ([[1.0, 30.0]], [[1.0, 0.6666666666666666]])
    """
    n, k = cost.shape
    stop = answering_stage_raw(raw, directions, thresholds)  # (P, n)
    reach = stop[:, :, None] >= np.arange(k)[None, None, :]  # (P, n, k)
    count = reach.sum(axis=1)
    total = np.einsum("pik,ik->pk", reach, cost)
    mean_all = cost.mean(axis=0)
    stage_cost = np.where(count > 0, total / np.maximum(count, 1), mean_all[None, :])
    return stage_cost, count / n


def conditional_expected_cost(stage_probabilities: FloatArray, stage_cost: FloatArray
                              ) -> FloatArray:
    """Σ_j P(reach j) · c̄_j with P(reach j) = Σ_{l >= j} P(stage l answers); shapes (P, k)
    → (P,).

    >>> conditional_expected_cost(np.array([[0.5, 0.5]]), np.array([[1.0, 30.0]])).tolist()
    [16.0]
    """
    reach = np.cumsum(stage_probabilities[:, ::-1], axis=1)[:, ::-1]
    return np.einsum("pk,pk->p", reach, stage_cost)

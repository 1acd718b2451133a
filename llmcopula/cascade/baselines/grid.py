"""Grid-search baseline: the paper's exhaustive search over training quantiles.

For each threshold t_j (j < k) the candidates are the empirical quantiles of stage j's
calibrated training confidences at q = 0.01, 0.035, …, 0.985 (40 per axis), and every point of
the Cartesian product — 40^{k−1}, i.e. 2.56 million for k = 5 — is scored on the training
queries (:mod:`._empirical`); the Pareto set over (low cost, high accuracy) is the baseline's
frontier (Zellinger & Thomson, arXiv 2501.09345, v1/v2).

Why not route every query for every candidate: that is 2.56 M × n comparisons per stage. The
decision rule only depends on each query's *rank* r_j(q) = #{grid values < Φ_j(q)}: stage j
accepts at grid index i_j iff i_j < r_j(q). So a stage's contribution, as a function of the
candidate's indices, is a sum over queries of products of step functions of one index each —
a histogram over ranks turned into cumulative sums (prefix sums over the deferring stages,
a suffix sum over the answering one). The whole grid costs O(n·k + k·41^{k−1}) operations and
memory of one grid-sized array, independent of how candidates would be chunked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...calibration import Calibrator
from ...calibration.rules import raw_rules
from ...datasets import ChainLog
from ..cascades import check_cascade
from ..frontier import Frontier
from ..routing import pareto_mask
from ._empirical import accepts_model_first, baseline_inputs, score_thresholds, stage_values

__all__ = ["GRID_QUANTILES", "grid_search", "grid_scores"]

FloatArray = NDArray[np.float64]

#: The paper's candidate quantile levels, ``np.arange(0.01, 0.99, 0.025)`` (40 values).
GRID_QUANTILES: FloatArray = np.arange(0.01, 0.99, 0.025)


def grid_scores(confidence: FloatArray, values: FloatArray, cum_cost: FloatArray,
                grids: Sequence[FloatArray]) -> tuple[FloatArray, FloatArray]:
    """Empirical accuracy and cost of every threshold vector of a Cartesian grid.

    Parameters
    ----------
    confidence : ndarray of shape (n, k)
        Calibrated confidences of the cascade's stages on the training queries.
    values : ndarray of shape (n, k)
        What a query answered at stage j contributes to "correctness": its calibrated confidence
        (the paper) or its 0/1 label.
    cum_cost : ndarray of shape (k,)
        Cumulative mean cost of stopping at each stage.
    grids : sequence of k − 1 sorted 1-d arrays
        Candidate thresholds of each non-final stage.

    Returns
    -------
    accuracy, cost : ndarrays of shape (len(grids[0]), …, len(grids[k−2]))
        Mean correctness and mean cost at thresholds ``(grids[0][i0], grids[1][i1], …)``,
        equal (to rounding) to :func:`score_thresholds` at every grid point.

    Examples
    --------
    >>> import numpy as np
    >>> conf = np.array([[0.9, 0.5], [0.2, 0.8], [0.6, 0.3]])
    >>> acc, cost = grid_scores(conf, conf, np.array([1.0, 3.0]), [np.array([0.1, 0.7])])
    >>> acc.round(3).tolist(), cost.tolist()
    ([0.567, 0.667], [1.0, 2.3333333333333335])
    """
    n, k = confidence.shape
    if len(grids) != k - 1:
        raise ValueError(f"grids: expected {k - 1} axes for {k} stages, got {len(grids)}")
    sizes = tuple(len(g) for g in grids)
    if k == 1:
        return np.asarray(values[:, 0].mean()), np.asarray(cum_cost[0])
    # r_j(q) in 0..G_j: stage j accepts at grid index i iff i < r_j(q) (sorted grid, strict >).
    ranks = np.column_stack([np.searchsorted(np.asarray(g), confidence[:, j], side="left")
                             for j, g in enumerate(grids)])
    accuracy = np.zeros(sizes)
    usage_cost = np.zeros(sizes)
    for j in range(k):
        axes = min(j + 1, k - 1)  # indices the stage-j event depends on
        shape = tuple(s + 1 for s in sizes[:axes])
        flat = np.ravel_multi_index(tuple(ranks[:, :axes].T), shape)
        for target, weight in ((accuracy, values[:, j]), (usage_cost, None)):
            hist = np.bincount(flat, weights=weight, minlength=int(np.prod(shape)))
            term = hist.reshape(shape)
            for ax in range(axes):
                term = np.cumsum(term, axis=ax)
                if ax == j:  # answering stage: sum over r > i = total − prefix up to i
                    term = np.take(term, [-1], axis=ax) - term
                term = np.take(term, np.arange(sizes[ax]), axis=ax)
            term = term.reshape(term.shape + (1,) * (k - 1 - axes))
            if weight is None:
                target += term * cum_cost[j]
            else:
                target += term
    return accuracy / n, usage_cost / n


@accepts_model_first
def grid_search(log: ChainLog, cascade: Sequence[int] | None = None, *,
                calibrators: Sequence[Calibrator] | None = None, costs: ArrayLike | None = None,
                quantiles: ArrayLike | None = None, score: str = "confidence",
                pareto: bool = True) -> Frontier:
    """The grid-search baseline: Pareto set of the empirical scores of a quantile grid.

    Parameters
    ----------
    log : ChainLog
        The training log.
    cascade : sequence of int, optional
        Chain indices; default the whole chain.
    calibrators : sequence of Calibrator, optional
        One fitted calibrator per model of ``log`` (for example ``model.calibrators_`` of a
        fitted cascade model, so that both methods share the calibrated scale); default Platt
        calibrators fitted on ``log`` (the transform chosen by its signal).
    costs : array_like of shape (K,), optional
        Mean cost of one call of each model, USD per million queries; default the log's.
    quantiles : array_like, optional
        Quantile levels of the candidates on every axis; default :data:`GRID_QUANTILES`
        (the paper's 40 levels).
    score : {"confidence", "labels"}
        Correctness of a training query answered at stage j: its calibrated confidence (the
        paper) or its label.
    pareto : bool
        Keep only the Pareto set (the paper; exact comparisons, ``tol=0``); otherwise every
        candidate is returned (beware: 40^{k−1} points).

    Returns
    -------
    Frontier
        ``method="grid"`` (``"grid-labels"`` with ``score="labels"``); ``accuracy``/``cost`` are
        the empirical training values; points sorted by cost.

    Notes
    -----
    The earlier form ``grid_search(model, log, cascade, ...)`` with a fitted cascade model still
    works for one release (with a ``DeprecationWarning``): it uses the model's calibrators and
    costs.

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> train = load_benchmark("mmlu", "llama", split="train")
    >>> front = grid_search(train, (0, 2, 4))
    >>> front.method, bool(len(front) > 5), bool((abs(front.stage_probabilities.sum(1) - 1) < 1e-12).all())
    ('grid', True, True)
    """
    calibrators, costs = baseline_inputs(log, calibrators, costs)
    cas = check_cascade(cascade, log.n_models)
    conf, values, cum_cost = stage_values(log, cas, score, calibrators=calibrators, costs=costs)
    q = GRID_QUANTILES if quantiles is None else np.asarray(quantiles, dtype=np.float64)
    if q.ndim != 1 or q.size == 0 or np.any(~np.isfinite(q)) or np.any((q < 0) | (q > 1)):
        raise ValueError("quantiles: expected a non-empty 1-d array of levels in [0, 1]")
    grids = [np.quantile(conf[:, j], np.sort(q)) for j in range(len(cas) - 1)]
    acc, cost = grid_scores(conf, values, cum_cost, grids)
    acc, cost = acc.ravel(), cost.ravel()
    idx = np.flatnonzero(pareto_mask(cost, acc, tol=0.0)) if pareto else np.arange(acc.size)
    idx = idx[np.lexsort((-acc[idx], cost[idx]))]
    if len(cas) > 1:
        multi = np.unravel_index(idx, tuple(len(g) for g in grids))
        t = np.column_stack([g[i] for g, i in zip(grids, multi)])
    else:
        t = np.empty((idx.size, 0))
    usage = score_thresholds(conf, values, cum_cost, t)["stage_usage"]
    method = "grid" if score == "confidence" else "grid-labels"
    directions, raw = raw_rules([calibrators[m] for m in cas[:-1]], t)
    return Frontier(
        models=tuple(log.models[m] for m in cas), cascade=cas, method=method, thresholds=t,
        raw_thresholds=raw, directions=directions,
        accuracy=acc[idx], cost=cost[idx],
        stage_probabilities=usage,
        info={"n_candidates": int(acc.size), "quantiles": q.tolist(), "score": score},
    )

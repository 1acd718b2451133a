"""The hindsight oracle: the limit no threshold tuner can pass, computed on labelled test data.

A cascade pays the cumulative cost of every stage it runs. Knowing the labels, the cheapest way
to answer query q correctly is to stop at its first correct stage j*(q) (stages are ordered by
cost), paying C_{j*}(q) = Σ_{i ≤ j*} c_i(q); a query no stage answers correctly is best stopped at
stage 1 (it is wrong anyway). That router is the **oracle point**: the highest accuracy any
router of the cascade can reach, at the lowest cost of reaching it.

The **oracle curve** is the hindsight frontier below that cost: starting from "every query stops
at stage 1", upgrade the queries stage 1 gets wrong but a later stage gets right, cheapest
upgrade first. Every upgrade gains exactly one correct answer, so this greedy order gives the
highest accuracy reachable with hindsight for every budget (a knapsack with unit values is
solved by taking the lightest items). Beyond the oracle point's cost the curve stays flat: more
money cannot buy more than all the correct answers there are.

The issue's variant, where a query no stage answers correctly goes to the *last* model, costs
more at the same accuracy; it is available as ``fallback="last"`` and only moves the endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ...datasets import ChainLog
from ..cascades import check_cascade
from ..frontier import Frontier

__all__ = ["oracle_frontier"]

FloatArray = NDArray[np.float64]


def oracle_frontier(log: ChainLog, cascade: Sequence[int] | None = None, *,
                    fallback: str = "first", curve: bool = True,
                    max_points: int = 200) -> Frontier:
    """Hindsight error–cost frontier of a cascade on a labelled log.

    Parameters
    ----------
    log : ChainLog
        Labelled (test) log with per-query costs.
    cascade : sequence of int, optional
        Chain indices; default the whole chain.
    fallback : {"first", "last"}
        Where a query that no stage answers correctly stops: stage 1 (cheapest; default) or the
        last stage.
    curve : bool
        Return the greedy hindsight curve ending at the oracle point (default), or only the
        oracle point.
    max_points : int
        The curve has one knot per upgraded query; it is thinned to about this many knots
        (always keeping both ends), which changes its area by less than the thinning step.

    Returns
    -------
    Frontier
        ``method="oracle"``; ``accuracy``/``cost`` *and* ``test_accuracy``/``test_cost`` are the
        hindsight values on ``log`` (USD per million queries). Thresholds are NaN: no threshold
        rule realises the oracle.

    Examples
    --------
    >>> from llmcopula.datasets import ChainLog
    >>> log = ChainLog.from_arrays(["a", "b"], [[0, 0], [0, 0], [0, 0]],
    ...                            correct=[[1, 1], [0, 1], [0, 0]], cost=[[1e-6, 4e-6]] * 3)
    >>> front = oracle_frontier(log, curve=False)
    >>> float(front.test_accuracy[0]), float(front.test_cost[0])
    (0.6666666666666666, 2.3333333333333335)
    """
    if not isinstance(log, ChainLog):
        raise ValueError(f"log: expected a ChainLog, got {type(log).__name__}")
    if fallback not in ("first", "last"):
        raise ValueError(f"fallback: expected 'first' or 'last', got {fallback!r}")
    if int(max_points) < 2:
        raise ValueError(f"max_points: must be >= 2, got {max_points}")
    cas = list(check_cascade(cascade, log.n_models))
    k = len(cas)
    correct = log.correct[:, cas].astype(bool)
    cum = np.cumsum(log.cost[:, cas], axis=1) * 1e6
    n = log.n_queries
    any_correct = correct.any(axis=1)
    first = np.where(any_correct, np.argmax(correct, axis=1), 0 if fallback == "first" else k - 1)
    rows = np.arange(n)
    base_cost, base_acc = cum[:, 0].mean(), correct[:, 0].mean()
    if curve and k > 1:
        extra = cum[rows, first] - cum[:, 0]  # cost of the hindsight route over stage 1
        gain = (any_correct & ~correct[:, 0]).astype(np.float64)
        order = np.lexsort((-gain, extra))  # gaining upgrades first at equal cost
        order = order[gain[order] > 0]
        rest = np.setdiff1d(np.flatnonzero(first > 0), order)  # zero-gain moves ("last" only)
        steps = np.concatenate([order, rest])
        cost = base_cost + np.concatenate([[0.0], np.cumsum(extra[steps])]) / n
        acc = base_acc + np.concatenate([[0.0], np.cumsum(gain[steps])]) / n
        moves = np.zeros((steps.size + 1, k))
        moves[1 + np.arange(steps.size), first[steps]] = 1.0  # one query leaves stage 1 per step
        moves[1:, 0] -= 1.0
        moves[0, 0] = n
        stop = np.cumsum(moves, axis=0) / n
        if cost.size > max_points:
            keep = np.unique(np.linspace(0, cost.size - 1, max_points).round().astype(int))
            cost, acc, stop = cost[keep], acc[keep], stop[keep]
    else:
        cost = np.array([cum[rows, first].mean()])
        acc = np.array([any_correct.mean() if k > 1 else base_acc])
        stop = np.bincount(first, minlength=k)[None, :] / n
    nan = np.full((cost.size, k - 1), np.nan)
    return Frontier(
        models=tuple(log.models[m] for m in cas), cascade=tuple(cas), method="oracle",
        thresholds=nan, raw_thresholds=nan.copy(), accuracy=acc, cost=cost,
        stage_probabilities=stop, test_accuracy=acc.copy(), test_cost=cost.copy(),
        info={"fallback": fallback, "curve": bool(curve)},
    )

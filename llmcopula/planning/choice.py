"""The budget rule: among candidates whose predicted cost fits, the one predicted most accurate."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import check_finite_array

__all__ = ["best_under_budget"]


def best_under_budget(predicted_accuracy: ArrayLike, predicted_cost: ArrayLike,
                      budgets: ArrayLike) -> NDArray[np.intp]:
    """Index of the candidate with the highest predicted accuracy whose predicted cost is within
    each budget; −1 where no candidate fits.

    Ties in predicted accuracy go to the cheaper candidate, then to the lower index. Only
    predictions enter the rule (training data); test results never choose.

    Parameters
    ----------
    predicted_accuracy, predicted_cost : array_like, shape (P,)
        One entry per candidate (cost in the budget's unit, e.g. USD per million queries).
    budgets : array_like, shape (B,)

    Returns
    -------
    ndarray of int, shape (B,)

    Examples
    --------
    >>> best_under_budget([0.7, 0.8, 0.8, 0.9], [10, 30, 20, 50], [5, 25, 40, 100]).tolist()
    [-1, 2, 2, 3]
    """
    acc = check_finite_array(predicted_accuracy, "predicted_accuracy", ndim=1)
    cost = check_finite_array(predicted_cost, "predicted_cost", ndim=1)
    if acc.shape != cost.shape:
        raise ValueError(f"predicted_cost: expected shape {acc.shape} like predicted_accuracy, "
                         f"got {cost.shape}")
    b = check_finite_array(np.atleast_1d(np.asarray(budgets, dtype=np.float64)), "budgets",
                           ndim=1)
    out = np.full(b.size, -1, dtype=np.intp)
    if acc.size == 0:
        return out
    # Order candidates best first (accuracy down, then cost up, then index up); the first one
    # that fits a budget is its choice.
    order = np.lexsort((np.arange(acc.size), cost, -acc))
    fits = cost[order][None, :] <= b[:, None]  # (B, P)
    first = np.argmax(fits, axis=1)
    found = fits[np.arange(b.size), first]
    out[found] = order[first[found]]
    return out

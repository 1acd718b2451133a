"""The routing rule of a cascade and the Pareto filter of error–cost points: one implementation
of each, used by the evaluation code, the tuner's frontier and the baselines.

Routing rule
------------
Stage j < k of a cascade answers a query iff its confidence is **strictly above** its threshold,
c_j > t_j, and no earlier stage answered; the last stage always answers. **Ties defer**: a
confidence equal to the threshold sends the query on. The rule is the same on the calibrated
scale (Φ_j > t_j) and on the raw signal with the equivalent raw thresholds (raw_j > r_j; see
:func:`llmcopula.calibration.raw_thresholds`). The models' predicted stage probabilities use the
same convention: stage j defers on the event {Φ_j <= t_j}.

Pareto rule
-----------
An error–cost point is kept unless another point is at most as costly and more accurate by more
than ``tol``. Of points whose accuracies agree within ``tol`` the cheapest is kept; at equal cost
the most accurate; of exact duplicates, the first in input order. See ``docs/evaluation.md``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..calibration.rules import DIRECTIONS, accepts_raw
from .cascades import check_thresholds

__all__ = ["route", "route_raw", "answering_stage", "answering_stage_raw", "pareto_mask"]

FloatArray = NDArray[np.float64]


def answering_stage(confidence: FloatArray, thresholds: FloatArray) -> NDArray[np.intp]:
    """The routing kernel without input checks: ``confidence`` (n, k) and ``thresholds``
    (P, k − 1) float arrays; returns the 0-based answering stage, shape (P, n). Memory O(P·n·k).
    """
    accept = confidence[None, :, :-1] > thresholds[:, None, :]  # ties defer
    accept = np.concatenate([accept, np.ones(accept.shape[:2] + (1,), dtype=bool)], axis=2)
    return np.argmax(accept, axis=2)


def answering_stage_raw(raw: FloatArray, directions: tuple[str, ...], thresholds: FloatArray
                        ) -> NDArray[np.intp]:
    """The routing kernel of deployable rules on raw signals, without input checks: ``raw``
    (n, k), one direction per stage but the last, ``thresholds`` (P, k − 1); returns the
    0-based answering stage, shape (P, n). Infinite thresholds are absolute and NaN never
    accepts (the rule semantics of :mod:`llmcopula.policy`)."""
    n, k = raw.shape
    accept = np.ones((thresholds.shape[0], n, k), dtype=bool)
    for j, direction in enumerate(directions):
        accept[:, :, j] = accepts_raw(raw[None, :, j], direction, thresholds[:, j, None])
    return np.argmax(accept, axis=2)


def route_raw(raw: ArrayLike, directions: tuple[str, ...] | list[str], thresholds: ArrayLike
              ) -> NDArray[np.intp]:
    """The stage that answers each query under raw-signal rules: stage j < k accepts iff
    raw_j > r_j ("above") or raw_j < r_j ("below"), ties defer, the last stage always answers.

    Parameters
    ----------
    raw : array_like of shape (n, k)
    directions : sequence of {"above", "below"}, length k − 1
    thresholds : array_like of shape (k − 1,) or (P, k − 1); ±inf allowed (absolute)

    Returns
    -------
    ndarray of shape (P, n)

    Examples
    --------
    >>> route_raw([[-0.1, -2.0], [-3.0, -0.5]], ["below"], [-1.0]).tolist()
    [[1, 0]]
    >>> route_raw([[-np.inf, -2.0]], ["above"], [-np.inf]).tolist()  # absolute -inf
    [[0]]
    """
    x = np.asarray(raw, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"raw: expected shape (n, k), got {x.shape}")
    dirs = tuple(directions)
    if len(dirs) != x.shape[1] - 1 or any(d not in DIRECTIONS for d in dirs):
        raise ValueError(f"directions: expected {x.shape[1] - 1} of {DIRECTIONS}, got {dirs}")
    t = np.asarray(thresholds, dtype=np.float64)
    t = t[None, :] if t.ndim == 1 else t
    if t.ndim != 2 or t.shape[1] != x.shape[1] - 1 or np.isnan(t).any():
        raise ValueError(f"thresholds: expected shape (P, {x.shape[1] - 1}) without NaN, got "
                         f"{t.shape}")
    return answering_stage_raw(x, dirs, t)


def route(confidence: ArrayLike, thresholds: ArrayLike) -> NDArray[np.intp]:
    """The stage that answers each query.

    Parameters
    ----------
    confidence : array_like of shape (n, k)
        Confidences of the cascade's models on each query (calibrated, or raw together with
        raw thresholds: the rule is the same).
    thresholds : array_like of shape (k − 1,) or (P, k − 1)

    Returns
    -------
    ndarray of shape (P, n)
        0-based stage index per threshold vector and query.

    Examples
    --------
    >>> route([[0.9, 0.2], [0.4, 0.8]], [0.5]).tolist()
    [[0, 1]]
    >>> route([[0.5, 0.2]], [0.5]).tolist()  # a tie defers
    [[1]]
    """
    conf = np.asarray(confidence, dtype=np.float64)
    if conf.ndim != 2:
        raise ValueError(f"confidence: expected shape (n, k), got {conf.shape}")
    if np.isnan(conf).any():
        raise ValueError("confidence: contains NaN")
    t = check_thresholds(thresholds, conf.shape[1])
    return answering_stage(conf, t)


def pareto_mask(cost: ArrayLike, accuracy: ArrayLike, *, tol: float = 1e-6
                ) -> NDArray[np.bool_]:
    """Points not dominated by another (see the module's Pareto rule).

    Vectorised for millions of points: after sorting by (cost, −accuracy) only the strict
    running-maximum records of accuracy can be kept, and with ``tol > 0`` the records are
    thinned so that each kept point beats the previous kept one by more than ``tol``.

    Parameters
    ----------
    cost, accuracy : array_like of shape (P,)
    tol : float, default 1e-6
        Accuracy differences up to ``tol`` count as ties (0: exact comparisons).

    Examples
    --------
    >>> pareto_mask([1.0, 2.0, 2.0, 3.0], [0.5, 0.7, 0.6, 0.7]).tolist()
    [True, True, False, False]
    >>> pareto_mask([1.0, 2.0], [0.5, 0.5 + 1e-7]).tolist(), pareto_mask(
    ...     [1.0, 2.0], [0.5, 0.5 + 1e-7], tol=0).tolist()
    ([True, False], [True, True])
    """
    cost = np.asarray(cost, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    if cost.ndim != 1 or cost.shape != accuracy.shape:
        raise ValueError(f"cost, accuracy: expected two 1-d arrays of equal length, got shapes "
                         f"{cost.shape} and {accuracy.shape}")
    if np.isnan(cost).any() or np.isnan(accuracy).any():
        raise ValueError("cost, accuracy: contain NaN")
    if not tol >= 0:
        raise ValueError(f"tol: must be >= 0, got {tol!r}")
    order = np.lexsort((-accuracy, cost))  # by cost, then best accuracy first
    acc_sorted = accuracy[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc_sorted)[:-1]])
    keep_sorted = acc_sorted > best_before
    if tol > 0:
        # A point kept under the tolerance is a strict record; walk the records only (a
        # frontier has at most thousands of them, not data rows).
        best = -np.inf
        for i in np.flatnonzero(keep_sorted):
            if acc_sorted[i] > best + tol:
                best = acc_sorted[i]
            else:
                keep_sorted[i] = False
    keep = np.zeros(cost.size, dtype=bool)
    keep[order] = keep_sorted
    return keep

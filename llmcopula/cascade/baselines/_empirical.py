"""Empirical (training-data) scores of cascade thresholds, shared by the baselines.

A baseline chooses thresholds by what they achieve on the training queries themselves, not on a
fitted model. For thresholds t the answering stage of query q is the first stage j < k with
Φ_j(q) > t_j (ties defer), else the last stage; then

* utilisation of stage j = fraction of training queries it answers,
* "correctness" = mean over queries of the answering stage's calibrated confidence (the paper's
  grid search, Zellinger & Thomson arXiv 2501.09345, §6.1 of our notes) or of its 0/1 label,
* cost = Σ_j utilisation_j · C_j with C_j the cumulative mean cost of stages 1..j.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ...datasets import ChainLog
from ..cascades import check_cascade

__all__ = ["ScoreKind", "stage_values", "score_thresholds", "pareto_mask_fast"]

FloatArray = NDArray[np.float64]
ScoreKind = Literal["confidence", "labels"]
_SCORES = ("confidence", "labels")


def stage_values(model, log: ChainLog, cascade: Sequence[int], score: str
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(calibrated confidences (n, k), per-stage correctness values (n, k), cumulative mean stage
    costs (k,)) of a cascade on a log, for the empirical objective."""
    if score not in _SCORES:
        raise ValueError(f"score: expected one of {_SCORES}, got {score!r}")
    if not hasattr(model, "calibrators_"):
        raise ValueError("model: not fitted yet; call fit(log) first")
    if not isinstance(log, ChainLog):
        raise ValueError(f"log: expected a ChainLog, got {type(log).__name__}")
    if tuple(log.models) != tuple(model.models_):
        raise ValueError(f"log: its models {log.models} differ from the model's {model.models_}")
    cas = list(check_cascade(cascade, len(model.models_)))
    conf = model.calibrate(log)[:, cas]
    values = conf if score == "confidence" else log.correct[:, cas].astype(np.float64)
    cum_cost = np.cumsum(np.asarray(model.costs_, dtype=np.float64)[cas])
    return conf, values, cum_cost


def score_thresholds(confidence: FloatArray, values: FloatArray, cum_cost: FloatArray,
                     thresholds: FloatArray) -> dict[str, FloatArray]:
    """Empirical accuracy (mean value of the answering stage), cost and stage usage at each row
    of ``thresholds`` (P, k − 1). Memory is O(P·n); used for modest P (BO, frontier points)."""
    t = np.atleast_2d(np.asarray(thresholds, dtype=np.float64))
    n, k = confidence.shape
    accept = confidence[None, :, :-1] > t[:, None, :]
    accept = np.concatenate([accept, np.ones(accept.shape[:2] + (1,), dtype=bool)], axis=2)
    stage = np.argmax(accept, axis=2)  # (P, n)
    rows = np.arange(n)
    acc = values[rows[None, :], stage].mean(axis=1)
    usage = np.stack([(stage == j).mean(axis=1) for j in range(k)], axis=1)
    return {"accuracy": acc, "cost": usage @ cum_cost, "stage_usage": usage}


def pareto_mask_fast(cost: FloatArray, accuracy: FloatArray) -> NDArray[np.bool_]:
    """Vectorised :func:`~llmcopula.cascade.pareto_mask` for millions of points: after sorting
    by (cost, −accuracy) a point is kept iff it is strictly more accurate than every cheaper
    (or equally cheap, earlier) point."""
    cost = np.asarray(cost, dtype=np.float64)
    accuracy = np.asarray(accuracy, dtype=np.float64)
    order = np.lexsort((-accuracy, cost))
    acc_sorted = accuracy[order]
    best_before = np.concatenate([[-np.inf], np.maximum.accumulate(acc_sorted)[:-1]])
    keep = np.zeros(cost.size, dtype=bool)
    keep[order] = acc_sorted > best_before
    return keep

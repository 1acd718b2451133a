"""Offline scoring of cascades on labelled logs, and the error–cost area.

Scoring replays recorded outputs with the routing rule of :mod:`.routing` (stage j answers iff
its confidence is strictly above its threshold, ties defer; the last stage always answers). A
query that stops at stage j costs the sum of the recorded costs of stages 1..j (every earlier
model was called). The protocol is described in ``docs/evaluation.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..calibration import Calibrator, calibrate
from ..datasets import ChainLog
from .base import CalibratedChainModel
from .cascades import check_cascade
from .frontier import Frontier
from .routing import answering_stage_raw, route

__all__ = ["route", "score_cascade", "evaluate_frontier", "error_cost_area", "percent_change"]

FloatArray = NDArray[np.float64]


def score_cascade(log: ChainLog, cascade: Sequence[int], thresholds: ArrayLike, *,
                  confidence: ArrayLike | None = None,
                  directions: Sequence[str] | None = None) -> dict[str, FloatArray]:
    """Empirical accuracy, mean cost and stage usage of a cascade on a labelled log.

    Parameters
    ----------
    log : ChainLog
        Recorded outputs with correctness labels and per-query costs.
    cascade : sequence of int
        Chain indices of the cascade's models.
    thresholds : array_like of shape (k − 1,) or (P, k − 1)
        Thresholds on the scale of ``confidence``.
    confidence : array_like of shape (n, K), optional
        Confidences of all chain models (e.g. ``model.calibrate(log)``); default the log's raw
        signal, to be used with raw thresholds.
    directions : sequence of {"above", "below"}, optional
        Route the log's raw signals with deployable rules (:func:`~.routing.route_raw`): stage
        j accepts iff raw > r_j ("above") or raw < r_j ("below"), infinite thresholds absolute.
        Not with ``confidence``.

    Returns
    -------
    dict with ``accuracy`` (P,), ``cost`` (P,) in USD per million queries, and ``stage_usage``
    (P, k), the fraction of queries each stage answers.
    """
    cas = check_cascade(cascade, log.n_models)
    conf = log.confidence if confidence is None else np.asarray(confidence, dtype=np.float64)
    if conf.shape != log.confidence.shape:
        raise ValueError(
            f"confidence: expected shape {log.confidence.shape} like the log, got {conf.shape}"
        )
    idx = list(cas)
    if directions is not None:
        if confidence is not None:
            raise ValueError("directions: rules apply to the raw signals; do not pass confidence")
        dirs = tuple(directions)
        t = np.asarray(thresholds, dtype=np.float64)
        t = t[None, :] if t.ndim == 1 else t
        if len(dirs) != len(cas) - 1 or t.ndim != 2 or t.shape[1] != len(cas) - 1:
            raise ValueError(f"directions, thresholds: expected {len(cas) - 1} directions and "
                             f"thresholds of shape (P, {len(cas) - 1}), got {len(dirs)} and "
                             f"{t.shape}")
        stage = answering_stage_raw(log.confidence[:, idx], dirs, t)
    else:
        stage = route(conf[:, idx], thresholds)  # (P, n)
    return _score_stages(log, idx, stage)


def _score_stages(log: ChainLog, idx: list[int], stage: NDArray[np.intp]
                  ) -> dict[str, FloatArray]:
    correct = log.correct[:, idx].astype(np.float64)
    cum_cost = np.cumsum(log.cost[:, idx], axis=1)  # (n, k)
    rows = np.arange(log.n_queries)
    acc = correct[rows[None, :], stage].mean(axis=1)
    cost = cum_cost[rows[None, :], stage].mean(axis=1) * 1e6
    usage = np.stack([(stage == j).mean(axis=1) for j in range(len(idx))], axis=1)
    return {"accuracy": acc, "cost": cost, "stage_usage": usage}


def evaluate_frontier(frontier: Frontier, log: ChainLog, *,
                      model: CalibratedChainModel | None = None,
                      calibrators: Sequence[Calibrator] | None = None) -> Frontier:
    """Score every frontier point on a labelled (test) log by routing the log's raw signals with
    the point's deployable rules (:meth:`Frontier.rules`: a direction and a raw threshold per
    stage), exactly as a production router applies them.

    The rules are the calibrated-threshold rules on the raw scale, exact on every float (see
    :func:`llmcopula.calibration.rules.exact_raw_threshold`), so the numbers are those of routing
    the calibrated confidences as well; ``model`` or ``calibrators`` (the training fit) are
    accepted for that check only: with one of them, the routing of the calibrated test
    confidences with the calibrated thresholds must agree with the rules on every query, or a
    ``RuntimeError`` says where it does not.
    """
    missing = [m for m in frontier.models if m not in log.models]
    if missing:
        raise ValueError(f"log: lacks the frontier's models {missing}")
    if model is not None and calibrators is not None:
        raise ValueError("model, calibrators: pass one of them, not both")
    chain_idx = [log.models.index(m) for m in frontier.models]
    conf = None
    if model is not None:
        if not isinstance(model, CalibratedChainModel):
            raise ValueError(f"model: expected a calibrated chain model, got "
                             f"{type(model).__name__}")
        if tuple(model.models_) != log.models:
            fitted, have = list(model.models_), list(log.models)
            detail = "; ".join(part for part in (
                f"the log lacks {[m for m in fitted if m not in have]}"
                if any(m not in have for m in fitted) else "",
                f"the fit lacks {[m for m in have if m not in fitted]}"
                if any(m not in fitted for m in have) else "") if part)
            raise ValueError(f"log: its models {have} differ from the models the model was "
                             f"fitted on {fitted}" + (f" ({detail})" if detail else
                                                      " (another order)"))
        conf = model.calibrate(log)
    elif calibrators is not None:
        if len(calibrators) != log.n_models:
            raise ValueError(f"calibrators: expected one per model of the log "
                             f"({log.n_models}), got {len(calibrators)}")
        conf = calibrate(calibrators, log.confidence)
    stage = answering_stage_raw(log.confidence[:, chain_idx], frontier.directions,
                                frontier.raw_thresholds)
    if conf is not None and len(frontier) and np.isfinite(frontier.thresholds).all():
        differ = route(conf[:, chain_idx], frontier.thresholds) != stage
        if differ.any():
            p, q = (int(v[0]) for v in np.nonzero(differ))
            raise RuntimeError(f"frontier point {p}: its raw rules route query {q} of the log "
                               f"differently from its calibrated thresholds")
    res = _score_stages(log, chain_idx, stage)
    return frontier.with_test(res["accuracy"], res["cost"], res["stage_usage"])


def _curve(cost: ArrayLike, accuracy: ArrayLike, name: str) -> tuple[FloatArray, FloatArray]:
    c = np.asarray(cost, dtype=np.float64).ravel()
    a = np.asarray(accuracy, dtype=np.float64).ravel()
    if c.shape != a.shape or c.size == 0:
        raise ValueError(f"{name}: cost and accuracy must be non-empty and of equal length")
    if not (np.isfinite(c).all() and np.isfinite(a).all()):
        raise ValueError(f"{name}: cost and accuracy must be finite")
    # Sort by cost; at repeated costs keep the best accuracy (the other points are dominated).
    order = np.lexsort((-a, c))
    c, a = c[order], a[order]
    first = np.concatenate([[True], np.diff(c) > 0])
    return c[first], a[first]


def error_cost_area(cost_a: ArrayLike, accuracy_a: ArrayLike, cost_b: ArrayLike,
                    accuracy_b: ArrayLike) -> tuple[float, float, tuple[float, float]]:
    """Normalised areas under two error–cost curves over their shared cost range.

    Each curve is the linear interpolation of its points sorted by cost. Over the common range
    [c_lo, c_hi] = [max of the minima, min of the maxima], the normalised area is
    A = 1 − (1/(c_hi − c_lo)) ∫ accuracy(c) dc, the mean error rate over the range (lower is
    better; Zellinger & Thomson, arXiv 2501.09345; ``docs/evaluation.md``). The integral of the
    piecewise-linear interpolants is computed exactly; nothing is extrapolated.

    Returns
    -------
    A_a, A_b : float
    (c_lo, c_hi) : the shared cost range.

    Raises
    ------
    ValueError
        If the cost ranges do not overlap in an interval of positive length.
    """
    ca, aa = _curve(cost_a, accuracy_a, "cost_a/accuracy_a")
    cb, ab = _curve(cost_b, accuracy_b, "cost_b/accuracy_b")
    lo, hi = max(ca[0], cb[0]), min(ca[-1], cb[-1])
    if not hi > lo:
        raise ValueError(
            f"cost ranges do not overlap: [{ca[0]:.6g}, {ca[-1]:.6g}] vs [{cb[0]:.6g}, {cb[-1]:.6g}]"
        )
    knots = np.unique(np.concatenate([ca, cb, [lo, hi]]))
    knots = knots[(knots >= lo) & (knots <= hi)]
    areas = []
    for c, a in ((ca, aa), (cb, ab)):
        y = np.interp(knots, c, a)
        areas.append(1.0 - float(np.sum(np.diff(knots) * (y[1:] + y[:-1]) / 2)) / (hi - lo))
    return areas[0], areas[1], (float(lo), float(hi))


def percent_change(area_ours: ArrayLike, area_base: ArrayLike) -> FloatArray:
    """100 · (A_ours − A_base) / A_base; negative values are improvements.

    Both areas must be finite and of equal shape (or one a scalar); ``area_base`` must be > 0
    (a change relative to a zero area is undefined).
    """
    ours = np.asarray(area_ours, dtype=np.float64)
    base = np.asarray(area_base, dtype=np.float64)
    for name, arr in (("area_ours", ours), ("area_base", base)):
        if arr.size == 0:
            raise ValueError(f"{name}: empty")
        if not np.isfinite(arr).all():
            raise ValueError(f"{name}: contains {int((~np.isfinite(arr)).sum())} non-finite "
                             "value(s)")
    if ours.shape != base.shape and ours.ndim and base.ndim:
        # broadcasting (n, 1) against (n,) would silently give an (n, n) table
        raise ValueError(f"area_ours, area_base: expected equal shapes (or one scalar), got "
                         f"{ours.shape} and {base.shape}")
    if (base <= 0).any():
        raise ValueError("area_base: must be > 0 (the change relative to a zero area is "
                         "undefined)")
    return 100.0 * (ours - base) / base

"""Empirical (training-data) scores of cascade thresholds, shared by the baselines.

A baseline chooses thresholds by what they achieve on the training queries themselves, not on a
fitted model. For thresholds t the answering stage of query q follows the routing rule of
:mod:`llmcopula.cascade.routing` (first stage j < k with Φ_j(q) > t_j, ties defer, else the last
stage); then

* utilisation of stage j = fraction of training queries it answers,
* "correctness" = mean over queries of the answering stage's calibrated confidence (the paper's
  grid search, Zellinger & Thomson arXiv 2501.09345) or of its 0/1 label,
* cost = Σ_j utilisation_j · C_j with C_j the cumulative mean cost of stages 1..j.

A baseline needs the chain's calibrators (thresholds live on the calibrated scale) and the
models' mean costs, nothing else of a fitted model: :func:`baseline_inputs` supplies both, from
the caller or fitted on the training log.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._deprecation import warn_deprecated
from ...calibration import Calibrator, calibrate
from ...datasets import ChainLog
from ..base import CalibratedChainModel, check_chain_model, fit_log_calibrators
from ..cascades import check_cascade
from ..routing import answering_stage, pareto_mask

__all__ = ["ScoreKind", "baseline_inputs", "stage_values", "score_thresholds",
           "pareto_mask_fast"]

FloatArray = NDArray[np.float64]
ScoreKind = Literal["confidence", "labels"]
_SCORES = ("confidence", "labels")
F = TypeVar("F", bound=Callable[..., Any])


def baseline_inputs(log: ChainLog, calibrators: Sequence[Calibrator] | None,
                    costs: ArrayLike | None) -> tuple[list[Calibrator], FloatArray]:
    """The calibrators and mean costs (USD per million queries) a baseline uses: the given ones
    (checked against ``log``), or Platt calibrators (transform chosen by the log's signal) and
    the mean costs fitted on ``log`` itself."""
    if not isinstance(log, ChainLog):
        raise ValueError(f"log: expected a ChainLog, got {type(log).__name__}")
    if calibrators is None:
        cals: list[Calibrator] = list(fit_log_calibrators(log, "auto")[0])
    else:
        cals = list(calibrators)
        if len(cals) != log.n_models:
            raise ValueError(f"calibrators: expected one per model of the log "
                             f"({log.n_models}), got {len(cals)}")
        bad = [type(c).__name__ for c in cals if not isinstance(c, Calibrator)]
        if bad:
            raise ValueError(f"calibrators: expected fitted calibrators (fit, predict, "
                             f"raw_threshold), got {bad}")
    cost = log.mean_cost * 1e6 if costs is None else np.asarray(costs, dtype=np.float64)
    if cost.shape != (log.n_models,) or not np.all(np.isfinite(cost)) or np.any(cost < 0):
        raise ValueError(f"costs: expected {log.n_models} finite non-negative mean costs (USD per "
                         f"million queries), got {np.asarray(costs).tolist()}")
    return cals, cost


def accepts_model_first(func: F) -> F:
    """Keep the earlier call form ``baseline(model, log, cascade, ...)`` working for one release:
    the fitted model's calibrators and costs are passed on, with a ``DeprecationWarning``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], CalibratedChainModel):
            warn_deprecated(f"{func.__name__}(model, log, ...): pass the training log first and "
                            f"calibrators=model.calibrators_, costs=model.costs_")
            model = check_chain_model(args[0])
            args = args[1:]
            log = args[0] if args else kwargs.get("log")
            if isinstance(log, ChainLog) and tuple(log.models) != tuple(model.models_):
                raise ValueError(f"log: its models {log.models} differ from the model's "
                                 f"{model.models_}")
            kwargs.setdefault("calibrators", model.calibrators_)
            kwargs.setdefault("costs", model.costs_)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def stage_values(log: ChainLog, cascade: Sequence[int], score: str, *,
                 calibrators: Sequence[Calibrator], costs: FloatArray
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(calibrated confidences (n, k), per-stage correctness values (n, k), cumulative mean stage
    costs (k,)) of a cascade on a log, for the empirical objective."""
    if score not in _SCORES:
        raise ValueError(f"score: expected one of {_SCORES}, got {score!r}")
    cas = list(check_cascade(cascade, log.n_models))
    conf = calibrate(calibrators, log.confidence)[:, cas]
    values = conf if score == "confidence" else log.correct[:, cas].astype(np.float64)
    cum_cost = np.cumsum(np.asarray(costs, dtype=np.float64)[cas])
    return conf, values, cum_cost


def score_thresholds(confidence: FloatArray, values: FloatArray, cum_cost: FloatArray,
                     thresholds: FloatArray) -> dict[str, FloatArray]:
    """Empirical accuracy (mean value of the answering stage), cost and stage usage at each row
    of ``thresholds`` (P, k − 1). Memory is O(P·n); used for modest P (BO, frontier points)."""
    t = np.atleast_2d(np.asarray(thresholds, dtype=np.float64))
    n, k = confidence.shape
    stage = answering_stage(confidence, t)  # (P, n)
    rows = np.arange(n)
    acc = values[rows[None, :], stage].mean(axis=1)
    usage = np.stack([(stage == j).mean(axis=1) for j in range(k)], axis=1)
    return {"accuracy": acc, "cost": usage @ cum_cost, "stage_usage": usage}


def pareto_mask_fast(cost: FloatArray, accuracy: FloatArray) -> NDArray[np.bool_]:
    """Deprecated: :func:`llmcopula.cascade.pareto_mask` with ``tol=0`` (one Pareto filter for
    every caller)."""
    warn_deprecated("pareto_mask_fast(cost, accuracy): use "
                    "llmcopula.cascade.pareto_mask(cost, accuracy, tol=0)")
    return pareto_mask(cost, accuracy, tol=0.0)

"""Intervals for a frontier's predicted accuracy, cost and stage usage: the bootstrap over
training queries.

Each frontier point is a fixed deployable rule (a direction and a raw threshold per stage). Its
prediction is uncertain because the model behind it was fitted on a finite sample of queries.
The bootstrap (Efron & Tibshirani 1993) resamples the training queries with replacement, refits
the model on each resample (calibrators, marginals and copula; only the cascade's models are
needed), and evaluates the *same* rules under the refitted model: the spread of these
predictions, as percentile intervals, is the interval of the prediction. Methods without a model
(grid search, BO) are evaluated by routing the resampled training queries with the rules.

How a fixed raw rule is evaluated under a refitted model: stage j defers on {U_j <= s_j} on the
model's uniform scale. For a rule "raw > r" and a refitted calibrator that increases (or "raw < r"
and one that decreases) the rule is "Φ > Φ(r)", so s_j = F_j(Φ(r)); infinite thresholds give
s_j = 0 (accept everything) or 1 (accept nothing). When a resample's calibrator turns constant or
changes direction (llama3.2-1b on TriviaQA is close to flat), the rule is not a threshold on Φ
any more, and s_j is the share of the resample's queries that the rule defers.

What the intervals cover (measured in ``benchmarks/RESULTS.md``): sampling variation of the
training queries. They do not cover a model's own bias (the Markov-copula model's assumption
biases it at depth) nor a shift between the training and the live traffic.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from numpy.typing import NDArray

from .._estimator import clone
from .._validation import check_positive_int, check_rng
from ..calibration.rules import accepts_raw, calibrator_direction
from ..datasets import ChainLog
from .base import CalibratedChainModel, check_chain_model
from .evaluation import score_cascade
from .frontier import Frontier, FrontierIntervals

__all__ = ["frontier_intervals", "rule_quantiles"]

FloatArray = NDArray[np.float64]


def rule_quantiles(model: CalibratedChainModel, raw: FloatArray, directions: tuple[str, ...],
                   thresholds: FloatArray) -> FloatArray:
    """Uniform-scale thresholds s (P, k − 1) of raw rules under a model fitted on the cascade's
    models in order (chain index j = stage j), whose training raw signals are ``raw`` (n, k).
    See the module docstring."""
    P, k1 = thresholds.shape
    s = np.empty((P, k1))
    for j in range(k1):
        r, d = thresholds[:, j], directions[j]
        cal = model.calibrators_[j]
        accept_all = np.isneginf(r) if d == "above" else np.isposinf(r)
        accept_none = np.isposinf(r) if d == "above" else np.isneginf(r)
        finite = ~(accept_all | accept_none)
        s[accept_all, j], s[accept_none, j] = 0.0, 1.0
        if not finite.any():
            continue
        constant = getattr(cal, "coef_", 1.0) == 0
        if not constant and calibrator_direction(cal) == d:
            phi = cal.predict(r[finite])
            s[finite, j] = np.clip(model.marginals_[j].cdf(phi), 0.0, 1.0)
        else:
            s[finite, j] = (~accepts_raw(raw[:, j][None, :], d, r[finite][:, None])).mean(axis=1)
    return s


def _replicates(model: CalibratedChainModel | None, train: ChainLog, cascade: tuple[int, ...],
                directions: tuple[str, ...], thresholds: FloatArray,
                indices: list[NDArray[np.intp]]) -> list[tuple[FloatArray, ...]]:
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # degenerate resamples fall back and warn
        for idx in indices:
            log = train.take(idx).subset(list(cascade))
            k = len(cascade)
            if model is None:
                res = score_cascade(log, tuple(range(k)), thresholds, directions=directions)
                out.append((res["accuracy"], res["cost"], res["stage_usage"]))
                continue
            refit = clone(model).fit(log)
            s = rule_quantiles(refit, log.confidence, directions, thresholds)
            ev = refit.evaluate_quantile(s, tuple(range(k)))
            cost = refit.rule_cost(ev.stage_probabilities, directions, thresholds,
                                   tuple(range(k)))
            out.append((ev.accuracy, cost, ev.stage_probabilities))
    return out


def frontier_intervals(frontier: Frontier, train: ChainLog, *,
                       model: CalibratedChainModel | None = None, level: float = 0.9,
                       n_resamples: int = 200, rng: Any = None, n_jobs: int | None = 1
                       ) -> Frontier:
    """Percentile bootstrap intervals of every frontier point's accuracy, cost and stage usage.

    Parameters
    ----------
    frontier : Frontier
        Tuned on ``train``.
    train : ChainLog
        The training log (the chain's models; the frontier's models are picked by name).
    model : CalibratedChainModel, optional
        The fitted model behind the frontier; each resample refits a clone of it. Without a
        model (grid search, BO), each resample routes the resampled queries with the rules.
    level : float
        Nominal coverage of the central intervals, in (0, 1).
    n_resamples : int
        Bootstrap resamples (200 by default; each refits the model on the cascade's models,
        ~0.01 s for the empirical-copula model and ~0.1–0.2 s for the Markov-copula model).
    rng : None, int or Generator
        Seed of the resampling.
    n_jobs : int, optional
        Workers (joblib).

    Returns
    -------
    Frontier
        A copy with :attr:`Frontier.intervals` set (and the resampled values in its ``draws``).

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> from llmcopula.cascade import EmpiricalCopulaModel, tune
    >>> train = load_benchmark("mmlu", "llama", "train")
    >>> model = EmpiricalCopulaModel().fit(train)
    >>> front = frontier_intervals(tune(model, (0, 4), n_lambdas=6, rng=0), train, model=model,
    ...                            n_resamples=50, rng=0)
    >>> lo, hi = front.intervals.accuracy.T
    >>> bool(((lo <= front.accuracy + 0.02) & (front.accuracy - 0.02 <= hi)).all())
    True
    """
    if not isinstance(frontier, Frontier):
        raise ValueError(f"frontier: expected a Frontier, got {type(frontier).__name__}")
    if not isinstance(train, ChainLog):
        raise ValueError(f"train: expected a ChainLog, got {type(train).__name__}")
    if model is not None:
        model = check_chain_model(model)
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: must lie in (0, 1), got {level}")
    n_resamples = check_positive_int(n_resamples, "n_resamples", minimum=2)
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer))
                               or n_jobs == 0):
        raise ValueError(f"n_jobs: expected None or a non-zero integer (-1: all cores), got "
                         f"{n_jobs!r}")
    missing = [m for m in frontier.models if m not in train.models]
    if missing:
        raise ValueError(f"train: lacks the frontier's models {missing}")
    cascade = tuple(train.models.index(m) for m in frontier.models)
    gen = check_rng(rng)
    n = train.n_queries
    indices = [gen.integers(0, n, n) for _ in range(n_resamples)]
    n_chunks = min(effective_n_jobs(n_jobs), n_resamples)
    chunks = [indices[i::n_chunks] for i in range(n_chunks)]
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_replicates)(model, train, cascade, frontier.directions,
                             frontier.raw_thresholds, chunk) for chunk in chunks)
    reps = [r for part in parts for r in part]
    acc = np.array([r[0] for r in reps])
    cost = np.array([r[1] for r in reps])
    usage = np.array([r[2] for r in reps])
    a = (1.0 - level) / 2
    q = np.array([a, 1.0 - a])
    intervals = FrontierIntervals(
        level=level,
        accuracy=np.moveaxis(np.quantile(acc, q, axis=0), 0, -1),
        cost=np.moveaxis(np.quantile(cost, q, axis=0), 0, -1),
        stage_usage=np.moveaxis(np.quantile(usage, q, axis=0), 0, -1),
        method="bootstrap-percentile" + ("" if model is not None else "-routing"),
        n_resamples=n_resamples,
        draws={"accuracy": acc, "cost": cost, "stage_usage": usage},
    )
    return replace(frontier, intervals=intervals)

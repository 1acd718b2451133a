"""Bayesian-optimisation baseline: one Gaussian-process BO run per cost sensitivity λ.

The paper's later versions compare against "selecting confidence thresholds using Bayesian
optimization" without stating the configuration. Our configuration (our choice, stated in full;
see also ``docs/evaluation.md``):

* objective, for each λ of the *same* grid as the Markov-copula tuner
  (:func:`~llmcopula.cascade.default_lambdas` of the cascade's costs):
  the empirical training Lagrangian (1 − accuracy) + λ · cost of :mod:`._empirical`, with
  accuracy from calibrated confidences (default, like the paper's grid search) or labels;
* search space: quantile coordinates u ∈ [0, 1]^{k−1}; t_j(u_j) is the linear-interpolation
  empirical quantile of stage j's calibrated training confidences, padded one ulp below the
  minimum so that u_j = 0 accepts every query and u_j = 1 defers every query;
* optimiser: scikit-optimize ``gp_minimize`` (GP with Matérn-5/2 kernel and learned Gaussian
  noise, skopt's default surrogate), ``acq_func="EI"``, ``n_initial_points=10`` random points,
  a budget of ``20 + 10·(k − 1)`` evaluations, plus one warm-start point: the best point of the
  previous (larger) λ; ``random_state`` derived per λ from the ``rng`` seed; BLAS limited to one
  thread (reproducible timings);
* output: the best evaluated point of each run; the frontier is Pareto-filtered on the training
  values, like the tuner's.

The optimiser is behind :class:`Minimizer`, a one-method protocol, so another library (e.g.
Optuna) can replace scikit-optimize without touching the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..._validation import check_positive_int
from ...calibration import Calibrator
from ...calibration.rules import raw_rules
from ...datasets import ChainLog
from ..cascades import check_cascade
from ..frontier import Frontier
from ..routing import pareto_mask
from ..tuning import default_lambdas
from ._empirical import accepts_model_first, baseline_inputs, score_thresholds, stage_values

__all__ = ["Minimizer", "SkoptGP", "RandomSearch", "bayes_opt", "quantile_thresholds"]

FloatArray = NDArray[np.float64]
Objective = Callable[[FloatArray], float]


@runtime_checkable
class Minimizer(Protocol):
    """A black-box minimiser over the unit cube [0, 1]^d.

    ``minimize(fun, dim, n_calls=..., seed=..., x0=...)`` evaluates ``fun`` at most ``n_calls``
    times (plus the optional warm-start points ``x0``) and returns the best point and value.
    """

    def minimize(self, fun: Objective, dim: int, *, n_calls: int, seed: int,
                 x0: Sequence[FloatArray] = ()) -> tuple[FloatArray, float]: ...


def _skopt():
    try:
        import skopt  # noqa: F401
        from skopt import gp_minimize
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Bayesian-optimisation baseline needs scikit-optimize: "
            "pip install 'llmcopula[baselines]'"
        ) from exc
    return gp_minimize


@dataclass(frozen=True)
class SkoptGP:
    """GP-EI minimiser with scikit-optimize's ``gp_minimize``.

    Parameters
    ----------
    acq_func : str
        Acquisition function (``"EI"``).
    n_initial_points : int
        Random points before the GP is used (capped at ``n_calls``).
    acq_optimizer : {"auto", "lbfgs", "sampling"}
        How skopt maximises the acquisition.
    """

    acq_func: str = "EI"
    n_initial_points: int = 10
    acq_optimizer: str = "auto"

    def minimize(self, fun: Objective, dim: int, *, n_calls: int, seed: int,
                 x0: Sequence[FloatArray] = ()) -> tuple[FloatArray, float]:
        from threadpoolctl import threadpool_limits

        gp_minimize = _skopt()
        starts = [list(map(float, x)) for x in x0]
        with threadpool_limits(1):
            res = gp_minimize(
                lambda x: float(fun(np.asarray(x, dtype=np.float64))),
                [(0.0, 1.0)] * dim, n_calls=n_calls + len(starts),
                n_initial_points=min(self.n_initial_points, n_calls),
                acq_func=self.acq_func, acq_optimizer=self.acq_optimizer,
                x0=starts or None, random_state=int(seed),
            )
        return np.asarray(res.x, dtype=np.float64), float(res.fun)


@dataclass(frozen=True)
class RandomSearch:
    """Uniform random search (a dependency-free :class:`Minimizer`, for tests and as a floor)."""

    def minimize(self, fun: Objective, dim: int, *, n_calls: int, seed: int,
                 x0: Sequence[FloatArray] = ()) -> tuple[FloatArray, float]:
        gen = np.random.default_rng(seed)
        points = list(x0) + list(gen.random((n_calls, dim)))
        values = [float(fun(np.asarray(p, dtype=np.float64))) for p in points]
        best = int(np.argmin(values))
        return np.asarray(points[best], dtype=np.float64), values[best]


def quantile_thresholds(confidence: FloatArray, u: ArrayLike) -> FloatArray:
    """Thresholds t_j = Q̂_j(u_j) from quantile coordinates u (B, k − 1) (see module notes)."""
    u = np.clip(np.atleast_2d(np.asarray(u, dtype=np.float64)), 0.0, 1.0)
    cols = []
    for j in range(u.shape[1]):
        x = np.sort(confidence[:, j])
        padded = np.concatenate([[np.nextafter(x[0], -np.inf)], x])
        cols.append(np.quantile(padded, u[:, j]))
    return np.column_stack(cols) if cols else np.empty((u.shape[0], 0))


def default_n_calls(k: int) -> int:
    """The evaluation budget per λ: 20 + 10·(k − 1)."""
    return 20 + 10 * (k - 1)


@accepts_model_first
def bayes_opt(log: ChainLog, cascade: Sequence[int] | None = None, *,
              calibrators: Sequence[Calibrator] | None = None, costs: ArrayLike | None = None,
              lambdas: ArrayLike | None = None, n_lambdas: int = 30, n_calls: int | None = None,
              score: str = "confidence", minimizer: Minimizer | None = None,
              warm_start: bool = True, pareto: bool = True, rng: Any = None) -> Frontier:
    """The BO baseline: per λ, minimise the empirical training Lagrangian with a GP.

    Parameters
    ----------
    log : ChainLog
        The training log.
    cascade : sequence of int, optional
        Chain indices; default the whole chain.
    calibrators : sequence of Calibrator, optional
        One fitted calibrator per model of ``log``; default Platt calibrators fitted on ``log``
        (see :func:`~llmcopula.cascade.baselines.grid_search`).
    costs : array_like of shape (K,), optional
        Mean cost of one call of each model, USD per million queries; default the log's.
    lambdas : array_like, optional
        Cost sensitivities; default ``default_lambdas(costs, n_lambdas)``, the tuner's grid.
    n_calls : int, optional
        Objective evaluations per λ; default ``20 + 10·(k − 1)``.
    score : {"confidence", "labels"}
        Empirical correctness from calibrated confidences or labels.
    minimizer : Minimizer, optional
        Default :class:`SkoptGP` (needs the ``baselines`` extra).
    warm_start : bool
        Also evaluate the previous λ's best point (λ is processed from large to small).
    rng : None, int or Generator, default None
        Seed; run i uses ``SeedSequence(rng).spawn`` child i (a Generator seeds the sequence
        with one draw). The default was ``0`` before this release: pass ``rng=0`` for the
        earlier results.

    Returns
    -------
    Frontier
        ``method="bo"`` (``"bo-labels"`` with labels); predicted values are empirical training
        values.

    Notes
    -----
    The earlier form ``bayes_opt(model, log, cascade, ...)`` still works for one release, with a
    ``DeprecationWarning``.

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> train = load_benchmark("mmlu", "llama", split="train")
    >>> front = bayes_opt(train, (0, 4), n_lambdas=3, n_calls=8, minimizer=RandomSearch(), rng=0)
    >>> front.method, bool(1 <= len(front) <= 3)
    ('bo', True)
    """
    calibrators, costs = baseline_inputs(log, calibrators, costs)
    cas = check_cascade(cascade, log.n_models)
    conf, values, cum_cost = stage_values(log, cas, score, calibrators=calibrators, costs=costs)
    k = len(cas)
    costs = costs[list(cas)]
    if k == 1:
        raise ValueError("cascade: needs at least 2 models to have thresholds")
    n_lambdas = check_positive_int(n_lambdas, "n_lambdas")
    if n_calls is not None:
        check_positive_int(n_calls, "n_calls")
    lam = default_lambdas(costs, n_lambdas) if lambdas is None else np.asarray(
        lambdas, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0 or np.any(~np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("lambdas: expected a non-empty 1-d array of finite values >= 0")
    calls = default_n_calls(k) if n_calls is None else int(n_calls)
    if calls < 1:
        raise ValueError(f"n_calls: must be >= 1, got {n_calls}")
    opt = SkoptGP() if minimizer is None else minimizer
    if not isinstance(opt, Minimizer):
        raise ValueError("minimizer: must have a minimize(fun, dim, *, n_calls, seed, x0) method")
    if isinstance(rng, np.random.Generator):
        rng = int(rng.integers(2**63))
    elif rng is not None and not isinstance(rng, (int, np.integer)):
        raise ValueError(f"rng: expected None, an int seed or a numpy.random.Generator, got "
                         f"{type(rng).__name__}")
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(rng).spawn(lam.size)]

    best_u = np.zeros((lam.size, k - 1))
    prev: list[FloatArray] = []
    n_evals = 0
    for i in np.argsort(lam)[::-1]:  # large λ (cheap) first, like the tuner
        def fun(u: FloatArray, lmb: float = float(lam[i])) -> float:
            r = score_thresholds(conf, values, cum_cost, quantile_thresholds(conf, u))
            return float(1.0 - r["accuracy"][0] + lmb * r["cost"][0])

        u, _ = opt.minimize(fun, k - 1, n_calls=calls, seed=seeds[i],
                            x0=prev if warm_start else ())
        n_evals += calls + len(prev if warm_start else ())
        best_u[i] = u
        prev = [u.copy()]
    t = quantile_thresholds(conf, best_u)
    r = score_thresholds(conf, values, cum_cost, t)
    keep = pareto_mask(r["cost"], r["accuracy"], tol=0.0) if pareto else np.ones(lam.size, bool)
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(r["cost"][idx], kind="stable")]
    method = "bo" if score == "confidence" else "bo-labels"
    directions, raw = raw_rules([calibrators[m] for m in cas[:-1]], t[idx])
    return Frontier(
        models=tuple(log.models[m] for m in cas), cascade=cas, method=method,
        thresholds=t[idx], raw_thresholds=raw, directions=directions,
        accuracy=r["accuracy"][idx], cost=r["cost"][idx],
        stage_probabilities=r["stage_usage"][idx], lambdas=lam[idx],
        info={"n_calls": calls, "n_evaluations": n_evals, "score": score,
              "minimizer": repr(opt)},
    )

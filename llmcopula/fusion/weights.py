"""Fitting the aggregation weights on a development set ("DeePEn-Adapt").

The paper reports non-uniform ("Adapt") weights without a rule we could verify; we choose the
weights that optimise the *fused* prediction on held-out next tokens:

* ``objective="nll"``: minimise the mean negative log-likelihood of the true next token under
  ``softmax(z*)``, the fused distribution after the inverse search;
* ``objective="accuracy"``: maximise the greedy next-token accuracy of ``argmax z*``.

Both are evaluated on a grid over the simplex (step ``1/resolution``); for the NLL, which is
smooth in the weights, the best grid point is then refined derivative-free (the inverse search is
a black box in the weights): by Brent's bounded search within one grid step for two models, by
Nelder-Mead on a softmax parametrisation of the weights for more. Ties are broken towards the
uniform weights.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize, minimize_scalar
from scipy.special import softmax

from .._validation import check_finite_array, check_positive_int
from .fuse import _check_inputs, _fuse_relative, _to_relative
from .transfer import Transfer

__all__ = ["WeightFit", "simplex_grid", "fit_fusion_weights"]


@dataclass(frozen=True)
class WeightFit:
    """Weights chosen on a development set.

    Attributes
    ----------
    weights : ndarray, shape (K,)
    score : float
        Dev mean NLL (nats per main-model token) or dev accuracy at ``weights``.
    objective : str
    n_evaluations : int
        Number of fused dev evaluations made.
    """

    weights: NDArray[np.float64]
    score: float
    objective: str
    n_evaluations: int


def simplex_grid(n_models: int, resolution: int) -> NDArray[np.float64]:
    """All weight vectors with entries in ``{0, 1/resolution, ..., 1}`` that sum to 1.

    Examples
    --------
    >>> simplex_grid(2, 2)
    array([[0. , 1. ],
           [0.5, 0.5],
           [1. , 0. ]])
    """
    n_models = check_positive_int(n_models, "n_models")
    resolution = check_positive_int(resolution, "resolution")
    # Stars and bars: choose the positions of K-1 bars among resolution + K - 1 slots.
    rows = []
    for bars in itertools.combinations(range(resolution + n_models - 1), n_models - 1):
        edges = (-1,) + bars + (resolution + n_models - 1,)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(n_models)])
    return np.asarray(rows, dtype=np.float64) / resolution


def fit_fusion_weights(logits: Sequence[ArrayLike | None], targets: ArrayLike,
                       transfers: Sequence[ArrayLike | Transfer], *,
                       relatives: Sequence[ArrayLike] | None = None, main: int = 0,
                       objective: Literal["nll", "accuracy"] = "nll",
                       method: Literal["adamw", "mirror", "lbfgs"] = "adamw", resolution: int = 10,
                       refine: bool = True, eos_token_id: int | None = None,
                       **solver_options: Any) -> WeightFit:
    """Choose the aggregation weights that make the fused prediction best on a dev set.

    Parameters
    ----------
    logits : sequence of K array_like, each shape (n, |V_m|)
        Every model's next-token logits at ``n`` dev positions. With ``relatives``, only the main
        model's are used and the others may be None.
    targets : array_like of int, shape (n,)
        The true next token at each position, as an id of the main model's vocabulary.
    transfers : sequence of K array_like or scipy.sparse matrices
        Transfer matrices.
    relatives : sequence of K array_like, each shape (n, |A|), optional
        Relative distributions to aggregate, when they are not ``softmax(logits_m) T_m`` (see
        :func:`~llmcopula.fusion.fuse.fuse_relative`).
    main : int, default 0
    objective : {"nll", "accuracy"}, default "nll"
    method : {"adamw", "mirror", "lbfgs"}, default "adamw"
        Inverse search used inside the objective (use the one you will decode with).
    resolution : int, default 10
        Grid step ``1/resolution`` on the simplex.
    refine : bool, default True
        Refine the best grid point (NLL objective only): Brent's bounded search within one grid
        step for two models, Nelder-Mead for more.
    eos_token_id : int, optional
    **solver_options
        Passed to the inverse search.

    Returns
    -------
    WeightFit

    Examples
    --------
    The assistant knows the answer, the main model does not:

    >>> import numpy as np
    >>> T = np.eye(3)
    >>> main = np.zeros((4, 3))
    >>> helper = np.log(np.full((4, 3), 0.05) + 0.85 * np.eye(3)[[0, 1, 2, 0]])
    >>> fit = fit_fusion_weights([main, helper], [0, 1, 2, 0], [T, T], method="lbfgs",
    ...                          refine=False, resolution=4)
    >>> fit.weights
    array([0., 1.])
    """
    zs, Ts = _check_inputs(logits, transfers, main)
    if relatives is None and any(z is None for z in zs):
        raise ValueError("logits: every model's dev logits are needed to fit weights")
    z_main = zs[main]
    if z_main is None or z_main.ndim != 2:
        raise ValueError("logits: expected arrays of shape (n, |V_m|)")
    y = np.asarray(targets)
    if y.shape != (z_main.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"targets: expected {z_main.shape[0]} integer token ids, got shape {y.shape} "
            f"and dtype {y.dtype}"
        )
    if y.size == 0:
        raise ValueError("targets: the dev set is empty")
    if y.min() < 0 or y.max() >= z_main.shape[1]:
        raise ValueError(f"targets: ids must lie in [0, {z_main.shape[1]})")
    if objective not in ("nll", "accuracy"):
        raise ValueError(f"objective: expected 'nll' or 'accuracy', got {objective!r}")
    if relatives is None:
        rels = [_to_relative(z, T) for z, T in zip(zs, Ts)]  # type: ignore[arg-type]
    else:
        if len(relatives) != len(zs):
            raise ValueError(f"relatives: expected {len(zs)} arrays (one per model), "
                             f"got {len(relatives)}")
        rels = [check_finite_array(r, f"relatives[{m}]") for m, r in enumerate(relatives)]
        for m, r in enumerate(rels):
            if r.shape != (y.size, Ts[main].shape[1]):
                raise ValueError(f"relatives[{m}]: expected shape {(y.size, Ts[main].shape[1])}, "
                                 f"got {r.shape}")
    rows = np.arange(y.size)
    n_eval = 0

    def loss(w: NDArray[np.float64]) -> float:
        nonlocal n_eval
        n_eval += 1
        out = _fuse_relative(z_main, rels, w, Ts[main], method=method,
                             eos_token_id=eos_token_id, solver_options=solver_options)
        if objective == "nll":
            return float(-out.log_probs()[rows, y].mean())
        return float(-(out.tokens == y).mean())

    grid = simplex_grid(len(zs), resolution)
    uniform = np.full(len(zs), 1.0 / len(zs))
    # Visit grid points nearest the uniform weights first so that ties resolve towards them.
    grid = grid[np.argsort(np.abs(grid - uniform).sum(axis=1), kind="stable")]
    values = np.array([loss(w) for w in grid])
    best = int(np.argmin(values))
    w_best, v_best = grid[best], float(values[best])
    if refine and objective == "nll" and len(zs) == 2:
        # One free weight: Brent's bounded search within one grid step of the best point.
        step = 1.0 / resolution
        lo, hi = max(0.0, w_best[0] - step), min(1.0, w_best[0] + step)
        res1 = minimize_scalar(lambda a: loss(np.array([a, 1.0 - a])), bounds=(lo, hi),
                               method="bounded", options={"xatol": 1e-3})
        if res1.fun < v_best:
            w_best, v_best = np.array([res1.x, 1.0 - res1.x]), float(res1.fun)
    elif refine and objective == "nll" and len(zs) > 2:
        theta0 = np.log(w_best + 1e-3)
        res = minimize(lambda th: loss(softmax(th)), theta0, method="Nelder-Mead",
                       options={"xatol": 1e-3, "fatol": 1e-7, "maxiter": 200 * len(zs)})
        if res.fun < v_best:
            w_best, v_best = softmax(res.x), float(res.fun)
    score = v_best if objective == "nll" else -v_best
    return WeightFit(np.asarray(w_best, dtype=np.float64), score, objective, n_eval)

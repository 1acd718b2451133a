"""Search-based inverse transformation: from a fused anchor distribution back to main-model logits.

Given the aggregated relative distribution ``rbar`` (over anchors) and the main model's transfer
matrix ``T`` (``|V| x |A|``), DeePEn looks for logits ``z`` whose distribution, mapped into the
relative space, matches ``rbar``:

.. math::

    L(z) = \\frac{1}{|A|} \\sum_a \\bar r_a \\left(\\log \\bar r_a - \\log q_a\\right),
    \\qquad q = \\operatorname{softmax}(z)\\, T,

which is the KL divergence with the *mean* reduction over anchors used by the reference code
(torch ``KLDivLoss`` default). Its gradient, written with ``p = softmax(z)``, is

.. math::

    g_q = -\\bar r / (|A|\\, q), \\quad g_p = T g_q, \\quad
    g_z = p \\odot (g_p - \\langle p, g_p\\rangle).

Three solvers are offered:

* :func:`inverse_adamw`, the reference schedule and the default: AdamW on ``z`` started at the
  main model's logits, ``lr = 0.15``, 5 steps, betas ``(0.9, 0.999)``, eps ``1e-8``, weight decay
  0.01, cosine annealing with ``T_max = 10`` down to ``lr / 4``. Adam moves every logit with a
  non-negligible gradient by about ``lr`` per step, so this is a *bounded local re-ranking* of the
  main model's top candidates rather than an exact inversion.
* :func:`inverse_mirror`, a precise solver: multiplicative (EM / entropic mirror descent)
  updates of ``p = softmax(z)`` from the main model's distribution, stopped by a *certified*
  optimality gap. The loss is convex in ``p``: it is the negative log-likelihood of mixture
  weights ``p`` for the components ``T[v, :]``, so the EM update ``p_v <- p_v c_v`` with
  ``c_v = sum_a rbar_a T[v, a] / q_a`` decreases it monotonically, and, by concavity of the log,
  ``L(p) - min L <= log(max_v c_v) / |A|`` at every iterate.
* :func:`inverse_lbfgs`, L-BFGS on ``z`` from the same start, run to (near) stationarity; slower
  per problem, kept as an independent check of :func:`inverse_mirror`.

All functions are vectorised over leading axes: ``logits`` may have shape ``(..., |V|)`` with a
matching ``target`` of shape ``(..., |A|)``; every row is an independent problem.

References
----------
Huang et al. (2024), arXiv:2404.12715. Loshchilov & Hutter (2019), Decoupled weight decay
regularization (AdamW). Liu & Nocedal (1989), On the limited memory BFGS method.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax, xlogy

from .._validation import check_finite_array, check_positive_int
from .transfer import Transfer, _apply_transfer, _apply_transfer_t, check_transfer

__all__ = [
    "InverseResult",
    "relative_kl",
    "relative_kl_grad",
    "inverse_adamw",
    "inverse_lbfgs",
    "inverse_mirror",
    "inverse_search",
]

_TINY = np.finfo(np.float64).tiny


@dataclass(frozen=True)
class InverseResult:
    """Outcome of an inverse search.

    Attributes
    ----------
    logits : ndarray, shape (..., |V|)
        The optimised main-model logits.
    loss_initial, loss : ndarray, shape (...)
        ``L(z)`` at the start and at the end, per row.
    n_iter : int
        Optimiser iterations taken.
    method : str
        ``"adamw"``, ``"mirror"`` or ``"lbfgs"``.
    gap : ndarray, shape (...), or None
        Certified upper bound on ``loss - min L`` per row (mirror descent only).
    """

    logits: NDArray[np.float64]
    loss_initial: NDArray[np.float64]
    loss: NDArray[np.float64]
    n_iter: int
    method: str
    gap: NDArray[np.float64] | None = None


def _check_problem(logits: ArrayLike, transfer: ArrayLike | Transfer, target: ArrayLike
                   ) -> tuple[NDArray[np.float64], Transfer, NDArray[np.float64]]:
    z = check_finite_array(logits, "logits")
    T = check_transfer(transfer)
    r = check_finite_array(target, "target")
    if z.ndim == 0 or z.shape[-1] != T.shape[0]:
        raise ValueError(
            f"logits: last axis must match the transfer matrix's {T.shape[0]} rows, "
            f"got shape {z.shape}"
        )
    if r.shape != z.shape[:-1] + (T.shape[1],):
        raise ValueError(
            f"target: expected shape {z.shape[:-1] + (T.shape[1],)} (one anchor distribution "
            f"per row of logits), got {r.shape}"
        )
    if (r < 0).any():
        raise ValueError("target: must be non-negative (a distribution over anchors)")
    return z, T, r


def _loss(z: NDArray[np.float64], T: Transfer, r: NDArray[np.float64]) -> NDArray[np.float64]:
    q = np.maximum(_apply_transfer(softmax(z, axis=-1), T), _TINY)
    return (xlogy(r, r) - xlogy(r, q)).sum(axis=-1) / T.shape[1]


def _loss_grad(z: NDArray[np.float64], T: Transfer, r: NDArray[np.float64]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n_anchors = T.shape[1]
    p = softmax(z, axis=-1)
    q = np.maximum(_apply_transfer(p, T), _TINY)
    loss = (xlogy(r, r) - xlogy(r, q)).sum(axis=-1) / n_anchors
    g_p = _apply_transfer_t(-r / (n_anchors * q), T)
    g_z = p * (g_p - (p * g_p).sum(axis=-1, keepdims=True))
    return loss, g_z


def relative_kl(logits: ArrayLike, transfer: ArrayLike, target: ArrayLike) -> NDArray[np.float64]:
    """Mean-reduced KL divergence ``KL(target || softmax(logits) @ transfer) / |A|``, per row.

    Examples
    --------
    >>> import numpy as np
    >>> T = np.eye(3)
    >>> float(relative_kl(np.log([0.2, 0.3, 0.5]), T, [0.2, 0.3, 0.5]))
    0.0
    """
    z, T, r = _check_problem(logits, transfer, target)
    return _loss(z, T, r)


def relative_kl_grad(logits: ArrayLike, transfer: ArrayLike, target: ArrayLike
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Loss and its analytic gradient with respect to the logits (see the module docstring).

    Returns
    -------
    loss : ndarray, shape (...)
    grad : ndarray, shape (..., |V|)

    Examples
    --------
    >>> import numpy as np
    >>> T = np.eye(2)
    >>> loss, g = relative_kl_grad([0.0, 0.0], T, [0.9, 0.1])
    >>> bool(g[0] < 0 < g[1])  # raise the first logit, lower the second
    True
    """
    z, T, r = _check_problem(logits, transfer, target)
    return _loss_grad(z, T, r)


def _cosine_lr(step: int, lr: float, eta_min: float, t_max: int) -> float:
    # Closed form of torch's CosineAnnealingLR, stepped once after every optimiser step.
    return eta_min + (lr - eta_min) * (1.0 + np.cos(np.pi * step / t_max)) / 2.0


def inverse_adamw(logits: ArrayLike, transfer: ArrayLike, target: ArrayLike, *,
                  lr: float = 0.15, n_steps: int = 5, betas: tuple[float, float] = (0.9, 0.999),
                  eps: float = 1e-8, weight_decay: float = 0.01, t_max: int = 10,
                  eta_min: float | None = None) -> InverseResult:
    """The reference inverse search: a few AdamW steps on the logits with cosine annealing.

    Each step ``t = 1..n_steps`` uses the learning rate
    ``lr_t = eta_min + (lr - eta_min) (1 + cos(pi (t-1) / t_max)) / 2`` and applies, as torch's
    AdamW does, ``z <- z (1 - lr_t wd)`` then ``z <- z - lr_t mhat / (sqrt(vhat) + eps)`` with
    bias-corrected moments.

    Parameters
    ----------
    logits : array_like, shape (..., |V|)
        Starting point: the main model's logits (log-probabilities work as well; only the
        weight decay, a 0.75 % shrink over 5 steps, sees the difference).
    transfer : array_like or scipy.sparse matrix, shape (|V|, |A|)
        The main model's transfer matrix.
    target : array_like, shape (..., |A|)
        The aggregated relative distribution ``rbar``.
    lr : float, default 0.15
        ``eta``. ``lr = 0`` returns the starting logits unchanged.
    n_steps : int, default 5
    betas, eps, weight_decay : AdamW settings (torch defaults for betas and eps).
    t_max : int, default 10
        Period of the cosine schedule.
    eta_min : float, optional
        Floor of the schedule, ``lr / 4`` when omitted.

    Returns
    -------
    InverseResult

    Examples
    --------
    >>> import numpy as np
    >>> T = np.eye(2)
    >>> res = inverse_adamw(np.array([2.0, 1.8]), T, np.array([0.1, 0.9]))
    >>> int(res.logits.argmax()), bool(res.loss < res.loss_initial)
    (1, True)
    """
    z0, T, r = _check_problem(logits, transfer, target)
    n_steps = check_positive_int(n_steps, "n_steps", minimum=0)
    t_max = check_positive_int(t_max, "t_max")
    if not np.isfinite(lr) or lr < 0:
        raise ValueError(f"lr: must be a non-negative finite number, got {lr}")
    beta1, beta2 = betas
    if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
        raise ValueError(f"betas: both must lie in [0, 1), got {betas}")
    eta_min = lr / 4.0 if eta_min is None else float(eta_min)
    z = z0.copy()
    m = np.zeros_like(z)
    v = np.zeros_like(z)
    if lr == 0.0 or n_steps == 0:
        loss0 = _loss(z0, T, r)
        return InverseResult(z, loss0, loss0.copy(), 0, "adamw")
    for t in range(1, n_steps + 1):
        loss_t, g = _loss_grad(z, T, r)
        if t == 1:
            loss0 = loss_t
        lr_t = _cosine_lr(t - 1, lr, eta_min, t_max)
        z *= 1.0 - lr_t * weight_decay
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        m_hat = m / (1.0 - beta1**t)
        v_hat = v / (1.0 - beta2**t)
        z -= lr_t * m_hat / (np.sqrt(v_hat) + eps)
    loss = _loss(z, T, r)
    return InverseResult(z, loss0, loss, n_steps, "adamw")


def inverse_lbfgs(logits: ArrayLike, transfer: ArrayLike, target: ArrayLike, *,
                  gtol: float = 1e-12, maxiter: int = 2000) -> InverseResult:
    """Precise inverse search: L-BFGS on the logits, started at the main model's logits.

    All rows are solved jointly as one separable problem (the sum of the per-row losses), which
    keeps the call vectorised. The minimiser is not unique (``z`` is defined up to a shift per
    row, and ``T`` may be rank deficient); starting from the main model's logits selects the
    solution the main model's own ranking leads to.

    Parameters
    ----------
    logits, transfer, target : see :func:`inverse_adamw`.
    gtol : float, default 1e-12
        Stop when the largest gradient entry falls below this.
    maxiter : int, default 2000

    Returns
    -------
    InverseResult

    Examples
    --------
    >>> import numpy as np
    >>> T = np.eye(3)
    >>> res = inverse_lbfgs(np.zeros(3), T, np.array([0.7, 0.2, 0.1]))
    >>> np.round(np.exp(res.logits) / np.exp(res.logits).sum(), 4)
    array([0.7, 0.2, 0.1])
    """
    z0, T, r = _check_problem(logits, transfer, target)
    maxiter = check_positive_int(maxiter, "maxiter")
    shape = z0.shape

    def fun(x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        loss, g = _loss_grad(x.reshape(shape), T, r)
        return float(loss.sum()), g.ravel()

    res = minimize(fun, z0.ravel(), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "gtol": gtol, "ftol": 1e-15, "maxcor": 20})
    z = res.x.reshape(shape)
    loss0 = _loss(z0, T, r)
    loss = _loss(z, T, r)
    return InverseResult(z, loss0, loss, int(res.nit), "lbfgs")


def _mirror_gap(z: NDArray[np.float64], T: Transfer, r_unit: NDArray[np.float64]
                ) -> NDArray[np.float64]:
    p = softmax(z, axis=-1)
    c = _apply_transfer_t(r_unit / np.maximum(_apply_transfer(p, T), _TINY), T)
    return np.maximum(np.log(np.maximum(c.max(axis=-1), _TINY)), 0.0) / T.shape[1]


def inverse_mirror(logits: ArrayLike, transfer: ArrayLike, target: ArrayLike, *,
                   tol: float = 1e-10, maxiter: int = 10_000) -> InverseResult:
    """Precise inverse search by multiplicative (EM / mirror-descent) updates, with a certificate.

    Minimises ``L(p) = KL(rbar || p T) / |A|`` over the probability simplex, starting from
    ``p0 = softmax(logits)``, by ``p_v <- p_v c_v / sum_u p_u c_u`` with
    ``c_v = sum_a rbar_a T[v, a] / (p T)_a``. Rows stop once the bound
    ``L(p) - min L <= log(max_v c_v) / |A|`` falls below ``tol``. Tokens with ``p0_v > 0`` keep
    positive probability, so the returned logits ``log p`` are finite; the solution depends on the
    start only through directions the loss cannot see (``T`` is usually rank deficient).

    Parameters
    ----------
    logits, transfer, target : see :func:`inverse_adamw`; ``target`` is renormalised to sum to 1.
    tol : float, default 1e-10
        Certified optimality gap (in the units of ``L``) at which a row stops.
    maxiter : int, default 10000

    Returns
    -------
    InverseResult
        ``logits`` are log-probabilities; ``n_iter`` is the largest iteration count over rows.

    References
    ----------
    Cover (1984), An algorithm for maximizing expected log investment return. Dempster, Laird &
    Rubin (1977), the EM algorithm (the same update for mixture weights).

    Examples
    --------
    >>> import numpy as np
    >>> T = np.array([[0.9, 0.1], [0.1, 0.9], [0.5, 0.5]])
    >>> res = inverse_mirror(np.zeros(3), T, np.array([0.3, 0.7]))
    >>> bool(res.loss < 1e-9)
    True
    """
    z0, T, r = _check_problem(logits, transfer, target)
    maxiter = check_positive_int(maxiter, "maxiter")
    if not np.isfinite(tol) or tol <= 0:
        raise ValueError(f"tol: must be a positive finite number, got {tol}")
    total = r.sum(axis=-1, keepdims=True)
    if (total <= 0).any():
        raise ValueError("target: every row must have positive mass")
    r_unit = r / total
    n_anchors = T.shape[1]
    shape = z0.shape
    logp = log_softmax(z0, axis=-1).reshape(-1, shape[-1])
    rr = r_unit.reshape(-1, n_anchors)
    active = np.arange(logp.shape[0])
    n_iter = 0
    while active.size and n_iter < maxiter:
        p = np.exp(logp[active])
        q = np.maximum(_apply_transfer(p, T), _TINY)
        c = _apply_transfer_t(rr[active] / q, T)
        gap = np.log(np.maximum(c.max(axis=1), _TINY)) / n_anchors
        done = gap <= tol
        active, c = active[~done], c[~done]
        if not active.size:
            break
        logp[active] = log_softmax(logp[active] + np.log(np.maximum(c, _TINY)), axis=-1)
        n_iter += 1
    z = logp.reshape(shape)
    return InverseResult(z, _loss(z0, T, r), _loss(z, T, r), n_iter, "mirror",
                         _mirror_gap(z, T, r_unit) * total[..., 0])


def inverse_search(logits: ArrayLike, transfer: ArrayLike, target: ArrayLike, *,
                   method: Literal["adamw", "mirror", "lbfgs"] = "adamw", **options: Any
                   ) -> InverseResult:
    """Dispatch to :func:`inverse_adamw` (the reference, default), :func:`inverse_mirror` or
    :func:`inverse_lbfgs` (precise).

    Examples
    --------
    >>> import numpy as np
    >>> T = np.eye(2)
    >>> inverse_search([2.0, 1.8], T, [0.1, 0.9], method="lbfgs").logits.argmax()
    np.int64(1)
    """
    if method == "adamw":
        return inverse_adamw(logits, transfer, target, **options)
    if method == "mirror":
        return inverse_mirror(logits, transfer, target, **options)
    if method == "lbfgs":
        return inverse_lbfgs(logits, transfer, target, **options)
    raise ValueError(f"method: expected 'adamw', 'mirror' or 'lbfgs', got {method!r}")

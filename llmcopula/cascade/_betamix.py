"""Maximum-likelihood fitting of finite beta mixtures on (0, 1) by EM (private kernel).

The density is ``f(x) = sum_k w_k Beta(x; a_k, b_k)``. EM alternates responsibilities
``r_ik ∝ w_k Beta(x_i; a_k, b_k)`` with the updates ``w_k = mean_i r_ik`` and a weighted
maximum-likelihood beta fit per component. The weighted beta log-likelihood depends on the data
only through ``s1 = sum_i r_ik log x_i / N_k`` and ``s2 = sum_i r_ik log(1 - x_i) / N_k``::

    N_k [(a - 1) s1 + (b - 1) s2 - log B(a, b)],

which is strictly concave in ``(a, b)`` (an exponential family in its natural parameters). So
instead of a general-purpose optimiser we take Newton steps in ``(a, b)`` with the exact
digamma/trigamma gradient and Hessian, vectorised over all components and all initialisations,
halving a step until it stays positive and increases the objective. Every M-step therefore
increases the expected complete-data log-likelihood and the observed log-likelihood never
decreases (generalised EM; Dempster, Laird & Rubin 1977).

All initialisations run as one batch: arrays have shape ``(n_init, n_components, n_points)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln, digamma, zeta

__all__ = ["BetaMixtureFit", "fit_beta_mixture", "beta_mixture_logpdf", "moment_beta"]

# Cut points, in quantile coordinates of the sorted data, that split it into initial hard
# clusters; several deterministic starts guard against EM's local maxima.
_INIT_SPLITS: dict[int, tuple[tuple[float, ...], ...]] = {
    2: ((0.5,), (0.2,), (0.8,)),
    3: ((1 / 3, 2 / 3), (0.2, 0.5), (0.5, 0.8), (0.1, 0.9)),
}


@dataclass(frozen=True)
class BetaMixtureFit:
    """Result of :func:`fit_beta_mixture` (components sorted by mean)."""

    weights: NDArray[np.float64]
    alphas: NDArray[np.float64]
    betas: NDArray[np.float64]
    loglik: float
    n_iter: int
    converged: bool
    loglik_path: NDArray[np.float64]


def beta_mixture_logpdf(logx: NDArray[np.float64], log1mx: NDArray[np.float64],
                        weights: NDArray[np.float64], alphas: NDArray[np.float64],
                        betas: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per-component joint log-densities ``log w_k + log Beta(x; a_k, b_k)``.

    ``logx``/``log1mx`` have shape ``(..., n)`` or ``(n,)``; parameters shape ``(..., K)``. Returns
    shape ``(..., K, n)``. Taking ``log x`` and ``log(1 - x)`` as inputs keeps points within 1e-16
    of 0 or 1 exact.
    """
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    return (logw[..., None] + (alphas[..., None] - 1.0) * logx
            + (betas[..., None] - 1.0) * log1mx - betaln(alphas, betas)[..., None])


def _logsumexp(a: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    # scipy.special.logsumexp carries ~1 ms of array-API overhead per call (scipy 1.17); this is
    # the hot path of EM, so the plain max-shift version is used instead.
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def _trigamma(x: NDArray[np.float64]) -> NDArray[np.float64]:
    # zeta(2, x) is trigamma; polygamma(1, x) wraps it with ~5x the overhead.
    return zeta(2.0, x)


def moment_beta(mean: NDArray[np.float64], var: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Method-of-moments beta parameters; requires ``0 < var < mean (1 - mean)``."""
    common = mean * (1.0 - mean) / var - 1.0
    return mean * common, (1.0 - mean) * common


def _beta_objective(a: NDArray[np.float64], b: NDArray[np.float64], s1: NDArray[np.float64],
                    s2: NDArray[np.float64]) -> NDArray[np.float64]:
    return (a - 1.0) * s1 + (b - 1.0) * s2 - betaln(a, b)


def _newton_beta(a: NDArray[np.float64], b: NDArray[np.float64], s1: NDArray[np.float64],
                 s2: NDArray[np.float64], *, max_steps: int, max_concentration: float,
                 tol: float = 1e-12) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Ascend ``(a-1) s1 + (b-1) s2 - log B(a, b)`` elementwise by safeguarded Newton steps.

    Steps are halved until they stay in ``{a, b > 0, a + b <= max_concentration}`` and do not
    decrease the objective, so the result is never worse than the start.
    """
    value = _beta_objective(a, b, s1, s2)
    for _ in range(max_steps):
        psi_ab, tri_ab = digamma(a + b), _trigamma(a + b)
        g1 = s1 - digamma(a) + psi_ab
        g2 = s2 - digamma(b) + psi_ab
        h11, h22, h12 = tri_ab - _trigamma(a), tri_ab - _trigamma(b), tri_ab
        det = h11 * h22 - h12 * h12  # > 0: the Hessian is negative definite
        da = -(h22 * g1 - h12 * g2) / det
        db = -(h11 * g2 - h12 * g1) / det
        t = np.ones_like(a)
        new_a, new_b, new_value = a, b, value
        pending = np.ones(a.shape, dtype=bool)
        for _ in range(30):
            cand_a, cand_b = a + t * da, b + t * db
            ok = (cand_a > 0) & (cand_b > 0) & (cand_a + cand_b <= max_concentration)
            cand_value = np.full_like(value, -np.inf)
            cand_value[ok] = _beta_objective(cand_a[ok], cand_b[ok], s1[ok], s2[ok])
            # A tiny tolerance: at the optimum, rounding alone can make a zero step look worse.
            accept = pending & ok & (cand_value >= value - 1e-13 * (1.0 + np.abs(value)))
            new_a = np.where(accept, cand_a, new_a)
            new_b = np.where(accept, cand_b, new_b)
            new_value = np.where(accept, cand_value, new_value)
            pending &= ~accept
            if not pending.any():
                break
            t = np.where(pending, 0.5 * t, t)
        moved = np.maximum(np.abs(new_a - a) / a, np.abs(new_b - b) / b)
        a, b, value = new_a, new_b, new_value
        if np.all(moved < tol):
            break
    return a, b


def _initial_parameters(x_sorted: NDArray[np.float64], splits: tuple[tuple[float, ...], ...]
                        ) -> tuple[NDArray[np.float64], ...]:
    """Weights and moment-matched beta parameters of hard clusters cut at quantile ``splits``."""
    n = x_sorted.size
    overall_var = max(float(x_sorted.var()), 1e-12)
    n_init, n_comp = len(splits), len(splits[0]) + 1
    w = np.empty((n_init, n_comp))
    a = np.empty((n_init, n_comp))
    b = np.empty((n_init, n_comp))
    for i, cuts in enumerate(splits):
        bounds = np.concatenate([[0], np.clip(np.round(np.asarray(cuts) * n), 1, n - 1), [n]])
        bounds = np.maximum.accumulate(bounds.astype(int))
        for k in range(n_comp):
            group = x_sorted[bounds[k]:max(bounds[k + 1], bounds[k] + 1)]
            m = float(np.clip(group.mean(), 1e-6, 1 - 1e-6))
            v = float(group.var()) if group.size > 1 else 0.0
            v = min(max(v, overall_var / (4.0 * n_comp**2)), 0.9 * m * (1 - m))
            w[i, k] = max(group.size, 1)
            a[i, k], b[i, k] = moment_beta(np.float64(m), np.float64(v))
    w /= w.sum(axis=1, keepdims=True)
    return w, a, b


def _estep(logx: NDArray[np.float64], log1mx: NDArray[np.float64], w: NDArray[np.float64],
           a: NDArray[np.float64], b: NDArray[np.float64]
           ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-likelihood per run, shape ``(I,)``, and responsibilities, shape ``(I, K, n)``."""
    joint = beta_mixture_logpdf(logx, log1mx, w, a, b)
    total = _logsumexp(joint, axis=-2)
    return total.sum(axis=-1), np.exp(joint - total[:, None, :])


def _mstep(resp: NDArray[np.float64], logx: NDArray[np.float64], log1mx: NDArray[np.float64],
           a: NDArray[np.float64], b: NDArray[np.float64], *, max_concentration: float,
           newton_steps: int) -> tuple[NDArray[np.float64], ...]:
    n = logx.size
    nk = resp.sum(axis=-1)
    alive = nk > 1e-10 * n
    safe_nk = np.where(alive, nk, 1.0)
    s1, s2 = resp @ logx / safe_nk, resp @ log1mx / safe_nk
    new_a, new_b = _newton_beta(a, b, s1, s2, max_steps=newton_steps,
                                max_concentration=max_concentration)
    return nk / n, np.where(alive, new_a, a), np.where(alive, new_b, b)


def _pack(w: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
          ) -> NDArray[np.float64]:
    return np.concatenate([np.log(np.maximum(w, 1e-300)), np.log(a), np.log(b)], axis=-1)


def _unpack(theta: NDArray[np.float64], k: int, max_concentration: float
            ) -> tuple[NDArray[np.float64], ...]:
    logw = theta[:, :k] - theta[:, :k].max(axis=1, keepdims=True)
    w = np.exp(logw)
    w /= w.sum(axis=1, keepdims=True)
    a = np.exp(np.clip(theta[:, k:2 * k], -20.0, 30.0))
    b = np.exp(np.clip(theta[:, 2 * k:], -20.0, 30.0))
    shrink = np.minimum(1.0, max_concentration / (a + b))
    return w, a * shrink, b * shrink


def _em(logx: NDArray[np.float64], log1mx: NDArray[np.float64], w: NDArray[np.float64],
        a: NDArray[np.float64], b: NDArray[np.float64], *, max_cycles: int, tol: float,
        max_concentration: float, newton_steps: int
        ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                   NDArray[np.float64], NDArray[np.bool_]]:
    """Batched EM accelerated by SQUAREM, over the leading (initialisation) axis.

    Plain EM converges linearly, and slowly when components overlap. SQUAREM (Varadhan &
    Roland 2008, *Scand. J. Statist.* 35:335) extrapolates two EM steps along the squared-
    iteration direction in the unconstrained parameters ``(log w, log a, log b)``, applies one
    more EM step, and keeps the result only if its log-likelihood is at least that of the
    plain two-step iterate, so the recorded log-likelihood path is non-decreasing.

    Returns the final ``w, a, b``, the log-likelihood path of shape ``(n_steps, n_init)``, and
    for each run whether it stopped because its log-likelihood changed by less than ``tol * n``
    in a cycle.
    """
    n, k = logx.size, w.shape[-1]

    def em_step(resp: NDArray[np.float64], a_: NDArray[np.float64], b_: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], ...]:
        return _mstep(resp, logx, log1mx, a_, b_, max_concentration=max_concentration,
                      newton_steps=newton_steps)

    ll0, resp0 = _estep(logx, log1mx, w, a, b)
    path = [ll0.copy()]
    # Runs stop individually once converged; only the active ones are updated.
    active = np.arange(w.shape[0])
    converged = np.zeros(w.shape[0], dtype=bool)
    for cycle in range(max_cycles):
        wa, aa, ba, r0 = w[active], a[active], b[active], resp0[active]
        w1, a1, b1 = em_step(r0, aa, ba)
        ll1, resp1 = _estep(logx, log1mx, w1, a1, b1)
        w2, a2, b2 = em_step(resp1, a1, b1)
        ll2, resp2 = _estep(logx, log1mx, w2, a2, b2)
        t0, t1, t2 = _pack(wa, aa, ba), _pack(w1, a1, b1), _pack(w2, a2, b2)
        r, v = t1 - t0, t2 - 2.0 * t1 + t0
        rn, vn = np.linalg.norm(r, axis=1), np.linalg.norm(v, axis=1)
        step = np.minimum(-rn / np.where(vn > 0, vn, 1.0), -1.0)[:, None]
        we, ae, be = _unpack(t0 - 2.0 * step * r + step**2 * v, k, max_concentration)
        ll_e, resp_e = _estep(logx, log1mx, we, ae, be)
        w3, a3, b3 = em_step(resp_e, ae, be)
        ll3, resp3 = _estep(logx, log1mx, w3, a3, b3)
        take = (ll3 >= ll2) & np.isfinite(ll3)
        pick = take[:, None]
        w[active] = np.where(pick, w3, w2)
        a[active] = np.where(pick, a3, a2)
        b[active] = np.where(pick, b3, b2)
        resp0[active] = np.where(pick[:, :, None], resp3, resp2)
        ll_new = np.where(take, ll3, ll2)
        for ll_step in (ll1, ll2, ll_new):
            row = path[-1].copy()
            row[active] = ll_step
            path.append(row)
        gain = ll_new - ll0[active]
        still = np.abs(gain) > tol * n
        converged[active[~still]] = True
        # A run creeping along a likelihood ridge far below the best run cannot catch up if
        # its gains keep shrinking (linear convergence); stop it instead of iterating on.
        best = np.max(np.where(np.isfinite(ll0), ll0, -np.inf))
        best = max(best, float(ll_new.max()))
        still &= gain * (max_cycles - cycle) >= best - ll_new
        ll0[active] = ll_new
        active = active[still]
        if active.size == 0:
            break
    return w, a, b, np.array(path), converged


def fit_beta_mixture(x: NDArray[np.float64], n_components: int, *, max_cycles: int = 100,
                     tol: float = 1e-7, max_concentration: float = 1e6,
                     min_component_size: float = 2.0, newton_steps: int = 2) -> BetaMixtureFit:
    """Fit a ``n_components``-component beta mixture to ``x`` (all in (0, 1)).

    Accelerated EM runs from every initialisation in ``_INIT_SPLITS`` at once; the result is
    the highest-likelihood run whose components all carry at least ``min_component_size``
    effective points (a guard against a component collapsing onto a few points, where the
    likelihood is unbounded). One component is fitted by Newton's method on the beta
    log-likelihood. ``loglik_path`` (non-decreasing) is the chosen run's EM path.
    """
    logx, log1mx = np.log(x), np.log1p(-x)
    x_sorted = np.sort(x)
    if n_components == 1:
        w, a, b = _initial_parameters(x_sorted, ((),))
        a, b = _newton_beta(a, b, np.full_like(a, logx.mean()), np.full_like(a, log1mx.mean()),
                            max_steps=100, max_concentration=max_concentration)
        ll = float(_estep(logx, log1mx, w, a, b)[0][0])
        return BetaMixtureFit(w[0], a[0], b[0], ll, 1, True, np.array([ll]))

    w, a, b = _initial_parameters(x_sorted, _INIT_SPLITS[n_components])
    shrink = np.minimum(1.0, max_concentration / (a + b))
    w, a, b, path, converged = _em(logx, log1mx, w, a * shrink, b * shrink,
                                   max_cycles=max_cycles, tol=tol,
                                   max_concentration=max_concentration,
                                   newton_steps=newton_steps)
    ll = path[-1].copy()
    ll[np.min(w, axis=1) * x.size < min_component_size] = -np.inf
    best = int(np.argmax(ll))
    order = np.argsort(a[best] / (a[best] + b[best]))
    return BetaMixtureFit(w[best, order], a[best, order], b[best, order], float(ll[best]),
                          path.shape[0] - 1, bool(converged[best]), path[:, best])

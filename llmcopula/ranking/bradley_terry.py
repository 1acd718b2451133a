"""Bradley-Terry model with a position-bias term and Davidson ties, fitted by maximum likelihood.

For a comparison that shows item ``f`` first and item ``s`` second, with strengths
``lambda`` (centred, ``sum lambda = 0``), position bias ``b`` (favouring the first position) and
Davidson's (1970) tie parameter ``nu >= 0``:

    P(f wins)  = e^{lambda_f + b} / D,
    P(s wins)  = e^{lambda_s} / D,
    P(tie)     = nu * e^{(lambda_f + b + lambda_s) / 2} / D,

with ``D`` the sum of the three numerators (Bradley and Terry, 1952; Davidson, 1970; the
position term is Agresti's "home advantage"). Written as a three-category multinomial logit with
linear predictors ``(lambda_f + b, tau + (lambda_f + b + lambda_s)/2, lambda_s)``,
``tau = log nu``, the model has a canonical link: the log-likelihood is concave in
``(lambda, b, tau)`` and its Hessian is minus the (expected = observed) Fisher information
``sum_r X_r^T (diag p_r - p_r p_r^T) X_r``. We maximise it with ``scipy.optimize.minimize``
(``trust-exact``, analytic gradient and Hessian) on a sum-to-zero basis of ``lambda``; the
inverse information gives the standard errors. This is the principled aggregator of a *subset*
of queried pairs that LLM-Blender's MaxLogits/MaxWins lack (Jiang, Ren & Lin 2023,
arXiv 2306.02561, aggregate a full comparison matrix).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import null_space
from scipy.optimize import OptimizeResult, minimize
from scipy.special import expit

from .._estimator import BaseEstimator
from .._validation import check_finite_array, check_is_fitted, check_positive_int
from ._checks import check_logit_matrix
from .matrix import PairwiseMatrix

__all__ = ["BradleyTerry", "davidson_probabilities", "records_from_matrix"]

# Coefficients of (lambda_first, lambda_second, b, tau) in the linear predictor of each outcome
# (columns: first wins, tie, second wins).
_A = np.array([[1.0, 0.5, 0.0],
               [0.0, 0.5, 1.0],
               [1.0, 0.5, 0.0],
               [0.0, 1.0, 0.0]])


def _logsumexp_rows(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row-wise log-sum-exp of an (m, 3) array whose rows have a finite maximum.

    Written out because ``scipy.special.logsumexp`` costs milliseconds of overhead per call,
    which dominates the many small fits of active pair selection.
    """
    mx = u.max(axis=1)
    return mx + np.log(np.exp(u - mx[:, None]).sum(axis=1))


def _predictors(lam: NDArray[np.float64], b: float, tau: float, first: NDArray[np.intp],
                second: NDArray[np.intp]) -> NDArray[np.float64]:
    uf = lam[first] + b
    us = lam[second]
    ut = tau + 0.5 * (uf + us) if np.isfinite(tau) else np.full_like(uf, -np.inf)
    return np.column_stack([uf, ut, us])


def davidson_probabilities(strengths: ArrayLike, position_bias: float, tie_param: float,
                           first: ArrayLike, second: ArrayLike) -> NDArray[np.float64]:
    """Outcome probabilities ``[P(first wins), P(tie), P(second wins)]`` of each comparison.

    Examples
    --------
    >>> p = davidson_probabilities([0.0, 0.0], 0.0, 0.0, [0], [1])
    >>> p.round(3).tolist()
    [[0.5, 0.0, 0.5]]
    """
    lam = check_finite_array(strengths, "strengths", ndim=1)
    if lam.size < 2:
        raise ValueError(f"strengths: need at least 2 items to compare, got {lam.size}")
    f, s = _check_index_pair(first, second, lam.size)
    if not np.isfinite(position_bias):
        raise ValueError(f"position_bias: must be finite, got {position_bias}")
    if not (np.isfinite(tie_param) and tie_param >= 0):
        raise ValueError(f"tie_param: must be a finite number >= 0, got {tie_param}")
    tau = np.log(tie_param) if tie_param > 0 else -np.inf
    u = _predictors(lam, float(position_bias), tau, f, s)
    return np.exp(u - _logsumexp_rows(u)[:, None])


def _check_index_pair(first: ArrayLike, second: ArrayLike, n: int | None
                      ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    f = np.asarray(first)
    s = np.asarray(second)
    for name, arr in (("first", f), ("second", s)):
        if arr.ndim != 1:
            raise ValueError(f"{name}: expected a 1-d array of item indices, got shape {arr.shape}")
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name}: expected integer item indices, got dtype {arr.dtype}")
        if arr.size and arr.min() < 0:
            raise ValueError(f"{name}: item indices must be >= 0")
        if n is not None and arr.size and arr.max() >= n:
            raise ValueError(f"{name}: item indices must be < n_items = {n}, got {arr.max()}")
    if f.shape != s.shape:
        raise ValueError(f"first, second: shapes differ, {f.shape} vs {s.shape}")
    if (f == s).any():
        raise ValueError("first, second: an item cannot be compared with itself")
    return f.astype(np.intp), s.astype(np.intp)


def records_from_matrix(M: PairwiseMatrix | ArrayLike, *, tie_margin: float = 0.0,
                        soft: bool = False
                        ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Comparison records ``(first, second, outcome)`` from every queried ordered pair.

    ``outcome`` is 1 when ``M[first, second] > tie_margin`` (first wins), 0 when it is below
    ``-tie_margin`` and 0.5 (a tie) otherwise. With ``soft=True`` it is the soft label
    ``expit(M[first, second])`` instead, reading the logit as log-odds: this keeps the margin
    information that MaxLogits uses and a sign discards.

    Examples
    --------
    >>> f, s, y = records_from_matrix([[0, 2.0], [0.0, 0]])
    >>> f.tolist(), s.tolist(), y.tolist()
    ([0, 1], [1, 0], [1.0, 0.5])
    """
    L = M.logits if isinstance(M, PairwiseMatrix) else check_logit_matrix(M)
    if not (np.isfinite(tie_margin) and tie_margin >= 0):
        raise ValueError(f"tie_margin: must be a finite number >= 0, got {tie_margin}")
    f, s = np.nonzero(~np.isnan(L))
    v = L[f, s]
    if soft:
        return f.astype(np.intp), s.astype(np.intp), expit(v)
    y = np.where(v > tie_margin, 1.0, np.where(v < -tie_margin, 0.0, 0.5))
    return f.astype(np.intp), s.astype(np.intp), y


@dataclass(frozen=True)
class _Problem:
    """The data and settings of one fit; the free parameters are ``theta = (phi, b?, tau?)``
    with ``lambda = Z phi`` (``Z``: orthonormal basis of the sum-zero strengths)."""

    first: NDArray[np.intp]
    second: NDArray[np.intp]
    w: NDArray[np.float64]
    Y: NDArray[np.float64]          # (m, 3) weighted outcome counts: first wins, tie, second
    n: int
    Z: NDArray[np.float64]
    use_b: bool
    use_tie: bool
    alpha: float
    total: float                    # sum of weights: the objective is per unit weight

    @property
    def dim(self) -> int:
        return self.n - 1 + int(self.use_b) + int(self.use_tie)


def _unpack(theta: NDArray[np.float64], d: _Problem) -> tuple[NDArray[np.float64], float, float]:
    k = d.n - 1
    lam = d.Z @ theta[:k]
    b = float(theta[k]) if d.use_b else 0.0
    tau = float(theta[-1]) if d.use_tie else -np.inf
    return lam, b, tau


def _expansion(d: _Problem) -> NDArray[np.float64]:
    """Linear map from ``theta`` to ``(lambda, b, tau)``."""
    k = d.n - 1
    T = np.zeros((d.n + 2, d.dim))
    T[:d.n, :k] = d.Z
    if d.use_b:
        T[d.n, k] = 1.0
    if d.use_tie:
        T[d.n + 1, d.dim - 1] = 1.0
    return T


def _reduce(full: NDArray[np.float64], d: _Problem) -> NDArray[np.float64]:
    """``theta`` from a full ``(lambda, b, tau)`` vector (a warm start)."""
    if full.shape != (d.n + 2,):
        raise ValueError(f"warm_start: expected shape ({d.n + 2},), got {full.shape}")
    x = [d.Z.T @ full[:d.n]]
    if d.use_b:
        x.append(full[d.n:d.n + 1])
    if d.use_tie:
        x.append([full[d.n + 1] if np.isfinite(full[d.n + 1]) else np.log(0.1)])
    return np.concatenate(x)


def _objective(theta: NDArray[np.float64], d: _Problem) -> tuple[float, NDArray[np.float64]]:
    """Penalised negative log-likelihood per unit weight and its gradient in ``theta``."""
    lam, b, tau = _unpack(theta, d)
    u = _predictors(lam, b, tau, d.first, d.second)
    lse = _logsumexp_rows(u)
    p = np.exp(u - lse[:, None])
    Y = d.Y
    ll = float(np.sum(Y[:, 0] * (u[:, 0] - lse) + Y[:, 2] * (u[:, 2] - lse))
               + (np.sum(Y[:, 1] * (u[:, 1] - lse)) if d.use_tie else 0.0))
    R = Y - d.w[:, None] * p                      # observed minus expected counts
    g_first = R[:, 0] + 0.5 * R[:, 1]
    g_lam = (np.bincount(d.first, g_first, minlength=d.n)
             + np.bincount(d.second, R[:, 2] + 0.5 * R[:, 1], minlength=d.n))
    grad = [d.Z.T @ (-g_lam + d.alpha * lam)]
    if d.use_b:
        grad.append([-g_first.sum()])
    if d.use_tie:
        grad.append([-R[:, 1].sum()])
    return ((-ll + 0.5 * d.alpha * float(lam @ lam)) / d.total,
            np.concatenate(grad) / d.total)


def _hessian(theta: NDArray[np.float64], d: _Problem) -> NDArray[np.float64]:
    """Hessian of :func:`_objective`: the Fisher information ``sum_r w_r Cov_p(a_r)`` of the
    multinomial logit (plus the ridge), reduced to ``theta``."""
    lam, b, tau = _unpack(theta, d)
    u = _predictors(lam, b, tau, d.first, d.second)
    p = np.exp(u - _logsumexp_rows(u)[:, None])
    m = p @ _A.T                                            # (m, 4) means of coefficients
    second = np.einsum("rk,uk,vk->ruv", p, _A, _A)          # E[a_u a_v]
    C = d.w[:, None, None] * (second - m[:, :, None] * m[:, None, :])
    n = d.n
    idx = np.column_stack([d.first, d.second, np.full_like(d.first, n),
                           np.full_like(d.first, n + 1)])
    flat = idx[:, :, None] * (n + 2) + idx[:, None, :]
    H = np.bincount(flat.ravel(), C.ravel(), minlength=(n + 2) ** 2).reshape(n + 2, n + 2)
    H[:n, :n] += d.alpha * np.eye(n)
    T = _expansion(d)
    return T.T @ H @ T / d.total


def _damped_newton(d: _Problem, x0: NDArray[np.float64], tol: float, max_iter: int
                   ) -> OptimizeResult:
    """Newton's method with step halving (Armijo) for the convex :func:`_objective`."""
    x = x0.copy()
    fx, g = _objective(x, d)
    it = 0
    while it < max_iter and np.max(np.abs(g)) > tol:
        it += 1
        H = _hessian(x, d)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        t = 1.0
        while True:
            f_new, g_new = _objective(x - t * step, d)
            if f_new <= fx - 1e-4 * t * float(g @ step) or t < 1e-10:
                break
            t /= 2
        x, fx, g = x - t * step, f_new, g_new
    return OptimizeResult(x=x, fun=fx, jac=g, nit=it, success=bool(np.max(np.abs(g)) <= tol))


class BradleyTerry(BaseEstimator):
    """Maximum-likelihood Bradley-Terry-Davidson model with a first-position bias.

    Parameters
    ----------
    position_bias : bool
        Estimate the first-position advantage ``b`` (else ``b = 0``).
    ties : {"auto", "davidson", "none"}
        ``"davidson"`` estimates the tie parameter ``nu``; ``"none"`` has no ties (hard data
        with ties raise); ``"auto"`` estimates ``nu`` exactly when the outcomes are hard
        (0, 0.5, 1) and contain a tie (with no tie the maximum-likelihood ``nu`` is 0, on the
        boundary, so it is fixed there). Soft labels never use the tie model.
    alpha : float
        Ridge penalty ``alpha/2 * ||lambda||^2`` (a Gaussian prior of precision ``alpha`` on the
        strengths). 0 gives the plain MLE, which is infinite when an item wins (or loses) all its
        comparisons; a small ``alpha`` keeps it finite (a ``UserWarning`` flags divergence).
    solver : {"trust-exact", "newton"}
        ``scipy.optimize.minimize(method="trust-exact")`` with the analytic gradient and
        Hessian, or a plain damped Newton iteration on the same (concave) objective, which has
        much less per-call overhead for the many tiny fits of :func:`active_rank`. Both stop
        when the largest gradient component per unit weight is below ``tol``.
    tol, max_iter : float, int
        Gradient tolerance and iteration cap of the optimiser.

    Attributes
    ----------
    strengths_ : ndarray, shape (n_items,)
        Log-strengths ``lambda``, centred to sum to zero.
    position_bias_ : float
        ``b`` (0.0 when not estimated).
    tie_param_ : float
        Davidson's ``nu`` (0.0 when there is no tie model).
    covariance_ : ndarray, shape (n_items + 2, n_items + 2)
        Inverse Fisher information of ``(lambda, b, log nu)`` (penalised when ``alpha > 0``);
        rows and columns of parameters held fixed are 0.
    strengths_se_, position_bias_se_, log_tie_param_se_
        Standard errors from ``covariance_`` (NaN for fixed parameters).
    loglik_ : float
        Log-likelihood at the estimate (without the penalty).
    n_items_, n_records_, n_iter_, converged_

    Examples
    --------
    >>> first = np.array([0, 1, 0, 2, 1, 2, 0, 1])
    >>> second = np.array([1, 0, 2, 0, 2, 1, 1, 2])
    >>> outcome = np.array([1, 0, 1, 0.5, 1, 0, 1, 0.5])
    >>> bt = BradleyTerry().fit(first, second, outcome)
    >>> int(np.argmax(bt.strengths_)), bt.tie_param_ > 0
    (0, True)
    >>> float(bt.predict_proba([0], [1]).sum().round(12))
    1.0
    """

    def __init__(self, *, position_bias: bool = True,
                 ties: Literal["auto", "davidson", "none"] = "auto", alpha: float = 0.0,
                 solver: Literal["trust-exact", "newton"] = "trust-exact",
                 tol: float = 1e-9, max_iter: int = 200) -> None:
        self.position_bias = position_bias
        self.ties = ties
        self.alpha = alpha
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fitting
    def fit(self, first: ArrayLike, second: ArrayLike, outcome: ArrayLike, *,
            n_items: int | None = None, sample_weight: ArrayLike | None = None,
            warm_start: ArrayLike | None = None) -> BradleyTerry:
        """Fit to comparison records.

        Parameters
        ----------
        first, second : array_like of int, shape (m,)
            Item shown first and item shown second in each comparison.
        outcome : array_like, shape (m,)
            1 if the first-shown item won, 0 if the second won, 0.5 for a tie. Values strictly
            between 0 and 1 other than 0.5 are *soft labels* (e.g. ``expit`` of a judge's
            logit): the record then counts as ``y`` of a first-position win and ``1 - y`` of a
            loss (a fractional-response likelihood, still concave), without a tie model.
        n_items : int, optional
            Number of items (default: largest index + 1). Items never compared are not
            identified; fit with ``alpha > 0`` to keep them at 0.
        sample_weight : array_like, shape (m,), optional
            Non-negative record weights (e.g. counts of identical records).
        warm_start : array_like, optional
            Starting ``(lambda, b, log nu)``, e.g. a previous fit's :meth:`params_vector`.
        """
        if self.solver not in ("trust-exact", "newton"):
            raise ValueError(f"solver: expected 'trust-exact' or 'newton', got {self.solver!r}")
        if self.ties not in ("auto", "davidson", "none"):
            raise ValueError(f"ties: expected 'auto', 'davidson' or 'none', got {self.ties!r}")
        if not (np.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha: must be a finite number >= 0, got {self.alpha!r}")
        check_positive_int(self.max_iter, "max_iter")
        f, s = _check_index_pair(first, second, None)
        if f.size == 0:
            raise ValueError("first: need at least one comparison record")
        n = int(max(f.max(), s.max())) + 1 if n_items is None else \
            check_positive_int(n_items, "n_items", minimum=2)
        if n < 2:
            raise ValueError(f"n_items: need at least 2 items, got {n}")
        f, s = _check_index_pair(f, s, n)
        y = check_finite_array(outcome, "outcome", ndim=1)
        if y.shape != f.shape:
            raise ValueError(f"outcome: expected shape {f.shape}, got {y.shape}")
        if ((y < 0) | (y > 1)).any():
            raise ValueError("outcome: values must lie in [0, 1] (1 first wins, 0 second wins, "
                             "0.5 tie, or a soft label)")
        w = np.ones(f.size) if sample_weight is None else \
            check_finite_array(sample_weight, "sample_weight", ndim=1)
        if w.shape != f.shape or (w < 0).any():
            raise ValueError("sample_weight: expected non-negative weights, one per record")
        total = float(w.sum())
        if total <= 0:
            raise ValueError("sample_weight: all weights are zero")
        hard = bool(np.isin(y, (0.0, 0.5, 1.0)).all())
        has_ties = hard and bool(((y == 0.5) & (w > 0)).any())
        if self.ties == "none" and hard and has_ties:
            raise ValueError("outcome: contains ties (0.5) but ties='none'; pass soft labels "
                             "with ties='auto' to read 0.5 as half a win")
        if self.ties == "davidson" and not hard:
            raise ValueError("outcome: soft labels (values other than 0, 0.5, 1) cannot be "
                             "combined with ties='davidson'")
        if self.ties == "davidson" and not has_ties:
            warnings.warn("BradleyTerry: no ties in the data, so the tie parameter is fixed at "
                          "its maximum-likelihood value 0", UserWarning, stacklevel=2)
        use_tie = has_ties and self.ties != "none"
        use_b = bool(self.position_bias)

        Y = np.zeros((f.size, 3))
        if use_tie:
            Y[np.arange(f.size), np.where(y == 1.0, 0, np.where(y == 0.5, 1, 2))] = w
        else:
            Y[:, 0], Y[:, 2] = w * y, w * (1.0 - y)
        d = _Problem(f, s, w, Y, n, null_space(np.ones((1, n))), use_b, use_tie,
                     float(self.alpha), total)

        x0 = np.zeros(d.dim)
        if use_tie:
            x0[-1] = np.log(max(np.average(y == 0.5, weights=w), 1e-3))
        if warm_start is not None:
            x0 = _reduce(np.asarray(warm_start, dtype=np.float64), d)
        if self.solver == "trust-exact":
            res = minimize(_objective, x0, args=(d,), jac=True, hess=_hessian,
                           method="trust-exact",
                           options={"gtol": self.tol, "maxiter": self.max_iter})
        else:
            res = _damped_newton(d, x0, self.tol, self.max_iter)
        lam, b, tau = _unpack(res.x, d)
        lam = lam - lam.mean()
        converged = bool(res.success) or float(np.max(np.abs(res.jac))) < 1e-7
        H = _hessian(res.x, d)
        try:
            cov_red = np.linalg.inv(H) / total
        except np.linalg.LinAlgError:
            cov_red = np.full_like(H, np.nan)
        T = _expansion(d)
        cov = T @ cov_red @ T.T
        se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        fixed = np.r_[np.zeros(n, bool), not use_b, not use_tie]
        se[fixed] = np.nan
        # A diverging MLE (separated data) shows as huge strengths or as standard errors that
        # grow like exp(|lambda| / 2) while the gradient vanishes.
        if not converged or np.max(np.abs(lam)) > 20 or not np.all(se[~fixed] < 100):
            warnings.warn("BradleyTerry: the maximum-likelihood estimate diverges or did not "
                          "converge (an item may have won or lost all its comparisons); fit "
                          "with alpha > 0", UserWarning, stacklevel=2)

        u = _predictors(lam, b, tau, f, s)
        lse = _logsumexp_rows(u)
        logp = np.where(Y > 0, u - lse[:, None], 0.0)

        self.n_items_ = n
        self.n_records_ = int(f.size)
        self.strengths_ = lam
        self.position_bias_ = float(b)
        self.tie_param_ = float(np.exp(tau)) if use_tie else 0.0
        self.covariance_ = cov
        self.strengths_se_ = se[:n]
        self.position_bias_se_ = float(se[n])
        self.log_tie_param_se_ = float(se[n + 1])
        self.loglik_ = float(np.sum(Y * logp))
        self.n_iter_ = int(res.nit)
        self.converged_ = converged
        return self

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        check_is_fitted(self, "strengths_", hint="fit(first, second, outcome)")

    def params_vector(self) -> NDArray[np.float64]:
        """``(lambda, b, log nu)`` as one vector (``log nu = -inf`` without a tie model)."""
        self._check_fitted()
        tau = np.log(self.tie_param_) if self.tie_param_ > 0 else -np.inf
        return np.r_[self.strengths_, self.position_bias_, tau]

    def predict_proba(self, first: ArrayLike, second: ArrayLike) -> NDArray[np.float64]:
        """``[P(first wins), P(tie), P(second wins)]`` for each (first, second) presentation."""
        self._check_fitted()
        return davidson_probabilities(self.strengths_, self.position_bias_, self.tie_param_,
                                      first, second)

"""Fitting a bivariate copula family to pseudo-observations: maximum likelihood or inversion
of Kendall's tau, with log-likelihood, AIC, BIC and standard errors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize, minimize_scalar
from scipy.stats import kendalltau

from .._validation import check_unit_pairs
from ._base import BivariateCopula
from .registry import _build as _make
from .registry import get_family

__all__ = ["CopulaFit", "fit_copula", "DegenerateFitWarning"]

FloatArray = NDArray[np.float64]

#: Points on the edge of the unit square are moved this far inside it before the
#: log-likelihood is evaluated. Pseudo-observations (ranks / (n + 1)) never come closer to the
#: edge than 1 / (n + 1), so for them the clipping is a no-op up to n ~ 1e10; it only keeps the
#: likelihood finite (instead of -inf or NaN at a corner) for data such as raw confidences
#: that contain exact 0s or 1s.
EDGE_EPS = 1e-10

_METHODS = ("mle", "itau")


@dataclass(frozen=True)
class CopulaFit:
    """Result of fitting a copula family: the fitted copula and its goodness of fit.

    Attributes
    ----------
    copula : BivariateCopula
        The fitted copula (family, rotation and parameters).
    loglik : float
        Log-likelihood ``sum(log c(u_i))`` of the data at the fitted parameters.
    aic : float
        Akaike information criterion ``2 k - 2 loglik``.
    bic : float
        Bayesian information criterion ``k log(n) - 2 loglik``.
    se : tuple of float
        Standard error of each parameter, in the order of ``copula.param_names`` (NaN where it
        cannot be estimated, e.g. when the observed information is not positive definite).
    n : int
        Number of observations.
    method : {"mle", "itau"}
        Estimation method.
    converged : bool
        Whether the optimiser reported convergence at an interior point. False also when the
        dependence parameter ends at its strong-dependence bound (data more dependent than the
        family can express, such as identical columns; a :class:`DegenerateFitWarning` says
        so), for ``"mle"`` and ``"itau"`` alike.
    n_params : int
        Number of estimated parameters ``k``.
    candidates : tuple of CopulaFit
        Set by :func:`select_copula`: every fitted candidate, best first. Empty otherwise.
    """

    copula: BivariateCopula
    loglik: float
    aic: float
    bic: float
    se: tuple[float, ...]
    n: int
    method: str
    converged: bool
    n_params: int
    candidates: tuple[CopulaFit, ...] = field(default=(), repr=False, compare=False)

    @property
    def params(self) -> tuple[Any, ...]:
        """The fitted parameters (shortcut for ``copula.params``)."""
        return self.copula.params


def fit_copula(
    u: ArrayLike,
    family: str | type[BivariateCopula],
    *,
    method: Literal["mle", "itau"] = "mle",
    rotation: int | None = None,
) -> CopulaFit:
    r"""Fit a bivariate copula family to pseudo-observations.

    ``method="itau"`` inverts Kendall's tau: the parameter solves
    :math:`\tau(\theta) = \hat\tau`, where :math:`\hat\tau` is the sample tau (tau-b). For the
    Student t copula, ``rho = sin(pi tau / 2)`` and the degrees of freedom maximise the
    likelihood given ``rho`` (profile likelihood), as in pyvinecopulib.

    ``method="mle"`` maximises the log-likelihood :math:`\ell(\theta) = \sum_i \log
    c_\theta(u_i)` (the canonical maximum-likelihood or pseudo-likelihood estimator of Genest,
    Ghoudi & Rivest 1995), starting from the itau estimate: a bounded Brent search for
    one-parameter families and, for the t copula, damped Newton steps (finite-difference
    derivatives) within :meth:`param_bounds`, with L-BFGS-B as the fallback.

    Standard errors:

    * ``"mle"``: :math:`\sqrt{\mathrm{diag}(H^{-1})}`, where :math:`H` is the observed
      information, the negative Hessian of :math:`\ell` at the estimate by central
      differences. This treats the pseudo-observations as if the margins were known, so it
      slightly understates the uncertainty of the semi-parametric estimator.
    * ``"itau"``: the delta method, :math:`|d\theta/d\tau| \cdot \mathrm{se}(\hat\tau)`, with
      the variance of Kendall's tau from its U-statistic (Hoeffding) projection,
      :math:`\widehat{\mathrm{Var}}(\hat\tau) = \frac{4}{n}\,\frac{1}{n-1}\sum_i (W_i -
      \bar W)^2`, where :math:`W_i = \frac{1}{n-1}\sum_{j \ne i} \mathrm{sign}(x_i - x_j)
      \mathrm{sign}(y_i - y_j)`. For the t copula the SE of ``df`` comes from the profile
      observed information.

    Data on the edge of the unit square (exact 0 or 1) is accepted; inside the likelihood
    only, it is clipped to ``[EDGE_EPS, 1 - EDGE_EPS]`` with ``EDGE_EPS = 1e-10`` (a no-op for
    pseudo-observations; see :func:`pseudo_observations`).

    Parameters
    ----------
    u : array_like of shape (n, 2)
        Pseudo-observations in [0, 1], ``n >= 2``, no NaN, neither column constant.
    family : str or BivariateCopula subclass
        ``"independence"``, ``"gaussian"``, ``"student"``, ``"clayton"``, ``"gumbel"``,
        ``"frank"``, or a copula class.
    method : {"mle", "itau"}, default "mle"
        Estimation method.
    rotation : {None, 0, 90, 180, 270}, default None
        Rotation of a rotatable family (Clayton, Gumbel). ``None`` picks 0 when the sample
        tau is >= 0 and 90 otherwise; :func:`select_copula` tries the others.

    Returns
    -------
    CopulaFit
        The fitted copula with ``loglik``, ``aic``, ``bic``, ``se``, ``n``, ``method``,
        ``converged`` and ``n_params``.

    Raises
    ------
    ValueError
        For a bad ``u`` (shape, fewer than 2 rows, NaN, values outside [0, 1], a constant
        column), an unknown ``family`` or ``method``, or a rotation the family lacks.

    References
    ----------
    C. Genest, K. Ghoudi and L.-P. Rivest (1995), "A semiparametric estimation procedure of
    dependence parameters in multivariate families of distributions", Biometrika 82(3).
    W. Hoeffding (1948), "A class of statistics with asymptotically normal distribution",
    Ann. Math. Statist. 19(3).

    Examples
    --------
    >>> from llmcopula.copulas import fit_copula
    >>> from llmcopula.copulas import IndependenceCopula
    >>> u = IndependenceCopula().sample(500, rng=0)
    >>> fit = fit_copula(u, "independence")
    >>> fit.loglik, fit.aic, fit.n_params
    (0.0, 0.0, 0)
    """
    data = check_copula_data(u)
    cls = get_family(family)
    method = _check_method(method)
    tau = sample_kendall_tau(data)
    if rotation is None:
        rotation = cls._default_rotation(tau)
    elif rotation not in cls.allowed_rotations:
        raise ValueError(
            f"rotation: {cls.family} copula supports rotations {cls.allowed_rotations}, "
            f"got {rotation!r}"
        )
    return _fit_family(data, cls, rotation=int(rotation), method=method, tau=tau)


# ----------------------------------------------------------------------------------------------
# input checks shared with select_copula
def check_copula_data(u: ArrayLike) -> FloatArray:
    """Validate bivariate data for fitting and return it as a float array of shape (n, 2)."""
    arr = np.asarray(u, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"u: expected an array of shape (n, 2), got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"u: need at least 2 observations to fit a copula, got {arr.shape[0]}")
    check_unit_pairs(arr, "u")
    for j in range(2):
        if np.all(arr[:, j] == arr[0, j]):
            raise ValueError(
                f"u: column {j} is constant ({arr[0, j]:g}); Kendall's tau and the copula "
                "are not identified"
            )
    return arr


def _check_method(method: str) -> str:
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {_METHODS}, got {method!r}")
    return method


# ----------------------------------------------------------------------------------------------
# Kendall's tau and its U-statistic variance
def sample_kendall_tau(u: FloatArray) -> float:
    """Sample Kendall's tau (tau-b, which handles ties) of the two columns of ``u``."""
    tau = kendalltau(u[:, 0], u[:, 1]).statistic
    return float(tau)


def kendall_tau_se(u: FloatArray) -> float:
    r"""Asymptotic standard error of the sample Kendall's tau from its Hoeffding projection.

    :math:`\widehat{\mathrm{Var}}(\hat\tau) = \frac{4}{n} \frac{1}{n-1} \sum_i (W_i - \bar
    W)^2` with :math:`W_i = \frac{1}{n-1} \sum_{j\ne i} \mathrm{sign}(x_i-x_j)
    \mathrm{sign}(y_i-y_j)`. The :math:`W_i` come from four strict dominance counts, so the
    cost is O(n log^2 n) rather than the O(n^2) of the pairwise definition.
    """
    x, y = u[:, 0], u[:, 1]
    n = x.shape[0]
    if n < 3:
        return math.nan
    concordance = (
        _dominance_counts(x, y)
        + _dominance_counts(-x, -y)
        - _dominance_counts(x, -y)
        - _dominance_counts(-x, y)
    )
    w = concordance / (n - 1.0)
    return float(math.sqrt(4.0 / n * np.var(w, ddof=1)))


def _dominance_counts(x: FloatArray, y: FloatArray) -> NDArray[np.int64]:
    """For each i, the number of j with x_j < x_i and y_j < y_i (strict in both)."""
    n = x.shape[0]
    order = np.lexsort((y, x))  # by x, then y
    xs, ys = x[order], y[order]
    ranks = np.unique(ys, return_inverse=True)[1].astype(np.int64)  # dense ranks of y
    # Earlier elements (in (x, y) order) with a strictly smaller y rank, found one bit of the
    # rank at a time: at the highest bit where two ranks differ, they share the higher bits
    # and the smaller one has a 0 there, so each smaller earlier rank is counted exactly once.
    earlier_smaller = np.zeros(n, dtype=np.int64)
    positions = np.arange(n, dtype=np.int64)
    for b in range(max(int(ranks.max()).bit_length(), 1)):
        key = ranks >> (b + 1)
        bit = (ranks >> b) & 1
        # Sorting by (key, position) keeps the (x, y) order inside each key group; the
        # combined integer key is unique, so the faster unstable sort gives the same order.
        grouped = np.argsort(key * n + positions)
        zeros = (bit[grouped] == 0).astype(np.int64)
        zeros_before = np.cumsum(zeros) - zeros
        k = key[grouped]
        starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
        group_start = np.repeat(zeros_before[starts], np.diff(np.r_[starts, n]))
        counts = np.where(bit[grouped] == 1, zeros_before - group_start, 0)
        earlier_smaller[grouped] += counts
    # Remove the earlier elements that share x (they precede because their y is smaller).
    x_start = np.searchsorted(xs, xs, side="left")
    new_pair = np.r_[True, (xs[1:] != xs[:-1]) | (ys[1:] != ys[:-1])]
    pair_start = np.maximum.accumulate(np.where(new_pair, positions, 0))
    strict = earlier_smaller - (pair_start - x_start)
    out = np.empty(n, dtype=np.int64)
    out[order] = strict
    return out


# ----------------------------------------------------------------------------------------------
# the estimators
def _fit_family(
    u: FloatArray, cls: type[BivariateCopula], *, rotation: int, method: str, tau: float
) -> CopulaFit:
    n = u.shape[0]
    k = len(cls.param_names)
    uc = np.clip(u, EDGE_EPS, 1.0 - EDGE_EPS)
    if k == 0:
        copula = _make(cls, (), rotation)
        return _result(copula, _loglik(copula, uc), (), n, method, True)

    start = _itau_params(cls, rotation, tau, uc)
    if method == "itau":
        copula = _make(cls, start, rotation)
        se = _itau_se(cls, rotation, start, tau, u, uc)
        converged = not _degenerate(cls, rotation, start, tau)
        return _result(copula, _loglik(copula, uc), se, n, method, converged)

    if k == 1:
        params, converged = _mle_scalar(cls, rotation, start[0], tau, uc)
    else:
        params, converged = _mle_vector(cls, rotation, start, uc)
    copula = _make(cls, params, rotation)
    se = _hessian_se(cls, rotation, params, uc)
    converged = converged and not _degenerate(cls, rotation, params, tau)
    return _result(copula, _loglik(copula, uc), se, n, method, converged)


def _degenerate(cls: type[BivariateCopula], rotation: int, params: tuple[float, ...],
                tau: float, *, argument: str = "u", tail: str = "; converged=False",
                stacklevel: int = 4) -> bool:
    """Warn and return True when the fit sits at the strong-dependence bound."""
    if not _at_dependence_bound(cls, rotation, params):
        return False
    warnings.warn(
        f"{argument}: the {cls.family} fit stopped at the bound of its dependence parameter "
        f"({cls.param_names[0]} = {params[0]:.6g}, Kendall's tau of the data {tau:.4g}): "
        "the data are more dependent than the family can express (for instance identical "
        f"columns), so the estimate is the bound, not a maximum{tail}",
        DegenerateFitWarning, stacklevel=stacklevel)
    return True


class DegenerateFitWarning(UserWarning):
    """A copula fit that stopped at the strong-dependence bound of its parameter space: the
    data are (nearly) comonotone or countermonotone, and the fit reports ``converged=False``."""


def _at_dependence_bound(cls: type[BivariateCopula], rotation: int,
                         params: tuple[float, ...]) -> bool:
    """Whether the dependence parameter sits at the bound where the family's |tau| is
    largest (a bound that means independence, such as Gumbel's theta = 1, does not count:
    fitting a family to data of the other sign legitimately ends there)."""
    if not params:  # the independence copula has no parameter, hence no bound
        return False
    lo, hi = cls.param_bounds()[0]
    others = tuple(params[1:])
    taus = [abs(float(_make(cls, (b, *others), rotation).tau)) for b in (lo, hi)]
    strong = [b for b, t in zip((lo, hi), taus) if t >= max(taus) - 1e-9 and t >= 0.5]
    return any(abs(params[0] - b) <= 1e-5 * max(1.0, abs(b)) for b in strong)


def _result(
    copula: BivariateCopula,
    loglik: float,
    se: tuple[float, ...],
    n: int,
    method: str,
    converged: bool,
) -> CopulaFit:
    k = len(copula.param_names)
    return CopulaFit(
        copula=copula,
        loglik=loglik,
        aic=2.0 * k - 2.0 * loglik,
        bic=k * math.log(n) - 2.0 * loglik,
        se=se,
        n=n,
        method=method,
        converged=bool(converged),
        n_params=k,
    )


def _loglik(copula: BivariateCopula, uc: FloatArray) -> float:
    return float(np.sum(copula.logpdf(uc)))


def _negloglik(cls: type[BivariateCopula], rotation: int, uc: FloatArray) -> Callable[..., float]:
    """Mean negative log-likelihood (mean, not sum, so optimiser tolerances do not scale with
    n); +inf where the family rejects the parameters or the likelihood is not finite."""

    def f(*params: float) -> float:
        try:
            value = -_loglik(_make(cls, params, rotation), uc) / uc.shape[0]
        except ValueError:
            return math.inf
        return value if math.isfinite(value) else math.inf

    return f


def _tau_range(
    cls: type[BivariateCopula], rotation: int, extra: dict[str, float]
) -> tuple[float, float]:
    """Kendall's tau at the two ends of the first parameter's bounds."""
    lo, hi = cls.param_bounds()[0]
    others = tuple(extra.values())
    t_lo = float(_make(cls, (lo, *others), rotation).tau)
    t_hi = float(_make(cls, (hi, *others), rotation).tau)
    return min(t_lo, t_hi), max(t_lo, t_hi)


def _from_tau_clipped(
    cls: type[BivariateCopula], rotation: int, tau: float, extra: dict[str, float]
) -> float:
    """First parameter with Kendall's tau ``tau``, after clipping ``tau`` into the range the
    family and rotation can reach (a Clayton copula at rotation 0 cannot fit tau < 0; the
    estimate then sits at the bound nearest to the data)."""
    t_lo, t_hi = _tau_range(cls, rotation, extra)
    margin = 1e-9 * (t_hi - t_lo)
    t = min(max(tau, t_lo + margin), t_hi - margin)
    kwargs: dict[str, Any] = dict(extra)
    if len(cls.allowed_rotations) > 1:
        kwargs["rotation"] = rotation
    theta = float(cls.from_tau(t, **kwargs).params[0])
    lo, hi = cls.param_bounds()[0]
    return min(max(theta, lo), hi)


def _itau_params(
    cls: type[BivariateCopula], rotation: int, tau: float, uc: FloatArray
) -> tuple[float, ...]:
    """Inversion of Kendall's tau for the first parameter; any further parameter (the t
    copula's df) maximises the profile likelihood given the first."""
    names = cls.param_names
    bounds = cls.param_bounds()
    if len(names) == 1:
        return (_from_tau_clipped(cls, rotation, tau, {}),)
    if len(names) != 2:  # pragma: no cover - no such family yet
        raise NotImplementedError("itau supports families with at most two parameters")
    lo, hi = bounds[1]
    mid = 0.5 * (lo + hi)
    first = _from_tau_clipped(cls, rotation, tau, {names[1]: mid})
    nll = _negloglik(cls, rotation, uc)
    res = minimize_scalar(lambda v: nll(first, v), bounds=(lo, hi), method="bounded",
                          options={"xatol": 1e-6 * max(1.0, hi)})
    return first, float(res.x)


def _mle_scalar(
    cls: type[BivariateCopula], rotation: int, start: float, tau: float, uc: FloatArray
) -> tuple[tuple[float], bool]:
    """Bounded Brent search, first in a bracket around the itau estimate and, if the optimum
    lands on that bracket's edge, over the full parameter bounds."""
    lo, hi = cls.param_bounds()[0]
    n = uc.shape[0]
    # sqrt(2 (1 - tau^2) / n) bounds the standard deviation of the sample tau from above
    # (Daniels & Kendall 1947); ten of them around tau-hat comfortably contains the MLE.
    half_width = 10.0 * math.sqrt(2.0 * max(1.0 - tau * tau, 1e-6) / n)
    a = _from_tau_clipped(cls, rotation, tau - half_width, {})
    b = _from_tau_clipped(cls, rotation, tau + half_width, {})
    a, b = min(a, b, start), max(a, b, start)
    nll = _negloglik(cls, rotation, uc)
    xatol = 1e-8 * max(1.0, abs(start))

    def search(left: float, right: float) -> Any:
        return minimize_scalar(nll, bounds=(left, right), method="bounded",
                               options={"xatol": xatol, "maxiter": 200})

    res = search(a, b) if b - a > 1e-12 else None
    edge = 1e-3 * (b - a)
    if res is None or (res.x - a < edge and a > lo) or (b - res.x < edge and b < hi):
        res = search(lo, hi)
    return (float(res.x),), bool(res.success)


def _mle_vector(
    cls: type[BivariateCopula], rotation: int, start: tuple[float, ...], uc: FloatArray
) -> tuple[tuple[float, ...], bool]:
    """Damped Newton steps on the log-likelihood from the itau start, with gradient and
    Hessian by central differences; L-BFGS-B within the bounds if the Hessian is not positive
    definite along the way (far from the optimum) or Newton does not converge.

    Newton is used first because the itau start is already close to the optimum, where it
    converges quadratically: about 3 steps of 2p^2 + 1 evaluations, against the 50-100
    evaluations that L-BFGS-B with finite-difference gradients needs on the t copula's badly
    scaled (rho, df) surface.
    """
    bounds = cls.param_bounds()
    lower = np.array([lo for lo, _ in bounds])
    upper = np.array([hi for _, hi in bounds])
    n = uc.shape[0]
    nll = _negloglik(cls, rotation, uc)

    def f(x: FloatArray) -> float:
        return n * nll(*x)

    x = np.clip(np.asarray(start, dtype=np.float64), lower, upper)
    fx = f(x)
    for _ in range(30):
        _, grad, hess = _central_derivatives(f, x, bounds)
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
            break
        if np.any(np.linalg.eigvalsh(hess) <= 0):
            break
        step = np.linalg.solve(hess, grad)
        # Newton decrement: fx - min of the quadratic model, in log-likelihood units.
        if 0.5 * float(grad @ step) < 1e-9:
            return tuple(float(v) for v in x), True
        t = 1.0
        while t > 1e-8:
            candidate = np.clip(x - t * step, lower, upper)
            f_candidate = f(candidate)
            if f_candidate <= fx:
                break
            t *= 0.5
        else:
            break  # no decrease along the Newton direction: let L-BFGS-B try
        if np.all(np.abs(candidate - x) <= 1e-10 * (1.0 + np.abs(x))):
            return tuple(float(v) for v in candidate), True
        x, fx = candidate, f_candidate

    res = minimize(lambda z: nll(*z), x, method="L-BFGS-B", bounds=bounds,
                   options={"ftol": 1e-12, "gtol": 1e-8})
    if nll(*res.x) <= fx / n:
        return tuple(float(v) for v in res.x), bool(res.success)
    return tuple(float(v) for v in x), False


# ----------------------------------------------------------------------------------------------
# standard errors
def _hessian_se(
    cls: type[BivariateCopula], rotation: int, params: tuple[float, ...], uc: FloatArray
) -> tuple[float, ...]:
    """sqrt(diag(inverse observed information)), the information being the negative Hessian
    of the log-likelihood by central differences (NaN if it is not positive definite)."""
    n = uc.shape[0]
    nll = _negloglik(cls, rotation, uc)
    hess = _central_hessian(lambda x: n * nll(*x), np.asarray(params), cls.param_bounds())
    try:
        cov = np.linalg.inv(hess)
        if not np.all(np.isfinite(cov)) or np.any(np.linalg.eigvalsh(hess) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        return tuple(math.nan for _ in params)
    return tuple(float(math.sqrt(v)) for v in np.diag(cov))


def _central_hessian(
    f: Callable[[FloatArray], float],
    x: FloatArray,
    bounds: tuple[tuple[float, float], ...],
) -> FloatArray:
    """Hessian of ``f`` at ``x`` by central differences (see :func:`_central_derivatives`)."""
    return _central_derivatives(f, x, bounds)[2]


def _central_derivatives(
    f: Callable[[FloatArray], float],
    x: FloatArray,
    bounds: tuple[tuple[float, float], ...],
) -> tuple[float, FloatArray, FloatArray]:
    """Value, gradient and Hessian of ``f`` at ``x`` by central differences with step
    1e-4 * max(1, |x_i|) (2k^2 + 1 evaluations for k parameters).

    The truncation error is O(h^2) relative to the curvature; the rounding error, about
    eps |f| / h^2, is below 1e-6 of the curvature of a log-likelihood (|f| ~ n, f'' ~ n).
    Near a bound the stencil's centre moves inside the bounds so that every evaluation is at
    valid parameters.
    """
    k = x.size
    h = 1e-4 * np.maximum(1.0, np.abs(x))
    centre = np.asarray(x, dtype=np.float64).copy()
    for i, (lo, hi) in enumerate(bounds):
        centre[i] = min(max(centre[i], lo + h[i]), hi - h[i])
    grad = np.empty(k)
    hess = np.empty((k, k))
    f0 = f(centre)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        f_plus, f_minus = f(centre + ei), f(centre - ei)
        grad[i] = (f_plus - f_minus) / (2.0 * h[i])
        hess[i, i] = (f_plus - 2.0 * f0 + f_minus) / h[i] ** 2
        for j in range(i + 1, k):
            ej = np.zeros(k)
            ej[j] = h[j]
            hess[i, j] = hess[j, i] = (
                f(centre + ei + ej) - f(centre + ei - ej)
                - f(centre - ei + ej) + f(centre - ei - ej)
            ) / (4.0 * h[i] * h[j])
    return f0, grad, hess


def _itau_se(
    cls: type[BivariateCopula],
    rotation: int,
    params: tuple[float, ...],
    tau: float,
    u: FloatArray,
    uc: FloatArray,
) -> tuple[float, ...]:
    """Delta-method SE of the tau-inverted parameter; for a second (profiled) parameter, the
    profile observed information given the first."""
    names = cls.param_names
    extra = {name: v for name, v in zip(names[1:], params[1:], strict=True)}
    se_tau = kendall_tau_se(u)
    t_lo, t_hi = _tau_range(cls, rotation, extra)
    step = 1e-5
    t1, t2 = max(tau - step, t_lo + step), min(tau + step, t_hi - step)
    if t2 <= t1:
        return tuple(math.nan for _ in params)
    dtheta_dtau = (
        _from_tau_clipped(cls, rotation, t2, extra) - _from_tau_clipped(cls, rotation, t1, extra)
    ) / (t2 - t1)
    se = [abs(dtheta_dtau) * se_tau]
    if len(names) == 2:
        n = uc.shape[0]
        nll = _negloglik(cls, rotation, uc)
        lo, hi = cls.param_bounds()[1]
        hess = _central_hessian(lambda x: n * nll(params[0], x[0]), np.array(params[1:]),
                                ((lo, hi),))[0, 0]
        se.append(float(1.0 / math.sqrt(hess)) if hess > 0 else math.nan)
    return tuple(float(s) for s in se)

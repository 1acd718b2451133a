"""The Frank copula, C = -(1/θ) log(1 + (e^-θu1 - 1)(e^-θu2 - 1)/(e^-θ - 1)), θ real."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from ._archimedean import _check_tau, _check_theta, _frank_tau, _subset
from ._base import BivariateCopula, FloatArray

__all__ = ["FrankCopula"]


# Below this |theta| the Frank copula differs from independence by less than |theta| < 1e-20,
# far below double precision, and the closed forms would divide subnormal numbers.
_THETA_INDEPENDENT = 1e-20


# Where 1 - x (the argument of the final logarithm) falls below this, it is recomputed without
# cancellation; above it the rounding error of 1 - x costs at most 2^8 ulps in theta*C (about
# 6e-14 / theta in C), and the cheap formula serves almost every point.
_FAR = 1.0 - 2.0**-8


def _at_least_1d(kernel: Callable[[FloatArray, FloatArray, Any], FloatArray]
                 ) -> Callable[[FloatArray, FloatArray, Any], FloatArray]:
    """Run ``kernel`` on 1-d views when every input is a scalar (its in-place arithmetic
    needs arrays), and return a 0-d result."""

    def wrapped(a: FloatArray, b: FloatArray, th: Any) -> FloatArray:
        if np.ndim(a) == 0 and np.ndim(b) == 0 and np.ndim(th) == 0:
            return kernel(np.reshape(a, 1), np.reshape(b, 1), th).reshape(())
        return kernel(a, b, th)

    wrapped.__doc__ = kernel.__doc__
    return wrapped


@_at_least_1d
def _theta_c(u1: FloatArray, u2: FloatArray, th: Any) -> FloatArray:
    """theta * C(u1, u2) for theta > 0, accurate for every theta and u.

    With A = 1 - e^-θu1, B = 1 - e^-θu2, G = 1 - e^-θ and x = AB/G, θC = -log1p(-x), which is
    accurate (also for tiny theta) while 1 - x is not small. Where x > 1 - 2^-8, 1 - x is
    recomputed on that subset without cancellation as Q/G,
    Q = e^-θu1 B + e^-θu2 (1 - e^-θ(1-u2)), a sum of two non-negative terms.
    """
    x = np.asarray(np.multiply(th, u1), dtype=np.float64)
    np.negative(x, out=x)
    np.expm1(x, out=x)  # -A
    b = np.asarray(np.multiply(th, u2), dtype=np.float64)
    np.negative(b, out=b)
    np.expm1(b, out=b)  # -B
    x = np.multiply(x, b, out=x if x.shape == np.broadcast_shapes(x.shape, b.shape) else None)
    x /= -np.expm1(-th)  # x = AB / G
    far = x > _FAR
    out = np.asarray(np.negative(x), dtype=np.float64)
    np.log1p(out, out=out)
    np.negative(out, out=out)
    if far.any():
        shape = out.shape
        uf, vf, bf, tf = (_subset(z, shape, far) for z in (u1, u2, b, th))
        gf = -np.expm1(-tf)
        q = np.exp(-tf * uf) * -bf + np.exp(-tf * vf) * -np.expm1(-tf * (1.0 - vf))
        out[far] = -np.log(q / gf)
    return out


@_at_least_1d
def _h1_pos(u1: FloatArray, u2: FloatArray, th: Any) -> FloatArray:
    """h1 for theta > 0: 1 / (1 + e^θ(u1-u2) (1 - e^-θ(1-u2)) / (1 - e^-θu2))."""
    r = np.asarray(np.subtract(u1, u2), dtype=np.float64) * th
    np.exp(r, out=r)
    d = np.asarray(np.subtract(1.0, u2), dtype=np.float64) * -th
    np.expm1(d, out=d)
    r *= d
    d = np.asarray(np.multiply(u2, -th), dtype=np.float64)
    np.expm1(d, out=d)
    r /= d
    r += 1.0
    return np.reciprocal(r, out=r)


def _log_mix(p: FloatArray, s: FloatArray) -> FloatArray:
    """log(1 - p + p e^s) for p in [0, 1] and any real s, accurate and overflow-free.

    log1p(p expm1(s)) serves where 1 + p (e^s - 1) >= 2^-8 and s <= 700 (the rounding of the
    sum then costs at most 2^8 ulps); elsewhere, on that subset, s > 0 uses
    s + log(p + (1 - p) e^-s) and s < 0 uses log((1 - p) + p e^s), sums of non-negative terms
    (1 - p is exact there because p > 1/2).
    """
    m = np.asarray(np.expm1(s), dtype=np.float64)
    m = np.asarray(np.multiply(m, p, out=m if m.shape == np.broadcast_shapes(m.shape, np.shape(p))
                               else None), dtype=np.float64)
    bad = (m < -_FAR) | ~np.isfinite(m)
    out = np.log1p(m, out=m)
    if bad.any():
        shape = out.shape
        pb, sb = (_subset(z, shape, bad) for z in (p, s))
        pos = sb > 0
        sp = np.where(pos, sb, 0.0)
        out[bad] = np.where(pos, sp + np.log(pb + (1.0 - pb) * np.exp(-sp)),
                            np.log((1.0 - pb) + pb * np.exp(np.minimum(sb, 0.0))))
    return out


# The denominator of the fast inverse h-function is at least e^-θ; below this value it may have
# lost precision to underflow, and those points take the log-space formula.
_TINY = 1e-280
_THETA_UNDERFLOW = -np.log(_TINY)


@_at_least_1d
def _hinv1_pos(u1: FloatArray, p: FloatArray, th: Any) -> FloatArray:
    """Closed-form inverse of h1 for theta > 0,

    u2 = log1p(p (1 - e^-θ) / (p e^-θ + (1 - p) e^-θu1)) / θ,

    a ratio of sums of non-negative terms inside log1p, so there is no cancellation and u2
    keeps its relative accuracy down to tiny p. Where the denominator underflows (very large
    θ) the log-space form [log(1 - p + p e^θu1) - log(1 - p + p e^-θ(1-u1))] / θ is used.
    """
    # Two preallocated buffers and in-place ufuncs: at 1e6 points the allocation of a
    # temporary costs about as much as an arithmetic pass.
    shape = np.broadcast_shapes(np.shape(u1), np.shape(p), np.shape(th))
    den, out = np.empty(shape), np.empty(shape)
    np.multiply(u1, -th, out=den)
    np.exp(den, out=den)
    np.subtract(1.0, p, out=out)
    den *= out
    np.multiply(p, np.exp(-th), out=out)
    den += out
    np.multiply(p, -np.expm1(-th), out=out)
    out /= den
    np.log1p(out, out=out)
    out /= th
    # Exact end: rounding would leave an ulp below 1 at p = 1 (p = 0 gives 0 exactly).
    np.copyto(out, 1.0, where=np.greater_equal(p, 1.0))
    if np.max(th) > _THETA_UNDERFLOW:
        small = den < _TINY
        if small.any():
            uf, pf, tf = (_subset(z, shape, small) for z in (u1, p, th))
            slow = _log_mix(pf, tf * uf) - _log_mix(pf, -tf * (1.0 - uf))
            slow /= tf
            out[small] = np.where(pf <= 0.0, 0.0, np.where(pf >= 1.0, 1.0, slow))
    return out


def _dispatch(theta: Any, u1: FloatArray, u2: FloatArray,
              positive: Callable[[FloatArray, FloatArray, Any], FloatArray],
              negative: Callable[[FloatArray, FloatArray, Any], FloatArray],
              independent: Callable[[FloatArray, FloatArray], FloatArray]) -> FloatArray:
    """Evaluate a function of the Frank copula, reducing theta < 0 to |theta| by reflection.

    ``negative(u1, u2, |theta|)`` returns the value for -|theta| from the positive-theta
    formulas (Frank with -theta is the 90/270-degree rotation of Frank with theta);
    ``independent`` gives theta = 0 exactly (and |theta| <= 1e-20, where the difference is
    below double precision), so there is no 0/0.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        if np.ndim(theta) == 0:
            if theta > _THETA_INDEPENDENT:
                return np.asarray(positive(u1, u2, theta), dtype=np.float64)
            if theta < -_THETA_INDEPENDENT:
                return np.asarray(negative(u1, u2, -theta), dtype=np.float64)
            return np.asarray(independent(u1, u2), dtype=np.float64)
        th = np.asarray(theta)
        shape = np.broadcast_shapes(np.shape(u1), np.shape(u2), th.shape)
        u1b, u2b, thb = (np.broadcast_to(x, shape) for x in (u1, u2, th))
        out = np.empty(shape)
        pos, neg = thb > _THETA_INDEPENDENT, thb < -_THETA_INDEPENDENT
        for mask, fn in ((pos, positive), (neg, negative)):
            if mask.any():
                out[mask] = fn(u1b[mask], u2b[mask], np.abs(thb[mask]))
        zero = ~(pos | neg)
        if zero.any():
            out[zero] = independent(u1b[zero], u2b[zero])
        return out


class FrankCopula(BivariateCopula):
    r"""Frank copula: radially symmetric, no tail dependence, any sign of dependence.

    .. math::

        C(u_1, u_2) = -\frac{1}{\theta}
            \log\Bigl(1 + \frac{(e^{-\theta u_1} - 1)(e^{-\theta u_2} - 1)}{e^{-\theta} - 1}
            \Bigr), \qquad \theta \in \mathbb{R},

    the Archimedean copula with generator
    :math:`\varphi(t) = -\log\frac{e^{-\theta t} - 1}{e^{-\theta} - 1}` (Frank 1979; Nelsen
    2006, eq. 4.2.5; Joe 2014, §4.5). Its density is

    .. math::

        c(u_1, u_2) = \frac{\theta}{1 - e^{-\theta}}
                      \exp\bigl(-\theta (u_1 + u_2 - 2 C(u_1, u_2))\bigr),

    which is how ``logpdf`` is computed, in log space. Kendall's tau is
    :math:`1 - \frac{4}{\theta}(1 - D_1(\theta))` with the Debye function
    :math:`D_1(x) = \frac1x\int_0^x \frac{t}{e^t - 1}dt`. ``theta = 0`` is exactly the
    independence copula; ``theta < 0`` gives negative dependence and is evaluated as the
    90-degree rotation of ``|theta|``.

    The family is closed under rotation (90 and 270 degrees equal ``-theta``, 180 degrees
    equals ``theta``), so only ``rotation = 0`` is accepted; use a negative ``theta``.

    Parameters
    ----------
    theta : float or array_like
        Dependence parameter, any finite real. An array broadcasts against the leading axes of
        ``u`` (one parameter per row of an ``(n, 2)`` array), and may mix signs and zeros.
    rotation : {0}, default 0
        Accepted for a uniform signature with the other families; must be 0.

    References
    ----------
    Frank, M. J. (1979). On the simultaneous associativity of F(x, y) and x + y - F(x, y).
    Aequationes Mathematicae 19.
    Nelsen, R. B. (2006). An Introduction to Copulas, 2nd ed. Springer, §4.2 and §5.1.
    Joe, H. (2014). Dependence Modeling with Copulas. CRC Press, §4.5.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.copulas import FrankCopula
    >>> cop = FrankCopula(-6.0)
    >>> round(cop.tau, 6)
    -0.514174
    >>> round(FrankCopula.from_tau(cop.tau).theta, 12)
    -6.0
    >>> u2 = cop.hinv1([0.3, 0.8])
    >>> float(np.round(cop.hfunc1([0.3, float(u2)]), 12))
    0.8
    """

    family = "frank"
    param_names = ("theta",)
    allowed_rotations = (0,)

    def __init__(self, theta: ArrayLike, *, rotation: int = 0) -> None:
        _check_theta(theta, family=self.family)
        self._init_params(rotation=rotation, theta=theta)

    @property
    def theta(self) -> float | FloatArray:
        """Dependence parameter (negative: negative dependence; 0: independence)."""
        return self._params["theta"]

    @classmethod
    def param_bounds(cls) -> tuple[tuple[float, float], ...]:
        """``((-50, 50),)``: tau from -0.92 to 0.92."""
        return ((-50.0, 50.0),)

    @classmethod
    def from_tau(cls, tau: float, *, rotation: int | None = None) -> FrankCopula:
        """The Frank copula with Kendall's tau ``tau`` in (-1, 1).

        Solves tau(theta) = tau by Brent's method on [0, 4/(1 - |tau|)] (tau(theta) exceeds
        |tau| at the upper end because 1 - tau(theta) < 4/theta), to about 1e-14.

        Examples
        --------
        >>> from llmcopula.copulas import FrankCopula
        >>> round(FrankCopula.from_tau(0.5).theta, 10)
        5.736282707
        """
        t = _check_tau(tau)
        if rotation not in (None, 0):
            raise ValueError(
                f"rotation: frank copula supports rotations (0,), got {rotation!r}; "
                "negative tau gives a negative theta"
            )
        if t == 0.0:
            return cls(0.0)
        a = abs(t)
        hi = 4.0 / (1.0 - a)
        theta = brentq(lambda th: _frank_tau(th) - a, 0.0, hi, xtol=1e-300, rtol=1e-15,
                       maxiter=200)
        return cls(np.copysign(theta, t))

    # ------------------------------------------------------------------------------------------
    def _cdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        return _dispatch(
            self.theta, u1, u2,
            lambda a, b, th: _theta_c(a, b, th) / th,
            lambda a, b, th: a - _theta_c(a, 1.0 - b, th) / th,
            lambda a, b: a * b,
        )

    def _hfunc1_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        return _dispatch(
            self.theta, u1, u2,
            _h1_pos,
            lambda a, b, th: 1.0 - _h1_pos(a, 1.0 - b, th),
            lambda a, b: np.broadcast_to(b, np.broadcast(a, b).shape).astype(np.float64),
        )

    def _logpdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        return _dispatch(self.theta, u1, u2, _logpdf_pos,
                         lambda a, b, th: _logpdf_pos(a, 1.0 - b, th),
                         lambda a, b: np.zeros(np.broadcast(a, b).shape))

    def _hinv1_0(self, u1: FloatArray, p: FloatArray) -> FloatArray:
        return _dispatch(
            self.theta, u1, p,
            _hinv1_pos,
            lambda a, q, th: 1.0 - _hinv1_pos(a, 1.0 - q, th),
            lambda a, q: np.broadcast_to(q, np.broadcast(a, q).shape).astype(np.float64),
        )

    @property
    def _tau0(self) -> Any:
        return _frank_tau(self.theta)

    @property
    def _tail0(self) -> tuple[Any, Any]:
        zero = 0.0 * np.asarray(self.theta)
        return (float(zero), float(zero)) if zero.ndim == 0 else (zero, zero)


def _logpdf_pos(u1: FloatArray, u2: FloatArray, th: Any) -> FloatArray:
    """log c for theta > 0: log(θ / (1 - e^-θ)) - θ (u1 + u2) + 2 θ C."""
    return np.log(th / -np.expm1(-th)) - th * (u1 + u2) + 2.0 * _theta_c(u1, u2, th)

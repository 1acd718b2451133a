"""The Gumbel (Gumbel–Hougaard) copula, C = exp(-((-log u1)^θ + (-log u2)^θ)^(1/θ)), θ >= 1."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._archimedean import (
    _check_theta,
    _fill_nan,
    _log_expm1,
    _halley_log_increasing_convex,
    _rotation_and_abs_tau,
    _softplus,
)
from ._base import BivariateCopula, FloatArray

__all__ = ["GumbelCopula"]

# a = -log u is kept inside [_A_MIN, _A_MAX]: this only moves u = 1 (a = 0) and u = 0
# (a = inf), where it turns 0 * inf into the correct one-sided limits.
_A_MIN = 1e-300
_A_MAX = 1e300


def _fill_nan_with(out: Any, u1: FloatArray, u2: FloatArray) -> FloatArray:
    """Replace NaN in ``out`` by min(u1, u2), the value of C at the corners (0, 0) and (1, 1)."""
    out = np.asarray(out, dtype=np.float64)
    nan = np.isnan(out)
    if nan.any():
        out = np.where(nan, np.minimum(u1, u2), out)
    return out


class GumbelCopula(BivariateCopula):
    r"""Gumbel (Gumbel–Hougaard) copula with upper tail dependence.

    With :math:`a = -\log u_1`, :math:`b = -\log u_2` and
    :math:`A = (a^\theta + b^\theta)^{1/\theta}`,

    .. math::

        C(u_1, u_2) = e^{-A}, \qquad \theta \ge 1,

    the Archimedean copula with generator :math:`\varphi(t) = (-\log t)^\theta` and the only
    one that is also an extreme-value copula (Nelsen 2006, eq. 4.2.4; Joe 2014, §4.8). Its
    density is

    .. math::

        c(u_1, u_2) = \frac{C(u_1, u_2)}{u_1 u_2} (ab)^{\theta - 1} A^{2 - 2\theta}
                      \Bigl(1 + \frac{\theta - 1}{A}\Bigr).

    Kendall's tau is :math:`1 - 1/\theta`, the upper tail dependence
    :math:`\lambda_U = 2 - 2^{1/\theta}`, and there is no lower tail dependence. ``theta = 1``
    is exactly the independence copula.

    All functions are evaluated from :math:`z = \theta(\log b - \log a)` and
    :math:`q = \log(1 + e^z)`, so that :math:`A = a e^{q/\theta}`,
    :math:`\log h_1 = -a\,\operatorname{expm1}(q/\theta) - (1 - 1/\theta) q` and nothing
    overflows for large theta. The inverse h-function solves, for :math:`t = A - a`,
    :math:`t + (\theta - 1)\log(1 + t/a) = -\log p` by Halley's method in :math:`\log t`
    (the left side is increasing and convex in :math:`\log t`), started from the upper bound
    :math:`\min(-\log p, a\,\operatorname{expm1}(-\log p/(\theta-1)))`, with a residual
    check and a bisection fallback; then
    :math:`b = a\,(\operatorname{expm1}(\theta \log(1 + t/a)))^{1/\theta}`.

    Parameters
    ----------
    theta : float or array_like
        Dependence parameter, >= 1 and finite. An array broadcasts against the leading axes of
        ``u`` (one parameter per row of an ``(n, 2)`` array).
    rotation : {0, 90, 180, 270}, default 0
        Counter-clockwise rotation of the density. 180 gives the survival Gumbel copula
        (lower tail dependence); 90 and 270 give negative dependence.

    References
    ----------
    Gumbel, E. J. (1960). Distributions des valeurs extrêmes en plusieurs dimensions.
    Nelsen, R. B. (2006). An Introduction to Copulas, 2nd ed. Springer, §4.2.
    Joe, H. (2014). Dependence Modeling with Copulas. CRC Press, §4.8.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.copulas import GumbelCopula
    >>> cop = GumbelCopula(2.0)
    >>> cop.tau
    0.5
    >>> float(np.round(cop.cdf([0.5, 0.5]), 6))
    0.375214
    >>> u2 = cop.hinv1([0.3, 0.8])
    >>> float(np.round(cop.hfunc1([0.3, float(u2)]), 12))
    0.8
    """

    family = "gumbel"
    param_names = ("theta",)
    allowed_rotations = (0, 90, 180, 270)

    def __init__(self, theta: ArrayLike, *, rotation: int = 0) -> None:
        _check_theta(theta, low=1.0, low_inclusive=True, family=self.family)
        self._init_params(rotation=rotation, theta=theta)

    @property
    def theta(self) -> float | FloatArray:
        """Dependence parameter theta >= 1."""
        return self._params["theta"]

    @classmethod
    def param_bounds(cls) -> tuple[tuple[float, float], ...]:
        """``((1, 50),)``: tau from 0 to 0.98; beyond that the fit is indistinguishable from the
        comonotone copula on LLM confidence data."""
        return ((1.0, 50.0),)

    @classmethod
    def from_tau(cls, tau: float, *, rotation: int | None = None) -> GumbelCopula:
        """The Gumbel copula with Kendall's tau ``tau``: theta = 1 / (1 - |tau|).

        Negative tau needs rotation 90 or 270 (90 by default); tau = 0 gives theta = 1.

        Examples
        --------
        >>> from llmcopula.copulas import GumbelCopula
        >>> GumbelCopula.from_tau(0.5)
        GumbelCopula(theta=2.0, rotation=0)
        """
        t, rot = _rotation_and_abs_tau(cls, tau, rotation, allow_zero=True)
        return cls(1.0 / (1.0 - t), rotation=rot)

    # ------------------------------------------------------------------------------------------
    def _cdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        th = self.theta
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.log(u1)
            b = np.log(u2)
            # A = max(a, b) (1 + (min/max)^theta)^(1/theta): the ratio lies in [0, 1], so its
            # power cannot overflow, and one power replaces two logarithms and an exponential.
            big = np.minimum(a, b)  # -max(-log u1, -log u2)
            q = np.asarray(np.maximum(a, b), dtype=np.float64)
            q /= big
            np.power(q, th, out=q)
            np.log1p(q, out=q)
            q /= th
            np.exp(q, out=q)
            q *= big
            out = np.exp(q, out=q)
        # NaN only at the corners (0, 0) and (1, 1), where C = min(u1, u2).
        return _fill_nan_with(out, u1, u2)

    def _hfunc1_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        th = self.theta
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.clip(-np.log(u1), _A_MIN, _A_MAX)
            # b is not clipped here: b = 0 and b = inf give h1(u1, 1) = 1 and h1(u1, 0) = 0.
            z = np.log(-np.log(u2)) - np.log(a)
            z *= th
            q = _softplus(z)
            log_h = np.expm1(q / th) * -a
            log_h -= (1.0 - 1.0 / th) * q
            # theta = 1 with u2 = 0 gives 0 * inf; h1(u1, 0) = 0 there.
            return _fill_nan(np.exp(log_h), 0.0)

    def _logpdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        th = self.theta
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.clip(-np.log(u1), _A_MIN, _A_MAX)
            b = np.clip(-np.log(u2), _A_MIN, _A_MAX)
            # Symmetric form around the larger of a, b so that a + b - A (>= 0) is computed as
            # min(a, b) - max(a, b) expm1(q/theta) without losing the small term.
            w = np.abs(np.log(b) - np.log(a)) * th
            q = np.log1p(np.exp(-w))
            hi = np.maximum(a, b)
            e = np.expm1(q / th)
            big_a = hi + hi * e
            out = np.minimum(a, b) - hi * e
            out -= (1.0 - 1.0 / th) * (w + 2.0 * q)
            out += np.log1p((th - 1.0) / big_a)
            return out

    def _hinv1_0(self, u1: FloatArray, p: FloatArray) -> FloatArray:
        th = np.asarray(self.theta, dtype=np.float64)
        shape = np.broadcast_shapes(np.shape(u1), np.shape(p), th.shape)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            a = np.clip(-np.log(np.broadcast_to(u1, shape)), _A_MIN, _A_MAX).ravel()
            ell = np.minimum(-np.log(np.broadcast_to(p, shape)), _A_MAX).ravel()
            th_f = np.broadcast_to(th, shape).ravel() if th.ndim else th
            k = th_f - 1.0

            def residual(t: FloatArray, idx: Any) -> tuple[FloatArray, ...]:
                ai, li = a[idx], ell[idx]
                ki = k[idx] if np.ndim(k) else k
                lp = np.log1p(t / ai)
                klp = ki * lp
                s = ai + t
                g1 = t * (1.0 + ki / s)
                g2 = t * (1.0 + ki * ai / (s * s))
                return t + klp - li, g1, g2, t + klp + li

            t_hi = np.fmin(ell, a * np.expm1(ell / k))
            t = _halley_log_increasing_convex(residual, t_hi)
            log_b = np.log(a) + _log_expm1(th_f * np.log1p(t / a)) / th_f
            out = np.exp(-np.exp(log_b))
        return out.reshape(shape)

    @property
    def _tau0(self) -> Any:
        return 1.0 - 1.0 / self.theta

    @property
    def _tail0(self) -> tuple[Any, Any]:
        th = self.theta
        # 2 - 2^(1/theta) = -2 expm1((1/theta - 1) log 2), exact to rounding near theta = 1.
        return 0.0 * th, -2.0 * np.expm1((1.0 / th - 1.0) * np.log(2.0))

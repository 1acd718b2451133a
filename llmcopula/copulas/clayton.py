"""The Clayton copula, C(u1, u2) = (u1^-theta + u2^-theta - 1)^(-1/theta), theta > 0."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._archimedean import (
    _check_theta,
    _fill_nan,
    _log_expm1,
    _rotation_and_abs_tau,
    _softplus,
    _subset,
)
from ._base import BivariateCopula, FloatArray

__all__ = ["ClaytonCopula"]


def _clayton_t(u1: FloatArray, u2: FloatArray, theta: Any) -> tuple[FloatArray, FloatArray,
                                                                      FloatArray]:
    """x = -theta log u1, y = -theta log u2 and t = log(1 + u1^theta (u2^-theta - 1)) / theta.

    The direct form costs five transcendental calls; where ``u2^-theta`` overflows (or
    ``u1^theta`` underflows against it) it is recomputed on that subset as
    t = [max(d, 0) + log1p(e^-|d| (1 - e^-min(x, y)))] / theta with d = y - x, whose terms are
    all bounded. NaN remains only at u = (0, 0).
    """
    x = np.log(u1) * -theta
    y = np.log(u2) * -theta
    t = np.asarray(np.log1p(np.exp(-x) * np.expm1(y)))
    t /= theta
    bad = ~np.isfinite(t)
    if bad.any():
        th, xb, yb = (_subset(z, t.shape, bad) for z in (theta, x, y))
        d = yb - xb
        tb = np.maximum(d, 0.0) + np.log1p(np.exp(-np.abs(d)) * -np.expm1(-np.minimum(xb, yb)))
        t[bad] = tb / th
    return x, y, t


class ClaytonCopula(BivariateCopula):
    r"""Clayton copula with lower tail dependence.

    .. math::

        C(u_1, u_2) = (u_1^{-\theta} + u_2^{-\theta} - 1)^{-1/\theta}, \qquad \theta > 0,

    the Archimedean copula with generator :math:`\varphi(t) = (t^{-\theta} - 1)/\theta`
    (Nelsen 2006, eq. 4.2.1; Joe 2014, §4.6). Its density is

    .. math::

        c(u_1, u_2) = (1 + \theta) (u_1 u_2)^{-\theta - 1}
                      (u_1^{-\theta} + u_2^{-\theta} - 1)^{-1/\theta - 2},

    Kendall's tau is :math:`\theta / (\theta + 2)`, the lower tail dependence
    :math:`\lambda_L = 2^{-1/\theta}` and there is no upper tail dependence. As
    :math:`\theta \to 0` it tends to independence and as :math:`\theta \to \infty` to the
    comonotone copula :math:`\min(u_1, u_2)`.

    Every function is evaluated through :math:`x = -\theta \log u_1`,
    :math:`y = -\theta \log u_2` and the bounded quantity
    :math:`t = (\log(e^x + e^y - 1) - x)/\theta`, so that
    :math:`C = u_1 e^{-t}`, :math:`h_1 = e^{-(1 + \theta) t}` and
    :math:`\log c = \log(1 + \theta) + (1 + 1/\theta) y - x - (2\theta + 1) t`: nothing
    overflows when :math:`u^{-\theta}` does, and ``logpdf`` stays finite where ``pdf``
    underflows. The inverse h-function is closed form,
    :math:`u_2 = \exp(-\operatorname{softplus}(x + \log(e^w - 1))/\theta)` with
    :math:`w = -\tfrac{\theta}{1 + \theta} \log p`.

    Parameters
    ----------
    theta : float or array_like
        Dependence parameter, > 0 and finite. An array broadcasts against the leading axes of
        ``u`` (one parameter per row of an ``(n, 2)`` array).
    rotation : {0, 90, 180, 270}, default 0
        Counter-clockwise rotation of the density. 180 gives the survival Clayton copula
        (upper tail dependence); 90 and 270 give negative dependence.

    References
    ----------
    Clayton, D. G. (1978). A model for association in bivariate life tables. Biometrika 65.
    Nelsen, R. B. (2006). An Introduction to Copulas, 2nd ed. Springer, §4.2.
    Joe, H. (2014). Dependence Modeling with Copulas. CRC Press, §4.6.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.copulas import ClaytonCopula
    >>> cop = ClaytonCopula(2.0)
    >>> round(cop.tau, 6)
    0.5
    >>> float(np.round(cop.cdf([0.5, 0.5]), 6))
    0.377964
    >>> u2 = cop.hinv1([0.3, 0.8])
    >>> float(np.round(cop.hfunc1([0.3, float(u2)]), 12))
    0.8
    """

    family = "clayton"
    param_names = ("theta",)
    allowed_rotations = (0, 90, 180, 270)

    def __init__(self, theta: ArrayLike, *, rotation: int = 0) -> None:
        _check_theta(theta, low=0.0, family=self.family)
        self._init_params(rotation=rotation, theta=theta)

    @property
    def theta(self) -> float | FloatArray:
        """Dependence parameter theta > 0."""
        return self._params["theta"]

    @classmethod
    def param_bounds(cls) -> tuple[tuple[float, float], ...]:
        """``((1e-4, 50),)``: tau from 5e-5 to 0.96, wider than LLM confidence data need; beyond
        50 the fit is indistinguishable from the comonotone copula."""
        return ((1e-4, 50.0),)

    @classmethod
    def from_tau(cls, tau: float, *, rotation: int | None = None) -> ClaytonCopula:
        """The Clayton copula with Kendall's tau ``tau``: theta = 2|tau| / (1 - |tau|).

        ``tau`` must be non-zero; negative tau needs rotation 90 or 270 (90 by default).

        Examples
        --------
        >>> from llmcopula.copulas import ClaytonCopula
        >>> ClaytonCopula.from_tau(-0.5)
        ClaytonCopula(theta=2.0, rotation=90)
        """
        t, rot = _rotation_and_abs_tau(cls, tau, rotation, allow_zero=False)
        return cls(2.0 * t / (1.0 - t), rotation=rot)

    # ------------------------------------------------------------------------------------------
    def _cdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            _, _, t = _clayton_t(u1, u2, self.theta)
            np.negative(t, out=t)
            out = u1 * np.exp(t, out=t)
        return _fill_nan(out, 0.0)

    def _hfunc1_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        th = self.theta
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            _, _, t = _clayton_t(u1, u2, th)
            t *= -(1.0 + th)
            out = np.exp(t, out=t)
        # The corner (0, 0) follows the convention h1(u1, 0) = 0.
        return _fill_nan(out, 0.0)

    def _logpdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        th = self.theta
        # Ordering the arguments makes the computed density exactly symmetric.
        u1, u2 = np.minimum(u1, u2), np.maximum(u1, u2)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x, y, t = _clayton_t(u1, u2, th)
            t *= -(2.0 * th + 1.0)
            t -= x
            y *= 1.0 + 1.0 / th
            t += y
            t += np.log1p(th)
        # inf - inf arises only for u2 = 0: the density tends to 0 there when u1 > 0, and grows
        # like 1/u along the diagonal into the corner (0, 0).
        t = np.asarray(t, dtype=np.float64)
        nan = np.isnan(t)
        if nan.any():
            t = np.where(nan, np.where(u1 == 0.0, np.inf, -np.inf), t)
        return t

    def _hinv1_0(self, u1: FloatArray, p: FloatArray) -> FloatArray:
        th = self.theta
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = np.log(u1) * -th
            w = np.log(p) * (-th / (1.0 + th))
            # y = -theta log u2 = log(1 + e^x (e^w - 1)): direct form, then the overflow-free
            # softplus(x + log(e^w - 1)) where e^x or e^w overflowed.
            y = np.asarray(np.log1p(np.exp(x) * np.expm1(w)))
            bad = ~np.isfinite(y)
            if bad.any():
                xb, wb = (_subset(z, y.shape, bad) for z in (x, w))
                y[bad] = _softplus(xb + _log_expm1(wb))
            y /= -th
            out = np.exp(y, out=y)
        # Only (u1, p) = (0, 1) gives NaN; the convention hinv1(u1, 1) = 1 applies.
        return _fill_nan(out, 1.0)

    @property
    def _tau0(self) -> Any:
        th = self.theta
        return th / (th + 2.0)

    @property
    def _tail0(self) -> tuple[Any, Any]:
        th = self.theta
        return np.exp(-np.log(2.0) / th), 0.0 * th

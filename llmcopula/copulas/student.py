"""The bivariate Student t copula."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from .._deprecation import keyword_only_after
from .._validation import RNGLike, check_positive_int, check_rng
from ._base import BivariateCopula, FloatArray
from ._bvn import bvt_cdf
from .gaussian import _edges, _check_correlation

__all__ = ["StudentTCopula"]

_BIG = 1e100
_TINY = float(np.finfo(np.float64).tiny)
_ONE_MINUS = float(np.nextafter(1.0, 0.0))


def _check_df(df: ArrayLike) -> Any:
    arr = np.asarray(df, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError("df: contains NaN")
    if arr.size and ((arr <= 0).any() or np.isinf(arr).any()):
        raise ValueError(
            f"df: degrees of freedom must be finite and > 0, got range [{arr.min():.6g}, {arr.max():.6g}]"
        )
    return arr


def _stdtrit(nu: Any, u: FloatArray) -> FloatArray:
    """Student t quantile. scipy 1.17's stdtrit returns +inf at u = 0 and a wrong-signed value
    for some u below ~1e-190; there the tail expansion T_ν(x) ≈ c_ν ν^{(ν-1)/2} |x|^{-ν} is
    exact to double precision and is used instead."""
    x = special.stdtrit(nu, u)
    # One pass decides whether the check is needed at all (scipy is right above 1e-150).
    if np.size(u) == 0 or np.min(u) >= 1e-150:
        return x
    bad = (u < 0.5) & ~(x < 0)
    if np.any(bad):
        log_c = (special.gammaln((nu + 1.0) / 2.0) - special.gammaln(nu / 2.0)
                 - 0.5 * np.log(np.pi * nu) + (nu - 1.0) / 2.0 * np.log(nu))
        with np.errstate(divide="ignore"):
            tail = -np.exp((log_c - np.log(u)) / nu)
        x = np.where(bad, tail, x)
    return x


class StudentTCopula(BivariateCopula):
    r"""Bivariate Student t copula with correlation ``rho`` and ``df`` degrees of freedom.

    With :math:`x_i = t_\nu^{-1}(u_i)` and :math:`Q = x_1^2 - 2\rho x_1 x_2 + x_2^2`,

    .. math::

        C(u_1, u_2) = T_{2,\nu}(x_1, x_2; \rho),

        \log c = \log\Gamma\big(\tfrac{\nu+2}{2}\big) + \log\Gamma\big(\tfrac{\nu}{2}\big)
            - 2\log\Gamma\big(\tfrac{\nu+1}{2}\big) - \tfrac12\log(1-\rho^2)
            - \tfrac{\nu+2}{2}\log\Big(1 + \frac{Q}{\nu(1-\rho^2)}\Big)
            + \tfrac{\nu+1}{2}\sum_i \log\Big(1 + \frac{x_i^2}{\nu}\Big),

        h_1(u_1, u_2) = t_{\nu+1}\Big(\frac{x_2 - \rho x_1}{\sigma(x_1)}\Big), \quad
        \sigma(x_1) = \sqrt{\frac{(\nu + x_1^2)(1 - \rho^2)}{\nu + 1}},

    and :math:`h_1^{-1}(u_1, p) = t_\nu(\rho x_1 + \sigma(x_1)\, t_{\nu+1}^{-1}(p))`.
    Kendall's tau is :math:`(2/\pi)\arcsin\rho` (it does not depend on ν) and both tails
    have dependence :math:`2\, t_{\nu+1}\big(-\sqrt{(\nu+1)(1-\rho)/(1+\rho)}\big)`.

    Parameters
    ----------
    rho : float or array_like
        Correlation, strictly inside (-1, 1).
    df : float or array_like
        Degrees of freedom ν > 0 (real). Everything is defined for any ν > 0; ν below 1 gives
        extremely heavy tails whose quantiles overflow for u within about 1e-300·ν of 0 or 1,
        and ν above a few hundred is numerically the Gaussian copula. Maximum likelihood
        searches ν in (1, 60) (:meth:`param_bounds`).

    Notes
    -----
    ``cdf``: for integer ν (up to 400) the finite series of Dunnett & Sobel (1954), exact to
    rounding (about 1e-15) and fast; for other ν, graded Gauss–Jacobi/Gauss–Legendre
    quadrature of the h-function over the first argument (see ``_bvn.bvt_cdf``), accurate
    to about 1e-9 but some hundred times slower (roughly 0.1 ms per point).

    References
    ----------
    H. Joe (2014), *Dependence Modeling with Copulas*, Chapman & Hall/CRC, §4.3.
    S. Demarta and A. J. McNeil (2005), "The t copula and related copulas", International
    Statistical Review 73, 111-129.
    A. Genz (2004), "Numerical computation of rectangular bivariate and trivariate normal and
    t probabilities", Statistics and Computing 14, 251-260.

    Examples
    --------
    >>> from llmcopula.copulas import StudentTCopula
    >>> cop = StudentTCopula(0.5, df=4)
    >>> round(float(cop.cdf([0.5, 0.5])), 6)  # 1/4 + arcsin(0.5)/(2π) for any df
    0.333333
    >>> round(float(cop.lower_tail_dependence), 4)  # 2 t_5(-sqrt(5 (1 - 0.5) / 1.5))
    0.2532
    """

    family = "student"
    param_names = ("rho", "df")

    def __init__(self, rho: ArrayLike, df: ArrayLike) -> None:
        self._init_params(rho=_check_correlation(rho, "rho"), df=_check_df(df))

    @property
    def rho(self) -> float | FloatArray:
        """Correlation parameter."""
        return self._params["rho"]

    @property
    def df(self) -> float | FloatArray:
        """Degrees of freedom ν."""
        return self._params["df"]

    @classmethod
    def param_bounds(cls) -> tuple[tuple[float, float], ...]:
        """Bounds of (``rho``, ``df``) used by maximum likelihood."""
        return ((-0.9999, 0.9999), (1.0, 60.0))

    @classmethod
    def from_tau(  # type: ignore[override]
        cls, tau: float, *, df: float, rotation: int | None = None
    ) -> StudentTCopula:
        """The t copula with Kendall's tau ``tau`` and ``df`` degrees of freedom:
        rho = sin(π tau / 2)."""
        tau_arr = np.asarray(tau, dtype=np.float64)
        if np.isnan(tau_arr).any() or (np.abs(tau_arr) >= 1.0).any():
            raise ValueError(f"tau: must lie in the open interval (-1, 1), got {tau!r}")
        if rotation not in (None, 0):
            raise ValueError(f"rotation: the student copula supports rotations (0,), got {rotation!r}")
        return cls(np.sin(np.pi * tau_arr / 2.0), df)

    # ------------------------------------------------------------------------------------------
    def _scores(self, u: FloatArray) -> FloatArray:
        return _stdtrit(self.df, u)

    def _cdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        out = bvt_cdf(self._scores(u1), self._scores(u2), self.rho, self.df)
        return _edges(u1, u2, out)

    def _logpdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        rho, nu = np.asarray(self.rho), np.asarray(self.df)
        x1, x2 = self._scores(u1), self._scores(u2)
        one_m = (1.0 - rho) * (1.0 + rho)
        const = (
            special.gammaln((nu + 2.0) / 2.0)
            + special.gammaln(nu / 2.0)
            - 2.0 * special.gammaln((nu + 1.0) / 2.0)
            - 0.5 * np.log(one_m)
        )
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            # Scores beyond ~1e100 (heavy tails, u near 0 or 1) would overflow when squared:
            # scale by m = max|x_i| and use log(1 + Q/a) = 2 log m + log(1/m² + Q/(m² a)).
            m = np.maximum(np.maximum(np.abs(x1), np.abs(x2)), 1.0)
            big = np.isfinite(m) & (m > 1e100)
            ms = np.where(big, m, 1.0)
            y1, y2 = x1 / ms, x2 / ms
            quad = y1 * y1 - 2.0 * rho * y1 * y2 + y2 * y2
            log_q = np.where(big, 2.0 * np.log(ms) + np.log(1.0 / ms**2 + quad / (nu * one_m)),
                             np.log1p(quad / (nu * one_m)))

            def log1p_sq(x: FloatArray) -> FloatArray:
                ax = np.abs(x)
                return np.where(ax > 1e100, 2.0 * np.log(ax) - np.log(nu), np.log1p(x * x / nu))

            out = const - (nu + 2.0) / 2.0 * log_q + (nu + 1.0) / 2.0 * (log1p_sq(x1) + log1p_sq(x2))
        inf1, inf2 = np.isinf(x1), np.isinf(x2)
        if (inf1 | inf2).any():
            # One score infinite: c -> 0 like 1/|x|; both: c -> inf in every corner.
            out = np.where(inf1 ^ inf2, -np.inf, out)
            out = np.where(inf1 & inf2, np.inf, out)
        return out

    def _hfunc1_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        rho, nu = self.rho, self.df
        x1 = np.clip(self._scores(u1), -_BIG, _BIG)
        x2 = self._scores(u2)
        sigma = np.sqrt((nu + x1 * x1) * ((1.0 - rho) * (1.0 + rho)) / (nu + 1.0))
        with np.errstate(invalid="ignore"):
            out = special.stdtr(nu + 1.0, (x2 - rho * x1) / sigma)
        return np.where(u2 == 0.0, 0.0, np.where(u2 == 1.0, 1.0, out))

    def _hinv1_0(self, u1: FloatArray, p: FloatArray) -> FloatArray:
        rho, nu = self.rho, self.df
        x1 = np.clip(self._scores(u1), -_BIG, _BIG)
        sigma = np.sqrt((nu + x1 * x1) * ((1.0 - rho) * (1.0 + rho)) / (nu + 1.0))
        with np.errstate(invalid="ignore"):
            out = special.stdtr(nu, rho * x1 + sigma * _stdtrit(nu + 1.0, p))
        # For 0 < p < 1 the conditional quantile lies strictly inside (0, 1). Near-degenerate
        # conditioning (|x1| ~ 1e100) cancels rho * x1 against sigma * q in floating point and can
        # round the result to exactly 0 or 1, where the h-function is 0 or 1 by definition
        # instead of p; the open-interval end points keep the inverse consistent.
        out = np.clip(out, _TINY, _ONE_MINUS)
        return np.where(p == 0.0, 0.0, np.where(p == 1.0, 1.0, out))

    @property
    def _tau0(self) -> Any:
        return 2.0 / np.pi * np.arcsin(self.rho)

    @property
    def _tail0(self) -> tuple[Any, Any]:
        rho, nu = self.rho, self.df
        lam = 2.0 * special.stdtr(nu + 1.0, -np.sqrt((nu + 1.0) * (1.0 - rho) / (1.0 + rho)))
        lam = float(lam) if np.ndim(lam) == 0 else lam
        return lam, lam

    @keyword_only_after("rng")
    def sample(self, n: int, *, rng: RNGLike = None) -> FloatArray:
        """Draw ``n`` points: U = t_ν(Z / √(W/ν)) with Z bivariate normal of correlation
        ``rho`` and W ~ χ²_ν independent.

        With array parameters, their shapes must broadcast against ``(n,)``."""
        n = check_positive_int(n, "n", minimum=0)
        gen = check_rng(rng)
        rho, nu = self.rho, self.df
        z = gen.standard_normal((n, 2))
        z2 = rho * z[:, 0] + np.sqrt((1.0 - rho) * (1.0 + rho)) * z[:, 1]
        scale = np.sqrt(gen.chisquare(np.broadcast_to(nu, (n,))) / nu)
        return np.stack(
            [special.stdtr(nu, z[:, 0] / scale), special.stdtr(nu, z2 / scale)], axis=-1
        )

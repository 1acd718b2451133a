"""The published configuration of the Markov-copula cascade model, as a baseline.

Zellinger & Thomson, *Rational Tuning of LLM Cascades via Probabilistic Modeling*
(arXiv 2501.09345), as its public experiments configure it; :class:`MarkovCopulaModel` is the
same idea with the changes listed in ``docs/cascade-model.md``. This module reproduces the
published choices so that both are tuned, routed and scored by the same code:

* **Marginals** (:class:`LumpyBetaMixture`): the training minimum a and maximum b of each
  model's calibrated confidence are always atoms (mass: the fraction of training values equal
  to them), and the values strictly inside (a, b) follow a mixture of two beta distributions
  rescaled to (a, b), fitted by EM from the fixed start pi = 1/2, Beta(2, 5), Beta(5, 2), without
  regularisation, until the log-likelihood changes by less than 1e-6.
* **Pairs** (:class:`PaperPair`): for models X before Y, each coordinate of a training query
  is "lo" (= its a), "hi" (= its b) or "mid"; the nine category frequencies are empirical; the
  law of the mid coordinate when the other is at an atom is one scaled beta fitted by maximum
  likelihood (a triangular distribution when that fit fails, uniform when there is no such
  query); and the jointly-mid queries are joined by a **Gumbel copula whose theta is Kendall's
  tau inverted**, theta = 1/(1 − tau), with the **independence copula when tau <= 0**, over the
  two marginals' continuous parts.
* **Chaining** (:meth:`PaperMarkovCopulaModel.evaluate_quantile`): the **event-Markov
  product**, P(D_1 … D_j) ≈ P(D_1) Π P(D_i | D_{i−1}), with the expected correctness of stage j
  taken as E[Φ_j 1{Φ_j > t_j} | Φ_{j−1} <= t_{j−1}].

Two deliberate differences from the reference code, both in its favour: its lookup tables
(a 20 × 20 planar interpolation of the bivariate integrals) are replaced by direct evaluation
(Gauss–Legendre quadrature of the closed-form copula CDF, closed-form beta partial
expectations), and the thresholds are optimised by our tuner (:func:`~llmcopula.cascade.tune`:
several starts, homotopy along λ), so that a comparison with :class:`MarkovCopulaModel`
measures the models, not the optimisers. Gradients for the tuner are central finite
differences of this smooth objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.special import betainc, betaln

from .._estimator import BaseEstimator
from .._validation import check_is_fitted, check_positive_int
from ..copulas import BivariateCopula, GumbelCopula, IndependenceCopula
from ..datasets import ChainLog
from ._betamix import _newton_beta
from .base import CalibratedChainModel
from .cascades import check_cascade, check_thresholds
from .prediction import CascadeEvaluation

__all__ = ["LumpyBetaMixture", "PaperPair", "PaperMarkovCopulaModel"]

FloatArray = NDArray[np.float64]

_DENSITY_FLOOR = 1e-6  # the reference's floor on the mixture density in the E-step
_N_QUAD = 48  # Gauss–Legendre nodes of the bivariate integrals
_FD_STEP = 1e-5  # central-difference step on the uniform scale
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(_N_QUAD)


# ------------------------------------------------------------------------------ marginals
def _mixture_cdf(s: FloatArray, w: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    s = np.clip(s, 0.0, 1.0)
    return sum(w[c] * betainc(a[c], b[c], s) for c in range(w.size))


class LumpyBetaMixture(BaseEstimator):
    """The published marginal of a calibrated confidence: atoms at the training minimum and
    maximum, and a two-component beta mixture rescaled to the open range between them.

    F(x) = w_a 1{x >= a} + (1 − w_a − w_b) F̃((x − a)/(b − a)) + w_b 1{x >= b}, with F̃ the
    mixture pi Beta(alpha_1, beta_1) + (1 − pi) Beta(alpha_2, beta_2) fitted by EM on the values
    strictly inside (a, b) (see the module docstring). Fewer than two distinct inner values
    leave the mixture at the uniform distribution.

    Parameters
    ----------
    tol : float, default 1e-6
        EM stops when the log-likelihood changes by less than ``tol`` (and returns the
        parameters before that last step, as the reference does).
    max_iter : int, default 10000

    Attributes
    ----------
    a_, b_ : float
        Training minimum and maximum.
    atoms_, atom_masses_ : ndarray
        The atoms (a and b, or a alone when a == b) and their masses.
    weights_, alphas_, betas_ : ndarray of shape (2,)
        The mixture on the unit interval.
    n_iter_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> marg = LumpyBetaMixture().fit(rng.beta(5, 2, 300))
    >>> marg.atom_masses_.round(4).tolist(), round(float(marg.cdf(marg.b_)), 6)
    ([0.0033, 0.0033], 1.0)
    """

    def __init__(self, *, tol: float = 1e-6, max_iter: int = 10000) -> None:
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, phi: ArrayLike) -> LumpyBetaMixture:
        x = np.asarray(phi, dtype=np.float64).ravel()
        if x.size == 0 or not np.isfinite(x).all():
            raise ValueError("phi: expected a non-empty array of finite confidences")
        check_positive_int(self.max_iter, "max_iter")
        a, b = float(x.min()), float(x.max())
        self.__dict__.pop("_grid", None)  # the inverse-CDF table of an earlier fit
        self.a_, self.b_ = a, b
        if a == b:
            self.atoms_, self.atom_masses_ = np.array([a]), np.array([1.0])
            self.w_lo_, self.w_hi_ = 1.0, 0.0
        else:
            self.w_lo_ = float(np.mean(x == a))
            self.w_hi_ = float(np.mean(x == b))
            self.atoms_ = np.array([a, b])
            self.atom_masses_ = np.array([self.w_lo_, self.w_hi_])
        inner = x[(x > a) & (x < b)]
        self.weights_ = np.array([0.5, 0.5])
        self.alphas_ = np.array([1.0, 1.0])
        self.betas_ = np.array([1.0, 1.0])
        self.n_iter_ = 0
        if np.unique(inner).size >= 2:
            self._em((inner - a) / (b - a))
        return self

    def _em(self, s: FloatArray) -> None:
        logx, log1mx = np.log(s), np.log1p(-s)
        pi = 0.5
        al = np.array([2.0, 5.0])
        be = np.array([5.0, 2.0])
        prev = None
        params = (pi, al.copy(), be.copy())
        for it in range(1, self.max_iter + 1):
            logf = ((al[:, None] - 1) * logx + (be[:, None] - 1) * log1mx
                    - betaln(al, be)[:, None])
            comp = np.array([pi, 1 - pi])[:, None] * np.exp(logf)
            total = np.maximum(comp.sum(axis=0), _DENSITY_FLOOR)
            loglik = float(np.sum(np.log(total)))
            if prev is not None and abs(loglik - prev) < self.tol:
                break  # the parameters before this step are returned
            prev = loglik
            params = (pi, al.copy(), be.copy())
            resp = comp / total
            pi = float(resp[0].mean())
            n_k = resp.sum(axis=1)
            ok = n_k > 0
            s1 = np.where(ok, (resp * logx).sum(axis=1) / np.where(ok, n_k, 1), 0.0)
            s2 = np.where(ok, (resp * log1mx).sum(axis=1) / np.where(ok, n_k, 1), 0.0)
            new_a, new_b = _newton_beta(al[ok], be[ok], s1[ok], s2[ok], max_steps=50,
                                        max_concentration=1e8, tol=1e-10)
            al[ok], be[ok] = np.maximum(new_a, 1e-5), np.maximum(new_b, 1e-5)
        self.n_iter_ = it
        pi, al, be = params
        self.weights_ = np.array([pi, 1 - pi])
        self.alphas_, self.betas_ = al, be

    def _check_fitted(self) -> None:
        check_is_fitted(self, "atoms_", hint="fit(phi)")

    @property
    def w_mid(self) -> float:
        return 1.0 - self.w_lo_ - self.w_hi_

    def cdf_continuous(self, x: ArrayLike) -> FloatArray:
        """F̃ on the original scale: 0 at or below a, 1 at or above b."""
        self._check_fitted()
        x = np.asarray(x, dtype=np.float64)
        if self.a_ == self.b_:
            return (x >= self.a_).astype(np.float64)
        return _mixture_cdf((x - self.a_) / (self.b_ - self.a_), self.weights_, self.alphas_,
                            self.betas_)

    def cdf(self, x: ArrayLike) -> FloatArray:
        """F(x) = P(Φ <= x)."""
        x = np.asarray(x, dtype=np.float64)
        return (self.w_lo_ * (x >= self.a_) + self.w_mid * self.cdf_continuous(x)
                + self.w_hi_ * (x >= self.b_))

    def ppf_continuous(self, q: ArrayLike) -> FloatArray:
        """F̃⁻¹(q) on the original scale: interpolation in a table of the closed-form CDF, then
        Newton steps safeguarded by bisection inside the table's bracket, on the points not yet
        converged (vectorised; |F̃(x) − q| < 1e-12)."""
        self._check_fitted()
        q = np.clip(np.asarray(q, dtype=np.float64), 0.0, 1.0)
        shape = q.shape
        q = q.ravel()
        if not hasattr(self, "_grid"):
            grid = np.linspace(0.0, 1.0, 1025)
            self._grid = (grid, _mixture_cdf(grid, self.weights_, self.alphas_, self.betas_))
        grid, table = self._grid
        s = np.interp(q, table, grid)
        lo = grid[np.clip(np.searchsorted(table, q, side="left") - 1, 0, grid.size - 1)]
        hi = grid[np.clip(np.searchsorted(table, q, side="right"), 0, grid.size - 1)]
        w, al, be = self.weights_, self.alphas_, self.betas_
        active = np.arange(q.size)
        for _ in range(60):
            if active.size == 0:
                break
            sa, qa = s[active], q[active]
            f = _mixture_cdf(sa, w, al, be) - qa
            done = (np.abs(f) < 1e-12) | (hi[active] - lo[active] < 1e-15)
            lo[active] = np.where(f < 0, sa, lo[active])
            hi[active] = np.where(f > 0, sa, hi[active])
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                logf = ((al[:, None] - 1) * np.log(sa) + (be[:, None] - 1) * np.log1p(-sa)
                        - betaln(al, be)[:, None])
                step = sa - f / np.sum(w[:, None] * np.exp(logf), axis=0)
            la, ha = lo[active], hi[active]
            bad = ~np.isfinite(step) | (step <= la) | (step >= ha)
            s[active] = np.where(done, sa, np.where(bad, 0.5 * (la + ha), step))
            active = active[~done]
        return (self.a_ + (self.b_ - self.a_) * s).reshape(shape)

    def ppf(self, q: ArrayLike) -> FloatArray:
        """F⁻¹(q) = inf{x : F(x) >= q}; exact at the atoms (a for q <= w_a, b above 1 − w_b)."""
        self._check_fitted()
        q = np.asarray(q, dtype=np.float64)
        out = np.full(q.shape, self.a_)
        if self.a_ == self.b_:
            return out
        mid = self.w_mid
        inner = (q > self.w_lo_) & (q <= 1.0 - self.w_hi_) if mid > 0 else np.zeros(q.shape, bool)
        if inner.any():
            out[inner] = self.ppf_continuous((q[inner] - self.w_lo_) / mid)
        out[q > 1.0 - self.w_hi_ + 1e-15] = self.b_
        return out

    def partial_expectation(self, x: ArrayLike) -> FloatArray:
        """E[Φ 1{Φ > x}] in closed form (the reference's univariate integral)."""
        self._check_fitted()
        x = np.asarray(x, dtype=np.float64)
        out = self.w_lo_ * self.a_ * (self.a_ > x) + self.w_hi_ * self.b_ * (self.b_ > x)
        if self.a_ == self.b_ or self.w_mid <= 0:
            return out
        s = np.clip((x - self.a_) / (self.b_ - self.a_), 0.0, 1.0)
        width = self.b_ - self.a_
        cont = 0.0
        for w, al, be in zip(self.weights_, self.alphas_, self.betas_):
            cont = cont + w * (self.a_ * (1 - betainc(al, be, s))
                               + width * al / (al + be) * (1 - betainc(al + 1, be, s)))
        return out + self.w_mid * cont

    @property
    def mean(self) -> float:
        """E[Φ]."""
        return float(self.partial_expectation(-np.inf))


# ----------------------------------------------------------------------------------- pairs
@dataclass(frozen=True)
class _ScaledLaw:
    """A distribution on [lo, hi] with a fast vectorised CDF: ``"beta"`` (params a, b),
    ``"triang"`` (mode at lo + c (hi − lo)) or ``"uniform"`` (the stand-in for an empty
    off-diagonal subset, whose mass is zero anyway)."""

    kind: str
    lo: float
    hi: float
    params: tuple[float, ...] = ()

    def cdf(self, x: ArrayLike) -> FloatArray:
        x = np.asarray(x, dtype=np.float64)
        if self.hi <= self.lo:
            return (x >= self.lo).astype(np.float64)
        s = np.clip((x - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        if self.kind == "beta":
            return betainc(self.params[0], self.params[1], s)
        if self.kind == "triang":
            c = self.params[0]
            with np.errstate(divide="ignore", invalid="ignore"):
                left = np.where(c > 0, s * s / c, 1.0)
                right = np.where(c < 1, 1.0 - (1.0 - s) ** 2 / (1.0 - c), 1.0)
            return np.where(s <= c, np.where(s <= 0, 0.0, left), right)
        return s

    def upper_mean(self, y: ArrayLike) -> FloatArray:
        """E[Y 1{Y > y}] in closed form."""
        y = np.asarray(y, dtype=np.float64)
        lo, width = self.lo, self.hi - self.lo
        if width <= 0:
            return lo * (lo > y)
        s = np.clip((y - lo) / width, 0.0, 1.0)
        if self.kind == "beta":
            a, b = self.params
            unit = a / (a + b) * (1.0 - betainc(a + 1.0, b, s))
            tail = 1.0 - betainc(a, b, s)
        elif self.kind == "triang":
            c = self.params[0]
            # E[S 1{S > s}] of the triangular law on [0, 1] with mode c, its two pieces
            left_m = (c**3 - np.minimum(s, c) ** 3) * 2.0 / (3.0 * c) if c > 0 else 0.0
            r = np.maximum(s, c)
            right_m = (2.0 / (1.0 - c) * ((1.0 - r**2) / 2.0 - (1.0 - r**3) / 3.0)
                       if c < 1 else 0.0)
            unit = left_m + right_m
            tail = 1.0 - self.cdf(y)
        else:
            unit = (1.0 - s**2) / 2
            tail = 1.0 - s
        return lo * tail + width * unit


def _fit_scaled_beta(values: FloatArray, lo: float, hi: float) -> _ScaledLaw:
    """The reference's off-diagonal conditional: a beta on [lo, hi] by maximum likelihood
    (``scipy.stats.beta.fit`` with location and scale fixed), a triangular distribution when
    that fails, uniform without data."""
    if values.size == 0 or hi <= lo:
        return _ScaledLaw("uniform", lo, hi)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a, b, _, _ = stats.beta.fit(values, floc=lo, fscale=hi - lo)
            if not (np.isfinite(a) and np.isfinite(b) and a > 0 and b > 0):
                raise stats.FitError("non-finite")
            return _ScaledLaw("beta", lo, hi, (float(a), float(b)))
        except (stats.FitError, ValueError, RuntimeError):
            try:
                c, _, _ = stats.triang.fit(values, floc=lo, fscale=hi - lo)
                return _ScaledLaw("triang", lo, hi, (float(np.clip(c, 0.0, 1.0)),))
            except (stats.FitError, ValueError, RuntimeError):
                return _ScaledLaw("uniform", lo, hi)


def _gauss(lo: FloatArray, hi: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gauss–Legendre nodes (B, N) and weights (B, N) on the intervals [lo, hi]."""
    half = 0.5 * (hi - lo)[:, None]
    return lo[:, None] + half * (_NODES + 1.0), half * _WEIGHTS


@dataclass
class PaperPair:
    """The published joint model of the calibrated confidences (X, Y) of models i < j.

    ``mass[c, d]`` is the frequency of category c of X and d of Y (0: lo, 1: mid, 2: hi);
    ``g_y_lo`` is the law of Y on queries with X = lo and Y mid (``g_y_hi``, ``g_x_lo``,
    ``g_x_hi`` likewise); ``copula`` joins the jointly-mid queries through the marginals'
    continuous parts; ``tau`` is their Kendall's tau (NaN with fewer than two such queries).
    """

    mass: FloatArray
    g_y_lo: Any
    g_y_hi: Any
    g_x_lo: Any
    g_x_hi: Any
    copula: BivariateCopula
    tau: float

    @classmethod
    def fit(cls, x: FloatArray, y: FloatArray, mx: LumpyBetaMixture, my: LumpyBetaMixture
            ) -> PaperPair:
        cx = np.where(x == mx.a_, 0, np.where(x == mx.b_, 2, 1))
        cy = np.where(y == my.a_, 0, np.where(y == my.b_, 2, 1))
        if mx.a_ == mx.b_:
            cx[:] = 0
        if my.a_ == my.b_:
            cy[:] = 0
        mass = np.zeros((3, 3))
        np.add.at(mass, (cx, cy), 1.0)
        mass /= x.size
        both = (cx == 1) & (cy == 1)
        tau = float("nan")
        if both.sum() >= 2:
            tau = float(stats.kendalltau(x[both], y[both])[0])
        copula: BivariateCopula = IndependenceCopula()
        if np.isfinite(tau) and tau > 0:
            copula = GumbelCopula(1.0 / (1.0 - min(tau, 0.98)))
        return cls(mass=mass,
                   g_y_lo=_fit_scaled_beta(y[(cx == 0) & (cy == 1)], my.a_, my.b_),
                   g_y_hi=_fit_scaled_beta(y[(cx == 2) & (cy == 1)], my.a_, my.b_),
                   g_x_lo=_fit_scaled_beta(x[(cx == 1) & (cy == 0)], mx.a_, mx.b_),
                   g_x_hi=_fit_scaled_beta(x[(cx == 1) & (cy == 2)], mx.a_, mx.b_),
                   copula=copula, tau=tau)

    def _x_parts(self, x: FloatArray, mx: LumpyBetaMixture) -> FloatArray:
        """P(X <= x | category) for the categories (lo, ·), (mid, lo), (mid, hi), (hi, ·) —
        shape (4, B) — and F̃_X(x)."""
        zero = np.zeros(np.shape(x))
        m = self.mass
        return np.stack([(x >= mx.a_).astype(float),
                         self.g_x_lo.cdf(x) if m[1, 0] > 0 else zero,
                         self.g_x_hi.cdf(x) if m[1, 2] > 0 else zero,
                         (x >= mx.b_).astype(float)])

    def joint_cdf(self, x: FloatArray, y: FloatArray, mx: LumpyBetaMixture,
                  my: LumpyBetaMixture) -> FloatArray:
        """F_XY(x, y) = P(X <= x, Y <= y) (elementwise over the batch)."""
        m = self.mass
        px_lo, px_mlo, px_mhi, px_hi = self._x_parts(x, mx)
        ia_y, ib_y = (y >= my.a_).astype(float), (y >= my.b_).astype(float)
        u = np.clip(mx.cdf_continuous(x), 0.0, 1.0)
        v = np.clip(my.cdf_continuous(y), 0.0, 1.0)
        cop = self.copula.cdf(np.stack([u, v], axis=-1))
        g_lo = self.g_y_lo.cdf(y) if m[0, 1] > 0 else 0.0
        g_hi = self.g_y_hi.cdf(y) if m[2, 1] > 0 else 0.0
        return (px_lo * (m[0, 0] * ia_y + m[0, 1] * g_lo + m[0, 2] * ib_y)
                + m[1, 0] * px_mlo * ia_y + m[1, 1] * cop + m[1, 2] * px_mhi * ib_y
                + px_hi * (m[2, 0] * ia_y + m[2, 1] * g_hi + m[2, 2] * ib_y))

    def upper_mean(self, x: FloatArray, y: FloatArray, mx: LumpyBetaMixture,
                   my: LumpyBetaMixture) -> FloatArray:
        """E[Y 1{Y > y} 1{X <= x}] (elementwise; y = −inf gives E[Y 1{X <= x}])."""
        m = self.mass
        px_lo, px_mlo, px_mhi, px_hi = self._x_parts(x, mx)
        a, b = my.a_, my.b_
        at_a = a * (a > y)
        at_b = b * (b > y)
        out = (px_lo * (m[0, 0] * at_a + m[0, 2] * at_b) + m[1, 0] * px_mlo * at_a
               + m[1, 2] * px_mhi * at_b + px_hi * (m[2, 0] * at_a + m[2, 2] * at_b))
        if m[0, 1] > 0:
            out = out + m[0, 1] * px_lo * self.g_y_lo.upper_mean(y)
        if m[2, 1] > 0:
            out = out + m[2, 1] * px_hi * self.g_y_hi.upper_mean(y)
        if m[1, 1] > 0 and b > a:
            # b u − y' C(u, F̃_Y(y')) − ∫_{y'}^{b} C(u, F̃_Y(s)) ds, u = F̃_X(x)
            u = np.clip(mx.cdf_continuous(x), 0.0, 1.0)
            yc = np.clip(y, a, b)
            nodes, weights = _gauss(yc, np.full_like(yc, b))
            cg = self.copula.cdf(np.stack(np.broadcast_arrays(
                u[:, None], np.clip(my.cdf_continuous(nodes), 0.0, 1.0)), axis=-1))
            cy = self.copula.cdf(np.stack([u, np.clip(my.cdf_continuous(yc), 0, 1)], axis=-1))
            mid = np.where(y >= b, 0.0, b * u - yc * cy - np.sum(weights * cg, axis=1))
            out = out + m[1, 1] * mid
        return out


# ----------------------------------------------------------------------------------- model
class PaperMarkovCopulaModel(CalibratedChainModel):
    """The published Markov-copula configuration (see the module docstring): lumpy two-beta
    marginals, Gumbel pair copulas by Kendall's-tau inversion with an independence floor, and
    the event-Markov product.

    Parameters
    ----------
    transform : {"auto", "one-sided", "two-sided", "identity"}, default "auto"
        Raw-signal transform before Platt scaling (as in :class:`MarkovCopulaModel`).

    Attributes
    ----------
    models_, costs_, calibrators_, confidence_, n_train_
        As in :class:`~llmcopula.cascade.CalibratedChainModel`.
    marginals_ : list of LumpyBetaMixture

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> model = PaperMarkovCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))
    >>> round(model.pair(0, 1).copula.theta, 2)   # tau inverted on the jointly-mid queries
    1.43
    >>> pred = model.predict([0.6, 0.7], cascade=(0, 2, 4))
    >>> bool(0 < pred.accuracy[0] < 1)
    True
    """

    method_name = "markov-copula-paper"

    def __init__(self, *, transform: str = "auto") -> None:
        self.transform = transform

    def fit(self, log: ChainLog) -> PaperMarkovCopulaModel:
        """Fit calibrators and marginals; pairs are fitted when a cascade first needs them."""
        return super().fit(log)  # type: ignore[return-value]

    def _fit_joint(self, log: ChainLog, confidence: FloatArray) -> None:
        self.marginals_ = [LumpyBetaMixture().fit(confidence[:, m])
                           for m in range(log.n_models)]
        self._phi = confidence
        self._pairs: dict[tuple[int, int], PaperPair] = {}

    def pair(self, i: int, j: int) -> PaperPair:
        """The :class:`PaperPair` of models ``i < j`` (fitted on first use, cached)."""
        self._check_fitted()
        i, j = check_cascade((i, j), len(self.models_))
        if (i, j) not in self._pairs:
            self._pairs[(i, j)] = PaperPair.fit(self._phi[:, i], self._phi[:, j],
                                                self.marginals_[i], self.marginals_[j])
        return self._pairs[(i, j)]

    def _thresholds(self, s: FloatArray, cas: tuple[int, ...]) -> FloatArray:
        """Calibrated thresholds of uniform-scale ones: F⁻¹(s), and just below an atom when s
        sits at the lower end of the atom's interval (so that the atom is accepted)."""
        t = np.empty_like(s)
        for j, m in enumerate(cas[:-1]):
            marg = self.marginals_[m]
            tj = marg.ppf(s[:, j])
            for value, w in zip(marg.atoms_, marg.atom_masses_):
                lower = float(marg.cdf(value)) - w
                at = (tj == value) & (s[:, j] <= lower + 1e-12)
                tj[at] = np.nextafter(value, -np.inf)
            t[:, j] = tj
        return t

    def _evaluate_t(self, t: FloatArray, cas: tuple[int, ...]) -> tuple[FloatArray, ...]:
        """(accuracy, stop probabilities) at calibrated thresholds (the reference's
        ``compute_metrics``)."""
        b, k = t.shape[0], len(cas)
        stop = np.zeros((b, k))
        first = self.marginals_[cas[0]]
        d = np.clip(first.cdf(t[:, 0]), 0.0, 1.0)
        acc = first.partial_expectation(t[:, 0])
        stop[:, 0] = 1.0 - d
        reach = d
        for j in range(1, k):
            mx, my = self.marginals_[cas[j - 1]], self.marginals_[cas[j]]
            pair = self.pair(cas[j - 1], cas[j])
            x = t[:, j - 1]
            fx = np.clip(mx.cdf(x), 0.0, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                if j < k - 1:
                    y = t[:, j]
                    dj = np.where(fx > 0, pair.joint_cdf(x, y, mx, my) / fx, 0.0)
                    dj = np.clip(dj, 0.0, 1.0)
                    gain = np.where(fx > 0, pair.upper_mean(x, y, mx, my) / fx, 0.0)
                else:
                    dj = np.zeros(b)
                    gain = np.where(fx > 0, pair.upper_mean(x, np.full(b, -np.inf), mx, my)
                                    / fx, 0.0)
            acc = acc + reach * gain
            stop[:, j] = reach * (1.0 - dj)
            reach = reach * dj
        return acc, stop

    def evaluate_quantile(self, s: ArrayLike, cascade: Sequence[int] | None = None, *,
                          approximation: str | None = None, with_grad: bool = False,
                          n_cells: int | None = None) -> CascadeEvaluation:
        """Accuracy, cost and stage probabilities at uniform-scale thresholds ``s`` (B, k − 1)
        under the event-Markov product; gradients by central differences. ``approximation``
        must be None or ``"event-markov"``; ``n_cells`` is ignored."""
        self._check_fitted()
        if approximation not in (None, "event-markov"):
            raise ValueError(f"approximation: the published configuration is the event-Markov "
                             f"product; got {approximation!r}")
        cas = check_cascade(cascade, len(self.models_))
        s = np.clip(check_thresholds(s, len(cas), name="s"), 0.0, 1.0)
        cum_cost = np.cumsum(self.costs_[list(cas)])
        b, k = s.shape[0], len(cas)
        if k == 1:
            return CascadeEvaluation(
                accuracy=np.full(b, self.marginals_[cas[0]].mean), cost=np.full(b, cum_cost[0]),
                stage_probabilities=np.ones((b, 1)),
                grad_accuracy=np.zeros((b, 0)) if with_grad else None,
                grad_cost=np.zeros((b, 0)) if with_grad else None)
        if not with_grad:
            acc, stop = self._evaluate_t(self._thresholds(s, cas), cas)
            return CascadeEvaluation(accuracy=acc, cost=stop @ cum_cost, stage_probabilities=stop)
        p = k - 1
        hi = np.minimum(s + _FD_STEP, 1.0)
        lo = np.maximum(s - _FD_STEP, 0.0)
        batch = [s]
        for l in range(p):
            up, down = s.copy(), s.copy()
            up[:, l], down[:, l] = hi[:, l], lo[:, l]
            batch += [up, down]
        allp = np.vstack(batch)
        acc, stop = self._evaluate_t(self._thresholds(allp, cas), cas)
        cost = stop @ cum_cost
        acc = acc.reshape(2 * p + 1, b)
        cost = cost.reshape(2 * p + 1, b)
        width = (hi - lo).T  # (p, B)
        grad_acc = ((acc[1::2] - acc[2::2]) / width).T
        grad_cost = ((cost[1::2] - cost[2::2]) / width).T
        return CascadeEvaluation(accuracy=acc[0], cost=cost[0],
                                 stage_probabilities=stop[:b], grad_accuracy=grad_acc,
                                 grad_cost=grad_cost)

    def _sample_uniform(self, n: int, cascade: tuple[int, ...], rng: Any) -> FloatArray:
        """Not a generative model of the joint law (the event-Markov product defines only the
        deferral probabilities): independent uniforms would misstate it, so sampling is not
        offered."""
        raise NotImplementedError("the published configuration defines deferral "
                                  "probabilities, not a joint law to sample from")

"""The empirical distribution of one model's calibrated confidence, made continuous between
data points: the companion marginal of the empirical beta copula.

Each distinct training value v that occurs once carries mass 1/n on the interval between the
midpoints to its neighbouring values (the first and last value are spread symmetrically):
mass 1/(2n) uniformly on each side of v, so that F(v) is the middle of the empirical jump at
v; each value that repeats is an atom with mass (count)/n. The distribution function is then
continuous and strictly increasing except at atoms, its inverse is exact, and on the training
data ``F(t)`` differs from the fraction of values ``<= t`` by at most 1/(2n).
On the uniform scale the observation of rank r occupies [(r − 1)/n, r/n] — the rank block of
:class:`~llmcopula.copulas.EmpiricalBetaCopula` — so thresholds mean the same to both.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._estimator import BaseEstimator
from .._validation import check_is_fitted, check_probability

__all__ = ["EmpiricalMarginal"]

FloatArray = NDArray[np.float64]


class EmpiricalMarginal(BaseEstimator):
    """Piecewise-linear empirical distribution with atoms at repeated values.

    Attributes
    ----------
    atoms_, atom_masses_ : ndarray
        Repeated values and their relative frequencies.
    n_ : int
        Number of training values.

    Examples
    --------
    >>> from llmcopula.cascade import EmpiricalMarginal
    >>> m = EmpiricalMarginal().fit([0.2, 0.4, 0.4, 0.8])
    >>> m.atoms_.tolist(), m.atom_masses_.tolist()
    ([0.4], [0.5])
    >>> float(m.cdf(0.4)), float(m.ppf(0.5))
    (0.75, 0.4)
    """

    def fit(self, phi: ArrayLike) -> EmpiricalMarginal:
        """Learn the distribution from calibrated confidences ``phi`` (1-d, in [0, 1])."""
        x = check_probability(phi, "phi")
        if x.ndim != 1 or x.size < 2:
            raise ValueError(f"phi: expected a 1-d array of at least 2 values, got shape {x.shape}")
        n = x.size
        values, counts = np.unique(x, return_counts=True)
        is_atom = counts >= 2
        lo = values.copy()
        hi = values.copy()
        if values.size > 1:
            mid = 0.5 * (values[1:] + values[:-1])
            lo[1:] = mid
            hi[:-1] = mid
            lo[0] = values[0] - (mid[0] - values[0])
            hi[-1] = values[-1] + (values[-1] - mid[-1])
        lo[is_atom] = values[is_atom]
        hi[is_atom] = values[is_atom]
        mass = counts / n
        self.n_ = n
        self.atoms_ = values[is_atom]
        self.atom_masses_ = mass[is_atom]
        self._lo, self._values, self._hi, self._mass = lo, values, hi, mass
        self._before = np.concatenate([[0.0], np.cumsum(mass)[:-1]])
        self._mean = float(x.mean())
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "atoms_", hint="fit(phi)")

    def cdf(self, x: ArrayLike) -> FloatArray:
        """F(x) = P(Φ <= x)."""
        self._check_fitted()
        xs = np.asarray(x, dtype=np.float64)
        if np.isnan(xs).any():
            raise ValueError("x: contains NaN")
        idx = np.searchsorted(self._lo, xs, side="right") - 1
        safe = np.maximum(idx, 0)
        lo, v, hi = self._lo[safe], self._values[safe], self._hi[safe]
        # Half of the mass on each side of the value (atoms: lo == v == hi, all of it at v).
        with np.errstate(invalid="ignore", divide="ignore"):
            below = 0.5 * np.clip((xs - lo) / (v - lo), 0.0, 1.0)
            above = 0.5 + 0.5 * np.clip((xs - v) / (hi - v), 0.0, 1.0)
        frac = np.where(hi > lo, np.where(xs <= v, below, above), 1.0)
        out = self._before[safe] + self._mass[safe] * frac
        return np.where(idx < 0, 0.0, np.minimum(out, 1.0))

    def ppf(self, q: ArrayLike) -> FloatArray:
        """Generalised inverse inf{x : F(x) >= q}; exact (piecewise linear, atoms included)."""
        self._check_fitted()
        qq = check_probability(q, "q")
        after = self._before + self._mass
        idx = np.minimum(np.searchsorted(after, qq, side="left"), self._mass.size - 1)
        frac = np.clip((qq - self._before[idx]) / self._mass[idx], 0.0, 1.0)
        lo, v, hi = self._lo[idx], self._values[idx], self._hi[idx]
        return np.where(frac <= 0.5, lo + 2.0 * frac * (v - lo),
                        v + (2.0 * frac - 1.0) * (hi - v))

    @property
    def mean(self) -> float:
        """Mean of the training values."""
        self._check_fitted()
        return self._mean

"""Marginal distribution of one model's calibrated confidence: atoms plus a beta mixture.

The calibrated confidence ``Phi`` of a model (:class:`~llmcopula.calibration.PlattCalibrator`)
lives in [0, 1] and is a mixture of a discrete and a continuous part::

    F(x) = sum_j m_j 1{a_j <= x} + c * sum_k w_k I_x(alpha_k, beta_k),    c = 1 - sum_j m_j,

where ``a_j`` are atoms with masses ``m_j`` and ``I_x`` is the regularised incomplete beta
function. This is the marginal model of Zellinger & Thomson, *Rational Tuning of LLM Cascades via
Probabilistic Modeling* (arXiv:2501.09345), with three changes (``docs/cascade-model.md``,
"Marginals"):

* **Atoms only where values repeat.** The reference makes the training minimum and maximum atoms
  even for continuous data. Here a value is an atom iff it occurs at least ``min_atom_count``
  times *and* with relative frequency at least ``min_atom_mass``. Genuine atoms come from the
  calibrator's clipping: every raw log-probability of exactly 0 (29-73% of gpt-4o-mini's answers)
  gets the same top confidence. The default mass floor (2%) keeps isolated coincidences, such as a
  duplicated query, out of the atoms; set ``min_atom_mass=0`` for the pure count rule. Values
  exactly 0 or 1 are always atoms (no beta density is finite there).
* **The number of beta components (1-3) is chosen by BIC**, each mixture fitted by EM from several
  deterministic starts (see :mod:`llmcopula.cascade._betamix`).
* **Support (0, 1), no rescaling.** Calibrated probabilities lie strictly inside (0, 1), so the
  beta mixture is fitted on (0, 1) directly. Rescaling to the training [min, max] (as the reference
  does) would truncate the support: a test confidence beyond the training range would have
  probability zero, and the end points would have to be atoms.

All methods are vectorised closed forms except ``ppf``, which inverts the CDF by vectorised
bisection.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import betainc, betaincc

from .._deprecation import keyword_only_after
from .._estimator import BaseEstimator
from .._validation import check_is_fitted, check_positive_int, check_probability, check_rng
from ._betamix import _logsumexp, beta_mixture_logpdf, fit_beta_mixture, moment_beta

__all__ = ["ConfidenceMarginal"]

_MIN_CONTINUOUS = 5
_BISECTION_STEPS = 60


class ConfidenceMarginal(BaseEstimator):
    """Distribution of a calibrated confidence on [0, 1]: atoms plus a 1-3 component beta mixture.

    See the module docstring for the model. ``fit(phi)`` learns it from one model's calibrated
    training confidences.

    Parameters
    ----------
    max_components : int
        Largest number of beta components tried; the number is chosen by BIC over
        ``1..max_components``.
    n_components : int, optional
        Fix the number of components instead of selecting it.
    min_atom_count : int
        A value is an atom only if it occurs at least this many times.
    min_atom_mass : float
        ... and only if its relative frequency is at least this.
    max_concentration : float
        Upper bound on ``alpha_k + beta_k`` of every component; keeps a component from collapsing
        onto a cluster of near-equal values, where the likelihood is unbounded.
    min_component_size : float
        A mixture whose smallest component has fewer effective points than this is rejected
        (same reason).

    Attributes
    ----------
    atoms_, atom_masses_ : ndarray
        Atom locations (sorted) and their probabilities.
    continuous_mass_ : float
        ``1 - atom_masses_.sum()``.
    weights_, alphas_, betas_ : ndarray, shape (n_components_,)
        Beta mixture of the continuous part, components sorted by mean.
    n_components_ : int
        0 when there is no continuous part.
    bic_ : float
        BIC of the chosen continuous model on the continuous points (``nan`` if none).
    bic_path_ : ndarray, shape (max_components,)
        BIC for ``1..max_components`` components (``nan`` where not fitted or rejected).
    loglik_ : float
        Log-likelihood of the continuous points under the continuous part.
    fallback_ : {None, "moments", "atoms-only"}
        Degenerate-data rule used: fewer than 5 non-atom values give a single beta fitted by
        moments ("moments"), or, with 0-1 such values, atoms only.
    n_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> phi = np.concatenate([rng.beta(5, 2, size=270), np.full(30, 0.97)])
    >>> m = ConfidenceMarginal().fit(phi)
    >>> m.atoms_, m.atom_masses_
    (array([0.97]), array([0.1]))
    >>> m.n_components_
    1
    >>> bool(np.isclose(m.cdf(m.ppf(0.5)), 0.5))
    True
    """

    def __init__(self, *, max_components: int = 3, n_components: int | None = None,
                 min_atom_count: int = 2, min_atom_mass: float = 0.02,
                 max_concentration: float = 1e6, min_component_size: float = 2.0) -> None:
        self.max_components = max_components
        self.n_components = n_components
        self.min_atom_count = min_atom_count
        self.min_atom_mass = min_atom_mass
        self.max_concentration = max_concentration
        self.min_component_size = min_component_size

    # ------------------------------------------------------------------ fitting
    def fit(self, phi: ArrayLike) -> ConfidenceMarginal:
        """Fit atoms and the beta mixture to calibrated confidences ``phi`` in [0, 1]."""
        max_k = check_positive_int(self.max_components, "max_components")
        if self.n_components is not None:
            fixed = check_positive_int(self.n_components, "n_components")
            candidates = [fixed]
            max_k = max(max_k, fixed)
        else:
            candidates = list(range(1, max_k + 1))
        if max(candidates) > 3:
            raise ValueError(f"n_components: at most 3 beta components are supported, got "
                             f"{max(candidates)}")
        min_count = check_positive_int(self.min_atom_count, "min_atom_count")
        if not 0.0 <= self.min_atom_mass <= 1.0:
            raise ValueError(f"min_atom_mass: must lie in [0, 1], got {self.min_atom_mass!r}")
        x = check_probability(phi, "phi")
        if x.ndim != 1 or x.size == 0:
            raise ValueError(f"phi: expected a non-empty 1-d array, got shape {x.shape}")

        n = x.size
        values, counts = np.unique(x, return_counts=True)
        is_atom = (counts >= min_count) & (counts >= self.min_atom_mass * n)
        is_atom |= (values == 0.0) | (values == 1.0)
        cont = x[~np.isin(x, values[is_atom])]
        self.n_ = n
        self.fallback_ = None
        self.bic_path_ = np.full(max_k, np.nan)
        self.bic_, self.loglik_ = np.nan, np.nan

        if cont.size < 2:
            if cont.size == 1:
                is_atom |= values == cont[0]
                warnings.warn(
                    "phi: only one value is not an atom; modelling it as an atom too "
                    "(atoms only, no continuous part)", UserWarning, stacklevel=2)
                self.fallback_ = "atoms-only"
            cont = cont[:0]
        self.atoms_ = values[is_atom]
        self.atom_masses_ = counts[is_atom] / n
        self.continuous_mass_ = float(cont.size / n)

        if cont.size == 0:
            self.weights_ = self.alphas_ = self.betas_ = np.zeros(0)
            self.n_components_ = 0
            return self
        if cont.size < _MIN_CONTINUOUS:
            warnings.warn(
                f"phi: only {cont.size} non-atom values (< {_MIN_CONTINUOUS}); the continuous "
                f"part is a single beta fitted by moments", UserWarning, stacklevel=2)
            a, b = moment_beta(np.float64(cont.mean()), np.float64(cont.var()))
            self.weights_, self.alphas_, self.betas_ = np.ones(1), np.array([a]), np.array([b])
            self.n_components_ = 1
            self.fallback_ = "moments"
            self._set_loglik(cont)
            return self

        best = None
        for k in candidates:
            fit = fit_beta_mixture(cont, k, max_concentration=self.max_concentration,
                                   min_component_size=self.min_component_size)
            if not np.isfinite(fit.loglik):
                continue
            bic = -2.0 * fit.loglik + (3 * k - 1) * np.log(cont.size)
            self.bic_path_[k - 1] = bic
            if best is None or bic < best[0]:
                best = (bic, k, fit)
        if best is None:  # every candidate collapsed: fall back to one component
            fit = fit_beta_mixture(cont, 1, max_concentration=self.max_concentration)
            best = (-2.0 * fit.loglik + 2 * np.log(cont.size), 1, fit)
        self.bic_, self.n_components_, fit = best[0], best[1], best[2]
        self.weights_, self.alphas_, self.betas_ = fit.weights, fit.alphas, fit.betas
        self.loglik_ = fit.loglik
        return self

    def _set_loglik(self, cont: NDArray[np.float64]) -> None:
        self.loglik_ = float(self.logpdf_continuous(cont).sum())
        self.bic_ = -2.0 * self.loglik_ + (3 * self.n_components_ - 1) * np.log(cont.size)

    def _check_fitted(self) -> None:
        check_is_fitted(self, "atoms_", hint="fit(phi)")

    # ------------------------------------------------------------ continuous part
    def _x(self, x: ArrayLike) -> NDArray[np.float64]:
        self._check_fitted()
        arr = np.asarray(x, dtype=np.float64)
        if np.isnan(arr).any():
            raise ValueError(f"x: contains {int(np.isnan(arr).sum())} NaN value(s)")
        return arr

    def cdf_continuous(self, x: ArrayLike) -> NDArray[np.float64]:
        """CDF ``sum_k w_k I_x(alpha_k, beta_k)`` of the (normalised) continuous part."""
        xs = np.clip(self._x(x), 0.0, 1.0)
        if self.n_components_ == 0:
            return np.where(xs >= 1.0, 1.0, 0.0)
        return np.sum(self.weights_ * betainc(self.alphas_, self.betas_, xs[..., None]), axis=-1)

    def sf_continuous(self, x: ArrayLike) -> NDArray[np.float64]:
        """Survival function ``1 - cdf_continuous(x)``, accurate near 1."""
        xs = np.clip(self._x(x), 0.0, 1.0)
        if self.n_components_ == 0:
            return np.where(xs >= 1.0, 0.0, 1.0)
        return np.sum(self.weights_ * betaincc(self.alphas_, self.betas_, xs[..., None]), axis=-1)

    def logpdf_continuous(self, x: ArrayLike) -> NDArray[np.float64]:
        """Log-density of the (normalised) continuous part; ``-inf`` outside (0, 1)."""
        xs = self._x(x)
        inside = (xs > 0.0) & (xs < 1.0)
        out = np.full(xs.shape, -np.inf)
        if self.n_components_ == 0 or not inside.any():
            return out
        xi = xs[inside]
        joint = beta_mixture_logpdf(np.log(xi), np.log1p(-xi), self.weights_, self.alphas_,
                                    self.betas_)  # (K, m)
        out[inside] = _logsumexp(joint, axis=0)
        return out

    def pdf_continuous(self, x: ArrayLike) -> NDArray[np.float64]:
        """Density of the (normalised) continuous part (zero outside (0, 1))."""
        return np.exp(self.logpdf_continuous(x))

    def ppf_continuous(self, q: ArrayLike) -> NDArray[np.float64]:
        """Quantile function of the continuous part (its CDF is continuous and increasing)."""
        qq = check_probability(q, "q")
        if self.n_components_ == 0:
            raise ValueError("ConfidenceMarginal: there is no continuous part (only atoms)")
        return _bisect(self.cdf_continuous, qq)

    # -------------------------------------------------------------- full law
    def _atom_cdf(self, xs: NDArray[np.float64]) -> NDArray[np.float64]:
        idx = np.searchsorted(self.atoms_, xs, side="right")
        return np.concatenate([[0.0], np.cumsum(self.atom_masses_)])[idx]

    def cdf(self, x: ArrayLike) -> NDArray[np.float64]:
        """Right-continuous CDF ``P(Phi <= x)``, atoms included."""
        xs = self._x(x)
        out = self._atom_cdf(xs) + self.continuous_mass_ * self.cdf_continuous(xs)
        return np.minimum(out, 1.0)

    def sf(self, x: ArrayLike) -> NDArray[np.float64]:
        """Survival function ``P(Phi > x)``."""
        xs = self._x(x)
        atoms_above = np.concatenate([np.cumsum(self.atom_masses_[::-1])[::-1], [0.0]])
        idx = np.searchsorted(self.atoms_, xs, side="right")
        return atoms_above[idx] + self.continuous_mass_ * self.sf_continuous(xs)

    def ppf(self, q: ArrayLike) -> NDArray[np.float64]:
        """Generalised inverse ``inf{x in [0, 1] : F(x) >= q}``; exact at atoms.

        Vectorised bisection on [0, 1] (60 halvings, to below 1e-17), snapped to an atom when the
        final bracket contains one.
        """
        self._check_fitted()
        qq = check_probability(q, "q")
        return _bisect(self.cdf, qq, atoms=self.atoms_)

    def partial_expectation(self, x: ArrayLike) -> NDArray[np.float64]:
        """``E[Phi 1{Phi > x}]`` in closed form.

        For a beta component, ``E[X 1{X > x}] = alpha / (alpha + beta) (1 - I_x(alpha + 1, beta))``;
        atoms above ``x`` add ``a_j m_j``. The strict inequality matches the cascade's rule
        (accept iff ``Phi > t``; ties defer).
        """
        xs = self._x(x)
        atom_terms = np.concatenate([np.cumsum((self.atoms_ * self.atom_masses_)[::-1])[::-1],
                                     [0.0]])
        out = atom_terms[np.searchsorted(self.atoms_, xs, side="right")]
        if self.n_components_ > 0:
            means = self.alphas_ / (self.alphas_ + self.betas_)
            tail = betaincc(self.alphas_ + 1.0, self.betas_, np.clip(xs, 0.0, 1.0)[..., None])
            out = out + self.continuous_mass_ * np.sum(self.weights_ * means * tail, axis=-1)
        return out

    @property
    def mean(self) -> float:
        """``E[Phi]``."""
        self._check_fitted()
        cont = 0.0
        if self.n_components_ > 0:
            cont = float(np.sum(self.weights_ * self.alphas_ / (self.alphas_ + self.betas_)))
        return float(np.sum(self.atoms_ * self.atom_masses_) + self.continuous_mass_ * cont)

    @keyword_only_after("rng")
    def sample(self, n: int, *, rng: int | np.random.Generator | None = None
               ) -> NDArray[np.float64]:
        """Draw ``n`` independent confidences."""
        self._check_fitted()
        n = check_positive_int(n, "n", minimum=0)
        gen = check_rng(rng)
        probs = np.concatenate([self.atom_masses_, self.continuous_mass_ * self.weights_])
        probs = probs / probs.sum()
        which = gen.choice(probs.size, size=n, p=probs)
        n_atoms = self.atoms_.size
        out = np.empty(n)
        is_atom = which < n_atoms
        out[is_atom] = self.atoms_[which[is_atom]]
        comp = which[~is_atom] - n_atoms
        out[~is_atom] = gen.beta(self.alphas_[comp], self.betas_[comp]) if comp.size else []
        return out


def _bisect(cdf, q: NDArray[np.float64], atoms: NDArray[np.float64] | None = None
            ) -> NDArray[np.float64]:
    """Smallest ``x`` in [0, 1] with ``cdf(x) >= q``, by bisection vectorised over ``q``."""
    flat = q.ravel()
    lo = np.zeros_like(flat)  # invariant: cdf(lo) < q, except where q == 0
    hi = np.ones_like(flat)  # invariant: cdf(hi) >= q
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        above = cdf(mid) >= flat
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    out = hi
    if atoms is not None and atoms.size:
        # An atom inside the final bracket (lo, hi] is where the CDF jumps past q.
        idx = np.searchsorted(atoms, lo, side="right")
        has = idx < atoms.size
        cand = atoms[np.minimum(idx, atoms.size - 1)]
        snap = has & (cand <= hi)
        out = np.where(snap, cand, out)
    out = np.where(flat <= 0.0, 0.0, out)
    return out.reshape(q.shape)

"""Fitting a bivariate copula to interval-censored uniforms: margins with atoms.

When a margin has atoms (a calibrated LLM confidence repeats exactly: every query whose raw
log-probability is 0 gets the same, maximal confidence), an observation does not pin its latent
uniform to a point. We model the pair as
H(x, y) = C(F_X(x), F_Y(y)) with the fitted margins F (inference functions for margins, Joe 1997).
An observation then pins each latent uniform to an interval [F(x−), F(x)], a single point where
x is not an atom, and its likelihood is the matching mixed derivative of C:

* both continuous:      c(u1, u2)
* x an atom:            ∂C/∂u2 (hi1, u2) − ∂C/∂u2 (lo1, u2)
* y an atom:            ∂C/∂u1 (u1, hi2) − ∂C/∂u1 (u1, lo2)
* both atoms:           the C-volume of [lo1, hi1] × [lo2, hi2].

One likelihood covers all four cases, so the implied margins of the pair are the fitted margins
whatever the atoms (no separate model of the atom conditionals is needed). See
``docs/cascade-model.md``, "Pair copulas".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from ._base import BivariateCopula
from .fitting import _degenerate
from .registry import FAMILY_NAMES, family_info, make_copula

__all__ = ["UniformIntervals", "PairCopulaFit", "fit_pair_copula", "AUTO_FAMILIES"]

FloatArray = NDArray[np.float64]

#: Families (and rotations) that ``family="auto"`` chooses among, covering positive and
#: negative dependence and both tails.
AUTO_FAMILIES: tuple[tuple[str, int], ...] = (
    ("independence", 0),
    ("gaussian", 0),
    ("student", 0),
    ("frank", 0),
    ("clayton", 0),
    ("clayton", 90),
    ("clayton", 180),
    ("clayton", 270),
    ("gumbel", 0),
    ("gumbel", 90),
    ("gumbel", 180),
    ("gumbel", 270),
)

_TINY = 1e-300


@dataclass(frozen=True)
class UniformIntervals:
    """The latent-uniform interval [lo, hi] of each observation of one model's confidence."""

    lo: FloatArray
    hi: FloatArray

    def __post_init__(self) -> None:
        lo = np.asarray(self.lo, dtype=np.float64)
        hi = np.asarray(self.hi, dtype=np.float64)
        for name, arr in (("lo", lo), ("hi", hi)):
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"{name}: expected a non-empty 1-d array, got shape {arr.shape}")
            if not np.isfinite(arr).all() or (arr < 0).any() or (arr > 1).any():
                raise ValueError(f"{name}: values must be finite and lie in [0, 1]")
        if lo.shape != hi.shape:
            raise ValueError(f"hi: expected shape {lo.shape} like lo, got {hi.shape}")
        if (lo > hi).any():
            raise ValueError(f"lo, hi: lo must be <= hi, violated at {int((lo > hi).sum())} "
                             "observation(s)")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @property
    def is_atom(self) -> NDArray[np.bool_]:
        return self.hi > self.lo


@dataclass(frozen=True)
class PairCopulaFit:
    """A fitted pair copula with its log-likelihood and the candidates it was chosen from."""

    copula: BivariateCopula
    loglik: float
    aic: float
    n: int
    candidates: tuple[tuple[str, int, float], ...] = field(default=())


def _mixed_loglik(cop: BivariateCopula, a: UniformIntervals, b: UniformIntervals) -> float:
    atom_a, atom_b = a.is_atom, b.is_atom
    total = 0.0
    both_cont = ~atom_a & ~atom_b
    if both_cont.any():
        total += float(np.sum(cop.logpdf(np.stack([a.hi[both_cont], b.hi[both_cont]], -1))))
    only_a = atom_a & ~atom_b
    if only_a.any():
        u2 = b.hi[only_a]
        diff = cop.hfunc2(np.stack([a.hi[only_a], u2], -1)) - cop.hfunc2(
            np.stack([a.lo[only_a], u2], -1)
        )
        total += float(np.sum(np.log(np.maximum(diff, _TINY))))
    only_b = ~atom_a & atom_b
    if only_b.any():
        u1 = a.hi[only_b]
        diff = cop.hfunc1(np.stack([u1, b.hi[only_b]], -1)) - cop.hfunc1(
            np.stack([u1, b.lo[only_b]], -1)
        )
        total += float(np.sum(np.log(np.maximum(diff, _TINY))))
    both = atom_a & atom_b
    if both.any():
        lo1, hi1, lo2, hi2 = a.lo[both], a.hi[both], b.lo[both], b.hi[both]
        vol = (
            cop.cdf(np.stack([hi1, hi2], -1))
            - cop.cdf(np.stack([lo1, hi2], -1))
            - cop.cdf(np.stack([hi1, lo2], -1))
            + cop.cdf(np.stack([lo1, lo2], -1))
        )
        total += float(np.sum(np.log(np.maximum(vol, _TINY))))
    return total


def _kendall_tau(a: UniformIntervals, b: UniformIntervals) -> float:
    tau = stats.kendalltau(0.5 * (a.lo + a.hi), 0.5 * (b.lo + b.hi)).statistic
    return 0.0 if not np.isfinite(tau) else float(tau)


def _fit_family(name: str, rotation: int, a: UniformIntervals, b: UniformIntervals,
                tau: float) -> tuple[BivariateCopula, float]:
    info = family_info(name)
    if info.n_params == 0:
        cop = make_copula(name)
        return cop, _mixed_loglik(cop, a, b)

    def make(params: Sequence[float]) -> BivariateCopula:
        return make_copula(name, params, rotation=rotation)

    bounds = info.param_bounds
    if info.n_params == 2:  # the t copula (rho, df): start from rho = sin(pi tau / 2), df = 8
        start_rho = float(np.clip(np.sin(np.pi * tau / 2), -0.9, 0.9))
        res = optimize.minimize(
            lambda p: -_mixed_loglik(make(p), a, b),
            x0=np.array([start_rho, 8.0]),
            method="L-BFGS-B",
            bounds=bounds,
        )
        cop = make(res.x)
        return cop, -float(res.fun)
    lo, hi = bounds[0]
    res = optimize.minimize_scalar(
        lambda p: -_mixed_loglik(make([p]), a, b),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-6 * max(1.0, abs(hi))},
    )
    cop = make([res.x])
    return cop, -float(res.fun)


def fit_pair_copula(a: UniformIntervals, b: UniformIntervals, *, family: str = "gumbel",
                    rotation: int = 0) -> PairCopulaFit:
    """Maximum-likelihood copula of two models' confidences from their latent intervals.

    Parameters
    ----------
    a, b : UniformIntervals
        Latent-uniform intervals of the earlier and the later model's confidences on the same
        queries.
    family : str
        ``"gumbel"`` (the paper's choice; with no positive dependence the MLE sits at the
        boundary theta = 1, which is the independence copula), any other family name, or
        ``"auto"``: every family and rotation of :data:`AUTO_FAMILIES`, chosen by AIC.
    rotation : {0, 90, 180, 270}, default 0
        Rotation of a named family (one the family supports); only 0 with ``"auto"``.
    """
    n = a.lo.shape[0]
    if b.lo.shape[0] != n:
        raise ValueError(f"b: expected {n} observations like a, got {b.lo.shape[0]}")
    if n < 2:
        raise ValueError(f"a: need at least 2 observations to fit a copula, got {n}")
    tau = _kendall_tau(a, b)
    if family == "auto":
        if rotation != 0:
            raise ValueError(f"rotation: family='auto' chooses rotations itself; got {rotation!r}")
        candidates = AUTO_FAMILIES
    elif family in FAMILY_NAMES:
        allowed = family_info(family).rotations
        if rotation not in allowed:
            raise ValueError(f"rotation: the {family} family supports rotations {allowed}, "
                             f"got {rotation!r}")
        candidates = ((family, int(rotation)),)
    else:
        raise ValueError(
            f"family: expected 'auto' or one of {FAMILY_NAMES}, got {family!r}"
        )
    results = []
    for name, rotation in candidates:
        cop, ll = _fit_family(name, rotation, a, b, tau)
        k = len(cop.param_names)
        results.append((2 * k - 2 * ll, cop, ll, name, rotation))
    results.sort(key=lambda r: r[0])
    aic, cop, ll, _, _ = results[0]
    _degenerate(type(cop), cop.rotation, cop.params, tau, argument="a, b", tail="",
                stacklevel=3)
    table = tuple((name, rot, float(aic_)) for aic_, _, _, name, rot in results)
    return PairCopulaFit(copula=cop, loglik=ll, aic=aic, n=n, candidates=table)

"""Pieces shared by the diagnostics: the result of a test, bootstrap p-values, parallel
replicates, and the latent uniforms of confidences whose marginals have atoms."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import ArrayLike, NDArray

from ..._validation import check_positive_int, check_probability
from ...copulas import UniformIntervals
from ..base import MarginalDistribution

__all__ = ["DiagnosticResult", "bootstrap_pvalue", "run_replicates", "uniform_intervals",
           "randomized_points", "censor", "atom_intervals", "as_intervals", "check_n_boot",
           "check_level", "model_index"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DiagnosticResult:
    """The outcome of one goodness-of-fit test.

    Attributes
    ----------
    statistic : float
        The observed test statistic (for the one-sided tests, large values speak against the
        model; the Markov test's is a signed correlation, tested two-sided).
    pvalue : float
        For a bootstrap, ``(1 + #{T* >= T}) / (B + 1)``, which is a valid p-value for any
        number B of replicates when the replicates are exchangeable with the data under the
        null (Davison & Hinkley 1997, section 4.2).
    method : str
        How the p-value was obtained, e.g. ``"parametric bootstrap, B=200"`` or
        ``"asymptotic"``.
    null_distribution : ndarray or None
        The bootstrap replicates T*_1, ..., T*_B (``None`` for an asymptotic p-value).
    """

    statistic: float
    pvalue: float
    method: str
    null_distribution: FloatArray | None = field(default=None, repr=False, compare=False)


def check_n_boot(n_boot: Any, *, minimum: int = 1) -> int:
    return check_positive_int(n_boot, "n_boot", minimum=minimum)


def check_level(level: Any, name: str = "confidence_level") -> float:
    value = float(level)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name}: expected a number in (0, 1), got {level!r}")
    return value


def bootstrap_pvalue(statistic: float, null: ArrayLike) -> float:
    """``(1 + #{null >= statistic}) / (len(null) + 1)``: the Monte Carlo p-value of an upper
    tail test."""
    arr = np.asarray(null, dtype=np.float64)
    return float((1 + np.count_nonzero(arr >= statistic)) / (arr.size + 1))


def run_replicates(replicate: Callable[[np.random.Generator], float], n_boot: int,
                   gen: np.random.Generator, *, n_jobs: int | None = None) -> FloatArray:
    """``replicate(child_rng)`` for ``n_boot`` independent child generators spawned from
    ``gen``, in parallel through joblib when ``n_jobs`` asks for it. The children are
    spawned before any work starts, so the result does not depend on ``n_jobs``.

    Refits inside a replicate may warn about degenerate simulated data; those warnings are
    about the simulation, not the user's data, and are silenced."""
    children = gen.spawn(n_boot)

    def one(child: np.random.Generator) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return float(replicate(child))

    if n_jobs in (None, 1):
        return np.array([one(c) for c in children])
    return np.array(Parallel(n_jobs=n_jobs)(delayed(one)(c) for c in children))


def uniform_intervals(marginal: MarginalDistribution, x: ArrayLike, name: str = "x"
                      ) -> UniformIntervals:
    """The interval [F(x−), F(x)] that an observation x pins the latent uniform U = F(Φ) to: a
    point where x is not an atom of the marginal, the atom's interval where it is."""
    arr = check_probability(x, name)
    hi = np.clip(np.asarray(marginal.cdf(arr), dtype=np.float64), 0.0, 1.0)
    mass = np.zeros_like(hi)
    atoms = np.asarray(marginal.atoms_, dtype=np.float64)
    if atoms.size:
        idx = np.searchsorted(atoms, arr)
        hit = (idx < atoms.size) & (atoms[np.minimum(idx, atoms.size - 1)] == arr)
        mass[hit] = np.asarray(marginal.atom_masses_)[idx[hit]]
    return UniformIntervals(lo=np.clip(hi - mass, 0.0, 1.0), hi=hi)


def randomized_points(intervals: UniformIntervals, gen: np.random.Generator) -> FloatArray:
    """One uniform draw inside each interval (the interval's point where it has no width): the
    randomised probability integral transform of Brockwell (2007)."""
    width = intervals.hi - intervals.lo
    return intervals.lo + gen.random(width.shape) * width


def censor(u: ArrayLike, atoms: Sequence[tuple[float, float]]) -> UniformIntervals:
    """What an observer of Φ = F⁻¹(U) learns about latent uniforms ``u``: the atom's interval
    (lo, hi] where ``u`` falls in one, the point ``u`` elsewhere. ``atoms`` lists the
    (lo, hi) of each atom of F on the uniform scale."""
    arr = np.asarray(u, dtype=np.float64)
    lo, hi = arr.copy(), arr.copy()
    for a_lo, a_hi in atoms:
        inside = (arr > a_lo) & (arr <= a_hi)
        lo[inside], hi[inside] = a_lo, a_hi
    return UniformIntervals(lo=lo, hi=hi)


def atom_intervals(intervals: UniformIntervals) -> list[tuple[float, float]]:
    """The distinct atom intervals (lo, hi) among observed intervals of positive width."""
    wide = intervals.hi > intervals.lo
    if not wide.any():
        return []
    pairs = np.unique(np.stack([intervals.lo[wide], intervals.hi[wide]], axis=1), axis=0)
    return [(float(a), float(b)) for a, b in pairs]


def as_intervals(x: UniformIntervals | ArrayLike, name: str) -> UniformIntervals:
    """Latent-uniform data as intervals: ``UniformIntervals`` as they are, an array of points in
    [0, 1] as intervals of width zero."""
    if isinstance(x, UniformIntervals):
        lo, hi = np.asarray(x.lo, dtype=np.float64), np.asarray(x.hi, dtype=np.float64)
        if lo.shape != hi.shape or lo.ndim != 1:
            raise ValueError(f"{name}: lo and hi must be 1-d arrays of one shape")
        if np.isnan(lo).any() or np.isnan(hi).any() or (lo > hi).any() or lo.min() < 0 or \
                hi.max() > 1:
            raise ValueError(f"{name}: intervals must satisfy 0 <= lo <= hi <= 1 without NaN")
        return x
    arr = check_probability(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    return UniformIntervals(lo=arr, hi=arr.copy())


def model_index(model: Any, m: int | str) -> int:
    """The chain index of model ``m`` of a fitted chain model, given by name or index."""
    if isinstance(m, str):
        if m not in model.models_:
            raise ValueError(f"m: {m!r} is not a model of the chain {list(model.models_)}")
        return model.models_.index(m)
    if isinstance(m, (int, np.integer)) and 0 <= int(m) < len(model.models_):
        return int(m)
    raise ValueError(f"m: expected a model name or an index in [0, {len(model.models_)}), "
                     f"got {m!r}")

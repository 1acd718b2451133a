"""Shared input checks.

Every public entry point of the package validates its inputs through these helpers, so that
bad input always raises a ``ValueError`` that names the offending argument and the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

RNGLike = int | np.random.Generator | None
"""Anything :func:`check_rng` accepts."""

__all__ = [
    "RNGLike",
    "check_rng",
    "check_unit_pairs",
    "check_finite_array",
    "check_probability",
    "check_positive_int",
    "NotFittedError",
    "check_is_fitted",
]


def check_rng(rng: Any) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``rng`` (``None``, an ``int`` seed or a Generator).

    Follows SPEC 7: ``None`` gives fresh OS entropy, an integer seeds a new PCG64 generator, and a
    Generator is used as is (and advanced by the caller's draws).
    """
    if rng is None or isinstance(rng, (int, np.integer)):
        if rng is not None and int(rng) < 0:
            raise ValueError(f"rng: a seed must be a non-negative integer, got {rng}")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValueError(
        f"rng: expected None, an int seed or a numpy.random.Generator, got {type(rng).__name__}"
    )


def check_unit_pairs(u: ArrayLike, name: str = "u") -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate points of the unit square given as an array of shape ``(..., 2)``.

    Returns the two coordinates as float arrays of shape ``(...)``. The closed square
    ``[0, 1]^2`` is valid; NaN, values outside it and a last axis other than 2 raise.
    """
    arr = np.asarray(u, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name}: expected an array of shape (..., 2), got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains {int(np.isnan(arr).sum())} NaN value(s)")
    if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
        raise ValueError(
            f"{name}: values must lie in [0, 1], got range [{arr.min():.6g}, {arr.max():.6g}]"
        )
    return arr[..., 0], arr[..., 1]


def check_finite_array(x: ArrayLike, name: str, *, ndim: int | None = None,
                       allow_inf: bool = False) -> NDArray[np.float64]:
    """Convert ``x`` to a float array, checking its dimension and that it is free of NaN (and of
    infinities unless ``allow_inf``)."""
    arr = np.asarray(x, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-d array, got shape {arr.shape}")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        what = "NaN" if allow_inf else "non-finite"
        idx = np.argwhere(bad)[:5].tolist()
        raise ValueError(f"{name}: contains {int(bad.sum())} {what} value(s), first at {idx}")
    return arr


def check_probability(p: ArrayLike, name: str, *, open_interval: bool = False) -> NDArray[np.float64]:
    """Check that ``p`` holds probabilities in [0, 1] (or (0, 1) if ``open_interval``)."""
    arr = np.asarray(p, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN")
    if open_interval:
        if (arr <= 0).any() or (arr >= 1).any():
            raise ValueError(f"{name}: values must lie in the open interval (0, 1)")
    elif (arr < 0).any() or (arr > 1).any():
        raise ValueError(f"{name}: values must lie in [0, 1]")
    return arr


def check_positive_int(n: Any, name: str, *, minimum: int = 1) -> int:
    """Check that ``n`` is an integer >= ``minimum`` and return it as ``int``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer, got {n!r}")
    if n < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {n}")
    return int(n)


class NotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before ``fit``.

    Subclasses both ``ValueError`` (an unfitted estimator is a bad argument) and
    ``AttributeError`` (the learned attributes do not exist yet), as scikit-learn's exception of
    the same name does, so either ``except`` clause catches it.
    """


def check_is_fitted(estimator: Any, attributes: str | Sequence[str] | None = None, *,
                    name: str | None = None, hint: str = "fit") -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has been fitted.

    Parameters
    ----------
    estimator : object
        The estimator to check.
    attributes : str or sequence of str, optional
        Learned attributes that ``fit`` sets. By default any public attribute whose name ends in
        an underscore counts (the scikit-learn convention).
    name : str, optional
        Argument name to put in front of the message (e.g. ``"model"`` when the estimator was
        passed to a function); default the estimator's class name.
    hint : str
        How to fit it, quoted in the message (e.g. ``"fit(log)"``).

    Examples
    --------
    >>> class Mean:
    ...     def fit(self, x):
    ...         self.mean_ = sum(x) / len(x)
    ...         return self
    >>> check_is_fitted(Mean().fit([1, 2]))
    >>> check_is_fitted(Mean(), hint="fit(x)")
    Traceback (most recent call last):
    ...
    llmcopula._validation.NotFittedError: Mean: not fitted yet; call fit(x) first
    """
    if attributes is None:
        fitted = any(k.endswith("_") and not k.startswith("_") for k in vars(estimator))
    else:
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        fitted = all(hasattr(estimator, a) for a in names)
    if not fitted:
        who = name if name is not None else type(estimator).__name__
        raise NotFittedError(f"{who}: not fitted yet; call {hint} first")

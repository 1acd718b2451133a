"""Cascades of a chain (strictly increasing tuples of chain indices) and their thresholds."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["check_cascade", "check_thresholds", "all_cascades"]


def check_cascade(cascade: Sequence[int] | None, n_models: int) -> tuple[int, ...]:
    """Validate a cascade: a strictly increasing tuple of chain indices (``None``: the whole
    chain)."""
    if isinstance(n_models, bool) or not isinstance(n_models, (int, np.integer)) or n_models < 1:
        raise ValueError(f"n_models: a chain has at least one model, got {n_models!r}")
    if cascade is None:
        return tuple(range(n_models))
    try:
        idx = tuple(int(i) for i in cascade)
        exact = all(float(i) == j for i, j in zip(cascade, idx))
    except (TypeError, ValueError):
        raise ValueError(f"cascade: expected a sequence of model indices, got {cascade!r}") from None
    if not exact:
        raise ValueError(f"cascade: model indices must be integers, got {list(cascade)!r}")
    if len(idx) == 0:
        raise ValueError("cascade: must contain at least one model")
    if any(i < 0 or i >= n_models for i in idx):
        raise ValueError(f"cascade: indices must lie in 0..{n_models - 1}, got {idx}")
    if any(b <= a for a, b in zip(idx, idx[1:])):
        raise ValueError(f"cascade: indices must be strictly increasing (chain order), got {idx}")
    return idx


def all_cascades(n_models: int, *, min_length: int = 2) -> list[tuple[int, ...]]:
    """Every cascade of a chain of ``n_models`` with at least ``min_length`` models, by length
    then lexicographically (26 for 5 models, 11 for 4, with ``min_length=2``).

    Examples
    --------
    >>> len(all_cascades(5)), len(all_cascades(4))
    (26, 11)
    """
    if n_models < 1:
        raise ValueError(f"n_models: must be >= 1, got {n_models}")
    return [c for k in range(max(min_length, 1), n_models + 1)
            for c in itertools.combinations(range(n_models), k)]


def check_thresholds(thresholds: ArrayLike, k: int, name: str = "thresholds"
                     ) -> NDArray[np.float64]:
    """Thresholds of a cascade of ``k`` models as a float array of shape (B, k − 1): one row
    of k − 1 thresholds, or B rows; NaN raises (infinities are allowed).

    Examples
    --------
    >>> check_thresholds([0.5, 0.7], 3).shape
    (1, 2)
    """
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim == 1:
        t = t[None, :]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k: a cascade has at least one model, got {k!r}")
    if t.ndim != 2 or t.shape[1] != k - 1:
        raise ValueError(
            f"{name}: a cascade of {k} models needs {k - 1} thresholds per row, got shape "
            f"{np.shape(thresholds)}"
        )
    if np.isnan(t).any():
        raise ValueError(f"{name}: contains NaN")
    return t

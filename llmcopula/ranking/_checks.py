"""Private input checks shared by the ranking modules."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_positive_int


def check_logit_matrix(M: ArrayLike, name: str = "M") -> NDArray[np.float64]:
    """An (n, n) matrix of ordered-pair logits, n >= 2; NaN marks a pair not queried.

    The diagonal is ignored (returned as NaN); off-diagonal infinities raise.
    """
    arr = np.array(M, dtype=np.float64)  # a copy: the diagonal is overwritten below
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name}: expected a square (n, n) matrix, got shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"{name}: need at least 2 candidates, got {arr.shape[0]}")
    np.fill_diagonal(arr, np.nan)
    if np.isinf(arr).any():
        idx = np.argwhere(np.isinf(arr))[:5].tolist()
        raise ValueError(f"{name}: contains {int(np.isinf(arr).sum())} infinite logit(s), "
                         f"first at {idx}")
    return arr


def check_n_candidates(n: Any, name: str = "n") -> int:
    """At least two candidates are needed to compare anything."""
    n = check_positive_int(n, name)
    if n < 2:
        raise ValueError(f"{name}: need at least 2 candidates, got {n}")
    return n


def check_scores(scores: ArrayLike, name: str = "scores") -> NDArray[np.float64]:
    """A finite score vector (or a stack of them, candidates on the last axis)."""
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] < 1:
        raise ValueError(f"{name}: expected candidates on the last axis, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains {int((~np.isfinite(arr)).sum())} non-finite value(s)")
    return arr


def check_logit_value(value: Any, i: int, j: int) -> float:
    """A comparator's return value: one finite real number."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"comparator: returned {value!r} for pair ({i}, {j}); expected a real "
                         "logit") from None
    if not np.isfinite(out):
        raise ValueError(f"comparator: returned a non-finite logit {out} for pair ({i}, {j})")
    return out

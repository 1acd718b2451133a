"""Weighted aggregation of relative (anchor-space) distributions: ``rbar = sum_m alpha_m r_m``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_finite_array

__all__ = ["check_weights", "aggregate"]


def check_weights(weights: ArrayLike | None, n_models: int, name: str = "weights"
                  ) -> NDArray[np.float64]:
    """Validate ensemble weights: ``None`` means uniform ``1/K``; otherwise ``K`` non-negative
    finite numbers with a positive sum, returned normalised to sum to 1.

    Examples
    --------
    >>> check_weights([1, 3], 2)
    array([0.25, 0.75])
    """
    if n_models < 1:
        raise ValueError(f"n_models: need at least one model, got {n_models}")
    if weights is None:
        return np.full(n_models, 1.0 / n_models)
    w = check_finite_array(weights, name, ndim=1)
    if w.shape != (n_models,):
        raise ValueError(f"{name}: expected {n_models} weights (one per model), got {w.shape[0]}")
    if (w < 0).any():
        raise ValueError(f"{name}: weights must be non-negative, got {w.tolist()}")
    if w.sum() <= 0:
        raise ValueError(f"{name}: weights must not all be zero")
    return w / w.sum()


def aggregate(relatives: Sequence[ArrayLike], weights: ArrayLike | None = None
              ) -> NDArray[np.float64]:
    """Convex combination of the models' relative distributions.

    ``rbar = sum_m alpha_m r_m`` (Huang et al., 2024, arXiv:2404.12715, "DeePEn-Avg" for uniform
    ``alpha``; non-uniform weights give "DeePEn-Adapt").

    Parameters
    ----------
    relatives : sequence of K array_like, each shape (..., |A|)
        The mapped distributions ``r_m = p_m @ T_m``.
    weights : array_like of shape (K,), optional
        Non-negative; normalised to sum to 1. Uniform when omitted.

    Returns
    -------
    ndarray, shape (..., |A|)

    Examples
    --------
    >>> aggregate([[1.0, 0.0], [0.0, 1.0]], [3, 1])
    array([0.75, 0.25])
    """
    if len(relatives) == 0:
        raise ValueError("relatives: expected at least one relative distribution, got none")
    rs = [check_finite_array(r, f"relatives[{m}]") for m, r in enumerate(relatives)]
    for m, r in enumerate(rs[1:], start=1):
        if r.shape != rs[0].shape:
            raise ValueError(
                f"relatives[{m}]: shape {r.shape} differs from relatives[0]'s {rs[0].shape}"
            )
    w = check_weights(weights, len(rs))
    return np.tensordot(w, np.stack(rs), axes=1)

"""Simulated pairwise judgements with known qualities, position bias and noise.

A latent-quality model of a pairwise judge, as in the pairwise ranking of LLM-Blender (Jiang, Ren
& Lin 2023, arXiv 2306.02561) with an additive position bias:
``M_ij = mu_i - mu_j + b + eps_ij`` with i.i.d. ``eps_ij ~ N(0, sigma^2)`` for every ordered pair,
so that the debiased ``s_ij = M_ij - M_ji = 2(mu_i - mu_j) + eps_ij - eps_ji``. Outcome records
from the Bradley-Terry-Davidson model are drawn by :func:`simulate_comparisons`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import RNGLike, check_finite_array, check_rng
from .bradley_terry import davidson_probabilities

__all__ = ["simulate_logits", "simulate_comparisons"]


def simulate_logits(qualities: ArrayLike, *, bias: float = 0.0, noise: float = 1.0,
                    rng: RNGLike = None) -> NDArray[np.float64]:
    """Ordered-pair logits ``M_ij = mu_i - mu_j + b + eps_ij`` (diagonal NaN).

    Parameters
    ----------
    qualities : array_like, shape (n,) or (q, n)
        Latent qualities ``mu``; a 2-d array gives one matrix per row (query).
    bias : float
        Additive first-position bias ``b``.
    noise : float
        Standard deviation ``sigma >= 0`` of the independent per-call noise.
    rng : None, int or Generator

    Returns
    -------
    ndarray, shape (n, n) or (q, n, n)

    Examples
    --------
    >>> M = simulate_logits([1.0, 0.0], bias=0.5, noise=0.0)
    >>> float(M[0, 1]), float(M[1, 0])
    (1.5, -0.5)
    """
    mu = check_finite_array(qualities, "qualities")
    if mu.ndim not in (1, 2) or mu.shape[-1] < 2:
        raise ValueError(f"qualities: expected shape (n,) or (q, n) with n >= 2, got {mu.shape}")
    if not np.isfinite(bias):
        raise ValueError(f"bias: must be finite, got {bias}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise: must be a finite number >= 0, got {noise}")
    M = mu[..., :, None] - mu[..., None, :] + bias
    if noise > 0:
        M = M + noise * check_rng(rng).standard_normal(M.shape)
    n = mu.shape[-1]
    M[..., np.arange(n), np.arange(n)] = np.nan
    return M


def simulate_comparisons(strengths: ArrayLike, first: ArrayLike, second: ArrayLike, *,
                         position_bias: float = 0.0, tie_param: float = 0.0,
                         rng: RNGLike = None) -> NDArray[np.float64]:
    """Outcomes (1 first wins, 0.5 tie, 0 second wins) drawn from the Davidson model.

    Examples
    --------
    >>> y = simulate_comparisons([3.0, -3.0], [0, 0, 1], [1, 1, 0], rng=0)
    >>> y.tolist()
    [1.0, 1.0, 0.0]
    """
    p = davidson_probabilities(strengths, position_bias, tie_param, first, second)
    u = check_rng(rng).random(p.shape[0])
    category = (u[:, None] > np.cumsum(p, axis=1)[:, :2]).sum(axis=1)
    return np.array([1.0, 0.5, 0.0])[category]

"""Pairwise tetrachoric correlations of binary error indicators (private numerics).

For two binary indicators with a latent bivariate normal pair ``(Z_i, Z_j)`` of correlation ``r``
and ``E = 1{Z < τ}``, the co-error rate is ``P(E_i = 1, E_j = 1) = Φ₂(τ_i, τ_j; r)``. Given the
2×2 table of a pair, ``r̂`` solves ``Φ₂(Φ⁻¹(p̂_i), Φ⁻¹(p̂_j); r) = p̂_ij``. ``Φ₂`` is strictly
increasing in ``r`` (``∂Φ₂/∂r = φ₂``, Plackett's identity), from the lower Fréchet bound
``max(0, p_i + p_j − 1)`` at ``r = −1`` to the upper one ``min(p_i, p_j)`` at ``r = 1``, so the
root is unique whenever every cell of the table is non-empty.

References
----------
K. Pearson (1900), "Mathematical contributions to the theory of evolution VII. On the correlation
of characters not quantitatively measurable", Phil. Trans. R. Soc. A 195, 1-47.
M. B. Brown (1977), "Algorithm AS 116: The tetrachoric correlation and its asymptotic standard
error", Applied Statistics 26, 343-351.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from ..copulas import GaussianCopula

FloatArray = NDArray[np.float64]

_MAX_ITER = 100
_TOL = 1e-12


@dataclass(frozen=True)
class PairTables:
    """Cell proportions of the 2×2 tables of the pairs ``(i[k], j[k])`` (after correction)."""

    i: NDArray[np.intp]
    j: NDArray[np.intp]
    p11: FloatArray
    p10: FloatArray
    p01: FloatArray
    p00: FloatArray
    n: FloatArray
    corrected: NDArray[np.bool_]


def pair_tables(errors: FloatArray, correction: float) -> PairTables:
    """2×2 tables of every pair of columns of a binary ``errors`` matrix.

    A table with an empty cell gets ``correction`` added to all four cells (Haldane–Anscombe),
    which keeps the co-error rate strictly inside the Fréchet bounds so that the tetrachoric
    equation has a finite root; other tables are used as they are.
    """
    n_rows, m = errors.shape
    both = errors.T @ errors
    ones = np.diag(both)
    i, j = np.triu_indices(m, k=1)
    n11 = both[i, j]
    n10 = ones[i] - n11
    n01 = ones[j] - n11
    n00 = n_rows - n11 - n10 - n01
    cells = np.stack([n11, n10, n01, n00])
    corrected = (cells == 0).any(axis=0) & (correction > 0)
    cells = cells + np.where(corrected, correction, 0.0)
    total = cells.sum(axis=0)
    p11, p10, p01, p00 = cells / total
    return PairTables(i, j, p11, p10, p01, p00, total, corrected)


def _bvn_cdf(h: FloatArray, k: FloatArray, r: FloatArray) -> FloatArray:
    u = np.stack([special.ndtr(h), special.ndtr(k)], axis=-1)
    # GaussianCopula takes rho in the open interval; a root at a Fréchet bound (only possible
    # with a vanishing continuity correction) is approached, never evaluated at, ±1.
    r = np.clip(r, -1.0 + 1e-15, 1.0 - 1e-15)
    return np.asarray(GaussianCopula(r).cdf(u), dtype=np.float64)


def _bvn_pdf(h: FloatArray, k: FloatArray, r: FloatArray) -> FloatArray:
    one_m = 1.0 - r * r
    return np.exp(-(h * h - 2 * r * h * k + k * k) / (2 * one_m)) / (2 * np.pi * np.sqrt(one_m))


def solve_tetrachoric(h: FloatArray, k: FloatArray, p11: FloatArray) -> FloatArray:
    """Vectorised root of ``Φ₂(h, k; r) = p11`` on ``r ∈ (−1, 1)``: Newton steps with the
    analytic derivative ``φ₂``, safeguarded by bisection on a bracket that shrinks every step.
    ``p11`` must lie strictly inside the Fréchet bounds of the margins ``Φ(h)``, ``Φ(k)``."""
    odds = np.clip(p11 * (1 - special.ndtr(h) - special.ndtr(k) + p11), 1e-300, None) / np.clip(
        (special.ndtr(h) - p11) * (special.ndtr(k) - p11), 1e-300, None
    )
    r = np.cos(np.pi / (1.0 + np.sqrt(odds)))  # the classical cos-π approximation as a start
    lo, hi = np.full_like(r, -1.0), np.full_like(r, 1.0)
    r = np.clip(r, -1 + 1e-9, 1 - 1e-9)
    for _ in range(_MAX_ITER):
        f = _bvn_cdf(h, k, r) - p11
        lo = np.where(f < 0, r, lo)
        hi = np.where(f > 0, r, hi)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = f / _bvn_pdf(h, k, r)
            newton = r - step
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        r_new = np.where(inside, newton, 0.5 * (lo + hi))
        done = np.abs(r_new - r) < _TOL
        r = r_new
        if done.all():
            break
    return r


def tetrachoric_se(h: FloatArray, k: FloatArray, r: FloatArray, tables: PairTables) -> FloatArray:
    """Asymptotic (delta-method) standard error of the tetrachoric estimate.

    Differentiating ``Φ₂(τ_i(p_i), τ_j(p_j); r) = p_11`` gives
    ``φ₂·dr = dp₁₁ − a·dp_i − b·dp_j`` with ``a = Φ((k − rh)/√(1−r²))`` and
    ``b = Φ((h − rk)/√(1−r²))``,
    so ``r̂`` is linear in the cell proportions with coefficients ``c₁₁ = 1 − a − b``,
    ``c₁₀ = −a``, ``c₀₁ = −b``, ``c₀₀ = 0`` and, under multinomial sampling,
    ``Var(r̂) = (Σ c²p − (Σ c·p)²)/(N·φ₂²)``.
    """
    s = np.sqrt(np.clip(1.0 - r * r, 1e-300, None))
    a = special.ndtr((k - r * h) / s)
    b = special.ndtr((h - r * k) / s)
    c11, c10, c01 = 1.0 - a - b, -a, -b
    mean = c11 * tables.p11 + c10 * tables.p10 + c01 * tables.p01
    second = c11**2 * tables.p11 + c10**2 * tables.p10 + c01**2 * tables.p01
    var = np.clip(second - mean**2, 0.0, None) / (tables.n * _bvn_pdf(h, k, r) ** 2)
    return np.sqrt(var)


def pairwise_tetrachoric(
    errors: FloatArray, correction: float
) -> tuple[FloatArray, FloatArray, PairTables]:
    """Matrices of tetrachoric correlations (unit diagonal) and of their standard errors."""
    m = errors.shape[1]
    tables = pair_tables(errors, correction)
    p_i = tables.p11 + tables.p10
    p_j = tables.p11 + tables.p01
    h, k = special.ndtri(p_i), special.ndtri(p_j)
    r = solve_tetrachoric(h, k, tables.p11)
    se = tetrachoric_se(h, k, r, tables)
    corr = np.eye(m)
    corr[tables.i, tables.j] = corr[tables.j, tables.i] = r
    se_mat = np.zeros((m, m))
    se_mat[tables.i, tables.j] = se_mat[tables.j, tables.i] = se
    return corr, se_mat, tables

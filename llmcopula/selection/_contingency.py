"""The contingency-table engine of :mod:`llmcopula.selection`: pattern codes, counts, entropies.

Every information estimate of the package (the public estimators of
:mod:`~llmcopula.selection.information`, the greedy search of
:mod:`~llmcopula.selection._search`, bootstrap and permutation replicates) goes through the
functions here, so there is one encoding and one entropy kernel.

Encoding: a row of ``k`` discrete predictions is folded into one integer pattern code
(``code = code·|X_j| + x_j`` column by column), re-compacted with a bincount (or
:func:`numpy.unique`) relabelling whenever the code range could overflow ``int64``. A table is
then one :func:`numpy.bincount` of codes.

Entropy kernel (nats): Ĥ = log N − Σ c·log c / N over the cells, plus (K̂ − 1)/(2N) for the
Miller–Madow estimator, K̂ the non-empty cells. With integer counts of a fixed N the ``c·log c``
values come from a lookup table (:class:`CountLog`), which the greedy search uses for speed.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Estimator", "TABLE_ESTIMATORS", "SparsePatternWarning"]

Estimator = Literal["plugin", "miller-madow"]
TABLE_ESTIMATORS = ("plugin", "miller-madow")

# Fold pattern codes into a compact range once they exceed this, so that the next multiplication
# by a column's cardinality can never overflow int64 (cardinalities are < 2**31 by construction).
_COMPACT_ABOVE = 2**31
# Upper bound on the cells of one batched bincount (bootstrap / permutation replicates).
_BATCH_CELLS = 4_000_000

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


class SparsePatternWarning(UserWarning):
    """The contingency table has too few rows per cell for a reliable information estimate.

    Issued when N < 10 × (number of possible patterns of X) × |Y|; the plug-in estimate is then
    dominated by its upward small-sample bias.
    """


# ---------------------------------------------------------------------------------------------
# Encoding


def factorize(values: NDArray, name: str) -> tuple[IntArray, int]:
    """Integer codes 0..L−1 of a 1-d array of discrete values, and L."""
    if values.dtype.kind == "f":
        if np.isnan(values).any():
            raise ValueError(f"{name}: contains {int(np.isnan(values).sum())} NaN value(s)")
        if not np.all(values == np.round(values)):
            raise ValueError(f"{name}: expected discrete values, got non-integer floats")
    if values.dtype.kind in "iub" and values.size:
        lo, hi = int(values.min()), int(values.max())
        if lo >= 0 and hi < 1024:
            # Small non-negative integers are their own codes: this skips a sort, which matters
            # for the 50-model × 100,000-row greedy path.
            codes = values.astype(np.int64, copy=False)
            present = np.bincount(codes, minlength=hi + 1) > 0
            if present.all():
                return codes, hi + 1
            remap = np.cumsum(present) - 1
            return remap[codes], int(present.sum())
    if values.dtype == object:
        values = values.astype(str)
    uniq, inv = np.unique(values, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), int(uniq.size)


def as_target(y: ArrayLike, name: str = "y") -> tuple[IntArray, int]:
    """Codes and cardinality of a 1-d, non-empty discrete target."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: is empty")
    return factorize(arr, name)


def as_columns(X: ArrayLike, n: int, name: str, *, allow_empty: bool = False
               ) -> tuple[IntArray, IntArray]:
    """Per-column integer codes (n, k) and per-column cardinalities (k,)."""
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 1-d or 2-d array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name}: has {arr.shape[0]} rows but y has {n}")
    if arr.shape[1] == 0 and not allow_empty:
        raise ValueError(f"{name}: has no columns")
    arr = np.asfortranarray(arr)  # column access below must be contiguous
    codes = np.empty(arr.shape, dtype=np.int64, order="F")
    cards = np.empty(arr.shape[1], dtype=np.int64)
    for j in range(arr.shape[1]):
        codes[:, j], cards[j] = factorize(arr[:, j], f"{name}[:, {j}]")
    return codes, cards


def compact(codes: IntArray, size: int | None = None) -> tuple[IntArray, int]:
    """Relabel codes as 0..L−1 (order-preserving). ``size`` bounds the codes from above; when it
    is small a bincount relabelling (linear time) replaces the sort in :func:`numpy.unique`."""
    if size is not None and size <= 8 * codes.size + 1024:
        present = np.bincount(codes, minlength=size) > 0
        remap = np.cumsum(present) - 1
        return remap[codes], int(remap[-1]) + 1
    uniq, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), int(uniq.size)


def fold(codes: IntArray, cards: IntArray, n: int) -> tuple[IntArray, int]:
    """Pattern code of each row of ``codes`` (n, k) and an upper bound on the number of codes.

    Codes are compacted whenever the bound passes ``_COMPACT_ABOVE``; the final code range is not
    necessarily compact (use :func:`compact` when that matters).
    """
    pattern = np.zeros(n, dtype=np.int64)
    size = 1
    for j in range(codes.shape[1]):
        if size * int(cards[j]) > _COMPACT_ABOVE:
            pattern, size = compact(pattern)
        pattern = pattern * cards[j] + codes[:, j]
        size *= int(cards[j])
    return pattern, size


def joint(a: IntArray, a_size: int, b: IntArray, b_size: int) -> tuple[IntArray, int]:
    """Codes of the pair (a, b), ``b`` fastest, and their range."""
    if a_size * b_size > _COMPACT_ABOVE:
        a, a_size = compact(a, a_size)
        if a_size * b_size > _COMPACT_ABOVE:
            b, b_size = compact(b, b_size)
    return a * b_size + b, a_size * b_size


# ---------------------------------------------------------------------------------------------
# The entropy kernel (nats)


class CountLog:
    """Lookup table of c·log c for the integer counts 0..n (entropies become a gather)."""

    def __init__(self, n: int) -> None:
        counts = np.arange(n + 1, dtype=np.float64)
        self.n = n
        self.values = counts * np.log(np.maximum(counts, 1.0))


def entropy_counts(counts: ArrayLike, estimator: str, *, total: float | None = None,
                   table: CountLog | None = None) -> FloatArray | float:
    """Entropy in nats of the tables in ``counts`` (cells along the last axis).

    ``counts`` may be integer or (after additive smoothing) real. ``total`` is the table size N
    (default: the sum over the last axis); ``table`` speeds up integer counts of a fixed N.
    Returns a float for a 1-d ``counts``, else an array over the leading axes.
    """
    c = np.asarray(counts)
    n = c.sum(axis=-1, dtype=np.float64) if total is None else total
    if table is not None and c.dtype.kind in "iu":
        clogc = table.values[c].sum(axis=-1)
    else:
        cf = c.astype(np.float64, copy=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            clogc = np.where(cf > 0, cf * np.log(np.where(cf > 0, cf, 1.0)), 0.0).sum(axis=-1)
    h = np.log(n) - clogc / n
    if estimator == "miller-madow":
        h = h + (np.count_nonzero(c, axis=-1) - 1) / (2.0 * n)
    return float(h) if np.ndim(h) == 0 else h


def entropy_codes(codes: IntArray, estimator: str) -> float:
    """Entropy in nats of the empirical distribution of integer codes."""
    return float(entropy_counts(np.bincount(codes), estimator, total=float(codes.size)))


def entropies_batched(codes: IntArray, size: int, estimator: str) -> FloatArray:
    """Entropy in nats of each row of ``codes`` (B, n), codes in [0, size)."""
    n_rep, n = codes.shape
    out = np.empty(n_rep, dtype=np.float64)
    chunk = max(1, _BATCH_CELLS // max(size, 1))
    for start in range(0, n_rep, chunk):
        block = codes[start:start + chunk]
        b = block.shape[0]
        offsets = (np.arange(b, dtype=np.int64) * size)[:, None]
        counts = np.bincount((block + offsets).ravel(), minlength=b * size).reshape(b, size)
        out[start:start + chunk] = entropy_counts(counts, estimator, total=float(n))
    return out


def mi_codes(y: IntArray, y_size: int, x: IntArray, x_size: int, estimator: str,
             alpha: float = 0.0) -> float:
    """Î(Y; X) = Ĥ(Y) + Ĥ(X) − Ĥ(Y, X) in nats from integer codes.

    With ``alpha > 0``, ``alpha`` pseudo-counts are added to every cell of the table spanned by
    the observed values of Y and the observed patterns of X before the entropies are taken.
    """
    if alpha == 0.0:
        xy, _ = joint(x, x_size, y, y_size)
        return entropy_codes(y, estimator) + entropy_codes(x, estimator) - entropy_codes(
            xy, estimator)
    y_c, ky = compact(y, y_size)
    x_c, kx = compact(x, x_size)
    table = np.bincount(x_c * ky + y_c, minlength=kx * ky).reshape(kx, ky) + alpha
    return float(entropy_counts(table.sum(axis=0), estimator)
                 + entropy_counts(table.sum(axis=1), estimator)
                 - entropy_counts(table.ravel(), estimator))


def cmi_codes(y: IntArray, ys: int, x: IntArray, xs: int, z: IntArray, zs: int,
              estimator: str) -> float:
    """Î(Y; X | Z) = Ĥ(Y, Z) + Ĥ(X, Z) − Ĥ(Y, X, Z) − Ĥ(Z) in nats."""
    yz, _ = joint(z, zs, y, ys)
    xz, xzs = joint(z, zs, x, xs)
    yxz, _ = joint(xz, xzs, y, ys)
    return (entropy_codes(yz, estimator) + entropy_codes(xz, estimator)
            - entropy_codes(yxz, estimator) - entropy_codes(z, estimator))


def increment_null(y: IntArray, ky: int, s: IntArray, ss: int, x: IntArray, xs: int,
                   n_perm: int, estimator: str, gen: np.random.Generator) -> FloatArray:
    """Increments Î(Y'; X_j | X_S) in nats for ``n_perm`` random permutations Y' of y."""
    s, ss = compact(s, ss)
    sx, sxs = joint(s, ss, x, xs)
    sx, sxs = compact(sx, sxs)
    y_perm = gen.permuted(np.broadcast_to(y, (n_perm, y.size)), axis=1)
    h_s, h_sx = entropy_codes(s, estimator), entropy_codes(sx, estimator)
    h_ys = entropies_batched(s * ky + y_perm, ss * ky, estimator)
    h_ysx = entropies_batched(sx * ky + y_perm, sxs * ky, estimator)
    return h_sx - h_s - h_ysx + h_ys


# ---------------------------------------------------------------------------------------------
# Checks


def check_estimator(estimator: str, alpha: float = 0.0, base: float = 2.0) -> None:
    if estimator not in TABLE_ESTIMATORS:
        raise ValueError(f"estimator: expected one of {TABLE_ESTIMATORS}, got {estimator!r}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha: must be a finite number >= 0, got {alpha!r}")
    if not (isinstance(base, (int, float)) and math.isfinite(base) and base > 1):
        raise ValueError(f"base: must be a finite number > 1, got {base!r}")


def warn_if_sparse(n: int, cards: IntArray, y_size: int, stacklevel: int = 3) -> None:
    possible = float(np.prod(cards.astype(np.float64))) * y_size
    if n < 10.0 * possible:
        warnings.warn(
            f"{n} rows for {possible:.3g} possible (pattern, label) cells: fewer than 10 rows per "
            "cell, so the information estimate is dominated by small-sample bias",
            SparsePatternWarning, stacklevel=stacklevel)

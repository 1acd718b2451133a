"""Information estimators for discrete predictions: entropy, mutual information and conditional
mutual information from contingency tables, with bootstrap intervals and a permutation null.

Everything is computed from empirical frequency tables of integer *pattern codes*: a row of
``k`` discrete predictions is folded into one integer (``code = code * |X_j| + x_j`` column by
column, re-compacted with :func:`numpy.unique` when the codes grow large), and every entropy is a
single :func:`numpy.bincount`.  Values are in **bits** unless ``base`` says otherwise.

Estimators
----------
``"plugin"``
    Ĥ = −Σ p̂ log p̂ over the non-empty cells.  Î = Ĥ(Y) + Ĥ(X) − Ĥ(Y, X) ≥ 0, biased upwards
    by about (cells − 1)/(2N) nats when the table is sparse.
``"miller-madow"``
    Each entropy gets the Miller–Madow correction + (K̂ − 1)/(2N) nats, K̂ the number of
    non-empty cells (Miller, 1955).  The corrected Î can be slightly negative when Y and X are
    nearly independent; it is not clipped, since clipping would bias it back up.

``alpha > 0`` adds ``alpha`` pseudo-counts to every cell of the table spanned by the *observed*
values of Y and the *observed* patterns of X (unobserved patterns are not enumerated: there can be
astronomically many of them), before the plug-in (or Miller–Madow) formula is applied.

References
----------
Cover, T. M. and Thomas, J. A. (2006). *Elements of Information Theory*, 2nd ed., ch. 2.
Miller, G. A. (1955). Note on the bias of information estimates. In *Information Theory in
Psychology*, 95–100.
Paninski, L. (2003). Estimation of entropy and mutual information. *Neural Computation* 15(6).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import RNGLike, check_positive_int, check_rng

__all__ = [
    "Estimator",
    "SparsePatternWarning",
    "MIDecomposition",
    "BootstrapInterval",
    "entropy",
    "mutual_information",
    "conditional_mutual_information",
    "mi_decomposition",
    "mi_bootstrap_ci",
    "permutation_null_threshold",
]

Estimator = Literal["plugin", "miller-madow"]
_ESTIMATORS = ("plugin", "miller-madow")

# Fold pattern codes into a compact range once they exceed this, so that the next multiplication
# by a column's cardinality can never overflow int64 (cardinalities are < 2**31 by construction).
_COMPACT_ABOVE = 2**31
# Upper bound on the cells of one batched bincount (bootstrap / permutation replicates).
_BATCH_CELLS = 4_000_000


class SparsePatternWarning(UserWarning):
    """The contingency table has too few rows per cell for a reliable information estimate.

    Issued when N < 10 × (number of possible patterns of X) × |Y|; the plug-in estimate is then
    dominated by its upward small-sample bias.
    """


@dataclass(frozen=True)
class MIDecomposition:
    """The three terms of I(X_j; Y | X_S) = I(X_j; Y) − I(X_j; X_S) + I(X_j; X_S | Y).

    Attributes
    ----------
    relevance : float
        Term 1, I(X_j; Y).
    redundancy : float
        Term 2 (entered with a minus sign), I(X_j; X_S).
    conditional_redundancy : float
        Term 3, I(X_j; X_S | Y).
    increment : float
        The conditional MI I(X_j; Y | X_S), computed directly (not as the sum of the terms).
    """

    relevance: float
    redundancy: float
    conditional_redundancy: float
    increment: float


@dataclass(frozen=True)
class BootstrapInterval:
    """A point estimate with a percentile-bootstrap confidence interval."""

    estimate: float
    low: float
    high: float
    level: float
    n_boot: int


# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------

def _factorize(values: NDArray, name: str) -> tuple[NDArray[np.int64], int]:
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


def _as_target(y: ArrayLike, name: str = "y") -> tuple[NDArray[np.int64], int]:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name}: is empty")
    return _factorize(arr, name)


def _as_columns(X: ArrayLike, n: int, name: str, *, allow_empty: bool = False
                ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
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
        codes[:, j], cards[j] = _factorize(arr[:, j], f"{name}[:, {j}]")
    return codes, cards


def _compact(codes: NDArray[np.int64], size: int | None = None) -> tuple[NDArray[np.int64], int]:
    """Relabel codes as 0..L−1 (order-preserving).  ``size`` bounds the codes from above; when it
    is small a bincount relabelling (linear time) replaces the sort in :func:`numpy.unique`."""
    if size is not None and size <= 8 * codes.size + 1024:
        present = np.bincount(codes, minlength=size) > 0
        remap = np.cumsum(present) - 1
        return remap[codes], int(remap[-1]) + 1
    uniq, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64, copy=False), int(uniq.size)


def _fold(codes: NDArray[np.int64], cards: NDArray[np.int64], n: int) -> tuple[NDArray[np.int64], int]:
    """Pattern code of each row of ``codes`` (n, k) and an upper bound on the number of codes.

    Codes are compacted whenever the bound passes ``_COMPACT_ABOVE``; the final code range is not
    necessarily compact (use :func:`_compact` when that matters).
    """
    pattern = np.zeros(n, dtype=np.int64)
    size = 1
    for j in range(codes.shape[1]):
        if size * int(cards[j]) > _COMPACT_ABOVE:
            pattern, size = _compact(pattern)
        pattern = pattern * cards[j] + codes[:, j]
        size *= int(cards[j])
    return pattern, size


def _joint(a: NDArray[np.int64], a_size: int, b: NDArray[np.int64], b_size: int
           ) -> tuple[NDArray[np.int64], int]:
    if a_size * b_size > _COMPACT_ABOVE:
        a, a_size = _compact(a, a_size)
        if a_size * b_size > _COMPACT_ABOVE:
            b, b_size = _compact(b, b_size)
    return a * b_size + b, a_size * b_size


# ---------------------------------------------------------------------------------------------
# Entropy kernels (nats)
# ---------------------------------------------------------------------------------------------

def _entropy_from_counts(counts: NDArray, n: float, estimator: str) -> float:
    c = counts[counts > 0].astype(np.float64)
    h = math.log(n) - float(np.dot(c, np.log(c))) / n
    if estimator == "miller-madow":
        h += (c.size - 1) / (2.0 * n)
    return h


def _entropy_codes(codes: NDArray[np.int64], estimator: str) -> float:
    return _entropy_from_counts(np.bincount(codes), float(codes.size), estimator)


def _entropies_batched(codes: NDArray[np.int64], size: int, estimator: str) -> NDArray[np.float64]:
    """Entropy (nats) of each row of ``codes`` (B, n), codes in [0, size)."""
    n_rep, n = codes.shape
    out = np.empty(n_rep, dtype=np.float64)
    chunk = max(1, _BATCH_CELLS // max(size, 1))
    for start in range(0, n_rep, chunk):
        block = codes[start:start + chunk]
        b = block.shape[0]
        offsets = (np.arange(b, dtype=np.int64) * size)[:, None]
        counts = np.bincount((block + offsets).ravel(), minlength=b * size).reshape(b, size)
        c = counts.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            clogc = np.where(c > 0, c * np.log(np.where(c > 0, c, 1.0)), 0.0)
        h = math.log(n) - clogc.sum(axis=1) / n
        if estimator == "miller-madow":
            h += ((counts > 0).sum(axis=1) - 1) / (2.0 * n)
        out[start:start + chunk] = h
    return out


def _mi_codes(y: NDArray[np.int64], y_size: int, x: NDArray[np.int64], x_size: int,
              estimator: str, alpha: float) -> float:
    """Î(Y; X) in nats from integer codes."""
    if alpha == 0.0:
        xy, _ = _joint(x, x_size, y, y_size)
        return (_entropy_codes(y, estimator) + _entropy_codes(x, estimator)
                - _entropy_codes(xy, estimator))
    y_c, ky = _compact(y, y_size)
    x_c, kx = _compact(x, x_size)
    table = np.bincount(x_c * ky + y_c, minlength=kx * ky).reshape(kx, ky) + alpha
    total = float(table.sum())
    return (_entropy_from_counts(table.sum(axis=0), total, estimator)
            + _entropy_from_counts(table.sum(axis=1), total, estimator)
            - _entropy_from_counts(table.ravel(), total, estimator))


def _check_estimator(estimator: str, alpha: float, base: float) -> None:
    if estimator not in _ESTIMATORS:
        raise ValueError(f"estimator: expected one of {_ESTIMATORS}, got {estimator!r}")
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha: must be a finite number >= 0, got {alpha!r}")
    if not (isinstance(base, (int, float)) and math.isfinite(base) and base > 1):
        raise ValueError(f"base: must be a finite number > 1, got {base!r}")


def _warn_if_sparse(n: int, cards: NDArray[np.int64], y_size: int, stacklevel: int = 3) -> None:
    possible = float(np.prod(cards.astype(np.float64))) * y_size
    if n < 10.0 * possible:
        warnings.warn(
            f"{n} rows for {possible:.3g} possible (pattern, label) cells: fewer than 10 rows per "
            "cell, so the information estimate is dominated by small-sample bias",
            SparsePatternWarning, stacklevel=stacklevel)


# ---------------------------------------------------------------------------------------------
# Public estimators
# ---------------------------------------------------------------------------------------------

def entropy(X: ArrayLike, *, estimator: Estimator = "plugin", alpha: float = 0.0,
            base: float = 2.0) -> float:
    """Entropy H(X) of a discrete variable or of the joint pattern of several.

    H(X) = −Σ_x p(x) log p(x), estimated from the empirical frequencies of the distinct rows of
    ``X``; see the module docstring for the estimators and ``alpha``.

    Parameters
    ----------
    X : array_like, shape (n,) or (n, k)
        Discrete values (integers or strings); a 2-d array is read as one pattern per row.
    estimator : {"plugin", "miller-madow"}
    alpha : float, default 0
        Pseudo-count added to every observed pattern.
    base : float, default 2
        Logarithm base (2: bits, e: nats).

    Returns
    -------
    float

    Examples
    --------
    >>> round(entropy([0, 1, 0, 1]), 6)
    1.0
    >>> round(entropy([[0, 0], [0, 1], [1, 0], [1, 1]]), 6)
    2.0
    """
    _check_estimator(estimator, alpha, base)
    arr = np.asarray(X)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 1-d or 2-d array, got shape {arr.shape}")
    n = arr.shape[0]
    codes, cards = _as_columns(arr, n, "X")
    pattern, size = _fold(codes, cards, n)
    pattern, size = _compact(pattern, size)
    counts = np.bincount(pattern).astype(np.float64) + alpha
    return _entropy_from_counts(counts, float(counts.sum()), estimator) / math.log(base)


def mutual_information(y: ArrayLike, X: ArrayLike, *, estimator: Estimator = "plugin",
                       alpha: float = 0.0, base: float = 2.0, warn_sparse: bool = True) -> float:
    """Mutual information I(Y; X) between a discrete target and discrete predictions.

    Î(Y; X) = Ĥ(Y) + Ĥ(X) − Ĥ(Y, X), with X the joint pattern of the columns of ``X`` and the
    entropies estimated as described in the module docstring.  In bits by default.

    Parameters
    ----------
    y : array_like, shape (n,)
        Discrete target (any number of classes).
    X : array_like, shape (n,) or (n, k)
        Discrete predictions of k models (any number of classes, need not match ``y``'s).
    estimator : {"plugin", "miller-madow"}
    alpha : float, default 0
        Additive smoothing of the (observed Y values × observed X patterns) table.
    base : float, default 2
    warn_sparse : bool, default True
        Issue :class:`SparsePatternWarning` when n < 10 × (possible patterns) × |Y|, the
        possible patterns being the product of the columns' observed cardinalities.

    Returns
    -------
    float

    References
    ----------
    Cover and Thomas (2006), eq. (2.45).  Turkmen, Buyukates and Bastopcu (2026),
    arXiv:2602.08003 (the selection objective I(Y; X_S)).

    Examples
    --------
    >>> y = [0, 0, 1, 1]
    >>> round(mutual_information(y, y), 6)          # a perfect predictor carries H(Y) = 1 bit
    1.0
    >>> round(mutual_information(y, [0, 1, 0, 1]), 6)
    0.0
    """
    _check_estimator(estimator, alpha, base)
    yc, ky = _as_target(y)
    xc, cards = _as_columns(X, yc.size, "X")
    if warn_sparse:
        _warn_if_sparse(yc.size, cards, ky)
    pattern, size = _fold(xc, cards, yc.size)
    return _mi_codes(yc, ky, pattern, size, estimator, float(alpha)) / math.log(base)


def conditional_mutual_information(y: ArrayLike, X: ArrayLike, Z: ArrayLike, *,
                                   estimator: Estimator = "plugin", base: float = 2.0) -> float:
    """Conditional mutual information I(Y; X | Z).

    I(Y; X | Z) = H(Y, Z) + H(X, Z) − H(Y, X, Z) − H(Z).  ``Z`` may have zero columns, which
    gives I(Y; X).

    Examples
    --------
    >>> y = [0, 0, 1, 1]
    >>> round(conditional_mutual_information(y, y, y), 6)   # nothing left to learn given Y
    0.0
    """
    _check_estimator(estimator, 0.0, base)
    yc, ky = _as_target(y)
    n = yc.size
    xc, xcards = _as_columns(X, n, "X")
    zc, zcards = _as_columns(Z, n, "Z", allow_empty=True)
    x, xs = _fold(xc, xcards, n)
    z, zs = _fold(zc, zcards, n)
    return _cmi_codes(yc, ky, x, xs, z, zs, estimator) / math.log(base)


def _cmi_codes(y: NDArray[np.int64], ys: int, x: NDArray[np.int64], xs: int,
               z: NDArray[np.int64], zs: int, estimator: str) -> float:
    yz, yzs = _joint(z, zs, y, ys)
    xz, xzs = _joint(z, zs, x, xs)
    yxz, _ = _joint(xz, xzs, y, ys)
    return (_entropy_codes(yz, estimator) + _entropy_codes(xz, estimator)
            - _entropy_codes(yxz, estimator) - _entropy_codes(z, estimator))


def mi_decomposition(y: ArrayLike, x_j: ArrayLike, X_S: ArrayLike, *,
                     estimator: Estimator = "plugin", base: float = 2.0) -> MIDecomposition:
    """Split the greedy increment I(X_j; Y | X_S) into relevance, redundancy and class-conditional
    redundancy.

    I(X_j; Y | X_S) = I(X_j; Y) − I(X_j; X_S) + I(X_j; X_S | Y).

    The identity is linear in entropies, so it holds exactly (to float precision) for the plug-in
    estimator and for Miller–Madow, each entropy being estimated once.  Term 1 alone ranks models
    like top-k by accuracy; Terms 1+2 give an mRMR-style rule; Term 3 rewards models whose errors
    are structured relative to the selected set (Turkmen et al., 2026, §4.2).

    Examples
    --------
    >>> y = [0, 0, 1, 1, 0, 1]
    >>> d = mi_decomposition(y, [0, 1, 1, 1, 0, 1], [0, 0, 1, 0, 0, 1])
    >>> bool(abs(d.relevance - d.redundancy + d.conditional_redundancy - d.increment) < 1e-12)
    True
    """
    _check_estimator(estimator, 0.0, base)
    yc, ky = _as_target(y)
    n = yc.size
    xj_codes, xj_cards = _as_columns(x_j, n, "x_j")
    if xj_codes.shape[1] != 1:
        raise ValueError(f"x_j: expected one column, got {xj_codes.shape[1]}")
    sc, scards = _as_columns(X_S, n, "X_S", allow_empty=True)
    x, xs = xj_codes[:, 0], int(xj_cards[0])
    s, ss = _fold(sc, scards, n)
    h = math.log(base)
    relevance = _mi_codes(yc, ky, x, xs, estimator, 0.0)
    redundancy = _mi_codes(s, ss, x, xs, estimator, 0.0)
    conditional = _cmi_codes(x, xs, s, ss, yc, ky, estimator)
    increment = _cmi_codes(yc, ky, x, xs, s, ss, estimator)
    return MIDecomposition(relevance / h, redundancy / h, conditional / h, increment / h)


def mi_bootstrap_ci(y: ArrayLike, X: ArrayLike, *, estimator: Estimator = "plugin",
                    n_boot: int = 1000, level: float = 0.95, base: float = 2.0,
                    rng: RNGLike = None) -> BootstrapInterval:
    """Percentile-bootstrap confidence interval for I(Y; X).

    Rows are resampled with replacement ``n_boot`` times; every replicate is estimated with the
    same estimator (all replicates in a few batched :func:`numpy.bincount` calls).  The plug-in
    estimator is biased upwards in sparse tables and the percentile interval inherits that bias;
    use ``estimator="miller-madow"`` to reduce it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> x = np.where(rng.random(500) < 0.8, y, 1 - y)
    >>> ci = mi_bootstrap_ci(y, x, n_boot=200, rng=1)
    >>> bool(ci.low <= ci.estimate <= ci.high)
    True
    """
    _check_estimator(estimator, 0.0, base)
    n_boot = check_positive_int(n_boot, "n_boot")
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise ValueError(f"level: must be a float in (0, 1), got {level!r}")
    gen = check_rng(rng)
    yc, ky = _as_target(y)
    n = yc.size
    xc, cards = _as_columns(X, n, "X")
    x, xs = _fold(xc, cards, n)
    x, xs = _compact(x, xs)
    xy, xys = _joint(x, xs, yc, ky)
    xy, xys = _compact(xy, xys)
    estimate = _mi_codes(yc, ky, x, xs, estimator, 0.0)
    idx = gen.integers(0, n, size=(n_boot, n))
    reps = (_entropies_batched(yc[idx], ky, estimator) + _entropies_batched(x[idx], xs, estimator)
            - _entropies_batched(xy[idx], xys, estimator))
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    h = math.log(base)
    return BootstrapInterval(estimate / h, float(lo) / h, float(hi) / h, level, n_boot)


def _increment_null(y: NDArray[np.int64], ky: int, s: NDArray[np.int64], ss: int,
                    x: NDArray[np.int64], xs: int, n_perm: int, estimator: str,
                    gen: np.random.Generator) -> NDArray[np.float64]:
    """Increments I(Y'; X_j | X_S) in nats for ``n_perm`` random permutations Y' of y."""
    s, ss = _compact(s, ss)
    sx, sxs = _joint(s, ss, x, xs)
    sx, sxs = _compact(sx, sxs)
    y_perm = gen.permuted(np.broadcast_to(y, (n_perm, y.size)), axis=1)
    h_s, h_sx = _entropy_codes(s, estimator), _entropy_codes(sx, estimator)
    h_ys = _entropies_batched(s * ky + y_perm, ss * ky, estimator)
    h_ysx = _entropies_batched(sx * ky + y_perm, sxs * ky, estimator)
    return h_sx - h_s - h_ysx + h_ys


def permutation_null_threshold(y: ArrayLike, X_S: ArrayLike, x_j: ArrayLike, *,
                               estimator: Estimator = "plugin", n_perm: int = 200,
                               quantile: float = 0.95, base: float = 2.0,
                               rng: RNGLike = None) -> float:
    """Null threshold for the greedy increment I(Y; X_j | X_S), by permuting the labels.

    ``y`` is shuffled ``n_perm`` times, which makes it independent of all predictions while
    keeping the tables' margins; the increment is recomputed for each shuffle and the
    ``quantile`` of those null increments is returned.  An observed increment at or below it is
    indistinguishable from the estimator's small-sample bias.  ``X_S`` may have zero columns.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> noise = rng.integers(0, 2, 400)
    >>> t = permutation_null_threshold(y, np.empty((400, 0)), noise, n_perm=100, rng=1)
    >>> bool(0.0 < t < 0.05)
    True
    """
    _check_estimator(estimator, 0.0, base)
    n_perm = check_positive_int(n_perm, "n_perm")
    if not (isinstance(quantile, float) and 0.0 < quantile < 1.0):
        raise ValueError(f"quantile: must be a float in (0, 1), got {quantile!r}")
    gen = check_rng(rng)
    yc, ky = _as_target(y)
    n = yc.size
    sc, scards = _as_columns(X_S, n, "X_S", allow_empty=True)
    xc, xcards = _as_columns(x_j, n, "x_j")
    if xc.shape[1] != 1:
        raise ValueError(f"x_j: expected one column, got {xc.shape[1]}")
    s, ss = _fold(sc, scards, n)
    null = _increment_null(yc, ky, s, ss, xc[:, 0], int(xcards[0]), n_perm, estimator, gen)
    return float(np.quantile(null, quantile)) / math.log(base)

"""Information estimators for discrete predictions: entropy, mutual information and conditional
mutual information from contingency tables, with bootstrap intervals and a permutation null.

Everything is computed from empirical frequency tables of integer *pattern codes* by the one
contingency-table engine of :mod:`llmcopula.selection._contingency`: a row of ``k`` discrete
predictions is folded into one integer and every entropy is a single :func:`numpy.bincount`.
Values are in **bits** unless ``base`` says otherwise. Arguments come in scikit-learn's order,
predictions ``X`` first and labels ``y`` second; the old ``(y, X)`` order still works for one
release and warns (:class:`DeprecationWarning`). The estimators' bias and what to do about it
are discussed in ``docs/selection.md``.

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

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.selection._compat import accepts_y_first, warn_legacy
from llmcopula.selection._contingency import (
    Estimator,
    SparsePatternWarning,
    as_columns,
    as_target,
    check_estimator,
    cmi_codes,
    compact,
    entropies_batched,
    entropy_counts,
    fold,
    increment_null,
    joint,
    mi_codes,
    warn_if_sparse,
)

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
# Public estimators


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
    check_estimator(estimator, alpha, base)
    arr = np.asarray(X)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 1-d or 2-d array, got shape {arr.shape}")
    n = arr.shape[0]
    codes, cards = as_columns(arr, n, "X")
    pattern, size = fold(codes, cards, n)
    pattern, size = compact(pattern, size)
    counts = np.bincount(pattern).astype(np.float64) + alpha
    return float(entropy_counts(counts, estimator)) / math.log(base)


@accepts_y_first
def mutual_information(X: ArrayLike, y: ArrayLike, *, estimator: Estimator = "plugin",
                       alpha: float = 0.0, base: float = 2.0, warn_sparse: bool = True) -> float:
    """Mutual information I(Y; X) between discrete predictions and a discrete target.

    Î(Y; X) = Ĥ(Y) + Ĥ(X) − Ĥ(Y, X), with X the joint pattern of the columns of ``X`` and the
    entropies estimated as described in the module docstring.  In bits by default.

    Parameters
    ----------
    X : array_like, shape (n,) or (n, k)
        Discrete predictions of k models (any number of classes, need not match ``y``'s).
    y : array_like, shape (n,)
        Discrete target (any number of classes).
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

    Notes
    -----
    The old order ``mutual_information(y, X)`` (1-d labels first, 2-d predictions second) is
    deprecated; it still works and issues a :class:`DeprecationWarning`.

    References
    ----------
    Cover and Thomas (2006), eq. (2.45).  Turkmen, Buyukates and Bastopcu (2026),
    arXiv:2602.08003 (the selection objective I(Y; X_S)).

    Examples
    --------
    >>> y = [0, 0, 1, 1]
    >>> round(mutual_information(y, y, warn_sparse=False), 6)  # a perfect predictor: H(Y) = 1 bit
    1.0
    >>> round(mutual_information([0, 1, 0, 1], y, warn_sparse=False), 6)
    0.0
    """
    check_estimator(estimator, alpha, base)
    yc, ky = as_target(y)
    xc, cards = as_columns(X, yc.size, "X")
    if warn_sparse:
        warn_if_sparse(yc.size, cards, ky, stacklevel=4)  # 4: past the order shim
    pattern, size = fold(xc, cards, yc.size)
    return mi_codes(yc, ky, pattern, size, estimator, float(alpha)) / math.log(base)


@accepts_y_first
def conditional_mutual_information(X: ArrayLike, y: ArrayLike, Z: ArrayLike, *,
                                   estimator: Estimator = "plugin", base: float = 2.0) -> float:
    """Conditional mutual information I(Y; X | Z).

    I(Y; X | Z) = H(Y, Z) + H(X, Z) − H(Y, X, Z) − H(Z).  ``Z`` may have zero columns, which
    gives I(Y; X).  The old order ``(y, X, Z)`` is deprecated (it warns).

    Examples
    --------
    >>> y = [0, 0, 1, 1]
    >>> round(conditional_mutual_information(y, y, y), 6)   # nothing left to learn given Y
    0.0
    """
    check_estimator(estimator, 0.0, base)
    yc, ky = as_target(y)
    n = yc.size
    xc, xcards = as_columns(X, n, "X")
    zc, zcards = as_columns(Z, n, "Z", allow_empty=True)
    x, xs = fold(xc, xcards, n)
    z, zs = fold(zc, zcards, n)
    return cmi_codes(yc, ky, x, xs, z, zs, estimator) / math.log(base)


def _candidate_and_set(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                       old_order: tuple[str, str, str]
                       ) -> tuple[Any, Any, int, Sequence[int], dict[str, Any]]:
    """Translate a call of the old three-array form into ``(X, y, candidate, selected)``.

    New form: ``f(X, y, *, candidate, selected=())``. Old form: three arrays, positionally or by
    the old keyword names ``y``, ``x_j``, ``X_S`` in ``old_order``.
    """
    old = dict(zip(old_order, args)) if len(args) == 3 else {}
    for key in ("x_j", "X_S"):
        if key in kwargs:
            old[key] = kwargs.pop(key)
    if not old:
        if len(args) != 2:
            raise TypeError(f"{name}() takes the arrays X and y, got {len(args)} positional "
                            "argument(s)")
        X, y = args
        if "candidate" not in kwargs:
            raise TypeError(f"{name}() missing the keyword argument 'candidate'")
        candidate = kwargs.pop("candidate")
        selected = kwargs.pop("selected", ())
        return X, y, candidate, selected, kwargs
    if len(args) < 3:
        old.update(dict(zip(old_order, args)))
    if "y" in kwargs:
        old["y"] = kwargs.pop("y")
    missing = [k for k in old_order if k not in old]
    if missing:
        raise TypeError(f"{name}() missing argument(s) {missing}")
    warn_legacy(name, ", ".join(old_order), "X, y, candidate=j, selected=S", stacklevel=4)
    y = np.asarray(old["y"])
    x_j = np.asarray(old["x_j"])
    x_s = np.asarray(old["X_S"])
    x_j = x_j[:, None] if x_j.ndim == 1 else x_j
    x_s = x_s[:, None] if x_s.ndim == 1 else x_s
    if x_j.ndim != 2 or x_j.shape[1] != 1:
        raise ValueError(f"x_j: expected one column, got shape {np.shape(old['x_j'])}")
    if x_s.ndim != 2 or x_s.shape[0] != x_j.shape[0]:
        raise ValueError(f"X_S: expected {x_j.shape[0]} rows, got shape {np.shape(old['X_S'])}")
    if x_j.dtype != x_s.dtype:
        x_j, x_s = x_j.astype(object), x_s.astype(object)
    X = np.concatenate([x_j, x_s], axis=1)
    return X, y, 0, list(range(1, 1 + x_s.shape[1])), kwargs


def _split_columns(X: ArrayLike, n: int, candidate: Any, selected: Any
                   ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Codes of the candidate column and of the selected columns of ``X``."""
    codes, cards = as_columns(X, n, "X")
    m = codes.shape[1]
    if isinstance(candidate, bool) or not isinstance(candidate, (int, np.integer)) or not (
            0 <= candidate < m):
        raise ValueError(f"candidate: expected a column index in [0, {m}), got {candidate!r}")
    sel = np.asarray(list(selected), dtype=np.int64) if len(selected) else np.zeros(0, np.int64)
    if sel.ndim != 1 or ((sel < 0) | (sel >= m)).any() or np.unique(sel).size != sel.size:
        raise ValueError(f"selected: expected distinct column indices in [0, {m}), got "
                         f"{selected!r}")
    if int(candidate) in sel.tolist():
        raise ValueError(f"selected: contains the candidate {candidate}")
    return codes[:, int(candidate)], int(cards[int(candidate)]), codes[:, sel], cards[sel]


def mi_decomposition(*args: Any, **kwargs: Any) -> MIDecomposition:
    """Split the greedy increment I(X_j; Y | X_S) into relevance, redundancy and class-conditional
    redundancy, with ``X_j = X[:, candidate]`` and ``X_S = X[:, selected]``:

    I(X_j; Y | X_S) = I(X_j; Y) − I(X_j; X_S) + I(X_j; X_S | Y).

    The identity is linear in entropies, so it holds exactly (to float precision) for the plug-in
    estimator and for Miller–Madow, each entropy being estimated once.  Term 1 alone ranks models
    like top-k by accuracy; Terms 1+2 give an mRMR-style rule; Term 3 rewards models whose errors
    are structured relative to the selected set (Turkmen, Buyukates and Bastopcu, 2026,
    arXiv:2602.08003).

    Parameters
    ----------
    X : array_like, shape (n, M)
        Discrete predictions of a pool of models.
    y : array_like, shape (n,)
        Labels.
    candidate : int
        Column of the model j whose increment is decomposed.
    selected : sequence of int, default ()
        Columns of the already selected set S (may be empty).
    estimator : {"plugin", "miller-madow"}
    base : float, default 2

    Notes
    -----
    The old form ``mi_decomposition(y, x_j, X_S)`` with three arrays is deprecated (it warns).

    Examples
    --------
    >>> import numpy as np
    >>> y = [0, 0, 1, 1, 0, 1]
    >>> X = np.array([[0, 0], [1, 0], [1, 1], [1, 0], [0, 0], [1, 1]])
    >>> d = mi_decomposition(X, y, candidate=0, selected=[1])
    >>> bool(abs(d.relevance - d.redundancy + d.conditional_redundancy - d.increment) < 1e-12)
    True
    """
    X, y, candidate, selected, kwargs = _candidate_and_set("mi_decomposition", args, kwargs,
                                                           ("y", "x_j", "X_S"))
    return _mi_decomposition(X, y, candidate=candidate, selected=selected, **kwargs)


def _mi_decomposition(X: ArrayLike, y: ArrayLike, *, candidate: int, selected: Sequence[int],
                      estimator: Estimator = "plugin", base: float = 2.0) -> MIDecomposition:
    check_estimator(estimator, 0.0, base)
    yc, ky = as_target(y)
    n = yc.size
    x, xs, sc, scards = _split_columns(X, n, candidate, selected)
    s, ss = fold(sc, scards, n)
    h = math.log(base)
    relevance = mi_codes(yc, ky, x, xs, estimator)
    redundancy = mi_codes(s, ss, x, xs, estimator)
    conditional = cmi_codes(x, xs, s, ss, yc, ky, estimator)
    increment = cmi_codes(yc, ky, x, xs, s, ss, estimator)
    return MIDecomposition(relevance / h, redundancy / h, conditional / h, increment / h)


@accepts_y_first
def mi_bootstrap_ci(X: ArrayLike, y: ArrayLike, *, estimator: Estimator = "plugin",
                    n_boot: int = 1000, level: float = 0.95, base: float = 2.0,
                    rng: RNGLike = None) -> BootstrapInterval:
    """Percentile-bootstrap confidence interval for I(Y; X).

    Rows are resampled with replacement ``n_boot`` times; every replicate is estimated with the
    same estimator (all replicates in a few batched :func:`numpy.bincount` calls).  The plug-in
    estimator is biased upwards in sparse tables and the percentile interval inherits that bias;
    use ``estimator="miller-madow"`` to reduce it.  The old order ``(y, X)`` is deprecated.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> x = np.where(rng.random(500) < 0.8, y, 1 - y)
    >>> ci = mi_bootstrap_ci(x, y, n_boot=200, rng=1)
    >>> bool(ci.low <= ci.estimate <= ci.high)
    True
    """
    check_estimator(estimator, 0.0, base)
    n_boot = check_positive_int(n_boot, "n_boot")
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise ValueError(f"level: must be a float in (0, 1), got {level!r}")
    gen = check_rng(rng)
    yc, ky = as_target(y)
    n = yc.size
    xc, cards = as_columns(X, n, "X")
    x, xs = fold(xc, cards, n)
    x, xs = compact(x, xs)
    xy, xys = joint(x, xs, yc, ky)
    xy, xys = compact(xy, xys)
    estimate = mi_codes(yc, ky, x, xs, estimator)
    idx = gen.integers(0, n, size=(n_boot, n))
    reps = (entropies_batched(yc[idx], ky, estimator) + entropies_batched(x[idx], xs, estimator)
            - entropies_batched(xy[idx], xys, estimator))
    lo, hi = np.quantile(reps, [(1 - level) / 2, (1 + level) / 2])
    h = math.log(base)
    return BootstrapInterval(estimate / h, float(lo) / h, float(hi) / h, level, n_boot)


def permutation_null_threshold(*args: Any, **kwargs: Any) -> float:
    """Null threshold for the greedy increment I(Y; X_j | X_S), by permuting the labels, with
    ``X_j = X[:, candidate]`` and ``X_S = X[:, selected]`` (``selected`` may be empty).

    ``y`` is shuffled ``n_perm`` times, which makes it independent of all predictions while
    keeping the tables' margins; the increment is recomputed for each shuffle and the
    ``quantile`` of those null increments is returned.  An observed increment at or below it is
    indistinguishable from the estimator's small-sample bias.  The old form
    ``permutation_null_threshold(y, X_S, x_j)`` is deprecated (it warns).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> noise = rng.integers(0, 2, (400, 1))
    >>> t = permutation_null_threshold(noise, y, candidate=0, n_perm=100, rng=1)
    >>> bool(0.0 < t < 0.05)
    True
    """
    X, y, candidate, selected, kwargs = _candidate_and_set(
        "permutation_null_threshold", args, kwargs, ("y", "X_S", "x_j"))
    return _permutation_null_threshold(X, y, candidate=candidate, selected=selected, **kwargs)


def _permutation_null_threshold(X: ArrayLike, y: ArrayLike, *, candidate: int,
                                selected: Sequence[int], estimator: Estimator = "plugin",
                                n_perm: int = 200, quantile: float = 0.95, base: float = 2.0,
                                rng: RNGLike = None) -> float:
    check_estimator(estimator, 0.0, base)
    n_perm = check_positive_int(n_perm, "n_perm")
    if not (isinstance(quantile, float) and 0.0 < quantile < 1.0):
        raise ValueError(f"quantile: must be a float in (0, 1), got {quantile!r}")
    gen = check_rng(rng)
    yc, ky = as_target(y)
    n = yc.size
    x, xs, sc, scards = _split_columns(X, n, candidate, selected)
    s, ss = fold(sc, scards, n)
    null = increment_null(yc, ky, s, ss, x, xs, n_perm, estimator, gen)
    return float(np.quantile(null, quantile)) / math.log(base)


# The public functions accept the deprecated three-array form through *args/**kwargs; show the
# new signature to help() and to IDEs.
mi_decomposition.__signature__ = inspect.signature(_mi_decomposition)  # type: ignore[attr-defined]
permutation_null_threshold.__signature__ = inspect.signature(  # type: ignore[attr-defined]
    _permutation_null_threshold)

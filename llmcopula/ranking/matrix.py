"""Pairwise logit matrices built from a comparator, with exact call counting.

``L[i, j] = f(x, y_i, y_j)`` for every ordered pair that was queried (``y_i`` shown first), NaN
for the others. *Both-order debiasing* (LLM-Blender's "[A,B]+[B,A]" mode, Jiang, Ren and Lin,
2023, arXiv:2306.02561) queries both ``(i, j)`` and ``(j, i)`` and uses the antisymmetric

    s_ij = L_ij - L_ji,

which cancels any additive position bias ``b`` in ``L_ij = g(y_i, y_j) + b``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import check_logit_matrix, check_logit_value, check_n_candidates
from .comparator import Comparator

__all__ = ["PairwiseMatrix", "ComparisonSession", "all_pairs", "symmetrize"]


def all_pairs(n: int) -> NDArray[np.intp]:
    """The ``n(n-1)/2`` unordered pairs ``(i, j)``, ``i < j``, as an (m, 2) array.

    Examples
    --------
    >>> all_pairs(3).tolist()
    [[0, 1], [0, 2], [1, 2]]
    """
    n = check_n_candidates(n)
    i, j = np.triu_indices(n, k=1)
    return np.column_stack([i, j]).astype(np.intp)


def symmetrize(M: ArrayLike) -> NDArray[np.float64]:
    """Both-order debiased logits ``S = M - M.T`` (NaN where either order is missing).

    Examples
    --------
    >>> float(symmetrize([[0.0, 1.0], [0.5, 0.0]])[0, 1])   # 1.0 - 0.5
    0.5
    """
    L = check_logit_matrix(M)
    return L - L.T


def _check_pairs(pairs: ArrayLike | Literal["all"], n: int) -> NDArray[np.intp]:
    if isinstance(pairs, str):
        if pairs != "all":
            raise ValueError(f"pairs: expected 'all' or an (m, 2) integer array, got {pairs!r}")
        return all_pairs(n)
    arr = np.asarray(pairs)
    if arr.size == 0:
        return np.empty((0, 2), dtype=np.intp)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"pairs: expected an (m, 2) array of candidate indices, got shape "
                         f"{arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"pairs: expected integer indices, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= n:
        raise ValueError(f"pairs: indices must lie in [0, {n - 1}], got range "
                         f"[{arr.min()}, {arr.max()}]")
    if (arr[:, 0] == arr[:, 1]).any():
        raise ValueError("pairs: a candidate cannot be compared with itself")
    return arr.astype(np.intp)


def _ordered(pairs: NDArray[np.intp], both_orders: bool) -> NDArray[np.intp]:
    if both_orders:
        pairs = np.concatenate([pairs, pairs[:, ::-1]])
    # unique ordered pairs, in first-seen order (keeps the call order reproducible)
    _, first = np.unique(pairs, axis=0, return_index=True)
    return pairs[np.sort(first)]


def _evaluate(comparator: Comparator, x: Any, candidates: Sequence[Any],
              ordered: NDArray[np.intp]) -> NDArray[np.float64]:
    if ordered.shape[0] == 0:
        return np.empty(0)
    batch = getattr(comparator, "compare_many", None)
    if callable(batch):
        values = np.asarray(batch(x, [candidates[i] for i in ordered[:, 0]],
                                  [candidates[j] for j in ordered[:, 1]]), dtype=np.float64)
        if values.shape != (ordered.shape[0],):
            raise ValueError(f"comparator: compare_many returned shape {values.shape} for "
                             f"{ordered.shape[0]} pairs")
        bad = ~np.isfinite(values)
        if bad.any():
            i, j = ordered[np.argmax(bad)]
            raise ValueError(f"comparator: returned a non-finite logit {values[bad][0]} for "
                             f"pair ({i}, {j})")
        return values
    return np.array([check_logit_value(comparator(x, candidates[i], candidates[j]), i, j)
                     for i, j in ordered])


@dataclass(frozen=True)
class PairwiseMatrix:
    """Ordered-pair logits of one input's candidates, and how many comparator calls they cost.

    Attributes
    ----------
    logits : ndarray, shape (n, n)
        ``logits[i, j] = f(x, y_i, y_j)``; NaN where the ordered pair was not queried and on the
        diagonal. Read-only.
    n_calls : int
        Number of comparator calls (ordered-pair evaluations) spent building it.

    Examples
    --------
    >>> f = lambda x, a, b: float(a - b) + 0.5          # quality = value, position bias 0.5
    >>> pm = PairwiseMatrix.from_comparator(f, None, [3, 1, 2])
    >>> pm.n_calls, pm.complete
    (6, True)
    >>> float(pm.symmetrized()[0, 1])                    # (3-1+0.5) - (1-3+0.5): bias cancels
    4.0
    """

    logits: NDArray[np.float64]
    n_calls: int = 0

    def __post_init__(self) -> None:
        L = check_logit_matrix(self.logits, "logits")
        L.setflags(write=False)
        object.__setattr__(self, "logits", L)
        if isinstance(self.n_calls, bool) or int(self.n_calls) != self.n_calls or self.n_calls < 0:
            raise ValueError(f"n_calls: expected a non-negative integer, got {self.n_calls!r}")
        object.__setattr__(self, "n_calls", int(self.n_calls))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_comparator(cls, comparator: Comparator, x: Any, candidates: Sequence[Any], *,
                        pairs: ArrayLike | Literal["all"] = "all",
                        both_orders: bool = True) -> PairwiseMatrix:
        """Query ``comparator`` on ``pairs`` of ``candidates`` (both orders by default).

        Each distinct ordered pair is evaluated once; ``n_calls`` counts the evaluations
        (``n(n-1)`` for ``pairs="all"`` with ``both_orders``). A comparator with a
        ``compare_many`` method is called once with all pairs.

        Raises
        ------
        ValueError
            For fewer than 2 candidates, bad ``pairs``, or a comparator returning NaN, an
            infinity or a non-number.
        """
        n = check_n_candidates(len(candidates), "candidates")
        empty = cls(np.full((n, n), np.nan), 0)
        return empty.extend(comparator, x, candidates, pairs=pairs, both_orders=both_orders)

    def extend(self, comparator: Comparator, x: Any, candidates: Sequence[Any], *,
               pairs: ArrayLike | Literal["all"], both_orders: bool = True) -> PairwiseMatrix:
        """A new matrix with ``pairs`` added; ordered pairs already known are not re-queried."""
        n = self.n
        if len(candidates) != n:
            raise ValueError(f"candidates: expected {n} candidates, got {len(candidates)}")
        ordered = _ordered(_check_pairs(pairs, n), both_orders)
        ordered = ordered[np.isnan(self.logits[ordered[:, 0], ordered[:, 1]])]
        values = _evaluate(comparator, x, candidates, ordered)
        L = self.logits.copy()
        L[ordered[:, 0], ordered[:, 1]] = values
        return PairwiseMatrix(L, self.n_calls + ordered.shape[0])

    # ------------------------------------------------------------------ views
    @property
    def n(self) -> int:
        """Number of candidates."""
        return int(self.logits.shape[0])

    @property
    def queried(self) -> NDArray[np.bool_]:
        """Boolean (n, n) mask of the ordered pairs that were queried."""
        return ~np.isnan(self.logits)

    @property
    def complete(self) -> bool:
        """Whether every ordered pair ``i != j`` was queried (the full O(n^2) matrix)."""
        return bool(self.queried.sum() == self.n * (self.n - 1))

    def symmetrized(self) -> NDArray[np.float64]:
        """``S = L - L.T``: both-order debiased logits, NaN where either order is missing."""
        return self.logits - self.logits.T


class ComparisonSession:
    """Lazy, counted comparisons of one input's candidates, for adaptive schemes (bubble, active).

    ``compare(i, j)`` returns the debiased logit ``s_ij = f(x, y_i, y_j) - f(x, y_j, y_i)`` (or
    the one-order ``f(x, y_i, y_j)`` with ``both_orders=False``). Ordered calls are cached, so a
    pair compared again costs nothing when ``cache`` is true.

    Attributes
    ----------
    n_calls : int
        Comparator calls made so far.
    n_comparisons : int
        ``compare`` invocations so far (one comparison = 2 calls with both orders, uncached).

    Examples
    --------
    >>> s = ComparisonSession(lambda x, a, b: a - b + 1.0, None, [0.0, 2.0, 1.0])
    >>> s.compare(1, 0), s.n_calls, s.n_comparisons
    (4.0, 2, 1)
    >>> _ = s.compare(0, 1); s.n_calls                   # cached
    2
    """

    def __init__(self, comparator: Comparator, x: Any, candidates: Sequence[Any], *,
                 both_orders: bool = True, cache: bool = True) -> None:
        self.n = check_n_candidates(len(candidates), "candidates")
        self.comparator = comparator
        self.x = x
        self.candidates = candidates
        self.both_orders = bool(both_orders)
        self.cache = bool(cache)
        self._L = np.full((self.n, self.n), np.nan)
        self.n_calls = 0
        self.n_comparisons = 0

    def _logit(self, i: int, j: int) -> float:
        if self.cache and not np.isnan(self._L[i, j]):
            return float(self._L[i, j])
        value = check_logit_value(self.comparator(self.x, self.candidates[i],
                                                  self.candidates[j]), i, j)
        self.n_calls += 1
        self._L[i, j] = value
        return value

    def compare(self, i: int, j: int) -> float:
        """Debiased logit for "candidate ``i`` beats candidate ``j``"."""
        i, j = int(i), int(j)
        if not (0 <= i < self.n and 0 <= j < self.n) or i == j:
            raise ValueError(f"i, j: expected two different indices in [0, {self.n - 1}], "
                             f"got ({i}, {j})")
        self.n_comparisons += 1
        if self.both_orders:
            return self._logit(i, j) - self._logit(j, i)
        return self._logit(i, j)

    def matrix(self) -> PairwiseMatrix:
        """A snapshot of the logits queried so far (latest value per ordered pair)."""
        return PairwiseMatrix(self._L.copy(), self.n_calls)

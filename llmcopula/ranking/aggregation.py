"""Aggregating pairwise logits into a ranking: MaxLogits, MaxWins, bubble selection, references.

With ``M[i, j] = f(x, y_i, y_j)`` (NaN where not queried), following LLM-Blender (Jiang, Ren and
Lin, 2023, arXiv:2306.02561, PairRanker inference):

* **MaxLogits**: ``score_i = sum_{j != i} (M_ij - M_ji)`` (both orders, so an additive position
  bias cancels exactly);
* **MaxWins**: ``score_i = #{j: M_ij > 0} + #{j: M_ji < 0}``, wins counted over both orders;
* **bubble selection**: one left-to-right bubble pass over a random permutation with debiased
  comparisons leaves the best candidate in the last slot after ``n - 1`` comparisons; ``runs``
  passes give a partial bubble sort (the top ``runs``) for ``sum_{r<runs} (n - 1 - r)``.

Ranks follow the library convention: rank 1 is best and equal scores share the better rank.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import RNGLike, check_positive_int, check_rng
from ._checks import check_logit_matrix, check_n_candidates, check_scores

__all__ = [
    "maxlogits_scores",
    "maxwins_scores",
    "ranks_from_scores",
    "topk_from_scores",
    "BubbleResult",
    "bubble_select",
    "bubble_comparisons",
    "reference_rewards",
    "UnequalComparisonsWarning",
]


def _involvement(L: NDArray[np.float64]) -> NDArray[np.float64]:
    """Number of queried ordered calls that involve each candidate (row + column)."""
    q = ~np.isnan(L)
    return (q.sum(axis=1) + q.sum(axis=0)).astype(np.float64)


class UnequalComparisonsWarning(UserWarning):
    """Unnormalised MaxLogits/MaxWins scores of a partial matrix whose candidates were compared
    unequally often: the sums favour the candidates compared more often."""


def _check_compared(L: NDArray[np.float64], name: str = "M") -> NDArray[np.float64]:
    """Involvement counts; a candidate never compared has no score at all (an error)."""
    counts = _involvement(L)
    never = np.flatnonzero(counts == 0)
    if never.size:
        raise ValueError(f"{name}: candidate(s) {never.tolist()} were never compared (their row "
                         "and column are all NaN), so they have no score; compare them or leave "
                         "them out")
    return counts


def _normalise(score: NDArray[np.float64], L: NDArray[np.float64], normalize: bool
               ) -> NDArray[np.float64]:
    counts = _check_compared(L)
    if not normalize:
        if counts.min() != counts.max():
            warnings.warn(f"M: candidates were compared unequally often ({int(counts.min())} to "
                          f"{int(counts.max())} ordered calls); unnormalised sums favour those "
                          "compared more often: pass normalize=True for the mean margin",
                          UnequalComparisonsWarning, stacklevel=3)
        return score
    return score / counts


def maxlogits_scores(M: ArrayLike, *, normalize: bool = False) -> NDArray[np.float64]:
    """MaxLogits scores ``score_i = sum_j M_ij - sum_j M_ji`` over the queried pairs.

    Parameters
    ----------
    M : array_like, shape (n, n)
        Ordered-pair logits, NaN where not queried (treated as a zero logit); diagonal ignored.
        Every candidate must be compared at least once (else ``ValueError``: it has no score).
        Unnormalised scores of candidates compared unequally often warn
        (:class:`UnequalComparisonsWarning`).
    normalize : bool
        Divide by the number of queried ordered calls involving each candidate. The ranking of a
        complete matrix is unchanged (all counts are ``2(n - 1)``); on a partial matrix this is
        the mean debiased margin, which does not favour candidates compared more often.
        LLM-Blender divides complete rows by ``n``, also rank-equivalent.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> M = [[0, 2.0, 1.0], [-1.0, 0, 0.5], [0.0, -0.5, 0]]
    >>> maxlogits_scores(M).tolist()
    [4.0, -2.0, -2.0]
    """
    L = check_logit_matrix(M)
    A = np.nan_to_num(L, nan=0.0)
    return _normalise(A.sum(axis=1) - A.sum(axis=0), L, normalize)


def maxwins_scores(M: ArrayLike, *, normalize: bool = False) -> NDArray[np.float64]:
    """MaxWins scores ``score_i = #{j: M_ij > 0} + #{j: M_ji < 0}`` over the queried pairs.

    A zero logit is neither a win nor a loss. ``normalize`` divides by the number of queried
    ordered calls involving each candidate (see :func:`maxlogits_scores`).

    Examples
    --------
    >>> M = [[0, 2.0, 1.0], [-1.0, 0, 0.5], [0.0, -0.5, 0]]
    >>> maxwins_scores(M).tolist()
    [3.0, 2.0, 0.0]
    """
    L = check_logit_matrix(M)
    with np.errstate(invalid="ignore"):
        wins = (L > 0).sum(axis=1) + (L < 0).sum(axis=0)
    return _normalise(wins.astype(np.float64), L, normalize)


def ranks_from_scores(scores: ArrayLike) -> NDArray[np.int64]:
    """Ranks (1 = best) of scores along the last axis; equal scores share the better rank.

    Examples
    --------
    >>> ranks_from_scores([0.5, 2.0, 0.5, -1.0]).tolist()
    [2, 1, 2, 4]
    """
    s = check_scores(scores)
    # rank = 1 + number of strictly better candidates ("min" ranking); O(n^2), n is small
    return 1 + (s[..., None, :] > s[..., :, None]).sum(axis=-1).astype(np.int64)


def topk_from_scores(scores: ArrayLike, k: int) -> NDArray[np.intp]:
    """Indices of the ``k`` best candidates, best first; ties go to the lower index.

    Examples
    --------
    >>> topk_from_scores([0.5, 2.0, 0.5, -1.0], 3).tolist()
    [1, 0, 2]
    """
    s = check_scores(scores)
    k = check_positive_int(k, "k")
    if k > s.shape[-1]:
        raise ValueError(f"k: must be <= the number of candidates {s.shape[-1]}, got {k}")
    order = np.argsort(-s, axis=-1, kind="stable")
    return order[..., :k]


@dataclass(frozen=True)
class BubbleResult:
    """Outcome of :func:`bubble_select`.

    Attributes
    ----------
    best : int
        The selected candidate (the worst one with ``worst=True``).
    top : ndarray
        The ``runs`` candidates settled at the end, best first.
    order : ndarray
        The final order of the partial bubble sort (settled candidates at the end).
    n_comparisons : int
        Comparator invocations, exactly ``sum_{r < runs} (n - 1 - r)``.
    """

    best: int
    top: NDArray[np.intp]
    order: NDArray[np.intp]
    n_comparisons: int


def bubble_comparisons(n: int, runs: int = 1) -> int:
    """Number of comparisons of :func:`bubble_select`: ``sum_{r=0}^{runs-1} (n - 1 - r)``.

    Examples
    --------
    >>> bubble_comparisons(10), bubble_comparisons(10, runs=3), bubble_comparisons(10, runs=9)
    (9, 24, 45)
    """
    n = check_n_candidates(n)
    runs = check_positive_int(runs, "runs")
    if runs > n - 1:
        raise ValueError(f"runs: must be <= n - 1 = {n - 1}, got {runs}")
    return runs * (n - 1) - runs * (runs - 1) // 2


def bubble_select(compare: Callable[[int, int], float], n: int, *, runs: int = 1,
                  rng: RNGLike = None, ties: Literal["challenger", "incumbent"] = "challenger",
                  worst: bool = False) -> BubbleResult:
    """Best-of-n by ``runs`` bubble passes over a random permutation (LLM-Blender's bubble mode).

    Each pass walks the permutation left to right; at positions ``(k, k+1)`` the winner of
    ``compare(left, right)`` (positive: ``left`` wins) moves to the right slot, so pass ``r``
    settles the ``r``-th best candidate at the end after ``n - 1 - r`` comparisons.

    Parameters
    ----------
    compare : callable
        ``compare(i, j) -> float``, e.g. :meth:`ComparisonSession.compare` (debiased logits).
    n : int
        Number of candidates (``>= 2``).
    runs : int
        Number of passes, ``1 <= runs <= n - 1``.
    rng : None, int or Generator
        Draws the permutation.
    ties : {"challenger", "incumbent"}
        Who wins ``compare == 0``: the newly met right-hand candidate (LLM-Blender's rule: the
        carried candidate moves on only if ``s > 0``) or the carried left-hand one.
    worst : bool
        Reverse the test to settle the worst candidates instead.

    Examples
    --------
    >>> quality = np.array([0.3, 2.0, -1.0, 0.7])
    >>> res = bubble_select(lambda i, j: quality[i] - quality[j], 4, rng=0)
    >>> res.best, res.n_comparisons
    (1, 3)
    """
    n = check_n_candidates(n)
    bubble_comparisons(n, runs)  # validates runs
    if ties not in ("challenger", "incumbent"):
        raise ValueError(f"ties: expected 'challenger' or 'incumbent', got {ties!r}")
    order = check_rng(rng).permutation(n).astype(np.intp)
    sign = -1.0 if worst else 1.0
    count = 0
    for r in range(runs):
        for k in range(n - 1 - r):
            left, right = int(order[k]), int(order[k + 1])
            s = compare(left, right)
            count += 1
            if not np.isfinite(s):
                raise ValueError(f"compare: returned a non-finite value {s} for ({left}, {right})")
            s *= sign
            if s > 0 or (s == 0 and ties == "incumbent"):
                order[k], order[k + 1] = right, left
    top = order[n - runs:][::-1].copy()
    return BubbleResult(int(order[-1]), top, order, count)


def reference_rewards(M: ArrayLike, reference: int, *, both_orders: bool = True
                      ) -> NDArray[np.float64]:
    """O(n) scalar rewards from comparisons with one reference candidate.

    ``reward_i = M[i, ref] - M[ref, i]`` with ``both_orders``, else ``-M[ref, i]`` (LLM-Blender's
    ``rank_with_ref``); the reference itself gets 0. Only the reference's row (and column) is read.

    Examples
    --------
    >>> M = np.full((3, 3), np.nan); M[0, 1], M[0, 2] = -1.0, 0.5
    >>> reference_rewards(M, 0, both_orders=False).tolist()
    [0.0, 1.0, -0.5]
    """
    L = check_logit_matrix(M)
    n = L.shape[0]
    if isinstance(reference, bool) or not isinstance(reference, (int, np.integer)) \
            or not 0 <= reference < n:
        raise ValueError(f"reference: expected an index in [0, {n - 1}], got {reference!r}")
    others = np.arange(n) != reference
    reward = -L[reference].copy()
    if both_orders:
        reward = reward + L[:, reference]
    reward[reference] = 0.0
    if np.isnan(reward[others]).any():
        missing = np.flatnonzero(np.isnan(reward) & others).tolist()
        raise ValueError(f"M: the comparisons of candidates {missing} with the reference "
                         f"{reference} are missing")
    return reward

"""Diagnostics of a pairwise judge: order-swap consistency and intransitive cycles.

* **Order-swap consistency** (LLM judges depend on the presentation order; e.g. GPT-4 verdicts
  that flip in 12.9% of swapped pairs, lm-sys/FastChat #3911): the verdict on ``(i, j)`` is stable when
  ``sign(M_ij) = -sign(M_ji)``. Unstable pairs can be filtered out (:func:`filter_swap_consistent`).
  The mean of ``(M_ij + M_ji)/2`` over the pairs estimates an additive position bias.
* **Intransitivity**: a triad is cyclic when ``i > j > k > i`` under the debiased verdicts
  ``sign(M_ij - M_ji)``. Kendall and Babington Smith's (1940) coefficient of consistence is
  ``zeta = 1 - c / c_max`` with ``c_max = (n^3 - n)/24`` (n odd) or ``(n^3 - 4n)/24`` (n even).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_positive_int
from ._checks import check_logit_matrix

__all__ = [
    "OrderSwapReport",
    "order_swap_consistency",
    "filter_swap_consistent",
    "IntransitivityReport",
    "intransitivity",
    "max_cyclic_triads",
]


@dataclass(frozen=True)
class OrderSwapReport:
    """Order-swap consistency of the pairs queried in both orders.

    Attributes
    ----------
    n_pairs : int
        Unordered pairs with both orders queried.
    n_consistent : int
        Pairs whose verdict survives the swap, ``sign(M_ij) == -sign(M_ji)``.
    consistency : float
        ``n_consistent / n_pairs`` (NaN without pairs).
    first_position_win_rate : float
        Share of the ``2 n_pairs`` ordered calls won by the first-shown candidate (ties 1/2).
    position_bias : float
        Mean of ``(M_ij + M_ji) / 2``: the additive first-position bias.
    position_bias_se : float
        Its standard error (sample SD / sqrt(n_pairs)).
    inconsistent : ndarray, shape (n, n)
        Symmetric mask of the inconsistent pairs.
    """

    n_pairs: int
    n_consistent: int
    consistency: float
    first_position_win_rate: float
    position_bias: float
    position_bias_se: float
    inconsistent: NDArray[np.bool_]


def order_swap_consistency(M: ArrayLike) -> OrderSwapReport:
    """Consistency of verdicts under swapping the presentation order.

    Examples
    --------
    >>> M = [[0, 1.0, 0.8], [0.3, 0, -0.2], [-0.6, 0.5, 0]]   # pair (0, 1) flips with the order
    >>> r = order_swap_consistency(M)
    >>> r.n_pairs, r.n_consistent, round(r.position_bias, 4)
    (3, 2, 0.3)
    """
    L = check_logit_matrix(M)
    iu, ju = np.triu_indices(L.shape[0], k=1)
    a, b = L[iu, ju], L[ju, iu]
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b, iu, ju = a[both], b[both], iu[both], ju[both]
    ok = np.sign(a) == -np.sign(b)
    mask = np.zeros(L.shape, dtype=bool)
    mask[iu[~ok], ju[~ok]] = True
    mask |= mask.T
    m = int(both.sum())
    half = (a + b) / 2
    first_wins = np.concatenate([np.sign(a), np.sign(b)]) / 2 + 0.5
    return OrderSwapReport(
        n_pairs=m, n_consistent=int(ok.sum()),
        consistency=float(ok.mean()) if m else float("nan"),
        first_position_win_rate=float(first_wins.mean()) if m else float("nan"),
        position_bias=float(half.mean()) if m else float("nan"),
        position_bias_se=float(half.std(ddof=1) / np.sqrt(m)) if m > 1 else float("nan"),
        inconsistent=mask)


def filter_swap_consistent(M: ArrayLike) -> NDArray[np.float64]:
    """A copy of ``M`` with both entries of every order-inconsistent pair set to NaN.

    Examples
    --------
    >>> M = [[0, 1.0, 0.8], [0.3, 0, -0.2], [-0.6, 0.5, 0]]
    >>> bool(np.isnan(filter_swap_consistent(M)[0, 1]))
    True
    """
    L = check_logit_matrix(M)
    L[order_swap_consistency(L).inconsistent] = np.nan
    return L


@dataclass(frozen=True)
class IntransitivityReport:
    """Cyclic triads of the debiased verdicts.

    Attributes
    ----------
    n_triads : int
        Triads whose three pairs all have a strict debiased verdict.
    n_cyclic : int
        Cyclic (intransitive) triads among them.
    cyclic_fraction : float
        ``n_cyclic / n_triads``.
    consistence : float
        Kendall-Babington Smith ``zeta = 1 - n_cyclic / c_max(n)`` (1: transitive; meaningful
        for a complete tournament without ties).
    cyclic_triads : ndarray, shape (n_cyclic, 3)
        The cyclic triads ``(i, j, k)``, ``i < j < k``.
    """

    n_triads: int
    n_cyclic: int
    cyclic_fraction: float
    consistence: float
    cyclic_triads: NDArray[np.intp]


def max_cyclic_triads(n: int) -> int:
    """Largest number of cyclic triads in a tournament on ``n`` items."""
    n = check_positive_int(n, "n", minimum=0)
    return (n**3 - n) // 24 if n % 2 else (n**3 - 4 * n) // 24


def intransitivity(M: ArrayLike) -> IntransitivityReport:
    """Count the cyclic triads of ``sign(M - M.T)`` (pairs missing an order or tied are skipped).

    Examples
    --------
    >>> M = [[0, 1.0, -1.0], [-1.0, 0, 1.0], [1.0, -1.0, 0]]   # 0 > 1 > 2 > 0
    >>> r = intransitivity(M)
    >>> r.n_cyclic, r.consistence
    (1, 0.0)
    """
    L = check_logit_matrix(M)
    n = L.shape[0]
    D = np.sign(L - L.T)  # NaN where an order is missing
    if n < 3:
        return IntransitivityReport(0, 0, float("nan"), 1.0, np.empty((0, 3), dtype=np.intp))
    tri = np.array(list(itertools.combinations(range(n), 3)), dtype=np.intp)  # i < j < k
    dij, djk, dki = D[tri[:, 0], tri[:, 1]], D[tri[:, 1], tri[:, 2]], D[tri[:, 2], tri[:, 0]]
    strict = (np.abs(dij) == 1) & (np.abs(djk) == 1) & (np.abs(dki) == 1)
    cyclic = strict & (dij == djk) & (djk == dki)
    n_strict, n_cyc = int(strict.sum()), int(cyclic.sum())
    return IntransitivityReport(
        n_triads=n_strict, n_cyclic=n_cyc,
        cyclic_fraction=n_cyc / n_strict if n_strict else float("nan"),
        consistence=1.0 - n_cyc / max_cyclic_triads(n),
        cyclic_triads=tri[cyclic])

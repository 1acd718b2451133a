"""Evaluation utilities of LLM-Blender's MixInstruct protocol (Jiang, Ren and Lin, 2023).

* **GPT-Rank**: each candidate's rank by its number of oracle (ChatGPT) pairwise wins, averaged
  over queries for the selected candidate (lower is better): :func:`oracle_win_ranks`,
  :func:`mean_oracle_rank`.
* **">= baseline %"** (the paper's >=Vic% and >=OA%) with an *explicit* tie policy, since the
  published numbers move with the tie convention (LLM-Blender issue #6): :func:`versus_baseline`.
* **Top-k hit rate** (Top-3%): :func:`top_k_hit_rate`.
* **Kendall tau** of a ranking to a ground truth (latent qualities): :func:`kendall_tau`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_finite_array, check_positive_int

__all__ = [
    "oracle_win_ranks",
    "mean_oracle_rank",
    "VersusBaseline",
    "versus_baseline",
    "top_k_hit_rate",
    "kendall_tau",
]


def _selected(selected: ArrayLike, q: int, n: int) -> NDArray[np.intp]:
    sel = np.asarray(selected)
    if sel.shape != (q,) or (sel.size and not np.issubdtype(sel.dtype, np.integer)):
        raise ValueError(f"selected: expected {q} integer candidate indices, got shape "
                         f"{sel.shape} and dtype {sel.dtype}")
    if sel.size and (sel.min() < 0 or sel.max() >= n):
        raise ValueError(f"selected: indices must lie in [0, {n - 1}]")
    return sel.astype(np.intp)


def oracle_win_ranks(oracle_wins: ArrayLike) -> NDArray[np.int64]:
    """Ranks (1 = best; ties share the better rank) by the number of oracle pairwise wins.

    Parameters
    ----------
    oracle_wins : array_like, shape (q, n, n)
        ``W[t, i, j] = 1`` if the oracle prefers candidate ``i`` to ``j`` on query ``t``, 0.5 for
        a tie, 0 otherwise (diagonal ignored).

    Examples
    --------
    >>> W = np.array([[[0, 1, 1], [0, 0, 0.5], [0, 0.5, 0]]])
    >>> oracle_win_ranks(W).tolist()
    [[1, 2, 2]]
    """
    W = check_finite_array(oracle_wins, "oracle_wins", ndim=3)
    if W.shape[0] == 0:
        raise ValueError("oracle_wins: no queries (shape (0, n, n))")
    if W.shape[1] != W.shape[2] or W.shape[1] < 2:
        raise ValueError(f"oracle_wins: expected shape (q, n, n) with n >= 2, got {W.shape}")
    n = W.shape[1]
    wins = (W * (1 - np.eye(n))).sum(axis=2)
    return 1 + (wins[:, None, :] > wins[:, :, None]).sum(axis=-1).astype(np.int64)


def mean_oracle_rank(selected: ArrayLike, oracle_wins: ArrayLike) -> float:
    """GPT-Rank of a selector: the mean oracle-win rank of the selected candidates.

    Examples
    --------
    >>> W = np.array([[[0, 1, 1], [0, 0, 1], [0, 0, 0]]] * 2)   # 0 > 1 > 2 on both queries
    >>> mean_oracle_rank([0, 2], W)
    2.0
    """
    ranks = oracle_win_ranks(oracle_wins)
    sel = _selected(selected, ranks.shape[0], ranks.shape[1])
    return float(ranks[np.arange(sel.size), sel].mean())


@dataclass(frozen=True)
class VersusBaseline:
    """Per-query comparison of a method's output with a baseline's.

    Attributes
    ----------
    wins, ties, losses : int
        Queries where the method is better, equal, worse.
    rate : float
        The ">= baseline" rate under the chosen tie policy.
    ties_policy : str
    """

    wins: int
    ties: int
    losses: int
    rate: float
    ties_policy: str


def versus_baseline(method_quality: ArrayLike, baseline_quality: ArrayLike, *,
                    ties: Literal["win", "half", "loss", "exclude"] = "win") -> VersusBaseline:
    """How often the method is at least as good as the baseline, with an explicit tie policy.

    ``ties="win"`` gives the paper's ">= baseline" reading ``(wins + ties) / q``; ``"half"``
    counts a tie as half a win; ``"loss"`` gives the strict "beats baseline" rate
    ``wins / q``; ``"exclude"`` drops tied queries, ``wins / (wins + losses)``.

    Examples
    --------
    >>> r = versus_baseline([1, 1, 0, 0], [1, 0, 1, 0], ties="win")
    >>> (r.wins, r.ties, r.losses, r.rate)
    (1, 2, 1, 0.75)
    >>> versus_baseline([1, 1, 0, 0], [1, 0, 1, 0], ties="exclude").rate
    0.5
    """
    m = check_finite_array(method_quality, "method_quality", ndim=1)
    b = check_finite_array(baseline_quality, "baseline_quality", ndim=1)
    if m.size == 0:
        raise ValueError("method_quality: empty; need at least one query")
    if m.shape != b.shape:
        raise ValueError(f"baseline_quality: expected shape {m.shape} (non-empty), got {b.shape}")
    wins, eq, losses = int((m > b).sum()), int((m == b).sum()), int((m < b).sum())
    q = m.size
    if ties == "win":
        rate = (wins + eq) / q
    elif ties == "half":
        rate = (wins + 0.5 * eq) / q
    elif ties == "loss":
        rate = wins / q
    elif ties == "exclude":
        rate = wins / (wins + losses) if wins + losses else float("nan")
    else:
        raise ValueError(f"ties: expected 'win', 'half', 'loss' or 'exclude', got {ties!r}")
    return VersusBaseline(wins, eq, losses, float(rate), ties)


def top_k_hit_rate(selected: ArrayLike, oracle_ranks: ArrayLike, k: int = 3) -> float:
    """Share of queries whose selected candidate has oracle rank ``<= k`` (the paper's Top-3%).

    Examples
    --------
    >>> top_k_hit_rate([0, 2], [[1, 2, 3], [3, 1, 2]], k=1)
    0.5
    """
    R = check_finite_array(oracle_ranks, "oracle_ranks", ndim=2)
    if R.size == 0:
        raise ValueError(f"oracle_ranks: empty, shape {R.shape}; need (queries, candidates)")
    k = check_positive_int(k, "k")
    sel = _selected(selected, R.shape[0], R.shape[1])
    return float((R[np.arange(sel.size), sel] <= k).mean())


def kendall_tau(scores: ArrayLike, truth: ArrayLike) -> NDArray[np.float64] | float:
    """Kendall's tau-b between scores and ground-truth qualities, row by row.

    ``tau_b = sum_{i<j} sgn(s_i - s_j) sgn(t_i - t_j) / sqrt(n_s n_t)``, with ``n_s`` (``n_t``) the
    number of pairs not tied in ``s`` (``t``); vectorised over rows (checked against
    :func:`scipy.stats.kendalltau`). A row whose scores (or truth) are all equal orders nothing
    and gets tau 0 rather than NaN.

    Examples
    --------
    >>> kendall_tau([3.0, 2.0, 1.0], [1.0, 0.5, 0.0])
    1.0
    """
    s = check_finite_array(scores, "scores")
    t = check_finite_array(truth, "truth")
    if s.shape != t.shape or s.ndim not in (1, 2) or s.shape[-1] < 2:
        raise ValueError(f"truth: expected the shape of scores {s.shape} with >= 2 candidates, "
                         f"got {t.shape}")
    a, b = np.atleast_2d(s), np.atleast_2d(t)
    sa = np.sign(a[:, :, None] - a[:, None, :])
    sb = np.sign(b[:, :, None] - b[:, None, :])
    num = (sa * sb).sum(axis=(1, 2))
    den = np.sqrt((sa != 0).sum(axis=(1, 2)) * (sb != 0).sum(axis=(1, 2)).astype(np.float64))
    tau = np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)
    return float(tau[0]) if s.ndim == 1 else tau

"""Rank-then-fuse: feed the top-K candidates of a pairwise ranking to any fuser.

LLM-Blender's second stage, GenFuser, is a seq2seq model that reads the input and the top-K
(K = 3) PairRanker candidates and writes a fused answer (Jiang, Ren and Lin, 2023). The trained
checkpoint is not part of this package; any callable ``fuse(x, texts) -> output`` takes its
role: a generative model, :func:`first_fuser` (return the top-ranked text: plain selection) or
:func:`plurality_fuser` (the most frequent of the top-K texts, for short categorical answers).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import RNGLike, check_positive_int
from ._checks import check_n_candidates
from .aggregation import bubble_select, maxlogits_scores, maxwins_scores, topk_from_scores
from .bradley_terry import BradleyTerry, records_from_matrix
from .comparator import Comparator
from .matrix import ComparisonSession, PairwiseMatrix

__all__ = ["Fuser", "TopK", "select_top_k", "first_fuser", "plurality_fuser", "BlendResult",
           "rank_and_fuse"]


class Fuser(Protocol):
    """``fuse(x, texts) -> output``: merge the ranked top-K candidates (best first)."""

    def __call__(self, x: Any, texts: Sequence[Any], /) -> Any: ...


def first_fuser(x: Any, texts: Sequence[Any]) -> Any:
    """Return the top-ranked text unchanged (ranking only, no fusion)."""
    return texts[0]


def plurality_fuser(x: Any, texts: Sequence[Any]) -> Any:
    """The most frequent text among the top-K; equal counts go to the better-ranked text.

    Examples
    --------
    >>> plurality_fuser(None, ["B", "A", "A"]), plurality_fuser(None, ["B", "A", "C"])
    ('A', 'B')
    """
    counts = Counter(texts)
    best = max(counts.values())
    return next(t for t in texts if counts[t] == best)


@dataclass(frozen=True)
class TopK:
    """The ``k`` best candidates, best first."""

    indices: NDArray[np.intp]
    candidates: list[Any]


def select_top_k(candidates: Sequence[Any], scores: ArrayLike, k: int) -> TopK:
    """The ``k`` highest-scoring candidates, best first (ties to the lower index).

    Examples
    --------
    >>> select_top_k(["a", "b", "c"], [0.1, 0.9, 0.5], 2)
    TopK(indices=array([1, 2]), candidates=['b', 'c'])
    """
    n = check_n_candidates(len(candidates), "candidates")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"scores: expected shape ({n},), got {s.shape}")
    idx = topk_from_scores(s, k)
    return TopK(idx, [candidates[i] for i in idx])


@dataclass(frozen=True)
class BlendResult:
    """Outcome of :func:`rank_and_fuse`.

    Attributes
    ----------
    output : Any
        The fuser's output.
    top_k : TopK
        The candidates given to the fuser.
    scores : ndarray or None
        Candidate scores (None for bubble selection, which only orders the top ``k``).
    n_calls : int
        Comparator calls spent.
    """

    output: Any
    top_k: TopK
    scores: NDArray[np.float64] | None
    n_calls: int


def rank_and_fuse(comparator: Comparator, x: Any, candidates: Sequence[Any], *, k: int = 3,
                  fuser: Fuser = first_fuser,
                  method: Literal["maxlogits", "maxwins", "bradley-terry", "bubble"] = "maxlogits",
                  rng: RNGLike = None) -> BlendResult:
    """Rank ``candidates`` by pairwise comparisons and fuse the top ``k``.

    ``method`` is a full both-order matrix aggregated by MaxLogits, MaxWins or a Bradley-Terry
    fit (``n(n-1)`` calls; soft labels ``expit(logit)``, ridge ``alpha = 0.01``), or ``k`` bubble
    passes (``2 sum_{r<k} (n-1-r)`` calls at most).

    Examples
    --------
    >>> quality = {"good": 2.0, "ok": 1.0, "bad": 0.0}
    >>> judge = lambda x, a, b: quality[a] - quality[b]
    >>> res = rank_and_fuse(judge, "q", ["bad", "good", "ok"], k=2, fuser=lambda x, t: "+".join(t))
    >>> res.output, res.n_calls
    ('good+ok', 6)
    """
    n = check_n_candidates(len(candidates), "candidates")
    k = check_positive_int(k, "k")
    if k > n:
        raise ValueError(f"k: must be <= the number of candidates {n}, got {k}")
    if method == "bubble":
        session = ComparisonSession(comparator, x, candidates)
        runs = min(k, n - 1)
        res = bubble_select(session.compare, n, runs=runs, rng=rng)
        idx = res.top if k == runs else np.r_[res.top, res.order[0]]
        top = TopK(idx.astype(np.intp), [candidates[i] for i in idx])
        return BlendResult(fuser(x, top.candidates), top, None, session.n_calls)
    if method not in ("maxlogits", "maxwins", "bradley-terry"):
        raise ValueError("method: expected 'maxlogits', 'maxwins', 'bradley-terry' or 'bubble', "
                         f"got {method!r}")
    pm = PairwiseMatrix.from_comparator(comparator, x, candidates)
    if method == "maxlogits":
        scores = maxlogits_scores(pm.logits)
    elif method == "maxwins":
        scores = maxwins_scores(pm.logits)
    else:
        f, s, y = records_from_matrix(pm, soft=True)
        scores = BradleyTerry(alpha=1e-2).fit(f, s, y, n_items=n).strengths_
    top = select_top_k(candidates, scores, k)
    return BlendResult(fuser(x, top.candidates), top, scores, pm.n_calls)

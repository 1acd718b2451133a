"""The comparator protocol: a judge of two candidate answers to one input.

A comparator is any callable ``f(x, y_i, y_j) -> float`` returning a logit for "``y_i`` is better
than ``y_j`` as an answer to ``x``" (positive: ``y_i`` better, negative: ``y_j`` better, zero: a
tie). ``y_i`` is shown in the *first* position. An LLM judge, a reward model (``r(x, y_i) -
r(x, y_j)``), the PairRanker cross-encoder of LLM-Blender (Jiang, Ren and Lin, 2023,
arXiv:2306.02561; see :mod:`llmcopula.ranking.pairrm`) or a lookup into logged signals all fit.
A pairwise model usually has a *position bias*: ``f(x, a, b) + f(x, b, a) != 0``; see
:class:`~llmcopula.ranking.matrix.PairwiseMatrix` for both-order debiasing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import check_logit_matrix

__all__ = ["Comparator", "BatchComparator", "MatrixComparator"]


@runtime_checkable
class Comparator(Protocol):
    """``f(x, y_i, y_j) -> logit``; positive means ``y_i`` (shown first) is better."""

    def __call__(self, x: Any, y_i: Any, y_j: Any, /) -> float: ...


@runtime_checkable
class BatchComparator(Comparator, Protocol):
    """A comparator that can also judge many ordered pairs of one input in one call.

    ``compare_many(x, firsts, seconds)`` returns one logit per pair, in order. Neural judges
    implement it so that :class:`~llmcopula.ranking.matrix.PairwiseMatrix` batches their calls.
    """

    def compare_many(self, x: Any, firsts: Sequence[Any], seconds: Sequence[Any], /
                     ) -> ArrayLike: ...


class MatrixComparator:
    """A comparator that looks candidates up in a fixed matrix of ordered-pair logits.

    Candidates are the integer indices ``0..n-1``; ``f(x, i, j) = M[i, j]`` whatever ``x`` is.
    Used for simulations and for replaying logged judgements.

    Parameters
    ----------
    M : array_like, shape (n, n)
        Ordered-pair logits; the diagonal is ignored. NaN entries raise when looked up.

    Examples
    --------
    >>> f = MatrixComparator([[0.0, 1.5], [-0.5, 0.0]])
    >>> f(None, 0, 1), f(None, 1, 0)
    (1.5, -0.5)
    """

    def __init__(self, M: ArrayLike) -> None:
        self.M: NDArray[np.float64] = check_logit_matrix(M, "M")
        self.M.setflags(write=False)

    @property
    def n(self) -> int:
        """Number of candidates."""
        return int(self.M.shape[0])

    def __call__(self, x: Any, y_i: Any, y_j: Any, /) -> float:
        i, j = int(y_i), int(y_j)
        if i == j:
            raise ValueError(f"y_i, y_j: a candidate cannot be compared with itself ({i})")
        return float(self.M[i, j])

    def compare_many(self, x: Any, firsts: Sequence[Any], seconds: Sequence[Any], /
                     ) -> NDArray[np.float64]:
        """Vectorised lookup of many ordered pairs."""
        i = np.asarray(firsts, dtype=np.intp)
        j = np.asarray(seconds, dtype=np.intp)
        if (i == j).any():
            raise ValueError("firsts, seconds: a candidate cannot be compared with itself")
        return self.M[i, j]

"""Optional adapter: LLM-Blender's PairRM cross-encoder as a :class:`Comparator`.

PairRM (``llm-blender/PairRM``, DeBERTa-v3-large; Jiang, Ren and Lin, 2023, arXiv:2306.02561)
reads ``<source> x <candidate1> y_i <candidate2> y_j`` and returns a logit, positive when
``y_i`` is better. The adapter calls ``Blender.compare(..., return_logits=True, mode="[A,B]")``
for *one* presentation order, so that :class:`~llmcopula.ranking.PairwiseMatrix` does the
both-order debiasing and counts the calls itself.

Needs the ``llm-blender`` package (``pip install "llmcopula[pairrm]"``), which pins
``transformers`` versions of its own (see LLM-Blender issue #10): it is imported lazily, only by
:meth:`PairRMComparator.from_local_checkpoint`. **Nothing here downloads weights**: the
checkpoint must already be on local disk, or pass a ``Blender`` you loaded yourself.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._validation import check_positive_int

__all__ = ["PairRMComparator"]

_EXTRA_HINT = ("PairRMComparator.from_local_checkpoint needs the optional 'llm-blender' "
               "package: pip install \"llmcopula[pairrm]\" (or pip install llm-blender)")


def _import_llm_blender() -> Any:
    try:
        return importlib.import_module("llm_blender")
    except ImportError as exc:
        raise ImportError(_EXTRA_HINT) from exc


class PairRMComparator:
    """A PairRM-style pairwise ranker as a batch comparator.

    Parameters
    ----------
    blender : object
        Anything with LLM-Blender's ``compare(inputs, candidates_A, candidates_B, *,
        batch_size, return_logits, mode)`` method, e.g. an ``llm_blender.Blender`` with a
        ranker loaded.
    batch_size : int
        Passed to ``compare``.

    Examples
    --------
    >>> class Toy:   # stands in for llm_blender.Blender: longer answer wins, first shown +0.5
    ...     def compare(self, inputs, a, b, *, batch_size, return_logits, mode):
    ...         return [len(u) - len(v) + 0.5 for u, v in zip(a, b)]
    >>> f = PairRMComparator(Toy())
    >>> f("q", "long answer", "short")
    6.5
    """

    def __init__(self, blender: Any, *, batch_size: int = 8) -> None:
        if not callable(getattr(blender, "compare", None)):
            raise ValueError("blender: expected an object with a compare(...) method "
                             "(an llm_blender.Blender with a ranker loaded)")
        self.blender = blender
        self.batch_size = check_positive_int(batch_size, "batch_size")

    @classmethod
    def from_local_checkpoint(cls, path: str | os.PathLike[str], *, device: str | None = None,
                              batch_size: int = 8) -> PairRMComparator:
        """Load a PairRM checkpoint from a local directory (never from the network).

        Raises
        ------
        ImportError
            If ``llm-blender`` is not installed (names the extra to install).
        ValueError
            If ``path`` is not an existing local directory.
        """
        if not os.path.isdir(path):
            raise ValueError(f"path: {os.fspath(path)!r} is not a local directory; this adapter "
                             "never downloads weights, so fetch the checkpoint first")
        llm_blender = _import_llm_blender()
        blender = llm_blender.Blender()
        blender.loadranker(os.fspath(path), device=device)
        return cls(blender, batch_size=batch_size)

    def compare_many(self, x: Any, firsts: Sequence[str], seconds: Sequence[str]
                     ) -> NDArray[np.float64]:
        """One-order logits of many pairs of candidates for the input ``x``."""
        m = len(firsts)
        logits = self.blender.compare([x] * m, list(firsts), list(seconds),
                                      batch_size=self.batch_size, return_logits=True,
                                      mode="[A,B]")
        out = np.asarray(logits, dtype=np.float64).reshape(-1)
        if out.shape != (m,):
            raise ValueError(f"blender: compare returned {out.size} logits for {m} pairs")
        return out

    def __call__(self, x: Any, y_i: str, y_j: str, /) -> float:
        return float(self.compare_many(x, [y_i], [y_j])[0])

"""What a model of a cascade predicts: accuracy, expected cost and stage probabilities.

Neutral module shared by every calibrated chain model, the tuner and the evaluation code, so
that none of them depends on one particular model's module.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._deprecation import warn_deprecated

__all__ = ["CascadePrediction", "CascadeEvaluation"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CascadePrediction:
    """Model predictions for a cascade at one or more threshold vectors.

    Attributes
    ----------
    cascade : tuple of int
        Chain indices of the cascade's models, in order.
    accuracy : array of shape (B,)
        Predicted P(correct).
    cost : array of shape (B,)
        Predicted expected cost per query, in USD per million queries.
    stage_probabilities : array of shape (B, k)
        Predicted probability that each stage answers (rows sum to 1).
    """

    cascade: tuple[int, ...]
    accuracy: FloatArray
    cost: FloatArray
    stage_probabilities: FloatArray


@dataclass(frozen=True)
class CascadeEvaluation:
    """A model's objective at uniform-scale thresholds: what
    :meth:`CalibratedChainModel.evaluate_quantile` returns and the tuner optimises.

    Attributes
    ----------
    accuracy, cost : ndarray of shape (B,)
        Predicted P(correct) and expected cost (USD per million queries).
    stage_probabilities : ndarray of shape (B, k)
        Probability that each stage answers.
    grad_accuracy, grad_cost : ndarray of shape (B, k − 1) or None
        Gradients with respect to the uniform-scale thresholds (only with ``with_grad=True``).

    Indexing by name (``result["accuracy"]``), the form of earlier releases, still works for
    one release with a ``DeprecationWarning``.
    """

    accuracy: FloatArray
    cost: FloatArray
    stage_probabilities: FloatArray
    grad_accuracy: FloatArray | None = None
    grad_cost: FloatArray | None = None

    @property
    def has_grad(self) -> bool:
        return self.grad_accuracy is not None

    def _names(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        warn_deprecated(f"CascadeEvaluation[{key!r}]: use the attribute .{key}")
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self._names()

    @classmethod
    def concatenate(cls, parts: list[CascadeEvaluation]) -> CascadeEvaluation:
        """One evaluation from evaluations of consecutive row blocks."""
        first = parts[0]
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts])
                      for name in first._names()})

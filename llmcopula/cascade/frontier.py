"""The error–cost frontier of a cascade: threshold vectors with their predicted accuracy and cost."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .routing import pareto_mask

__all__ = ["Frontier", "pareto_mask"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Frontier:
    """Thresholds along a cascade's error–cost trade-off, with predicted (and optionally test)
    accuracy and cost.

    Attributes
    ----------
    models : tuple of str
        Names of the cascade's models, in order.
    cascade : tuple of int
        Their chain indices.
    method : str
        How the thresholds were chosen (``"markov-copula"``, ``"grid"``, ``"bo"``, ...).
    thresholds : ndarray of shape (P, k − 1)
        Calibrated-confidence thresholds: stage j answers iff Φ_j > t_j.
    raw_thresholds : ndarray of shape (P, k − 1)
        The same rules on each model's raw signal: stage j answers iff raw_j > r_j.
    accuracy, cost : ndarray of shape (P,)
        Predicted accuracy and expected cost (USD per million queries), on the training data's
        model (or empirical training values for the empirical baselines).
    stage_probabilities : ndarray of shape (P, k)
    lambdas : ndarray of shape (P,), optional
        Cost sensitivities of the Lagrangian (1 − accuracy) + λ·cost that produced each point.
    budgets : ndarray of shape (P,), optional
        Cost budgets of the constrained form, where it was used.
    test_accuracy, test_cost : ndarray of shape (P,), optional
        Empirical accuracy and cost on test data (see :func:`evaluate_frontier`).
    """

    models: tuple[str, ...]
    cascade: tuple[int, ...]
    method: str
    thresholds: FloatArray
    raw_thresholds: FloatArray
    accuracy: FloatArray
    cost: FloatArray
    stage_probabilities: FloatArray
    lambdas: FloatArray | None = None
    budgets: FloatArray | None = None
    test_accuracy: FloatArray | None = None
    test_cost: FloatArray | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.accuracy.shape[0])

    @property
    def error(self) -> FloatArray:
        """Predicted error rate 1 − accuracy."""
        return 1.0 - self.accuracy

    def with_test(self, accuracy: FloatArray, cost: FloatArray) -> Frontier:
        """A copy carrying test-set accuracy and cost."""
        return replace(self, test_accuracy=np.asarray(accuracy, dtype=np.float64),
                       test_cost=np.asarray(cost, dtype=np.float64))

    def to_frame(self) -> pd.DataFrame:
        """One row per frontier point (thresholds in columns ``t_<model>``)."""
        data: dict[str, Any] = {}
        for j, name in enumerate(self.models[:-1]):
            data[f"t_{name}"] = self.thresholds[:, j]
            data[f"raw_t_{name}"] = self.raw_thresholds[:, j]
        data["predicted_accuracy"] = self.accuracy
        data["predicted_cost"] = self.cost
        if self.lambdas is not None:
            data["lambda"] = self.lambdas
        if self.budgets is not None:
            data["budget"] = self.budgets
        if self.test_accuracy is not None:
            data["test_accuracy"] = self.test_accuracy
            data["test_cost"] = self.test_cost
        return pd.DataFrame(data)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: models, cascade, method and one entry per point, costs in USD per
        million queries. Infinite raw thresholds become the strings "inf" / "-inf"."""

        def num(x: float) -> float | str:
            if np.isinf(x):
                return "inf" if x > 0 else "-inf"
            return float(x)

        points = []
        for p in range(len(self)):
            point: dict[str, Any] = {
                "thresholds": [num(v) for v in self.thresholds[p]],
                "raw_thresholds": [num(v) for v in self.raw_thresholds[p]],
                "predicted": {"accuracy": float(self.accuracy[p]), "cost": float(self.cost[p])},
            }
            if self.lambdas is not None:
                point["lambda"] = float(self.lambdas[p])
            if self.budgets is not None:
                point["budget"] = float(self.budgets[p])
            if self.test_accuracy is not None and self.test_cost is not None:
                point["test"] = {"accuracy": float(self.test_accuracy[p]),
                                 "cost": float(self.test_cost[p])}
            points.append(point)
        return {"models": list(self.models), "cascade": list(self.cascade),
                "method": self.method, "points": points}

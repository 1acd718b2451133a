"""The error–cost frontier of a cascade: threshold vectors with their predicted accuracy and cost."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..calibration.rules import DIRECTIONS
from .routing import pareto_mask

__all__ = ["Frontier", "FrontierIntervals", "pareto_mask"]

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
        The same rules on each model's raw signal: stage j answers iff raw_j > r_j
        (``directions[j] == "above"``) or raw_j < r_j (``"below"``: a decreasing calibration).
        Infinite thresholds are absolute ("above −inf" accepts every value, −inf included).
    accuracy, cost : ndarray of shape (P,)
        Predicted accuracy and expected cost (USD per million queries), on the training data's
        model (or empirical training values for the empirical baselines).
    stage_probabilities : ndarray of shape (P, k)
    lambdas : ndarray of shape (P,), optional
        Cost sensitivities of the Lagrangian (1 − accuracy) + λ·cost that produced each point.
    budgets : ndarray of shape (P,), optional
        Cost budgets of the constrained form, where it was used.
    test_accuracy, test_cost : ndarray of shape (P,), optional
        Empirical accuracy and cost on test data (see :func:`evaluate_frontier`): routing the
        test log's raw signals with each point's :meth:`rules`.
    directions : tuple of str, length k − 1, optional
        Direction of each stage's raw rule ("above" or "below"); default all "above".
    test_stage_usage : ndarray of shape (P, k), optional
        Fraction of the test queries each stage answers.
    intervals : FrontierIntervals, optional
        Intervals of the predicted values (:func:`~llmcopula.cascade.frontier_intervals`).
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
    directions: tuple[str, ...] | None = None
    test_stage_usage: FloatArray | None = None
    intervals: FrontierIntervals | None = None

    def __post_init__(self) -> None:
        k1 = len(self.models) - 1
        directions = ("above",) * k1 if self.directions is None else tuple(self.directions)
        if len(directions) != k1 or any(d not in DIRECTIONS for d in directions):
            raise ValueError(f"directions: expected {k1} of {DIRECTIONS}, got {directions}")
        object.__setattr__(self, "directions", directions)

    def __len__(self) -> int:
        return int(self.accuracy.shape[0])

    @property
    def error(self) -> FloatArray:
        """Predicted error rate 1 − accuracy."""
        return 1.0 - self.accuracy

    def with_test(self, accuracy: FloatArray, cost: FloatArray,
                  stage_usage: FloatArray | None = None) -> Frontier:
        """A copy carrying test-set accuracy, cost and (optionally) stage usage."""
        return replace(self, test_accuracy=np.asarray(accuracy, dtype=np.float64),
                       test_cost=np.asarray(cost, dtype=np.float64),
                       test_stage_usage=None if stage_usage is None
                       else np.asarray(stage_usage, dtype=np.float64))

    def rules(self, p: int) -> list[dict[str, Any]]:
        """The deployable rules of point ``p``: one ``{"kind": "threshold", "model",
        "direction", "raw_threshold"}`` per stage but the last (the policy-file format of
        :mod:`llmcopula.policy`; infinite thresholds as the strings "inf" / "-inf")."""
        if not -len(self) <= p < len(self):
            raise ValueError(f"p: the frontier has {len(self)} points, got {p}")
        return [{"kind": "threshold", "model": self.models[j], "direction": self.directions[j],
                 "raw_threshold": _num(float(self.raw_thresholds[p, j]))}
                for j in range(len(self.models) - 1)]

    def take(self, idx: Any) -> Frontier:
        """The frontier restricted to points ``idx`` (an index array or boolean mask)."""
        idx = np.arange(len(self))[idx]

        def pick(a: Any) -> Any:
            return None if a is None else np.asarray(a)[idx]

        return replace(self, thresholds=self.thresholds[idx],
                       raw_thresholds=self.raw_thresholds[idx], accuracy=self.accuracy[idx],
                       cost=self.cost[idx], stage_probabilities=self.stage_probabilities[idx],
                       lambdas=pick(self.lambdas), budgets=pick(self.budgets),
                       test_accuracy=pick(self.test_accuracy), test_cost=pick(self.test_cost),
                       test_stage_usage=pick(self.test_stage_usage),
                       intervals=None if self.intervals is None else self.intervals.take(idx))

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

        num = _num
        points = []
        for p in range(len(self)):
            point: dict[str, Any] = {
                "rules": self.rules(p),
                "thresholds": [num(v) for v in self.thresholds[p]],
                "raw_thresholds": [num(v) for v in self.raw_thresholds[p]],
                "predicted": {"accuracy": float(self.accuracy[p]), "cost": float(self.cost[p]),
                              "stage_usage": [float(v) for v in self.stage_probabilities[p]]},
            }
            if self.intervals is not None:
                point["predicted"]["intervals"] = self.intervals.point_dict(p)
            if self.lambdas is not None:
                point["lambda"] = float(self.lambdas[p])
            if self.budgets is not None:
                point["budget"] = float(self.budgets[p])
            if self.test_accuracy is not None and self.test_cost is not None:
                point["test"] = {"accuracy": float(self.test_accuracy[p]),
                                 "cost": float(self.test_cost[p])}
                if self.test_stage_usage is not None:
                    point["test"]["stage_usage"] = [float(v) for v in self.test_stage_usage[p]]
            points.append(point)
        return {"models": list(self.models), "cascade": list(self.cascade),
                "method": self.method, "points": points}


def _num(x: float) -> float | str:
    """A float for JSON: ±inf as the strings "inf" / "-inf"."""
    x = float(x)
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


@dataclass(frozen=True)
class FrontierIntervals:
    """Central intervals of a frontier's predicted values (one row per point).

    Attributes
    ----------
    level : float
        Nominal coverage, e.g. 0.9.
    accuracy, cost : ndarray of shape (P, 2)
        Lower and upper ends.
    stage_usage : ndarray of shape (P, k, 2)
    method : str
        How they were computed (e.g. ``"bootstrap-percentile"``).
    n_resamples : int
    draws : dict, optional
        The resampled values behind the intervals: ``accuracy`` and ``cost`` (R, P),
        ``stage_usage`` (R, P, k); used for the intervals of a mixture of two points.
    """

    level: float
    accuracy: FloatArray
    cost: FloatArray
    stage_usage: FloatArray
    method: str = "bootstrap-percentile"
    n_resamples: int = 0
    draws: dict[str, FloatArray] | None = field(default=None, repr=False, compare=False)

    def take(self, idx: Any) -> FrontierIntervals:
        draws = None if self.draws is None else {
            name: value[:, idx] for name, value in self.draws.items()}
        return replace(self, accuracy=self.accuracy[idx], cost=self.cost[idx],
                       stage_usage=self.stage_usage[idx], draws=draws)

    def mixture(self, p: int, q: int, probability: float) -> dict[str, Any]:
        """Intervals of the randomised policy that uses point ``p`` with ``probability`` and
        point ``q`` otherwise (from the joint draws; the values are linear in the mixture)."""
        if self.draws is None:
            raise ValueError("intervals: no draws kept, so a mixture's interval is unknown")
        a = (1.0 - self.level) / 2
        qs = [a, 1.0 - a]

        def mix(name: str) -> FloatArray:
            d = self.draws[name]
            return probability * d[:, p] + (1.0 - probability) * d[:, q]

        usage = np.quantile(mix("stage_usage"), qs, axis=0).T
        return {"level": float(self.level), "method": self.method,
                "n_resamples": int(self.n_resamples),
                "accuracy": [float(v) for v in np.quantile(mix("accuracy"), qs)],
                "cost": [float(v) for v in np.quantile(mix("cost"), qs)],
                "stage_usage": [[float(lo), float(hi)] for lo, hi in usage]}

    def point_dict(self, p: int) -> dict[str, Any]:
        """Point ``p``'s intervals as JSON-ready lists."""
        return {"level": float(self.level), "method": self.method,
                "n_resamples": int(self.n_resamples),
                "accuracy": [float(v) for v in self.accuracy[p]],
                "cost": [float(v) for v in self.cost[p]],
                "stage_usage": [[float(a), float(b)] for a, b in self.stage_usage[p]]}

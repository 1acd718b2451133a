"""Choosing a point of a tuned frontier by the knob a user has: a target accuracy, a budget, or a
cap on the share of queries that reach the last model.

Selection is on the *predicted* values of the frontier:

- ``target_accuracy=A``: the cheapest point whose predicted accuracy is at least A;
- ``budget=B``: the most accurate point whose predicted cost is at most B (USD per million
  queries);
- ``max_share=S``: the most accurate point that sends at most a share S of queries to the last
  model.

With ``mix=True`` the choice may also be a randomised policy: one of two neighbouring points of
the frontier's upper convex hull with probability p, the other otherwise. Accuracy, cost and
stage usage are linear in p, so such a mixture reaches every point of the hull: exactly the
target, the budget or the share, at the best value of the other quantity. It is used only where
it beats every single point. :func:`llmcopula.deploy.build_policy` writes the choice as a policy
file; :func:`~llmcopula.cascade.learn_then_test` chooses with a finite-sample guarantee instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .frontier import Frontier

__all__ = ["Selection", "make_selection", "select_point", "upper_hull"]

FloatArray = NDArray[np.float64]

# Accuracy differences below this are ties when comparing a mixture with a single point.
_TOL = 1e-9


@dataclass(frozen=True)
class Selection:
    """A chosen frontier point, or a mixture of two.

    Attributes
    ----------
    index : int
        The point used with probability ``probability`` (1 for a single point).
    other : int or None
        The second point of a mixture.
    probability : float
    by : str
        ``"target_accuracy"``, ``"budget"``, ``"max_share"`` or ``"index"``.
    value : float or None
        The knob's value.
    accuracy, cost : float
        Predicted values of the choice.
    stage_usage : ndarray of shape (k,)
    info : dict
        Extra facts about the choice (e.g. a guarantee's test results).
    """

    index: int
    other: int | None
    probability: float
    by: str
    value: float | None
    accuracy: float
    cost: float
    stage_usage: FloatArray
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def is_mixture(self) -> bool:
        return self.other is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by, "value": self.value, "point": int(self.index)}
        if self.other is not None:
            out.update(mixture_of=[int(self.index), int(self.other)],
                       probability=float(self.probability))
        out.update(self.info)
        return out


def upper_hull(x: FloatArray, y: FloatArray) -> NDArray[np.intp]:
    """Indices of the upper concave hull of points (x, y) that is non-decreasing in x, sorted by
    x: the points a mixture of two neighbours can interpolate between.

    >>> upper_hull(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.2, 0.9, 1.0])).tolist()
    [0, 2, 3]
    """
    order = np.lexsort((-y, x))
    hull: list[int] = []
    for i in order:
        if hull and x[i] == x[hull[-1]]:
            continue  # same x, lower y
        if hull and y[i] <= y[hull[-1]]:
            continue  # not higher: dominated
        while len(hull) >= 2:
            a, b = hull[-2], hull[-1]
            # drop b if it lies on or below the chord a-i
            if (y[b] - y[a]) * (x[i] - x[a]) <= (y[i] - y[a]) * (x[b] - x[a]):
                hull.pop()
            else:
                break
        hull.append(int(i))
    return np.asarray(hull, dtype=np.intp)


def make_selection(front: Frontier, by: str, value: float | None, i: int,
                   j: int | None = None, p: float = 1.0) -> Selection:
    """The :class:`Selection` of point ``i`` (or of ``i`` with probability ``p`` and ``j``
    otherwise), with the predicted values of the choice."""
    u = front.stage_probabilities
    if j is None:
        return Selection(index=i, other=None, probability=1.0, by=by, value=value,
                         accuracy=float(front.accuracy[i]), cost=float(front.cost[i]),
                         stage_usage=u[i].copy())
    return Selection(index=i, other=j, probability=p, by=by, value=value,
                     accuracy=float(p * front.accuracy[i] + (1 - p) * front.accuracy[j]),
                     cost=float(p * front.cost[i] + (1 - p) * front.cost[j]),
                     stage_usage=p * u[i] + (1 - p) * u[j])


def _best_within(front: Frontier, x: FloatArray, bound: float, by: str, mix: bool
                 ) -> Selection | None:
    """Most accurate single point (or hull mixture) with x <= bound."""
    acc = front.accuracy
    feasible = np.flatnonzero(x <= bound * (1 + 1e-12) + 1e-15)
    if feasible.size == 0:
        return None
    # most accurate; among equally accurate ones the cheapest
    best = feasible[np.lexsort((front.cost[feasible], -acc[feasible]))[0]]
    choice = make_selection(front, by, bound, int(best))
    if mix:
        hull = upper_hull(x, acc)
        for a, b in zip(hull[:-1], hull[1:]):
            if x[a] < bound < x[b]:
                p = float((x[b] - bound) / (x[b] - x[a]))
                mixed = make_selection(front, by, bound, int(a), int(b), p)
                if mixed.accuracy > choice.accuracy + _TOL:
                    choice = mixed
                break
    return choice


def select_point(frontier: Frontier, *, target_accuracy: float | None = None,
                 budget: float | None = None, max_share: float | None = None,
                 mix: bool = False) -> Selection:
    """Choose a frontier point by exactly one knob (see the module docstring).

    Parameters
    ----------
    frontier : Frontier
    target_accuracy : float, optional
        Cheapest point with predicted accuracy >= the target.
    budget : float, optional
        Most accurate point with predicted cost <= the budget (USD per million queries).
    max_share : float, optional
        Most accurate point whose predicted last-stage share is <= this, in [0, 1].
    mix : bool, default False
        Allow a randomised mixture of two neighbouring hull points where it beats every single
        point.

    Raises
    ------
    ValueError
        Naming the knob: no knob or several, a target above every predicted accuracy, a budget
        below the cost of the cheapest point (the first model's), a share outside [0, 1].

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> from llmcopula.cascade import EmpiricalCopulaModel, tune
    >>> train = load_benchmark("mmlu", "llama", "train")
    >>> front = tune(EmpiricalCopulaModel().fit(train), (0, 4), n_lambdas=8, rng=0)
    >>> pick = select_point(front, target_accuracy=0.8)
    >>> bool(pick.accuracy >= 0.8), pick.is_mixture
    (True, False)
    >>> mixed = select_point(front, target_accuracy=0.8, mix=True)
    >>> bool(abs(mixed.accuracy - 0.8) < 1e-9 and mixed.cost <= pick.cost)
    True
    """
    knobs = {"target_accuracy": target_accuracy, "budget": budget, "max_share": max_share}
    given = [k for k, v in knobs.items() if v is not None]
    if len(given) != 1:
        raise ValueError(f"target_accuracy/budget/max_share: choose exactly one, got "
                         f"{given or 'none'}")
    if not isinstance(frontier, Frontier) or len(frontier) == 0:
        raise ValueError("frontier: expected a non-empty Frontier")
    by = given[0]
    value = float(knobs[by])  # type: ignore[arg-type]
    if not np.isfinite(value):
        raise ValueError(f"{by}: must be a finite number, got {value}")
    acc, cost = frontier.accuracy, frontier.cost
    if by == "target_accuracy":
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"target_accuracy: must lie in [0, 1], got {value}")
        if value > acc.max() + 1e-12:
            raise ValueError(f"target_accuracy: {value:.4g} is above every accuracy the frontier "
                             f"reaches (at most {acc.max():.4f} predicted)")
        feasible = np.flatnonzero(acc >= value - 1e-12)
        best = feasible[np.lexsort((-acc[feasible], cost[feasible]))[0]]
        choice = make_selection(frontier, by, value, int(best))
        if mix:
            hull = upper_hull(cost, acc)
            for a, b in zip(hull[:-1], hull[1:]):
                if acc[a] < value < acc[b]:
                    p = float((acc[b] - value) / (acc[b] - acc[a]))
                    mixed = make_selection(frontier, by, value, int(a), int(b), p)
                    if mixed.cost < choice.cost * (1 - 1e-12) - _TOL:
                        choice = mixed
                    break
        return choice
    if by == "budget":
        if value < cost.min() * (1 - 1e-9):
            raise ValueError(f"budget: {value:.6g} USD per million queries is below the cost of "
                             f"the first model ({cost.min():.6g}), the cheapest a cascade can be")
        return _best_within(frontier, cost, value, by, mix)  # type: ignore[return-value]
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"max_share: must lie in [0, 1], got {value}")
    share = frontier.stage_probabilities[:, -1]
    choice = _best_within(frontier, share, value, by, mix)
    if choice is None:
        raise ValueError(f"max_share: every point sends more than {value:.4g} of the queries "
                         f"to the last model (least {share.min():.4f} predicted)")
    return choice

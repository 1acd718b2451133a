"""How sure is the predicted error–cost frontier? The predicted curve with a band from the
intervals of its points, and the test curve over it.

See ``docs/diagnostics.md``, "Frontier uncertainty".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["FrontierBandDisplay"]

FloatArray = NDArray[np.float64]


def _pairs(x: ArrayLike | None, n: int, name: str) -> FloatArray | None:
    if x is None:
        return None
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape != (n, 2):
        raise ValueError(f"{name}: expected shape ({n}, 2) (lower, upper per point), got "
                         f"{arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains NaN")
    if (arr[:, 0] > arr[:, 1]).any():
        raise ValueError(f"{name}: a lower end exceeds its upper end")
    return arr


@dataclass
class FrontierBandDisplay:
    """A frontier's predicted error against cost, the band of its accuracy intervals (error =
    1 − accuracy, so the band's upper edge is 1 − the accuracy's lower end), optional cost
    intervals as horizontal bars, and the test curve of the same thresholds.

    The legend counts the points whose test accuracy lies inside their interval. Those
    intervals describe the uncertainty of the model fitted on the training queries (for
    example a bootstrap over them); a test curve also moves with the test sample and with any
    difference between the two populations, so it may leave the band where the train and test
    queries differ.

    Create it with :meth:`from_frontier`; :meth:`plot` draws on a matplotlib axes and stores
    ``line_``, ``band_``, ``test_line_``, ``ax_`` and ``figure_``.

    Parameters
    ----------
    cost, error : array_like of shape (P,)
        Predicted expected cost (USD per million queries) and error rate of each point.
    accuracy_interval : array_like of shape (P, 2)
        Lower and upper end of each point's predicted accuracy.
    cost_interval : array_like of shape (P, 2), optional
    test_cost, test_error : array_like of shape (P,), optional
        The same thresholds scored on test queries.
    level : float, optional
        Nominal coverage of the intervals (for the legend).

    Examples
    --------
    >>> import numpy as np
    >>> disp = FrontierBandDisplay(
    ...     cost=np.array([10.0, 50.0, 100.0]), error=np.array([0.4, 0.25, 0.2]),
    ...     accuracy_interval=np.array([[0.55, 0.65], [0.70, 0.80], [0.76, 0.84]]),
    ...     test_cost=np.array([12.0, 48.0, 105.0]), test_error=np.array([0.42, 0.24, 0.14]),
    ...     level=0.9).plot()
    >>> disp.n_inside_
    2
    """

    cost: FloatArray
    error: FloatArray
    accuracy_interval: FloatArray
    cost_interval: FloatArray | None = None
    test_cost: FloatArray | None = None
    test_error: FloatArray | None = None
    level: float | None = None
    label: str | None = None

    def __post_init__(self) -> None:
        self.cost = np.asarray(self.cost, dtype=np.float64)
        self.error = np.asarray(self.error, dtype=np.float64)
        n = self.cost.shape[0]
        if self.cost.ndim != 1 or self.error.shape != self.cost.shape or n == 0:
            raise ValueError(f"error: expected the shape of cost {self.cost.shape}, got "
                             f"{self.error.shape}")
        self.accuracy_interval = _pairs(self.accuracy_interval, n, "accuracy_interval")
        self.cost_interval = _pairs(self.cost_interval, n, "cost_interval")
        if (self.test_cost is None) != (self.test_error is None):
            raise ValueError("test_cost, test_error: give both or neither")
        if self.test_cost is not None:
            self.test_cost = np.asarray(self.test_cost, dtype=np.float64)
            self.test_error = np.asarray(self.test_error, dtype=np.float64)
            if self.test_cost.shape != (n,) or self.test_error.shape != (n,):
                raise ValueError(f"test_cost, test_error: expected shape ({n},), got "
                                 f"{self.test_cost.shape} and {self.test_error.shape}")

    @classmethod
    def from_frontier(cls, frontier: Any, *, accuracy_interval: ArrayLike | None = None,
                      cost_interval: ArrayLike | None = None, level: float | None = None,
                      show_test: bool = True, ax: Any = None, label: str | None = None,
                      **kwargs: Any) -> FrontierBandDisplay:
        """Plot a :class:`~llmcopula.cascade.Frontier` with intervals for its points.

        The intervals are the arrays given, or else the frontier's own ``intervals``
        (``intervals.accuracy``, ``intervals.cost`` and ``intervals.level``, each array of
        shape (P, 2)) when it carries them; a ``ValueError`` says so when there are none.
        """
        own = getattr(frontier, "intervals", None)
        if accuracy_interval is None:
            if own is None:
                raise ValueError("accuracy_interval: the frontier carries no intervals; pass "
                                 "them as an array of shape (P, 2)")
            accuracy_interval = own.accuracy
            if cost_interval is None:
                cost_interval = getattr(own, "cost", None)
            if level is None:
                level = getattr(own, "level", None)
        has_test = show_test and frontier.test_accuracy is not None
        disp = cls(cost=frontier.cost, error=frontier.error,
                   accuracy_interval=accuracy_interval, cost_interval=cost_interval,
                   test_cost=frontier.test_cost if has_test else None,
                   test_error=1.0 - frontier.test_accuracy if has_test else None,
                   level=level, label=label or " → ".join(frontier.models))
        return disp.plot(ax=ax, **kwargs)

    def plot(self, ax: Any = None, **kwargs: Any) -> FrontierBandDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        order = np.argsort(self.cost, kind="stable")
        name = self.label or "frontier"
        pct = "" if self.level is None else f"{round(100 * self.level)}% "
        kwargs.setdefault("marker", ".")
        (self.line_,) = ax.plot(self.cost[order], self.error[order],
                                label=f"{name} (predicted)", **kwargs)
        color = self.line_.get_color()
        err_lo = 1.0 - self.accuracy_interval[order, 1]
        err_hi = 1.0 - self.accuracy_interval[order, 0]
        self.band_ = ax.fill_between(self.cost[order], err_lo, err_hi, color=color, alpha=0.2,
                                     linewidth=0, label=f"{pct}interval of the prediction")
        if self.cost_interval is not None:
            xerr = np.abs(self.cost_interval[order].T - self.cost[order])
            ax.errorbar(self.cost[order], self.error[order], xerr=xerr, fmt="none",
                        ecolor=color, alpha=0.5, linewidth=0.8)
        self.test_line_ = None
        self.n_inside_ = None
        if self.test_cost is not None:
            acc = 1.0 - self.test_error
            inside = (acc >= self.accuracy_interval[:, 0]) & (acc <= self.accuracy_interval[:, 1])
            self.n_inside_ = int(inside.sum())
            t_order = np.argsort(self.test_cost, kind="stable")
            (self.test_line_,) = ax.plot(
                self.test_cost[t_order], self.test_error[t_order], linestyle="--", color=color,
                label=f"{name} (test; {self.n_inside_} of {inside.size} points inside)")
        ax.set_xlabel("expected cost (USD per million queries)")
        ax.set_ylabel("error rate")
        ax.legend(fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

"""Plots of error–cost curves (the Display pattern of scikit-learn's ``CalibrationDisplay``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .frontier import Frontier

__all__ = ["ErrorCostCurveDisplay"]


@dataclass
class ErrorCostCurveDisplay:
    """Error rate against cost per million queries for one cascade's frontier.

    Create it with :meth:`from_frontier`; ``plot`` draws on a matplotlib axes and stores the
    artists in ``line_`` / ``test_line_``, ``ax_`` and ``figure_``.

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel, tune, ErrorCostCurveDisplay
    >>> from llmcopula.datasets import load_benchmark
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    >>> disp = ErrorCostCurveDisplay.from_frontier(tune(model, (0, 4), n_lambdas=8))
    """

    cost: NDArray[np.float64]
    error: NDArray[np.float64]
    test_cost: NDArray[np.float64] | None = None
    test_error: NDArray[np.float64] | None = None
    label: str | None = None

    @classmethod
    def from_frontier(cls, frontier: Frontier, *, ax: Any = None, label: str | None = None,
                      show_test: bool = True, **kwargs: Any) -> ErrorCostCurveDisplay:
        """Plot a frontier's predicted curve and, when it carries test results, its test curve."""
        test_cost = frontier.test_cost if show_test else None
        test_err = None if (test_cost is None or frontier.test_accuracy is None) else \
            1.0 - frontier.test_accuracy
        name = label or " → ".join(frontier.models)
        disp = cls(cost=frontier.cost, error=frontier.error, test_cost=test_cost,
                   test_error=test_err, label=name)
        return disp.plot(ax=ax, **kwargs)

    def plot(self, ax: Any = None, **kwargs: Any) -> ErrorCostCurveDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        order = np.argsort(self.cost)
        (self.line_,) = ax.plot(self.cost[order], self.error[order], marker=".",
                                label=f"{self.label} (predicted)", **kwargs)
        self.test_line_ = None
        if self.test_cost is not None and self.test_error is not None:
            order = np.argsort(self.test_cost)
            (self.test_line_,) = ax.plot(self.test_cost[order], self.test_error[order],
                                         linestyle="--", color=self.line_.get_color(),
                                         label=f"{self.label} (test)")
        ax.set_xlabel("expected cost (USD per million queries)")
        ax.set_ylabel("error rate")
        ax.legend(fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

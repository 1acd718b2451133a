"""Accuracy against budget for the three families of a :class:`~llmcopula.planning.BudgetPlan`."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_plan"]

_STYLE = {"single": ("black", "s", 3), "cascade": ("tab:blue", "o", 2),
          "ensemble": ("tab:orange", "^", 1)}


def plot_plan(plan: Any, *, ax: Any = None, show_predicted: bool = True,
              show_test: bool = True) -> Any:
    """Plot each family's choice against the budget: predicted accuracy dashed with open
    markers (a band where the family has prediction intervals), test accuracy solid with filled
    markers (steps: a choice holds until a larger budget affords a better one). Returns the
    axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from llmcopula.datasets import load_pool
    >>> from llmcopula.planning import plan_budget
    >>> plan = plan_budget(load_pool("mmlu", "train"), load_pool("mmlu", "test"),
    ...                    budgets=[20, 50, 200], families=["single"])
    >>> ax = plot_plan(plan)
    >>> [line.get_label() for line in ax.get_lines()]
    ['single (predicted)', 'single (test)']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    frame = plan.to_frame()
    for family, rows in frame.groupby("family", sort=False):
        rows = rows.sort_values("budget")
        colour, marker, z = _STYLE.get(str(family), (None, "o", 1))
        x = rows["budget"].to_numpy()
        if show_predicted:
            ax.step(x, rows["predicted_accuracy"].to_numpy(), where="post", ls="--", lw=1,
                    color=colour, marker=marker, mfc="none", ms=5, zorder=z,
                    label=f"{family} (predicted)")
            low, high = rows["predicted_low"].to_numpy(), rows["predicted_high"].to_numpy()
            if np.isfinite(low).any():
                ax.fill_between(x, low, high, step="post", color=colour, alpha=0.12, lw=0)
        if show_test and rows["test_accuracy"].notna().any():
            ax.step(x, rows["test_accuracy"].to_numpy(), where="post", lw=1.5, color=colour,
                    marker=marker, ms=5, zorder=z + 3, label=f"{family} (test)")
    ax.set_xscale("log")
    ax.set_xlabel("budget (USD per million queries)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize="small")
    return ax

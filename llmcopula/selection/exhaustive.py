"""The exhaustive-search oracle: the feasible subset with the largest estimated I(Y; X_S)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from numpy.typing import ArrayLike

from llmcopula.selection._search import (
    TIE_TOL,
    check_limits,
    fill_doc,
    make_result,
    path_of,
    problem_from_call,
)
from llmcopula.selection.result import SelectionResult

__all__ = ["exhaustive_selection"]


def exhaustive_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                         k: int | None = None, costs: ArrayLike | None = None,
                         names: Sequence[str] | None = None, estimator: Any = "plugin",
                         max_models: int = 20, max_subsets: int = 200_000,
                         warn_sparse: bool = True) -> SelectionResult:
    """Oracle: the feasible subset with the largest Î(Y; X_S), by enumerating every subset.

    Feasible means |S| ≤ k and Σ c_i ≤ budget.  Ties go to the lower total cost, then the higher
    total accuracy, then the lexicographically smaller index set.  The result lists the models in
    increasing index order.  Raises ``ValueError`` for pools larger than ``max_models`` or more
    than ``max_subsets`` candidate subsets; it is meant for tests and for measuring the greedy gap.

    Parameters
    ----------
    %(common)s
    max_models, max_subsets : int
        Guards against combinatorial explosion.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> exhaustive_selection(X, y, k=2).selected
    (0, 1)
    """
    p = problem_from_call("exhaustive_selection", X, y, costs, names, estimator)
    k_max, b = check_limits(p, k, budget)
    if p.m > max_models:
        raise ValueError(f"X: exhaustive search is limited to {max_models} models, got {p.m}")
    n_subsets = sum(math.comb(p.m, s) for s in range(1, k_max + 1))
    if n_subsets > max_subsets:
        raise ValueError(f"k: {n_subsets} subsets to enumerate exceed max_subsets={max_subsets}")
    best: tuple[float, float, float, tuple[int, ...]] | None = None

    def visit(state: Any, subset: tuple[int, ...], spent: float) -> None:
        nonlocal best
        for j in range(subset[-1] + 1 if subset else 0, p.m):
            cost = spent + float(p.costs[j])
            if cost > b * (1 + 1e-12):
                continue
            child = p.info.add(state, j)
            cand = subset + (j,)
            acc = float(p.accuracy[list(cand)].sum())
            if (best is None or child.mi > best[0] + TIE_TOL
                    or (child.mi > best[0] - TIE_TOL and (cost, -acc) < (best[1], -best[2]))):
                best = (child.mi, cost, acc, cand)
            if len(cand) < k_max:
                visit(child, cand, cost)

    visit(p.info.empty(), (), 0.0)
    if best is None:  # pragma: no cover - check_limits guarantees one affordable model
        raise RuntimeError("internal error: no affordable subset")
    path = path_of(p, best[3], [best[0]] * len(best[3]))
    return make_result(p, path, "exhaustive", warn_sparse)


fill_doc(exhaustive_selection)

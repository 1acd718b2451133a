"""Baselines for budgeted ensemble selection: top-k by accuracy, mRMR, the Term-1 and Terms-1+2
ablations of the MI increment, and random subsets.

Each returns the same :class:`~llmcopula.selection.result.SelectionResult` as
:func:`~llmcopula.selection.greedy.greedy_mi_selection`, whose trace reports the MI increment of
every step under the chosen estimator, so that all methods are compared on one scale (bits).
The ablations split the greedy increment as
I(X_j; Y | X_S) = I(X_j; Y) − I(X_j; X_S) + I(X_j; X_S | Y) (relevance, redundancy,
class-conditional redundancy; see ``docs/selection.md``). The redundancy terms of mRMR and
Terms 1+2 always come from the contingency tables (plug-in, or Miller–Madow when that is the
estimator); with ``estimator="gaussian-copula"`` the relevance terms and the reported information
come from the fitted model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import RNGLike, check_rng
from llmcopula.selection._search import (
    Problem,
    check_limits,
    fill_doc,
    make_result,
    problem_from_call,
    relevance,
    run_greedy,
)
from llmcopula.selection.result import SelectionResult

__all__ = ["top_k_selection", "mrmr_selection", "term1_selection", "term12_selection",
           "random_selection"]


def top_k_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                    k: int | None = None, costs: ArrayLike | None = None,
                    names: Sequence[str] | None = None, estimator: Any = "plugin",
                    warn_sparse: bool = True) -> SelectionResult:
    """The most accurate models first (ties: lower cost, lower index), skipping unaffordable ones.

    Parameters
    ----------
    %(common)s

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 0, 1])
    >>> X = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])   # model 0 always right
    >>> top_k_selection(X, y, k=1, warn_sparse=False).selected
    (0,)
    """
    p = problem_from_call("top_k_selection", X, y, costs, names, estimator)
    k_max, b = check_limits(p, k, budget)
    path = run_greedy(p, lambda p, s, S, c: p.accuracy[c], k=k_max, budget=b, cost_ratio=False)
    return make_result(p, path, "top-k", warn_sparse)


def term1_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                    k: int | None = None, costs: ArrayLike | None = None,
                    names: Sequence[str] | None = None, estimator: Any = "plugin",
                    warn_sparse: bool = True) -> SelectionResult:
    """Ablation "Term 1": rank models by relevance Î(X_j; Y) alone (per unit cost if costs differ).

    Parameters
    ----------
    %(common)s

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> term1_selection(X, y, k=2).selected
    (0, 1)
    """
    p = problem_from_call("term1_selection", X, y, costs, names, estimator)
    k_max, b = check_limits(p, k, budget)
    rel = relevance(p)
    path = run_greedy(p, lambda p, s, S, c: rel[c], k=k_max, budget=b, cost_ratio=True)
    return make_result(p, path, "term1", warn_sparse)


def term12_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                     k: int | None = None, costs: ArrayLike | None = None,
                     names: Sequence[str] | None = None, estimator: Any = "plugin",
                     warn_sparse: bool = True) -> SelectionResult:
    """Ablation "Terms 1+2": greedy on Î(X_j; Y) − Î(X_j; X_S), dropping the class-conditional
    redundancy term Î(X_j; X_S | Y) of the exact increment.

    Parameters
    ----------
    %(common)s

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> term12_selection(X, y, k=2).selected
    (0, 1)
    """
    p = problem_from_call("term12_selection", X, y, costs, names, estimator)
    k_max, b = check_limits(p, k, budget)
    rel = relevance(p)
    # The criterion needs X_S's pattern codes, which only the table oracle keeps.
    states: dict[tuple[int, ...], Any] = {(): p.table.empty()}

    def score(p: Problem, state: Any, S: list[int], cand: NDArray[np.intp]) -> NDArray:
        if not S:
            return rel[cand]
        key = tuple(S)
        if key not in states:
            states[key] = p.table.add(states[key[:-1]], S[-1])
        table_state = states[key]
        return np.array([rel[j] - p.table.redundancy_with_set(table_state, j) for j in cand])

    path = run_greedy(p, score, k=k_max, budget=b, cost_ratio=True)
    return make_result(p, path, "term12", warn_sparse)


def mrmr_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                   k: int | None = None, costs: ArrayLike | None = None,
                   names: Sequence[str] | None = None, estimator: Any = "plugin",
                   warn_sparse: bool = True) -> SelectionResult:
    """Minimum-redundancy maximum-relevance: greedy on Î(X_j; Y) − mean_{i∈S} Î(X_j; X_i).

    Parameters
    ----------
    %(common)s

    References
    ----------
    Peng, Long and Ding (2005). Feature selection based on mutual information: criteria of
    max-dependency, max-relevance, and min-redundancy. IEEE TPAMI 27(8).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> mrmr_selection(X, y, k=2).selected
    (0, 1)
    """
    p = problem_from_call("mrmr_selection", X, y, costs, names, estimator)
    k_max, b = check_limits(p, k, budget)
    rel = relevance(p)
    pair = np.zeros((p.m, p.m))
    for i, j in itertools.combinations(range(p.m), 2):
        pair[i, j] = pair[j, i] = p.table.pair_mi(i, j)

    def score(p: Problem, state: Any, S: list[int], cand: NDArray[np.intp]) -> NDArray:
        if not S:
            return rel[cand]
        return rel[cand] - pair[np.ix_(cand, S)].mean(axis=1)

    path = run_greedy(p, score, k=k_max, budget=b, cost_ratio=True)
    return make_result(p, path, "mrmr", warn_sparse)


def random_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                     k: int | None = None, costs: ArrayLike | None = None,
                     names: Sequence[str] | None = None, estimator: Any = "plugin",
                     rng: RNGLike = None, warn_sparse: bool = True) -> SelectionResult:
    """Models in a random order (seeded), skipping unaffordable ones.

    Parameters
    ----------
    %(common)s
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> len(random_selection(X, y, k=2, rng=1))
    2
    """
    p = problem_from_call("random_selection", X, y, costs, names, estimator, rng)
    k_max, b = check_limits(p, k, budget)
    priority = check_rng(rng).permutation(p.m).astype(np.float64)
    path = run_greedy(p, lambda p, s, S, c: -priority[c], k=k_max, budget=b, cost_ratio=False)
    return make_result(p, path, "random", warn_sparse)


fill_doc(top_k_selection, term1_selection, term12_selection, mrmr_selection, random_selection)

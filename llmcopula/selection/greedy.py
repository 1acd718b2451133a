"""Greedy budgeted selection by mutual information (Turkmen, Buyukates and Bastopcu, 2026).

The objective is I(Y; X_S), the information the joint predictions of the selected models S carry
about the label, maximised under a query budget Σ_{i∈S} c_i ≤ B (or |S| ≤ k).
:func:`greedy_mi_selection` adds, at each step, the model with the largest exact increment
Î(Y; X_j | X_S) (or the largest increment per unit cost when costs differ). The baselines live in
:mod:`~llmcopula.selection.baselines` and :mod:`~llmcopula.selection.exhaustive`, the dispatcher
in :mod:`~llmcopula.selection.methods`; ``docs/selection.md`` explains the objective and the
guarantees.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.selection._contingency import increment_null
from llmcopula.selection._search import (
    TIE_TOL,
    check_limits,
    fill_doc,
    make_result,
    path_of,
    pick,
    problem_from_call,
    relevance,
    run_greedy,
    score_gain,
)
from llmcopula.selection.result import SelectionResult

__all__ = ["greedy_mi_selection"]


def greedy_mi_selection(X: ArrayLike, y: ArrayLike, *, budget: float | None = None,
                        k: int | None = None, costs: ArrayLike | None = None,
                        names: Sequence[str] | None = None, estimator: Any = "plugin",
                        stop: Literal["none", "permutation"] = "none", n_perm: int = 200,
                        stop_quantile: float = 0.95, rng: RNGLike = None,
                        warn_sparse: bool = True) -> SelectionResult:
    """Greedy maximisation of I(Y; X_S) under a query budget.

    At each step every affordable model j ∉ S is scored by its exact increment
    Î(Y; X_j | X_S) = Î(Y; X_{S∪{j}}) − Î(Y; X_S) (from the joint table, no approximation).  With
    unit costs (or no ``budget``: then costs only break ties) the largest increment wins.  With
    heterogeneous costs and a budget the largest increment per unit cost wins, and at the end the
    cost-ratio path is compared with the plain-gain greedy path and with the best affordable
    single model; the most informative of the three is returned (the cost-ratio greedy alone can
    be arbitrarily bad under a knapsack constraint; with these guards it is within a constant
    factor of the optimum for submodular objectives — Krause and Guestrin, 2005).  Ties are
    broken by higher accuracy, then lower cost, then lower index.

    I(Y; X_S) is submodular when predictions are conditionally independent given Y, and greedy
    then attains ≥ (1 − 1/e) of the optimum; with correlated errors it is a heuristic.

    Parameters
    ----------
    %(common)s
    stop : {"none", "permutation"}
        ``"permutation"`` stops when the best increment is at or below the ``stop_quantile`` of its
        label-permutation null (:func:`~llmcopula.selection.information.permutation_null_threshold`;
        table estimators only).
    n_perm, stop_quantile : int, float
        Size and quantile of the permutation null.
    rng : None, int or numpy.random.Generator
        Seeds the permutation stop and the quasi-Monte Carlo of ``"gaussian-copula"``.

    Returns
    -------
    SelectionResult

    References
    ----------
    Turkmen, Buyukates and Bastopcu (2026). Don't Always Pick the Highest-Performing Model: An
    Information Theoretic View of LLM Ensemble Selection. arXiv:2602.08003.
    Krause and Guestrin (2005). Near-optimal nonmyopic value of information in graphical models.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> flip = rng.random((2000, 3)) < [0.1, 0.1, 0.3]
    >>> X = np.where(flip, 1 - y[:, None], y[:, None])
    >>> X[:, 1] = X[:, 0]                       # model 1 duplicates model 0
    >>> greedy_mi_selection(X, y, k=2).selected  # the duplicate adds nothing
    (0, 2)
    """
    if stop not in ("none", "permutation"):
        raise ValueError(f"stop: expected 'none' or 'permutation', got {stop!r}")
    if not (isinstance(stop_quantile, float) and 0.0 < stop_quantile < 1.0):
        raise ValueError(f"stop_quantile: must be a float in (0, 1), got {stop_quantile!r}")
    n_perm = check_positive_int(n_perm, "n_perm")
    p = problem_from_call("greedy_mi_selection", X, y, costs, names, estimator, rng)
    k_max, b = check_limits(p, k, budget)
    stop_fn = None
    if stop == "permutation":
        if p.info is not p.table:
            raise ValueError(f"stop: the permutation stop needs a table estimator (plugin or "
                             f"miller-madow), not {estimator!r}")
        gen = check_rng(rng)
        table = p.table

        def stop_fn(state: Any, j: int, gain: float) -> bool:
            null = increment_null(p.y, p.ky, state.code, state.size, p.X[:, j],
                                  int(p.cards[j]), n_perm, table.estimator, gen)
            return gain <= float(np.quantile(null, stop_quantile))

    best = run_greedy(p, score_gain, k=k_max, budget=b, cost_ratio=True, stop_fn=stop_fn)
    if not p.unit_costs and math.isfinite(b) and best[0]:
        # Knapsack guards: the plain-gain greedy and the best affordable singleton; the most
        # informative of the three solutions is returned (Krause and Guestrin, 2005).
        plain = run_greedy(p, score_gain, k=k_max, budget=b, cost_ratio=False, stop_fn=stop_fn)
        affordable = np.flatnonzero(p.costs <= b)
        rel = relevance(p)[affordable]
        single = path_of(p, [pick(p, affordable, rel)], [rel.max()])
        for other in (plain, single):
            if other[2].mi > best[2].mi + TIE_TOL:
                best = other
    return make_result(p, best, "greedy-mi", warn_sparse)


fill_doc(greedy_mi_selection)

# Names that lived in this module before the split into greedy / baselines / exhaustive /
# methods / result; importing them from here still works for one release, with a warning.
_MOVED = {
    "SelectionStep": "llmcopula.selection.result",
    "SelectionResult": "llmcopula.selection.result",
    "top_k_selection": "llmcopula.selection.baselines",
    "mrmr_selection": "llmcopula.selection.baselines",
    "term1_selection": "llmcopula.selection.baselines",
    "term12_selection": "llmcopula.selection.baselines",
    "random_selection": "llmcopula.selection.baselines",
    "exhaustive_selection": "llmcopula.selection.exhaustive",
    "select_models": "llmcopula.selection.methods",
    "SELECTION_METHODS": "llmcopula.selection.methods",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        warnings.warn(f"llmcopula.selection.greedy.{name} has moved to {_MOVED[name]}.{name} "
                      "(or import it from llmcopula.selection); the old location will stop "
                      "working in version 0.3", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

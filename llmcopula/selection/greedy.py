"""Budgeted ensemble selection: greedy mutual-information selection and its baselines.

The objective is I(Y; X_S), the information the joint predictions of the selected models S carry
about the label, maximised under a query budget Σ_{i∈S} c_i ≤ B (or |S| ≤ k) (Turkmen, Buyukates
and Bastopcu, 2026, arXiv:2602.08003).  :func:`greedy_mi_selection` adds, at each step, the model
with the largest exact plug-in increment Î(Y; X_j | X_S) (or the largest increment per unit cost
when costs differ), computed from joint contingency tables.  The baselines — top-k by accuracy,
mRMR, the Term-1 and Terms-1+2 ablations of the decomposition
I(X_j; Y | X_S) = I(X_j; Y) − I(X_j; X_S) + I(X_j; X_S | Y), random subsets and the exhaustive
oracle — return the same :class:`SelectionResult`, whose trace reports the *true* MI increment of
every step, so that all methods are compared on one scale (bits).

Speed: the pattern code of X_S is kept as a compact integer array and updated as
code_{S∪j} = code_S·|X_j| + x_j, so that every candidate costs two :func:`numpy.bincount` calls
and a table look-up of c·log c.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.selection.information import (
    Estimator,
    _as_columns,
    _as_target,
    _check_estimator,
    _compact,
    _increment_null,
    _warn_if_sparse,
)

__all__ = [
    "SelectionStep",
    "SelectionResult",
    "greedy_mi_selection",
    "top_k_selection",
    "mrmr_selection",
    "term1_selection",
    "term12_selection",
    "random_selection",
    "exhaustive_selection",
    "select_models",
    "SELECTION_METHODS",
]

SELECTION_METHODS = ("greedy-mi", "top-k", "mrmr", "term1", "term12", "random", "exhaustive")
_LN2 = math.log(2.0)
# Increments closer than this (in nats) are ties, broken deterministically; exact ties are common
# (identical models, symmetric designs) and float noise must not decide them.
_TIE_TOL = 1e-12


@dataclass(frozen=True)
class SelectionStep:
    """One step of a selection path.

    Attributes
    ----------
    model : int
        Column index of the model added.
    name : str or None
    gain : float
        True increment Î(Y; X_j | X_S) in bits, whatever criterion chose the model.
    mi_bits : float
        Î(Y; X_S) after the step, in bits.
    cost, total_cost : float
        Cost of the model and cumulative cost of the set after the step.
    score : float
        The value of the method's own criterion for the chosen model (equal to ``gain`` for
        greedy MI with unit costs; gain per unit cost with heterogeneous costs).
    """

    model: int
    name: str | None
    gain: float
    mi_bits: float
    cost: float
    total_cost: float
    score: float


@dataclass(frozen=True)
class SelectionResult:
    """A selected ensemble.

    Attributes
    ----------
    selected : tuple of int
        Column indices, in the order they were added.
    names : tuple of str or None
        The selected models' names, when names were given.
    mi_bits : float
        Estimated Î(Y; X_S) of the selected set, in bits.
    trace : tuple of SelectionStep
    total_cost : float
    method : str
    estimator : str
    """

    selected: tuple[int, ...]
    names: tuple[str, ...] | None
    mi_bits: float
    trace: tuple[SelectionStep, ...]
    total_cost: float
    method: str
    estimator: str

    def __len__(self) -> int:
        return len(self.selected)


class _Problem:
    """Validated, encoded inputs and the table kernels shared by every method (nats inside)."""

    def __init__(self, y: ArrayLike, X: ArrayLike, costs: ArrayLike | None,
                 names: Sequence[str] | None, estimator: str) -> None:
        _check_estimator(estimator, 0.0, 2.0)
        if names is None and hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        y_raw = np.asarray(y)
        X_raw = np.asarray(X)
        if X_raw.ndim != 2:
            raise ValueError(f"X: expected a 2-d array (rows × models), got shape {X_raw.shape}")
        self.y, self.ky = _as_target(y_raw)
        self.n = self.y.size
        self.X, self.cards = _as_columns(X_raw, self.n, "X")
        self.m = self.X.shape[1]
        self.estimator = estimator
        self.accuracy = (X_raw == y_raw[:, None]).mean(axis=0).astype(np.float64)
        if costs is None:
            self.costs = np.ones(self.m)
            self.unit_costs = True
        else:
            c = np.asarray(costs, dtype=np.float64)
            if c.shape != (self.m,):
                raise ValueError(f"costs: expected shape ({self.m},), got {c.shape}")
            if not np.all(np.isfinite(c)) or (c <= 0).any():
                raise ValueError("costs: every cost must be finite and > 0")
            self.costs = c
            self.unit_costs = bool(np.all(c == c[0]))
        if names is not None:
            names = tuple(str(s) for s in names)
            if len(names) != self.m:
                raise ValueError(f"names: expected {self.m} names, got {len(names)}")
        self.names = names
        # c·log(c) for every possible count: entropies become a gather and a sum.
        counts = np.arange(self.n + 1, dtype=np.float64)
        self._clogc = counts * np.log(np.maximum(counts, 1.0))
        self.h_y = self.entropy(np.bincount(self.y))
        self.Xy = np.asfortranarray(self.X * self.ky)

    def entropy(self, counts: NDArray[np.int64]) -> float:
        h = math.log(self.n) - float(self._clogc[counts].sum()) / self.n
        if self.estimator == "miller-madow":
            h += (np.count_nonzero(counts) - 1) / (2.0 * self.n)
        return h

    def mi_from_joint_counts(self, counts: NDArray[np.int64]) -> float:
        """Î(Y; X) from the flattened (pattern, label) table of counts, label fastest."""
        # Summing ky strided slices is several times faster than reshape(-1, ky).sum(axis=1).
        marginal = counts[0::self.ky].copy()
        for label in range(1, self.ky):
            marginal += counts[label::self.ky]
        return self.h_y + self.entropy(marginal) - self.entropy(counts)

    def name(self, j: int) -> str | None:
        return None if self.names is None else self.names[j]


@dataclass(frozen=True)
class _State:
    """Compact pattern codes of X_S (values 0..size−1) and Î(Y; X_S) in nats."""

    code: NDArray[np.int64]
    size: int
    mi: float

    @classmethod
    def empty(cls, p: _Problem) -> _State:
        return cls(np.zeros(p.n, dtype=np.int64), 1, 0.0)

    def gains(self, p: _Problem, cand: NDArray[np.intp]) -> NDArray[np.float64]:
        """Exact increments Î(Y; X_j | X_S) in nats for every candidate j.

        The (X_S, X_j, Y) cell of row r is code_S·|X_j|·|Y| + x_j·|Y| + y, so that one addition
        and one bincount per candidate give the whole joint table.
        """
        out = np.empty(cand.size)
        bases: dict[int, NDArray[np.int64]] = {}
        for i, j in enumerate(cand):
            c = int(p.cards[j])
            if c not in bases:
                bases[c] = self.code * (c * p.ky) + p.y
            counts = np.bincount(bases[c] + p.Xy[:, j], minlength=self.size * c * p.ky)
            out[i] = p.mi_from_joint_counts(counts) - self.mi
        return out

    def add(self, p: _Problem, j: int) -> _State:
        c = int(p.cards[j])
        code, size = _compact(self.code * c + p.X[:, j], self.size * c)
        counts = np.bincount(code * p.ky + p.y, minlength=size * p.ky)
        return _State(code, size, p.mi_from_joint_counts(counts))


def _check_limits(p: _Problem, k: int | None, budget: float | None) -> tuple[int, float]:
    if k is None and budget is None:
        raise ValueError("k: give k (the number of models) or budget (the total cost), or both")
    if k is not None:
        k = check_positive_int(k, "k")
        if k > p.m:
            raise ValueError(f"k: cannot select {k} models from a pool of {p.m}")
    if budget is not None:
        if not (isinstance(budget, (int, float, np.floating, np.integer))
                and math.isfinite(budget) and budget > 0):
            raise ValueError(f"budget: must be a finite number > 0, got {budget!r}")
        if budget < p.costs.min():
            raise ValueError(f"budget: {budget} is below the cheapest model's cost "
                             f"{p.costs.min():.6g}; nothing is affordable")
    return (p.m if k is None else k), (math.inf if budget is None else float(budget))


def _pick(p: _Problem, candidates: NDArray[np.intp], scores: NDArray[np.float64]) -> int:
    """Best-scoring candidate; ties → higher accuracy, then lower cost, then lower index."""
    best = scores.max()
    tied = candidates[scores >= best - _TIE_TOL * max(1.0, abs(best))]
    order = np.lexsort((tied, p.costs[tied], -p.accuracy[tied]))
    return int(tied[order[0]])


ScoreFn = Callable[[_Problem, _State, list[int], NDArray[np.intp]], NDArray[np.float64]]


def _run_greedy(p: _Problem, score_fn: ScoreFn, *, k: int, budget: float, method: str,
                cost_ratio: bool, stop_fn: Callable[[_State, int, float], bool] | None = None,
                ) -> tuple[list[int], list[SelectionStep], _State]:
    selected: list[int] = []
    steps: list[SelectionStep] = []
    state = _State.empty(p)
    spent = 0.0
    while len(selected) < k:
        remaining = np.setdiff1d(np.arange(p.m), selected)
        candidates = remaining[p.costs[remaining] + spent <= budget * (1 + 1e-12)]
        if candidates.size == 0:
            break
        scores = np.asarray(score_fn(p, state, selected, candidates), dtype=np.float64)
        if cost_ratio and not p.unit_costs and math.isfinite(budget):
            scores = scores / p.costs[candidates]
        j = _pick(p, candidates, scores)
        score = float(scores[np.flatnonzero(candidates == j)[0]])
        new_state = state.add(p, j)
        gain = new_state.mi - state.mi
        if stop_fn is not None and stop_fn(state, j, gain):
            break
        state = new_state
        selected.append(j)
        spent += float(p.costs[j])
        steps.append(SelectionStep(j, p.name(j), gain / _LN2, state.mi / _LN2,
                                   float(p.costs[j]), spent, score))
    return selected, steps, state


def _result(p: _Problem, selected: list[int], steps: list[SelectionStep], state: _State,
            method: str, warn_sparse: bool) -> SelectionResult:
    if warn_sparse and selected:
        _warn_if_sparse(p.n, p.cards[selected], p.ky, stacklevel=4)
    names = None if p.names is None else tuple(p.names[j] for j in selected)
    return SelectionResult(tuple(selected), names, state.mi / _LN2, tuple(steps),
                           float(sum(p.costs[j] for j in selected)), method, p.estimator)


def _path_of(p: _Problem, order: Sequence[int], method: str, scores: Sequence[float]
             ) -> tuple[list[int], list[SelectionStep], _State]:
    """Trace of a fixed ordered set, with the true increments."""
    state = _State.empty(p)
    steps = []
    spent = 0.0
    for j, s in zip(order, scores):
        new_state = state.add(p, j)
        spent += float(p.costs[j])
        steps.append(SelectionStep(j, p.name(j), (new_state.mi - state.mi) / _LN2,
                                   new_state.mi / _LN2, float(p.costs[j]), spent, float(s)))
        state = new_state
    return list(order), steps, state


# ---------------------------------------------------------------------------------------------
# Criteria
# ---------------------------------------------------------------------------------------------

def _score_gain(p: _Problem, state: _State, selected: list[int], cand: NDArray[np.intp]
                ) -> NDArray[np.float64]:
    if state.mi >= p.h_y - 1e-13 and p.estimator == "plugin":
        return np.zeros(cand.size)  # Y is already determined by X_S: every increment is 0
    return state.gains(p, cand)


def _relevance(p: _Problem) -> NDArray[np.float64]:
    return _State.empty(p).gains(p, np.arange(p.m))


def _pair_mi(p: _Problem, i: int, j: int) -> float:
    """Î(X_i; X_j) in nats."""
    ci, cj = int(p.cards[i]), int(p.cards[j])
    joint = p.X[:, i] * cj + p.X[:, j]
    return (p.entropy(np.bincount(p.X[:, i], minlength=ci))
            + p.entropy(np.bincount(p.X[:, j], minlength=cj))
            - p.entropy(np.bincount(joint, minlength=ci * cj)))


def _redundancy_with_set(p: _Problem, state: _State, j: int) -> float:
    """Î(X_j; X_S) in nats."""
    cj = int(p.cards[j])
    code, size = state.code * cj + p.X[:, j], state.size * cj
    return (p.entropy(np.bincount(state.code, minlength=state.size))
            + p.entropy(np.bincount(p.X[:, j], minlength=cj))
            - p.entropy(np.bincount(code, minlength=size)))


# ---------------------------------------------------------------------------------------------
# Public selection functions
# ---------------------------------------------------------------------------------------------

_COMMON_DOC = """
    y : array_like, shape (n,)
        Labels of the calibration rows (any number of classes).
    X : array_like, shape (n, M)
        Discrete predictions of the M pooled models (a DataFrame's columns become ``names``).
    budget : float, optional
        Maximum total cost Σ_{i∈S} c_i.
    k : int, optional
        Maximum number of models.  At least one of ``budget`` and ``k`` is required.
    costs : array_like, shape (M,), optional
        Per-query cost of each model (default: 1 each).
    names : sequence of str, optional
    estimator : {"plugin", "miller-madow"}
        Estimator of the reported information (and, for MI-based criteria, of the criterion).
    warn_sparse : bool, default True
        Warn (:class:`~llmcopula.selection.information.SparsePatternWarning`) when the selected
        set's pattern table has fewer than 10 rows per possible cell.
"""


def greedy_mi_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                        k: int | None = None, costs: ArrayLike | None = None,
                        names: Sequence[str] | None = None, estimator: Estimator = "plugin",
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
        label-permutation null (:func:`~llmcopula.selection.information.permutation_null_threshold`).
    n_perm, stop_quantile : int, float
        Size and quantile of the permutation null.
    rng : None, int or numpy.random.Generator
        Only used by the permutation stop.

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
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> flip = rng.random((2000, 3)) < [0.1, 0.1, 0.3]
    >>> X = np.where(flip, 1 - y[:, None], y[:, None])
    >>> X[:, 1] = X[:, 0]                       # model 1 duplicates model 0
    >>> greedy_mi_selection(y, X, k=2).selected  # the duplicate adds nothing
    (0, 2)
    """
    if stop not in ("none", "permutation"):
        raise ValueError(f"stop: expected 'none' or 'permutation', got {stop!r}")
    if not (isinstance(stop_quantile, float) and 0.0 < stop_quantile < 1.0):
        raise ValueError(f"stop_quantile: must be a float in (0, 1), got {stop_quantile!r}")
    n_perm = check_positive_int(n_perm, "n_perm")
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    stop_fn = None
    if stop == "permutation":
        gen = check_rng(rng)

        def stop_fn(state: _State, j: int, gain: float) -> bool:
            null = _increment_null(p.y, p.ky, state.code, state.size, p.X[:, j],
                                   int(p.cards[j]), n_perm, p.estimator, gen)
            return gain <= float(np.quantile(null, stop_quantile))

    best = _run_greedy(p, _score_gain, k=k_max, budget=b, method="greedy-mi", cost_ratio=True,
                       stop_fn=stop_fn)
    if not p.unit_costs and math.isfinite(b) and best[0]:
        # Knapsack guards: the plain-gain greedy and the best affordable singleton; the most
        # informative of the three solutions is returned (Krause and Guestrin, 2005).
        plain = _run_greedy(p, _score_gain, k=k_max, budget=b, method="greedy-mi",
                            cost_ratio=False, stop_fn=stop_fn)
        affordable = np.flatnonzero(p.costs <= b)
        rel = _relevance(p)[affordable]
        single = _path_of(p, [_pick(p, affordable, rel)], "greedy-mi", [rel.max()])
        for other in (plain, single):
            if other[2].mi > best[2].mi + _TIE_TOL:
                best = other
    return _result(p, *best, "greedy-mi", warn_sparse)


def top_k_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                    k: int | None = None, costs: ArrayLike | None = None,
                    names: Sequence[str] | None = None, estimator: Estimator = "plugin",
                    warn_sparse: bool = True) -> SelectionResult:
    """The most accurate models first (ties: lower cost, lower index), skipping unaffordable ones.

    Parameters
    ----------
    %(common)s

    Examples
    --------
    >>> y = np.array([0, 1, 0, 1])
    >>> X = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])   # model 0 always right
    >>> top_k_selection(y, X, k=1).selected
    (0,)
    """
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    sel, steps, state = _run_greedy(p, lambda p, s, S, c: p.accuracy[c], k=k_max, budget=b,
                                    method="top-k", cost_ratio=False)
    return _result(p, sel, steps, state, "top-k", warn_sparse)


def term1_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                    k: int | None = None, costs: ArrayLike | None = None,
                    names: Sequence[str] | None = None, estimator: Estimator = "plugin",
                    warn_sparse: bool = True) -> SelectionResult:
    """Ablation "Term 1": rank models by relevance Î(X_j; Y) alone (per unit cost if costs differ).

    Parameters
    ----------
    %(common)s

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> term1_selection(y, X, k=2).selected
    (0, 1)
    """
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    rel = _relevance(p)
    sel, steps, state = _run_greedy(p, lambda p, s, S, c: rel[c], k=k_max, budget=b,
                                    method="term1", cost_ratio=True)
    return _result(p, sel, steps, state, "term1", warn_sparse)


def term12_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                     k: int | None = None, costs: ArrayLike | None = None,
                     names: Sequence[str] | None = None, estimator: Estimator = "plugin",
                     warn_sparse: bool = True) -> SelectionResult:
    """Ablation "Terms 1+2": greedy on Î(X_j; Y) − Î(X_j; X_S), dropping the class-conditional
    redundancy term Î(X_j; X_S | Y) of the exact increment.

    Parameters
    ----------
    %(common)s

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> term12_selection(y, X, k=2).selected
    (0, 1)
    """
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    rel = _relevance(p)

    def score(p: _Problem, state: _State, S: list[int], cand: NDArray[np.intp]) -> NDArray:
        if not S:
            return rel[cand]
        return np.array([rel[j] - _redundancy_with_set(p, state, j) for j in cand])

    sel, steps, state = _run_greedy(p, score, k=k_max, budget=b, method="term12", cost_ratio=True)
    return _result(p, sel, steps, state, "term12", warn_sparse)


def mrmr_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                   k: int | None = None, costs: ArrayLike | None = None,
                   names: Sequence[str] | None = None, estimator: Estimator = "plugin",
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
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> mrmr_selection(y, X, k=2).selected
    (0, 1)
    """
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    rel = _relevance(p)
    pair = np.zeros((p.m, p.m))
    for i, j in itertools.combinations(range(p.m), 2):
        pair[i, j] = pair[j, i] = _pair_mi(p, i, j)

    def score(p: _Problem, state: _State, S: list[int], cand: NDArray[np.intp]) -> NDArray:
        if not S:
            return rel[cand]
        return rel[cand] - pair[np.ix_(cand, S)].mean(axis=1)

    sel, steps, state = _run_greedy(p, score, k=k_max, budget=b, method="mrmr", cost_ratio=True)
    return _result(p, sel, steps, state, "mrmr", warn_sparse)


def random_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                     k: int | None = None, costs: ArrayLike | None = None,
                     names: Sequence[str] | None = None, estimator: Estimator = "plugin",
                     rng: RNGLike = None, warn_sparse: bool = True) -> SelectionResult:
    """Models in a random order (seeded), skipping unaffordable ones.

    Parameters
    ----------
    %(common)s
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> len(random_selection(y, X, k=2, rng=1))
    2
    """
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    priority = check_rng(rng).permutation(p.m).astype(np.float64)
    sel, steps, state = _run_greedy(p, lambda p, s, S, c: -priority[c], k=k_max, budget=b,
                                    method="random", cost_ratio=False)
    return _result(p, sel, steps, state, "random", warn_sparse)


def exhaustive_selection(y: ArrayLike, X: ArrayLike, *, budget: float | None = None,
                         k: int | None = None, costs: ArrayLike | None = None,
                         names: Sequence[str] | None = None, estimator: Estimator = "plugin",
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
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 1000)
    >>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
    >>> exhaustive_selection(y, X, k=2).selected
    (0, 1)
    """
    p = _Problem(y, X, costs, names, estimator)
    k_max, b = _check_limits(p, k, budget)
    if p.m > max_models:
        raise ValueError(f"X: exhaustive search is limited to {max_models} models, got {p.m}")
    n_subsets = sum(math.comb(p.m, s) for s in range(1, k_max + 1))
    if n_subsets > max_subsets:
        raise ValueError(f"k: {n_subsets} subsets to enumerate exceed max_subsets={max_subsets}")
    best: tuple[float, float, float, tuple[int, ...]] | None = None

    def visit(state: _State, subset: tuple[int, ...], spent: float) -> None:
        nonlocal best
        for j in range(subset[-1] + 1 if subset else 0, p.m):
            cost = spent + float(p.costs[j])
            if cost > b * (1 + 1e-12):
                continue
            child = state.add(p, j)
            cand = subset + (j,)
            acc = float(p.accuracy[list(cand)].sum())
            if (best is None or child.mi > best[0] + _TIE_TOL
                    or (child.mi > best[0] - _TIE_TOL and (cost, -acc) < (best[1], -best[2]))):
                best = (child.mi, cost, acc, cand)
            if len(cand) < k_max:
                visit(child, cand, cost)

    visit(_State.empty(p), (), 0.0)
    if best is None:  # pragma: no cover - _check_limits guarantees one affordable model
        raise RuntimeError("internal error: no affordable subset")
    sel, steps, state = _path_of(p, best[3], "exhaustive", [best[0]] * len(best[3]))
    return _result(p, sel, steps, state, "exhaustive", warn_sparse)


for _f in (greedy_mi_selection, top_k_selection, term1_selection, term12_selection,
           mrmr_selection, random_selection, exhaustive_selection):
    _f.__doc__ = (_f.__doc__ or "").replace("    %(common)s\n", _COMMON_DOC.lstrip("\n"))

_METHODS: dict[str, Callable[..., SelectionResult]] = {
    "greedy-mi": greedy_mi_selection,
    "top-k": top_k_selection,
    "mrmr": mrmr_selection,
    "term1": term1_selection,
    "term12": term12_selection,
    "random": random_selection,
    "exhaustive": exhaustive_selection,
}


def select_models(y: ArrayLike, X: ArrayLike, *, method: str = "greedy-mi", **kwargs: Any
                  ) -> SelectionResult:
    """Select an ensemble with any of :data:`SELECTION_METHODS`.

    ``kwargs`` are passed to the method's function (``budget``, ``k``, ``costs``, ``names``,
    ``estimator``; ``rng`` for ``"random"`` and for greedy MI's permutation stop, ignored by the
    deterministic methods).

    Examples
    --------
    >>> y = np.array([0, 1, 0, 1, 1, 0])
    >>> X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [1, 1], [0, 0]])
    >>> select_models(y, X, method="top-k", k=1, warn_sparse=False).selected
    (0,)
    """
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {SELECTION_METHODS}, got {method!r}")
    if method not in ("random", "greedy-mi"):
        kwargs.pop("rng", None)  # deterministic methods: a shared rng argument is harmless
    return _METHODS[method](y, X, **kwargs)


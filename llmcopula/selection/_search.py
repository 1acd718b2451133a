"""The search engine shared by the selection strategies (private).

:class:`Problem` validates and encodes the inputs once. Its ``info`` attribute is the
information oracle of the chosen estimator: it starts from the empty set and returns the exact
increments Î(Y; X_j | X_S) of every candidate and the state after adding one. Two oracles exist:
the contingency-table one here (plug-in or Miller–Madow estimates) and the model-based one of
:mod:`llmcopula.selection.copula_information`. :func:`run_greedy` is the budgeted greedy loop
that every strategy drives with its own scoring function.

Speed of the table oracle: the pattern code of X_S is kept as a compact integer array and updated
as code_{S∪j} = code_S·|X_j| + x_j, so that every candidate costs one :func:`numpy.bincount`
call and a table look-up of c·log c.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import check_positive_int
from llmcopula.selection._compat import is_legacy_order, warn_legacy
from llmcopula.selection._contingency import (
    TABLE_ESTIMATORS,
    CountLog,
    as_columns,
    as_target,
    compact,
    entropy_counts,
    warn_if_sparse,
)
from llmcopula.selection.result import SelectionResult, SelectionStep

LN2 = math.log(2.0)
# Increments closer than this (in nats) are ties, broken deterministically; exact ties are common
# (identical models, symmetric designs) and float noise must not decide them.
TIE_TOL = 1e-12
MODEL_ESTIMATORS = ("gaussian-copula",)
ESTIMATORS = TABLE_ESTIMATORS + MODEL_ESTIMATORS

COMMON_DOC = """
    X : array_like, shape (n, M)
        Discrete predictions of the M pooled models (a DataFrame's columns become ``names``).
    y : array_like, shape (n,)
        Labels of the calibration rows (any number of classes).
    budget : float, optional
        Maximum total cost Σ_{i∈S} c_i.
    k : int, optional
        Maximum number of models.  At least one of ``budget`` and ``k`` is required.
    costs : array_like, shape (M,), optional
        Per-query cost of each model (default: 1 each).
    names : sequence of str, optional
    estimator : {"plugin", "miller-madow", "gaussian-copula"} or CopulaInformation
        Estimator of the reported information (and, for MI-based criteria, of the criterion).
        ``"gaussian-copula"`` derives I(Y; X_S) from the correlated-error model fitted to
        ``(X, y)`` (:class:`~llmcopula.selection.copula_information.CopulaInformation` with its
        defaults; pass an unfitted instance to choose its options) instead of counting sparse
        answer patterns (``docs/selection.md``, §6).
    warn_sparse : bool, default True
        Warn (:class:`~llmcopula.selection.information.SparsePatternWarning`) when the selected
        set's pattern table has fewer than 10 rows per possible cell (table estimators only).

    The old argument order ``(y, X)`` still works for one release and issues a
    :class:`DeprecationWarning`.
"""


class State(Protocol):
    """A selected set as the information oracle sees it; ``mi`` is Î(Y; X_S) in nats."""

    mi: float


class Information(Protocol):
    """What the greedy loop needs from an estimator of I(Y; X_S)."""

    h_y: float
    exact_when_determined: bool

    def empty(self) -> Any: ...

    def gains(self, state: Any, cand: NDArray[np.intp]) -> NDArray[np.float64]: ...

    def add(self, state: Any, j: int) -> Any: ...


@dataclass(frozen=True)
class TableState:
    """Compact pattern codes of X_S (values 0..size−1) and Î(Y; X_S) in nats."""

    code: NDArray[np.int64]
    size: int
    mi: float


class TableInformation:
    """Plug-in / Miller–Madow estimates of I(Y; X_S) from the joint contingency tables."""

    def __init__(self, p: Problem, estimator: str) -> None:
        self.p = p
        self.estimator = estimator
        self.exact_when_determined = estimator == "plugin"
        self.table = CountLog(p.n)
        self.h_y = self.entropy(np.bincount(p.y))
        self.Xy = np.asfortranarray(p.X * p.ky)

    def entropy(self, counts: NDArray[np.int64]) -> float:
        return float(entropy_counts(counts, self.estimator, total=float(self.p.n),
                                    table=self.table))

    def mi_from_joint_counts(self, counts: NDArray[np.int64]) -> float:
        """Î(Y; X) from the flattened (pattern, label) table of counts, label fastest."""
        ky = self.p.ky
        # Summing ky strided slices is several times faster than reshape(-1, ky).sum(axis=1).
        marginal = counts[0::ky].copy()
        for label in range(1, ky):
            marginal += counts[label::ky]
        return self.h_y + self.entropy(marginal) - self.entropy(counts)

    def empty(self) -> TableState:
        return TableState(np.zeros(self.p.n, dtype=np.int64), 1, 0.0)

    def gains(self, state: TableState, cand: NDArray[np.intp]) -> NDArray[np.float64]:
        """Exact increments Î(Y; X_j | X_S) in nats for every candidate j.

        The (X_S, X_j, Y) cell of row r is code_S·|X_j|·|Y| + x_j·|Y| + y, so that one addition
        and one bincount per candidate give the whole joint table.
        """
        p = self.p
        out = np.empty(cand.size)
        bases: dict[int, NDArray[np.int64]] = {}
        for i, j in enumerate(cand):
            c = int(p.cards[j])
            if c not in bases:
                bases[c] = state.code * (c * p.ky) + p.y
            counts = np.bincount(bases[c] + self.Xy[:, j], minlength=state.size * c * p.ky)
            out[i] = self.mi_from_joint_counts(counts) - state.mi
        return out

    def add(self, state: TableState, j: int) -> TableState:
        p = self.p
        c = int(p.cards[j])
        code, size = compact(state.code * c + p.X[:, j], state.size * c)
        counts = np.bincount(code * p.ky + p.y, minlength=size * p.ky)
        return TableState(code, size, self.mi_from_joint_counts(counts))

    # pairwise terms of the mRMR-type criteria

    def pair_mi(self, i: int, j: int) -> float:
        """Î(X_i; X_j) in nats."""
        p = self.p
        ci, cj = int(p.cards[i]), int(p.cards[j])
        joint = p.X[:, i] * cj + p.X[:, j]
        return (self.entropy(np.bincount(p.X[:, i], minlength=ci))
                + self.entropy(np.bincount(p.X[:, j], minlength=cj))
                - self.entropy(np.bincount(joint, minlength=ci * cj)))

    def redundancy_with_set(self, state: TableState, j: int) -> float:
        """Î(X_j; X_S) in nats."""
        p = self.p
        cj = int(p.cards[j])
        code, size = state.code * cj + p.X[:, j], state.size * cj
        return (self.entropy(np.bincount(state.code, minlength=state.size))
                + self.entropy(np.bincount(p.X[:, j], minlength=cj))
                - self.entropy(np.bincount(code, minlength=size)))


class Problem:
    """Validated, encoded inputs and the information oracle of the chosen estimator."""

    def __init__(self, X: ArrayLike, y: ArrayLike, costs: ArrayLike | None,
                 names: Sequence[str] | None, estimator: Any, rng: Any = None) -> None:
        from llmcopula.selection.copula_information import CopulaInformation

        model: CopulaInformation | None = None
        if isinstance(estimator, CopulaInformation):
            model, estimator = estimator, "gaussian-copula"
        elif estimator not in ESTIMATORS:
            raise ValueError(f"estimator: expected one of {ESTIMATORS} or a CopulaInformation, "
                             f"got {estimator!r}")
        if names is None and hasattr(X, "columns"):
            names = [str(c) for c in X.columns]
        y_raw = np.asarray(y)
        X_raw = np.asarray(X)
        if X_raw.ndim != 2:
            raise ValueError(f"X: expected a 2-d array (rows × models), got shape {X_raw.shape}")
        self.y, self.ky = as_target(y_raw)
        self.n = self.y.size
        self.X, self.cards = as_columns(X_raw, self.n, "X")
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
        # The table oracle also serves the pairwise criteria of the mRMR-type baselines, with the
        # plug-in estimator when the reported information comes from a model.
        self.table = TableInformation(self, estimator if estimator in TABLE_ESTIMATORS
                                      else "plugin")
        self.info: Information = self.table
        if estimator in MODEL_ESTIMATORS:
            from llmcopula._estimator import clone

            model = CopulaInformation(rng=rng) if model is None else clone(model)
            self.info = model.fit(X_raw, y_raw).oracle()

    def name(self, j: int) -> str | None:
        return None if self.names is None else self.names[j]


def problem_from_call(func_name: str, X: Any, y: Any, costs: Any, names: Any,
                      estimator: Any, rng: Any = None) -> Problem:
    """A :class:`Problem`, accepting the deprecated ``(y, X)`` order with a warning."""
    if is_legacy_order(X, y):
        warn_legacy(func_name, "y, X", "X, y", stacklevel=4)
        X, y = y, X
    return Problem(X, y, costs, names, estimator, rng)


def check_limits(p: Problem, k: int | None, budget: float | None) -> tuple[int, float]:
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


def pick(p: Problem, candidates: NDArray[np.intp], scores: NDArray[np.float64]) -> int:
    """Best-scoring candidate; ties → higher accuracy, then lower cost, then lower index."""
    best = scores.max()
    tied = candidates[scores >= best - TIE_TOL * max(1.0, abs(best))]
    order = np.lexsort((tied, p.costs[tied], -p.accuracy[tied]))
    return int(tied[order[0]])


ScoreFn = Callable[[Problem, Any, list[int], NDArray[np.intp]], NDArray[np.float64]]
Path = tuple[list[int], list[SelectionStep], Any]


def run_greedy(p: Problem, score_fn: ScoreFn, *, k: int, budget: float, cost_ratio: bool,
               stop_fn: Callable[[Any, int, float], bool] | None = None) -> Path:
    """Add the best-scoring affordable model until ``k`` models, the budget or ``stop_fn``."""
    selected: list[int] = []
    steps: list[SelectionStep] = []
    state = p.info.empty()
    spent = 0.0
    while len(selected) < k:
        remaining = np.setdiff1d(np.arange(p.m), selected)
        candidates = remaining[p.costs[remaining] + spent <= budget * (1 + 1e-12)]
        if candidates.size == 0:
            break
        scores = np.asarray(score_fn(p, state, selected, candidates), dtype=np.float64)
        if cost_ratio and not p.unit_costs and math.isfinite(budget):
            scores = scores / p.costs[candidates]
        j = pick(p, candidates, scores)
        score = float(scores[np.flatnonzero(candidates == j)[0]])
        new_state = p.info.add(state, j)
        gain = new_state.mi - state.mi
        if stop_fn is not None and stop_fn(state, j, gain):
            break
        state = new_state
        selected.append(j)
        spent += float(p.costs[j])
        steps.append(SelectionStep(j, p.name(j), gain / LN2, state.mi / LN2,
                                   float(p.costs[j]), spent, score))
    return selected, steps, state


def path_of(p: Problem, order: Sequence[int], scores: Sequence[float]) -> Path:
    """Trace of a fixed ordered set, with the increments of the problem's estimator."""
    state = p.info.empty()
    steps = []
    spent = 0.0
    for j, s in zip(order, scores):
        new_state = p.info.add(state, j)
        spent += float(p.costs[j])
        steps.append(SelectionStep(j, p.name(j), (new_state.mi - state.mi) / LN2,
                                   new_state.mi / LN2, float(p.costs[j]), spent, float(s)))
        state = new_state
    return list(order), steps, state


def make_result(p: Problem, path: Path, method: str, warn_sparse: bool) -> SelectionResult:
    selected, steps, state = path
    if warn_sparse and selected and p.estimator in TABLE_ESTIMATORS:
        warn_if_sparse(p.n, p.cards[selected], p.ky, stacklevel=4)
    names = None if p.names is None else tuple(p.names[j] for j in selected)
    return SelectionResult(tuple(selected), names, state.mi / LN2, tuple(steps),
                           float(sum(p.costs[j] for j in selected)), method, p.estimator)


def score_gain(p: Problem, state: Any, selected: list[int], cand: NDArray[np.intp]
               ) -> NDArray[np.float64]:
    """The exact MI increment of every candidate (the greedy-MI criterion)."""
    if p.info.exact_when_determined and state.mi >= p.info.h_y - 1e-13:
        return np.zeros(cand.size)  # Y is already determined by X_S: every increment is 0
    return p.info.gains(state, cand)


def relevance(p: Problem) -> NDArray[np.float64]:
    """Î(X_j; Y) of every model, in nats, under the problem's estimator."""
    return p.info.gains(p.info.empty(), np.arange(p.m))


def fill_doc(*funcs: Callable[..., Any]) -> None:
    for f in funcs:
        f.__doc__ = (f.__doc__ or "").replace("    %(common)s\n", COMMON_DOC.lstrip("\n"))

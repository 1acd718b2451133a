"""Cascade, ensemble or single model for a cost budget: :func:`plan_budget`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from llmcopula._validation import RNGLike, check_finite_array, check_rng
from llmcopula.datasets import ChainLog
from llmcopula.planning.candidates import (
    Candidates,
    cascade_candidates,
    cascade_candidates_of,
    ensemble_candidates,
    order_by_cost,
    single_candidates,
)
from llmcopula.planning.choice import best_under_budget

__all__ = ["FAMILIES", "BudgetPlan", "plan_budget", "shipped_chains"]

FAMILIES = ("single", "cascade", "ensemble")


def shipped_chains(benchmark: str) -> list[tuple[str, ...]]:
    """The models of each shipped chain of a bundled benchmark (for ``cascades="chains"``).

    Examples
    --------
    >>> [len(c) for c in shipped_chains("mmlu")]
    [5, 4]
    """
    from llmcopula.datasets import list_benchmarks

    table = list_benchmarks()
    rows = table[table["benchmark"] == benchmark]
    if rows.empty:
        raise ValueError(f"benchmark: unknown {benchmark!r}; shipped: "
                         f"{sorted(set(table['benchmark']))}")
    return list(dict.fromkeys(tuple(m) for m in rows["models"]))


@dataclass(frozen=True)
class BudgetPlan:
    """What each family offers under each budget.

    Attributes
    ----------
    budgets : ndarray, shape (B,)
        USD per million queries.
    candidates : dict of str to Candidates
        Every candidate of each family (:data:`FAMILIES`), with predictions and test values.
    choices : dict of str to ndarray of int, shape (B,)
        Index into ``candidates[family]`` of the family's choice under each budget: the highest
        predicted accuracy whose predicted cost fits (−1: nothing fits).
    models : tuple of str
        The pool in chain (cost) order.
    info : dict
        The options of the run.
    """

    budgets: NDArray[np.float64]
    candidates: dict[str, Candidates]
    choices: dict[str, NDArray[np.intp]]
    models: tuple[str, ...]
    info: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """One row per (budget, family): the choice, its prediction and its test values.

        Columns: ``budget``, ``family``, ``choice`` (text), ``members`` (tuple of names),
        ``predicted_accuracy``, ``predicted_low``, ``predicted_high``, ``predicted_cost``,
        ``test_accuracy``, ``test_cost``; NaN where a family has nothing within the budget.
        """
        rows = []
        for b, budget in enumerate(self.budgets):
            for family in FAMILIES:
                if family not in self.candidates:
                    continue
                cand, i = self.candidates[family], int(self.choices[family][b])
                row: dict[str, Any] = {"budget": float(budget), "family": family}
                if i < 0:
                    row.update(choice=None, members=None, predicted_accuracy=np.nan,
                               predicted_low=np.nan, predicted_high=np.nan,
                               predicted_cost=np.nan, test_accuracy=np.nan, test_cost=np.nan)
                else:
                    row.update(
                        choice=cand.describe(i), members=cand.members[i],
                        predicted_accuracy=float(cand.predicted_accuracy[i]),
                        predicted_low=_at(cand.predicted_low, i),
                        predicted_high=_at(cand.predicted_high, i),
                        predicted_cost=float(cand.predicted_cost[i]),
                        test_accuracy=_at(cand.test_accuracy, i), test_cost=_at(cand.test_cost, i))
                rows.append(row)
        frame = pd.DataFrame(rows)
        for col in ("choice", "members"):  # nothing fits: None, not NaN
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def recommend(self) -> NDArray[Any]:
        """The family with the highest predicted accuracy under each budget (ties: the cheaper
        prediction, then the order of :data:`FAMILIES`); None where nothing fits."""
        frame = self.to_frame()
        out = np.empty(self.budgets.size, dtype=object)
        for b, budget in enumerate(self.budgets):
            rows = frame[(frame["budget"] == budget) & frame["predicted_accuracy"].notna()]
            if rows.empty:
                out[b] = None
                continue
            order = np.lexsort((np.arange(len(rows)), rows["predicted_cost"].to_numpy(),
                                -rows["predicted_accuracy"].to_numpy()))
            out[b] = rows["family"].to_numpy()[order[0]]
        return out


def _at(values: NDArray[np.float64] | None, i: int) -> float:
    return float("nan") if values is None else float(values[i])


def plan_budget(train: ChainLog, test: ChainLog | None = None, *, budgets: ArrayLike,
                cascades: str | Sequence[Sequence[str]] = "chains",
                chains: Sequence[Sequence[str]] | None = None,
                cascade_method: str = "markov-copula", n_lambdas: int = 30,
                cascade_prediction: str = "cross-fit", n_folds: int = 5,
                selection_method: str = "greedy-mi", estimator: str | None = None,
                aggregator: str | None = None, max_ensemble: int = 5, n_boot: int = 50,
                level: float = 0.9, families: Sequence[str] = FAMILIES, n_jobs: int = 1,
                rng: RNGLike = None) -> BudgetPlan:
    """Compare, under the same cost budgets, the best single model, the best cascade frontier
    point and the best selected ensemble of one pool of models.

    Every candidate is judged by its prediction from the training log alone; under each budget
    each family's choice is its candidate of highest predicted accuracy whose predicted cost
    fits (:func:`~llmcopula.planning.best_under_budget`). With a labelled test log, each choice
    also carries its realised test accuracy and cost. What "predicted" means differs by family
    (``docs/planning.md``):

    * single model: its training accuracy and mean training cost;
    * cascade: on the pool ordered by mean training cost, the ``n_folds``-fold cross-fitted
      accuracy and cost of tuning the cascade (``cascade_method``) at each frontier point's λ
      (``cascade_prediction="cross-fit"``), or the model's in-sample values at the tuned
      thresholds (``"in-sample"``, optimistic);
    * ensemble: the correlated-error model's accuracy of the fitted aggregator, less the
      bootstrap estimate of its optimism, with a ``level`` interval; its cost per query is the
      sum of its members' costs.

    Parameters
    ----------
    train : ChainLog
        Training log of the pool, with confidences (cascades), answers and reference answers
        (ensembles), and costs.
    test : ChainLog, optional
        Labelled test log of the same models.
    budgets : array_like of float
        Cost budgets in USD per million queries (the log's cost × 10⁶).
    cascades : {"chains", "pareto", "all"} or sequence of sequences of model names
        Candidate cascades (:func:`~llmcopula.planning.cascade_candidates_of`); ``"chains"``
        needs ``chains`` unless ``train`` is a bundled pool (:func:`shipped_chains`).
    chains : sequence of sequences of model names, optional
    cascade_method : str
        A registered tuning method (:func:`~llmcopula.cascade.methods.method_names`).
    n_lambdas : int
        Points of each cascade's frontier (methods that trace a λ path).
    cascade_prediction : {"cross-fit", "in-sample"}
    n_folds : int
        Folds of the cascades' cross-fitting.
    selection_method, estimator, aggregator : str
        How ensembles are selected and aggregated (defaults: those of ``llmcopula select``).
    max_ensemble : int
        Largest ensemble considered.
    n_boot : int
        Bootstrap replicates of each ensemble's prediction.
    level : float
        Level of the ensembles' prediction intervals.
    families : sequence of str
        Which of :data:`FAMILIES` to compute.
    n_jobs : int
        Parallel jobs (joblib) over cascades and ensembles.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    BudgetPlan

    Examples
    --------
    >>> from llmcopula.datasets import load_pool
    >>> plan = plan_budget(load_pool("mmlu", "train"), load_pool("mmlu", "test"),
    ...                    budgets=[30.0], cascades=[["llama3.2-3b", "gpt-4o-mini"]],
    ...                    n_lambdas=6, n_boot=5, max_ensemble=2, rng=0)
    >>> plan.to_frame()["choice"].tolist()   # no two models fit in 30 USD per million queries
    ['gpt-4o-mini', 'llama3.2-3b -> gpt-4o-mini', None]
    """
    b = check_finite_array(np.atleast_1d(np.asarray(budgets, dtype=np.float64)), "budgets",
                           ndim=1)
    if b.size == 0 or (b <= 0).any():
        raise ValueError(f"budgets: expected one or more positive costs, got {b.tolist()}")
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ValueError(f"families: expected a non-empty subset of {FAMILIES}, got "
                         f"{list(families)}")
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise ValueError(f"level: must be a float in (0, 1), got {level!r}")
    tr, te = order_by_cost(train, test)
    gen = check_rng(rng)
    seed_cascade, seed_ensemble = (int(s) for s in gen.integers(0, 2**31 - 1, size=2))
    info: dict[str, Any] = {"cost_unit": "USD per million queries", "n_train": tr.n_queries,
                            "n_test": None if te is None else te.n_queries}
    found: dict[str, Candidates] = {}
    if "single" in families:
        found["single"] = single_candidates(tr, te)
    if "cascade" in families:
        if cascades == "chains" and chains is None:
            chains = _bundled_chains(tr)
        cas = cascade_candidates_of(tr, cascades, chains=chains)
        found["cascade"] = cascade_candidates(tr, te, cas, method=cascade_method,
                                              n_lambdas=n_lambdas,
                                              prediction=cascade_prediction, n_folds=n_folds,
                                              n_jobs=n_jobs, rng=seed_cascade)
        info.update(cascade_method=cascade_method, cascade_prediction=cascade_prediction,
                    cascades=cascades if isinstance(
            cascades, str) else "given", n_cascades=len(cas))
    if "ensemble" in families:
        from llmcopula.selection.methods import DEFAULT_AGGREGATOR, DEFAULT_ESTIMATOR

        estimator = DEFAULT_ESTIMATOR if estimator is None else estimator
        aggregator = DEFAULT_AGGREGATOR if aggregator is None else aggregator
        found["ensemble"] = ensemble_candidates(
            tr, te, b, selection_method=selection_method, estimator=estimator,
            aggregator=aggregator, max_size=max_ensemble, n_boot=n_boot, level=level,
            n_jobs=n_jobs, rng=seed_ensemble)
        info.update(selection_method=selection_method, estimator=estimator,
                    aggregator=aggregator, max_ensemble=max_ensemble, level=level)
    choices = {f: best_under_budget(c.predicted_accuracy, c.predicted_cost, b)
               for f, c in found.items()}
    return BudgetPlan(b, found, choices, tr.models, info)


def _bundled_chains(train: ChainLog) -> list[tuple[str, ...]]:
    if train.benchmark is not None:
        try:
            chains = shipped_chains(train.benchmark)
        except ValueError:
            chains = []
        if chains and set(train.models) == {m for c in chains for m in c}:
            return chains
    raise ValueError("chains: needed with cascades='chains' for a log that is not a bundled "
                     "pool (or use cascades='pareto' or 'all')")

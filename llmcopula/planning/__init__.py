"""Cascade, ensemble or single model for a cost budget.

A user with a pool of models and a budget per query can deploy one model, a cascade (cheap
models first, escalating when unsure) or an ensemble (several models on every query, their
answers aggregated). :func:`plan_budget` compares the three on the same logs under the same
budgets: each family's candidates are judged by their predictions from training data
(:mod:`~llmcopula.planning.candidates`), the budget rule picks each family's best
(:func:`best_under_budget`), and a labelled test log shows what each choice realises.
``docs/planning.md`` describes the protocol; ``llmcopula plan`` is the command line.

This package sits above the methods it compares (:mod:`llmcopula.cascade` and
:mod:`llmcopula.selection`), which stay independent of each other.
"""

from llmcopula.planning.candidates import (
    CASCADE_SETS,
    Candidates,
    cascade_candidates,
    cascade_candidates_of,
    ensemble_candidates,
    order_by_cost,
    single_candidates,
)
from llmcopula.planning.choice import best_under_budget
from llmcopula.planning.plan import FAMILIES, BudgetPlan, plan_budget, shipped_chains
from llmcopula.planning.plotting import plot_plan

__all__ = [
    "CASCADE_SETS",
    "FAMILIES",
    "BudgetPlan",
    "Candidates",
    "best_under_budget",
    "cascade_candidates",
    "cascade_candidates_of",
    "ensemble_candidates",
    "order_by_cost",
    "plan_budget",
    "plot_plan",
    "shipped_chains",
    "single_candidates",
]

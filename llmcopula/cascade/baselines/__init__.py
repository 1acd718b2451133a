"""Baselines for cascade threshold tuning, judged with the same routing and scoring code as the
Markov-copula tuner: the paper's grid search, Gaussian-process Bayesian optimisation, and the
hindsight oracle (the limit no tuner can pass)."""

from ._empirical import pareto_mask_fast, score_thresholds
from .bayesopt import Minimizer, RandomSearch, SkoptGP, bayes_opt, quantile_thresholds
from .grid import GRID_QUANTILES, grid_scores, grid_search
from .oracle import oracle_frontier

__all__ = [
    "grid_search", "grid_scores", "GRID_QUANTILES",
    "bayes_opt", "Minimizer", "SkoptGP", "RandomSearch", "quantile_thresholds",
    "oracle_frontier", "score_thresholds", "pareto_mask_fast",
]

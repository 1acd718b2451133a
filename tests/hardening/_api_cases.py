"""Valid calls of the public functions of ``copulas``, ``cascade``, ``selection``, ``ranking`` and
``fusion``, from which the mutation catalogue derives bad ones (see ``test_error_catalogue.py``).

Each template is ``(name, function, args, kwargs)`` and must run as it is; every array-valued
argument is then corrupted one way at a time (a NaN, an infinity, emptied, a wrong shape).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import numpy as np


#: Evaluating a vectorised function at no points returns no values: valid.
_AT_NO_POINTS = {"u": ("empty",)}
#: Discrete answers and labels: any non-NaN value is a category (infinity included).
_CATEGORIES = {"X": ("inf",), "y": ("inf",), "Z": ("inf",)}


@dataclass(frozen=True)
class Template:
    name: str
    function: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: argument -> mutations that are valid input by the function's documented contract
    accepts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: argument -> the name its messages use instead (the option it stands for, such as
    #: ``aggregator`` for ``make_aggregator(name)``, which the command line maps to its flag)
    says: dict[str, str] = field(default_factory=dict)


def _arg_names(t: Template) -> list[str]:
    import inspect

    params = list(inspect.signature(t.function).parameters)
    return params[:len(t.args)] + list(t.kwargs)


@cache
def _chain_fixtures() -> dict[str, Any]:
    from llmcopula.cascade import MarkovCopulaModel
    from llmcopula.datasets import load_benchmark

    train = load_benchmark("mmlu", "llama", split="train").take(np.arange(120))
    model = MarkovCopulaModel().fit(train)
    return {"train": train, "model": model}


def templates() -> list[Template]:
    from llmcopula import cascade, copulas, fusion, ranking, selection

    rng = np.random.default_rng(0)
    u = copulas.GaussianCopula(0.5).sample(60, rng=1)
    X = rng.integers(0, 2, size=(80, 3))
    y = (X.sum(axis=1) >= 2).astype(int)
    X_str = np.where(X == 1, "A", "B")
    y_str = np.where(y == 1, "A", "B")
    corr = np.array([[1.0, 0.3, 0.2], [0.3, 1.0, 0.25], [0.2, 0.25, 1.0]])
    M = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 0.5], [-2.0, -0.5, 0.0]])
    T = np.eye(3)
    logits = np.log(np.array([[0.2, 0.3, 0.5]]))
    target = np.array([[0.3, 0.3, 0.4]])
    emb = rng.normal(size=(6, 4))
    cas = _chain_fixtures()
    t: list[Template] = [
        # copulas
        Template("copulas.fit_copula", copulas.fit_copula, (u, "gaussian")),
        Template("copulas.fit_copula[method]", copulas.fit_copula, (u, "frank"),
                 {"method": "itau"}),
        Template("copulas.select_copula", copulas.select_copula, (u,),
                 {"families": ("gaussian", "frank")}),
        Template("copulas.select_copula[criterion]", copulas.select_copula, (u,),
                 {"families": ("gaussian", "frank"), "criterion": "bic"}),
        Template("copulas.pseudo_observations", copulas.pseudo_observations, (u,)),
        Template("copulas.nearest_correlation", copulas.nearest_correlation, (corr,)),
        Template("copulas.make_copula", copulas.make_copula, ("gaussian", [0.5])),
        Template("copulas.GaussianCopula.cdf", copulas.GaussianCopula(0.5).cdf, (u,),
                 accepts=_AT_NO_POINTS),
        Template("copulas.StudentTCopula.logpdf", copulas.StudentTCopula(0.5, 4).logpdf, (u,),
                 accepts=_AT_NO_POINTS),
        Template("copulas.GumbelCopula.hfunc1", copulas.GumbelCopula(2.0).hfunc1, (u,),
                 accepts=_AT_NO_POINTS),
        Template("copulas.ClaytonCopula.hinv1", copulas.ClaytonCopula(2.0).hinv1, (u,),
                 accepts=_AT_NO_POINTS),
        Template("copulas.FrankCopula.pdf", copulas.FrankCopula(3.0).pdf, (u,),
                 accepts=_AT_NO_POINTS),
        Template("copulas.MultivariateGaussianCopula.logpdf",
                 copulas.MultivariateGaussianCopula(corr).logpdf,
                 (copulas.MultivariateGaussianCopula(corr).sample(20, rng=0),),
                 accepts={"u": ("empty",)}),
        Template("copulas.EmpiricalBetaCopula.from_data", copulas.EmpiricalBetaCopula.from_data,
                 (u,), accepts={"x": ("inf",)}),  # rank-based: an infinite value has a rank
        Template("copulas.MultivariateGaussianCopula.fit", copulas.MultivariateGaussianCopula.fit,
                 (copulas.MultivariateGaussianCopula(corr).sample(30, rng=0),)),
        # cascade
        Template("cascade.default_lambdas", cascade.default_lambdas,
                 (np.array([1.0, 10.0, 100.0]),)),
        Template("cascade.pareto_mask", cascade.pareto_mask,
                 (np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.7, 0.6])),
                 accepts={"cost": ("inf",), "accuracy": ("inf",)}),  # ordered, NaN refused
        Template("cascade.route", cascade.route,
                 (np.array([[0.2, 0.9], [0.8, 0.1]]), np.array([0.5])),
                 # raw signals may be -inf, an infinite threshold never accepts; no queries: ok
                 accepts={"confidence": ("inf", "empty"), "thresholds": ("inf",)}),
        Template("cascade.error_cost_area", cascade.error_cost_area,
                 (np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.6, 0.7]),
                  np.array([1.0, 2.5, 3.0]), np.array([0.5, 0.55, 0.7])),
                 accepts={a: ("ndim",) for a in ("cost_a", "accuracy_a", "cost_b",
                                                  "accuracy_b")}),  # documented: raveled
        Template("cascade.percent_change", cascade.percent_change,
                 (np.array([0.1, 0.2]), np.array([0.2, 0.25]))),
        Template("cascade.check_thresholds", cascade.check_thresholds,
                 (np.array([0.5, 0.6]), 3), accepts={"thresholds": ("inf",)}),
        Template("cascade.expected_calibration_error", cascade.expected_calibration_error,
                 (rng.uniform(size=50), rng.integers(0, 2, 50))),
        Template("cascade.score_cascade", cascade.score_cascade,
                 (cas["train"], (0, 4), np.array([[0.5]])),
                 accepts={"thresholds": ("inf", "empty")}),  # never accept; no points
        Template("cascade.tune", cascade.tune, (cas["model"], (0, 4)),
                 {"lambdas": np.array([0.0, 1e-3]), "rng": 0}),
        Template("cascade.PlattCalibrator.fit", cascade.PlattCalibrator().fit,
                 (-rng.uniform(0, 3, 60), rng.integers(0, 2, 60))),
        # selection
        Template("selection.bayes_error", selection.bayes_error,
                 (np.array([0.2, 0.3, 0.25]), corr)),
        Template("selection.effective_number_of_models", selection.effective_number_of_models,
                 (corr,)),
        Template("selection.equicorrelated_bayes_error", selection.equicorrelated_bayes_error,
                 (5, 0.3, 0.2)),
        Template("selection.equicorrelated_error_floor", selection.equicorrelated_error_floor,
                 (0.3, 0.2)),
        Template("selection.error_pattern_probabilities", selection.error_pattern_probabilities,
                 (np.array([0.2, 0.3, 0.25]), corr)),
        Template("selection.fano_lower_bound", selection.fano_lower_bound, (0.3, 0.2)),
        Template("selection.information_limit", selection.information_limit, (0.3, 0.2)),
        Template("selection.majority_vote_error", selection.majority_vote_error, (5, 0.3, 0.2)),
        Template("selection.entropy", selection.entropy, (X,)),
        Template("selection.mutual_information", selection.mutual_information, (X, y)),
        Template("selection.conditional_mutual_information",
                 selection.conditional_mutual_information, (X[:, :1], y, X[:, 1:])),
        Template("selection.mi_bootstrap_ci", selection.mi_bootstrap_ci, (X, y),
                 {"n_boot": 20, "rng": 0}),
        Template("selection.greedy_mi_selection", selection.greedy_mi_selection, (X, y),
                 {"k": 2}),
        Template("selection.exhaustive_selection", selection.exhaustive_selection, (X, y),
                 {"k": 2}),
        Template("selection.top_k_selection", selection.top_k_selection, (X, y), {"k": 2}),
        Template("selection.select_models", selection.select_models, (X, y),
                 {"k": 2, "costs": np.array([1.0, 2.0, 3.0])}),
        Template("selection.MajorityVote.fit", selection.MajorityVote().fit, (X_str, y_str)),
        Template("selection.DawidSkene.fit", selection.DawidSkene().fit, (X_str,)),
        Template("selection.CorrelatedErrorModel.fit", selection.CorrelatedErrorModel().fit,
                 (X_str, y_str)),
        # ranking
        Template("ranking.maxlogits_scores", ranking.maxlogits_scores, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.maxwins_scores", ranking.maxwins_scores, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.ranks_from_scores", ranking.ranks_from_scores,
                 (np.array([0.5, 2.0, 0.1]),), accepts={"scores": ("ndim",)}),  # stacks ok
        Template("ranking.topk_from_scores", ranking.topk_from_scores,
                 (np.array([0.5, 2.0, 0.1]), 2), accepts={"scores": ("ndim",)}),
        Template("ranking.kendall_tau", ranking.kendall_tau,
                 (np.array([0.5, 2.0, 0.1, 1.0]), np.array([1.0, 3.0, 0.0, 2.0]))),
        Template("ranking.symmetrize", ranking.symmetrize, (M,), accepts={"M": ("nan",)}),
        Template("ranking.order_swap_consistency", ranking.order_swap_consistency, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.intransitivity", ranking.intransitivity, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.reference_rewards", ranking.reference_rewards, (M, 0),
                 accepts={"M": ("nan",)}),
        Template("ranking.records_from_matrix", ranking.records_from_matrix, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.simulate_logits", ranking.simulate_logits,
                 (np.array([0.0, 1.0, 2.0]),), {"rng": 0}),
        Template("ranking.simulate_comparisons", ranking.simulate_comparisons,
                 (np.array([0.0, 1.0, 2.0]), np.array([0, 1]), np.array([1, 2])), {"rng": 0}),
        Template("ranking.davidson_probabilities", ranking.davidson_probabilities,
                 (np.array([0.0, 1.0, 2.0]), 0.0, 0.0, np.array([0, 1]), np.array([1, 2]))),
        Template("ranking.top_k_hit_rate", ranking.top_k_hit_rate,
                 (np.array([0, 2]), np.array([[1, 2, 3], [3, 1, 2]])), {"k": 2}),
        Template("ranking.versus_baseline", ranking.versus_baseline,
                 (np.array([0.5, 0.7]), np.array([0.4, 0.8]))),
        Template("ranking.BradleyTerry.fit", ranking.BradleyTerry().fit,
                 (np.array([0, 1, 2, 0]), np.array([1, 2, 0, 2]), np.array([1.0, 0.0, 1.0, 0.5]))),
        # fusion
        Template("fusion.aggregate", fusion.aggregate, ([target[0], target[0]],),
                 {"weights": np.array([0.5, 0.5])}),
        Template("fusion.check_weights", fusion.check_weights, (np.array([0.5, 0.5]), 2)),
        Template("fusion.to_relative", fusion.to_relative, (target, T),
                 accepts={"p": ("empty",)}),  # no rows in, no rows out
        Template("fusion.relative_kl", fusion.relative_kl, (logits, T, target)),
        Template("fusion.inverse_mirror", fusion.inverse_mirror, (logits, T, target)),
        Template("fusion.inverse_adamw", fusion.inverse_adamw, (logits, T, target)),
        Template("fusion.relative_representation", fusion.relative_representation,
                 (emb, np.array([0, 1, 2]))),
        Template("fusion.transfer_matrix", fusion.transfer_matrix, (emb, np.array([0, 1, 2]))),
        Template("fusion.fuse_logits", fusion.fuse_logits, ([logits[0], logits[0]], [T, T])),
        # more of each package
        Template("copulas.fit_pair_copula", copulas.fit_pair_copula,
                 (copulas.UniformIntervals(u[:, 0] * 0.9, u[:, 0] * 0.9 + 0.1),
                  copulas.UniformIntervals(u[:, 1] * 0.9, u[:, 1] * 0.9 + 0.1)),
                 {"family": "frank"}),
        Template("copulas.get_family", copulas.get_family, ("clayton",)),
        Template("copulas.family_info", copulas.family_info, ("clayton",)),
        Template("copulas.UniformIntervals", copulas.UniformIntervals,
                 (np.array([0.1, 0.2, 0.5]), np.array([0.2, 0.4, 0.9]))),
        Template("cascade.all_cascades", cascade.all_cascades, (4,)),
        Template("cascade.check_cascade", cascade.check_cascade, ((0, 2), 4)),
        Template("cascade.ConfidenceMarginal.fit", cascade.ConfidenceMarginal().fit,
                 (rng.beta(5, 2, 80),)),
        Template("cascade.EmpiricalMarginal.fit", cascade.EmpiricalMarginal().fit,
                 (rng.beta(5, 2, 80),)),
        Template("selection.mi_decomposition", selection.mi_decomposition, (X, y),
                 {"candidate": 2, "selected": [0, 1]}, accepts=_CATEGORIES),
        Template("selection.permutation_null_threshold", selection.permutation_null_threshold,
                 (X, y), {"candidate": 2, "selected": [0], "n_perm": 10, "rng": 0},
                 accepts=_CATEGORIES),
        Template("selection.mrmr_selection", selection.mrmr_selection, (X, y), {"k": 2},
                 accepts=_CATEGORIES),
        Template("selection.term12_selection", selection.term12_selection, (X, y), {"k": 2},
                 accepts=_CATEGORIES),
        Template("selection.random_selection", selection.random_selection, (X, y),
                 {"k": 2, "rng": 0}, accepts=_CATEGORIES),
        Template("selection.WeightedMajorityVote.fit", selection.WeightedMajorityVote().fit,
                 (X_str, y_str)),
        Template("selection.MAPAggregator.fit", selection.MAPAggregator().fit, (X_str, y_str)),
        Template("selection.predict_ensemble", selection.predict_ensemble,
                 (X_str, y_str, selection.MajorityVote().fit(X_str, y_str)),
                 {"n_boot": 5, "rng": 0}),
        Template("ranking.select_top_k", ranking.select_top_k,
                 (["a", "b", "c"], np.array([0.5, 2.0, 0.1]), 2)),
        Template("ranking.oracle_win_ranks", ranking.oracle_win_ranks,
                 (np.array([[[0, 1, 1], [0, 0, 0.5], [0, 0.5, 0]]]),)),
        Template("ranking.mean_oracle_rank", ranking.mean_oracle_rank,
                 (np.array([0, 2]), np.array([[[0, 1, 1], [0, 0, 1], [0, 0, 0]]] * 2))),
        Template("ranking.filter_swap_consistent", ranking.filter_swap_consistent, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.check_budget", ranking.check_budget, (3, 3)),
        Template("ranking.all_pairs", ranking.all_pairs, (4,)),
        Template("ranking.max_cyclic_triads", ranking.max_cyclic_triads, (5,)),
        Template("ranking.bubble_comparisons", ranking.bubble_comparisons, (5, 2)),
        Template("fusion.relative_kl_grad", fusion.relative_kl_grad, (logits, T, target)),
        Template("fusion.inverse_lbfgs", fusion.inverse_lbfgs, (logits, T, target)),
        Template("fusion.relative_distributions", fusion.relative_distributions,
                 ([logits[0], logits[0]], [T, T])),
        Template("fusion.simplex_grid", fusion.simplex_grid, (2, 2)),
        Template("fusion.transfer_conditioning", fusion.transfer_conditioning,
                 (np.eye(3), np.array([0, 1, 2]))),
        Template("fusion.anchor_consistency", fusion.anchor_consistency,
                 ([emb, emb], [np.array([0, 1, 2]), np.array([0, 1, 2])])),
        Template("fusion.fit_fusion_weights", fusion.fit_fusion_weights,
                 ([np.zeros((4, 3)), np.log(np.full((4, 3), 0.05) + 0.85 * np.eye(3)[[0, 1, 2, 0]])],
                  np.array([0, 1, 2, 0]), [T, T]), {"method": "lbfgs"}),
    ]
    t += _estimator_templates(cas, X, y, X_str, y_str, M, T, logits, target)
    categorical = ("entropy", "mutual_information", "conditional_mutual_information",
                   "mi_bootstrap_ci", "greedy_mi_selection", "exhaustive_selection",
                   "top_k_selection", "select_models")
    return [replace(x, accepts=_CATEGORIES) if x.name.split(".")[-1] in categorical else x
            for x in t]


# Options of estimators and option objects, set through their constructor and used by a fit: a
# bad value must fail by the time the fit returns, naming the option.
def _fit_markov(log: Any, *, n_cells: int = 32, min_atom_count: int = 2,
                max_components: int = 3, family: str = "gumbel", transform: str = "auto",
                approximation: str = "exact") -> Any:
    from llmcopula.cascade import MarkovCopulaModel

    model = MarkovCopulaModel(n_cells=n_cells, min_atom_count=min_atom_count,
                              max_components=max_components, family=family,
                              transform=transform, approximation=approximation).fit(log)
    return model.predict(np.array([0.5]), (0, 4))  # the pair copula is fitted here


def _fit_empirical(log: Any, *, transform: str = "auto", target: str = "correct") -> Any:
    from llmcopula.cascade import EmpiricalCopulaModel

    return EmpiricalCopulaModel(transform=transform, target=target).fit(log)


def _method_options(*, lambdas: Any = None, budgets: Any = None, n_lambdas: int = 30,
                    n_calls: Any = None, family: str = "gumbel", approximation: str = "exact",
                    acq_optimizer: str = "auto") -> Any:
    from llmcopula.cascade.methods import MethodOptions

    return MethodOptions(lambdas=lambdas, budgets=budgets, n_lambdas=n_lambdas, n_calls=n_calls,
                         family=family, approximation=approximation, acq_optimizer=acq_optimizer)


def _deepen(*, tau: float = 100.0, lr: float = 0.15, n_steps: int = 5, main: int = 0,
            weights: Any = "uniform", method: str = "adamw") -> Any:
    from llmcopula.fusion import DeePEnFusion

    return DeePEnFusion(tau=tau, lr=lr, n_steps=n_steps, main=main, weights=weights,
                        method=method).fit(_fusion_models())


@cache
def _fusion_models() -> list[Any]:
    from llmcopula.fusion import FunctionLanguageModel

    vocab = ["a", "b", "c", "d"]
    emb = np.random.default_rng(0).normal(size=(4, 3))
    return [FunctionLanguageModel(vocab, emb, lambda text: np.log(np.full(4, 0.25)))] * 2


def _copula_information(X: Any, y: Any, *, n_draws: int = 4096,
                        continuity_correction: float = 0.5,
                        wrong_answers: str = "shared-distractor",
                        error_patterns: str = "qmc") -> Any:
    from llmcopula.selection import CopulaInformation

    return CopulaInformation(n_draws=n_draws, continuity_correction=continuity_correction,
                             wrong_answers=wrong_answers, error_patterns=error_patterns,
                             rng=0).fit(X, y)


#: An infinite threshold never accepts; no threshold vectors give no predictions.
_NO_THRESHOLDS = {"thresholds": ("inf", "empty")}


def _estimator_templates(cas: dict[str, Any], X: Any, y: Any, X_str: Any, y_str: Any, M: Any,
                         T: Any, logits: Any, target: Any) -> list[Template]:
    from llmcopula import cascade, fusion, ranking, selection

    model = cas["model"]
    frontier = cascade.tune(model, (0, 4), lambdas=np.array([0.0, 1e-3, 1e-2]), rng=0)
    return [
        Template("cascade.MarkovCopulaModel.fit", _fit_markov, (cas["train"],),
                 {"n_cells": 16, "min_atom_count": 2, "max_components": 2, "family": "frank",
                  "transform": "auto", "approximation": "exact"}),
        Template("cascade.EmpiricalCopulaModel.fit", _fit_empirical, (cas["train"],),
                 {"transform": "auto", "target": "correct"}),
        Template("cascade.get_transform", cascade.get_transform, ("auto", "logprob"),
                 says={"name": "transform"}),
        Template("cascade.MarkovCopulaModel.predict", model.predict,
                 (np.array([[0.5, 0.6]]), (0, 2, 4)), accepts=_NO_THRESHOLDS),
        Template("cascade.EmpiricalCopulaModel.predict",
                 cascade.EmpiricalCopulaModel().fit(cas["train"]).predict,
                 (np.array([[0.5]]), (0, 4)), accepts=_NO_THRESHOLDS),
        Template("cascade.methods.MethodOptions", _method_options, (),
                 {"lambdas": np.array([0.0, 1e-3]), "budgets": np.array([10.0, 20.0]),
                  "n_lambdas": 5, "n_calls": 10, "family": "gumbel", "approximation": "exact",
                  "acq_optimizer": "auto"}),
        Template("cascade.select_point", cascade.select_point, (frontier,),
                 {"target_accuracy": 0.6}),
        Template("cascade.select_point[budget]", cascade.select_point, (frontier,),
                 {"budget": 100.0}),
        Template("cascade.select_point[max_share]", cascade.select_point, (frontier,),
                 {"max_share": 0.5}),
        Template("cascade.frontier_intervals", cascade.frontier_intervals,
                 (frontier, cas["train"]), {"model": model, "level": 0.9, "n_resamples": 5,
                                            "rng": 0, "n_jobs": 1},
                 accepts={"n_jobs": ("negative",)}),  # joblib: -1 is every core
        Template("cascade.learn_then_test", cascade.learn_then_test,
                 ("empirical-copula", cas["train"], (0, 4)),
                 {"target_accuracy": 0.5, "confidence_level": 0.8, "holdout": 0.5, "rng": 0}),
        Template("selection.term1_selection", selection.term1_selection, (X, y), {"k": 2},
                 accepts=_CATEGORIES),
        Template("selection.CopulaBayesAggregator.fit",
                 selection.CopulaBayesAggregator(rng=0).fit, (X_str, y_str)),
        Template("selection.CopulaInformation.fit", _copula_information, (X, y),
                 {"n_draws": 4096, "continuity_correction": 0.5,
                  "wrong_answers": "shared-distractor", "error_patterns": "qmc"},
                 accepts=_CATEGORIES),
        Template("selection.make_aggregator", selection.make_aggregator, ("map",),
                 says={"name": "aggregator"}),
        Template("selection.greedy_mi_selection[estimator]", selection.greedy_mi_selection,
                 (X, y), {"k": 2, "estimator": "miller-madow"}, accepts=_CATEGORIES),
        Template("selection.select_models[method]", selection.select_models, (X, y),
                 {"k": 2, "method": "top-k"}, accepts=_CATEGORIES),
        Template("ranking.PairwiseMatrix", ranking.PairwiseMatrix, (M,),
                 accepts={"logits": ("nan",)}),  # NaN: a pair not queried
        Template("ranking.MatrixComparator", ranking.MatrixComparator, (M,),
                 accepts={"M": ("nan",)}),
        Template("ranking.bubble_select", ranking.bubble_select,
                 (lambda i, j: float(i - j), 4), {"runs": 2, "rng": 0, "ties": "incumbent"}),
        Template("ranking.active_rank", ranking.active_rank,
                 (ranking.MatrixComparator(M), None, [0, 1, 2]),
                 {"budget": 3, "n_draws": 64, "alpha": 1.0, "tie_margin": 0.0, "rng": 0,
                  "strategy": "uncertainty", "outcome": "sign"}),
        Template("ranking.rank_and_fuse", ranking.rank_and_fuse,
                 (ranking.MatrixComparator(M), None, [0, 1, 2]), {"k": 2, "method": "maxwins"}),
        Template("fusion.inverse_search", __import__("llmcopula.fusion").fusion.inverse_search,
                 (logits, T, target), {"method": "mirror"}),
        Template("fusion.anchor_mass", fusion.anchor_mass, (logits, np.array([0, 2])),
                 accepts={"logits": ("empty",)}),  # no rows in, no rows out
        Template("fusion.check_transfer", fusion.check_transfer, (T,)),
        Template("fusion.coverage_advice", fusion.coverage_advice,
                 (np.array([0.9, 0.2]), 0, 0.5)),
        Template("fusion.fuse_relative", fusion.fuse_relative, (logits, [target, target], T)),
        Template("selection.choose_aggregator", selection.choose_aggregator, (X_str, y_str),
                 {"n_splits": 2, "n_repeats": 1, "rng": 0}),
        Template("selection.auto_selection", selection.auto_selection, (X_str, y_str),
                 {"k": 2, "n_splits": 2, "n_repeats": 1, "rng": 0, "warn_sparse": False}),
        Template("fusion.DeePEnFusion.fit", _deepen, (),
                 {"tau": 100.0, "lr": 0.15, "n_steps": 5, "main": 0, "weights": "uniform",
                  "method": "lbfgs"}),
    ]


# ------------------------------------------------------------------------------ the mutations
@dataclass(frozen=True)
class Case:
    template: Template
    argument: str
    mutation: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.template.name}[{self.argument}={self.mutation}]"


def _mutations(value: Any) -> Iterator[tuple[str, Any]]:
    """Ways to corrupt one argument: a NaN, an infinity, emptied, one axis too many; a negative
    integer for an integer option; an unknown name for a named choice; the first array of a
    list of arrays, or an empty list."""
    if isinstance(value, list) and value and all(isinstance(a, np.ndarray) for a in value):
        for name, bad in _mutations(value[0]):
            yield name, [bad] + value[1:]
        yield "empty-list", []
        return
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        yield "negative", -1
        return
    if isinstance(value, str):  # a choice among named options
        yield "unknown", "nope"
        return
    if isinstance(value, float):
        yield "nan", np.nan
        yield "inf", np.inf
        return
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "iuf":
        return
    a = value.astype(np.float64)
    at = min(1, a.size - 1)  # off the diagonal of a square matrix
    for name, bad_value in (("nan", np.nan), ("inf", np.inf)):
        b = a.copy()
        b.flat[at] = bad_value
        yield name, b
    yield "empty", a[:0]
    yield "ndim", a[..., None] if a.ndim >= 2 else a[None, None]


def cases() -> list[Case]:
    out = []
    for t in templates():
        names = _arg_names(t)
        values = list(t.args) + list(t.kwargs.values())
        for i, (arg, value) in enumerate(zip(names, values)):
            for mutation, bad in _mutations(value):
                new = list(values)
                new[i] = bad
                out.append(Case(t, arg, mutation, tuple(new[:len(t.args)]),
                                dict(zip(t.kwargs, new[len(t.args):]))))
    return out


def run_case(case: Case) -> tuple[str, str]:
    """(kind, detail): ``clear`` (a ValueError naming the argument), ``accepted`` (valid by the
    function's documented contract, and it ran), ``unclear`` (a ValueError that does not name
    the argument), ``traceback`` (another exception), ``silent`` (it ran)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case.template.function(*case.args, **case.kwargs)
        except ValueError as exc:
            word = case.template.says.get(case.argument, case.argument)
            named = re.search(rf"(?<![\w.]){re.escape(word)}\b", str(exc))
            return ("clear" if named else "unclear"), str(exc)
        except Exception as exc:  # noqa: BLE001 - the point is to see it
            return "traceback", f"{type(exc).__name__}: {exc}"
    if case.mutation in case.template.accepts.get(case.argument, ()):
        return "accepted", ""
    return "silent", ""


#: Public callables of the five packages that the mutation catalogue does not call, and why.
#: A new public function or class must either get a template above or a line here.
NOT_MUTATED: dict[str, str] = {
    **dict.fromkeys((
        "copulas.CopulaFit", "copulas.PairCopulaFit", "copulas.CopulaFamily",
        "cascade.CascadePrediction", "cascade.CascadeEvaluation", "cascade.Frontier",
        "cascade.PairCopulaFit", "cascade.FrontierIntervals", "cascade.GuaranteedChoice",
        "cascade.Selection", "selection.Simulation", "selection.BootstrapInterval",
        "selection.MIDecomposition", "selection.EnsemblePrediction", "selection.SelectionResult",
        "selection.SelectionStep", "ranking.ActiveResult", "ranking.BlendResult",
        "ranking.BubbleResult", "ranking.IntransitivityReport", "ranking.OrderSwapReport",
        "ranking.TopK", "ranking.VersusBaseline", "ranking.LoggedAnswer", "fusion.AnchorSet",
        "fusion.FusionDiagnostics", "fusion.FusionOutput", "fusion.GenerationResult",
        "fusion.InverseResult", "fusion.TransferConditioning", "fusion.WeightFit",
        "selection.AggregatorChoice", "selection.SetChoice"),
        "a result record: built by the functions that return it, from checked input"),
    **dict.fromkeys((
        "copulas.BivariateCopula", "cascade.CalibratedChainModel", "cascade.MarginalDistribution",
        "ranking.Comparator", "ranking.BatchComparator", "ranking.Fuser", "fusion.LanguageModel"),
        "an abstract base class or protocol: its concrete classes are in the catalogue"),
    "copulas.IndependenceCopula": "no parameter; its methods share the checks of the "
                                  "catalogued families (the copula base class)",
    "copulas.list_families": "no argument",
    "cascade.ErrorCostCurveDisplay": "plotting of a checked Frontier",
    "cascade.evaluate_frontier": "takes a Frontier and a ChainLog, both checked objects",
    "cascade.fit_pair_copula": "the copulas.fit_pair_copula of the catalogue, re-exported",
    "ranking.ComparisonSession": "wraps a Comparator; its budget checks are active_rank's",
    "ranking.agreement_judge": "a judge of two LoggedAnswer records",
    "ranking.confidence_judge": "a judge of two LoggedAnswer records",
    "ranking.first_fuser": "a fuser of a list of candidates (any objects)",
    "ranking.plurality_fuser": "a fuser of a list of candidates (any objects)",
    "ranking.logged_candidates": "reads a checked ChainLog",
    "ranking.calibrate_pool_confidence": "reads two checked ChainLogs",
    "fusion.FunctionLanguageModel": "wraps user callables; its output is checked where fused",
    "fusion.common_anchors": "token strings: any string is a token",
    "fusion.normalize_token": "one token string: any string is a token",
    "fusion.TokenPieces": "wraps a user tokenizer and a vocabulary of strings",
    "fusion.is_space_prefixed": "a vocabulary of strings",
    "fusion.longest_anchor_prefix": "strings and anchor token strings",
    "fusion.split_partial_word": "one prefix string",
    "fusion.shared_prefix_transfer": "token strings; its optional embeddings go through "
                                     "relative_representation (catalogued)",
    "fusion.word_start_relative": "strings, and logits checked as fuse_logits' (catalogued); "
                                  "not yet mutated here",
    "fusion.flip_rate": "reads FusionOutput records",
}


def public_callables() -> list[str]:
    """``package.name`` of every public function and class (warnings and errors aside) that
    ``copulas``, ``cascade``, ``selection``, ``ranking`` and ``fusion`` export."""
    import importlib
    import inspect

    out = []
    for package in ("copulas", "cascade", "selection", "ranking", "fusion"):
        module = importlib.import_module(f"llmcopula.{package}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            if callable(obj):
                out.append(f"{package}.{name}")
    return out

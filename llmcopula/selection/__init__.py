"""Ensemble selection for LLMs whose errors are correlated.

The layers, bottom up (``docs/selection.md`` explains the theory):

* :mod:`~llmcopula.selection.error_model` — :class:`CorrelatedErrorModel`, the Gaussian-copula
  model of which models err together (tetrachoric correlations), and its simulator;
* :mod:`~llmcopula.selection.floors` — what that model predicts: Bayes error of a given set, the
  error floor of an equicorrelated ensemble, the information limit I_∞ and Fano's bound;
* :mod:`~llmcopula.selection.information` — entropy and mutual-information estimators from
  contingency tables (plug-in, Miller–Madow), bootstrap intervals, a permutation null;
* :mod:`~llmcopula.selection.copula_information` — :class:`CopulaInformation`, the same
  quantities (and the Bayes error and any aggregator's accuracy) from the fitted model of the
  pool instead of sparse pattern counts (``estimator="gaussian-copula"``), and
  :func:`predict_ensemble`, the model's predictions for a chosen ensemble with intervals;
* the strategies — :func:`greedy_mi_selection` (budgeted greedy maximisation of I(Y; X_S),
  Turkmen, Buyukates and Bastopcu, arXiv:2602.08003), the baselines of
  :mod:`~llmcopula.selection.baselines`, the :func:`exhaustive_selection` oracle, and
  :func:`select_models` to call any of them by name, and :func:`auto_selection` (the default of
  ``llmcopula select``), which keeps the greedy-MI or the top-k set by cross-validation;
* :mod:`~llmcopula.selection.aggregation` — turning the selected models' answers into one answer
  (:class:`CopulaBayesAggregator`, :class:`MAPAggregator`, :class:`WeightedMajorityVote`,
  :class:`MajorityVote`, :class:`DawidSkene`), and :func:`choose_aggregator`, which picks one
  by cross-validation on the training answers.

Data functions take the predictions first and the labels second, ``f(X, y)``, as in
scikit-learn; the old ``f(y, X)`` order still works for one release with a
:class:`DeprecationWarning`.

Examples
--------
>>> import numpy as np
>>> from llmcopula.selection import MajorityVote, greedy_mi_selection
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 1000)
>>> X = np.where(rng.random((1000, 4)) < [0.1, 0.2, 0.3, 0.4], 1 - y[:, None], y[:, None])
>>> result = greedy_mi_selection(X, y, k=3)
>>> result.selected
(0, 1, 2)
>>> vote = MajorityVote().fit(X[:, list(result.selected)], y)
>>> round(vote.score(X[:, list(result.selected)], y), 2)
0.9
"""

from llmcopula.selection.aggregation import (
    AGGREGATORS,
    CopulaBayesAggregator,
    DawidSkene,
    MajorityVote,
    MAPAggregator,
    NoEvidenceWarning,
    WeightedMajorityVote,
    make_aggregator,
)
from llmcopula.selection.aggregator_choice import AggregatorChoice, choose_aggregator
from llmcopula.selection.baselines import (
    mrmr_selection,
    random_selection,
    term1_selection,
    term12_selection,
    top_k_selection,
)
from llmcopula.selection.copula_information import CopulaInformation
from llmcopula.selection.error_model import CorrelatedErrorModel, Simulation
from llmcopula.selection.exhaustive import exhaustive_selection
from llmcopula.selection.floors import (
    bayes_error,
    effective_number_of_models,
    equicorrelated_bayes_error,
    equicorrelated_error_floor,
    error_pattern_probabilities,
    fano_lower_bound,
    information_limit,
    majority_vote_error,
)
from llmcopula.selection.greedy import greedy_mi_selection
from llmcopula.selection.information import (
    BootstrapInterval,
    MIDecomposition,
    SparsePatternWarning,
    conditional_mutual_information,
    entropy,
    mi_bootstrap_ci,
    mi_decomposition,
    mutual_information,
    permutation_null_threshold,
)
from llmcopula.selection.methods import SELECTION_METHODS, select_models
from llmcopula.selection.prediction import EnsemblePrediction, predict_ensemble
from llmcopula.selection.result import SelectionResult, SelectionStep
from llmcopula.selection.set_choice import SetChoice, auto_selection

__all__ = [
    # correlated-error model and floors
    "CorrelatedErrorModel",
    "Simulation",
    "bayes_error",
    "effective_number_of_models",
    "equicorrelated_bayes_error",
    "equicorrelated_error_floor",
    "error_pattern_probabilities",
    "fano_lower_bound",
    "information_limit",
    "majority_vote_error",
    # information estimators
    "BootstrapInterval",
    "MIDecomposition",
    "SparsePatternWarning",
    "conditional_mutual_information",
    "entropy",
    "mi_bootstrap_ci",
    "mi_decomposition",
    "mutual_information",
    "permutation_null_threshold",
    # model-based information and predictions
    "CopulaInformation",
    "EnsemblePrediction",
    "predict_ensemble",
    # selection strategies
    "SELECTION_METHODS",
    "SelectionResult",
    "SelectionStep",
    "SetChoice",
    "auto_selection",
    "exhaustive_selection",
    "greedy_mi_selection",
    "mrmr_selection",
    "random_selection",
    "select_models",
    "term1_selection",
    "term12_selection",
    "top_k_selection",
    # aggregators
    "AGGREGATORS",
    "CopulaBayesAggregator",
    "DawidSkene",
    "MAPAggregator",
    "NoEvidenceWarning",
    "MajorityVote",
    "WeightedMajorityVote",
    "make_aggregator",
    "AggregatorChoice",
    "choose_aggregator",
]

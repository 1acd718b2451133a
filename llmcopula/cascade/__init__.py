"""LLM cascades: models of a chain's calibrated confidences, threshold tuning along the
error–cost frontier, offline evaluation, and the baselines (:mod:`llmcopula.cascade.baselines`).

Pipeline (Zellinger & Thomson, arXiv 2501.09345; ``docs/cascade-model.md``)::

    ChainLog(train) → PlattCalibrator per model (llmcopula.calibration)
        → MarkovCopulaModel: ConfidenceMarginal per model, pair copulas (fitted lazily)
        → or EmpiricalCopulaModel: empirical beta copula, no Markov assumption
        → tune → Frontier
    Frontier + ChainLog(test) → evaluate_frontier → error_cost_area

Both models derive from :class:`CalibratedChainModel`, the contract the tuner relies on; the
routing rule (ties defer) and the Pareto filter live in one place, :mod:`.routing`.
"""

from ..calibration import PlattCalibrator, expected_calibration_error, get_transform
from ..copulas import PairCopulaFit, fit_pair_copula
from .base import CalibratedChainModel, MarginalDistribution
from .cascades import all_cascades, check_cascade, check_thresholds
from .empirical_marginal import EmpiricalMarginal
from .empirical_model import EmpiricalCopulaModel
from .evaluation import error_cost_area, evaluate_frontier, percent_change, score_cascade
from .choose import Selection, select_point
from .frontier import Frontier, FrontierIntervals
from .guarantee import GuaranteedChoice, learn_then_test
from .intervals import frontier_intervals
from .marginals import ConfidenceMarginal
from .model import MarkovCopulaModel
from .plotting import ErrorCostCurveDisplay
from .prediction import CascadeEvaluation, CascadePrediction
from .routing import pareto_mask, route
from .tuning import default_lambdas, tune

__all__ = [
    "CalibratedChainModel",
    "MarginalDistribution",
    "MarkovCopulaModel",
    "EmpiricalCopulaModel",
    "CascadePrediction",
    "CascadeEvaluation",
    "ConfidenceMarginal",
    "EmpiricalMarginal",
    "tune",
    "default_lambdas",
    "Frontier",
    "FrontierIntervals",
    "frontier_intervals",
    "Selection",
    "select_point",
    "learn_then_test",
    "GuaranteedChoice",
    "ErrorCostCurveDisplay",
    "pareto_mask",
    "route",
    "score_cascade",
    "evaluate_frontier",
    "error_cost_area",
    "percent_change",
    "all_cascades",
    "check_cascade",
    "check_thresholds",
    # re-exported from the layers below (kept for code written against earlier releases)
    "PlattCalibrator",
    "expected_calibration_error",
    "get_transform",
    "PairCopulaFit",
    "fit_pair_copula",
]

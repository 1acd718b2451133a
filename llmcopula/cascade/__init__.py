"""LLM cascades: calibration, the Markov-copula model of sequential confidences, threshold
tuning along the error–cost frontier, and offline evaluation.

Pipeline (Zellinger & Thomson, arXiv 2501.09345)::

    ChainLog(train) → PlattCalibrator per model → ConfidenceMarginal per model
        → MarkovCopulaModel (pair copulas, fitted lazily) → tune → Frontier
    ChainLog(train) → EmpiricalCopulaModel (empirical beta copula, no Markov assumption)
        → tune → Frontier
    Frontier + ChainLog(test) → evaluate_frontier → error_cost_area
"""

from ..calibration import PlattCalibrator, expected_calibration_error, get_transform
from .cascades import all_cascades, check_cascade
from .empirical_marginal import EmpiricalMarginal
from .empirical_model import EmpiricalCopulaModel
from .evaluation import error_cost_area, evaluate_frontier, percent_change, route, score_cascade
from .frontier import Frontier, pareto_mask
from .marginals import ConfidenceMarginal
from .model import CascadePrediction, MarkovCopulaModel
from ..copulas import PairCopulaFit, fit_pair_copula
from .plotting import ErrorCostCurveDisplay
from .tuning import default_lambdas, tune

__all__ = [
    "PlattCalibrator",
    "expected_calibration_error",
    "get_transform",
    "ConfidenceMarginal",
    "MarkovCopulaModel",
    "CascadePrediction",
    "EmpiricalCopulaModel",
    "EmpiricalMarginal",
    "PairCopulaFit",
    "fit_pair_copula",
    "tune",
    "default_lambdas",
    "Frontier",
    "ErrorCostCurveDisplay",
    "pareto_mask",
    "route",
    "score_cascade",
    "evaluate_frontier",
    "error_cost_area",
    "percent_change",
    "all_cascades",
    "check_cascade",
]

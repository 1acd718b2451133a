"""A nonparametric model of a cascade: the empirical beta copula of all the chain's calibrated
confidences jointly, with each training query carrying its own labels and costs.

The Markov-copula model (:class:`~llmcopula.cascade.MarkovCopulaModel`) joins consecutive
models by parametric pair copulas and assumes that a model's confidence depends on earlier
ones only through its predecessor. On the shipped logs that assumption is what limits its
fidelity at depth (a query hard for one model is hard for all of them, which no chain of
adjacent pairs carries). This model makes no such assumption: the joint law of the k
confidences is the empirical beta copula (Segers, Sibuya & Tsukahara 2017) with the empirical
marginals of :class:`~llmcopula.cascade.EmpiricalMarginal`, a mixture of n product kernels,
one per training query. Under kernel i the stages defer independently, with probabilities
G_ij(s_j) = P(Bin(n, s_j) >= R_ij) (R_ij: the query's rank under model j), so

.. math::

    P(\\text{stage } j \\text{ answers}) = \\frac1n \\sum_i \\Big(\\prod_{l<j} G_{il}\\Big)
        (1 - G_{ij}), \\qquad
    P(\\text{correct}) = \\frac1n \\sum_i \\sum_j P_i(\\text{stage } j \\text{ answers})\\, y_{ij},

with y_ij the query's label for model j (``target="correct"``) or its calibrated confidence
(``target="confidence"``, the Markov model's convention), and the expected cost likewise from
each query's own costs. Everything is closed form and smooth in the thresholds, with exact
gradients; as the kernels shrink it becomes the empirical (training) accuracy and cost of the
routing rule — a smoothed empirical objective.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..copulas import EmpiricalBetaCopula
from ..datasets import ChainLog
from .base import CalibratedChainModel
from .cascades import check_cascade, check_thresholds
from .empirical_marginal import EmpiricalMarginal
from .prediction import CascadeEvaluation

__all__ = ["EmpiricalCopulaModel"]

FloatArray = NDArray[np.float64]

_TARGETS = ("correct", "confidence")
# Evaluations are chunked so that the (points × queries × stages) arrays stay near 32 MB.
_CHUNK_ELEMENTS = 4_000_000


class EmpiricalCopulaModel(CalibratedChainModel):
    """Empirical-beta-copula model of a chain of LLMs' calibrated confidences.

    Parameters
    ----------
    transform : {"auto", "one-sided", "two-sided", "identity"}, default "auto"
        Transform of the raw signal before Platt scaling (as in :class:`MarkovCopulaModel`).
    target : {"correct", "confidence"}, default "correct"
        What each training query contributes to the predicted accuracy when stage j answers
        it: its label for that model, or that model's calibrated confidence.
    calibration_slope : {"nonnegative", "free"}, default "nonnegative"
        Slope constraint of the Platt calibrators (as in :class:`MarkovCopulaModel`).

    Attributes
    ----------
    models_ : tuple of str
    costs_ : ndarray of shape (K,)
        Mean cost of one call of each model, USD per million queries.
    calibrators_ : list of PlattCalibrator
    marginals_ : list of EmpiricalMarginal
    copula_ : EmpiricalBetaCopula
        Copula of the K calibrated confidences.
    confidence_ : ndarray of shape (n, K)
        Calibrated training confidences.
    n_train_ : int

    Notes
    -----
    Use it when the training log has at least a few hundred queries: its predictions are then
    within a fraction of a point of the training routing statistics at every depth (see
    ``benchmarks/RESULTS.md``). With few queries its kernels are wide and it smooths more, but
    it cannot extrapolate beyond the training data as a parametric model can.
    ``approximation`` and ``n_cells`` of :meth:`evaluate_quantile` exist for interface
    compatibility with :class:`MarkovCopulaModel` and are ignored (there is no discretisation).

    References
    ----------
    J. Segers, M. Sibuya, H. Tsukahara (2017), The empirical beta copula, *Journal of
    Multivariate Analysis* 155, 35–51.

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> from llmcopula.cascade import EmpiricalCopulaModel
    >>> model = EmpiricalCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))
    >>> pred = model.predict([0.6, 0.7], cascade=(0, 2, 4))
    >>> bool(0 < pred.accuracy[0] < 1)
    True
    """

    method_name = "empirical-copula"
    _cost_from_training_routing = True

    def __init__(self, *, transform: str = "auto", target: str = "correct",
                 calibration_slope: str = "nonnegative") -> None:
        self.calibration_slope = calibration_slope
        self.transform = transform
        self.target = target

    def _check_options(self) -> None:
        if self.target not in _TARGETS:
            raise ValueError(f"target: expected one of {_TARGETS}, got {self.target!r}")

    def fit(self, log: ChainLog) -> EmpiricalCopulaModel:
        """Fit calibrators, empirical marginals and the empirical beta copula on ``log``."""
        return super().fit(log)  # type: ignore[return-value]

    def _fit_joint(self, log: ChainLog, confidence: FloatArray) -> None:
        self.marginals_ = [EmpiricalMarginal().fit(confidence[:, m]) for m in range(log.n_models)]
        self.copula_ = EmpiricalBetaCopula.from_data(confidence)
        self._payoff = (log.correct.astype(np.float64) if self.target == "correct"
                        else confidence)
        self._query_cost = log.cost * 1e6

    def evaluate_quantile(self, s: ArrayLike, cascade: Sequence[int] | None = None, *,
                          approximation: str | None = None, with_grad: bool = False,
                          n_cells: int | None = None) -> CascadeEvaluation:
        """Accuracy, cost and stage probabilities at uniform-scale thresholds ``s`` (B, k−1),
        optionally with their exact gradients (the tuner's objective)."""
        self._check_fitted()
        if approximation not in (None, "exact"):
            raise ValueError(f"approximation: {type(self).__name__} is exact; got "
                             f"{approximation!r}")
        cas = check_cascade(cascade, len(self.models_))
        s = np.clip(check_thresholds(s, len(cas), name="s"), 0.0, 1.0)
        k = len(cas)
        chunk = max(1, _CHUNK_ELEMENTS // (self.n_train_ * k))
        parts = [self._evaluate(s[a:a + chunk], cas, with_grad)
                 for a in range(0, max(s.shape[0], 1), chunk)] if s.shape[0] else [
                     self._evaluate(s, cas, with_grad)]
        return CascadeEvaluation.concatenate(parts)

    def _evaluate(self, s: FloatArray, cas: tuple[int, ...], with_grad: bool
                  ) -> CascadeEvaluation:
        k = len(cas)
        b, n = s.shape[0], self.n_train_
        y = self._payoff[:, cas]
        c = self._query_cost[:, cas]
        # defer[b, i, j]: P(stage j defers | query i's kernel); the last stage never defers.
        defer = np.zeros((b, n, k))
        dens = np.zeros((b, n, k)) if with_grad else None
        for j, m in enumerate(cas[:-1]):
            defer[:, :, j] = self.copula_.component_cdf(s[:, j], m)
            if with_grad:
                dens[:, :, j] = self.copula_.component_pdf(s[:, j], m)
        reach = np.ones((b, n, k))
        reach[:, :, 1:] = np.cumprod(defer[:, :, :-1], axis=2)
        stop = reach * (1.0 - defer)
        accuracy = np.einsum("bik,ik->b", stop, y) / n
        cost = np.einsum("bik,ik->b", reach, c) / n
        grad_acc = grad_cost = None
        if with_grad:
            grad_acc = np.zeros((b, k - 1))
            grad_cost = np.zeros((b, k - 1))
            for l in range(k - 1):
                # d reach_j / d s_l for j > l: the product over stages < j with factor l
                # replaced by its density (no division by a possibly zero G_il).
                factors = defer[:, :, :-1].copy()
                factors[:, :, l] = dens[:, :, l]
                dreach = np.zeros((b, n, k))
                dreach[:, :, l + 1:] = np.cumprod(factors, axis=2)[:, :, l:]
                dstop = dreach * (1.0 - defer)
                dstop[:, :, l] -= reach[:, :, l] * dens[:, :, l]
                grad_acc[:, l] = np.einsum("bik,ik->b", dstop, y) / n
                grad_cost[:, l] = np.einsum("bik,ik->b", dreach, c) / n
        return CascadeEvaluation(accuracy=accuracy, cost=cost,
                                 stage_probabilities=stop.mean(axis=1),
                                 grad_accuracy=grad_acc, grad_cost=grad_cost)

    def _sample_uniform(self, n: int, cascade: tuple[int, ...], rng: Any) -> FloatArray:
        """U from the empirical beta copula of all K models, restricted to the cascade."""
        return self.copula_.sample(n, rng=rng)[:, list(cascade)]

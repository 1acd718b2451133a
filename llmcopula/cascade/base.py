"""The contract of a calibrated chain model: the base class that every model of a chain's
calibrated confidences derives from, and the protocol of its marginals.

A calibrated chain model is fitted on a :class:`~llmcopula.datasets.ChainLog`. The shared part of
``fit`` calibrates each model's raw signal (one :class:`~llmcopula.calibration.PlattCalibrator`
per model) and records the mean costs; a subclass then models the joint law of the calibrated
confidences (``_fit_joint``) and evaluates a cascade at thresholds on the models' uniform scales
(:meth:`CalibratedChainModel.evaluate_quantile`). Everything else — the maps between calibrated
thresholds, uniform-scale thresholds and raw thresholds, ``predict`` and ``sample`` — is here,
and it is all the tuner (:func:`~llmcopula.cascade.tune`) relies on. See
``docs/cascade-model.md``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._deprecation import keyword_only_after
from .._estimator import BaseEstimator
from .._validation import check_is_fitted
from ..calibration import PlattCalibrator, calibrate, fit_calibrators, raw_thresholds
from ..calibration.rules import raw_rules
from ..datasets import ChainLog
from .cascades import check_cascade, check_thresholds
from .prediction import CascadeEvaluation, CascadePrediction
from .stage_costs import conditional_expected_cost, routed_stage_costs

__all__ = ["CalibratedChainModel", "MarginalDistribution", "fit_log_calibrators", "check_chain_model"]

FloatArray = NDArray[np.float64]


@runtime_checkable
class MarginalDistribution(Protocol):
    """The marginal law of one model's calibrated confidence Φ on [0, 1], as a chain model
    exposes it in ``marginals_``.

    ``cdf(x)``
        F(x) = P(Φ <= x), right-continuous, vectorised.
    ``ppf(u)``
        F⁻¹(u) = inf{x : F(x) >= u} for u in [0, 1], vectorised; exact at atoms.
    ``mean``
        E[Φ], the predicted accuracy of a model that answers every query (calibration).
    ``atoms_``, ``atom_masses_``
        Values Φ takes with positive probability, sorted, and their probabilities. On the
        uniform scale U = F(Φ) an atom a occupies the interval (F(a) − P(Φ = a), F(a)]: a
        threshold inside it cannot be realised by a deterministic rule on Φ.
    """

    atoms_: FloatArray
    atom_masses_: FloatArray

    def cdf(self, x: ArrayLike) -> FloatArray: ...

    def ppf(self, q: ArrayLike) -> FloatArray: ...

    @property
    def mean(self) -> float: ...


def fit_log_calibrators(log: ChainLog, transform: str, slope: str = "nonnegative"
                        ) -> tuple[list[PlattCalibrator], FloatArray]:
    """One Platt calibrator per model of ``log``, and the calibrated training confidences."""
    calibrators = fit_calibrators(log.confidence, log.correct, transform=transform,
                                  signal=log.signal, names=log.models, slope=slope)
    return calibrators, calibrate(calibrators, log.confidence)


class CalibratedChainModel(BaseEstimator, ABC):
    """Abstract base of the models of a chain's calibrated confidences.

    Subclasses set :attr:`method_name`, take a ``transform`` option (the raw-signal transform
    before Platt scaling) and implement ``_fit_joint`` and :meth:`evaluate_quantile`; they may
    override ``_ppf`` (a faster marginal inverse), ``_sample_uniform`` and
    :meth:`coarse_n_cells`.

    Attributes (after ``fit``)
    --------------------------
    models_ : tuple of str
        Chain models, in order.
    costs_ : ndarray of shape (K,)
        Mean cost of one call of each model on the training queries, USD per million queries.
    calibrators_ : list of PlattCalibrator
    marginals_ : list of MarginalDistribution
    confidence_ : ndarray of shape (n, K)
        Calibrated training confidences.
    n_train_ : int
    """

    #: The method name written into frontiers (``Frontier.method``).
    method_name: ClassVar[str] = ""

    transform: str

    # ----------------------------------------------------------------------------- fitting
    def fit(self, log: ChainLog) -> CalibratedChainModel:
        """Calibrate every model of ``log`` and fit the joint law of the calibrated
        confidences."""
        if not isinstance(log, ChainLog):
            raise ValueError(f"log: expected a ChainLog, got {type(log).__name__}")
        self._check_options()
        if log.n_queries < 2:
            raise ValueError(f"log: need at least 2 training queries, got {log.n_queries}")
        calibrators, confidence = fit_log_calibrators(
            log, self.transform, getattr(self, "calibration_slope", "nonnegative"))
        self._fit_joint(log, confidence)
        self.models_ = log.models
        self.costs_ = log.mean_cost * 1e6
        self.calibrators_ = calibrators
        self.confidence_ = confidence
        self.n_train_ = log.n_queries
        # the training rows, for the conditional stage costs of deployable rules (rule_cost)
        self._train_raw = log.confidence
        self._train_cost = log.cost * 1e6
        return self

    def _check_options(self) -> None:
        """Validate the constructor options (raise ``ValueError`` naming the option)."""

    @abstractmethod
    def _fit_joint(self, log: ChainLog, confidence: FloatArray) -> None:
        """Fit the joint law of the calibrated training confidences ``confidence`` (n, K);
        set ``marginals_`` and any private state."""

    def _check_fitted(self) -> None:
        check_is_fitted(self, "marginals_", hint="fit(log)")

    # ---------------------------------------------------------------------- the objective
    @abstractmethod
    def evaluate_quantile(self, s: ArrayLike, cascade: Sequence[int] | None = None, *,
                          approximation: str | None = None, with_grad: bool = False,
                          n_cells: int | None = None) -> CascadeEvaluation:
        """Accuracy, cost and stage probabilities at uniform-scale thresholds ``s`` (B, k − 1),
        optionally with their gradients: the objective the tuner optimises.

        Stage j defers on {U_j <= s_j}, with U_j = F_j(Φ_j) the model's uniform scale.
        ``approximation`` and ``n_cells`` are options of discretised models (see
        :meth:`coarse_n_cells`); other models ignore ``n_cells``.
        """

    #: Whether :meth:`rule_cost` weights the stage costs by the training log's own reach shares
    #: (a model that *is* its training rows) instead of the model's stage probabilities.
    _cost_from_training_routing: ClassVar[bool] = False

    def rule_cost(self, stage_probabilities: ArrayLike, directions: Sequence[str],
                  raw_thresholds: ArrayLike, cascade: Sequence[int] | None = None
                  ) -> FloatArray:
        """Predicted expected cost (USD per million queries) of deployable rules: the model's
        probability of reaching each stage times the mean cost of that stage's model over the
        training queries that reach it under the same rules
        (:mod:`llmcopula.cascade.stage_costs`), Σ_j P(reach j) · c̄_j.

        The tuner's objective uses each model's mean cost over all queries (Markov-copula) or
        the kernel-smoothed per-query costs (empirical-copula); this is what a frontier reports,
        because the queries a rule defers need not cost what an average query costs. The
        empirical-copula model weights c̄_j by the training log's own reach shares, so that its
        cost is exactly the routed cost of its training queries.

        Parameters
        ----------
        stage_probabilities : array_like of shape (P, k)
            The model's probability that each stage answers, at the rules.
        directions : sequence of {"above", "below"}, length k − 1
        raw_thresholds : array_like of shape (P, k − 1)
        cascade : sequence of int, optional
        """
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        prob = np.atleast_2d(np.asarray(stage_probabilities, dtype=np.float64))
        raw = (check_thresholds(raw_thresholds, len(cas), name="raw_thresholds")
               if len(cas) > 1 else np.zeros((prob.shape[0], 0)))
        if prob.shape != (raw.shape[0], len(cas)):
            raise ValueError(f"stage_probabilities: expected shape {(raw.shape[0], len(cas))}, "
                             f"got {prob.shape}")
        stage_cost, share = routed_stage_costs(self._train_raw[:, list(cas)],
                                               self._train_cost[:, list(cas)],
                                               tuple(directions), raw)
        if self._cost_from_training_routing:
            return np.einsum("pk,pk->p", share, stage_cost)
        return conditional_expected_cost(prob, stage_cost)

    def _rule_cost_calibrated(self, stage_probabilities: FloatArray, thresholds: FloatArray,
                              cascade: tuple[int, ...]) -> FloatArray:
        """:meth:`rule_cost` of the rules "Φ_j > t_j" given by calibrated thresholds, without
        computing their raw form: the exact raw threshold r_j of t_j is the extreme raw value
        the calibrator maps to <= t_j, so a training query passes "raw > r_j" (or "raw < r_j")
        exactly when its calibrated confidence exceeds t_j, and routing the calibrated training
        confidences gives the same stage costs (the tuner's budget solver calls this often,
        and the raw thresholds take a 64-step float bisection each)."""
        cas = list(cascade)
        stage_cost, share = routed_stage_costs(
            self.confidence_[:, cas], self._train_cost[:, cas], ("above",) * (len(cas) - 1),
            np.asarray(thresholds, dtype=np.float64))
        if self._cost_from_training_routing:
            return np.einsum("pk,pk->p", share, stage_cost)
        return conditional_expected_cost(np.atleast_2d(stage_probabilities), stage_cost)

    def coarse_n_cells(self) -> int | None:
        """The discretisation the tuner explores and optimises on (cells per threshold), or
        ``None`` when the model is not discretised (then the tuner uses the model as it is)."""
        return None

    # -------------------------------------------------------------------- threshold maps
    def calibrate(self, confidence: ArrayLike | ChainLog) -> FloatArray:
        """Calibrated confidences, shape (n, K), of raw signals (a ChainLog or an (n, K) array)."""
        self._check_fitted()
        raw = confidence.confidence if isinstance(confidence, ChainLog) else np.asarray(
            confidence, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(self.models_):
            raise ValueError(
                f"confidence: expected shape (n, {len(self.models_)}), got {raw.shape}"
            )
        return calibrate(self.calibrators_, raw)

    def to_quantile(self, thresholds: ArrayLike, cascade: Sequence[int] | None = None
                    ) -> FloatArray:
        """Map calibrated thresholds t_j to the uniform scale s_j = F_j(t_j) (Φ <= t iff U <= s)."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        t = check_thresholds(thresholds, len(cas))
        return np.column_stack(
            [np.clip(self.marginals_[m].cdf(t[:, j]), 0.0, 1.0) for j, m in enumerate(cas[:-1])]
        ) if len(cas) > 1 else np.empty((t.shape[0], 0))

    def from_quantile(self, s: ArrayLike, cascade: Sequence[int] | None = None) -> FloatArray:
        """Calibrated thresholds t_j = F_j⁻¹(s_j) for uniform-scale thresholds ``s``."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        s = check_thresholds(s, len(cas), name="s")
        if len(cas) == 1:
            return np.empty((s.shape[0], 0))
        return np.column_stack([self._ppf(m, np.clip(s[:, j], 0.0, 1.0))
                                for j, m in enumerate(cas[:-1])])

    def raw_thresholds(self, thresholds: ArrayLike, cascade: Sequence[int] | None = None
                       ) -> FloatArray:
        """Raw thresholds of the same decision rules (accept iff raw > r_j, or raw < r_j for a
        decreasing calibration: see :meth:`raw_rules` for the directions)."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        t = check_thresholds(thresholds, len(cas))
        return raw_thresholds([self.calibrators_[m] for m in cas[:-1]], t)

    def raw_rules(self, thresholds: ArrayLike, cascade: Sequence[int] | None = None
                  ) -> tuple[tuple[str, ...], FloatArray]:
        """The deployable form of "accept iff Φ_j > t_j": each stage's direction ("above":
        raw > r, "below": raw < r for a decreasing calibration) and raw thresholds (B, k − 1),
        exact on every float (:func:`llmcopula.calibration.rules.raw_rules`)."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        t = check_thresholds(thresholds, len(cas))
        return raw_rules([self.calibrators_[m] for m in cas[:-1]], t)

    def atom_intervals(self, m: int) -> list[tuple[float, float, float]]:
        """``(atom, lo, hi)`` for each atom of model ``m``'s calibrated confidence: the atom
        occupies (lo, hi] on the uniform scale (see :class:`MarginalDistribution`)."""
        self._check_fitted()
        marg = self.marginals_[m]
        out = []
        for value, w in zip(marg.atoms_, marg.atom_masses_):
            hi = float(marg.cdf(value))
            out.append((float(value), hi - float(w), hi))
        return out

    def _ppf(self, m: int, u: FloatArray) -> FloatArray:
        """F_m⁻¹(u) of model m's calibrated confidence (subclasses may have a faster one)."""
        return self.marginals_[m].ppf(u)

    # ----------------------------------------------------------------------- predictions
    def predict(self, thresholds: ArrayLike, cascade: Sequence[int] | None = None, *,
                approximation: str | None = None) -> CascadePrediction:
        """Predicted accuracy, expected cost and stage probabilities of a cascade.

        Parameters
        ----------
        thresholds : array_like of shape (k − 1,) or (B, k − 1)
            Calibrated-confidence thresholds: stage j accepts its answer iff Φ_j > t_j; the last
            stage always answers.
        cascade : sequence of int, optional
            Strictly increasing chain indices; default the whole chain.
        approximation : str, optional
            Overrides the model's default chaining, for models that have one.
        """
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        quantiles = self.to_quantile(thresholds, cas)
        if quantiles.ndim == 2 and quantiles.shape[0] == 0:  # no threshold vectors: no values
            return CascadePrediction(cascade=cas, accuracy=np.empty(0), cost=np.empty(0),
                                     stage_probabilities=np.empty((0, len(cas))))
        res = self.evaluate_quantile(quantiles, cas, approximation=approximation)
        return CascadePrediction(cascade=cas, accuracy=res.accuracy, cost=res.cost,
                                 stage_probabilities=res.stage_probabilities)

    @keyword_only_after("rng")
    def sample(self, n: int, cascade: Sequence[int] | None = None, *, rng: Any = None
               ) -> FloatArray:
        """Simulate calibrated confidences of a cascade's models from the fitted law: latent
        uniforms U from the model's copula, Φ_j = F_j⁻¹(U_j). Shape (n, k)."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        u = self._sample_uniform(n, cas, rng)
        return np.column_stack([self._ppf(m, u[:, j]) for j, m in enumerate(cas)])

    @abstractmethod
    def _sample_uniform(self, n: int, cascade: tuple[int, ...], rng: Any) -> FloatArray:
        """Latent uniforms (n, k) of the cascade's models from the fitted copula."""


def check_chain_model(model: Any, name: str = "model") -> CalibratedChainModel:
    """``model`` if it is a fitted :class:`CalibratedChainModel`; else a ``ValueError``."""
    if not isinstance(model, CalibratedChainModel):
        raise ValueError(f"{name}: expected a calibrated chain model (MarkovCopulaModel, "
                         f"EmpiricalCopulaModel, ...), got {type(model).__name__}")
    check_is_fitted(model, "marginals_", name=name, hint="fit(log)")
    return model

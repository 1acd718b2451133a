"""Deferral on everything seen so far: each stage's posterior probability of being right given
the raw signals of every model the query has visited and whether the answers agree.

The single-signal cascade decides at stage j on model m_j's own calibrated confidence, and its
models assume P(m_j correct | everything seen) = that confidence. When earlier models have
already answered, more is known: their signals and, above all on open-ended questions, whether
their answers agree with m_j's. :class:`CascadePosterior` estimates, for each stage j of a
cascade (m_1, …, m_k),

    psi_j = P(m_j correct | r_1, …, r_j, answers of m_1..m_j)

with a :class:`~llmcopula.calibration.MultiSignalCalibrator` on the features of
:func:`llmcopula.policy.posterior_features`: the transformed, clipped raw signals of m_1..m_j
and, for each earlier stage i, whether its normalised answer equals (or differs from) m_j's; an
unknown (blank) answer is neither. The calibrator is regularised (ridge, penalty by
cross-validation) and cross-fitted, so the training posteriors are out-of-fold: a model of their
joint law sees them as test queries will. The posterior of stage j depends only on the cascade's
prefix (m_1..m_j), so the fits are cached per prefix and shared by every cascade that starts
with it.

:func:`posterior_log` turns the posteriors of a cascade into a :class:`~llmcopula.datasets.ChainLog`
whose "raw signal" of stage j is the posterior log-odds z_j; any calibrated chain model
(Markov-copula or empirical-copula) fitted on it, with the identity transform, describes the
joint law of the posteriors with the labels and costs, and :func:`~llmcopula.cascade.tune`
tunes thresholds on them as it does on single signals. The deployable form of stage j's rule is
a :class:`~llmcopula.policy.PosteriorRule` ("accept iff z_j > r_j") that computes z_j from raw
signals and answers with the same code (:meth:`CascadePosterior.rule`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._estimator import BaseEstimator
from .._validation import check_is_fitted
from ..calibration import MultiSignalCalibrator, get_transform
from ..datasets import ChainLog
from ..policy import PosteriorRule, posterior_features
from .cascades import check_cascade

__all__ = ["CascadePosterior", "posterior_log"]

FloatArray = NDArray[np.float64]

_FINALS = ("fold-average", "refit")
_FALLBACKS = ("none", "held-out-log-loss")


def _log_loss(z: FloatArray, y: FloatArray) -> float:
    """Mean log-loss of log-odds ``z`` for 0/1 labels ``y``."""
    return float(np.mean(np.where(y > 0, np.logaddexp(0.0, -z), np.logaddexp(0.0, z))))


class CascadePosterior(BaseEstimator):
    """Multi-signal posteriors of the stages of a chain's cascades (fitted on a training log).

    Parameters
    ----------
    agreement : bool, default True
        Use answer-agreement features (needs a log with answers; without answers the posterior
        uses the raw signals only).
    max_answer_chars : int or None, default 64
        Answers longer than this are unknown (:func:`llmcopula.policy.normalize_answer`); the
        shipped logs blank every answer longer than 64 characters.
    transform : {"auto", "one-sided", "two-sided", "identity"}, default "auto"
        Raw-signal transform of every model (``"auto"``: from the log's ``signal``).
    penalties, n_folds : optional
        Options of the :class:`~llmcopula.calibration.MultiSignalCalibrator`.
    rng : None, int or Generator, default 0
        Seed of the cross-validation folds (fixed by default, so that the posteriors of a log
        are reproducible).
    final : {"fold-average", "refit"}, default "fold-average"
        The deployed coefficients: the mean of the K cross-fitting models' coefficients (a
        linear model whose log-odds are the mean of theirs, so that test posteriors are
        distributed like the cross-fitted training posteriors the joint model was fitted on),
        or one refit on all training queries.
    fallback : {"none", "held-out-log-loss"}, default "none"
        ``"held-out-log-loss"``: at each stage after the first, also fit the calibrator on the
        stage's own signal alone, and keep it when its cross-fitted (out-of-fold) log-loss on
        the training queries is not worse than that of the full calibrator: a guard, chosen on
        training data only, for the few-label regime where the many-feature posterior is
        noisier than the model's own calibrated signal. The kept calibrator is exported as a
        posterior rule whose other coefficients are zero.

    Attributes
    ----------
    models_ : tuple of str
    transforms_ : tuple of str
        Each model's transform.
    xi_min_, xi_max_ : ndarray of shape (K,)
        Clipping range of each model's transformed signal (finite training range).
    agreement_ : bool
        Whether agreement features are used (``agreement`` and the log has answers).
    n_train_ : int

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> train = load_benchmark("triviaqa", "llama", split="train")
    >>> post = CascadePosterior().fit(train)
    >>> z = post.train_log_odds((0, 2, 4))   # cross-fitted posterior log-odds, per stage
    >>> z.shape
    (300, 3)
    >>> rule = post.rule((0, 2), threshold=0.0)   # stage 2's deployable rule
    >>> rule.inputs, len(rule.agree_coef)
    (('llama3.2-1b', 'llama3.1-8b'), 1)
    """

    def __init__(self, *, agreement: bool = True, max_answer_chars: int | None = 64,
                 transform: str = "auto", penalties: Any = None, n_folds: int = 5,
                 rng: Any = 0, final: str = "fold-average", fallback: str = "none") -> None:
        self.agreement = agreement
        self.max_answer_chars = max_answer_chars
        self.transform = transform
        self.penalties = penalties
        self.n_folds = n_folds
        self.rng = rng
        self.final = final
        self.fallback = fallback

    def fit(self, log: ChainLog) -> CascadePosterior:
        """Record the training log and each model's transform and clipping range; the stage
        calibrators are fitted when a cascade first needs them (:meth:`calibrator`)."""
        if not isinstance(log, ChainLog):
            raise ValueError(f"log: expected a ChainLog, got {type(log).__name__}")
        if log.n_queries < 2:
            raise ValueError(f"log: need at least 2 training queries, got {log.n_queries}")
        if self.max_answer_chars is not None and (
                isinstance(self.max_answer_chars, bool)
                or not isinstance(self.max_answer_chars, (int, np.integer))
                or self.max_answer_chars < 1):
            raise ValueError(f"max_answer_chars: expected a positive integer or None, got "
                             f"{self.max_answer_chars!r}")
        if self.fallback not in _FALLBACKS:
            raise ValueError(f"fallback: expected one of {_FALLBACKS}, got {self.fallback!r}")
        if self.final not in _FINALS:
            raise ValueError(f"final: expected one of {_FINALS}, got {self.final!r}")
        transform = get_transform(self.transform, log.signal)
        xi = transform.forward(log.confidence)
        lo = np.zeros(log.n_models)
        hi = np.zeros(log.n_models)
        for m in range(log.n_models):
            finite = xi[np.isfinite(xi[:, m]), m]
            if finite.size:
                lo[m], hi[m] = finite.min(), finite.max()
        self.models_ = log.models
        self.transforms_ = (transform.name,) * log.n_models
        self.xi_min_, self.xi_max_ = lo, hi
        self.agreement_ = bool(self.agreement and log.answer is not None)
        self.n_train_ = log.n_queries
        self._log = log
        self._fits: dict[tuple[int, ...], MultiSignalCalibrator] = {}
        self._columns: dict[tuple[int, ...], tuple[list[int] | None, int]] = {}
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "models_", hint="fit(log)")

    @property
    def normalizer(self) -> dict[str, Any]:
        """The answer normaliser of the rules (:func:`llmcopula.policy.normalize_answer`)."""
        return {"kind": "text", "max_chars": self.max_answer_chars}

    def _prefix(self, prefix: Any) -> tuple[int, ...]:
        return check_cascade(prefix, len(self.models_))

    def features(self, log: ChainLog, prefix: Any) -> FloatArray:
        """The calibrator's features of the last stage of ``prefix`` (chain indices) on
        ``log``'s queries (:func:`llmcopula.policy.posterior_features`)."""
        self._check_fitted()
        pre = self._prefix(prefix)
        if tuple(log.models) != tuple(self.models_):
            raise ValueError(f"log: has models {log.models}, the posterior was fitted on "
                             f"{self.models_}")
        idx = list(pre)
        answers = log.answer[:, idx] if self.agreement_ else None
        if self.agreement_ and log.answer is None:
            raise ValueError("log: has no answers, but the posterior uses answer agreement")
        return posterior_features(log.confidence[:, idx], answers,
                                  transforms=[self.transforms_[m] for m in idx],
                                  xi_min=self.xi_min_[idx], xi_max=self.xi_max_[idx],
                                  normalizer=self.normalizer, agreement=self.agreement_)

    def calibrator(self, prefix: Any) -> MultiSignalCalibrator:
        """The fitted calibrator of the last stage of ``prefix`` (cached)."""
        self._check_fitted()
        pre = self._prefix(prefix)
        if pre not in self._fits:
            x = self.features(self._log, pre)
            y = self._log.correct[:, pre[-1]]
            cal = MultiSignalCalibrator(penalties=self.penalties, n_folds=self.n_folds,
                                        rng=self.rng).fit(x, y)
            columns: list[int] | None = None
            if self.fallback == "held-out-log-loss" and len(pre) > 1:
                own = [len(pre) - 1]  # the stage's own transformed signal
                alone = MultiSignalCalibrator(penalties=self.penalties, n_folds=self.n_folds,
                                              rng=self.rng).fit(x[:, own], y)
                if _log_loss(alone.oof_decision_, y) <= _log_loss(cal.oof_decision_, y):
                    cal, columns = alone, own
            self._fits[pre] = cal
            self._columns[pre] = (columns, x.shape[1])
        return self._fits[pre]

    def uses_own_signal_only(self, prefix: Any) -> bool:
        """Whether the guard (``fallback``) replaced the stage's posterior by its own signal."""
        pre = self._prefix(prefix)
        self.calibrator(pre)
        return self._columns[pre][0] is not None

    def rule(self, prefix: Any, *, threshold: float, direction: str = "above") -> PosteriorRule:
        """The deployable rule of the last stage of ``prefix``: accept iff its posterior
        log-odds is above (or below) ``threshold``."""
        pre = self._prefix(prefix)
        cal = self.calibrator(pre)
        width = len(pre)
        if self.final == "fold-average":
            coef, intercept = cal.fold_coef_.mean(axis=0), float(cal.fold_intercept_.mean())
        else:
            coef, intercept = cal.coef_, cal.intercept_
        columns, n_features = self._columns[pre]
        if columns is not None:
            full = np.zeros(n_features)
            full[columns] = coef
            coef = full
        if self.agreement_ and width > 1:
            agree, disagree = coef[width:2 * width - 1], coef[2 * width - 1:]
        else:
            agree = disagree = np.zeros(width - 1)
        return PosteriorRule(
            model=self.models_[pre[-1]], inputs=tuple(self.models_[m] for m in pre),
            transforms=tuple(self.transforms_[m] for m in pre),
            xi_min=tuple(float(self.xi_min_[m]) for m in pre),
            xi_max=tuple(float(self.xi_max_[m]) for m in pre),
            signal_coef=tuple(float(v) for v in coef[:width]),
            agree_coef=tuple(float(v) for v in agree),
            disagree_coef=tuple(float(v) for v in disagree),
            intercept=intercept, threshold=threshold, direction=direction,
            normalizer=self.normalizer)

    def train_log_odds(self, cascade: Any) -> FloatArray:
        """Cross-fitted posterior log-odds of every stage of ``cascade`` on the training
        queries, shape (n, k)."""
        cas = self._prefix(cascade)
        return np.column_stack([self.calibrator(cas[: j + 1]).oof_decision_
                                for j in range(len(cas))])

    def log_odds(self, log: ChainLog, cascade: Any) -> FloatArray:
        """Posterior log-odds of every stage of ``cascade`` on ``log``'s queries, shape (n, k),
        computed by the stages' deployable rules (the calibrators fitted on all training
        queries)."""
        cas = self._prefix(cascade)
        if tuple(log.models) != tuple(self.models_):
            raise ValueError(f"log: has models {log.models}, the posterior was fitted on "
                             f"{self.models_}")
        if self.agreement_ and log.answer is None:
            raise ValueError("log: has no answers, but the posterior uses answer agreement")
        out = []
        for j in range(len(cas)):
            idx = list(cas[: j + 1])
            rule = self.rule(cas[: j + 1], threshold=0.0)
            out.append(rule.log_odds(log.confidence[:, idx],
                                     None if log.answer is None else log.answer[:, idx]))
        return np.column_stack(out)


def posterior_log(log: ChainLog, cascade: Any, log_odds: FloatArray) -> ChainLog:
    """A log of the cascade's stages whose raw signal is the posterior log-odds: models, labels
    and costs of ``log``'s cascade columns, confidence ``log_odds`` (n, k), no signal type (fit
    it with ``transform="identity"``)."""
    cas = check_cascade(cascade, log.n_models)
    idx = list(cas)
    return ChainLog(models=[log.models[m] for m in idx], confidence=log_odds,
                    correct=log.correct[:, idx], cost=log.cost[:, idx],
                    query_ids=log.query_ids, benchmark=log.benchmark, split=log.split)

"""Comparators over logged answers: ranking the pool's answers when only letters and confidences
were recorded.

The shipped benchmark logs (:func:`llmcopula.datasets.load_pool`) hold, per query, each model's
answer letter and the log-probability of its answer, nothing else (no texts, no per-option
distribution, no judge). A learned pairwise judge cannot be run on them, so the comparators here
read the log itself:

* :func:`confidence_judge` - ``f(x, a, b) = logit c_a - logit c_b`` with ``c`` the *calibrated*
  confidence of the model that produced each answer (per-model Platt scaling fitted on the
  train split, :func:`calibrate_pool_confidence`), and 0 when the two answers are identical (the
  same letter cannot be better than itself). Information used: one model's self-assessed
  probability per candidate, made comparable across models by calibration. It is antisymmetric,
  so it has no position bias, and transitive, so MaxLogits, MaxWins and bubble differ only in
  how they treat the ties between equal answers. What it cannot do: see the question, use
  agreement between models, or tell two confidently wrong models apart.
* :func:`agreement_judge` - ``f(x, a, b) = support_a - support_b``, the number of pool models
  giving each answer. Information used: answer co-occurrence only, so every aggregator reduces
  to a plurality vote. What it cannot do: overrule a wrong majority.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..calibration import PlattCalibrator

if TYPE_CHECKING:
    from ..datasets import ChainLog

__all__ = ["LoggedAnswer", "calibrate_pool_confidence", "logged_candidates",
           "confidence_judge", "agreement_judge"]

_EPS = 1e-6


@dataclass(frozen=True)
class LoggedAnswer:
    """One model's logged answer to one query.

    Attributes
    ----------
    text : str or None
        The answer (None when the model gave none).
    model : int
        Column of the model in the log.
    confidence : float
        Calibrated probability that the answer is correct.
    support : int
        Number of models of the pool that gave the same answer (0 for a missing answer).
    """

    text: str | None
    model: int
    confidence: float
    support: int


def calibrate_pool_confidence(train: ChainLog, log: ChainLog) -> NDArray[np.float64]:
    """Calibrated P(correct) of every (query, model) of ``log``, fitted on ``train``.

    One :class:`llmcopula.calibration.PlattCalibrator` (``transform="one-sided"``, the paper's
    ``xi = -log(1 - e^raw)`` for token log-probabilities) per model, fitted on the train split.

    Examples
    --------
    >>> from llmcopula.datasets import load_pool
    >>> c = calibrate_pool_confidence(load_pool("mmlu", "train"), load_pool("mmlu", "test"))
    >>> c.shape, bool(((c > 0) & (c < 1)).all())
    ((1531, 9), True)
    """
    if tuple(train.models) != tuple(log.models):
        raise ValueError(f"log: its models {log.models} differ from train's {train.models}")
    out = np.empty(log.confidence.shape)
    for m, name in enumerate(log.models):
        cal = PlattCalibrator(transform="one-sided", name=name)
        cal.fit(train.confidence[:, m], train.correct[:, m])
        out[:, m] = cal.predict(log.confidence[:, m])
    return out


def logged_candidates(log: ChainLog, confidence: ArrayLike | None = None
                      ) -> list[list[LoggedAnswer]]:
    """Per query, the pool's answers as :class:`LoggedAnswer` candidates (one per model).

    Parameters
    ----------
    log : ChainLog
        A log with answers.
    confidence : array_like, shape (n_queries, n_models), optional
        Calibrated confidences (default: ``exp(raw)``, uncalibrated).

    Examples
    --------
    >>> from llmcopula.datasets import load_pool
    >>> first = logged_candidates(load_pool("mmlu", "test"))[0]
    >>> [(c.text, c.support) for c in first[:3]]
    [('A', 7), ('D', 2), ('D', 2)]
    """
    if log.answer is None:
        raise ValueError("log: has no answers")
    answers = log.answer
    conf = np.exp(log.confidence) if confidence is None else np.asarray(confidence, float)
    if conf.shape != answers.shape:
        raise ValueError(f"confidence: expected shape {answers.shape}, got {conf.shape}")
    if np.isnan(conf).any() or (conf < 0).any() or (conf > 1).any():
        raise ValueError("confidence: values must be probabilities in [0, 1]")
    out = []
    for row, crow in zip(answers, conf):
        counts = Counter(a for a in row if a is not None)
        out.append([LoggedAnswer(a, m, float(c), counts[a] if a is not None else 0)
                    for m, (a, c) in enumerate(zip(row, crow))])
    return out


def _logit(p: float) -> float:
    p = min(max(p, _EPS), 1 - _EPS)
    return float(np.log(p) - np.log1p(-p))


def confidence_judge(x: Any, a: LoggedAnswer, b: LoggedAnswer) -> float:
    """Calibrated-confidence judge: ``logit c_a - logit c_b``, 0 for identical answers.

    A missing answer counts as confidence 0 (clipped to ``1e-6``).

    Examples
    --------
    >>> a, b = LoggedAnswer("A", 0, 0.9, 3), LoggedAnswer("B", 1, 0.5, 1)
    >>> round(confidence_judge(None, a, b), 4), confidence_judge(None, a, a)
    (2.1972, 0.0)
    """
    if a.text == b.text:
        return 0.0
    ca = a.confidence if a.text is not None else 0.0
    cb = b.confidence if b.text is not None else 0.0
    return _logit(ca) - _logit(cb)


def agreement_judge(x: Any, a: LoggedAnswer, b: LoggedAnswer) -> float:
    """Agreement judge: the difference in the number of models giving each answer.

    Examples
    --------
    >>> agreement_judge(None, LoggedAnswer("A", 0, 0.9, 3), LoggedAnswer("B", 1, 0.5, 1))
    2.0
    """
    if a.text == b.text:
        return 0.0
    return float(a.support - b.support)

"""What the fitted model predicts for a selected ensemble, with intervals.

For a set ``S`` and an aggregator fitted on the training answers, :func:`predict_ensemble`
reports, under the Gaussian-copula model of :class:`CopulaInformation` fitted to the same
training data (``docs/selection.md``, §6–7):

* the predicted accuracy of that aggregator, ``Σ_x P̂(A(x), x)``, less the bootstrap estimate of
  its optimism (the aggregator was fitted to the same data as the model that judges it);
* the error floor of ``S``: the Bayes error ``1 − Σ_x max_y P̂(y, x)``, below which no aggregator
  of these answers can go;
* the mutual information I(Y; X_S).

Intervals come from the nonparametric bootstrap over training queries: the model is refitted on
each resample (the aggregator stays the one fitted on all training data, since that is the one
that will be used) and the percentile interval of each quantity is reported. For the accuracy
that a test set of ``n_test`` queries will show, each replicate's prediction is also passed
through binomial sampling noise, which gives a prediction interval for the realised test
accuracy; its coverage over random splits is measured by ``benchmarks/bench_selection_defaults.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from llmcopula._estimator import clone
from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.selection.copula_information import CopulaInformation

__all__ = ["EnsemblePrediction", "predict_ensemble"]


@dataclass(frozen=True)
class EnsemblePrediction:
    """The model's predictions for one ensemble (accuracies and errors are fractions).

    Attributes
    ----------
    accuracy : float
        Predicted accuracy of the aggregator.
    accuracy_interval : tuple of float
        Bootstrap percentile interval of ``accuracy`` (parameter uncertainty).
    test_interval : tuple of float or None
        Prediction interval of the accuracy measured on ``n_test`` new queries.
    bayes_error : float
        Error floor of the set: the Bayes (MAP) error under the model.
    bayes_error_interval : tuple of float
    mi_bits : float
        I(Y; X_S) under the model.
    mi_interval : tuple of float
    level : float
    n_boot : int
    """

    accuracy: float
    accuracy_interval: tuple[float, float]
    test_interval: tuple[float, float] | None
    bayes_error: float
    bayes_error_interval: tuple[float, float]
    mi_bits: float
    mi_interval: tuple[float, float]
    level: float
    n_boot: int


def predict_ensemble(X: ArrayLike, y: ArrayLike, aggregator: Any, *,
                     model: CopulaInformation | None = None, n_test: int | None = None,
                     n_boot: int = 200, level: float = 0.9, correct_optimism: bool = True,
                     rng: RNGLike = None) -> EnsemblePrediction:
    """Predicted accuracy, error floor and information of an ensemble, with bootstrap intervals.

    Parameters
    ----------
    X : array_like, shape (n, k)
        Training answers of the selected models (only those columns).
    y : array_like, shape (n,)
        Training labels.
    aggregator : fitted aggregator
        Any object with ``predict`` taking (r, k) answers, fitted on ``(X, y)``.
    model : CopulaInformation, optional
        Unfitted model whose options to use (default: ``CopulaInformation()``); it is fitted to
        ``(X, y)`` and to every bootstrap resample.
    n_test : int, optional
        Size of the test set whose accuracy is to be predicted (adds binomial noise).
    n_boot : int, default 200
    level : float, default 0.9
    correct_optimism : bool, default True
        Subtract the bootstrap estimate of the optimism of an aggregator judged by a model fitted
        to the same data (Efron 1983): in each replicate a copy of the aggregator is refitted to
        the resample and its predicted accuracy under the resample's model is compared with that
        under the model of all training data. Needs an aggregator that ``clone`` can copy
        (every aggregator of this package); without it the prediction is the plain plug-in.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    EnsemblePrediction

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection import MajorityVote
    >>> from llmcopula.selection.copula_information import CopulaInformation
    >>> truth = CopulaInformation.from_parameters(
    ...     [0.2, 0.25, 0.3], np.full((3, 3), 0.4) + 0.6 * np.eye(3), classes=list("ABCD"),
    ...     prior=[0.25] * 4, kappa=0.6, rng=0)
    >>> X, y = truth.simulate(2000, rng=1)
    >>> vote = MajorityVote().fit(X, y)
    >>> pred = predict_ensemble(X, y, vote, n_boot=50, rng=2)
    >>> true_acc = truth.predicted_accuracy([0, 1, 2], vote)
    >>> bool(pred.accuracy_interval[0] - 0.01 < true_acc < pred.accuracy_interval[1] + 0.01)
    True
    >>> bool(pred.bayes_error <= 1 - pred.accuracy + 1e-9)   # no aggregator beats the floor
    True
    """
    n_boot = check_positive_int(n_boot, "n_boot")
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise ValueError(f"level: must be a float in (0, 1), got {level!r}")
    if n_test is not None:
        n_test = check_positive_int(n_test, "n_test")
    gen = check_rng(rng)
    Xa, ya = np.asarray(X), np.asarray(y)
    if Xa.ndim != 2 or ya.ndim != 1 or Xa.shape[0] != ya.shape[0]:
        raise ValueError(f"X, y: expected shapes (n, k) and (n,), got {Xa.shape} and {ya.shape}")
    base = CopulaInformation() if model is None else model
    cols = np.arange(Xa.shape[1])

    def fit(rows: np.ndarray, n_draws: int) -> CopulaInformation:
        return clone(base).set_params(rng=gen, n_draws=n_draws).fit(Xa[rows], ya[rows])

    n = ya.size
    full = fit(np.arange(n), base.n_draws)
    point = (full.predicted_accuracy(cols, aggregator), full.bayes_error(cols),
             full.mutual_information(cols))
    reps = np.empty((n_boot, 3))
    optimism = np.zeros(n_boot)
    for b in range(n_boot):
        rows = gen.integers(0, n, n)
        # Fewer latent draws per replicate: their QMC error (~1e-3) is far below the spread.
        boot = fit(rows, min(base.n_draws, 8192))
        reps[b] = (boot.predicted_accuracy(cols, aggregator), boot.bayes_error(cols),
                   boot.mutual_information(cols))
        if correct_optimism:
            refitted = clone(aggregator).fit(Xa[rows], ya[rows])
            optimism[b] = (boot.predicted_accuracy(cols, refitted)
                           - full.predicted_accuracy(cols, refitted))
    shift = float(optimism.mean())
    point = (point[0] - shift, point[1], point[2])
    reps[:, 0] -= shift
    lo, hi = (1 - level) / 2, (1 + level) / 2

    def interval(values: np.ndarray) -> tuple[float, float]:
        a, b = np.quantile(values, [lo, hi])
        return float(a), float(b)

    test_interval = None
    if n_test is not None:
        draws = gen.binomial(n_test, np.clip(reps[:, 0], 0.0, 1.0)) / n_test
        test_interval = interval(draws)
    return EnsemblePrediction(point[0], interval(reps[:, 0]), test_interval, point[1],
                              interval(reps[:, 1]), point[2], interval(reps[:, 2]), level, n_boot)

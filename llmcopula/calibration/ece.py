"""The expected calibration error of predicted probabilities of being correct."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_positive_int, check_probability
from .platt import check_labels

__all__ = ["CalibrationBins", "expected_calibration_error"]


class CalibrationBins(NamedTuple):
    """Per-bin summary behind :func:`expected_calibration_error` (non-empty bins only)."""

    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    count: NDArray[np.int64]
    mean_confidence: NDArray[np.float64]
    accuracy: NDArray[np.float64]


def expected_calibration_error(prob: ArrayLike, correct: ArrayLike, *, n_bins: int = 10,
                               strategy: str = "quantile", return_bins: bool = False
                               ) -> float | tuple[float, CalibrationBins]:
    """Binned expected calibration error ``ECE = sum_b (n_b / n) |mean(prob_b) - mean(correct_b)|``.

    Naeini, Cooper & Hauskrecht (2015), *Obtaining well calibrated probabilities using Bayesian
    binning*. Bins are ``[e_0, e_1], (e_1, e_2], ..., (e_{B-1}, e_B]``; ``strategy="uniform"`` uses
    equal-width edges on [0, 1] and ``"quantile"`` the empirical quantiles of ``prob`` (tied values
    always share a bin, so fewer than ``n_bins`` non-empty bins can result). Empty bins are dropped.

    Parameters
    ----------
    prob : array_like, shape (n,)
        Predicted probabilities of being correct, in [0, 1].
    correct : array_like, shape (n,)
        0/1 labels.
    n_bins : int
    strategy : {"quantile", "uniform"}
    return_bins : bool
        Also return the per-bin table as a :class:`CalibrationBins`.

    Examples
    --------
    >>> round(expected_calibration_error([0.2, 0.2, 0.9, 0.9], [0, 1, 1, 1], n_bins=2), 12)
    0.2
    """
    p = check_probability(prob, "prob")
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"prob: expected a non-empty 1-d array, got shape {p.shape}")
    y = check_labels(correct, p.size)
    n_bins = check_positive_int(n_bins, "n_bins")
    if strategy == "quantile":
        edges = np.quantile(p, np.linspace(0.0, 1.0, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(f"strategy: expected 'quantile' or 'uniform', got {strategy!r}")
    idx = np.searchsorted(edges[1:-1], p, side="left")
    count = np.bincount(idx, minlength=n_bins)
    sum_p = np.bincount(idx, weights=p, minlength=n_bins)
    sum_y = np.bincount(idx, weights=y, minlength=n_bins)
    keep = count > 0
    mean_p, acc = sum_p[keep] / count[keep], sum_y[keep] / count[keep]
    ece = float(np.sum(count[keep] * np.abs(mean_p - acc)) / p.size)
    if not return_bins:
        return ece
    bins = CalibrationBins(edges[:-1][keep], edges[1:][keep], count[keep], mean_p, acc)
    return ece, bins

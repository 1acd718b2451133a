"""One calibrator per model of a chain: fit them, apply them, and map thresholds to raw signals."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .platt import PlattCalibrator
from .protocol import Calibrator
from .transforms import ConfidenceTransform, TransformName

__all__ = ["fit_calibrators", "calibrate", "raw_thresholds"]

FloatArray = NDArray[np.float64]


def _raw_matrix(raw: ArrayLike, name: str = "raw") -> FloatArray:
    arr = np.asarray(raw, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected an array of shape (n_queries, n_models), "
                         f"got shape {arr.shape}")
    return arr


def fit_calibrators(raw: ArrayLike, correct: ArrayLike, *,
                    transform: TransformName | ConfidenceTransform = "auto",
                    signal: str | None = None, names: Sequence[str] | None = None,
                    slope: str = "free") -> list[PlattCalibrator]:
    """One :class:`PlattCalibrator` per column (model) of ``raw``, each fitted on its column.

    Parameters
    ----------
    raw : array_like of shape (n, K)
        Raw confidence signals of K models on the same n queries.
    correct : array_like of shape (n, K)
        0/1 correctness labels.
    transform : str or ConfidenceTransform
        Transform before Platt scaling (``"auto"`` chooses it from ``signal``).
    signal : {"logprob", "p_true"}, optional
        Signal type, for ``transform="auto"``.
    names : sequence of str, optional
        Model names, used in warning messages.
    slope : {"free", "nonnegative"}
        The calibrators' slope constraint (:class:`PlattCalibrator`).

    Examples
    --------
    >>> import numpy as np
    >>> raw = np.log([[0.9, 0.6], [0.5, 0.95], [0.99, 0.4], [0.3, 0.8]])
    >>> correct = [[1, 0], [0, 1], [1, 0], [0, 1]]
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # four queries separate the classes perfectly
    ...     cals = fit_calibrators(raw, correct, signal="logprob")
    >>> len(cals), calibrate(cals, raw).shape
    (2, (4, 2))
    """
    arr = _raw_matrix(raw)
    labels = np.asarray(correct)
    if labels.shape != arr.shape:
        raise ValueError(f"correct: expected shape {arr.shape} like raw, got {labels.shape}")
    if names is not None and len(names) != arr.shape[1]:
        raise ValueError(f"names: expected {arr.shape[1]} names (one per column of raw), "
                         f"got {len(names)}")
    out = []
    for m in range(arr.shape[1]):
        cal = PlattCalibrator(transform=transform, signal=signal,
                              name=None if names is None else names[m], slope=slope)
        out.append(cal.fit(arr[:, m], labels[:, m]))
    return out


def calibrate(calibrators: Sequence[Calibrator], raw: ArrayLike) -> FloatArray:
    """Calibrated confidences, shape (n, K): column m is ``calibrators[m].predict(raw[:, m])``."""
    arr = _raw_matrix(raw)
    if arr.shape[1] != len(calibrators):
        raise ValueError(f"raw: expected {len(calibrators)} columns (one per calibrator), "
                         f"got shape {arr.shape}")
    if not calibrators:
        return np.empty(arr.shape)
    return np.column_stack([c.predict(arr[:, m]) for m, c in enumerate(calibrators)])


def raw_thresholds(calibrators: Sequence[Calibrator], thresholds: ArrayLike) -> FloatArray:
    """The rules "accept iff calibrated confidence > t_j" as rules on the raw signals.

    Parameters
    ----------
    calibrators : sequence of Calibrator
        The calibrators of stages 0..k−2 of a cascade (one per threshold column; extra ones are
        ignored).
    thresholds : array_like of shape (B, k − 1)
        Calibrated thresholds; values outside [0, 1] are clipped to it.

    Returns
    -------
    ndarray of shape (B, k − 1)
        ``r`` with: stage j accepts iff raw_j > r_j (see :meth:`Calibrator.raw_threshold`).
    """
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] > len(calibrators):
        raise ValueError(f"thresholds: expected shape (B, k − 1) with k − 1 <= "
                         f"{len(calibrators)}, got {t.shape}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # decreasing calibrators warned at fit
        cols = [calibrators[j].raw_threshold(np.clip(t[:, j], 0.0, 1.0))
                for j in range(t.shape[1])]
    return np.column_stack(cols) if cols else np.empty((t.shape[0], 0))

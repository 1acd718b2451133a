"""The calibrator protocol: what cascades, baselines and ranking need from a calibrator.

A calibrator maps one model's raw confidence signal (for example the log-probability of its
answer) to the probability that the answer is correct. Everything above this layer uses a
calibrator only through the three methods of :class:`Calibrator`, so another calibrator (isotonic
regression, temperature scaling, a histogram) can replace :class:`PlattCalibrator` without
changes elsewhere, provided it keeps the contract below.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Calibrator"]


@runtime_checkable
class Calibrator(Protocol):
    """A fitted map from one model's raw signal to its calibrated confidence.

    Contract
    --------
    ``fit(raw, correct)``
        Learns the map from a 1-d raw signal (``-inf`` allowed where the signal allows it) and
        0/1 labels of the same length; returns ``self``. Degenerate data (one label only, a
        constant signal) must not raise: fall back to a constant and warn.
    ``predict(raw)``
        The calibrated confidence Φ = P(correct | raw), in the open interval (0, 1), elementwise.
        Φ must be a monotone function of the raw signal (that is what makes a threshold on Φ a
        threshold on the raw signal), non-decreasing unless the fit found the signal inversely
        related to correctness, in which case ``fit`` warns.
    ``raw_threshold(phi)``
        For calibrated thresholds ``phi`` in [0, 1], raw thresholds ``r`` of the same shape with
        ``predict(raw) > phi`` if and only if ``raw > r`` (for a non-decreasing map; ``-inf``:
        every value accepted, ``+inf``: none). This is the form a production router applies.

    Examples
    --------
    >>> from llmcopula.calibration import Calibrator, PlattCalibrator
    >>> isinstance(PlattCalibrator(), Calibrator)
    True
    """

    def fit(self, raw: ArrayLike, correct: ArrayLike) -> Any: ...

    def predict(self, raw: ArrayLike) -> NDArray[np.float64]: ...

    def raw_threshold(self, phi: ArrayLike) -> NDArray[np.float64]: ...

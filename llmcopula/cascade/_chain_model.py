"""What every model of a chain's calibrated confidences shares: Platt calibration of each
model's raw signal, and the maps between calibrated thresholds, the models' uniform scales
(where the tuners work) and the raw signals (what a production router compares against)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..datasets import ChainLog
from ..calibration import PlattCalibrator
from .cascades import check_cascade
from .evaluation import _thresholds_2d

FloatArray = NDArray[np.float64]


def fit_calibrators(log: ChainLog, transform: str) -> tuple[list[PlattCalibrator], FloatArray]:
    """One Platt calibrator per model of ``log``, and the calibrated training confidences."""
    calibrators = []
    confidence = np.empty(log.confidence.shape)
    for m, name in enumerate(log.models):
        cal = PlattCalibrator(transform=transform, signal=log.signal, name=name)
        cal.fit(log.confidence[:, m], log.correct[:, m])
        calibrators.append(cal)
        confidence[:, m] = cal.predict(log.confidence[:, m])
    return calibrators, confidence


class CalibratedChainModel:
    """Base class: fitted subclasses set ``models_``, ``calibrators_`` and ``marginals_`` (each
    marginal has ``cdf`` and ``ppf``), and implement ``evaluate_quantile``."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "marginals_"):
            raise ValueError(f"{type(self).__name__}: not fitted yet; call fit(log) first")

    def calibrate(self, confidence: ArrayLike | ChainLog) -> FloatArray:
        """Calibrated confidences, shape (n, K), of raw signals (a ChainLog or an (n, K) array)."""
        self._check_fitted()
        raw = confidence.confidence if isinstance(confidence, ChainLog) else np.asarray(
            confidence, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != len(self.models_):
            raise ValueError(
                f"confidence: expected shape (n, {len(self.models_)}), got {raw.shape}"
            )
        return np.column_stack([c.predict(raw[:, m]) for m, c in enumerate(self.calibrators_)])

    def to_quantile(self, thresholds: ArrayLike, cascade: Sequence[int] | None = None
                    ) -> FloatArray:
        """Map calibrated thresholds t_j to the uniform scale s_j = F_j(t_j) (Φ <= t iff U <= s)."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        t = self._check_thresholds(thresholds, len(cas))
        return np.column_stack(
            [np.clip(self.marginals_[m].cdf(t[:, j]), 0.0, 1.0) for j, m in enumerate(cas[:-1])]
        ) if len(cas) > 1 else np.empty((t.shape[0], 0))

    def raw_thresholds(self, thresholds: ArrayLike, cascade: Sequence[int] | None = None
                       ) -> FloatArray:
        """The same decision rules on each model's raw signal: accept iff raw > r_j."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        t = self._check_thresholds(thresholds, len(cas))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # flipped calibrators warned at fit
            cols = [self.calibrators_[m].raw_threshold(np.clip(t[:, j], 0.0, 1.0))
                    for j, m in enumerate(cas[:-1])]
        return np.column_stack(cols) if cols else np.empty((t.shape[0], 0))

    @staticmethod
    def _check_thresholds(thresholds: ArrayLike, k: int, name: str = "thresholds") -> FloatArray:
        return _thresholds_2d(thresholds, k, name)

    def from_quantile(self, s: ArrayLike, cascade: Sequence[int] | None = None) -> FloatArray:
        """Calibrated thresholds t_j = F_j⁻¹(s_j) for uniform-scale thresholds ``s``."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        s = self._check_thresholds(s, len(cas), name="s")
        if len(cas) == 1:
            return np.empty((s.shape[0], 0))
        return np.column_stack([self._ppf(m, np.clip(s[:, j], 0.0, 1.0))
                                for j, m in enumerate(cas[:-1])])

    def _ppf(self, m: int, u: FloatArray) -> FloatArray:
        """F_m⁻¹(u) of model m's calibrated confidence (subclasses may have a faster one)."""
        return self.marginals_[m].ppf(u)

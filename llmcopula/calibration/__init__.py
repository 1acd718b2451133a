"""Calibration of LLM confidence signals: transforms, Platt scaling, the calibrator protocol and
the expected calibration error.

This layer sits below :mod:`llmcopula.cascade`, the cascade baselines and
:mod:`llmcopula.ranking`, which use a calibrator only through the :class:`Calibrator` protocol.
It depends on numpy and scipy only. The method is described in ``docs/calibration.md``.

Examples
--------
>>> import numpy as np
>>> from llmcopula.calibration import PlattCalibrator, expected_calibration_error
>>> rng = np.random.default_rng(0)
>>> raw = np.log(rng.uniform(0.25, 1.0, size=500))
>>> correct = rng.uniform(size=500) < np.exp(raw)
>>> cal = PlattCalibrator(transform="one-sided").fit(raw, correct)
>>> bool(expected_calibration_error(cal.predict(raw), correct) < 0.05)
True
"""

from .chain import calibrate, fit_calibrators, raw_thresholds
from .ece import CalibrationBins, expected_calibration_error
from .multisignal import MultiSignalCalibrator
from .platt import PlattCalibrator
from .protocol import Calibrator
from .rules import accepts_raw, calibrator_direction, exact_raw_threshold, raw_rules
from .transforms import (
    TRANSFORM_FOR_SIGNAL,
    ConfidenceTransform,
    IdentityTransform,
    OneSidedLogTransform,
    TwoSidedLogTransform,
    get_transform,
)

__all__ = [
    "Calibrator",
    "PlattCalibrator",
    "MultiSignalCalibrator",
    "fit_calibrators",
    "calibrate",
    "raw_thresholds",
    "raw_rules",
    "exact_raw_threshold",
    "calibrator_direction",
    "accepts_raw",
    "expected_calibration_error",
    "CalibrationBins",
    "ConfidenceTransform",
    "OneSidedLogTransform",
    "TwoSidedLogTransform",
    "IdentityTransform",
    "get_transform",
    "TRANSFORM_FOR_SIGNAL",
]

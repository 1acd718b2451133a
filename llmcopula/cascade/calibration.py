"""Deprecated alias of :mod:`llmcopula.calibration` (Platt calibration moved below the cascade
layer). Import from :mod:`llmcopula.calibration`; :mod:`llmcopula.cascade` re-exports the public
names too."""

from .._deprecation import warn_deprecated
from ..calibration.ece import CalibrationBins, expected_calibration_error
from ..calibration.platt import PlattCalibrator

__all__ = ["PlattCalibrator", "CalibrationBins", "expected_calibration_error"]

warn_deprecated("llmcopula.cascade.calibration: import from llmcopula.calibration instead",
                stacklevel=2)

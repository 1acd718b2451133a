"""Deprecated alias of :mod:`llmcopula.calibration.transforms` (the transforms moved below the
cascade layer). Import from :mod:`llmcopula.calibration`."""

from .._deprecation import warn_deprecated
from ..calibration.transforms import (
    TRANSFORM_FOR_SIGNAL,
    ConfidenceTransform,
    IdentityTransform,
    OneSidedLogTransform,
    TransformName,
    TwoSidedLogTransform,
    get_transform,
)

__all__ = ["ConfidenceTransform", "OneSidedLogTransform", "TwoSidedLogTransform",
           "IdentityTransform", "get_transform", "TRANSFORM_FOR_SIGNAL", "TransformName"]

warn_deprecated("llmcopula.cascade.transforms: import from llmcopula.calibration instead",
                stacklevel=2)

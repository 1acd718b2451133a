"""Deprecated alias: the interval-censored pair-copula fit moved to
:mod:`llmcopula.copulas.interval_censored` (``from llmcopula.copulas import fit_pair_copula``);
:mod:`llmcopula.cascade` still re-exports :func:`fit_pair_copula` and :class:`PairCopulaFit`."""

from .._deprecation import warn_deprecated
from ..copulas.interval_censored import (
    AUTO_FAMILIES,
    PairCopulaFit,
    UniformIntervals,
    fit_pair_copula,
)

__all__ = ["UniformIntervals", "PairCopulaFit", "fit_pair_copula", "AUTO_FAMILIES"]

warn_deprecated("llmcopula.cascade.pair_copulas: import from llmcopula.copulas instead",
                stacklevel=2)

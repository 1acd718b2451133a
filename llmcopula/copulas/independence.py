"""The independence copula C(u1, u2) = u1 u2."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import BivariateCopula, FloatArray

__all__ = ["IndependenceCopula"]


class IndependenceCopula(BivariateCopula):
    """Independence (product) copula, C(u1, u2) = u1 · u2, density 1.

    It has no parameters, Kendall's tau 0 and no tail dependence. It is the limit of every
    other family at zero dependence (Gaussian rho = 0, Clayton theta -> 0, Gumbel theta = 1,
    Frank theta -> 0).

    Examples
    --------
    >>> from llmcopula.copulas import IndependenceCopula
    >>> float(IndependenceCopula().cdf([0.5, 0.4]))
    0.2
    """

    family = "independence"
    param_names = ()

    def __init__(self) -> None:
        self._init_params()

    @classmethod
    def from_tau(cls, tau: float, *, rotation: int | None = None) -> IndependenceCopula:
        """The independence copula; ``tau`` must be 0."""
        if tau != 0:
            raise ValueError(f"tau: the independence copula has tau = 0, got {tau}")
        return cls()

    def _cdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        return u1 * u2

    def _logpdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        return np.zeros(np.broadcast(u1, u2).shape)

    def _hfunc1_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        return np.broadcast_to(u2, np.broadcast(u1, u2).shape).astype(np.float64)

    def _hinv1_0(self, u1: FloatArray, p: FloatArray) -> FloatArray:
        return np.broadcast_to(p, np.broadcast(u1, p).shape).astype(np.float64)

    @property
    def _tau0(self) -> Any:
        return 0.0

    @property
    def _tail0(self) -> tuple[Any, Any]:
        return 0.0, 0.0

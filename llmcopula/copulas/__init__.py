"""Bivariate copula families, a multivariate Gaussian copula, and fitting.

Every family is an immutable object with ``cdf``, ``pdf``, ``logpdf``, the h-functions
``hfunc1``/``hfunc2`` and their inverses ``hinv1``/``hinv2``, ``sample``, ``tau``, tail
dependence and ``from_tau``. See :class:`BivariateCopula` for the conventions.
"""

from ._base import BivariateCopula
from .independence import IndependenceCopula

__all__ = ["BivariateCopula", "IndependenceCopula"]

from .fitting import CopulaFit, fit_copula  # noqa: E402
from .pseudo_observations import pseudo_observations  # noqa: E402
from .selection import select_copula  # noqa: E402

__all__ += ["CopulaFit", "fit_copula", "pseudo_observations", "select_copula"]

"""Bivariate copula families, a multivariate Gaussian copula, and fitting.

Every family is an immutable object with ``cdf``, ``pdf``, ``logpdf``, the h-functions
``hfunc1``/``hfunc2`` and their inverses ``hinv1``/``hinv2``, ``sample``, ``tau``, tail
dependence and ``from_tau``. See :class:`BivariateCopula` for the conventions.
"""

from ._base import BivariateCopula
from .clayton import ClaytonCopula
from .frank import FrankCopula
from .gumbel import GumbelCopula
from .independence import IndependenceCopula

__all__ = ["BivariateCopula", "IndependenceCopula"]
__all__ += ["ClaytonCopula", "FrankCopula", "GumbelCopula"]

from .fitting import CopulaFit, fit_copula  # noqa: E402
from .pseudo_observations import pseudo_observations  # noqa: E402
from .selection import select_copula  # noqa: E402

__all__ += ["CopulaFit", "fit_copula", "pseudo_observations", "select_copula"]

from .gaussian import GaussianCopula  # noqa: E402
from .student import StudentTCopula  # noqa: E402

__all__ += ["GaussianCopula", "StudentTCopula"]
from .multivariate import MultivariateGaussianCopula  # noqa: E402
from .nearest_correlation import nearest_correlation  # noqa: E402

__all__ += ["MultivariateGaussianCopula", "nearest_correlation"]
from .empirical_beta import EmpiricalBetaCopula  # noqa: E402

__all__ += ["EmpiricalBetaCopula"]

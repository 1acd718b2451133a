"""Bivariate copula families, a multivariate Gaussian copula, the empirical beta copula, and
fitting.

Every family is an immutable object with ``cdf``, ``pdf``, ``logpdf``, the h-functions
``hfunc1``/``hfunc2`` and their inverses ``hinv1``/``hinv2``, ``sample``, ``tau``, tail
dependence and ``from_tau``. See :class:`BivariateCopula` for the conventions. The family
registry (:func:`list_families`, :func:`family_info`, :func:`make_copula`) names every family
with its parameters and rotations. Fitting: :func:`fit_copula` and :func:`select_copula` for
pseudo-observations, :func:`fit_pair_copula` for interval-censored data (margins with atoms).
This package depends on nothing else of llmcopula but the input checks.
"""

from ._base import BivariateCopula
from .clayton import ClaytonCopula
from .frank import FrankCopula
from .gumbel import GumbelCopula
from .independence import IndependenceCopula

__all__ = ["BivariateCopula", "IndependenceCopula"]
__all__ += ["ClaytonCopula", "FrankCopula", "GumbelCopula"]

from .fitting import CopulaFit, DegenerateFitWarning, fit_copula  # noqa: E402
from .pseudo_observations import pseudo_observations  # noqa: E402
from .selection import select_copula  # noqa: E402

__all__ += ["CopulaFit", "DegenerateFitWarning", "fit_copula", "pseudo_observations",
            "select_copula"]

from .gaussian import GaussianCopula  # noqa: E402
from .student import StudentTCopula  # noqa: E402

__all__ += ["GaussianCopula", "StudentTCopula"]
from .multivariate import MultivariateGaussianCopula  # noqa: E402
from .nearest_correlation import nearest_correlation  # noqa: E402

__all__ += ["MultivariateGaussianCopula", "nearest_correlation"]
from .empirical_beta import EmpiricalBetaCopula  # noqa: E402

__all__ += ["EmpiricalBetaCopula"]
from .interval_censored import (  # noqa: E402
    AUTO_FAMILIES,
    PairCopulaFit,
    UniformIntervals,
    fit_pair_copula,
)
from .registry import (  # noqa: E402
    FAMILY_NAMES,
    ROTATIONS,
    CopulaFamily,
    family_info,
    get_family,
    list_families,
    make_copula,
)

__all__ += ["UniformIntervals", "PairCopulaFit", "fit_pair_copula", "AUTO_FAMILIES"]
__all__ += ["FAMILY_NAMES", "ROTATIONS", "CopulaFamily", "get_family", "family_info",
            "list_families", "make_copula"]

"""Choosing a copula family and rotation by an information criterion."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from numpy.typing import ArrayLike

from ._base import BivariateCopula
from .registry import FAMILY_NAMES, get_family
from .fitting import CopulaFit, _check_method, _fit_family, check_copula_data, sample_kendall_tau

__all__ = ["select_copula"]

_CRITERIA = ("aic", "bic")


def select_copula(
    u: ArrayLike,
    *,
    families: Sequence[str | type[BivariateCopula]] = FAMILY_NAMES,
    rotations: bool = True,
    criterion: Literal["aic", "bic"] = "aic",
    method: Literal["mle", "itau"] = "mle",
) -> CopulaFit:
    r"""Fit every candidate family (and rotation) and return the best by AIC or BIC.

    With ``rotations=True``, a rotatable family (Clayton, Gumbel) is tried at the two rotations
    whose dependence has the sign of the sample Kendall's tau: 0 and 180 degrees (lower or
    upper tail dependence) when tau >= 0, 90 and 270 degrees when tau < 0. The other two
    rotations can only express dependence of the opposite sign, so their best fit is the
    near-independent member at the parameter bound, with a log-likelihood near 0 and a
    parameter to pay for: it does not beat the independence copula on AIC/BIC. Skipping them
    halves the work, as pyvinecopulib's preselection by the sign of tau does. With
    ``rotations=False`` only rotation 0 is tried.

    The criterion is :math:`\mathrm{AIC} = 2k - 2\ell` or :math:`\mathrm{BIC} = k \log n - 2\ell`
    (:math:`k` parameters, log-likelihood :math:`\ell`); ties go to the candidate with fewer
    parameters (so the independence copula wins when nothing improves on it).

    Parameters
    ----------
    u : array_like of shape (n, 2)
        Pseudo-observations in [0, 1] (see :func:`fit_copula` for the checks).
    families : sequence of str or BivariateCopula subclasses, default all six families
        Candidate families: any of ``"independence"``, ``"gaussian"``, ``"student"``,
        ``"clayton"``, ``"gumbel"``, ``"frank"``, or copula classes.
    rotations : bool, default True
        Whether to try the rotations of rotatable families (see above).
    criterion : {"aic", "bic"}, default "aic"
        Information criterion to minimise.
    method : {"mle", "itau"}, default "mle"
        Estimation method of each candidate (the criterion always uses the log-likelihood at
        the estimate).

    Returns
    -------
    CopulaFit
        The best candidate's fit; its ``candidates`` attribute holds every candidate's fit,
        sorted by the criterion (best first).

    Raises
    ------
    ValueError
        For bad ``u``, an empty or unknown ``families``, or an unknown ``criterion`` or
        ``method``.

    Examples
    --------
    >>> from llmcopula.copulas import IndependenceCopula, select_copula
    >>> u = IndependenceCopula().sample(300, rng=1)
    >>> best = select_copula(u, families=["independence"])
    >>> best.copula.family, len(best.candidates)
    ('independence', 1)
    """
    data = check_copula_data(u)
    if criterion not in _CRITERIA:
        raise ValueError(f"criterion: expected one of {_CRITERIA}, got {criterion!r}")
    method = _check_method(method)
    if isinstance(families, (str, type)) or len(families) == 0:
        raise ValueError(f"families: expected a non-empty sequence of families, got {families!r}")
    classes = list(dict.fromkeys(get_family(f) for f in families))  # drop repeats, keep order
    tau = sample_kendall_tau(data)

    fits = []
    for cls in classes:
        for rotation in _candidate_rotations(cls, tau, rotations):
            fits.append(_fit_family(data, cls, rotation=rotation, method=method, tau=tau))
    ranked = tuple(sorted(fits, key=lambda f: (getattr(f, criterion), f.n_params)))
    return dataclasses.replace(ranked[0], candidates=ranked)


def _candidate_rotations(
    cls: type[BivariateCopula], tau: float, rotations: bool
) -> tuple[int, ...]:
    if len(cls.allowed_rotations) == 1 or not rotations:
        return (0,)
    wanted = (0, 180) if tau >= 0 else (90, 270)
    return tuple(r for r in wanted if r in cls.allowed_rotations)

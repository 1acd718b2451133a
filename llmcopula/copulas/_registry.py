"""Lookup of the bivariate copula families by their short name.

The families are imported on first use, so that importing this module (and hence the fitting
code) never pulls in a family module that is not needed, and never creates an import cycle
with the package ``__init__``.
"""

from __future__ import annotations

import importlib

from ._base import BivariateCopula

__all__ = ["FAMILY_NAMES", "get_family"]

# name -> (module inside llmcopula.copulas, class name)
_FAMILIES: dict[str, tuple[str, str]] = {
    "independence": ("independence", "IndependenceCopula"),
    "gaussian": ("gaussian", "GaussianCopula"),
    "student": ("student", "StudentTCopula"),
    "clayton": ("clayton", "ClaytonCopula"),
    "gumbel": ("gumbel", "GumbelCopula"),
    "frank": ("frank", "FrankCopula"),
}

#: Names accepted by :func:`get_family`, :func:`fit_copula` and :func:`select_copula`.
FAMILY_NAMES: tuple[str, ...] = tuple(_FAMILIES)


def get_family(family: str | type[BivariateCopula]) -> type[BivariateCopula]:
    """The copula class for ``family``, given as a name (``"gumbel"``, case-insensitive) or
    as a :class:`BivariateCopula` subclass (returned unchanged).

    Examples
    --------
    >>> from llmcopula.copulas._registry import get_family
    >>> get_family("independence").__name__
    'IndependenceCopula'
    """
    if isinstance(family, type):
        if not issubclass(family, BivariateCopula):
            raise ValueError(
                "family: expected a BivariateCopula subclass or a name, "
                f"got class {family.__name__}"
            )
        return family
    if not isinstance(family, str):
        raise ValueError(f"family: expected a family name or class, got {family!r}")
    key = family.lower()
    if key not in _FAMILIES:
        raise ValueError(f"family: unknown family {family!r}; choose one of {FAMILY_NAMES}")
    module_name, class_name = _FAMILIES[key]
    module = importlib.import_module(f"{__package__}.{module_name}")
    cls: type[BivariateCopula] = getattr(module, class_name)
    return cls

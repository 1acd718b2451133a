"""The registry of bivariate copula families: names, classes, parameter names and rotations.

Code outside :mod:`llmcopula.copulas` that needs to enumerate or build families (a command-line
``--family`` option, a model that selects a family per pair, a file format that stores a fitted
copula) goes through this registry instead of naming classes or parameters itself.

The families are imported on first use, so that importing this module (and hence the fitting
code) never pulls in a family module that is not needed, and never creates an import cycle with
the package ``__init__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._base import BivariateCopula

__all__ = ["FAMILY_NAMES", "ROTATIONS", "CopulaFamily", "get_family", "family_info",
           "list_families", "make_copula"]

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

#: Every rotation (degrees) a family may support; each family lists its own in ``rotations``.
ROTATIONS: tuple[int, ...] = (0, 90, 180, 270)


@dataclass(frozen=True)
class CopulaFamily:
    """What the registry knows about one family.

    Attributes
    ----------
    name : str
        Short lowercase name (``"gumbel"``).
    copula_class : type of BivariateCopula
    param_names : tuple of str
        Constructor parameters, in the order of ``copula.params``.
    rotations : tuple of int
        Supported rotations in degrees (``(0,)`` for families that need none).
    param_bounds : tuple of (float, float)
        Bounds of each parameter used by maximum likelihood.
    """

    name: str
    copula_class: type[BivariateCopula]
    param_names: tuple[str, ...]
    rotations: tuple[int, ...]
    param_bounds: tuple[tuple[float, float], ...]

    @property
    def n_params(self) -> int:
        return len(self.param_names)


def get_family(family: str | type[BivariateCopula]) -> type[BivariateCopula]:
    """The copula class for ``family``, given as a name (``"gumbel"``, case-insensitive) or
    as a :class:`BivariateCopula` subclass (returned unchanged).

    Examples
    --------
    >>> from llmcopula.copulas import get_family
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


def family_info(family: str | type[BivariateCopula]) -> CopulaFamily:
    """The registry entry of a family (by name or class).

    Examples
    --------
    >>> from llmcopula.copulas import family_info
    >>> info = family_info("student")
    >>> info.param_names, info.rotations
    (('rho', 'df'), (0,))
    >>> family_info("gumbel").rotations
    (0, 90, 180, 270)
    """
    cls = get_family(family)
    return CopulaFamily(name=cls.family, copula_class=cls, param_names=tuple(cls.param_names),
                        rotations=tuple(cls.allowed_rotations),
                        param_bounds=tuple(cls.param_bounds()))


def list_families() -> tuple[CopulaFamily, ...]:
    """Every registered family, in the order of :data:`FAMILY_NAMES`."""
    return tuple(family_info(name) for name in FAMILY_NAMES)


def make_copula(family: str | type[BivariateCopula], params: Sequence[Any] = (), *,
                rotation: int = 0) -> BivariateCopula:
    """Build a copula from its family, its parameters in the order of ``param_names`` and a
    rotation (ignored, and required to be 0, for families without rotations).

    Examples
    --------
    >>> from llmcopula.copulas import make_copula
    >>> make_copula("gumbel", [2.0], rotation=180)
    GumbelCopula(theta=2.0, rotation=180)
    """
    cls = get_family(family)
    if len(params) != len(cls.param_names):
        raise ValueError(f"params: the {cls.family} copula has parameters {cls.param_names}, "
                         f"got {len(params)} value(s)")
    if rotation not in cls.allowed_rotations:
        raise ValueError(f"rotation: {cls.family} copula supports rotations "
                         f"{cls.allowed_rotations}, got {rotation!r}")
    return _build(cls, tuple(params), int(rotation))


def _build(cls: type[BivariateCopula], params: Sequence[Any], rotation: int) -> BivariateCopula:
    """:func:`make_copula` without the checks (the fitting code's inner loops)."""
    kwargs: dict[str, Any] = {
        name: float(v) for name, v in zip(cls.param_names, params, strict=True)
    }
    if len(cls.allowed_rotations) > 1:
        kwargs["rotation"] = rotation
    return cls(**kwargs)

"""Deprecation shims for the old ``(y, X)`` argument order of :mod:`llmcopula.selection`.

Until version 0.2 the information estimators and the selection functions took the label first,
``f(y, X)``. They now take ``f(X, y)`` like scikit-learn. For one release the old order still
works and issues a :class:`DeprecationWarning`; it is recognised by the shapes of the two
leading arguments: the new order has the predictions (2-d) first, the old one the 1-d labels.
When both are 1-d the call is ambiguous, but then every estimator concerned is symmetric in its
two leading arguments (I(Y; X) = I(X; Y), also for the plug-in and Miller–Madow estimates), so
the result does not depend on the reading.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])

_REMOVAL = "0.3"


def _ndim(value: Any) -> int:
    try:
        return int(np.ndim(value))
    except Exception:  # ragged input: let the function report it
        return -1


def is_legacy_order(first: Any, second: Any) -> bool:
    """True when ``(first, second)`` reads as ``(y, X)``: 1-d labels before 2-d predictions."""
    return _ndim(first) == 1 and _ndim(second) == 2


def warn_legacy(name: str, old: str, new: str, stacklevel: int = 3) -> None:
    warnings.warn(
        f"{name}({old}) is deprecated: pass {name}({new}) (predictions first, as in "
        f"scikit-learn); the old order will stop working in version {_REMOVAL}",
        DeprecationWarning, stacklevel=stacklevel)


def accepts_y_first(func: F) -> F:
    """Let ``func(X, y, ...)`` also be called as ``func(y, X, ...)``, with a DeprecationWarning.

    The two leading positional arguments are swapped when the first is 1-d and the second 2-d.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) >= 2 and is_legacy_order(args[0], args[1]):
            warn_legacy(func.__name__, "y, X", "X, y")
            args = (args[1], args[0], *args[2:])
        elif len(args) == 1 and "X" in kwargs and "y" not in kwargs and is_legacy_order(
                args[0], kwargs["X"]):
            # f(y, X=...) was valid under the old signature
            warn_legacy(func.__name__, "y, X", "X, y")
            args = (kwargs.pop("X"), args[0])
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]

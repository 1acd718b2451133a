"""Deprecations: an old call form keeps working for one release and says what to write instead.

Every deprecation of the package goes through these helpers, so that each one raises a
:class:`DeprecationWarning` whose message names the old form, the new form and the release in
which the old form stops working.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["REMOVAL", "warn_deprecated", "keyword_only_after"]

F = TypeVar("F", bound=Callable[..., Any])

#: The release in which the deprecated forms of this release stop working.
REMOVAL = "0.3"


def warn_deprecated(message: str, *, stacklevel: int = 3) -> None:
    """Emit a :class:`DeprecationWarning` that says when the old form goes away.

    ``stacklevel=3`` points at the caller of the function that calls this helper.
    """
    warnings.warn(f"{message} (deprecated; the old form stops working in llmcopula {REMOVAL})",
                  DeprecationWarning, stacklevel=stacklevel)


def keyword_only_after(*names: str) -> Callable[[F], F]:
    """Decorator: ``names`` became keyword-only, but passing them positionally still works for one
    release, with a :class:`DeprecationWarning`.

    ``names`` are the keyword-only parameters, in the order in which they used to follow the
    positional ones.

    Examples
    --------
    >>> @keyword_only_after("rng")
    ... def draw(n, *, rng=None):
    ...     return n, rng
    >>> draw(3, rng=1)
    (3, 1)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     draw(3, 1)
    (3, 1)
    >>> caught[0].category.__name__
    'DeprecationWarning'
    """

    def decorate(func: F) -> F:
        params = inspect.signature(func).parameters.values()
        n_positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
        keyword_only = {p.name for p in params if p.kind is p.KEYWORD_ONLY}
        missing = [n for n in names if n not in keyword_only]
        if missing:
            raise TypeError(f"{func.__qualname__}: {missing} are not keyword-only parameters")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            extra = args[n_positional:]
            if extra:
                if len(extra) > len(names):
                    raise TypeError(f"{func.__qualname__}() takes at most "
                                    f"{n_positional + len(names)} positional arguments, "
                                    f"got {len(args)}")
                moved = names[:len(extra)]
                for name, value in zip(moved, extra):
                    if name in kwargs:
                        raise TypeError(
                            f"{func.__qualname__}() got multiple values for argument {name!r}")
                    kwargs[name] = value
                warn_deprecated(
                    f"{func.__qualname__}: pass {', '.join(moved)} by keyword "
                    f"({', '.join(f'{n}=...' for n in moved)}), not positionally")
                args = args[:n_positional]
            return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate

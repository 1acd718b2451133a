"""The estimator base class: scikit-learn's parameter protocol without the scikit-learn dependency.

Every estimator of the package (an object with ``fit`` that returns ``self`` and learned
attributes ending in ``_``) derives from :class:`BaseEstimator`. Its constructor takes only
keyword options and stores each one unchanged under the same name, so that
:meth:`~BaseEstimator.get_params`, :meth:`~BaseEstimator.set_params` and :func:`clone` can
rebuild it. That is what sweeps need: a joblib worker receives an unfitted copy with the same
options, and a grid over options is a loop of ``set_params``.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, TypeVar

__all__ = ["BaseEstimator", "clone"]

E = TypeVar("E", bound="BaseEstimator")


class BaseEstimator:
    """Mixin giving ``get_params``, ``set_params`` and a readable ``repr``.

    Subclasses list their options as keyword arguments of ``__init__`` (no ``*args`` or
    ``**kwargs``) and store each one as an attribute of the same name without changing it;
    validation happens in ``fit``, as in scikit-learn.

    Examples
    --------
    >>> class Shrink(BaseEstimator):
    ...     def __init__(self, *, alpha=1.0, name=None):
    ...         self.alpha = alpha
    ...         self.name = name
    >>> est = Shrink(alpha=0.5)
    >>> est
    Shrink(alpha=0.5)
    >>> est.get_params()
    {'alpha': 0.5, 'name': None}
    >>> est.set_params(alpha=2.0).alpha
    2.0
    >>> clone(est) is est, clone(est).get_params() == est.get_params()
    (False, True)
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        names = []
        for p in params:
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}: estimators must list their options explicitly "
                                f"in __init__, without *args or **kwargs")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor options of this estimator.

        With ``deep=True``, options that are themselves estimators contribute their own
        options as ``<option>__<name>``.
        """
        out: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            out[name] = value
            if deep and isinstance(value, BaseEstimator):
                out.update({f"{name}__{k}": v for k, v in value.get_params(deep=True).items()})
        return out

    def set_params(self: E, **params: Any) -> E:
        """Set constructor options (``<option>__<name>`` reaches nested estimators); returns self.

        An unknown name raises ``ValueError`` naming it and the valid ones. Learned attributes
        are left as they are: refit after changing options.
        """
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            head, sep, rest = key.partition("__")
            if head not in valid:
                raise ValueError(
                    f"{key}: not an option of {type(self).__name__}; valid options: {valid}")
            if sep:
                nested.setdefault(head, {})[rest] = value
            else:
                setattr(self, head, value)
        for head, sub in nested.items():
            inner = getattr(self, head)
            if not isinstance(inner, BaseEstimator):
                raise ValueError(f"{head}: is not an estimator, so {sorted(sub)} cannot be set on it")
            inner.set_params(**sub)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__).parameters
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = sig[name].default
            try:
                same = value is default or bool(value == default)
            except (TypeError, ValueError):  # arrays and other objects without a plain ==
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


def clone(estimator: E) -> E:
    """An unfitted copy of ``estimator`` with the same options (deep-copied; nested estimators
    are cloned in turn).

    Raises ``ValueError`` if ``estimator`` is not a :class:`BaseEstimator`.
    """
    if not isinstance(estimator, BaseEstimator):
        raise ValueError(f"estimator: expected a llmcopula estimator, got {type(estimator).__name__}")
    params = {k: clone(v) if isinstance(v, BaseEstimator) else copy.deepcopy(v)
              for k, v in estimator.get_params(deep=False).items()}
    return type(estimator)(**params)

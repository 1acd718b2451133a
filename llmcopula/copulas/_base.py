"""The contract every bivariate copula family satisfies, and the rotation machinery.

A family implements its *unrotated* copula through six small hooks on plain float arrays
(``_cdf0``, ``_logpdf0``, ``_hfunc1_0``, ``_hinv1_0`` and, for non-exchangeable families,
``_hfunc2_0`` / ``_hinv2_0``). The public methods validate ``u``, apply the rotation and
broadcast the parameters against the leading axes of ``u``.

Conventions (the same as pyvinecopulib / VineCopula):

* ``u`` has shape ``(..., 2)``; results have shape ``(...)``.
* ``hfunc1(u) = ∂C(u1, u2)/∂u1 = P(U2 <= u2 | U1 = u1)`` and
  ``hfunc2(u) = ∂C(u1, u2)/∂u2 = P(U1 <= u1 | U2 = u2)``.
* ``hinv1(u)`` takes ``u[..., 0] = u1`` and ``u[..., 1] = p`` and returns ``u2`` with
  ``hfunc1([u1, u2]) = p``; ``hinv2(u)`` takes ``u[..., 0] = p`` and ``u[..., 1] = u2`` and
  returns ``u1`` with ``hfunc2([u1, u2]) = p``.
* Rotations by 90, 180 and 270 degrees (counter-clockwise) of the copula density:

  ========  =================================  ==========================
  rotation  C(u1, u2)                          c(u1, u2)
  ========  =================================  ==========================
  0         C0(u1, u2)                         c0(u1, u2)
  90        u2 - C0(1 - u1, u2)                c0(1 - u1, u2)
  180       u1 + u2 - 1 + C0(1 - u1, 1 - u2)   c0(1 - u1, 1 - u2)
  270       u1 - C0(u1, 1 - u2)                c0(u1, 1 - u2)
  ========  =================================  ==========================

  Rotating by 90 or 270 degrees turns positive into negative dependence (tau changes sign);
  rotating by 180 degrees swaps the lower and upper tails (the *survival* copula).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._deprecation import keyword_only_after
from .._validation import RNGLike, check_positive_int, check_rng, check_unit_pairs

__all__ = ["BivariateCopula"]

FloatArray = NDArray[np.float64]

_ROTATIONS = (0, 90, 180, 270)


class BivariateCopula(ABC):
    """Abstract base class of the bivariate copula families.

    Instances are immutable values, like frozen ``scipy.stats`` distributions: the parameters
    are fixed at construction and every method is a pure function of ``u``. A parameter may be
    a scalar or an array; arrays broadcast against the leading axes of ``u`` (one parameter per
    row of an ``(n, 2)`` array works).

    Subclasses set the class attributes below and implement the unrotated hooks.
    """

    #: Short lowercase family name used by :func:`fit_copula` and :func:`select_copula`.
    family: ClassVar[str] = ""
    #: Names of the parameters, in the order of :attr:`params`.
    param_names: ClassVar[tuple[str, ...]] = ()
    #: Rotations (degrees) the family supports.
    allowed_rotations: ClassVar[tuple[int, ...]] = (0,)
    #: Whether C0(u1, u2) == C0(u2, u1); then the ``*2_0`` hooks derive from the ``*1_0`` ones.
    exchangeable: ClassVar[bool] = True

    _frozen: bool = False

    # ------------------------------------------------------------------------------------------
    # construction and value semantics
    def _init_params(self, rotation: int = 0, **params: Any) -> None:
        """Store validated parameters (called by subclass ``__init__``) and freeze the object."""
        if rotation not in self.allowed_rotations:
            raise ValueError(
                f"rotation: {self.family} copula supports rotations {self.allowed_rotations}, "
                f"got {rotation!r}"
            )
        object.__setattr__(self, "_rotation", int(rotation))
        stored = {}
        for name in self.param_names:
            value = np.asarray(params[name], dtype=np.float64)
            if np.isnan(value).any():
                raise ValueError(f"{name}: contains NaN")
            if value.ndim == 0:
                stored[name] = float(value)
            else:
                value = value.copy()
                value.setflags(write=False)
                stored[name] = value
        object.__setattr__(self, "_params", stored)
        object.__setattr__(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} objects are immutable")
        object.__setattr__(self, name, value)

    @property
    def rotation(self) -> int:
        """Rotation of the copula density in degrees (0, 90, 180 or 270)."""
        return self._rotation

    @property
    def params(self) -> tuple[Any, ...]:
        """Parameter values in the order of :attr:`param_names`."""
        return tuple(self._params[n] for n in self.param_names)

    def with_params(self, *params: Any) -> BivariateCopula:
        """A new copula of the same family and rotation with other parameter values."""
        kwargs = dict(zip(self.param_names, params, strict=True))
        if len(self.allowed_rotations) > 1:
            kwargs["rotation"] = self.rotation
        return type(self)(**kwargs)

    # ------------------------------------------------------------------------------------------
    # hooks used by fitting (``fit_copula``)
    @classmethod
    def param_bounds(cls) -> tuple[tuple[float, float], ...]:
        """Bounds of each parameter used by maximum likelihood (one (low, high) per parameter)."""
        return ()

    @classmethod
    @abstractmethod
    def from_tau(cls, tau: float, *, rotation: int | None = None) -> BivariateCopula:
        """The member of the family with Kendall's tau equal to ``tau``.

        For rotatable families, ``rotation=None`` picks 0 for ``tau >= 0`` and 90 otherwise.
        """

    def __repr__(self) -> str:
        parts = [f"{n}={self._params[n]!r}" for n in self.param_names]
        if len(self.allowed_rotations) > 1:
            parts.append(f"rotation={self.rotation}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.rotation == other.rotation and all(  # type: ignore[attr-defined]
            np.array_equal(a, b) for a, b in zip(self.params, other.params)  # type: ignore[attr-defined]
        )

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------------------------------
    # hooks for the unrotated copula (plain float arrays, already validated, broadcastable)
    @abstractmethod
    def _cdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _logpdf0(self, u1: FloatArray, u2: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _hfunc1_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _hinv1_0(self, u1: FloatArray, p: FloatArray) -> FloatArray: ...

    def _hfunc2_0(self, u1: FloatArray, u2: FloatArray) -> FloatArray:
        if not self.exchangeable:  # pragma: no cover - guard for future families
            raise NotImplementedError
        return self._hfunc1_0(u2, u1)

    def _hinv2_0(self, p: FloatArray, u2: FloatArray) -> FloatArray:
        if not self.exchangeable:  # pragma: no cover
            raise NotImplementedError
        return self._hinv1_0(u2, p)

    @property
    @abstractmethod
    def _tau0(self) -> Any:
        """Kendall's tau of the unrotated copula."""

    @property
    @abstractmethod
    def _tail0(self) -> tuple[Any, Any]:
        """(lower, upper) tail dependence coefficients of the unrotated copula."""

    # ------------------------------------------------------------------------------------------
    # public, rotation-aware methods
    def cdf(self, u: ArrayLike) -> FloatArray:
        """Copula distribution function C(u1, u2) = P(U1 <= u1, U2 <= u2)."""
        u1, u2 = check_unit_pairs(u)
        r = self.rotation
        if r == 0:
            out = self._cdf0(u1, u2)
        elif r == 90:
            out = u2 - self._cdf0(1.0 - u1, u2)
        elif r == 180:
            out = u1 + u2 - 1.0 + self._cdf0(1.0 - u1, 1.0 - u2)
        else:
            out = u1 - self._cdf0(u1, 1.0 - u2)
        # Rounding can push a difference of two probabilities a few ulps outside the
        # Fréchet–Hoeffding bounds; clip to them so the result is always a valid probability.
        return np.clip(out, np.maximum(u1 + u2 - 1.0, 0.0), np.minimum(u1, u2))

    def logpdf(self, u: ArrayLike) -> FloatArray:
        """Log of the copula density, computed in log space (finite where the density is
        positive, even when ``pdf`` underflows)."""
        u1, u2 = check_unit_pairs(u)
        a, b = self._rotate_args(u1, u2)
        return np.asarray(self._logpdf0(a, b), dtype=np.float64)

    def pdf(self, u: ArrayLike) -> FloatArray:
        """Copula density c(u1, u2) = ∂²C/∂u1∂u2."""
        with np.errstate(over="ignore"):  # inf where the density exceeds the float range
            return np.exp(self.logpdf(u))

    def hfunc1(self, u: ArrayLike) -> FloatArray:
        """h-function ∂C/∂u1 = P(U2 <= u2 | U1 = u1)."""
        u1, u2 = check_unit_pairs(u)
        r = self.rotation
        if r == 0:
            out = self._hfunc1_0(u1, u2)
        elif r == 90:
            out = self._hfunc1_0(1.0 - u1, u2)
        elif r == 180:
            out = 1.0 - self._hfunc1_0(1.0 - u1, 1.0 - u2)
        else:
            out = 1.0 - self._hfunc1_0(u1, 1.0 - u2)
        return np.clip(out, 0.0, 1.0)

    def hfunc2(self, u: ArrayLike) -> FloatArray:
        """h-function ∂C/∂u2 = P(U1 <= u1 | U2 = u2)."""
        u1, u2 = check_unit_pairs(u)
        r = self.rotation
        if r == 0:
            out = self._hfunc2_0(u1, u2)
        elif r == 90:
            out = 1.0 - self._hfunc2_0(1.0 - u1, u2)
        elif r == 180:
            out = 1.0 - self._hfunc2_0(1.0 - u1, 1.0 - u2)
        else:
            out = self._hfunc2_0(u1, 1.0 - u2)
        return np.clip(out, 0.0, 1.0)

    def hinv1(self, u: ArrayLike) -> FloatArray:
        """Inverse of :meth:`hfunc1` in its second argument: given ``u[..., 0] = u1`` and
        ``u[..., 1] = p``, the ``u2`` with P(U2 <= u2 | U1 = u1) = p."""
        u1, p = check_unit_pairs(u)
        r = self.rotation
        if r == 0:
            out = self._hinv1_0(u1, p)
        elif r == 90:
            out = self._hinv1_0(1.0 - u1, p)
        elif r == 180:
            out = 1.0 - self._hinv1_0(1.0 - u1, 1.0 - p)
        else:
            out = 1.0 - self._hinv1_0(u1, 1.0 - p)
        return np.clip(out, 0.0, 1.0)

    def hinv2(self, u: ArrayLike) -> FloatArray:
        """Inverse of :meth:`hfunc2` in its first argument: given ``u[..., 0] = p`` and
        ``u[..., 1] = u2``, the ``u1`` with P(U1 <= u1 | U2 = u2) = p."""
        p, u2 = check_unit_pairs(u)
        r = self.rotation
        if r == 0:
            out = self._hinv2_0(p, u2)
        elif r == 90:
            out = 1.0 - self._hinv2_0(1.0 - p, u2)
        elif r == 180:
            out = 1.0 - self._hinv2_0(1.0 - p, 1.0 - u2)
        else:
            out = self._hinv2_0(p, 1.0 - u2)
        return np.clip(out, 0.0, 1.0)

    @keyword_only_after("rng")
    def sample(self, n: int, *, rng: RNGLike = None) -> FloatArray:
        """Draw ``n`` points from the copula by the conditional (Rosenblatt) method:
        U1 ~ U(0, 1), P ~ U(0, 1), U2 = hinv1(U1, P). Returns an array of shape ``(n, 2)``.

        With array-valued parameters, their shape must broadcast against ``(n,)``."""
        n = check_positive_int(n, "n", minimum=0)
        gen = check_rng(rng)
        w = gen.random((n, 2))
        u2 = self.hinv1(w)
        return np.stack([w[:, 0], u2], axis=-1)

    @property
    def tau(self) -> Any:
        """Kendall's rank correlation tau."""
        t = self._tau0
        return -t if self.rotation in (90, 270) else t

    @property
    def lower_tail_dependence(self) -> Any:
        """lambda_L = lim_{q->0} P(U2 <= q | U1 <= q)."""
        lo, up = self._tail0
        if self.rotation == 0:
            return lo
        if self.rotation == 180:
            return up
        return 0.0 * np.asarray(lo) if np.ndim(lo) else 0.0

    @property
    def upper_tail_dependence(self) -> Any:
        """lambda_U = lim_{q->1} P(U2 > q | U1 > q)."""
        lo, up = self._tail0
        if self.rotation == 0:
            return up
        if self.rotation == 180:
            return lo
        return 0.0 * np.asarray(up) if np.ndim(up) else 0.0

    # ------------------------------------------------------------------------------------------
    def _rotate_args(self, u1: FloatArray, u2: FloatArray) -> tuple[FloatArray, FloatArray]:
        r = self.rotation
        if r == 0:
            return u1, u2
        if r == 90:
            return 1.0 - u1, u2
        if r == 180:
            return 1.0 - u1, 1.0 - u2
        return u1, 1.0 - u2

    @classmethod
    def _default_rotation(cls, tau: float) -> int:
        """Rotation used by ``from_tau`` when none is given: 0 for tau >= 0, else 90."""
        if tau >= 0 or len(cls.allowed_rotations) == 1:
            return 0
        return 90

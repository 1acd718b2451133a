"""Monotone transforms of a raw log-probability confidence signal, applied before calibration.

A raw confidence signal is a natural-log probability ``ell <= 0`` (``-inf`` allowed), with
``p = exp(ell)``. Platt scaling fits a logistic model that is *linear* in the transformed signal
``xi``, so the transform decides the shape of the calibration curve. Two transforms stretch the
region near ``p = 1``, where LLM log-probabilities crowd together (Zellinger & Thomson, *Rational
Tuning of LLM Cascades via Probabilistic Modeling*, arXiv:2501.09345, TMLR 2025):

* one-sided asymptotic log, for the log-probability of a single answer token (MMLU, MedMCQA)::

      xi = -log(1 - p),    xi in [0, +inf]

* two-sided asymptotic log, for a P(True) self-verification log-probability (GSM8K, TriviaQA)::

      xi = log(2 p)             if p < 1/2
      xi = -log(2 (1 - p))      if p >= 1/2,     xi in [-inf, +inf]

Both are computed through ``log1mexp(a) = log(1 - exp(a))`` evaluated as in Mächler (2012),
*Accurately computing log(1 - exp(-|a|))*, so they are accurate for every ``ell`` in
``[-inf, 0]``, including ``|ell|`` below 1e-300 and ``ell`` below -700. Every transform is strictly
increasing and has an exact inverse, which maps a threshold on ``xi`` back to the raw scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ConfidenceTransform",
    "OneSidedLogTransform",
    "TwoSidedLogTransform",
    "IdentityTransform",
    "get_transform",
    "TRANSFORM_FOR_SIGNAL",
]

_LOG2 = float(np.log(2.0))

TRANSFORM_FOR_SIGNAL: dict[str, str] = {"logprob": "one-sided", "p_true": "two-sided"}
"""Transform chosen by ``get_transform("auto", signal=...)`` for each known signal type:
``"logprob"`` (log-probability of the answer token: MMLU, MedMCQA) and ``"p_true"`` (log-probability
of a self-verification "Y": GSM8K, TriviaQA)."""


def _log1mexp(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log(1 - exp(a))`` for ``a <= 0``, accurate everywhere (Mächler 2012).

    ``log(-expm1(a))`` loses nothing near 0 and ``log1p(-exp(a))`` loses nothing for very negative
    ``a``; the switch point ``-log 2`` is where both are accurate. ``a = 0`` gives ``-inf`` and
    ``a = -inf`` gives ``0``.
    """
    out = np.empty_like(a)
    near = a > -_LOG2
    with np.errstate(divide="ignore"):
        out[near] = np.log(-np.expm1(a[near]))
    out[~near] = np.log1p(-np.exp(a[~near]))
    return out


def _check_logprob(ell: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(ell, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains {int(np.isnan(arr).sum())} NaN value(s)")
    if (arr > 0).any():
        raise ValueError(
            f"{name}: a log-probability signal must be <= 0, got {int((arr > 0).sum())} "
            f"positive value(s) (max {arr.max():.6g})"
        )
    return arr


def _check_no_nan(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains {int(np.isnan(arr).sum())} NaN value(s)")
    return arr


@dataclass(frozen=True)
class ConfidenceTransform:
    """A strictly increasing map ``xi = forward(ell)`` of a raw confidence signal, with its inverse.

    Subclasses implement ``forward`` and ``inverse``; ``raw_range`` and ``xi_range`` give the
    closed domain and image (infinite end points included).
    """

    name: ClassVar[str] = ""
    raw_range: ClassVar[tuple[float, float]] = (-np.inf, np.inf)
    xi_range: ClassVar[tuple[float, float]] = (-np.inf, np.inf)

    def forward(self, raw: ArrayLike) -> NDArray[np.float64]:  # pragma: no cover - abstract
        raise NotImplementedError

    def inverse(self, xi: ArrayLike) -> NDArray[np.float64]:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class OneSidedLogTransform(ConfidenceTransform):
    """One-sided asymptotic log, ``xi = -log(1 - exp(ell))``, for answer-token log-probabilities.

    Maps ``[-inf, 0]`` onto ``[0, +inf]``: ``ell = -inf`` gives 0, ``ell = 0`` gives ``+inf``,
    ``xi ~ -log(-ell)`` as ``ell -> 0`` and ``xi ~ exp(ell)`` as ``ell -> -inf``. The map is its own
    inverse up to a sign: ``inverse(xi) = log(1 - exp(-xi))``.

    Examples
    --------
    >>> t = OneSidedLogTransform()
    >>> t.forward([-np.inf, np.log(0.5), 0.0])
    array([0.        , 0.69314718,        inf])
    >>> bool(np.isclose(t.inverse(t.forward(-1e-9)), -1e-9, rtol=1e-14, atol=0))
    True
    """

    name: ClassVar[str] = "one-sided"
    raw_range: ClassVar[tuple[float, float]] = (-np.inf, 0.0)
    xi_range: ClassVar[tuple[float, float]] = (0.0, np.inf)

    def forward(self, raw: ArrayLike) -> NDArray[np.float64]:
        ell = _check_logprob(raw, "raw")
        return -_log1mexp(ell)

    def inverse(self, xi: ArrayLike) -> NDArray[np.float64]:
        arr = _check_no_nan(xi, "xi")
        if (arr < 0).any():
            raise ValueError(f"xi: the one-sided transform takes values >= 0, got min {arr.min():.6g}")
        return _log1mexp(-arr)


@dataclass(frozen=True)
class TwoSidedLogTransform(ConfidenceTransform):
    """Two-sided asymptotic log for P(True) log-probabilities.

    ``xi = log(2p)`` for ``p < 1/2`` and ``xi = -log(2(1 - p))`` for ``p >= 1/2``, with
    ``p = exp(ell)``: a continuous, strictly increasing map of ``[-inf, 0]`` onto ``[-inf, +inf]``,
    odd-symmetric about ``p = 1/2`` (``xi(1 - p) = -xi(p)``), with ``xi(1/2) = 0``.

    Examples
    --------
    >>> t = TwoSidedLogTransform()
    >>> t.forward(np.log([0.25, 0.5, 0.75]))
    array([-0.69314718,  0.        ,  0.69314718])
    >>> t.inverse([-np.inf, 0.0])
    array([       -inf, -0.69314718])
    """

    name: ClassVar[str] = "two-sided"
    raw_range: ClassVar[tuple[float, float]] = (-np.inf, 0.0)

    def forward(self, raw: ArrayLike) -> NDArray[np.float64]:
        ell = _check_logprob(raw, "raw")
        low = ell < -_LOG2
        # Evaluate each branch only where it applies, so that neither produces warnings.
        out = np.empty_like(ell)
        out[low] = ell[low] + _LOG2
        out[~low] = -_LOG2 - _log1mexp(ell[~low])
        return out

    def inverse(self, xi: ArrayLike) -> NDArray[np.float64]:
        arr = _check_no_nan(xi, "xi")
        low = arr < 0
        out = np.empty_like(arr)
        out[low] = arr[low] - _LOG2
        out[~low] = _log1mexp(-arr[~low] - _LOG2)
        return out


@dataclass(frozen=True)
class IdentityTransform(ConfidenceTransform):
    """The identity, ``xi = raw``, for signals that are already on a suitable scale.

    Any real value (``±inf`` included) is accepted; NaN raises.

    Examples
    --------
    >>> IdentityTransform().forward([-1.0, 2.0])
    array([-1.,  2.])
    """

    name: ClassVar[str] = "identity"

    def forward(self, raw: ArrayLike) -> NDArray[np.float64]:
        return _check_no_nan(raw, "raw").copy()

    def inverse(self, xi: ArrayLike) -> NDArray[np.float64]:
        return _check_no_nan(xi, "xi").copy()


_TRANSFORMS: dict[str, type[ConfidenceTransform]] = {
    "one-sided": OneSidedLogTransform,
    "two-sided": TwoSidedLogTransform,
    "identity": IdentityTransform,
}

TransformName = Literal["one-sided", "two-sided", "identity", "auto"]


def get_transform(name: TransformName | ConfidenceTransform, signal: str | None = None
                  ) -> ConfidenceTransform:
    """Return the transform called ``name``; ``"auto"`` chooses it from the signal type.

    Parameters
    ----------
    name : {"one-sided", "two-sided", "identity", "auto"} or ConfidenceTransform
        A transform object is returned unchanged.
    signal : {"logprob", "p_true"}, optional
        Required for ``"auto"``: ``"logprob"`` (answer-token log-probability) selects the one-sided
        transform and ``"p_true"`` (self-verification log-probability) the two-sided one, as in
        Zellinger & Thomson (2025).

    Examples
    --------
    >>> get_transform("auto", signal="p_true").name
    'two-sided'
    """
    if isinstance(name, ConfidenceTransform):
        return name
    if name == "auto":
        if signal not in TRANSFORM_FOR_SIGNAL:
            raise ValueError(
                f"signal: transform='auto' needs the signal type, one of "
                f"{sorted(TRANSFORM_FOR_SIGNAL)}, got {signal!r}; pass the transform explicitly "
                f"for other signals"
            )
        name = TRANSFORM_FOR_SIGNAL[signal]  # type: ignore[assignment]
    if name not in _TRANSFORMS:
        raise ValueError(
            f"transform: expected one of {sorted(_TRANSFORMS) + ['auto']}, got {name!r}"
        )
    return _TRANSFORMS[name]()

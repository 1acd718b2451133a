"""Threshold rules on the raw signal that are *exactly* the rules on the calibrated confidence.

A cascade stage accepts iff its calibrated confidence Φ = f(raw) is strictly above a threshold t.
For a monotone calibrator f this is a rule on the raw signal alone:

- f non-decreasing ("above"): Φ > t  ⇔  raw > r,  with r = max{x : f(x) <= t};
- f non-increasing ("below"): Φ > t  ⇔  raw < r,  with r = min{x : f(x) <= t}.

An analytic inverse of f gives r up to rounding, and rounding matters exactly where the tuner puts
thresholds: at atoms of Φ (every raw log-probability of 0 shares one Φ), and at one ulp below
them. :func:`exact_raw_threshold` therefore finds r by bisection over the *floating-point numbers*
of the signal's domain, evaluating f itself: the result is the last float that defers (for
"above"), so that the rule on the raw signal and the rule on f's output agree on every float on
which f is monotone, which is every float for the shipped calibrators.

Infinite thresholds are absolute, as in :mod:`llmcopula.policy`: "above −inf" accepts every value
(a raw of −inf included), "above +inf" none; "below +inf" every value, "below −inf" none.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DIRECTIONS", "calibrator_direction", "exact_raw_threshold", "raw_rules",
           "accepts_raw"]

FloatArray = NDArray[np.float64]

DIRECTIONS = ("above", "below")

_SIGN = np.int64(-0x8000000000000000)
_MAG = np.int64(0x7FFFFFFFFFFFFFFF)


def _float_key(x: FloatArray) -> NDArray[np.int64]:
    """A strictly increasing map of the floats (no NaN) to int64, with −0.0 and 0.0 equal."""
    i = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    return np.where(i < 0, -(i & _MAG), i)


def _key_float(k: NDArray[np.int64]) -> FloatArray:
    i = np.where(k < 0, (-k) | _SIGN, k).astype(np.int64)
    return i.view(np.float64)


def calibrator_direction(calibrator: Any) -> str:
    """"above" if the calibrator's output does not decrease with the raw signal, "below" if it
    does not increase (its ``direction_`` attribute; calibrators without one are taken as
    non-decreasing, the :class:`~llmcopula.calibration.Calibrator` contract's default)."""
    direction = getattr(calibrator, "direction_", "above")
    if direction not in DIRECTIONS:
        raise ValueError(f"calibrator: direction_ must be 'above' or 'below', got {direction!r}")
    return direction


def exact_raw_threshold(predict: Callable[[FloatArray], FloatArray], phi: ArrayLike,
                        direction: str, domain: tuple[float, float] = (-np.inf, np.inf)
                        ) -> FloatArray:
    """Raw thresholds r with "predict(x) > phi ⇔ x > r" ("above") or "⇔ x < r" ("below").

    Parameters
    ----------
    predict : callable
        The calibrator's map from raw signals (1-d float array) to calibrated confidences,
        monotone in the given ``direction``.
    phi : array_like
        Calibrated thresholds.
    direction : {"above", "below"}
    domain : (lo, hi)
        The closed range of valid raw signals (e.g. (−inf, 0] for log-probabilities).

    Returns
    -------
    ndarray like ``phi``
        For "above", the largest float x of the domain with predict(x) <= phi (−inf when even
        ``lo`` is accepted, +inf when no value of the domain is); for "below", the smallest such
        x (+inf when every value is accepted, −inf when none is).

    Examples
    --------
    >>> f = lambda x: np.clip(x, 0.0, 1.0)   # a calibration that saturates at both ends
    >>> exact_raw_threshold(f, [0.5, -0.1, 1.0], "above").tolist()
    [0.5, -inf, inf]
    >>> exact_raw_threshold(lambda x: f(-x), [0.25], "below")  # Φ > t ⇔ x < r
    array([-0.25])
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: expected 'above' or 'below', got {direction!r}")
    q = np.asarray(phi, dtype=np.float64)
    shape = q.shape
    q = q.reshape(-1)
    lo, hi = float(domain[0]), float(domain[1])
    if not lo <= hi:
        raise ValueError(f"domain: expected lo <= hi, got {domain}")
    out = np.empty(q.size)
    f_lo = np.broadcast_to(predict(np.array([lo])), (1,))[0]
    f_hi = np.broadcast_to(predict(np.array([hi])), (1,))[0]
    if direction == "above":
        accept_all = f_lo > q
        accept_none = ~accept_all & (f_hi <= q)
        out[accept_all], out[accept_none] = -np.inf, np.inf
        # Invariant: predict(L) <= phi < predict(H).
        todo = ~(accept_all | accept_none)
    else:
        accept_all = f_hi > q
        accept_none = ~accept_all & (f_lo <= q)
        out[accept_all], out[accept_none] = np.inf, -np.inf
        # Invariant: predict(L) > phi >= predict(H).
        todo = ~(accept_all | accept_none)
    if todo.any():
        target = q[todo]
        lo_k = np.full(target.size, _float_key(np.array([lo]))[0])
        hi_k = np.full(target.size, _float_key(np.array([hi]))[0])
        while True:
            open_ = hi_k > lo_k + 1  # (hi - lo can overflow int64)
            if not open_.any():
                break
            # Midpoint without int64 overflow.
            mid = lo_k // 2 + hi_k // 2 + ((lo_k % 2) + (hi_k % 2)) // 2
            mid = np.where(open_, np.clip(mid, lo_k + 1, hi_k - 1), lo_k)
            f_mid = predict(_key_float(mid))
            low_side = f_mid <= target if direction == "above" else f_mid > target
            lo_k = np.where(open_ & low_side, mid, lo_k)
            hi_k = np.where(open_ & ~low_side, mid, hi_k)
        out[todo] = _key_float(lo_k if direction == "above" else hi_k)
    return out.reshape(shape)


def raw_rules(calibrators: Sequence[Any], thresholds: ArrayLike
              ) -> tuple[tuple[str, ...], FloatArray]:
    """The rules "accept iff calibrated confidence > t_j" of a cascade's first k − 1 stages as
    rules on the raw signals: a direction per stage and a raw threshold per point and stage.

    Parameters
    ----------
    calibrators : sequence of Calibrator
        The calibrators of stages 0..k−2 (extra ones are ignored).
    thresholds : array_like of shape (B, k − 1)
        Calibrated thresholds; values outside [0, 1] are clipped to it.

    Returns
    -------
    directions : tuple of str, length k − 1
    raw : ndarray of shape (B, k − 1)
        Stage j accepts iff raw_j > r_j ("above") or raw_j < r_j ("below"), with infinite
        thresholds absolute (see the module docstring).
    """
    t = np.asarray(thresholds, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] > len(calibrators):
        raise ValueError(f"thresholds: expected shape (B, k − 1) with k − 1 <= "
                         f"{len(calibrators)}, got {t.shape}")
    directions = tuple(calibrator_direction(calibrators[j]) for j in range(t.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # decreasing calibrators warned at fit
        cols = [np.asarray(calibrators[j].raw_threshold(np.clip(t[:, j], 0.0, 1.0)),
                           dtype=np.float64) for j in range(t.shape[1])]
    return directions, (np.column_stack(cols) if cols else np.empty((t.shape[0], 0)))


def accepts_raw(raw: ArrayLike, direction: str, threshold: ArrayLike) -> NDArray[np.bool_]:
    """Whether raw signals are accepted by the rule (direction, threshold), vectorised with
    broadcasting; infinite thresholds are absolute and NaN never accepts.

    >>> accepts_raw([-np.inf, -1.0, 0.0], "above", -np.inf).tolist()
    [True, True, True]
    >>> accepts_raw([-np.inf, -1.0, 0.0], "below", -1.0).tolist()
    [True, False, False]
    """
    x = np.asarray(raw, dtype=np.float64)
    r = np.asarray(threshold, dtype=np.float64)
    if direction == "above":
        return np.where(np.isneginf(r), ~np.isnan(x), x > r)
    if direction == "below":
        return np.where(np.isposinf(r), ~np.isnan(x), x < r)
    raise ValueError(f"direction: expected 'above' or 'below', got {direction!r}")

"""Element-wise coercion of log columns, shared by :class:`ChainLog` and :func:`read_log`.

Each coercer returns the converted values together with a boolean mask of the entries that are
invalid, so that the caller can name the offending rows in its own terms (array positions for
``ChainLog.from_arrays``, table rows for ``read_log``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

SIGNALS: tuple[str, ...] = ("logprob", "p_true")
"""The recognised kinds of raw confidence signal (see :class:`ChainLog`)."""

_SHOW = 5  # how many offending entries an error message lists


def _to_float(values: Any) -> NDArray[np.float64]:
    """Convert to float64; entries that are not numbers become NaN (flagged by the callers)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    flat = pd.to_numeric(pd.Series(arr.ravel(), dtype=object), errors="coerce")
    return flat.to_numpy(dtype=np.float64, na_value=np.nan).reshape(arr.shape)


def coerce_confidence(values: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Confidences: any real number, including -inf and +inf; NaN and non-numbers are invalid."""
    f = _to_float(values)
    return f, np.isnan(f)


def coerce_correct(values: Any) -> tuple[NDArray[np.int8], NDArray[np.bool_]]:
    """Correctness: bool, or a number equal to 0 or 1 (0.0/1.0 too); anything else is invalid."""
    f = _to_float(values)
    bad = (f != 0.0) & (f != 1.0)  # NaN compares unequal, so it is flagged too
    return np.where(bad, 0, f).astype(np.int8), bad


def coerce_cost(values: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Costs: finite and non-negative; NaN, infinities, negatives and non-numbers are invalid."""
    f = _to_float(values)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(f) & (f >= 0.0))
    return f, bad


def coerce_text(values: Any) -> NDArray[np.object_]:
    """Answers / references: an object array of ``str``, with ``None`` where absent.

    Missing values (None, NaN, pd.NA) and the empty string all mean "absent" (the shipped files
    write an absent answer as an empty field). Other values are converted with ``str``.
    """
    arr = np.asarray(values, dtype=object)
    flat = pd.Series(arr.ravel(), dtype=object)
    absent = flat.isna().to_numpy() | (flat == "").to_numpy()
    if pd.api.types.infer_dtype(flat, skipna=True) in ("string", "empty"):
        out = flat.to_numpy(dtype=object, copy=True)  # all str already: skip per-item calls
    else:
        out = flat.map(str).to_numpy(dtype=object)
    out[absent] = None
    return out.reshape(arr.shape)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar, so messages read ``3`` rather than ``np.int64(3)``."""
    return value.item() if isinstance(value, np.generic) else value


def describe_bad(name: str, problem: str, bad: NDArray[np.bool_], values: Any,
                 locate: Any) -> str:
    """Build the message for invalid entries: count, and the first few locations with values.

    ``locate(i)`` turns a flat index into ``bad`` into a human-readable location.
    """
    flat_bad = np.flatnonzero(bad)
    flat_values = np.asarray(values, dtype=object).ravel()
    shown = "; ".join(f"{locate(int(i))}: {plain(flat_values[i])!r}" for i in flat_bad[:_SHOW])
    more = f" (first {_SHOW} of {flat_bad.size} shown)" if flat_bad.size > _SHOW else ""
    return f"{name}: {flat_bad.size} value(s) {problem}: {shown}{more}"


def check_signal(signal: Any) -> str | None:
    """``signal`` must be None or one of :data:`SIGNALS`."""
    if signal is None or signal in SIGNALS:
        return signal
    raise ValueError(f"signal: expected None or one of {list(SIGNALS)}, got {signal!r}")


def check_optional_str(value: Any, name: str) -> str | None:
    """Metadata strings (benchmark, split) are None or str."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{name}: expected a string or None, got {type(value).__name__}")


def check_model_names(models: Any) -> tuple[str, ...]:
    """Model names: a non-empty sequence of distinct, non-empty strings."""
    if isinstance(models, str) or not isinstance(models, (Sequence, np.ndarray)):
        raise ValueError(f"models: expected a sequence of model names, got {models!r}")
    names = tuple(models)
    if not names:
        raise ValueError("models: at least one model is required")
    not_str = [m for m in names if not isinstance(m, str) or not m]
    if not_str:
        raise ValueError(f"models: names must be non-empty strings, got {not_str[:_SHOW]!r}")
    dupes = sorted({m for m in names if names.count(m) > 1})
    if dupes:
        raise ValueError(f"models: names must be distinct, repeated: {dupes}")
    return tuple(str(m) for m in names)

"""Platt calibration of a transformed confidence signal.

The calibrated confidence of a model on a query is

    Phi = sigma(a + b * clip(xi, xi_min, xi_max)),    xi = T(raw),    sigma(z) = 1 / (1 + e^-z),

where ``T`` is a monotone transform (:mod:`llmcopula.calibration.transforms`), ``(a, b)`` is the
unpenalised maximum-likelihood logistic regression of the correctness labels on ``xi`` (Platt 1999,
*Probabilistic outputs for support vector machines*), and ``[xi_min, xi_max]`` is the range of the
finite training values of ``xi``. This is the calibrator of Zellinger & Thomson, *Rational Tuning
of LLM Cascades via Probabilistic Modeling* (arXiv:2501.09345, section 2; see also
``docs/calibration.md``).

Clipping sends ``xi = +inf`` (raw log-probability exactly 0) to ``xi_max`` and ``xi = -inf`` to
``xi_min``, as the reference does. Unlike the reference we also clip *finite* values outside the
training range: otherwise a test query with a raw log-probability just below 0 could receive a
higher confidence than one with a log-probability of exactly 0, and ``Phi`` would not be a
monotone function of the raw signal. On training data the two rules coincide. Queries whose raw
signal is at or beyond the training extremes share one confidence value, which is why the
calibrated confidences can have atoms (see :class:`~llmcopula.cascade.ConfidenceMarginal`).
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, logit

from .._estimator import BaseEstimator
from .._validation import check_is_fitted, check_positive_int, check_probability
from .rules import exact_raw_threshold
from .transforms import ConfidenceTransform, TransformName, get_transform

__all__ = ["PlattCalibrator"]

_PHI_LOW = float(np.finfo(np.float64).tiny)
_PHI_HIGH = float(np.nextafter(1.0, 0.0))
_SLOPES = ("free", "nonnegative")


def check_labels(correct: ArrayLike, n: int, name: str = "correct") -> NDArray[np.float64]:
    arr = np.asarray(correct)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name}: expected {n} labels (one per signal value), got {arr.shape[0]}")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: contains {int(np.isnan(arr).sum())} NaN value(s)")
    if not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError(f"{name}: labels must be 0/1 (or boolean), got {np.unique(arr)[:5]}")
    return arr


def _fit_logistic(xi: NDArray[np.float64], y: NDArray[np.float64], *, penalty: float,
                  tol: float, max_iter: int) -> tuple[float, float, int, bool]:
    """Maximise ``sum y*eta - log(1 + e^eta) - penalty/2 * (b*s)^2`` over ``eta = a + b*xi``.

    Newton's method on the standardised regressor ``(xi - m)/s`` with step halving; the
    objective is concave, so it converges from zero. Only the slope is penalised, so the
    intercept's score equation ``sum(y - p) = 0`` (mean confidence = accuracy) holds either way.
    Returns ``(a, b, n_iter, converged)`` on the original scale.
    """
    m, s = float(xi.mean()), float(xi.std())
    z = (xi - m) / s
    X = np.column_stack([np.ones_like(z), z])
    theta = np.array([logit(np.clip(y.mean(), 1e-3, 1 - 1e-3)), 0.0])
    pen = np.array([0.0, penalty])

    def objective(th: NDArray[np.float64]) -> float:
        eta = X @ th
        return float(np.sum(y * eta - np.logaddexp(0.0, eta)) - 0.5 * np.sum(pen * th**2))

    value = objective(theta)
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        p = expit(X @ theta)
        grad = X.T @ (y - p) - pen * theta
        hess = (X * (p * (1 - p))[:, None]).T @ X + np.diag(pen)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:
            candidate = theta + t * step
            new_value = objective(candidate)
            if new_value >= value - 1e-12 * abs(value) or t < 1e-10:
                break
            t *= 0.5
        theta, value = candidate, new_value
        if np.max(np.abs(t * step)) < tol:
            converged = True
            break
    a, b = theta[0] - theta[1] * m / s, theta[1] / s
    return float(a), float(b), n_iter, converged


class PlattCalibrator(BaseEstimator):
    """Platt scaling of a transformed LLM confidence signal (one calibrator per model).

    Fits ``P(correct | xi) = sigma(a + b xi)`` by unpenalised maximum likelihood, where ``xi`` is the
    transformed raw signal with infinities (and, at prediction time, any value outside the
    training range) clipped to the range of the finite training values. See the module docstring.

    Parameters
    ----------
    transform : {"one-sided", "two-sided", "identity", "auto"} or ConfidenceTransform
        Transform of the raw signal; ``"auto"`` needs ``signal``.
    signal : {"logprob", "p_true"}, optional
        Signal type, used by ``transform="auto"``.
    name : str, optional
        Model name, used only in warning messages.
    separation_penalty : float
        Used only when the classes are separated by the signal, so that the maximum-likelihood
        slope is infinite: the slope is then estimated with the ridge penalty
        ``separation_penalty / 2 * (b * sd(xi))**2`` (scale-free; the intercept is never penalised),
        and a ``UserWarning`` says so.
    tol, max_iter : float, int
        Newton stopping rule (largest parameter step on the standardised scale) and iteration cap.
    slope : {"free", "nonnegative"}, default "free"
        ``"free"``: the unconstrained maximum-likelihood slope; when it is negative (the signal is
        inversely related to correctness) the calibrator is decreasing, and the rule
        "Φ > t" is "raw < r" (``direction_ == "below"``). ``"nonnegative"``: the
        maximum-likelihood fit under ``b >= 0``; a negative unconstrained slope then gives
        ``b = 0`` and ``a = logit(k / n)``, the constant calibrator at the training accuracy
        (``fallback_ == "negative-slope"``). ``docs/calibration.md`` gives the evidence for the
        default.

    Attributes
    ----------
    coef_, intercept_ : float
        Slope ``b`` and intercept ``a`` of the logistic model in ``xi``.
    xi_min_, xi_max_ : float
        Range of the finite transformed training signal; the clipping bounds.
    n_ : int
        Number of training pairs.
    accuracy_ : float
        Training accuracy. Without a fallback, the mean training confidence equals it (the
        maximum-likelihood score equation of the intercept).
    fallback_ : {None, "constant-labels", "constant-signal", "separation", "negative-slope"}
        Which degenerate-data rule was used. With ``"constant-labels"`` or ``"constant-signal"``
        the calibrator is the constant ``(k + 1/2)/(n + 1)`` (``k`` correct out of ``n``;
        ``coef_ = 0``), so every confidence is one atom.
    direction_ : {"above", "below"}
        "below" iff the fitted slope is negative: the raw form of "Φ > t" is then "raw < r".
    transform_ : ConfidenceTransform
    n_iter_ : int
    converged_ : bool

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> raw = np.log(rng.uniform(0.25, 1.0, size=200))
    >>> correct = rng.uniform(size=200) < np.exp(raw)
    >>> cal = PlattCalibrator(transform="one-sided").fit(raw, correct)
    >>> bool(np.isclose(cal.predict(raw).mean(), correct.mean()))
    True
    >>> t = cal.raw_threshold(0.8)   # accept Phi > 0.8  <=>  raw > t
    >>> bool(np.all((cal.predict(raw) > 0.8) == (raw > t)))
    True
    """

    def __init__(self, *, transform: TransformName | ConfidenceTransform = "one-sided",
                 signal: str | None = None, name: str | None = None,
                 separation_penalty: float = 1e-2, tol: float = 1e-10, max_iter: int = 100,
                 slope: str = "free") -> None:
        self.transform = transform
        self.signal = signal
        self.name = name
        self.separation_penalty = separation_penalty
        self.tol = tol
        self.max_iter = max_iter
        self.slope = slope

    # ------------------------------------------------------------------ fitting
    def fit(self, raw: ArrayLike, correct: ArrayLike) -> PlattCalibrator:
        """Fit the calibrator on one model's training signal ``raw`` and 0/1 labels ``correct``.

        Degenerate data do not raise but fall back, with a ``UserWarning``: equal labels or a
        constant (or entirely infinite) signal give the constant calibrator ``(k + 1/2)/(n + 1)``;
        perfectly separated classes give the ridge-penalised slope (see ``separation_penalty``).
        """
        if not (np.isfinite(self.separation_penalty) and self.separation_penalty > 0):
            raise ValueError(
                f"separation_penalty: must be a positive number, got {self.separation_penalty!r}"
            )
        check_positive_int(self.max_iter, "max_iter")
        if self.slope not in _SLOPES:
            raise ValueError(f"slope: expected one of {_SLOPES}, got {self.slope!r}")
        transform = get_transform(self.transform, self.signal)
        raw_arr = np.asarray(raw, dtype=np.float64)
        if raw_arr.ndim != 1:
            raise ValueError(f"raw: expected a 1-d array, got shape {raw_arr.shape}")
        if raw_arr.size == 0:
            raise ValueError("raw: needs at least one training value, got an empty array")
        xi = transform.forward(raw_arr)
        y = check_labels(correct, raw_arr.shape[0])

        self.transform_ = transform
        self.n_ = int(y.size)
        self.accuracy_ = float(y.mean())
        self.n_iter_, self.converged_, self.fallback_ = 0, True, None
        finite = np.isfinite(xi)
        if finite.any():
            self.xi_min_, self.xi_max_ = float(xi[finite].min()), float(xi[finite].max())
        else:
            self.xi_min_ = self.xi_max_ = 0.0  # irrelevant: the constant fallback follows
        xi = np.clip(xi, self.xi_min_, self.xi_max_)

        k = int(y.sum())
        if k in (0, self.n_):
            return self._constant_fallback(k, "constant-labels",
                                           f"correct: all {self.n_} training labels are {int(y[0])}")
        if not finite.any() or self.xi_min_ == self.xi_max_:
            return self._constant_fallback(
                k, "constant-signal",
                f"raw: the transformed training signal takes a single value "
                f"({'no finite value' if not finite.any() else self.xi_min_})",
            )

        pos, neg = xi[y == 1], xi[y == 0]
        separated = neg.max() <= pos.min() or pos.max() <= neg.min()
        penalty = 0.0
        if separated:
            penalty = float(self.separation_penalty)
            warnings.warn(
                f"{self._who()}raw: the signal separates correct from incorrect answers, so the "
                f"maximum-likelihood slope is infinite; using a ridge penalty "
                f"{penalty:g}/2 * (slope * sd)^2 on the slope",
                UserWarning, stacklevel=2,
            )
            self.fallback_ = "separation"
        a, b, self.n_iter_, self.converged_ = _fit_logistic(
            xi, y, penalty=penalty, tol=self.tol, max_iter=self.max_iter)
        if not self.converged_:
            warnings.warn(f"{self._who()}Newton iterations did not converge in {self.max_iter} "
                          f"steps", UserWarning, stacklevel=2)
        if b < 0 and self.slope == "nonnegative":
            # The log-likelihood is concave, so the maximum under b >= 0 is on the boundary
            # b = 0, where the intercept's score equation gives a = logit(k / n).
            self.intercept_, self.coef_ = float(logit(k / self.n_)), 0.0
            self.fallback_ = "negative-slope"
            warnings.warn(
                f"{self._who()}the unconstrained slope is {b:.4g} < 0; with slope='nonnegative' "
                f"the calibrator is the constant training accuracy {k / self.n_:.4g}",
                UserWarning, stacklevel=2,
            )
            return self
        self.intercept_, self.coef_ = a, b
        if b <= 0:
            warnings.warn(
                f"{self._who()}the fitted slope is {b:.4g} <= 0: calibrated confidence does not "
                f"increase with the raw signal, so 'accept if confidence > t' is not a rule of the "
                f"form 'raw > r' (see raw_threshold)", UserWarning, stacklevel=2,
            )
        return self

    @property
    def direction_(self) -> str:
        """"above" if Φ does not decrease with the raw signal (slope >= 0), "below" otherwise."""
        self._check_fitted()
        return "below" if self.coef_ < 0 else "above"

    def _who(self) -> str:
        return f"PlattCalibrator(name={self.name!r}): " if self.name is not None else ""

    def _constant_fallback(self, k: int, reason: str, message: str) -> PlattCalibrator:
        rate = (k + 0.5) / (self.n_ + 1)
        warnings.warn(
            f"{self._who()}{message}; falling back to the constant calibrated confidence "
            f"(k + 1/2)/(n + 1) = {rate:.4g}",
            UserWarning, stacklevel=3,
        )
        self.intercept_, self.coef_ = float(logit(rate)), 0.0
        self.fallback_ = reason
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "coef_", hint="fit(raw, correct)")

    # --------------------------------------------------------------- prediction
    def clipped_signal(self, raw: ArrayLike) -> NDArray[np.float64]:
        """Transformed signal ``clip(T(raw), xi_min_, xi_max_)`` (infinities included)."""
        self._check_fitted()
        return np.clip(self.transform_.forward(raw), self.xi_min_, self.xi_max_)

    def decision_function(self, raw: ArrayLike) -> NDArray[np.float64]:
        """Calibrated log-odds ``a + b * clip(T(raw), xi_min_, xi_max_)``."""
        xi = self.clipped_signal(raw)
        return self.intercept_ + self.coef_ * xi

    def predict(self, raw: ArrayLike) -> NDArray[np.float64]:
        """Calibrated confidence ``Phi`` in the open interval (0, 1) for each raw signal value."""
        return np.clip(expit(self.decision_function(raw)), _PHI_LOW, _PHI_HIGH)

    def raw_threshold(self, phi: ArrayLike) -> NDArray[np.float64]:
        """Raw-signal threshold ``r`` equivalent to the decision rule "accept if ``Phi > phi``".

        For a non-decreasing calibrator (``direction_ == "above"``), ``predict(raw) > phi`` if
        and only if ``raw > r``: ``r`` is the largest raw value of the transform's domain whose
        confidence is ``<= phi``, found by bisection over the floating-point numbers with
        :meth:`predict` itself (:func:`~llmcopula.calibration.rules.exact_raw_threshold`), so
        the two rules agree on every float, at atoms and ties included (the closed form
        ``T^-1((logit(phi) - a)/b)`` is only right up to rounding). ``r = -inf`` means every
        value is accepted, a raw of ``-inf`` included; ``r = +inf`` means none is.

        If ``coef_ < 0`` (with a warning) the equivalent rule is flipped: accept if
        ``raw < r``, and the returned ``r`` is the threshold of that flipped rule (``+inf``:
        all, ``-inf``: none). If ``coef_ == 0`` (constant calibrator) the rule accepts everything
        or nothing, and ``r`` is ``-inf`` or ``+inf`` accordingly.

        Examples
        --------
        >>> cal = PlattCalibrator(transform="two-sided")
        >>> cal = cal.fit(np.log([0.1, 0.4, 0.6, 0.7, 0.9, 0.95]), [0, 1, 0, 1, 1, 1])
        >>> r = cal.raw_threshold([0.0, 0.75, 1.0])
        >>> r[0], r[2]
        (np.float64(-inf), np.float64(inf))
        >>> raw = np.log([0.5, 0.8, 0.9])
        >>> bool(np.all((cal.predict(raw) > 0.75) == (raw > r[1])))
        True
        """
        self._check_fitted()
        q = check_probability(phi, "phi")
        if self.coef_ < 0:
            warnings.warn(
                f"{self._who()}coef_ = {self.coef_:.4g} < 0: the returned thresholds are for the "
                f"flipped rule 'accept if raw < r'", UserWarning, stacklevel=2,
            )
        return exact_raw_threshold(self.predict, q, self.direction_,
                                   domain=self.transform_.raw_range)

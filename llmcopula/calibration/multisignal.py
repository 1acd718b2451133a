"""A calibrator of several signals at once: ridge-penalised logistic regression with the penalty
chosen by cross-validation and cross-fitted training predictions.

Platt scaling (:class:`~llmcopula.calibration.PlattCalibrator`) maps one model's raw signal to
P(correct). When a query has passed through several models, more is known: the other models'
signals and whether their answers agree. :class:`MultiSignalCalibrator` estimates

    P(correct | x) = sigma(b_0 + x^T b),

for a feature vector x (the caller builds it; ``llmcopula.cascade.posterior`` uses the
transformed raw signals of every model visited so far and answer-agreement indicators), by
maximising the penalised log-likelihood

    sum_i w_i [y_i eta_i - log(1 + e^eta_i)] - (lambda / 2) sum_f (b_f s_f)^2,

with s_f the training standard deviation of feature f (so the penalty is scale-free) and the
intercept not penalised. Two pseudo-observations at the feature means, one correct and one
wrong, each of weight 1/2, keep the intercept finite when the training labels are all equal
(the (k + 1/2)/(n + 1) rule of the Platt fallback). lambda is chosen from a grid by K-fold
cross-validated log-loss (stratified folds; ties go to the stronger penalty), and the model is
refitted on all the data with it (le Cessie & van Houwelingen 1992, ridge estimators in
logistic regression).

Cross-fitting. A downstream model of these probabilities (the cascade models of their joint
law) must see them as they will be at test time, not as fitted on the same labels. So
``oof_decision_`` holds out-of-fold log-odds: for each of K outer folds, lambda is chosen by an
inner K-fold cross-validation on the other folds, the model is fitted there and predicts the
held-out fold (nested cross-validation; Chernozhukov et al. 2018 for cross-fitting).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from .._estimator import BaseEstimator
from .._validation import check_is_fitted, check_positive_int, check_rng

__all__ = ["MultiSignalCalibrator", "DEFAULT_PENALTIES"]

FloatArray = NDArray[np.float64]

#: The default grid of ridge penalties lambda (on standardised features), strongest first.
DEFAULT_PENALTIES: tuple[float, ...] = tuple(float(v) for v in np.logspace(4, -2, 13))

_PSEUDO_WEIGHT = 0.5


def _fit_batch(x: FloatArray, y: FloatArray, w: FloatArray, penalties: FloatArray, *,
               tol: float, max_iter: int) -> FloatArray:
    """Penalised logistic fits for several penalties at once.

    ``x`` (n, p) standardised features with a leading column of ones, ``y`` and ``w`` (n,)
    labels and weights, ``penalties`` (L,). Newton's method with step halving on each of the L
    concave objectives, batched over L. Returns theta (L, p).
    """
    n_pen = penalties.size
    p = x.shape[1]
    pen = np.zeros((n_pen, p))
    pen[:, 1:] = penalties[:, None]
    theta = np.zeros((n_pen, p))
    theta[:, 0] = np.log((np.sum(w * y) + 1e-12) / (np.sum(w * (1 - y)) + 1e-12))

    def objective(th: FloatArray, rows: NDArray[np.intp]) -> FloatArray:
        eta = th @ x.T  # (L, n)
        return (np.sum(w * (y * eta - np.logaddexp(0.0, eta)), axis=1)
                - 0.5 * np.sum(pen[rows] * th**2, axis=1))

    value = objective(theta, np.arange(n_pen))
    active = np.ones(n_pen, dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        eta = theta[idx] @ x.T
        prob = expit(eta)
        grad = (w * (y - prob)) @ x - pen[idx] * theta[idx]
        hess = np.einsum("ln,ni,nj->lij", w * prob * (1 - prob), x, x)
        hess[:, np.arange(p), np.arange(p)] += pen[idx]
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        t = np.ones(idx.size)
        old = value[idx]
        cand = theta[idx] + step
        new = objective(cand, idx)
        for _ in range(40):  # halve the steps that do not increase the objective
            bad = new < old - 1e-12 * np.abs(old)
            if not bad.any():
                break
            t[bad] *= 0.5
            cand[bad] = theta[idx[bad]] + t[bad, None] * step[bad]
            new[bad] = objective(cand[bad], idx[bad])
        moved = np.max(np.abs(t[:, None] * step), axis=1)
        theta[idx] = cand
        value[idx] = new
        active[idx[moved < tol]] = False
        if not active.any():
            break
    return theta


def _folds(y: FloatArray, n_folds: int, gen: np.random.Generator) -> NDArray[np.intp]:
    """Stratified fold labels: a random order within each class, dealt round-robin."""
    fold = np.empty(y.size, dtype=np.intp)
    start = 0
    for cls in (0.0, 1.0):
        idx = np.flatnonzero(y == cls)
        idx = idx[gen.permutation(idx.size)]
        fold[idx] = (start + np.arange(idx.size)) % n_folds
        start += idx.size
    return fold


def _log_loss(y: FloatArray, eta: FloatArray) -> FloatArray:
    """Mean log-loss of log-odds ``eta`` (L, n) for labels ``y`` (n,), per row."""
    return np.mean(np.logaddexp(0.0, eta) - y * eta, axis=-1)


class MultiSignalCalibrator(BaseEstimator):
    """Ridge-penalised logistic regression of correctness on several signals, with the penalty
    chosen by cross-validation and cross-fitted (out-of-fold) training predictions.

    See the module docstring for the model. It follows the
    :class:`~llmcopula.calibration.Calibrator` protocol's ``fit`` / ``predict`` on a feature
    matrix instead of one raw signal; it has no ``raw_threshold`` (a threshold on the returned
    probability is a threshold on :meth:`decision_function`).

    Parameters
    ----------
    penalties : sequence of float, optional
        Grid of ridge penalties lambda (default :data:`DEFAULT_PENALTIES`, 1e4 … 1e-2).
    n_folds : int, default 5
        Folds of the cross-validation and of the cross-fitting (fewer when there are fewer
        queries).
    cross_fit : bool, default True
        Compute ``oof_decision_`` by nested cross-validation.
    rng : None, int or Generator, default None
        Seed of the fold assignment.
    tol, max_iter : float, int
        Newton stopping rule (largest step on the standardised scale) and iteration cap.

    Attributes
    ----------
    coef_ : ndarray of shape (p,)
        Slopes on the original feature scale.
    intercept_ : float
    penalty_ : float
        The chosen lambda.
    cv_loss_ : ndarray of shape (L,)
        Cross-validated mean log-loss of each penalty of ``penalties_``.
    penalties_ : ndarray of shape (L,)
    oof_decision_ : ndarray of shape (n,)
        Cross-fitted log-odds of the training rows (only with ``cross_fit=True``).
    n_features_in_ : int
    accuracy_ : float
        Training accuracy.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(2000, 3))
    >>> y = rng.random(2000) < 1 / (1 + np.exp(-(0.5 + 2 * x[:, 0] - x[:, 1])))
    >>> cal = MultiSignalCalibrator(rng=0).fit(x, y)
    >>> np.round(cal.coef_, 1).tolist(), round(cal.intercept_, 1), cal.oof_decision_.shape
    ([2.0, -1.0, 0.1], 0.6, (2000,))
    """

    def __init__(self, *, penalties: Any = None, n_folds: int = 5, cross_fit: bool = True,
                 rng: Any = None, tol: float = 1e-8, max_iter: int = 100) -> None:
        self.penalties = penalties
        self.n_folds = n_folds
        self.cross_fit = cross_fit
        self.rng = rng
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ fitting
    def _check_data(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"x: expected a 2-d array (queries × features), got shape "
                             f"{arr.shape}")
        if arr.shape[0] < 2:
            raise ValueError(f"x: needs at least 2 training rows, got {arr.shape[0]}")
        if not np.isfinite(arr).all():
            raise ValueError(f"x: contains {int((~np.isfinite(arr)).sum())} NaN or infinite "
                             f"value(s)")
        labels = np.asarray(y)
        if labels.shape != (arr.shape[0],):
            raise ValueError(f"y: expected shape ({arr.shape[0]},) like x's rows, got "
                             f"{labels.shape}")
        labels = labels.astype(np.float64)
        if not np.isin(labels, (0.0, 1.0)).all():
            raise ValueError("y: labels must be 0/1 (or boolean)")
        return arr, labels

    def _penalty_grid(self) -> FloatArray:
        grid = np.asarray(DEFAULT_PENALTIES if self.penalties is None else self.penalties,
                          dtype=np.float64).ravel()
        if grid.size == 0 or not np.isfinite(grid).all() or (grid <= 0).any():
            raise ValueError(f"penalties: expected positive finite numbers, got {self.penalties!r}")
        return np.sort(grid)[::-1]  # strongest first: ties in the CV loss go to it

    def _fit_standardised(self, x: FloatArray, y: FloatArray, penalties: FloatArray
                          ) -> tuple[FloatArray, FloatArray]:
        """Fits on rows (x, y) for every penalty: (coef (L, p), intercept (L,)) on the
        original scale."""
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale == 0] = 1.0  # a constant feature: its coefficient stays 0
        z = (x - mean) / scale
        n, p = z.shape
        design = np.ones((n + 2, p + 1))
        design[:n, 1:] = z
        design[n:, 1:] = 0.0  # the pseudo-observations sit at the means
        labels = np.concatenate([y, [1.0, 0.0]])
        weights = np.concatenate([np.ones(n), [_PSEUDO_WEIGHT, _PSEUDO_WEIGHT]])
        theta = _fit_batch(design, labels, weights, penalties, tol=self.tol,
                           max_iter=self.max_iter)
        coef = theta[:, 1:] / scale
        intercept = theta[:, 0] - coef @ mean
        return coef, intercept

    def _cv_loss(self, x: FloatArray, y: FloatArray, penalties: FloatArray,
                 gen: np.random.Generator) -> FloatArray:
        k = min(check_positive_int(self.n_folds, "n_folds", minimum=2), x.shape[0])
        if k < 2:
            return np.zeros(penalties.size)
        fold = _folds(y, k, gen)
        loss = np.zeros(penalties.size)
        for f in range(k):
            held = fold == f
            coef, intercept = self._fit_standardised(x[~held], y[~held], penalties)
            eta = coef @ x[held].T + intercept[:, None]
            loss += held.sum() * _log_loss(y[held], eta)
        return loss / x.shape[0]

    def fit(self, x: ArrayLike, y: ArrayLike) -> MultiSignalCalibrator:
        """Choose the penalty by cross-validation, fit on all rows, and (``cross_fit``) compute
        the out-of-fold log-odds of every row."""
        x_arr, y_arr = self._check_data(x, y)
        check_positive_int(self.max_iter, "max_iter")
        penalties = self._penalty_grid()
        gen = check_rng(self.rng)
        loss = self._cv_loss(x_arr, y_arr, penalties, gen)
        best = int(np.argmin(loss))
        coef, intercept = self._fit_standardised(x_arr, y_arr, penalties[best:best + 1])
        self.penalties_ = penalties
        self.cv_loss_ = loss
        self.penalty_ = float(penalties[best])
        self.coef_ = coef[0]
        self.intercept_ = float(intercept[0])
        self.n_features_in_ = x_arr.shape[1]
        self.accuracy_ = float(y_arr.mean())
        if self.cross_fit:
            self.oof_decision_ = self._cross_fit(x_arr, y_arr, penalties, gen)
        return self

    def _cross_fit(self, x: FloatArray, y: FloatArray, penalties: FloatArray,
                   gen: np.random.Generator) -> FloatArray:
        k = min(self.n_folds, x.shape[0])
        fold = _folds(y, k, gen)
        out = np.empty(x.shape[0])
        self.fold_coef_ = np.zeros((k, x.shape[1]))
        self.fold_intercept_ = np.zeros(k)
        for f in range(k):
            held = fold == f
            inner = self._cv_loss(x[~held], y[~held], penalties, gen)
            best = int(np.argmin(inner))
            coef, intercept = self._fit_standardised(x[~held], y[~held],
                                                     penalties[best:best + 1])
            out[held] = x[held] @ coef[0] + intercept[0]
            self.fold_coef_[f], self.fold_intercept_[f] = coef[0], intercept[0]
        return out

    # --------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        check_is_fitted(self, "coef_", hint="fit(x, y)")

    def decision_function(self, x: ArrayLike) -> FloatArray:
        """Log-odds ``b_0 + x^T b`` of each row of ``x``."""
        self._check_fitted()
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != self.n_features_in_:
            raise ValueError(f"x: expected shape (n, {self.n_features_in_}), got {arr.shape}")
        return arr @ self.coef_ + self.intercept_

    def predict(self, x: ArrayLike) -> FloatArray:
        """P(correct | x) for each row of ``x``."""
        return expit(self.decision_function(x))

"""Gaussian-copula model of the correlated errors of several models (tetrachoric fit, simulator).

Model ``i`` errs iff its latent score falls below a threshold, ``E_i = 1{Z_i < τ_i}``, with
``Z ~ N(0, R)`` (unit diagonal) and ``τ_i = Φ⁻¹(p_i)``, so that ``P(E_i = 1) = p_i`` and
``P(E_i = 1, E_j = 1) = Φ₂(τ_i, τ_j; R_ij)``. In the basic model the errors are independent of
the label; the class-conditional variant has its own ``p_i^{(y)}`` and ``R^{(y)}`` per class.

References
----------
Y. Turkmen, B. Buyukates, M. Bastopcu (2026), "Don't Always Pick the Highest-Performing Model: An
Information Theoretic View of LLM Ensemble Selection", arXiv:2602.08003 (Gaussian-copula model
of LLM errors).
M. B. Brown (1977), "Algorithm AS 116: The tetrachoric correlation and its asymptotic standard
error", Applied Statistics 26, 343-351.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from .._estimator import BaseEstimator
from .._validation import RNGLike, check_is_fitted, check_positive_int, check_rng
from ..copulas import MultivariateGaussianCopula, nearest_correlation
from ._tetrachoric import pairwise_tetrachoric
from .floors import bayes_error

__all__ = ["CorrelatedErrorModel", "Simulation"]

FloatArray = NDArray[np.float64]


class Simulation(NamedTuple):
    """Draws from :meth:`CorrelatedErrorModel.simulate`."""

    #: ``(n, M)`` int8 matrix, 1 where the model is wrong.
    errors: NDArray[np.int8]
    #: ``(n, M)`` predicted labels (the label where right, another class where wrong).
    predictions: NDArray[Any]
    #: ``(n,)`` true labels.
    labels: NDArray[Any]


class CorrelatedErrorModel(BaseEstimator):
    """Gaussian-copula model of the joint errors of ``M`` models, fitted by tetrachoric
    correlations.

    Fitting, from labelled predictions (:meth:`fit`) or a binary error matrix
    (:meth:`fit_errors` / :meth:`from_errors`):

    1. ``p̂_i`` = the error rate of model ``i``; ``τ̂_i = Φ⁻¹(p̂_i)``.
    2. For each pair, the tetrachoric correlation: the root ``r`` of
       ``Φ₂(τ_i, τ_j; r) = p̂_ij`` (``p̂_ij`` the co-error rate), found by safeguarded Newton.
       ``Φ₂`` reaches the Fréchet bounds of ``p̂_ij`` only at ``r = ±1``, which an empty cell of
       the 2×2 table would force; such a table gets ``continuity_correction`` added to its four
       cells (Haldane–Anscombe), which pulls the estimate inside ``(−1, 1)``.
    3. The pairwise estimates need not form a positive semi-definite matrix; the nearest
       correlation matrix (Higham 2002) with eigenvalues >= 1e-8 repairs it: ``corr_``.
    4. ``rho_equi_``: the equicorrelation summary used by the floors of
       :mod:`llmcopula.selection.floors`, the mean off-diagonal entry of ``corr_``.

    A model that is never (or always) wrong has no finite threshold: its error count ``k`` is
    replaced by ``k ± continuity_correction`` with a warning that names it.

    Parameters
    ----------
    class_conditional : bool, default False
        Also fit ``p_i^{(y)}`` and ``R^{(y)}`` on the rows of each class (needs labels); the
        simulator then draws errors from the class of each row.
    continuity_correction : float, default 0.5
        Count added to the cells of a 2×2 table with an empty cell, and to the error count of a
        model that is never or always wrong. Must be > 0.

    Attributes
    ----------
    n_models_, n_samples_ : int
    classes_ : ndarray or None
        Sorted distinct labels (``None`` after :meth:`fit_errors`).
    class_prior_ : ndarray or None
        Frequency of each class in ``classes_``.
    error_rates_ : ndarray, shape (M,)
    thresholds_ : ndarray, shape (M,)
        ``Φ⁻¹(error_rates_)``.
    co_error_rates_ : ndarray, shape (M, M)
        Empirical ``P(E_i = 1, E_j = 1)`` (the error rates on the diagonal).
    tetrachoric_ : ndarray, shape (M, M)
        Pairwise estimates before the repair (unit diagonal).
    tetrachoric_se_ : ndarray, shape (M, M)
        Their asymptotic standard errors (Brown 1977; delta method, zero diagonal).
    corr_ : ndarray, shape (M, M)
        The repaired correlation matrix (eigenvalues >= 1e-8).
    rho_equi_ : float
        Mean off-diagonal entry of ``corr_``.
    error_rates_by_class_ : ndarray, shape (K, M)
        Only with ``class_conditional=True``.
    corr_by_class_ : ndarray, shape (K, M, M)
        Only with ``class_conditional=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection import CorrelatedErrorModel
    >>> rng = np.random.default_rng(0)
    >>> w = rng.standard_normal((4000, 1))
    >>> z = np.sqrt(0.5) * w + np.sqrt(0.5) * rng.standard_normal((4000, 3))
    >>> model = CorrelatedErrorModel().fit_errors(z < -0.8)
    >>> np.round(model.error_rates_, 2)
    array([0.21, 0.21, 0.21])
    >>> round(model.rho_equi_, 1)
    0.5
    >>> sim = model.simulate(5, rng=1)
    >>> sim.predictions.shape
    (5, 3)
    """

    def __init__(
        self, *, class_conditional: bool = False, continuity_correction: float = 0.5
    ) -> None:
        self.class_conditional = class_conditional
        self.continuity_correction = continuity_correction

    # ------------------------------------------------------------------------------------------
    # fitting

    def fit(self, predictions: ArrayLike, labels: ArrayLike) -> CorrelatedErrorModel:
        """Fit from discrete predictions ``(n, M)`` (any hashable answers, multi-class allowed)
        and the true ``labels`` ``(n,)``; model ``i`` errs on row ``k`` iff
        ``predictions[k, i] != labels[k]``. Returns ``self``."""
        preds, labs = _check_predictions(predictions, labels)
        errors = (preds != labs[:, None]).astype(np.float64)
        classes, counts = np.unique(labs, return_counts=True)
        self._fit(errors, labs, classes, counts / counts.sum())
        return self

    def fit_errors(self, errors: ArrayLike) -> CorrelatedErrorModel:
        """Fit from a binary error matrix ``(n, M)`` with 1 where the model is wrong. Returns
        ``self``. The label distribution is unknown, so ``class_conditional`` must be False."""
        err = _check_errors(errors)
        if self.class_conditional:
            raise ValueError(
                "class_conditional: a class-conditional fit needs labels; "
                "use fit(predictions, labels)"
            )
        self._fit(err, None, None, None)
        return self

    @classmethod
    def from_errors(cls, errors: ArrayLike, **options: Any) -> CorrelatedErrorModel:
        """``CorrelatedErrorModel(**options).fit_errors(errors)``."""
        return cls(**options).fit_errors(errors)

    @classmethod
    def from_parameters(
        cls,
        error_rates: ArrayLike,
        corr: ArrayLike,
        *,
        classes: ArrayLike | None = None,
        class_prior: ArrayLike | None = None,
    ) -> CorrelatedErrorModel:
        """A model with known parameters (a simulator with ground truth), without fitting.

        ``error_rates`` ``(M,)`` in (0, 1) and a correlation matrix ``corr`` ``(M, M)``
        (symmetric, unit diagonal, positive semi-definite). ``classes``/``class_prior`` set the
        label distribution used by :meth:`simulate` (default: binary, balanced).
        ``n_samples_`` is 0 and ``tetrachoric_se_`` is zero.

        Examples
        --------
        >>> import numpy as np
        >>> from llmcopula.selection import CorrelatedErrorModel
        >>> corr = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
        >>> model = CorrelatedErrorModel.from_parameters([0.2, 0.25, 0.3], corr)
        >>> model.simulate(4, rng=0).errors.shape
        (4, 3)
        """
        rates = np.asarray(error_rates, dtype=np.float64)
        if (
            rates.ndim != 1
            or rates.size < 2
            or np.isnan(rates).any()
            or (rates <= 0).any()
            or (rates >= 1).any()
        ):
            raise ValueError(
                "error_rates: expected at least 2 error rates in the open interval (0, 1)"
            )
        m = rates.size
        r = np.asarray(corr, dtype=np.float64)
        if r.shape != (m, m) or not np.isfinite(r).all():
            raise ValueError(f"corr: expected a finite ({m}, {m}) matrix, got shape {r.shape}")
        if (
            not np.allclose(r, r.T, atol=1e-10)
            or not np.allclose(np.diag(r), 1.0, atol=1e-10)
            or np.linalg.eigvalsh(r).min() < -1e-10
        ):
            raise ValueError(
                "corr: must be a symmetric positive semi-definite matrix with a unit diagonal"
            )
        model = cls()
        model.n_samples_, model.n_models_ = 0, m
        model.classes_ = None if classes is None else np.asarray(classes)
        if class_prior is not None:
            prior = np.asarray(class_prior, dtype=np.float64)
            n_classes = 2 if model.classes_ is None else model.classes_.size
            if prior.shape != (n_classes,) or (prior < 0).any() or not np.isclose(prior.sum(), 1.0):
                raise ValueError(f"class_prior: expected {n_classes} probabilities summing to 1")
            model.class_prior_ = prior
        else:
            model.class_prior_ = None
        model.error_rates_ = rates.copy()
        model.thresholds_ = special.ndtri(rates)
        model.tetrachoric_ = r.copy()
        model.tetrachoric_se_ = np.zeros((m, m))
        model.corr_ = r.copy()
        model.co_error_rates_ = np.full((m, m), np.nan)
        model.rho_equi_ = float((r.sum() - m) / (m * (m - 1)))
        return model

    def _fit(
        self,
        errors: FloatArray,
        labels: NDArray[Any] | None,
        classes: NDArray[Any] | None,
        prior: FloatArray | None,
    ) -> None:
        correction = _check_correction(self.continuity_correction)
        n, m = errors.shape
        self.n_samples_, self.n_models_ = n, m
        self.classes_, self.class_prior_ = classes, prior
        fitted = _fit_block(errors, correction, "errors")
        (
            self.error_rates_,
            self.co_error_rates_,
            self.tetrachoric_,
            self.tetrachoric_se_,
            self.corr_,
        ) = fitted
        self.thresholds_ = special.ndtri(self.error_rates_)
        self.rho_equi_ = float((self.corr_.sum() - m) / (m * (m - 1)))
        if self.class_conditional and labels is not None and classes is not None:
            rates, corrs = [], []
            for y in classes:
                rows = errors[labels == y]
                if rows.shape[0] < 2:
                    raise ValueError(
                        f"labels: class {y!r} has {rows.shape[0]} row(s); a class-conditional "
                        "fit needs at least 2 per class"
                    )
                block = _fit_block(rows, correction, f"errors of class {y!r}")
                rates.append(block[0])
                corrs.append(block[4])
            self.error_rates_by_class_ = np.array(rates)
            self.corr_by_class_ = np.array(corrs)

    # ------------------------------------------------------------------------------------------
    # simulation

    def simulate(
        self,
        n: int,
        *args: Any,
        rng: RNGLike = None,
        labels: ArrayLike | None = None,
        prior: ArrayLike | None = None,
    ) -> Simulation:
        """Draw ``n`` rows of labels, errors and predictions from the fitted model.

        Labels: the given ``labels`` (length ``n``), else drawn from ``prior`` (``P(Y = 1)`` for
        the binary classes ``{0, 1}``, or one probability per entry of ``classes_``), else from
        ``class_prior_`` (fitted from labels), else binary with prior ½. Errors: ``U`` from the
        Gaussian copula with ``corr_`` and ``E_i = 1{U_i < p_i}`` (per class with its own
        ``p^{(y)}``, ``R^{(y)}`` if class-conditional). Predictions: the label where right; where
        wrong, a class drawn uniformly from the other classes (for two classes this is
        ``X_i = Y ⊕ E_i``).

        ``rng`` is keyword-only; passing it as the second positional argument is deprecated
        (it still works for one release and warns).

        Returns
        -------
        Simulation
            ``(errors, predictions, labels)``.
        """
        if args:
            if len(args) > 1 or rng is not None:
                raise TypeError("simulate() takes n and keyword-only options (rng, labels, prior)")
            warnings.warn("simulate(n, rng) is deprecated: pass rng as a keyword, "
                          "simulate(n, rng=...); the positional form will stop working in "
                          "version 0.3", DeprecationWarning, stacklevel=2)
            rng = args[0]
        self._check_fitted()
        n = check_positive_int(n, "n")
        gen = check_rng(rng)
        classes = self.classes_ if self.classes_ is not None else np.array([0, 1])
        if classes.size < 2:
            raise ValueError(
                "classes_: predictions can only be simulated with at least two classes"
            )
        label_index = self._draw_label_index(n, gen, classes, labels, prior)
        errors = np.zeros((n, self.n_models_), dtype=np.int8)
        if self.class_conditional:
            for k in range(classes.size):
                rows = label_index == k
                if rows.any():
                    errors[rows] = _draw_errors(
                        int(rows.sum()), self.error_rates_by_class_[k], self.corr_by_class_[k], gen
                    )
        else:
            errors[:] = _draw_errors(n, self.error_rates_, self.corr_, gen)
        offset = gen.integers(1, classes.size, size=errors.shape)
        pred_index = np.where(
            errors == 1, (label_index[:, None] + offset) % classes.size, label_index[:, None]
        )
        return Simulation(errors, classes[pred_index], classes[label_index])

    def bayes_error(
        self, models: ArrayLike | None = None, *, prior: float = 0.5, rng: RNGLike = None
    ) -> float:
        """Predicted Bayes (MAP) error of binary votes of a subset of the models under the fitted
        model: :func:`~llmcopula.selection.floors.bayes_error` with ``error_rates_`` and
        ``corr_`` restricted to ``models`` (column indices; default all). Genz's orthant
        probabilities make this cost about 0.05 s per pattern, i.e. ``2^len(models)`` of them."""
        self._check_fitted()
        idx = np.arange(self.n_models_) if models is None else np.asarray(models)
        if (
            idx.ndim != 1
            or idx.size < 1
            or idx.dtype.kind not in "iu"
            or (idx < 0).any()
            or (idx >= self.n_models_).any()
            or np.unique(idx).size != idx.size
        ):
            raise ValueError(
                f"models: expected distinct column indices in [0, {self.n_models_}), got {models!r}"
            )
        return bayes_error(
            self.error_rates_[idx], self.corr_[np.ix_(idx, idx)], prior=prior, rng=rng
        )

    def _draw_label_index(
        self,
        n: int,
        gen: np.random.Generator,
        classes: NDArray[Any],
        labels: ArrayLike | None,
        prior: ArrayLike | None,
    ) -> NDArray[np.intp]:
        if labels is not None:
            labs = np.asarray(labels)
            if labs.shape != (n,):
                raise ValueError(f"labels: expected shape ({n},), got {labs.shape}")
            index = np.searchsorted(classes, labs)
            bad = (index >= classes.size) | (classes[np.minimum(index, classes.size - 1)] != labs)
            if bad.any():
                raise ValueError(
                    f"labels: {int(bad.sum())} label(s) are not among the classes "
                    f"{classes.tolist()}"
                )
            return index
        if prior is None:
            probs = (
                self.class_prior_
                if self.class_prior_ is not None
                else np.full(classes.size, 1 / classes.size)
            )
        else:
            pr = np.asarray(prior, dtype=np.float64)
            probs = np.array([1 - pr, pr]) if pr.ndim == 0 and classes.size == 2 else pr
            if (
                probs.shape != (classes.size,)
                or np.isnan(probs).any()
                or (probs < 0).any()
                or not np.isclose(probs.sum(), 1.0)
            ):
                raise ValueError(
                    f"prior: expected P(Y=1) in [0, 1] for two classes or {classes.size} "
                    f"probabilities summing to 1, got {prior!r}"
                )
        return gen.choice(classes.size, size=n, p=probs)

    def _check_fitted(self) -> None:
        check_is_fitted(self, "corr_", name="model", hint="fit or fit_errors")


# ----------------------------------------------------------------------------------------------


def _draw_errors(
    n: int, rates: FloatArray, corr: FloatArray, gen: np.random.Generator
) -> NDArray[np.int8]:
    u = MultivariateGaussianCopula(corr).sample(n, rng=gen)
    return (u < rates).astype(np.int8)


def _fit_block(
    errors: FloatArray, correction: float, what: str
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Error rates, co-error rates, pairwise tetrachoric matrix, its SE and the repaired matrix."""
    n = errors.shape[0]
    counts = errors.sum(axis=0)
    degenerate = (counts == 0) | (counts == n)
    if degenerate.any():
        never = np.flatnonzero(counts == 0).tolist()
        always = np.flatnonzero(counts == n).tolist()
        warnings.warn(
            f"{what}: model(s) {never} never wrong and {always} always wrong in {n} rows; their "
            f"error count k is replaced by k ± {correction} so that the thresholds Φ⁻¹(p) stay "
            "finite",
            UserWarning,
            stacklevel=4,
        )
    rates = np.where(
        counts == 0,
        correction / (n + 2 * correction),
        np.where(counts == n, (n + correction) / (n + 2 * correction), counts / n),
    )
    co_error = errors.T @ errors / n
    np.fill_diagonal(co_error, counts / n)
    pairwise, se, _ = pairwise_tetrachoric(errors, correction)
    # A floor of 1e-8 on the eigenvalues keeps the repaired matrix positive definite, so the
    # simulator's Cholesky factor exists; valid (positive definite) estimates pass unchanged.
    repaired = np.asarray(nearest_correlation(pairwise, min_eigenvalue=1e-8), dtype=np.float64)
    return rates, co_error, pairwise, se, repaired


def _check_correction(c: Any) -> float:
    if (
        isinstance(c, bool)
        or not isinstance(c, (int, float, np.floating, np.integer))
        or not np.isfinite(c)
        or c <= 0
    ):
        raise ValueError(f"continuity_correction: expected a positive number, got {c!r}")
    return float(c)


def _check_errors(errors: ArrayLike) -> FloatArray:
    arr = np.asarray(errors)
    if arr.ndim != 2:
        raise ValueError(
            f"errors: expected a 2-d array (n_samples, n_models), got shape {arr.shape}"
        )
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"errors: expected a numeric 0/1 matrix, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"errors: contains {int(np.isnan(arr).sum())} NaN value(s)")
    if not np.isin(arr, (0.0, 1.0)).all():
        raise ValueError("errors: entries must be 0 (right) or 1 (wrong)")
    _check_shape(arr.shape, "errors")
    return arr


def _check_shape(shape: tuple[int, ...], name: str) -> None:
    n, m = shape
    if m < 2:
        raise ValueError(
            f"{name}: a correlated-error model needs at least 2 models (columns), got {m}"
        )
    if n < 2:
        raise ValueError(f"{name}: need at least 2 rows, got {n}")


def _is_missing(arr: NDArray[Any]) -> NDArray[np.bool_]:
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    if arr.dtype.kind == "O":
        return np.frompyfunc(lambda v: v is None or (isinstance(v, float) and np.isnan(v)), 1, 1)(
            arr
        ).astype(bool)
    return np.zeros(arr.shape, dtype=bool)


def _check_predictions(
    predictions: ArrayLike, labels: ArrayLike
) -> tuple[NDArray[Any], NDArray[Any]]:
    preds = np.asarray(predictions)
    labs = np.asarray(labels)
    if preds.ndim != 2:
        raise ValueError(
            f"predictions: expected a 2-d array (n_samples, n_models), got shape {preds.shape}"
        )
    if labs.ndim != 1 or labs.shape[0] != preds.shape[0]:
        raise ValueError(
            f"labels: expected shape ({preds.shape[0]},) to match predictions, got {labs.shape}"
        )
    for arr, name in ((preds, "predictions"), (labs, "labels")):
        missing = _is_missing(arr)
        if missing.any():
            raise ValueError(
                f"{name}: contains {int(missing.sum())} missing value(s) (NaN or None); "
                "read CSVs with keep_default_na=False and encode abstentions explicitly"
            )
    _check_shape(preds.shape, "predictions")
    if labs.dtype.kind == "O" and not all(isinstance(v, Hashable) for v in labs):
        raise ValueError("labels: entries must be hashable")
    return preds, labs

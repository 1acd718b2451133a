"""Mutual information, Bayes error and aggregator accuracy from the fitted correlated-error model.

The table estimators of :mod:`~llmcopula.selection.information` count answer patterns, and with a
few hundred labelled queries the ``C^k`` patterns of ``k`` models are sparse. The estimator here
fits a small generative model of the pool instead and computes every quantity of a set ``S``
from it (``docs/selection.md``, §6):

1. ``Y`` has the training class frequencies ``π``.
2. Whether each model errs follows the Gaussian copula of :class:`CorrelatedErrorModel`: error
   rates ``p_i`` and the tetrachoric correlation matrix ``R`` (errors independent of ``Y``).
3. Which wrong answer an erring model gives (``wrong_answers``):

   * ``"uniform"`` — uniformly one of the ``C − 1`` wrong options, independently across models;
   * ``"confusion"`` — per-model confusion rates ``Θ_i[y, x]`` (Laplace-smoothed training
     counts, normalised over the wrong options), independently across models;
   * ``"shared-distractor"`` — each query has one attractive distractor ``D``, uniform over the
     wrong options; an erring model answers ``D`` with probability ``κ`` and one of the other
     ``C − 2`` wrong options uniformly otherwise. ``κ = 1/(C − 1)`` is the uniform model;
     ``κ`` is fitted by the method of moments from how often two erring models agree.

Then ``P(y, x_S) = π_y · P(E_S = 1{x_S ≠ y}) · W(x_S | y)`` exactly, with the error-pattern
probabilities ``P(E_S = e)`` from quasi-Monte Carlo draws of the latent Gaussian (common random
numbers for every subset, so that greedy comparisons are smooth; exact for one and two models,
or Genz's orthant algorithm with ``error_patterns="genz"``). The ``C^k`` answer patterns are
enumerated where their number allows (``max_cells``), and beyond that the information and the
Bayes error are Monte Carlo averages of exact posteriors over simulated queries.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from llmcopula._estimator import BaseEstimator
from llmcopula._validation import RNGLike, check_is_fitted, check_positive_int, check_rng
from llmcopula.copulas import GaussianCopula
from llmcopula.selection._contingency import entropy_counts
from llmcopula.selection.error_model import CorrelatedErrorModel
from llmcopula.selection.floors import error_pattern_probabilities

__all__ = ["CopulaInformation", "WRONG_ANSWER_MODELS"]

WRONG_ANSWER_MODELS = ("uniform", "confusion", "shared-distractor")
_ERROR_PATTERNS = ("qmc", "genz")
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class _SetState:
    """A selected set for the greedy loop: its members and Î(Y; X_S) in nats."""

    members: tuple[int, ...]
    mi: float


class CopulaInformation(BaseEstimator):
    """Model-based I(Y; X_S), Bayes error and aggregator accuracy of any set of pooled models.

    Parameters
    ----------
    wrong_answers : {"shared-distractor", "uniform", "confusion"}
        Model of which wrong answer an erring model gives (module docstring).
    n_draws : int, default 65536
        Quasi-Monte-Carlo draws of the latent Gaussian, shared by every subset.
    error_patterns : {"qmc", "genz"}
        How ``P(E_S = e)`` is computed for three or more models: from the shared draws, or by
        Genz's orthant algorithm per pattern (slow: for validation).
    max_cells : int, default 2**22
        Enumerate the ``C^k`` answer patterns × ``C`` labels exactly up to this many cells; Monte
        Carlo over ``n_draws`` simulated queries beyond.
    continuity_correction : float, default 0.5
        As in :class:`CorrelatedErrorModel` (for models never or always wrong in training, and
        for 2×2 tables with an empty cell).
    rng : None, int or numpy.random.Generator
        Seeds the scrambled Sobol draws (and the Monte Carlo and Genz paths).

    Attributes
    ----------
    classes_ : ndarray
        The label classes (answers outside them count as wrong under every label).
    prior_ : ndarray, shape (C,)
    error_rates_ : ndarray, shape (M,)
    corr_ : ndarray, shape (M, M)
        Repaired tetrachoric correlation matrix of the errors.
    kappa_ : float
        Probability that an erring model gives the query's shared distractor
        (``"shared-distractor"``; ``1/(C − 1)`` otherwise).
    confusion_ : ndarray, shape (M, C, C)
        Wrong-answer rates ``Θ_i[y, x]`` (rows sum to 1 over ``x ≠ y``; ``"confusion"`` only).

    References
    ----------
    Turkmen, Buyukates and Bastopcu (2026), arXiv:2602.08003 (the selection objective and the
    Gaussian-copula error model).

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.selection.copula_information import CopulaInformation
    >>> truth = CopulaInformation.from_parameters([0.2, 0.3, 0.3], np.eye(3), classes=[0, 1],
    ...                                           prior=[0.5, 0.5], rng=0)
    >>> X, y = truth.simulate(5000, rng=1)
    >>> fitted = CopulaInformation(rng=0).fit(X, y)
    >>> exact = truth.mutual_information([0, 1, 2])
    >>> bool(abs(fitted.mutual_information([0, 1, 2]) - exact) < 0.03)
    True
    """

    def __init__(self, *, wrong_answers: str = "shared-distractor", n_draws: int = 65536,
                 error_patterns: str = "qmc", max_cells: int = 2**22,
                 continuity_correction: float = 0.5, rng: RNGLike = None) -> None:
        self.wrong_answers = wrong_answers
        self.n_draws = n_draws
        self.error_patterns = error_patterns
        self.max_cells = max_cells
        self.continuity_correction = continuity_correction
        self.rng = rng

    # ------------------------------------------------------------------------------------------
    # fitting

    def _check_options(self) -> None:
        if self.wrong_answers not in WRONG_ANSWER_MODELS:
            raise ValueError(f"wrong_answers: expected one of {WRONG_ANSWER_MODELS}, got "
                             f"{self.wrong_answers!r}")
        if self.error_patterns not in _ERROR_PATTERNS:
            raise ValueError(f"error_patterns: expected one of {_ERROR_PATTERNS}, got "
                             f"{self.error_patterns!r}")
        check_positive_int(self.n_draws, "n_draws", minimum=64)
        check_positive_int(self.max_cells, "max_cells")

    def fit(self, X: ArrayLike, y: ArrayLike) -> CopulaInformation:
        """Fit the model to answers ``X`` (n, M) and labels ``y`` (n,). Returns ``self``."""
        self._check_options()
        Xa, ya = _check_answers(X, y)
        classes, y_idx = np.unique(ya, return_inverse=True)
        if classes.size < 2:
            raise ValueError(f"y: need at least 2 classes, got {classes.tolist()}")
        codes = _class_codes(Xa, classes)
        errors = (codes != y_idx[:, None]).astype(np.float64)
        n, m = errors.shape
        self.classes_ = classes
        self.prior_ = np.bincount(y_idx, minlength=classes.size) / n
        self.n_models_ = m
        with warnings.catch_warnings():
            # Models never or always wrong in a small training set get the continuity
            # correction; the attribute docs say so, a warning per fit would only be noise.
            warnings.simplefilter("ignore", UserWarning)
            if m >= 2:
                fitted = CorrelatedErrorModel(
                    continuity_correction=self.continuity_correction).fit_errors(errors)
                self.error_rates_, self.corr_ = fitted.error_rates_, fitted.corr_
            else:
                k = errors.sum()
                c = float(self.continuity_correction)
                rate = k / n if 0 < k < n else (k + c) / (n + 2 * c) if k == 0 else (
                    (n + c) / (n + 2 * c))
                self.error_rates_, self.corr_ = np.array([rate]), np.eye(1)
        self.kappa_ = 1.0 / (classes.size - 1)
        if self.wrong_answers == "shared-distractor":
            self.kappa_ = _fit_kappa(codes, y_idx, classes.size)
        elif self.wrong_answers == "confusion":
            self.confusion_ = _fit_confusion(codes, y_idx, classes.size)
        self._draw()
        return self

    @classmethod
    def from_parameters(cls, error_rates: ArrayLike, corr: ArrayLike, *, classes: ArrayLike,
                        prior: ArrayLike, kappa: float | None = None,
                        confusion: ArrayLike | None = None, **options: Any) -> CopulaInformation:
        """A model with known parameters (ground truth for tests and simulations).

        ``kappa`` sets the shared-distractor model, ``confusion`` (M, C, C) the confusion model,
        neither the uniform model. ``options`` are constructor options.
        """
        rates = np.asarray(error_rates, dtype=np.float64)
        if rates.ndim != 1 or ((rates <= 0) | (rates >= 1)).any():
            raise ValueError("error_rates: expected a 1-d array of rates in (0, 1)")
        r = np.asarray(corr, dtype=np.float64)
        if r.shape != (rates.size, rates.size) or np.linalg.eigvalsh(r).min() < -1e-10:
            raise ValueError(f"corr: expected a ({rates.size}, {rates.size}) correlation matrix")
        cl = np.unique(np.asarray(classes))
        pr = np.asarray(prior, dtype=np.float64)
        if pr.shape != (cl.size,) or (pr < 0).any() or not np.isclose(pr.sum(), 1.0):
            raise ValueError(f"prior: expected {cl.size} probabilities summing to 1")
        if kappa is not None and confusion is not None:
            raise ValueError("kappa: give kappa or confusion, not both")
        wrong = ("shared-distractor" if kappa is not None
                 else "confusion" if confusion is not None else "uniform")
        model = cls(wrong_answers=wrong, **options)
        model._check_options()
        model.classes_, model.prior_, model.n_models_ = cl, pr, rates.size
        model.error_rates_, model.corr_ = rates, r
        model.kappa_ = 1.0 / (cl.size - 1) if kappa is None else float(kappa)
        if not 1.0 / (cl.size - 1) - 1e-12 <= model.kappa_ <= 1.0:
            raise ValueError(f"kappa: must lie in [1/(C-1), 1] = [{1 / (cl.size - 1):.3g}, 1]")
        if confusion is not None:
            theta = np.asarray(confusion, dtype=np.float64)
            if theta.shape != (rates.size, cl.size, cl.size):
                raise ValueError(f"confusion: expected shape {(rates.size, cl.size, cl.size)}")
            model.confusion_ = theta
        model._draw()
        return model

    def _draw(self) -> None:
        """Shared quasi-Monte-Carlo error indicators (n_draws, M) of the latent Gaussian."""
        gen = check_rng(self.rng)
        self._gen = gen
        m = self.n_models_
        n_log2 = int(math.ceil(math.log2(self.n_draws)))
        sobol = stats.qmc.Sobol(d=m, scramble=True, seed=gen)
        u = sobol.random_base2(n_log2)[: self.n_draws]
        z = special.ndtri(np.clip(u, 1e-16, 1 - 1e-16)) @ np.linalg.cholesky(
            self.corr_ + 1e-12 * np.eye(m)).T
        self._errors = z < special.ndtri(self.error_rates_)
        self._cache: dict[tuple[int, ...], FloatArray] = {}

    # ------------------------------------------------------------------------------------------
    # the model's distributions

    def _models(self, models: ArrayLike) -> tuple[int, ...]:
        check_is_fitted(self, "corr_", hint="fit(X, y)")
        idx = np.asarray(models)
        if (idx.ndim != 1 or idx.size < 1 or idx.dtype.kind not in "iu"
                or (idx < 0).any() or (idx >= self.n_models_).any()
                or np.unique(idx).size != idx.size):
            raise ValueError(f"models: expected distinct column indices in "
                             f"[0, {self.n_models_}), got {models!r}")
        return tuple(int(i) for i in idx)

    def error_pattern_probabilities(self, models: ArrayLike) -> FloatArray:
        """``P(E_S = e)`` for the ``2^k`` error patterns (bit ``i`` set: ``models[i]`` wrong)."""
        key = self._models(models)
        if key in self._cache:
            return self._cache[key]
        k = len(key)
        p = self.error_rates_[list(key)]
        if k == 1:
            probs = np.array([1 - p[0], p[0]])
        elif k == 2:
            both = float(GaussianCopula(float(np.clip(self.corr_[key[0], key[1]], -1 + 1e-12,
                                                      1 - 1e-12))).cdf([p[0], p[1]]))
            probs = np.array([1 - p[0] - p[1] + both, p[0] - both, p[1] - both, both])
        elif self.error_patterns == "genz":
            probs = error_pattern_probabilities(p, self.corr_[np.ix_(key, key)], rng=self._gen)
        else:
            codes = self._errors[:, list(key)].astype(np.int64) @ (1 << np.arange(k))
            probs = np.bincount(codes, minlength=2**k) / codes.size
        probs = np.clip(probs, 0.0, None)
        probs = probs / probs.sum()
        self._cache[key] = probs
        return probs

    def _log_wrong(self, codes: NDArray[np.int64], y: int, key: tuple[int, ...]) -> FloatArray:
        """log W(x | y, e) for answer-code rows ``codes`` (r, k); −1 codes are invalid answers."""
        c = self.classes_.size
        wrong = codes != y
        valid_wrong = wrong & (codes >= 0)
        if self.wrong_answers == "uniform" or c == 2:
            return -math.log(c - 1) * valid_wrong.sum(axis=1)
        if self.wrong_answers == "confusion":
            with np.errstate(divide="ignore"):  # Θ[y, y] = 0 is never picked
                theta = np.log(self.confusion_[list(key), y, :])  # (k, C)
            picked = theta[np.arange(len(key))[None, :], np.where(codes >= 0, codes, 0)]
            return np.where(valid_wrong, picked, 0.0).sum(axis=1)
        kappa, rest = self.kappa_, (1 - self.kappa_) / (c - 2)
        n_wrong = valid_wrong.sum(axis=1)
        terms = []
        for d in range(c):
            if d == y:
                continue
            hit = (valid_wrong & (codes == d)).sum(axis=1)
            with np.errstate(divide="ignore"):
                terms.append(hit * math.log(kappa) + (n_wrong - hit) * (
                    math.log(rest) if rest > 0 else -np.inf) - math.log(c - 1))
        stacked = np.stack(terms)
        # log 0 = -inf only where a count is zero: 0·log 0 must be 0
        return special.logsumexp(np.nan_to_num(stacked, nan=-np.inf), axis=0)

    def log_joint(self, models: ArrayLike, answers: ArrayLike) -> FloatArray:
        """``log P(y, x)`` of answer rows ``answers`` (r, k) of ``models``, for every class:
        shape (r, C), columns in ``classes_`` order. Answers outside the classes count as
        wrong under every label."""
        key = self._models(models)
        arr = np.asarray(answers)
        if arr.ndim != 2 or arr.shape[1] != len(key):
            raise ValueError(f"answers: expected shape (r, {len(key)}), got {arr.shape}")
        codes = _class_codes(arr, self.classes_)
        return self._log_joint_codes(key, codes)

    def _log_joint_codes(self, key: tuple[int, ...], codes: NDArray[np.int64]) -> FloatArray:
        pe = self.error_pattern_probabilities(key)
        bits = 1 << np.arange(len(key))
        out = np.empty((codes.shape[0], self.classes_.size))
        with np.errstate(divide="ignore"):
            log_pe = np.log(pe)
            log_prior = np.log(self.prior_)
        for y in range(self.classes_.size):
            e = (codes != y).astype(np.int64) @ bits
            out[:, y] = log_prior[y] + log_pe[e] + self._log_wrong(codes, y, key)
        return out

    def _enumerable(self, k: int) -> bool:
        return self.classes_.size ** (k + 1) <= self.max_cells

    def _patterns(self, k: int) -> NDArray[np.int64]:
        c = self.classes_.size
        grid = np.indices((c,) * k).reshape(k, -1).T
        return grid.astype(np.int64)

    def joint(self, models: ArrayLike) -> tuple[NDArray[Any], FloatArray]:
        """Every answer pattern of ``models`` and its joint probability with each class.

        Returns ``(patterns, probs)``: ``patterns`` (P, k) answers from ``classes_`` and
        ``probs`` (P, C) with ``probs[r, c] = P(Y = classes_[c], X_S = patterns[r])``; the
        probabilities sum to 1. Raises ``ValueError`` beyond ``max_cells``.
        """
        key = self._models(models)
        if not self._enumerable(len(key)):
            raise ValueError(f"models: {self.classes_.size}^{len(key)} patterns exceed "
                             f"max_cells={self.max_cells}")
        codes = self._patterns(len(key))
        return self.classes_[codes], np.exp(self._log_joint_codes(key, codes))

    def simulate(self, n: int, *, models: ArrayLike | None = None, rng: RNGLike = None
                 ) -> tuple[NDArray[Any], NDArray[Any]]:
        """Draw ``n`` queries ``(X, y)`` from the model (answers of ``models``, default all)."""
        check_is_fitted(self, "corr_", hint="fit(X, y)")
        n = check_positive_int(n, "n")
        key = self._models(np.arange(self.n_models_) if models is None else models)
        gen = check_rng(rng)
        c = self.classes_.size
        y = gen.choice(c, size=n, p=self.prior_)
        rates = self.error_rates_[list(key)]
        corr = self.corr_[np.ix_(key, key)]
        if len(key) == 1:
            errors = gen.random((n, 1)) < rates
        else:
            from llmcopula.copulas import MultivariateGaussianCopula

            errors = MultivariateGaussianCopula(corr).sample(n, rng=gen) < rates
        shift = gen.integers(1, c, size=(n, len(key)))  # uniform wrong option
        wrong = (y[:, None] + shift) % c
        if self.wrong_answers == "shared-distractor" and c > 2:
            d = (y + gen.integers(1, c, size=n)) % c
            others = gen.integers(1, c - 1, size=(n, len(key)))  # among the C-2 non-D wrong
            # the j-th wrong option after y, skipping d
            candidates = (y[:, None] + others) % c
            candidates = np.where(_between(y, d, candidates, c), (candidates + 1) % c,
                                  candidates)
            wrong = np.where(gen.random((n, len(key))) < self.kappa_, d[:, None], candidates)
        elif self.wrong_answers == "confusion":
            theta = self.confusion_[list(key)][:, y, :]  # (k, n, C)
            cum = np.cumsum(theta, axis=2)
            u = gen.random((len(key), n, 1))
            wrong = (u > cum).sum(axis=2).T
        x = np.where(errors, wrong, y[:, None])
        return self.classes_[x], self.classes_[y]

    # ------------------------------------------------------------------------------------------
    # what the model predicts for a set

    def _mc_log_joint(self, key: tuple[int, ...]) -> tuple[FloatArray, NDArray[np.int64]]:
        X, y = self.simulate(min(self.n_draws, 200_000), models=key, rng=self._gen)
        return self.log_joint(key, X), np.searchsorted(self.classes_, y)

    def mutual_information(self, models: ArrayLike, *, base: float = 2.0) -> float:
        """I(Y; X_S) under the fitted model (exact enumeration, or Monte Carlo beyond
        ``max_cells``)."""
        key = self._models(models)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self._enumerable(len(key)):
                # the entropy kernel of the table estimators, on probabilities (total 1)
                _, joint = self.joint(key)
                mi = float(entropy_counts(joint.sum(axis=0), "plugin", total=1.0)
                           + entropy_counts(joint.sum(axis=1), "plugin", total=1.0)
                           - entropy_counts(joint.ravel(), "plugin", total=1.0))
            else:
                lj, y = self._mc_log_joint(key)
                log_post = lj - special.logsumexp(lj, axis=1, keepdims=True)
                mi = float(np.mean(log_post[np.arange(y.size), y] - np.log(self.prior_[y])))
        return max(mi, 0.0) / math.log(base)

    def bayes_error(self, models: ArrayLike) -> float:
        """Error of the Bayes (MAP) aggregator of ``models`` under the fitted model: the floor
        of every aggregator of these answers."""
        key = self._models(models)
        if self._enumerable(len(key)):
            _, joint = self.joint(key)
            return float(1.0 - joint.max(axis=1).sum())
        lj, _ = self._mc_log_joint(key)
        post = np.exp(lj - special.logsumexp(lj, axis=1, keepdims=True))
        return float(1.0 - post.max(axis=1).mean())

    def predicted_accuracy(self, models: ArrayLike, aggregator: Any) -> float:
        """Accuracy of a fitted ``aggregator`` (any object with ``predict``) on the answers of
        ``models`` under the fitted model."""
        key = self._models(models)
        if self._enumerable(len(key)) and self.classes_.size ** len(key) <= 65536:
            patterns, joint = self.joint(key)
            pred = np.asarray(aggregator.predict(patterns))
            idx = np.searchsorted(self.classes_, pred)
            idx = np.clip(idx, 0, self.classes_.size - 1)
            hit = self.classes_[idx] == pred
            return float(np.where(hit, joint[np.arange(len(pred)), idx], 0.0).sum())
        X, y = self.simulate(min(self.n_draws, 200_000), models=key, rng=self._gen)
        return float(np.mean(np.asarray(aggregator.predict(X)) == y))

    def oracle(self) -> _CopulaOracle:
        """The information oracle that greedy selection uses (nats)."""
        check_is_fitted(self, "corr_", hint="fit(X, y)")
        return _CopulaOracle(self)

    # ------------------------------------------------------------------------------------------

    def wrong_answer_log_likelihood(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean log-likelihood per query of the wrong answers in ``(X, y)`` given which models
        erred: the part of the model that ``wrong_answers`` chooses (for model comparison on
        held-out data). Invalid answers are skipped."""
        check_is_fitted(self, "corr_", hint="fit(X, y)")
        Xa, ya = _check_answers(X, y)
        if Xa.shape[1] != self.n_models_:
            raise ValueError(f"X: expected {self.n_models_} columns, got {Xa.shape[1]}")
        codes = _class_codes(Xa, self.classes_)
        y_idx = np.searchsorted(self.classes_, ya)
        if ((y_idx >= self.classes_.size)
                | (self.classes_[np.minimum(y_idx, self.classes_.size - 1)] != ya)).any():
            raise ValueError("y: labels outside the fitted classes")
        key = tuple(range(self.n_models_))
        total = 0.0
        for c in range(self.classes_.size):
            rows = y_idx == c
            if rows.any():
                total += float(self._log_wrong(codes[rows], c, key).sum())
        return total / ya.size


class _CopulaOracle:
    """Greedy-selection oracle backed by :class:`CopulaInformation` (values in nats)."""

    exact_when_determined = False

    def __init__(self, model: CopulaInformation) -> None:
        self.model = model
        self.h_y = float(entropy_counts(model.prior_, "plugin", total=1.0))
        self._mi: dict[tuple[int, ...], float] = {}

    def mi(self, members: tuple[int, ...]) -> float:
        key = tuple(sorted(members))
        if key not in self._mi:
            self._mi[key] = self.model.mutual_information(list(key), base=math.e)
        return self._mi[key]

    def empty(self) -> _SetState:
        return _SetState((), 0.0)

    def gains(self, state: _SetState, cand: NDArray[np.intp]) -> FloatArray:
        return np.array([self.mi(state.members + (int(j),)) - state.mi for j in cand])

    def add(self, state: _SetState, j: int) -> _SetState:
        members = state.members + (int(j),)
        return _SetState(members, self.mi(members))


# ----------------------------------------------------------------------------------------------


def _between(y: NDArray, d: NDArray, cand: NDArray, c: int) -> NDArray[np.bool_]:
    """True where ``cand`` is at or past ``d`` going round from ``y`` (so that skipping ``d``
    maps the C − 2 offsets onto the wrong options other than ``d``)."""
    return ((cand - y[:, None]) % c) >= ((d - y) % c)[:, None]


def _check_answers(X: ArrayLike, y: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    Xa = np.asarray(X)
    ya = np.asarray(y)
    if Xa.ndim != 2 or Xa.shape[0] < 2 or Xa.shape[1] < 1:
        raise ValueError(f"X: expected a 2-d array (queries × models) with at least 2 rows, got "
                         f"shape {Xa.shape}")
    if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
        raise ValueError(f"y: expected shape ({Xa.shape[0]},), got {ya.shape}")
    for arr, name in ((Xa, "X"), (ya, "y")):
        if arr.dtype.kind == "f" and np.isnan(arr).any():
            raise ValueError(f"{name}: contains NaN")
    if Xa.dtype == object or ya.dtype == object or Xa.dtype.kind != ya.dtype.kind:
        Xa, ya = Xa.astype(str), ya.astype(str)
    return Xa, ya


def _class_codes(X: NDArray[Any], classes: NDArray[Any]) -> NDArray[np.int64]:
    """Index of each answer in ``classes``; −1 for answers that are not a class."""
    pos = np.clip(np.searchsorted(classes, X), 0, classes.size - 1)
    return np.where(classes[pos] == X, pos, -1).astype(np.int64)


def _fit_kappa(codes: NDArray[np.int64], y: NDArray[np.int64], c: int) -> float:
    """Method-of-moments κ: among pairs of models that both give a valid wrong answer, the
    agreement rate is κ² + (1 − κ)²/(C − 2); solved on [1/(C − 1), 1]."""
    if c <= 2:
        return 1.0
    valid_wrong = (codes != y[:, None]) & (codes >= 0)
    agree = pairs = 0
    m = codes.shape[1]
    for i in range(m):
        for j in range(i + 1, m):
            both = valid_wrong[:, i] & valid_wrong[:, j]
            pairs += int(both.sum())
            agree += int((codes[both, i] == codes[both, j]).sum())
    floor = 1.0 / (c - 1)
    if pairs == 0:
        return floor
    # smoothed towards the uniform model by one pseudo-pair
    a = (agree + floor) / (pairs + 1)
    # (1 + 1/(C-2)) κ² − (2/(C-2)) κ + 1/(C-2) − a = 0
    qa, qb, qc = 1 + 1 / (c - 2), -2 / (c - 2), 1 / (c - 2) - a
    disc = max(qb * qb - 4 * qa * qc, 0.0)
    kappa = (-qb + math.sqrt(disc)) / (2 * qa)
    return float(np.clip(kappa, floor, 1.0))


def _fit_confusion(codes: NDArray[np.int64], y: NDArray[np.int64], c: int) -> FloatArray:
    m = codes.shape[1]
    theta = np.ones((m, c, c))
    for i in range(m):
        ok = codes[:, i] >= 0
        np.add.at(theta[i], (y[ok], codes[ok, i]), 1.0)
    idx = np.arange(c)
    theta[:, idx, idx] = 0.0
    return theta / theta.sum(axis=2, keepdims=True)

"""Aggregators that turn the answers of a selected ensemble into one answer per query.

All follow the scikit-learn estimator style (they derive from
:class:`llmcopula._estimator.BaseEstimator`): options are keyword-only in ``__init__``,
``fit(X, y)`` returns ``self``, learned attributes end in ``_``, and using an unfitted aggregator
raises :class:`~llmcopula._validation.NotFittedError`.

* :class:`MajorityVote` — the plurality answer.
* :class:`WeightedMajorityVote` — votes weighted by log-odds of each model's training accuracy,
  w_i = log((C − 1)·acc_i / (1 − acc_i)), the Bayes rule when every model errs independently and
  uniformly over the C − 1 wrong classes (Nitzan and Paroush, 1982).
* :class:`MAPAggregator` — the Bayes (MAP) decoder over the joint answer pattern,
  ŷ(x_S) = argmax_y N_train[y, x_S], with back-off for patterns unseen in training (Turkmen,
  Buyukates and Bastopcu, 2026, arXiv:2602.08003).
* :class:`DawidSkene` — unsupervised EM over per-model confusion matrices (Dawid and Skene, 1979).
* :class:`CopulaBayesAggregator` — the Bayes rule under the fitted Gaussian-copula model of the
  pool, argmax_y P̂(y, x_S), defined for every answer pattern whether seen in training or not.

Answers in ``X`` that are not among the classes (for example an empty or malformed answer) are
treated as abstentions by the voting rules and by Dawid–Skene; the MAP decoder keeps them as
pattern values of their own, since "model i gave no valid answer" can itself be informative.
A row with no usable answer at all is predicted as the most frequent training class, with a
:class:`NoEvidenceWarning` (a guess, not an aggregate).
Ties between classes go to the class more frequent in the training labels, then to the class that
sorts first.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp

from llmcopula._estimator import BaseEstimator
from llmcopula._validation import check_is_fitted, check_positive_int

__all__ = ["MajorityVote", "WeightedMajorityVote", "MAPAggregator", "DawidSkene",
           "CopulaBayesAggregator", "AGGREGATORS", "make_aggregator", "NoEvidenceWarning"]

_TIE_TOL = 1e-9


def _as_answers(X: ArrayLike, name: str = "X", n_models: int | None = None) -> NDArray[Any]:
    arr = np.asarray(X)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty 2-d array (queries × models), got shape "
                         f"{np.shape(X)}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name}: contains {int(np.isnan(arr).sum())} NaN value(s); encode "
                         "missing answers as a value outside the classes instead")
    if n_models is not None and arr.shape[1] != n_models:
        raise ValueError(f"{name}: expected {n_models} columns (as in fit), got {arr.shape[1]}")
    return arr.astype(str) if arr.dtype == object else arr


def _as_labels(y: ArrayLike, n: int) -> NDArray[Any]:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"y: expected a 1-d array of {n} labels, got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError("y: contains NaN")
    return arr.astype(str) if arr.dtype == object else arr


def _classes(classes: ArrayLike | None, *sources: NDArray[Any]) -> NDArray[Any]:
    if classes is not None:
        out = np.unique(np.asarray(classes))
    else:
        out = np.unique(np.concatenate([np.ravel(s) for s in sources]))
    if out.size < 2:
        raise ValueError(f"classes: need at least 2 classes, got {out.tolist()}")
    return out


def _class_index(values: NDArray[Any], classes: NDArray[Any]) -> NDArray[np.int64]:
    """Index of each value in ``classes``; −1 where the value is not a class (abstention)."""
    try:
        pos = np.searchsorted(classes, values)
    except TypeError as exc:  # e.g. string answers against integer classes
        raise ValueError(f"X: answers of type {values.dtype} cannot be compared with classes of "
                         f"type {classes.dtype}") from exc
    pos = np.clip(pos, 0, classes.size - 1)
    found = classes[pos] == values
    return np.where(found, pos, -1).astype(np.int64)


def _votes(codes: NDArray[np.int64], n_classes: int, weights: NDArray[np.float64] | None = None
           ) -> NDArray[np.float64]:
    """(n, C) sum over models of weight × [answer = class]; abstentions count for nothing."""
    onehot = codes[:, :, None] == np.arange(n_classes)
    if weights is None:
        return onehot.sum(axis=1).astype(np.float64)
    return np.einsum("nmc,m->nc", onehot, weights)


def _argmax_ties(scores: NDArray[np.float64], prior: NDArray[np.float64]) -> NDArray[np.int64]:
    """Row-wise argmax; near-ties go to the class with the larger prior, then the lower index."""
    best = scores.max(axis=1, keepdims=True)
    tied = scores >= best - _TIE_TOL * np.maximum(1.0, np.abs(best))
    return np.argmax(np.where(tied, prior[None, :], -np.inf), axis=1)


def _prior(y_idx: NDArray[np.int64], n_classes: int) -> NDArray[np.float64]:
    return np.bincount(y_idx[y_idx >= 0], minlength=n_classes) / max(int((y_idx >= 0).sum()), 1)


class NoEvidenceWarning(UserWarning):
    """Rows of ``X`` where no model gave an answer the aggregator can use (every answer is
    outside the classes, or an answer pattern never seen in training with no valid vote): they
    are predicted as the most frequent training class, which is a guess, not an aggregate."""


def _warn_no_evidence(no_evidence: NDArray[np.bool_], Xa: NDArray[Any], classes: NDArray[Any],
                      prior: NDArray[np.float64]) -> None:
    if not no_evidence.any():
        return
    rows = np.flatnonzero(no_evidence)
    example = Xa[rows[0]].tolist()
    guess = classes[int(np.argmax(prior))]
    guess = guess.item() if isinstance(guess, np.generic) else guess
    warnings.warn(f"X: {rows.size} row(s) have no answer among the classes "
                  f"{classes.tolist()[:10]} (first: row {int(rows[0])}, answers {example}); they "
                  f"are predicted as the most frequent training class {guess!r}",
                  NoEvidenceWarning, stacklevel=4)


class _Aggregator(BaseEstimator):
    classes_: NDArray[Any]
    prior_: NDArray[np.float64]
    n_models_: int

    def _check_fitted(self) -> None:
        check_is_fitted(self, "classes_", hint="fit(X, y)")

    def _fit_common(self, X: ArrayLike, y: ArrayLike | None, classes: ArrayLike | None,
                    require_y: bool) -> tuple[NDArray[Any], NDArray[np.int64] | None]:
        Xa = _as_answers(X)
        if y is None:
            if require_y:
                raise ValueError(f"y: {type(self).__name__} needs training labels")
            self.classes_ = _classes(classes, Xa)
            y_idx = None
        else:
            ya = _as_labels(y, Xa.shape[0])
            self.classes_ = _classes(classes, ya)
            y_idx = _class_index(ya, self.classes_)
            if (y_idx < 0).any():
                raise ValueError(f"y: {int((y_idx < 0).sum())} label(s) are not among classes "
                                 f"{self.classes_.tolist()}")
        self.n_models_ = Xa.shape[1]
        return Xa, y_idx

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predicted class of each row of ``X`` (queries × models)."""
        self._check_fitted()
        return self.classes_[self._predict_index(X)]

    def _predict_index(self, X: ArrayLike) -> NDArray[np.int64]:
        raise NotImplementedError

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy of :meth:`predict` against ``y``."""
        pred = self.predict(X)
        return float(np.mean(pred == _as_labels(y, pred.shape[0])))


class MajorityVote(_Aggregator):
    """Plurality vote over the models' answers.

    Parameters
    ----------
    classes : array_like, optional
        The answer classes; default: those of ``y`` in fit, else those seen in ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([["A", "A", "B"], ["C", "B", "B"]])
    >>> MajorityVote().fit(X).predict(X).tolist()
    ['A', 'B']
    """

    def __init__(self, *, classes: ArrayLike | None = None) -> None:
        self.classes = classes

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> MajorityVote:
        Xa, y_idx = self._fit_common(X, y, self.classes, require_y=False)
        if y_idx is None:
            y_idx = _class_index(Xa.ravel(), self.classes_)
        self.prior_ = _prior(y_idx, self.classes_.size)
        return self

    def _predict_index(self, X: ArrayLike) -> NDArray[np.int64]:
        self._check_fitted()
        Xa = _as_answers(X, n_models=self.n_models_)
        codes = _class_index(Xa, self.classes_)
        _warn_no_evidence((codes < 0).all(axis=1), Xa, self.classes_, self.prior_)
        return _argmax_ties(_votes(codes, self.classes_.size), self.prior_)


class WeightedMajorityVote(_Aggregator):
    """Majority vote with log-odds weights from training accuracy.

    score(c) = Σ_i w_i [x_i = c],  w_i = log((C − 1)·acc_i / (1 − acc_i)),

    the log-likelihood ratio of class c under the model where model i is right with probability
    acc_i and otherwise answers one of the C − 1 wrong classes uniformly, independently of the
    other models.  ``acc_i`` is the Laplace-smoothed training accuracy (k + 1)/(n + 2), which keeps
    the weights finite.  Models worse than chance get negative weights.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 0, 1, 0, 1])
    >>> X = np.array([[0, 1, 1], [1, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 0], [1, 1, 1]])
    >>> WeightedMajorityVote().fit(X, y).predict(X).tolist()   # model 0 outvotes the others
    [0, 1, 0, 1, 0, 1]
    >>> MajorityVote().fit(X, y).predict(X).tolist()
    [1, 0, 0, 1, 0, 1]
    """

    def __init__(self, *, classes: ArrayLike | None = None) -> None:
        self.classes = classes

    def fit(self, X: ArrayLike, y: ArrayLike) -> WeightedMajorityVote:
        Xa, y_idx = self._fit_common(X, y, self.classes, require_y=True)
        if y_idx is None:  # pragma: no cover - require_y=True always returns labels
            raise RuntimeError("internal error: labels missing after validation")
        codes = _class_index(Xa, self.classes_)
        correct = (codes == y_idx[:, None]).sum(axis=0)
        self.accuracy_ = (correct + 1.0) / (Xa.shape[0] + 2.0)
        c = self.classes_.size
        self.weights_ = np.log((c - 1) * self.accuracy_ / (1.0 - self.accuracy_))
        self.prior_ = _prior(y_idx, c)
        return self

    def _predict_index(self, X: ArrayLike) -> NDArray[np.int64]:
        self._check_fitted()
        Xa = _as_answers(X, n_models=self.n_models_)
        codes = _class_index(Xa, self.classes_)
        _warn_no_evidence((codes < 0).all(axis=1), Xa, self.classes_, self.prior_)
        return _argmax_ties(_votes(codes, self.classes_.size, self.weights_), self.prior_)


class MAPAggregator(_Aggregator):
    """Bayes (MAP) decoder over joint answer patterns, with back-off for unseen patterns.

    ŷ(x_S) = argmax_y N_train[y, x_S], the class most often seen with the full answer pattern in
    training.  For a pattern seen fewer than ``min_count`` times the decoder backs off to the
    largest sub-ensemble T ⊂ S whose sub-pattern x_T was seen: among the subsets of the largest
    size that have a seen sub-pattern, the one with the most training rows for it is used (ties:
    subsets of more accurate models first).  Rows with no seen sub-pattern at all fall back to
    :class:`WeightedMajorityVote`.  The table becomes sparse as |S| grows, which is why MAP
    degrades at large k.

    Parameters
    ----------
    classes : array_like, optional
    min_count : int, default 1
        Training rows a (sub-)pattern needs to be used.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1, 1, 0])
    >>> X = np.array([[0, 1], [0, 1], [1, 0], [1, 0], [1, 1], [0, 0]])
    >>> agg = MAPAggregator().fit(X, y)
    >>> agg.predict([[0, 1], [1, 0], [2, 0]]).tolist()   # the last answer 2 was never seen
    [0, 1, 1]
    """

    def __init__(self, *, classes: ArrayLike | None = None, min_count: int = 1) -> None:
        self.classes = classes
        self.min_count = min_count

    def fit(self, X: ArrayLike, y: ArrayLike) -> MAPAggregator:
        min_count = check_positive_int(self.min_count, "min_count")
        Xa, y_idx = self._fit_common(X, y, self.classes, require_y=True)
        if y_idx is None:  # pragma: no cover - require_y=True always returns labels
            raise RuntimeError("internal error: labels missing after validation")
        self.values_ = np.unique(Xa)
        base = self.values_.size + 1  # one extra code for answers never seen in training
        if Xa.shape[1] * math.log2(base) > 62:
            raise ValueError(f"X: {Xa.shape[1]} models with {self.values_.size} distinct answers "
                             "give too many patterns for the MAP table; select fewer models")
        self._base = base
        self._train_codes = _class_index(Xa, self.values_)
        self._y = y_idx
        self._min_count = min_count
        self.prior_ = _prior(y_idx, self.classes_.size)
        self.fallback_ = WeightedMajorityVote(classes=self.classes_).fit(Xa, self.classes_[y_idx])
        # Back-off order: subsets of the more accurate models first.
        self._model_order = np.argsort(-self.fallback_.accuracy_, kind="stable")
        return self

    def _table(self, cols: Sequence[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Sorted distinct training sub-pattern codes and their (m, C) class counts."""
        code = self._fold(self._train_codes, cols)
        uniq, inv = np.unique(code, return_inverse=True)
        counts = np.zeros((uniq.size, self.classes_.size), dtype=np.int64)
        np.add.at(counts, (inv.ravel(), self._y), 1)
        return uniq, counts

    def _fold(self, codes: NDArray[np.int64], cols: Sequence[int]) -> NDArray[np.int64]:
        out = np.zeros(codes.shape[0], dtype=np.int64)
        for j in cols:
            out = out * self._base + (codes[:, j] % self._base)  # unseen (−1) → base − 1
        return out

    def _lookup(self, test_codes: NDArray[np.int64], cols: Sequence[int]
                ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Support and class counts of each test row's sub-pattern over ``cols``."""
        uniq, counts = self._table(cols)
        code = self._fold(test_codes, cols)
        pos = np.clip(np.searchsorted(uniq, code), 0, uniq.size - 1)
        seen = uniq[pos] == code
        row_counts = np.where(seen[:, None], counts[pos], 0)
        return row_counts.sum(axis=1), row_counts

    def predict_with_level(self, X: ArrayLike) -> tuple[NDArray[Any], NDArray[np.int64]]:
        """Predictions and, per row, the size of the (sub-)pattern used (0: weighted vote)."""
        self._check_fitted()
        Xa = _as_answers(X, n_models=self.n_models_)
        test_codes = _class_index(Xa, self.values_)
        n, k = Xa.shape
        pred = np.full(n, -1, dtype=np.int64)
        level = np.zeros(n, dtype=np.int64)
        todo = np.arange(n)
        for size in range(k, 0, -1):
            if todo.size == 0:
                break
            best_support = np.zeros(todo.size, dtype=np.int64)
            best_counts = np.zeros((todo.size, self.classes_.size), dtype=np.int64)
            for cols in itertools.combinations(self._model_order, size):
                support, counts = self._lookup(test_codes[todo], list(cols))
                better = (support >= self._min_count) & (support > best_support)
                best_support = np.where(better, support, best_support)
                best_counts[better] = counts[better]
            done = best_support > 0
            pred[todo[done]] = _argmax_ties(best_counts[done].astype(np.float64), self.prior_)
            level[todo[done]] = size
            todo = todo[~done]
        if todo.size:
            with warnings.catch_warnings():  # reported below, with this aggregator's rows
                warnings.simplefilter("ignore", NoEvidenceWarning)
                pred[todo] = self.fallback_._predict_index(Xa[todo])
            no_vote = (_class_index(Xa[todo], self.classes_) < 0).all(axis=1)
            mask = np.zeros(n, dtype=bool)
            mask[todo[no_vote]] = True
            _warn_no_evidence(mask, Xa, self.classes_, self.prior_)
        return self.classes_[pred], level

    def _predict_index(self, X: ArrayLike) -> NDArray[np.int64]:
        pred, _ = self.predict_with_level(X)
        return _class_index(pred, self.classes_)


class DawidSkene(_Aggregator):
    """Dawid–Skene EM: latent true class, one confusion matrix per model (unsupervised).

    Model: y ~ Categorical(π), and model i answers l with probability Θ_i[y, l], independently
    given y.  EM alternates the posterior T[n, c] ∝ π_c Π_i Θ_i[c, x_ni] (E-step) with
    Θ_i[c, l] ∝ α + Σ_n T[n, c][x_ni = l] and π_c ∝ Σ_n T[n, c] (M-step), starting from the
    (soft) majority vote, until the log-likelihood improves by less than ``tol``.  Abstentions
    (answers outside the classes) drop out of the likelihood.

    Parameters
    ----------
    classes : array_like, optional
        Default: the distinct answers in ``X`` (pass the label set when answers may be invalid).
    max_iter : int, default 200
    tol : float, default 1e-8
        Convergence threshold on the mean per-row log-likelihood.
    smoothing : float, default 0.01
        Pseudo-count α in the M-step, which keeps every Θ_i[c, l] > 0.

    Attributes
    ----------
    confusion_ : ndarray, shape (n_models, C, C)
        Θ_i[c, l] = P(model i answers l | true class c).
    prior_ : ndarray, shape (C,)
    log_likelihood_ : float
    n_iter_ : int

    References
    ----------
    Dawid, A. P. and Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates
    using the EM algorithm. *Applied Statistics* 28(1), 20–28.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 500)
    >>> X = np.where(rng.random((500, 5)) < 0.7, y[:, None], rng.integers(0, 3, (500, 5)))
    >>> ds = DawidSkene().fit(X)
    >>> bool(np.mean(ds.predict(X) == y) > 0.9)
    True
    """

    def __init__(self, *, classes: ArrayLike | None = None, max_iter: int = 200,
                 tol: float = 1e-8, smoothing: float = 0.01) -> None:
        self.classes = classes
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing

    def fit(self, X: ArrayLike, y: ArrayLike | None = None) -> DawidSkene:
        """Fit by EM on unlabelled answers; ``y`` is only used for the class set."""
        max_iter = check_positive_int(self.max_iter, "max_iter")
        if not (math.isfinite(self.smoothing) and self.smoothing > 0):
            raise ValueError(f"smoothing: must be a finite number > 0, got {self.smoothing!r}")
        if not (math.isfinite(self.tol) and self.tol > 0):
            raise ValueError(f"tol: must be a finite number > 0, got {self.tol!r}")
        Xa, _ = self._fit_common(X, y, self.classes, require_y=False)
        codes = _class_index(Xa, self.classes_)
        c = self.classes_.size
        onehot = (codes[:, :, None] == np.arange(c)).astype(np.float64)  # (n, M, C)
        votes = onehot.sum(axis=1) + 1e-3
        post = votes / votes.sum(axis=1, keepdims=True)
        previous = -np.inf
        for it in range(1, max_iter + 1):
            self._m_step(onehot, post)
            log_joint = self._log_joint(codes)
            ll = float(logsumexp(log_joint, axis=1).mean())
            post = np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))
            if ll - previous < self.tol:
                break
            previous = ll
        self.n_iter_ = it
        self.log_likelihood_ = ll * codes.shape[0]
        return self

    def _m_step(self, onehot: NDArray[np.float64], post: NDArray[np.float64]) -> None:
        counts = np.tensordot(post, onehot, axes=(0, 0)).transpose(1, 0, 2) + self.smoothing
        self.confusion_ = counts / counts.sum(axis=2, keepdims=True)
        self.prior_ = post.mean(axis=0)

    def _log_joint(self, codes: NDArray[np.int64]) -> NDArray[np.float64]:
        m, c, _ = self.confusion_.shape
        # An extra all-zero column (log 1) makes abstentions (code −1 → index C) neutral.
        log_conf = np.concatenate([np.log(self.confusion_), np.zeros((m, c, 1))], axis=2)
        idx = np.where(codes < 0, c, codes)
        per_model = log_conf[np.arange(m)[None, :], :, idx]  # (n, M, C)
        return np.log(self.prior_)[None, :] + per_model.sum(axis=1)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.float64]:
        """Posterior P(y = c | answers), shape (n, C), columns in ``classes_`` order."""
        self._check_fitted()
        codes = _class_index(_as_answers(X, n_models=self.n_models_), self.classes_)
        log_joint = self._log_joint(codes)
        return np.exp(log_joint - logsumexp(log_joint, axis=1, keepdims=True))

    def _predict_index(self, X: ArrayLike) -> NDArray[np.int64]:
        self._check_fitted()
        Xa = _as_answers(X, n_models=self.n_models_)
        _warn_no_evidence((_class_index(Xa, self.classes_) < 0).all(axis=1), Xa, self.classes_,
                          self.prior_)
        return _argmax_ties(self.predict_proba(Xa), self.prior_)


class CopulaBayesAggregator(_Aggregator):
    """The Bayes rule under the fitted correlated-error model: ŷ(x_S) = argmax_y P̂(y, x_S).

    :class:`MAPAggregator` reads P(y, x_S) off the sparse training table of answer patterns;
    this aggregator computes it from the Gaussian-copula model of
    :class:`~llmcopula.selection.copula_information.CopulaInformation` (class prior, error
    rates, tetrachoric correlations, wrong-answer model), which has a value for every pattern,
    seen or not (``docs/selection.md``, §6).

    Parameters
    ----------
    classes : array_like, optional
        Ignored beyond validation: the model's classes are those of ``y``.
    wrong_answers : {"shared-distractor", "uniform", "confusion"}
    rng : None, int or numpy.random.Generator
        Seeds the model's quasi-Monte-Carlo draws.

    Attributes
    ----------
    model_ : CopulaInformation
        The fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 400)
    >>> X = np.where(rng.random((400, 3)) < [0.8, 0.7, 0.6], y[:, None], (y[:, None] + 1) % 3)
    >>> agg = CopulaBayesAggregator(rng=0).fit(X, y)
    >>> round(agg.score(X, y), 2), round(MajorityVote().fit(X, y).score(X, y), 2)
    (0.82, 0.81)
    """

    def __init__(self, *, classes: ArrayLike | None = None,
                 wrong_answers: str = "shared-distractor", rng: Any = None) -> None:
        self.classes = classes
        self.wrong_answers = wrong_answers
        self.rng = rng

    def fit(self, X: ArrayLike, y: ArrayLike) -> CopulaBayesAggregator:
        from llmcopula.selection.copula_information import CopulaInformation

        Xa, y_idx = self._fit_common(X, y, self.classes, require_y=True)
        if y_idx is None:  # pragma: no cover - require_y=True always returns labels
            raise RuntimeError("internal error: labels missing after validation")
        self.model_ = CopulaInformation(wrong_answers=self.wrong_answers, rng=self.rng).fit(
            Xa, self.classes_[y_idx])
        self.prior_ = _prior(y_idx, self.classes_.size)
        return self

    def _predict_index(self, X: ArrayLike) -> NDArray[np.int64]:
        self._check_fitted()
        Xa = _as_answers(X, n_models=self.n_models_)
        if Xa.dtype.kind != self.model_.classes_.dtype.kind:
            Xa = Xa.astype(self.model_.classes_.dtype)
        log_joint = self.model_.log_joint(np.arange(self.n_models_), Xa)
        scores = np.full((Xa.shape[0], self.classes_.size), -np.inf)
        cols = np.searchsorted(self.classes_, self.model_.classes_)
        scores[:, cols] = log_joint
        return _argmax_ties(scores, self.prior_)


AGGREGATORS: dict[str, type[_Aggregator]] = {
    "map": MAPAggregator,
    "copula-bayes": CopulaBayesAggregator,
    "weighted-vote": WeightedMajorityVote,
    "majority-vote": MajorityVote,
    "dawid-skene": DawidSkene,
}


def make_aggregator(name: str, **options: Any) -> _Aggregator:
    """An unfitted aggregator by name: one of ``"map"``, ``"copula-bayes"``,
    ``"weighted-vote"``, ``"majority-vote"``, ``"dawid-skene"``.

    Examples
    --------
    >>> type(make_aggregator("map")).__name__
    'MAPAggregator'
    """
    if name not in AGGREGATORS:
        raise ValueError(f"aggregator: expected one of {list(AGGREGATORS)}, got {name!r}")
    return AGGREGATORS[name](**options)

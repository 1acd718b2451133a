"""The Markov-copula model of the calibrated confidences of a chain of LLMs.

Zellinger & Thomson, *Rational Tuning of LLM Cascades via Probabilistic Modeling*,
arXiv 2501.09345: calibrate each model's confidence (Platt scaling of a transformed signal),
model each calibrated confidence's marginal, join consecutive models of a cascade with a
bivariate copula, and chain the pairs under a Markov assumption. From the joint law follow the
probability that each stage answers, the expected cost and — because calibrated confidences are
probabilities of being correct — the expected accuracy, for any thresholds.

Where this implementation differs from the paper's (``docs/cascade-model.md`` gives the
details): the Markov chaining is exact (forward recursion, not the product over deferral events,
which remains available as ``approximation="event-markov"``); atoms are modelled only where
confidences really repeat; the pair copula is fitted by maximum likelihood with the mixed
(atom/continuous) likelihood and can be any family of :mod:`llmcopula.copulas`; no lookup
tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_positive_int, check_rng
from ..copulas import BivariateCopula, PairCopulaFit, UniformIntervals, fit_pair_copula
from ..datasets import ChainLog
from ._latent import LatentStack
from .base import CalibratedChainModel
from .cascades import check_cascade, check_thresholds
from .marginals import ConfidenceMarginal
from .prediction import CascadeEvaluation, CascadePrediction
from .recursion import cascade_recursion

__all__ = ["MarkovCopulaModel", "CascadePrediction", "check_cascade"]

FloatArray = NDArray[np.float64]

_APPROXIMATIONS = ("exact", "event-markov")


class MarkovCopulaModel(CalibratedChainModel):
    """Markov-copula model of a chain of LLMs' calibrated confidences (scikit-learn estimator).

    Parameters
    ----------
    family : str, default "gumbel"
        Pair-copula family: ``"gumbel"`` as in the paper, any family name of
        :mod:`llmcopula.copulas` (``"gaussian"``, ``"student"``, ``"clayton"``, ``"frank"``,
        ``"independence"``), or ``"auto"`` to select family and rotation by AIC for each pair
        (covers negative dependence and lower-tail dependence).
    transform : {"auto", "one-sided", "two-sided", "identity"}, default "auto"
        Transform of the raw signal before Platt scaling; ``"auto"`` uses the log's ``signal``
        (one-sided for answer log-probabilities, two-sided for self-verification P(True)).
    approximation : {"exact", "event-markov"}, default "exact"
        Default chaining for :meth:`predict`: the exact forward recursion under the Markov
        assumption on confidences, or the paper's product over deferral events.
    n_cells : int, default 32
        Cells per side of each threshold in the recursion (the discretisation error is second
        order in the cell width; 32 is below 1e-4 in accuracy on the shipped benchmarks).
    min_atom_count : int, default 2
        A calibrated confidence value is an atom when it occurs at least this often.
    max_components : int, default 3
        Largest number of beta components of each marginal (chosen by BIC).
    calibration_slope : {"nonnegative", "free"}, default "nonnegative"
        Slope constraint of the Platt calibrators (:class:`~llmcopula.calibration.PlattCalibrator`).
        "nonnegative" replaces a decreasing calibration by the constant training accuracy (the
        stage then accepts all queries or none); "free" keeps it (the stage accepts when the raw
        signal is *below* a threshold). ``docs/calibration.md`` gives the evidence for the
        default.

    Attributes
    ----------
    models_ : tuple of str
        Chain models, in order.
    costs_ : ndarray of shape (K,)
        Mean cost of one call of each model on the training queries, USD per million queries.
    calibrators_ : list of PlattCalibrator
    marginals_ : list of ConfidenceMarginal
    confidence_ : ndarray of shape (n, K)
        Calibrated training confidences.
    n_train_ : int

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))
    >>> pred = model.predict([0.6, 0.7], cascade=(0, 2, 4))
    >>> bool(0 < pred.accuracy[0] < 1)
    True
    """

    method_name = "markov-copula"

    def __init__(self, *, family: str = "gumbel", transform: str = "auto",
                 approximation: str = "exact", n_cells: int = 32, min_atom_count: int = 2,
                 max_components: int = 3, calibration_slope: str = "nonnegative") -> None:
        self.calibration_slope = calibration_slope
        self.family = family
        self.transform = transform
        self.approximation = approximation
        self.n_cells = n_cells
        self.min_atom_count = min_atom_count
        self.max_components = max_components

    # ----------------------------------------------------------------------------- fitting
    def _check_options(self) -> None:
        if self.approximation not in _APPROXIMATIONS:
            raise ValueError(
                f"approximation: expected one of {_APPROXIMATIONS}, got {self.approximation!r}"
            )
        for name in ("n_cells", "min_atom_count", "max_components"):
            check_positive_int(getattr(self, name), name)

    def fit(self, log: ChainLog) -> MarkovCopulaModel:
        """Fit calibrators and marginals for every model of ``log``; pair copulas are fitted
        lazily, when a cascade first needs them (see :meth:`pair_copula`)."""
        return super().fit(log)  # type: ignore[return-value]

    def _fit_joint(self, log: ChainLog, confidence: FloatArray) -> None:
        self.marginals_ = [
            ConfidenceMarginal(min_atom_count=self.min_atom_count,
                               max_components=self.max_components).fit(confidence[:, m])
            for m in range(log.n_models)
        ]
        self._latent = LatentStack(self.marginals_)
        self._intervals = [self._latent_intervals(m, confidence[:, m]) for m in range(log.n_models)]
        self._pairs: dict[tuple[int, int], PairCopulaFit] = {}

    def _latent_intervals(self, m: int, phi: FloatArray) -> UniformIntervals:
        marg = self.marginals_[m]
        hi = np.clip(marg.cdf(phi), 0.0, 1.0)
        mass = np.zeros_like(hi)
        for value, w in zip(marg.atoms_, marg.atom_masses_):
            mass[phi == value] = w
        return UniformIntervals(lo=np.clip(hi - mass, 0.0, 1.0), hi=hi)

    def pair_copula(self, i: int, j: int) -> BivariateCopula:
        """The copula of models ``i < j`` (chain indices), fitted on first use and cached."""
        return self.pair_fit(i, j).copula

    def pair_fit(self, i: int, j: int) -> PairCopulaFit:
        """The :class:`PairCopulaFit` of models ``i < j`` (log-likelihood, AIC, candidates)."""
        self._check_fitted()
        i, j = check_cascade((i, j), len(self.models_))
        if (i, j) not in self._pairs:
            self._pairs[(i, j)] = fit_pair_copula(
                self._intervals[i], self._intervals[j], family=self.family
            )
        return self._pairs[(i, j)]

    # -------------------------------------------------------------------------- transforms
    def _ppf(self, m: int, u: FloatArray) -> FloatArray:
        return self._latent.ppf(m, u)  # batched Newton, exact at atoms

    def coarse_n_cells(self) -> int:
        """The tuner explores on a third of the model's cells (at least 8): the coarse optimum
        is within the discretisation error of the fine one."""
        return max(8, self.n_cells // 3)

    # -------------------------------------------------------------------------- prediction
    def _stage_batch(self, cascade: tuple[int, ...], exact: bool = True):
        """All stages' (K, F⁻¹) in one vectorised evaluation (see :mod:`._latent`). The last
        stage's cell edges do not depend on the thresholds, so its values are computed once."""
        latent = self._latent

        def batch(ys):
            *head, last = ys
            idx = np.concatenate([np.full(y.size, m) for y, m in zip(head, cascade)])
            flat = np.concatenate([np.ravel(y) for y in head])
            kv, q = latent.evaluate(idx, flat, exact)
            out, start = [], 0
            for y in head:
                stop = start + y.size
                out.append((kv[start:stop].reshape(y.shape), q[start:stop].reshape(y.shape)))
                start = stop
            k_last, q_last = latent.evaluate_cached(cascade[-1], np.asarray(last[0]),
                                                    key=last.shape[1])
            out.append((np.broadcast_to(k_last, last.shape), np.broadcast_to(q_last, last.shape)))
            return out

        return batch

    def evaluate_quantile(self, s: ArrayLike, cascade: Sequence[int] | None = None, *,
                          approximation: str | None = None, with_grad: bool = False,
                          n_cells: int | None = None) -> CascadeEvaluation:
        """Accuracy, cost and stage probabilities at uniform-scale thresholds ``s`` (B, k−1),
        optionally with their gradients — the objective used by the tuner. ``n_cells``
        overrides the model's discretisation (the tuner explores on a coarser one); on a
        discretisation coarser than the model's own, the marginal quantiles at the cell edges
        are interpolated instead of solved to 1e-14 (their error, below 1e-6, is far smaller
        than that of the coarse cells), which makes an evaluation about a third faster."""
        self._check_fitted()
        cas = check_cascade(cascade, len(self.models_))
        s = np.clip(check_thresholds(s, len(cas), name="s"), 0.0, 1.0)
        approx = self.approximation if approximation is None else approximation
        cum_cost = np.cumsum(self.costs_[list(cas)])
        if len(cas) == 1:
            m = cas[0]
            b = s.shape[0]
            return CascadeEvaluation(
                accuracy=np.full(b, self.marginals_[m].mean), cost=np.full(b, cum_cost[0]),
                stage_probabilities=np.ones((b, 1)),
                grad_accuracy=np.zeros((b, 0)) if with_grad else None,
                grad_cost=np.zeros((b, 0)) if with_grad else None)
        copulas = [self.pair_copula(a, b) for a, b in zip(cas[:-1], cas[1:])]
        stop, corr, dstop, dcorr = cascade_recursion(
            s, copulas, self._stage_batch(cas, exact=n_cells is None or n_cells >= self.n_cells),
            n_cells=self.n_cells if n_cells is None else n_cells,
            approximation=approx, with_grad=with_grad
        )
        return CascadeEvaluation(
            accuracy=corr.sum(axis=1), cost=stop @ cum_cost, stage_probabilities=stop,
            grad_accuracy=dcorr.sum(axis=1) if with_grad else None,
            grad_cost=np.einsum("bkp,k->bp", dstop, cum_cost) if with_grad else None)

    def _sample_uniform(self, n: int, cascade: tuple[int, ...], rng: Any) -> FloatArray:
        """U_1 uniform, U_{j+1} = hinv1(U_j, W_j) with W independent uniforms (the Markov
        chain of the pair copulas)."""
        n = check_positive_int(n, "n")
        gen = check_rng(rng)
        w = gen.random((n, len(cascade)))
        u = np.empty_like(w)
        u[:, 0] = w[:, 0]
        for j in range(1, len(cascade)):
            cop = self.pair_copula(cascade[j - 1], cascade[j])
            u[:, j] = cop.hinv1(np.stack([u[:, j - 1], w[:, j]], axis=-1))
        return u

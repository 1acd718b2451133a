"""Does a fitted marginal describe a model's calibrated confidences? The randomised probability
integral transform (PIT), the Cramér–von Mises statistic, a parametric-bootstrap test, and the
PIT histogram / Q–Q plot.

See ``docs/diagnostics.md``, "Marginals".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ..._estimator import BaseEstimator, clone
from ..._validation import check_probability, check_rng
from ..base import check_chain_model
from ._common import (DiagnosticResult, bootstrap_pvalue, check_n_boot, model_index,
                      randomized_points, run_replicates, uniform_intervals)

__all__ = ["randomized_pit", "cramer_von_mises", "marginal_gof_test", "MarginalFitDisplay"]

FloatArray = NDArray[np.float64]


def randomized_pit(marginal: Any, x: ArrayLike, *, rng: Any = None) -> FloatArray:
    r"""The randomised probability integral transform of ``x`` under ``marginal``.

    U = F(x−) + V · (F(x) − F(x−)) with V ~ U(0, 1) independent: F(x) where x is not an atom,
    a uniform point of the atom's jump where it is. If x is drawn from F, U is exactly U(0, 1)
    whatever the atoms (Brockwell 2007); the plain F(x) is not uniform when F has atoms.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.cascade import ConfidenceMarginal
    >>> x = np.r_[np.linspace(0.05, 0.85, 80), np.full(20, 0.97)]
    >>> u = randomized_pit(ConfidenceMarginal().fit(x), x, rng=0)
    >>> bool(u.min() > 0 and u.max() <= 1), len(np.unique(u[80:]))
    (True, 20)
    """
    return randomized_points(uniform_intervals(marginal, x), check_rng(rng))


def cramer_von_mises(u: ArrayLike) -> float:
    r"""Cramér–von Mises distance of a sample from the uniform distribution on [0, 1],

    .. math:: W^2 = \frac{1}{12 n} + \sum_{i=1}^n \Big(\frac{2i - 1}{2n} - u_{(i)}\Big)^2,

    the statistic of :func:`scipy.stats.cramervonmises` for a fully specified distribution
    (here applied to PIT values).

    Examples
    --------
    >>> round(cramer_von_mises([0.1, 0.5, 0.9]), 4)
    0.0367
    """
    arr = check_probability(u, "u")
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"u: expected a non-empty 1-d array, got shape {arr.shape}")
    n = arr.size
    grid = (2.0 * np.arange(1, n + 1) - 1.0) / (2.0 * n)
    return float(1.0 / (12.0 * n) + np.sum((grid - np.sort(arr)) ** 2))


def _check_marginal(marginal: Any) -> BaseEstimator:
    if not (isinstance(marginal, BaseEstimator) and hasattr(marginal, "sample")
            and hasattr(marginal, "atoms_")):
        raise ValueError(f"marginal: expected a fitted marginal estimator with fit and sample "
                         f"(e.g. ConfidenceMarginal), got {type(marginal).__name__}")
    return marginal


def marginal_gof_test(marginal: Any, x: ArrayLike, *, n_boot: int = 200, rng: Any = None,
                      n_jobs: int | None = None) -> DiagnosticResult:
    r"""Cramér–von Mises test that ``x`` comes from the family of ``marginal``, by parametric
    bootstrap.

    The statistic is W² (:func:`cramer_von_mises`) of the randomised PIT of ``x`` under the
    fitted ``marginal`` (so atoms are handled). Because the marginal was estimated from ``x``,
    W² is smaller than for a fixed distribution and the textbook null distribution does not
    apply; it is simulated instead (Stute, Gonzáles Manteiga & Presedo Quindimil 1993): draw n
    values from the fitted marginal, refit a clone of it (same options, the number of
    components re-chosen by BIC, atoms re-detected), and compute W² of the refit's randomised
    PIT. p = (1 + #{W²* >= W²}) / (B + 1).

    Parameters
    ----------
    marginal : fitted marginal estimator
        E.g. a :class:`~llmcopula.cascade.ConfidenceMarginal` fitted on ``x``; it needs
        ``fit``, ``sample``, ``cdf``, ``atoms_`` and ``atom_masses_``.
    x : array_like of shape (n,)
        The data it was fitted on.
    n_boot : int, default 200
    rng : None, int or numpy.random.Generator
        Seeds the randomised PIT and the replicates.
    n_jobs : int, optional
        Replicates in parallel through joblib (the result does not depend on it).

    References
    ----------
    W. Stute, W. Gonzáles Manteiga, M. Presedo Quindimil (1993), Bootstrap based
    goodness-of-fit tests, Metrika 40, 243–256. P. J. Brockwell (2007), Universal residuals: a
    multivariate transformation, Statistics & Probability Letters 77, 1473–1478.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.cascade import ConfidenceMarginal
    >>> x = np.random.default_rng(0).beta(5, 2, 200)
    >>> res = marginal_gof_test(ConfidenceMarginal(max_components=1).fit(x), x, n_boot=50, rng=0)
    >>> bool(res.pvalue > 0.05)
    True
    """
    marginal = _check_marginal(marginal)
    data = check_probability(x, "x")
    if data.ndim != 1 or data.size < 2:
        raise ValueError(f"x: expected a 1-d array of at least 2 values, got shape {data.shape}")
    n_boot = check_n_boot(n_boot)
    gen = check_rng(rng)
    statistic = cramer_von_mises(randomized_pit(marginal, data, rng=gen))
    n = data.size

    def replicate(child: np.random.Generator) -> float:
        sim = marginal.sample(n, rng=child)
        refit = clone(marginal).fit(sim)
        return cramer_von_mises(randomized_pit(refit, sim, rng=child))

    null = run_replicates(replicate, n_boot, gen, n_jobs=n_jobs)
    return DiagnosticResult(statistic=statistic, pvalue=bootstrap_pvalue(statistic, null),
                            method=f"parametric bootstrap, B={n_boot}", null_distribution=null)


@dataclass
class MarginalFitDisplay:
    """The fit of one model's marginal: a histogram of the randomised PIT (flat if the fit is
    right; the band is the central 95% of each bar's height under a perfect fit) or a Q–Q plot
    of the data against the fitted quantiles, with the Cramér–von Mises test in the legend.

    Create it with :meth:`from_model` or :meth:`from_marginal`; :meth:`plot` draws on a
    matplotlib axes and stores ``artist_``, ``ax_`` and ``figure_``.

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> from llmcopula.cascade.diagnostics import MarginalFitDisplay
    >>> from llmcopula.datasets import load_benchmark
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    >>> disp = MarginalFitDisplay.from_model(model, 0, n_boot=0, rng=0)  # picture only
    >>> disp.pit.shape
    (285,)
    """

    data: FloatArray
    pit: FloatArray
    quantiles: FloatArray
    result: DiagnosticResult | None = None
    label: str | None = None

    @classmethod
    def from_marginal(cls, marginal: Any, x: ArrayLike, *, kind: str = "pit",
                      n_boot: int = 200, rng: Any = None, n_jobs: int | None = None,
                      ax: Any = None, label: str | None = None, **kwargs: Any
                      ) -> MarginalFitDisplay:
        """Test (:func:`marginal_gof_test`, skipped with ``n_boot=0``) and plot a fitted
        marginal against the data ``x`` it was fitted on."""
        marginal = _check_marginal(marginal)
        data = check_probability(x, "x")
        gen = check_rng(rng)
        result = None if n_boot == 0 else marginal_gof_test(marginal, data, n_boot=n_boot,
                                                            rng=gen, n_jobs=n_jobs)
        pit = randomized_pit(marginal, data, rng=gen)
        n = data.size
        quantiles = np.asarray(marginal.ppf((np.arange(1, n + 1) - 0.5) / n), dtype=np.float64)
        disp = cls(data=data, pit=pit, quantiles=quantiles, result=result, label=label)
        return disp.plot(ax=ax, kind=kind, **kwargs)

    @classmethod
    def from_model(cls, model: Any, m: int | str, *, kind: str = "pit", n_boot: int = 200,
                   rng: Any = None, n_jobs: int | None = None, ax: Any = None,
                   **kwargs: Any) -> MarginalFitDisplay:
        """The fitted marginal of chain model ``m`` (index or name) against the calibrated
        training confidences it was fitted on."""
        model = check_chain_model(model)
        k = model_index(model, m)
        return cls.from_marginal(model.marginals_[k], model.confidence_[:, k], kind=kind,
                                 n_boot=n_boot, rng=rng, n_jobs=n_jobs, ax=ax,
                                 label=model.models_[k], **kwargs)

    def plot(self, ax: Any = None, *, kind: str = "pit", n_bins: int = 10, **kwargs: Any
             ) -> MarginalFitDisplay:
        import matplotlib.pyplot as plt

        if kind not in ("pit", "qq"):
            raise ValueError(f"kind: expected 'pit' or 'qq', got {kind!r}")
        if ax is None:
            _, ax = plt.subplots()
        label = self.label or "data"
        if self.result is not None:
            label += f" (Cramér–von Mises p = {self.result.pvalue:.2g})"
        n = self.pit.size
        if kind == "pit":
            kwargs.setdefault("alpha", 0.7)
            counts, edges, self.artist_ = ax.hist(self.pit, bins=n_bins, range=(0, 1),
                                                  density=True, label=label, **kwargs)
            lo, hi = stats.binom.ppf([0.025, 0.975], n, 1.0 / n_bins) * n_bins / n
            ax.axhspan(lo, hi, color="0.85", zorder=0, label="95% band under a perfect fit")
            ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
            ax.set_xlim(0, 1)
            ax.set_xlabel("randomised PIT of the calibrated confidence")
            ax.set_ylabel("density")
        else:
            kwargs.setdefault("marker", ".")
            kwargs.setdefault("linestyle", "none")
            (self.artist_,) = ax.plot(self.quantiles, np.sort(self.data), label=label, **kwargs)
            ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
            lo = float(min(self.quantiles.min(), self.data.min()))
            ax.set_xlim(lo, 1)
            ax.set_ylim(lo, 1)
            ax.set_xlabel("fitted quantile")
            ax.set_ylabel("calibrated confidence (sorted)")
        ax.legend(fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

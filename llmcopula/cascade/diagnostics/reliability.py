"""Is a model's calibrated confidence a probability of being right? The reliability diagram,
the expected calibration error with a bootstrap interval, and a test of calibration.

See ``docs/diagnostics.md``, "Calibration".
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from statsmodels.stats.proportion import proportion_confint

from ..._estimator import clone
from ..._validation import check_positive_int, check_probability, check_rng
from ...calibration import expected_calibration_error
from ...calibration.platt import check_labels
from ...datasets import ChainLog
from ..base import check_chain_model
from ._common import DiagnosticResult, bootstrap_pvalue, check_level, check_n_boot, model_index

__all__ = ["CalibrationTestResult", "calibration_test", "ReliabilityDisplay"]

FloatArray = NDArray[np.float64]

# Batches of bootstrap replicates are sized so that the (replicates × queries × bin edges)
# comparison array stays near 16 million elements.
_BATCH_ELEMENTS = 16_000_000


@dataclass(frozen=True)
class CalibrationTestResult:
    """ECE with its bootstrap interval, a test of calibration, and the per-bin table.

    Attributes
    ----------
    ece : float
        Binned expected calibration error
        (:func:`~llmcopula.calibration.expected_calibration_error`).
    ece_low, ece_high : float
        Percentile bootstrap interval of the ECE (queries resampled with replacement).
    confidence_level : float
    test : DiagnosticResult
        The test of "P(correct | Φ) = Φ" with the ECE as statistic (see :func:`calibration_test`).
    bins : pandas.DataFrame
        One row per non-empty bin: ``lower``, ``upper``, ``count``, ``mean_confidence``,
        ``accuracy`` and the Wilson interval of the accuracy, ``accuracy_low``,
        ``accuracy_high``.
    """

    ece: float
    ece_low: float
    ece_high: float
    confidence_level: float
    test: DiagnosticResult
    bins: pd.DataFrame

    @property
    def pvalue(self) -> float:
        return self.test.pvalue


def _ece_rows(p: FloatArray, y: FloatArray, n_bins: int, strategy: str) -> FloatArray:
    """The ECE of every row of ``p`` (B, n) against ``y`` (B, n), binned as
    :func:`expected_calibration_error` bins one row (a bin's weighted gap n_b |p̄_b − ȳ_b| / n
    is |Σ_b p − Σ_b y| / n)."""
    b, n = p.shape
    out = np.empty(b)
    step = max(1, _BATCH_ELEMENTS // max(1, n * max(1, n_bins - 1)))
    for start in range(0, b, step):
        pp, yy = p[start:start + step], y[start:start + step]
        rows = pp.shape[0]
        if strategy == "quantile":
            inner = np.quantile(pp, np.linspace(0.0, 1.0, n_bins + 1)[1:-1], axis=1).T
        else:
            inner = np.broadcast_to(np.linspace(0.0, 1.0, n_bins + 1)[1:-1], (rows, n_bins - 1))
        # searchsorted(edges, p, side="left") is the number of edges strictly below p
        idx = np.sum(inner[:, None, :] < pp[:, :, None], axis=2)
        flat = (idx + n_bins * np.arange(rows)[:, None]).ravel()
        sum_p = np.bincount(flat, weights=pp.ravel(), minlength=rows * n_bins)
        sum_y = np.bincount(flat, weights=yy.ravel(), minlength=rows * n_bins)
        out[start:start + rows] = np.abs(sum_p - sum_y).reshape(rows, n_bins).sum(axis=1) / n
    return out


def calibration_test(prob: ArrayLike, correct: ArrayLike, *, n_bins: int = 10,
                     strategy: str = "quantile", n_boot: int = 500,
                     confidence_level: float = 0.95, raw: ArrayLike | None = None,
                     calibrator: Any = None, rng: Any = None) -> CalibrationTestResult:
    r"""Expected calibration error with a bootstrap interval, and a test of calibration.

    **Interval.** The queries are resampled with replacement ``n_boot`` times and the ECE
    recomputed (bins re-chosen on each resample); the interval is the percentile interval.
    The binned ECE is biased upwards — a bin's |mean gap| is positive even when its true gap is
    zero — so near calibration the interval sits above the true ECE and no bootstrap interval
    is reliable there (the BCa correction breaks down: nearly every replicate exceeds the
    estimate). Ask the test below whether the model is calibrated; read the interval as the
    spread of the ECE at this sample size. Away from calibration its coverage is close to
    nominal once bins hold ~100 queries (``benchmarks/RESULTS.md``, "Diagnostics").

    **Test.** The null hypothesis is calibration, P(correct | Φ) = Φ. Under it the labels are
    independent Bernoulli(Φ_i) draws, so the null distribution of the ECE is simulated by
    drawing y*_i ~ Bernoulli(Φ_i) and recomputing the ECE ("consistency resampling", Bröcker &
    Smith 2007); p = (1 + #{ECE* >= ECE}) / (B + 1). When the calibrator was fitted on these
    same queries, pass it with its ``raw`` signal: each replicate then refits a clone of the
    calibrator on (raw, y*) before computing the ECE, so the null distribution includes the
    fit's own optimism (a parametric bootstrap of the logistic model's fit, in the spirit of
    the Hosmer–Lemeshow test). Without that, on training data the test is conservative.

    Parameters
    ----------
    prob : array_like of shape (n,)
        Calibrated confidences Φ in [0, 1].
    correct : array_like of shape (n,)
        0/1 labels.
    n_bins, strategy
        Binning of :func:`~llmcopula.calibration.expected_calibration_error`.
    n_boot : int, default 500
        Replicates of both the interval and the test.
    confidence_level : float, default 0.95
        Of the ECE interval and of the per-bin Wilson intervals.
    raw : array_like of shape (n,), optional
        The raw signal the calibrator maps to ``prob`` (needed with ``calibrator``).
    calibrator : fitted calibrator, optional
        Refitted in each null replicate (see above).
    rng : None, int or numpy.random.Generator

    Returns
    -------
    CalibrationTestResult

    References
    ----------
    J. Bröcker, L. A. Smith (2007), Increasing the reliability of reliability diagrams,
    Weather and Forecasting 22(3), 651–661. E. B. Wilson (1927), Probable inference, the law
    of succession, and statistical inference, JASA 22, 209–212.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.2, 1.0, 400)
    >>> res = calibration_test(p, rng.random(400) < p, n_boot=200, rng=1)
    >>> bool(res.ece_low <= res.ece <= res.ece_high), bool(res.pvalue > 0.05)
    (True, True)
    """
    p = check_probability(prob, "prob")
    if p.ndim != 1 or p.size < 2:
        raise ValueError(f"prob: expected a 1-d array of at least 2 values, got shape {p.shape}")
    y = check_labels(correct, p.size)
    n_bins = check_positive_int(n_bins, "n_bins")
    if strategy not in ("quantile", "uniform"):
        raise ValueError(f"strategy: expected 'quantile' or 'uniform', got {strategy!r}")
    n_boot = check_n_boot(n_boot)
    level = check_level(confidence_level)
    if calibrator is not None:
        if raw is None:
            raise ValueError("raw: the calibrator's raw signal is needed to refit it")
        raw_arr = np.asarray(raw, dtype=np.float64)
        if raw_arr.shape != p.shape:
            raise ValueError(f"raw: expected shape {p.shape} like prob, got {raw_arr.shape}")
    gen = check_rng(rng)

    _, table = expected_calibration_error(p, y, n_bins=n_bins, strategy=strategy,
                                          return_bins=True)
    # The statistic is computed by the same code as its replicates: given the confidences the
    # ECE takes few distinct values, and an observed value that differed from an equal
    # replicate in the last bit would break the ties the p-value counts.
    ece = float(_ece_rows(p[None, :], y[None, :], n_bins, strategy)[0])
    n, alpha = p.size, 1.0 - level
    # the ECE's sampling spread: queries resampled, percentile interval
    idx = gen.integers(0, n, size=(n_boot, n))
    boot = _ece_rows(p[idx], y[idx], n_bins, strategy)
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    # the null of calibration: labels drawn from the confidences
    y_null = (gen.random((n_boot, n)) < p).astype(np.float64)
    if calibrator is None:
        null = _ece_rows(np.broadcast_to(p, y_null.shape), y_null, n_bins, strategy)
        method = f"consistency resampling, B={n_boot}"
    else:
        refits = np.empty_like(y_null)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # degenerate simulated labels
            for b in range(n_boot):
                refits[b] = clone(calibrator).fit(raw_arr, y_null[b]).predict(raw_arr)
        null = _ece_rows(refits, y_null, n_bins, strategy)
        method = f"consistency resampling with the calibrator refitted, B={n_boot}"
    test = DiagnosticResult(statistic=float(ece), pvalue=bootstrap_pvalue(ece, null),
                            method=method, null_distribution=null)
    n_correct = np.rint(table.accuracy * table.count).astype(np.int64)
    acc_low, acc_high = proportion_confint(n_correct, table.count, alpha=alpha, method="wilson")
    bins = pd.DataFrame({"lower": table.lower, "upper": table.upper, "count": table.count,
                         "mean_confidence": table.mean_confidence, "accuracy": table.accuracy,
                         "accuracy_low": np.asarray(acc_low, dtype=np.float64),
                         "accuracy_high": np.asarray(acc_high, dtype=np.float64)})
    return CalibrationTestResult(ece=float(ece), ece_low=float(low), ece_high=float(high),
                                 confidence_level=level, test=test, bins=bins)


def is_training_log(model: Any, log: ChainLog) -> bool:
    """Whether ``log`` is the log ``model`` was fitted on (same queries, same confidences)."""
    return bool(log.n_queries == model.n_train_ and
                np.array_equal(model.calibrate(log), model.confidence_))


@dataclass
class ReliabilityDisplay:
    """Reliability diagram of one model's calibrated confidence: per bin, the accuracy (with
    its Wilson interval) against the mean confidence, and the ECE with its interval and the
    calibration test's p-value in the legend.

    Create it with :meth:`from_model` or :meth:`from_predictions`; :meth:`plot` draws on a
    matplotlib axes and stores ``errorbar_``, ``ax_`` and ``figure_``.

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> from llmcopula.cascade.diagnostics import ReliabilityDisplay
    >>> from llmcopula.datasets import load_benchmark
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    >>> test = load_benchmark("mmlu", "llama", split="test")
    >>> disp = ReliabilityDisplay.from_model(model, test, "llama3.1-405b", n_boot=100, rng=0)
    >>> round(disp.result.ece, 3) > 0
    True
    """

    result: CalibrationTestResult
    label: str | None = None

    @classmethod
    def from_predictions(cls, prob: ArrayLike, correct: ArrayLike, *, n_bins: int = 10,
                         strategy: str = "quantile", n_boot: int = 500,
                         confidence_level: float = 0.95, raw: ArrayLike | None = None,
                         calibrator: Any = None, rng: Any = None, ax: Any = None,
                         label: str | None = None, **kwargs: Any) -> ReliabilityDisplay:
        """Test (:func:`calibration_test`) and plot confidences ``prob`` against labels."""
        res = calibration_test(prob, correct, n_bins=n_bins, strategy=strategy, n_boot=n_boot,
                               confidence_level=confidence_level, raw=raw,
                               calibrator=calibrator, rng=rng)
        return cls(result=res, label=label).plot(ax=ax, **kwargs)

    @classmethod
    def from_model(cls, model: Any, log: ChainLog, m: int | str, *, refit: str | bool = "auto",
                   n_bins: int = 10, strategy: str = "quantile", n_boot: int = 500,
                   confidence_level: float = 0.95, rng: Any = None, ax: Any = None,
                   **kwargs: Any) -> ReliabilityDisplay:
        """The calibration of chain model ``m`` (index or name) of a fitted chain model on the
        queries of ``log``.

        On held-out queries this is the honest check. On the training log the calibrator was
        fitted to these labels; ``refit="auto"`` detects that case and refits the calibrator in
        each null replicate (see :func:`calibration_test`); ``True``/``False`` force it.
        """
        model = check_chain_model(model)
        if not isinstance(log, ChainLog):
            raise ValueError(f"log: expected a ChainLog, got {type(log).__name__}")
        if tuple(log.models) != tuple(model.models_):
            raise ValueError(f"log: its models {list(log.models)} are not the model's chain "
                             f"{list(model.models_)}")
        k = model_index(model, m)
        if refit == "auto":
            refit = is_training_log(model, log)
        elif not isinstance(refit, bool):
            raise ValueError(f"refit: expected 'auto', True or False, got {refit!r}")
        prob = model.calibrate(log)[:, k]
        raw = log.confidence[:, k]
        return cls.from_predictions(
            prob, log.correct[:, k], n_bins=n_bins, strategy=strategy, n_boot=n_boot,
            confidence_level=confidence_level, raw=raw if refit else None,
            calibrator=model.calibrators_[k] if refit else None, rng=rng, ax=ax,
            label=model.models_[k], **kwargs)

    def plot(self, ax: Any = None, **kwargs: Any) -> ReliabilityDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        r, bins = self.result, self.result.bins
        yerr = np.clip(np.vstack([bins.accuracy - bins.accuracy_low,
                                  bins.accuracy_high - bins.accuracy]), 0.0, None)
        pct = round(100 * r.confidence_level)
        name = f"{self.label}: " if self.label else ""
        label = (f"{name}ECE {r.ece:.3f} [{r.ece_low:.3f}, {r.ece_high:.3f}], "
                 f"calibration p = {r.pvalue:.2g}")
        kwargs.setdefault("marker", "o")
        kwargs.setdefault("linestyle", "-")
        kwargs.setdefault("capsize", 2)
        self.errorbar_ = ax.errorbar(bins.mean_confidence, bins.accuracy, yerr=yerr, label=label,
                                     **kwargs)
        ax.plot([0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean calibrated confidence in bin")
        ax.set_ylabel(f"accuracy in bin ({pct}% Wilson interval)")
        ax.legend(fontsize="small", loc="upper left")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

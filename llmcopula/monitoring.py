r"""Drift monitoring of a deployed cascade policy: what traffic should look like, and checks of it.

A policy tuned on training logs makes promises about live traffic: how often each stage accepts,
what a query costs on average, and, with labels, how accurate the served answers are. These hold
only while live queries resemble the training ones. This module computes, from the training
routing, a **reference profile** that the tuner stores in the policy file's ``monitoring`` block
(:func:`reference_profile`), and the **checks** that compare a window of live traffic with it
(:func:`check_traffic`).

Like for like
-------------
A cascade's later stages see only the queries that earlier stages deferred. Every per-stage
statistic is therefore conditioned on *reaching* the stage, both in the reference and in the
window: stage j's acceptance rate is (answered at j) / (reached j), and stage j's signal sketch
describes the raw signal of model j among the queries that reached stage j. Costs are per request
(every call the cascade made for it), on the policy's ``cost_definition``.

The checks
----------
Each check is a two-sample test between the reference (n training queries) and the window
(m live requests), so that the reference's own sampling error is accounted for:

- **acceptance rate** of every stage but the last: Fisher's exact test on the 2 × 2 table
  (accepted, deferred) × (reference, window), two-sided;
- **signal distribution** of every stage: the two-sample Kolmogorov–Smirnov statistic
  :math:`D = \max_e |F_\text{ref}(e) - F_\text{win}(e)|` evaluated at the sketch's bin edges, with
  the asymptotic p-value of the two-sample test at the effective size
  :math:`n_e = nm/(n+m)` (as ``scipy.stats.ks_2samp(method="asymp")``). Evaluating D at a subset
  of points can only lower it, so the test on the sketch is conservative (its false-alarm rate
  does not exceed the full test's); ties and atoms make it more so;
- **mean cost** per request: Welch's t-test from the reference's mean, standard deviation and
  size, two-sided;
- **accuracy** of the served answers (with labels): Fisher's exact test, one-sided (an alarm
  when the window is *less* accurate than the reference).

The p-values are combined by Holm's step-down procedure (Holm 1979), which controls the
family-wise error rate at ``alpha`` under any dependence between the checks (they are strongly
dependent: a shifted signal moves the acceptance rates and the cost). An alarm is raised when
any Holm-adjusted p-value is below ``alpha``. Each check also reports a central ``level``
sampling interval for a window of this size under no drift (normal approximation,
:math:`\hat p \pm z\sqrt{\hat p(1-\hat p)(1/m + 1/n)}` for rates and
:math:`\bar c \pm z\, s\sqrt{1/m + 1/n}` for the mean cost), for reading the table; the decision
uses the tests.

This module imports numpy, scipy and the standard library only (and :mod:`llmcopula.policy`),
so that a tuner can write the profile and a monitor can read it without the serving stack.

Examples
--------
>>> import numpy as np
>>> from llmcopula.policy import CascadePolicy, ModelInfo, ThresholdRule
>>> policy = CascadePolicy(
...     chain_models=[ModelInfo("small", signal="logprob"), ModelInfo("large", signal="logprob")],
...     cascade_models=["small", "large"],
...     rules=[ThresholdRule(model="small", direction="above", raw_threshold=-0.5)],
...     cost_definition="cost_answer_usd")
>>> rng = np.random.default_rng(0)
>>> raw = -rng.exponential(0.5, size=(400, 2))
>>> cost = np.tile([1e-6, 1e-5], (400, 1))
>>> profile = reference_profile(policy, raw, cost)
>>> profile["stages"][0]["reached"], profile["stages"][0]["accepted"]
(400, 254)
>>> live = -rng.exponential(0.5, size=(500, 2))                  # same law: no alarm
>>> check_traffic(profile, **routed_window(policy, live, cost[:1].repeat(500, 0))).alarm
False
>>> shifted = -rng.exponential(1.0, size=(500, 2))              # less confident: alarm
>>> check_traffic(profile, **routed_window(policy, shifted, cost[:1].repeat(500, 0))).alarm
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from llmcopula.policy import CascadePolicy

__all__ = [
    "PROFILE_KIND",
    "PROFILE_VERSION",
    "Check",
    "DriftReport",
    "check_traffic",
    "holm_adjust",
    "ks_on_sketch",
    "reference_profile",
    "routed_window",
    "signal_sketch",
]

PROFILE_KIND = "llmcopula.monitoring-reference"
PROFILE_VERSION = 1
_PER_MILLION = 1e6


# ------------------------------------------------------------------------------- helpers
def _as_matrix(values: ArrayLike, name: str, shape: tuple[int, int] | None = None,
               *, allow_nan: bool = False) -> NDArray[np.float64]:
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected numbers") from None
    if x.ndim != 2:
        raise ValueError(f"{name}: expected a 2-d array (queries × models), got shape {x.shape}")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {x.shape}")
    if not allow_nan and np.isnan(x).any():
        raise ValueError(f"{name}: contains {int(np.isnan(x).sum())} NaN value(s)")
    return x


def _cascade_columns(policy: CascadePolicy, columns: Sequence[str] | None, k: int,
                     name: str) -> list[int]:
    if columns is None:
        if k != policy.n_stages:
            raise ValueError(f"{name}: expected {policy.n_stages} columns (one per cascade model) "
                             f"or columns= naming them, got {k}")
        return list(range(k))
    cols = [str(c) for c in columns]
    if len(cols) != k:
        raise ValueError(f"columns: {name} has {k} columns, got {len(cols)} names")
    missing = [m for m in policy.cascade_models if m not in cols]
    if missing:
        raise ValueError(f"columns: lacks the cascade's models {missing}")
    return [cols.index(m) for m in policy.cascade_models]


def _num(value: Any) -> float:
    """A float from a profile value (infinities may be stored as the strings "inf"/"-inf")."""
    return float(value)


def signal_sketch(values: ArrayLike, *, n_bins: int = 20) -> dict[str, list[Any]]:
    """A compact sketch of a sample of raw signals: bin edges at empirical quantiles and counts.

    The bins are ``(-inf, e_1], (e_1, e_2], ..., (e_B, +inf]`` for the distinct edges
    ``e_1 < ... < e_B``, taken at the sample's quantiles ``i / n_bins`` (observed values, so atoms
    such as a signal of exactly 0 fall on an edge and stay together). The counts sum to the
    sample size. NaN values are not allowed; ±inf are (they fall in the first / last bin).

    Parameters
    ----------
    values : array_like, 1-d
    n_bins : int
        At most this many bins (fewer when the sample is small or has repeated values).

    Returns
    -------
    dict
        ``{"edges": [...], "counts": [...]}`` with ``len(counts) == len(edges) + 1``.

    Examples
    --------
    >>> signal_sketch([-3.0, -2.0, -1.0, 0.0, 0.0, 0.0], n_bins=3)
    {'edges': [-2.0, 0.0], 'counts': [2, 4, 0]}
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.isnan(x).any():
        raise ValueError("values: contains NaN")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins: expected a positive integer, got {n_bins!r}")
    if x.size == 0:
        return {"edges": [], "counts": [0]}
    bins = int(min(n_bins, x.size))
    probs = np.arange(1, bins) / bins
    edges = np.unique(np.quantile(x, probs, method="inverted_cdf")) if bins > 1 else np.array([])
    counts = np.bincount(np.searchsorted(edges, x, side="left"), minlength=edges.size + 1)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def ks_on_sketch(sketch: Mapping[str, Sequence[Any]], window: ArrayLike
                 ) -> tuple[float, float, int, int]:
    r"""Two-sample Kolmogorov–Smirnov test of a window of signals against a reference sketch.

    The statistic is :math:`D = \max_e |F_\text{ref}(e) - F_\text{win}(e)|` over the sketch's
    edges (and is 0 with no edges); the p-value is the asymptotic two-sample one,
    ``scipy.stats.kstwo.sf(D, round(n m / (n + m)))``, as ``scipy.stats.ks_2samp`` computes it
    with ``method="asymp"``. When the edges include every value of both samples, D equals the
    full two-sample statistic; otherwise it is smaller and the test conservative.

    Returns
    -------
    D, p_value, n_reference, n_window

    Examples
    --------
    >>> d, p, n, m = ks_on_sketch({"edges": [0.0], "counts": [50, 50]}, [1.0] * 40 + [-1.0] * 10)
    >>> round(d, 2), p < 0.01, n, m
    (0.3, True, 100, 50)
    """
    edges = np.array([_num(e) for e in sketch["edges"]], dtype=np.float64)
    counts = np.asarray(sketch["counts"], dtype=np.float64)
    if counts.shape != (edges.size + 1,):
        raise ValueError(f"sketch: needs len(edges) + 1 counts, got {edges.size} edges and "
                         f"{counts.size} counts")
    x = np.asarray(window, dtype=np.float64).reshape(-1)
    x = x[~np.isnan(x)]
    n, m = int(round(counts.sum())), int(x.size)
    if n == 0 or m == 0:
        return 0.0, 1.0, n, m
    if edges.size == 0:
        return 0.0, 1.0, n, m
    f_ref = np.cumsum(counts)[:-1] / n
    f_win = np.searchsorted(np.sort(x), edges, side="right") / m
    d = float(np.max(np.abs(f_ref - f_win)))
    en = n * m / (n + m)
    p = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0.0, 1.0))
    return d, p, n, m


def holm_adjust(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values (Holm 1979): reject hypothesis i at level α iff its
    adjusted p-value is below α; the family-wise error rate is at most α under any dependence.

    Examples
    --------
    >>> holm_adjust([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=np.float64).reshape(-1)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p_values: must lie in [0, 1]")
    k = p.size
    if k == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * (k - np.arange(k)))
    out = np.empty(k)
    out[order] = np.minimum(stepped, 1.0)
    return out


# ----------------------------------------------------------------------------- reference
def reference_profile(policy: CascadePolicy, raw: ArrayLike, cost: ArrayLike, *,
                      columns: Sequence[str] | None = None, correct: ArrayLike | None = None,
                      keys: Sequence[str | int] | None = None, n_bins: int = 20,
                      answers: ArrayLike | None = None) -> dict[str, Any]:
    """What live traffic should look like under ``policy``, from the routing of training queries.

    Parameters
    ----------
    policy : CascadePolicy
    raw : array_like of shape (n, K)
        Raw signals of the training queries, one column per model (cascade order, or named by
        ``columns``).
    cost : array_like of shape (n, K)
        Cost in USD of one call of each model on each query, on the policy's
        ``cost_definition`` (e.g. the ``cost_answer_usd`` column), same layout as ``raw``.
    columns : sequence of str, optional
        Model names of the columns (e.g. a whole chain), of which the cascade's are used.
    correct : array_like of shape (n, K), optional
        0/1 correctness of each model's answer; gives the reference accuracy of the served
        answers.
    keys : sequence, optional
        One key per query, for randomised policies (see :meth:`CascadePolicy.route`).
    n_bins : int
        Bins of each stage's signal sketch (:func:`signal_sketch`).
    answers : array_like of shape like ``raw``, optional
        The models' answers, for policies whose rules compare answers (posterior rules).

    Returns
    -------
    dict
        A JSON-ready mapping for ``CascadePolicy(monitoring=...)``: ``n_queries``,
        ``cost_definition``, ``mean_cost`` and ``cost_sd`` (USD per million queries, per request,
        summed over the stages the request reached), ``accuracy`` and ``n_correct`` (None
        without ``correct``), and per stage ``model``, ``reached``, ``accepted`` and ``signal``
        (the sketch of the stage model's raw signal among the queries that reached the stage).
    """
    if not isinstance(policy, CascadePolicy):
        raise ValueError(f"policy: expected a CascadePolicy, got {type(policy).__name__}")
    x = _as_matrix(raw, "raw")
    n, k_all = x.shape
    if n == 0:
        raise ValueError("raw: no queries")
    c = _as_matrix(cost, "cost", x.shape)
    if not np.isfinite(c).all() or (c < 0).any():
        raise ValueError("cost: must be finite and >= 0")
    idx = _cascade_columns(policy, columns, k_all, "raw")
    x, c = x[:, idx], c[:, idx]
    ans = None
    if answers is not None:
        ans = np.asarray(answers, dtype=object)
        if ans.shape != (n, k_all):
            raise ValueError(f"answers: expected shape {(n, k_all)} like raw, got {ans.shape}")
        ans = ans[:, idx]
    stage = policy.route(x, answers=ans, keys=keys)
    k = policy.n_stages
    per_request = _request_cost(c, stage) * _PER_MILLION
    stages = []
    for j in range(k):
        reached = stage >= j
        stages.append({
            "stage": j, "model": policy.cascade_models[j],
            "reached": int(reached.sum()), "accepted": int((stage == j).sum()),
            "signal": signal_sketch(x[reached, j], n_bins=n_bins),
        })
    acc = n_corr = None
    if correct is not None:
        corr = _as_matrix(correct, "correct", (n, k_all))
        if not np.isin(corr, (0.0, 1.0)).all():
            raise ValueError("correct: values must be 0 or 1")
        served = corr[:, idx][np.arange(n), stage]
        n_corr = int(served.sum())
        acc = n_corr / n
    return {
        "kind": PROFILE_KIND, "version": PROFILE_VERSION, "n_queries": int(n),
        "cost_definition": policy.cost_definition, "cost_unit": "USD per million queries",
        "mean_cost": float(per_request.mean()),
        "cost_sd": float(per_request.std(ddof=1)) if n > 1 else 0.0,
        "accuracy": acc, "n_correct": n_corr, "stages": stages,
    }


def _request_cost(cost: NDArray[np.float64], stage: NDArray[np.intp]) -> NDArray[np.float64]:
    """Per-query cost of a cascade: the calls of every stage up to the answering one."""
    reached = np.arange(cost.shape[1])[None, :] <= stage[:, None]
    return np.where(reached, cost, 0.0).sum(axis=1)


def routed_window(policy: CascadePolicy, raw: ArrayLike, cost: ArrayLike, *,
                  columns: Sequence[str] | None = None, correct: ArrayLike | None = None,
                  keys: Sequence[str | int] | None = None) -> dict[str, Any]:
    """The arguments of :func:`check_traffic` for recorded traffic routed offline by ``policy``
    (every model's signal known): for studies and tests of the checks on logged data.

    Parameters are as for :func:`reference_profile`; ``correct`` gives the served answers'
    correctness. Returns a dict with ``answered_stage``, ``raw`` (NaN where a stage was not
    reached), ``cost`` (USD per request) and ``correct`` (or None).
    """
    x = _as_matrix(raw, "raw")
    n, k_all = x.shape
    c = _as_matrix(cost, "cost", x.shape)
    idx = _cascade_columns(policy, columns, k_all, "raw")
    x, c = x[:, idx], c[:, idx]
    stage = policy.route(x, keys=keys)
    seen = np.where(np.arange(policy.n_stages)[None, :] <= stage[:, None], x, np.nan)
    served = None
    if correct is not None:
        corr = _as_matrix(correct, "correct", (n, k_all))[:, idx]
        served = corr[np.arange(n), stage]
    return {"answered_stage": stage, "raw": seen, "cost": _request_cost(c, stage),
            "correct": served}


# --------------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class Check:
    """One comparison of the window with the reference.

    ``reference`` and ``observed`` are the statistic in the reference and in the window;
    ``interval`` is the central sampling interval of the window's statistic under no drift
    (for the signal check: [0, the asymptotic critical D at ``level``]); ``p_value`` the test's, ``p_adjusted`` Holm's;
    ``tested`` is False when the window (or the reference) has no data for the check.
    """

    name: str
    stage: int | None
    model: str | None
    reference: float
    observed: float
    interval: tuple[float, float]
    n_reference: int
    n_window: int
    p_value: float
    p_adjusted: float = math.nan
    alarm: bool = False
    tested: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        def num(v: float) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        return {"check": self.name, "stage": self.stage, "model": self.model,
                "reference": num(self.reference), "observed": num(self.observed),
                "interval": [num(self.interval[0]), num(self.interval[1])],
                "n_reference": self.n_reference, "n_window": self.n_window,
                "p_value": num(self.p_value), "p_adjusted": num(self.p_adjusted),
                "alarm": self.alarm, "tested": self.tested, "note": self.note}


@dataclass(frozen=True)
class DriftReport:
    """The checks of one window, with Holm-adjusted p-values and the overall decision."""

    checks: tuple[Check, ...]
    alpha: float
    level: float
    n_requests: int
    faults: tuple[int, ...] = field(default=())
    failed_requests: int = 0

    @property
    def alarm(self) -> bool:
        """Whether any check's Holm-adjusted p-value is below ``alpha``."""
        return any(c.alarm for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"alarm": self.alarm, "alpha": self.alpha, "level": self.level,
                "n_requests": self.n_requests, "failed_requests": self.failed_requests,
                "faults_per_stage": list(self.faults),
                "checks": [c.to_dict() for c in self.checks]}

    def to_table(self) -> str:
        """A fixed-width text table of the checks."""
        head = (f"{'check':<11} {'stage':>5} {'model':<26} {'reference':>10} {'observed':>10} "
                f"{'interval (' + format(self.level, '.0%') + ')':>21} {'n_win':>6} "
                f"{'p':>8} {'p_holm':>8}  result")
        lines = [head, "-" * len(head)]
        for c in self.checks:
            lo, hi = c.interval
            interval = f"[{lo:.4g}, {hi:.4g}]"
            result = ("ALARM" if c.alarm else "ok") if c.tested else f"not tested ({c.note})"
            stage = "" if c.stage is None else str(c.stage)
            lines.append(f"{c.name:<11} {stage:>5} {(c.model or ''):<26} {c.reference:>10.4g} "
                         f"{c.observed:>10.4g} {interval:>21} {c.n_window:>6} "
                         f"{c.p_value:>8.3g} {c.p_adjusted:>8.3g}  {result}")
        status = "ALARM" if self.alarm else "within bounds"
        lines.append(f"{self.n_requests} requests; {status} (Holm, alpha = {self.alpha:g})")
        if self.failed_requests:
            lines.append(f"{self.failed_requests} request(s) failed at the last stage (not "
                         "counted in the checks)")
        if any(self.faults):
            lines.append(f"upstream faults per stage (deferred, not counted as reaching the "
                         f"stage's checks): {list(self.faults)}")
        return "\n".join(lines)


def _rate_interval(p: float, n: int, m: int, z: float) -> tuple[float, float]:
    half = z * math.sqrt(max(p * (1 - p), 0.0) * (1 / m + 1 / n))
    return max(0.0, p - half), min(1.0, p + half)


def check_traffic(profile: Mapping[str, Any], *, answered_stage: ArrayLike, raw: ArrayLike,
                  cost: ArrayLike, correct: ArrayLike | None = None,
                  faulted: ArrayLike | None = None, alpha: float = 0.05, level: float = 0.95
                  ) -> DriftReport:
    """Compare a window of live traffic with a policy's reference profile.

    Parameters
    ----------
    profile : mapping
        The policy's ``monitoring`` block (:func:`reference_profile`).
    answered_stage : array_like of int, shape (m,)
        The stage that answered each request; -1 for a request that got no answer (its last
        stage failed), which is left out of the checks and counted.
    raw : array_like of shape (m, k)
        Each request's raw signal at each cascade stage; NaN where the stage was not reached or
        its upstream failed.
    cost : array_like of shape (m,)
        Cost of each request in USD (every call the cascade made), on the profile's
        ``cost_definition``.
    correct : array_like of shape (m,), optional
        0/1 correctness of each served answer (from labels). NaN where unknown.
    faulted : array_like of bool, shape (m, k), optional
        Stages whose upstream failed (and so deferred): left out of that stage's acceptance and
        signal checks.
    alpha : float
        Family-wise error rate of the window's checks (Holm).
    level : float
        Coverage of the reported sampling intervals.

    Returns
    -------
    DriftReport
    """
    if not isinstance(profile, Mapping) or "stages" not in profile:
        raise ValueError("profile: expected the policy's monitoring block (with 'stages'); write "
                         "it with llmcopula.monitoring.reference_profile")
    for name, v in (("alpha", alpha), ("level", level)):
        if not 0.0 < float(v) < 1.0:
            raise ValueError(f"{name}: must lie in (0, 1), got {v}")
    ref_stages = list(profile["stages"])
    k = len(ref_stages)
    stage = np.asarray(answered_stage).reshape(-1)
    if stage.dtype.kind not in "iu":
        raise ValueError(f"answered_stage: expected integers, got dtype {stage.dtype}")
    m_all = stage.size
    if ((stage < -1) | (stage >= k)).any():
        raise ValueError(f"answered_stage: must lie in -1..{k - 1}")
    x = _as_matrix(raw, "raw", (m_all, k), allow_nan=True)
    c = np.asarray(cost, dtype=np.float64).reshape(-1)
    if c.shape != (m_all,):
        raise ValueError(f"cost: expected shape ({m_all},), got {c.shape}")
    fault = (np.zeros((m_all, k), dtype=bool) if faulted is None
             else np.asarray(faulted, dtype=bool))
    if fault.shape != (m_all, k):
        raise ValueError(f"faulted: expected shape {(m_all, k)}, got {fault.shape}")
    ok = stage >= 0
    z = float(stats.norm.ppf(0.5 + level / 2))
    checks: list[Check] = []
    for j, ref in enumerate(ref_stages):
        model = ref.get("model")
        reached = ok & (stage >= j) & ~fault[:, j]
        m_j = int(reached.sum())
        n_j, a_ref = int(ref["reached"]), int(ref["accepted"])
        if j < k - 1:
            a_win = int((reached & (stage == j)).sum())
            p_ref = a_ref / n_j if n_j else math.nan
            obs = a_win / m_j if m_j else math.nan
            if n_j and m_j:
                p = float(stats.fisher_exact([[a_ref, n_j - a_ref], [a_win, m_j - a_win]])[1])
                checks.append(Check("acceptance", j, model, p_ref, obs,
                                    _rate_interval(p_ref, n_j, m_j, z), n_j, m_j, min(p, 1.0)))
            else:
                checks.append(Check("acceptance", j, model, p_ref, obs, (math.nan, math.nan),
                                    n_j, m_j, math.nan, tested=False,
                                    note="no reference queries" if not n_j else "not reached"))
        d, p, n_ref, m_sig = ks_on_sketch(ref["signal"], x[reached, j])
        if n_ref and m_sig:
            # Asymptotic critical value (Kolmogorov distribution): for reading only; the
            # decision uses the p-value. The exact quantile costs a root search per check.
            crit = float(stats.kstwobign.isf(1 - level)
                         / math.sqrt(n_ref * m_sig / (n_ref + m_sig)))
            checks.append(Check("signal", j, model, 0.0, d, (0.0, crit), n_ref, m_sig, p))
        else:
            checks.append(Check("signal", j, model, 0.0, d, (math.nan, math.nan), n_ref, m_sig,
                                math.nan, tested=False,
                                note="no reference queries" if not n_ref else "not reached"))
    n_ref = int(profile["n_queries"])
    m = int(ok.sum())
    mean_ref, sd_ref = float(profile["mean_cost"]), float(profile["cost_sd"])
    w = c[ok] * _PER_MILLION
    if m >= 2 and n_ref >= 2:
        sd_w = float(w.std(ddof=1))
        if sd_ref == 0.0 and sd_w == 0.0:
            p = 1.0 if w.mean() == mean_ref else 0.0
        else:
            p = float(stats.ttest_ind_from_stats(mean_ref, sd_ref, n_ref, float(w.mean()), sd_w,
                                                 m, equal_var=False).pvalue)
        half = z * sd_ref * math.sqrt(1 / m + 1 / n_ref)
        checks.append(Check("mean_cost", None, None, mean_ref, float(w.mean()),
                            (mean_ref - half, mean_ref + half), n_ref, m, p))
    else:
        checks.append(Check("mean_cost", None, None, mean_ref,
                            float(w.mean()) if m else math.nan, (math.nan, math.nan), n_ref, m,
                            math.nan, tested=False, note="fewer than 2 requests"))
    if correct is not None:
        corr = np.asarray(correct, dtype=np.float64).reshape(-1)
        if corr.shape != (m_all,):
            raise ValueError(f"correct: expected shape ({m_all},), got {corr.shape}")
        known = ok & ~np.isnan(corr)
        if not np.isin(corr[known], (0.0, 1.0)).all():
            raise ValueError("correct: values must be 0, 1 or NaN")
        acc_ref = profile.get("accuracy")
        m_l = int(known.sum())
        if acc_ref is None:
            checks.append(Check("accuracy", None, None, math.nan,
                                float(corr[known].mean()) if m_l else math.nan,
                                (math.nan, math.nan), 0, m_l, math.nan, tested=False,
                                note="the profile has no reference accuracy"))
        elif m_l == 0:
            checks.append(Check("accuracy", None, None, float(acc_ref), math.nan,
                                (math.nan, math.nan), n_ref, 0, math.nan, tested=False,
                                note="no labelled requests"))
        else:
            k_ref = int(profile["n_correct"])
            k_win = int(corr[known].sum())
            p = float(stats.fisher_exact([[k_win, m_l - k_win], [k_ref, n_ref - k_ref]],
                                         alternative="less")[1])
            checks.append(Check("accuracy", None, None, float(acc_ref), k_win / m_l,
                                _rate_interval(float(acc_ref), n_ref, m_l, z), n_ref, m_l, p))
    tested = [i for i, ch in enumerate(checks) if ch.tested]
    adjusted = holm_adjust([checks[i].p_value for i in tested])
    out = list(checks)
    for i, pa in zip(tested, adjusted):
        out[i] = _replace(checks[i], p_adjusted=float(pa), alarm=bool(pa < alpha))
    return DriftReport(checks=tuple(out), alpha=float(alpha), level=float(level),
                       n_requests=m_all, faults=tuple(int(v) for v in fault.sum(axis=0)),
                       failed_requests=int((~ok).sum()))


def _replace(check: Check, **changes: Any) -> Check:
    from dataclasses import replace
    return replace(check, **changes)

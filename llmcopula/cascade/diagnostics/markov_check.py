"""Is the Markov assumption of the Markov-copula model borne out? A test of conditional
independence of two models' confidences given an intermediate model's, per triple, and its
picture.

See ``docs/diagnostics.md``, "The Markov assumption".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats
from statsmodels.stats.multitest import multipletests

from ..._validation import check_rng
from ...copulas import BivariateCopula, UniformIntervals, fit_pair_copula
from ..base import check_chain_model
from ..cascades import check_cascade
from ._common import (DiagnosticResult, as_intervals, atom_intervals, censor, check_level,
                      check_n_boot, randomized_points, run_replicates, uniform_intervals)
from .pair_fit import _family_of

__all__ = ["conditional_pit_scores", "markov_triple_test", "markov_test", "MarkovTestDisplay"]

FloatArray = NDArray[np.float64]

_METHODS = ("asymptotic", "bootstrap")
_TINY = 1e-15


def _interval_h(h, lo: FloatArray, hi: FloatArray, given: FloatArray, first_given: bool,
                gen: np.random.Generator) -> FloatArray:
    """Randomised conditional PIT: a uniform point of [h(lo | given), h(hi | given)]."""
    def at(v: FloatArray) -> FloatArray:
        pts = np.stack([given, v] if first_given else [v, given], axis=-1)
        return h(pts)

    h_hi = at(hi)
    wide = hi > lo
    if not wide.any():
        return h_hi
    h_lo = np.where(wide, at(lo), h_hi)
    return h_lo + gen.random(h_hi.shape) * (h_hi - h_lo)


def conditional_pit_scores(a: UniformIntervals, b: UniformIntervals, c: UniformIntervals,
                           copula_ab: BivariateCopula, copula_bc: BivariateCopula,
                           gen: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Normal scores of the conditional PITs of the outer models given the middle one:
    Φ⁻¹(W_a) with W_a = P(U_a <= u_a | U_b = u_b) under ``copula_ab`` (its ``hfunc2``), and
    Φ⁻¹(W_c) with W_c = P(U_c <= u_c | U_b = u_b) under ``copula_bc`` (its ``hfunc1``).
    Atoms are handled by randomisation (u_b a uniform point of its interval, W a uniform point
    of the conditional distribution's jump)."""
    u_b = randomized_points(b, gen)
    w_a = _interval_h(copula_ab.hfunc2, a.lo, a.hi, u_b, False, gen)
    w_c = _interval_h(copula_bc.hfunc1, c.lo, c.hi, u_b, True, gen)
    return (special.ndtri(np.clip(w_a, _TINY, 1 - _TINY)),
            special.ndtri(np.clip(w_c, _TINY, 1 - _TINY)))


def _correlation(x: FloatArray, y: FloatArray) -> float:
    x, y = x - x.mean(), y - y.mean()
    denom = np.sqrt(np.dot(x, x) * np.dot(y, y))
    return 0.0 if denom == 0 else float(np.dot(x, y) / denom)


def _fit_and_score(a, b, c, fam_ab, fam_bc, gen) -> tuple[float, BivariateCopula,
                                                          BivariateCopula]:
    cop_ab = fit_pair_copula(a, b, family=fam_ab[0], rotation=fam_ab[1]).copula
    cop_bc = fit_pair_copula(b, c, family=fam_bc[0], rotation=fam_bc[1]).copula
    za, zc = conditional_pit_scores(a, b, c, cop_ab, cop_bc, gen)
    return _correlation(za, zc), cop_ab, cop_bc


def _null_band(n: int, level: float) -> tuple[float, float]:
    half = float(np.tanh(stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)))
    return -half, half


def markov_triple_test(a: UniformIntervals | ArrayLike, b: UniformIntervals | ArrayLike,
                       c: UniformIntervals | ArrayLike, *,
                       families: Sequence[str | BivariateCopula] = ("gumbel", "gumbel"),
                       method: str = "asymptotic", n_boot: int = 200, rng: Any = None,
                       n_jobs: int | None = None) -> DiagnosticResult:
    r"""Test that U_c is independent of U_a given U_b (a → b → c a Markov chain).

    The pair copulas C_ab and C_bc are fitted as the cascade model fits them
    (:func:`~llmcopula.copulas.fit_pair_copula`). Under the Markov assumption, with the right
    pair copulas, the conditional PITs W_a = P(U_a <= u_a | U_b) and W_c = P(U_c <= u_c | U_b)
    are independent uniforms (Rosenblatt 1952): given U_b each is uniform whatever U_b, and
    they are independent given U_b. The statistic is the correlation r of their normal scores,
    Φ⁻¹(W_a) and Φ⁻¹(W_c) — the partial correlation of U_a and U_c given U_b on the normal
    scale (exactly so for Gaussian pair copulas). A common factor behind all models (a query
    hard for one is hard for the others) makes it positive.

    ``method="asymptotic"``: √(n − 3) · artanh(r) is standard normal under the null (Fisher's
    z). Estimating the pair copulas does not change this to first order: the derivative of W_a
    in the parameter of C_ab is a function of (U_a, U_b), uncorrelated with Φ⁻¹(W_c), whose mean
    is zero given U_b. ``method="bootstrap"``: simulate the fitted Markov chain (U_a uniform,
    U_b and U_c by the inverse h-functions), censor to the atoms, refit both copulas and
    recompute r; p = (1 + #{|r*| >= |r|}) / (B + 1).

    Parameters
    ----------
    a, b, c : UniformIntervals or array_like of shape (n,)
        Latent uniforms of three models of a cascade, in cascade order.
    families : pair of (str or BivariateCopula)
        Families of C_ab and C_bc; a fitted copula gives its family and rotation.
    method : {"asymptotic", "bootstrap"}
    n_boot : int, default 200
        Replicates of the bootstrap.
    rng : None, int or numpy.random.Generator
        Seeds the randomisation at atoms and the bootstrap.
    n_jobs : int, optional

    Returns
    -------
    DiagnosticResult
        ``statistic`` is r (two-sided test); the bootstrap's ``null_distribution`` holds r*.

    References
    ----------
    M. Rosenblatt (1952), Remarks on a multivariate transformation, Annals of Mathematical
    Statistics 23, 470–472. F. Spanhel, M. S. Kurz (2016), The partial copula: properties and
    associated dependence measures, Statistics & Probability Letters 119, 76–83.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> z = np.random.default_rng(0).multivariate_normal(np.zeros(3), [[1, .5, .5], [.5, 1, .5],
    ...                                                                [.5, .5, 1]], size=400)
    >>> u = stats.norm.cdf(z)   # a common factor: not a Markov chain
    >>> res = markov_triple_test(u[:, 0], u[:, 1], u[:, 2], families=("gaussian", "gaussian"))
    >>> round(res.statistic, 2), res.pvalue < 1e-6
    (0.31, True)
    """
    ia, ib, ic = as_intervals(a, "a"), as_intervals(b, "b"), as_intervals(c, "c")
    n = ia.hi.size
    if ib.hi.size != n or ic.hi.size != n:
        raise ValueError(f"b, c: expected {n} observations like a, got {ib.hi.size} and "
                         f"{ic.hi.size}")
    if n < 5:
        raise ValueError(f"a: need at least 5 observations, got {n}")
    if len(families) != 2:
        raise ValueError(f"families: expected two families (C_ab, C_bc), got {families!r}")
    fam_ab, fam_bc = _family_of(families[0], None), _family_of(families[1], None)
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {_METHODS}, got {method!r}")
    gen = check_rng(rng)
    r, cop_ab, cop_bc = _fit_and_score(ia, ib, ic, fam_ab, fam_bc, gen)
    if method == "asymptotic":
        z = float(np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15)) * np.sqrt(n - 3))
        return DiagnosticResult(statistic=r, pvalue=float(2 * stats.norm.sf(abs(z))),
                                method="asymptotic (Fisher z)")
    n_boot = check_n_boot(n_boot)
    atoms = [atom_intervals(x) for x in (ia, ib, ic)]

    def replicate(child: np.random.Generator) -> float:
        w = child.random((n, 3))
        u_b = cop_ab.hinv1(w[:, :2])
        u_c = cop_bc.hinv1(np.stack([u_b, w[:, 2]], axis=-1))
        sim = [censor(u, at) for u, at in zip((w[:, 0], u_b, u_c), atoms)]
        return _fit_and_score(*sim, fam_ab, fam_bc, child)[0]

    null = run_replicates(replicate, n_boot, gen, n_jobs=n_jobs)
    pvalue = float((1 + np.count_nonzero(np.abs(null) >= abs(r))) / (n_boot + 1))
    return DiagnosticResult(statistic=r, pvalue=pvalue,
                            method=f"parametric bootstrap, B={n_boot}", null_distribution=null)


def _triples(cascade: tuple[int, ...], which: str) -> list[tuple[int, int, int]]:
    if which == "consecutive":
        return [cascade[t:t + 3] for t in range(len(cascade) - 2)]  # type: ignore[misc]
    if which == "all":
        return list(itertools.combinations(cascade, 3))
    raise ValueError(f"triples: expected 'consecutive' or 'all', got {which!r}")


def markov_test(model: Any, cascade: Sequence[int] | None = None, *,
                triples: str = "consecutive", method: str = "asymptotic", n_boot: int = 200,
                confidence_level: float = 0.95, rng: Any = None, n_jobs: int | None = None
                ) -> pd.DataFrame:
    """The Markov assumption of a fitted Markov-copula model, tested triple by triple on its
    training data (:func:`markov_triple_test`).

    The model chains each cascade's consecutive pair copulas; that is right only if, for
    consecutive stages i → j → k, U_k is independent of U_i given U_j. ``triples="consecutive"``
    tests the consecutive triples of ``cascade`` (default the whole chain); ``"all"`` tests
    every i < j < k of it, which is what holding for every sub-cascade requires.

    Returns
    -------
    pandas.DataFrame
        One row per triple: ``first``, ``middle``, ``last`` (model names), ``i``, ``j``,
        ``k`` (chain indices), ``n``, ``partial_correlation`` (r), ``null_low`` and
        ``null_high`` (the central ``confidence_level`` range of r under the null), ``pvalue``
        and ``pvalue_holm`` (Holm's adjustment over the triples tested).

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> from llmcopula.cascade.diagnostics import markov_test
    >>> from llmcopula.datasets import load_benchmark
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    >>> table = markov_test(model, rng=0)
    >>> table[["first", "middle", "last"]].values.tolist()[0]
    ['llama3.2-1b', 'llama3.2-3b', 'llama3.1-8b']
    >>> bool((table.pvalue_holm < 0.01).any())
    True
    """
    model = check_chain_model(model)
    if not hasattr(model, "pair_fit"):
        raise ValueError(f"model: {type(model).__name__} makes no Markov assumption (it has no "
                         f"pair copulas); use a MarkovCopulaModel")
    cas = check_cascade(cascade, len(model.models_))
    if len(cas) < 3:
        raise ValueError(f"cascade: the Markov assumption needs at least 3 models, got {cas}")
    level = check_level(confidence_level)
    gen = check_rng(rng)
    intervals = {m: uniform_intervals(model.marginals_[m], model.confidence_[:, m])
                 for m in cas}
    n = model.n_train_
    rows = []
    for i, j, k in _triples(cas, triples):
        fams = (model.pair_fit(i, j).copula, model.pair_fit(j, k).copula)
        res = markov_triple_test(intervals[i], intervals[j], intervals[k], families=fams,
                                 method=method, n_boot=n_boot, rng=gen, n_jobs=n_jobs)
        if res.null_distribution is None:
            low, high = _null_band(n, level)
        else:
            low, high = np.quantile(res.null_distribution, [(1 - level) / 2, (1 + level) / 2])
        rows.append({"first": model.models_[i], "middle": model.models_[j],
                     "last": model.models_[k], "i": i, "j": j, "k": k, "n": n,
                     "partial_correlation": res.statistic, "null_low": float(low),
                     "null_high": float(high), "pvalue": res.pvalue})
    table = pd.DataFrame(rows)
    table["pvalue_holm"] = multipletests(table.pvalue, method="holm")[1]
    return table


@dataclass
class MarkovTestDisplay:
    """The Markov test per triple: the observed partial correlation of the outer models given
    the middle one (points) against its range under the Markov assumption (grey bars), with
    Holm-adjusted p-values.

    Create it with :meth:`from_model`; :meth:`plot` draws on a matplotlib axes and stores
    ``points_``, ``ax_`` and ``figure_``.

    Examples
    --------
    >>> from llmcopula.cascade import MarkovCopulaModel
    >>> from llmcopula.cascade.diagnostics import MarkovTestDisplay
    >>> from llmcopula.datasets import load_benchmark
    >>> model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    >>> disp = MarkovTestDisplay.from_model(model, rng=0)
    >>> len(disp.table)
    3
    """

    table: pd.DataFrame

    @classmethod
    def from_model(cls, model: Any, cascade: Sequence[int] | None = None, *,
                   triples: str = "consecutive", method: str = "asymptotic",
                   n_boot: int = 200, confidence_level: float = 0.95, rng: Any = None,
                   n_jobs: int | None = None, ax: Any = None, **kwargs: Any
                   ) -> MarkovTestDisplay:
        """Run :func:`markov_test` and plot it."""
        table = markov_test(model, cascade, triples=triples, method=method, n_boot=n_boot,
                            confidence_level=confidence_level, rng=rng, n_jobs=n_jobs)
        return cls(table=table).plot(ax=ax, **kwargs)

    def plot(self, ax: Any = None, **kwargs: Any) -> MarkovTestDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(max(5.0, 2.2 * len(self.table)), 3.8))
        t = self.table
        x = np.arange(len(t))
        ax.bar(x, t.null_high - t.null_low, bottom=t.null_low, width=0.5, color="0.85",
               label="range under the Markov assumption")
        ax.axhline(0.0, color="0.5", linewidth=0.8)
        kwargs.setdefault("marker", "o")
        kwargs.setdefault("linestyle", "none")
        kwargs.setdefault("color", "C3")
        (self.points_,) = ax.plot(x, t.partial_correlation, label="observed", **kwargs)
        for xi, r, p in zip(x, t.partial_correlation, t.pvalue_holm):
            ax.annotate(f"p = {p:.1g}", (xi, r), textcoords="offset points", xytext=(7, 0),
                        fontsize="x-small", va="center")
        ax.set_xticks(x)
        ax.set_xticklabels([f"{a} ⊥ {c}\n| {b}" for a, b, c in zip(t["first"], t["middle"],
                                                                    t["last"])],
                           fontsize="x-small")
        ax.set_xlim(-0.6, len(t) - 0.4)
        values = np.concatenate([t.partial_correlation, t.null_low, t.null_high, [0.0]])
        span = max(float(values.max() - values.min()), 0.05)
        ax.set_ylim(values.min() - 0.1 * span, values.max() + 0.35 * span)  # room for the legend
        ax.set_ylabel("partial correlation (normal scores)")
        ax.legend(fontsize="small", loc="upper left", ncols=2)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

"""Size and power of the diagnostics' tests (``llmcopula.cascade.diagnostics``), the full study.

The test suite checks each test on 100 simulated data sets; this script runs many more, with
full bootstraps where affordable and the warp-speed method (Giacomini, Politis & White 2013:
one bootstrap replicate per data set, the critical value from the pooled replicates) where a
full bootstrap per data set is too slow, and the default options of the cascade model's
marginals. For every scenario it prints the rejection rate at levels 0.05 and 0.10 with its
binomial standard error; under a null the rate should be the level. It also measures the
coverage of the ECE's bootstrap interval.

    python benchmarks/bench_diagnostics.py [--sims 1000] [--n-jobs 2] [--markdown]

The scenarios (n is the number of queries of a simulated data set):

- calibration, held-out: Φ ~ U(0.2, 1) and correct ~ Bernoulli(g(Φ)), g(Φ) = Φ (null), Φ^1.6 or
  0.9 Φ + 0.05 (over- and under-confidence at the extremes); full consistency resampling.
- calibration, training: a logistic truth in the one-sided transform of the signal, Platt
  scaling fitted on the same labels; the test with the calibrator refitted in every replicate,
  and without (conservative); alternative a step in P(correct | signal).
- ECE interval: coverage of the 90% percentile interval of the population ECE, which is
  E|Φ − g(Φ)| when the gap has one sign (g = 0.8 Φ: 0.12; g = Φ^1.6: 0.127).
- marginal: a beta with an atom of 20% fitted with one component (full bootstrap), and truths
  equal to the fitted three-component marginals of MMLU/Llama models with the default options
  (warp-speed); alternative: a bimodal truth fitted with one component.
- pair copula: Gumbel data (τ = 0.375) with an atom in one margin tested as Gumbel (null);
  Clayton, Frank and Gaussian data of the same τ tested as Gumbel.
- Markov: a Gumbel → Gumbel Markov chain with an atom (null), asymptotic and bootstrap; a common
  Gaussian factor of equicorrelation 0.2 and 0.3 (partial correlations 0.17 and 0.23).
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from scipy import special

from llmcopula._estimator import clone
from llmcopula.calibration import PlattCalibrator
from llmcopula.cascade import ConfidenceMarginal, MarkovCopulaModel
from llmcopula.cascade.diagnostics import (calibration_test, marginal_gof_test,
                                           markov_triple_test, pair_copula_gof_test)
from llmcopula.cascade.diagnostics._common import censor
from llmcopula.copulas import ClaytonCopula, FrankCopula, GaussianCopula, GumbelCopula
from llmcopula.datasets import load_benchmark

LEVELS = (0.05, 0.10)


def markdown(df: pd.DataFrame) -> str:
    """A Markdown table (without pandas' optional tabulate dependency)."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
              for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _run(fn: Callable[[np.random.Generator], tuple[float, ...]], sims: int, seed: int,
         n_jobs: int) -> np.ndarray:
    children = np.random.SeedSequence(seed).spawn(sims)

    def one(ss):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(np.random.default_rng(ss))

    return np.array(Parallel(n_jobs=n_jobs)(delayed(one)(c) for c in children))


def direct_rates(pvalues: np.ndarray) -> dict[str, float]:
    return {f"reject@{a}": float(np.mean(pvalues <= a)) for a in LEVELS}


def warp_rates(stat: np.ndarray, rep: np.ndarray) -> dict[str, float]:
    out = {}
    for a in LEVELS:
        crit = np.sort(rep)[min(rep.size - 1, int(np.ceil((1 - a) * rep.size)) - 1)]
        out[f"reject@{a}"] = float(np.mean(stat > crit))
    return out


# ----------------------------------------------------------------------------- scenarios
def calibration_heldout(g, n, n_boot):
    def fn(gen):
        p = gen.uniform(0.2, 1.0, n)
        return (calibration_test(p, gen.random(n) < g(p), n_boot=n_boot, rng=gen).pvalue,)
    return fn


def _training_sample(gen, truth, n):
    p = gen.uniform(0.05, 0.999, n)
    raw = np.log(p)
    y = gen.random(n) < truth(-np.log1p(-p))
    return raw, y, PlattCalibrator(transform="one-sided").fit(raw, y)


def calibration_training(truth, n, n_boot, refit):
    def fn(gen):
        raw, y, cal = _training_sample(gen, truth, n)
        prob = cal.predict(raw)
        kw = {"raw": raw, "calibrator": cal} if refit else {}
        return (calibration_test(prob, y, n_boot=n_boot, rng=gen, **kw).pvalue,)
    return fn


def ece_coverage(g, n, population, level=0.9):
    def fn(gen):
        p = gen.uniform(0.2, 1.0, n)
        res = calibration_test(p, gen.random(n) < g(p), n_boot=500, confidence_level=level,
                               rng=gen)
        return (float(res.ece_low <= population <= res.ece_high),)
    return fn


def marginal_direct(draw, max_components, n, n_boot):
    def fn(gen):
        x = draw(gen, n)
        marg = ConfidenceMarginal(max_components=max_components).fit(x)
        return (marginal_gof_test(marg, x, n_boot=n_boot, rng=gen).pvalue,)
    return fn


def marginal_warp(truth, n):
    def fn(gen):
        x = truth.sample(n, rng=gen)
        res = marginal_gof_test(clone(truth).fit(x), x, n_boot=1, rng=gen)
        return res.statistic, res.null_distribution[0]
    return fn


def pair_direct(cop, n, n_boot):
    def fn(gen):
        u = cop.sample(n, rng=gen)
        return (pair_copula_gof_test(censor(u[:, 0], [(0.7, 0.9)]), u[:, 1], family="gumbel",
                                     n_boot=n_boot, rng=gen).pvalue,)
    return fn


def pair_warp(cop, n):
    def fn(gen):
        u = cop.sample(n, rng=gen)
        res = pair_copula_gof_test(censor(u[:, 0], [(0.7, 0.9)]), u[:, 1], family="gumbel",
                                   n_boot=1, rng=gen)
        return res.statistic, res.null_distribution[0]
    return fn


def _markov_chain(gen, n):
    w = gen.random((n, 3))
    u_b = GumbelCopula(2.0).hinv1(w[:, :2])
    u_c = GumbelCopula(1.5).hinv1(np.stack([u_b, w[:, 2]], axis=-1))
    return w[:, 0], u_b, censor(u_c, [(0.8, 0.95)])


def markov_null(n, method):
    def fn(gen):
        a, b, c = _markov_chain(gen, n)
        res = markov_triple_test(a, b, c, method=method, n_boot=1, rng=gen)
        if method == "asymptotic":
            return (res.pvalue,)
        return abs(res.statistic), abs(res.null_distribution[0])
    return fn


def markov_factor(n, rho):
    def fn(gen):
        corr = np.full((3, 3), rho)
        np.fill_diagonal(corr, 1.0)
        u = stats.norm.cdf(gen.multivariate_normal(np.zeros(3), corr, n))
        return (markov_triple_test(u[:, 0], u[:, 1], u[:, 2],
                                   families=("gaussian", "gaussian"), rng=gen).pvalue,)
    return fn


# Truths of the calibration scenarios (module level, so that joblib's workers can load them).
def _calibrated(p):
    return p


def _overconfident(p):
    return p ** 1.6


def _mild(p):
    return 0.9 * p + 0.05


def _shrunk(p):
    return 0.8 * p


def _logistic(xi):
    return special.expit(-1.0 + 0.8 * xi)


def _step(xi):
    return np.where(xi > 1.5, 0.9, 0.3)


def _atoms_beta(gen, n):
    return np.where(gen.random(n) < 0.2, 0.97, gen.beta(4.0, 2.0, n))


def _bimodal(gen, n):
    return np.where(gen.random(n) < 0.5, gen.beta(2, 8, n), gen.beta(8, 2, n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--sims", type=int, default=1000,
                        help="data sets per cheap scenario (full-bootstrap scenarios use a "
                             "fifth, at least 100)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    big, small = args.sims, max(100, args.sims // 5)
    tau = 0.375  # Gumbel(1.6)
    mmlu = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama"))
    scenarios = [
        # (test, scenario, hypothesis, n, method, function, sims, kind)
        ("calibration (held-out)", "g(Φ) = Φ", "null", 300, "B=199", calibration_heldout(
            _calibrated, 300, 199), 3 * big, "direct"),
        ("calibration (held-out)", "g(Φ) = Φ", "null", 1000, "B=199", calibration_heldout(
            _calibrated, 1000, 199), big, "direct"),
        ("calibration (held-out)", "g(Φ) = Φ^1.6", "alternative", 300, "B=199",
         calibration_heldout(_overconfident, 300, 199), big, "direct"),
        ("calibration (held-out)", "g(Φ) = 0.9Φ + 0.05", "alternative", 300, "B=199",
         calibration_heldout(_mild, 300, 199), big, "direct"),
        ("calibration (training, refit)", "logistic truth", "null", 300, "B=199",
         calibration_training(_logistic, 300, 199, True), small, "direct"),
        ("calibration (training, no refit)", "logistic truth", "null", 300, "B=199",
         calibration_training(_logistic, 300, 199, False), big, "direct"),
        ("calibration (training, refit)", "step in P(correct | signal)", "alternative", 300,
         "B=199", calibration_training(_step, 300, 199, True), small, "direct"),
        ("ECE 90% interval", "g(Φ) = 0.8Φ, ECE 0.12", "coverage", 300, "B=500",
         ece_coverage(_shrunk, 300, 0.12), small, "coverage"),
        ("ECE 90% interval", "g(Φ) = 0.8Φ, ECE 0.12", "coverage", 1000, "B=500",
         ece_coverage(_shrunk, 1000, 0.12), small, "coverage"),
        ("marginal", "beta + 20% atom, 1 component", "null", 200, "B=199",
         marginal_direct(_atoms_beta, 1, 200, 199), small, "direct"),
        ("marginal", "bimodal, 1 component", "alternative", 200, "B=199",
         marginal_direct(_bimodal, 1, 200, 199), small, "direct"),
    ]
    for m in (0, 4):
        scenarios.append(("marginal", f"MMLU {mmlu.models_[m]} fit, default options", "null",
                          285, "warp-speed", marginal_warp(mmlu.marginals_[m], 285), big,
                          "warp"))
    scenarios += [
        ("pair copula", "Gumbel, atom in one margin", "null", 200, "B=99",
         pair_direct(GumbelCopula(1.6), 200, 99), small, "direct"),
        ("pair copula", "Gumbel, atom in one margin", "null", 200, "warp-speed",
         pair_warp(GumbelCopula(1.6), 200), big, "warp"),
    ]
    for name, cop in (("Clayton", ClaytonCopula.from_tau(tau)),
                      ("Frank", FrankCopula.from_tau(tau)),
                      ("Gaussian", GaussianCopula.from_tau(tau))):
        scenarios.append(("pair copula", f"{name} data tested as Gumbel", "alternative", 200,
                          "warp-speed", pair_warp(cop, 200), big, "warp"))
    for n in (100, 300, 1000):
        scenarios.append(("Markov", "Gumbel → Gumbel chain, atom", "null", n, "asymptotic",
                          markov_null(n, "asymptotic"), big, "direct"))
    scenarios.append(("Markov", "Gumbel → Gumbel chain, atom", "null", 300, "bootstrap, warp",
                      markov_null(300, "bootstrap"), big, "warp"))
    for rho in (0.2, 0.3):
        scenarios.append(("Markov", f"Gaussian factor, equicorrelation {rho}", "alternative",
                          300, "asymptotic", markov_factor(300, rho), big, "direct"))

    rows = []
    for i, (test, scenario, hyp, n, method, fn, sims, kind) in enumerate(scenarios):
        start = time.perf_counter()
        out = _run(fn, sims, 1000 + i, args.n_jobs)
        if kind == "warp":
            rates = warp_rates(out[:, 0], out[:, 1])
        elif kind == "coverage":
            rates = {"coverage": float(out[:, 0].mean())}
        else:
            rates = direct_rates(out[:, 0])
        row = {"test": test, "scenario": scenario, "hypothesis": hyp, "n": n, "method": method,
               "sims": sims, "reject@0.05": np.nan, "reject@0.1": np.nan, "coverage": np.nan,
               **rates, "seconds": round(time.perf_counter() - start, 1)}
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows)
    for col in [c for c in table.columns if c.startswith("reject") or c == "coverage"]:
        se = np.sqrt(table[col] * (1 - table[col]) / table.sims)
        table[col] = [("" if np.isnan(v) else f"{v:.3f} ± {s:.3f}") for v, s in zip(table[col], se)]
    print()
    print(markdown(table) if args.markdown else table.to_string(index=False))


if __name__ == "__main__":
    main()

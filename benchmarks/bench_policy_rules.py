"""Every cascade with a test split (111: 26 Llama + 11 Qwen/OpenAI cascades of MMLU, MedMCQA and
TriviaQA): do the frontier's deployable rules mean what its test numbers say, and where are
its gaps?

For each cascade and tuner (markov-copula, empirical-copula; grid search for the rule check):

* **Rule check.** Each point's ``test`` accuracy and cost must equal routing the test log with the
  point's rules through :class:`llmcopula.policy.CascadePolicy` (an independent router). *After*:
  this release (a direction per stage, exact raw thresholds, test numbers from the rules).
  *Before*: the previous release's file, read as documented then ("accept iff raw > r", with the
  closed-form raw threshold of the calibrator), against the calibrated-scale test numbers it
  reported.
* **Gaps.** The frontier with and without ``fill_gaps`` (the budget form inside gaps wider than
  1/n_lambdas of the cost range; without it the frontier is the tuner's λ points, which filling
  leaves unchanged): the largest gap relative to the cost range, the number of points, and the
  test area over the range both curves share (% change, negative: the filled frontier is
  better).

    python benchmarks/bench_policy_rules.py [--n-lambdas 15] [--n-jobs 2]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from policy_common import CHAINS, TEST_BENCHMARKS, cascades, quiet
from scipy import special

from llmcopula.cascade import (
    EmpiricalCopulaModel,
    MarkovCopulaModel,
    error_cost_area,
    evaluate_frontier,
    score_cascade,
    tune,
)
from llmcopula.cascade.baselines import grid_search
from llmcopula.cascade.routing import pareto_mask
from llmcopula.datasets import load_benchmark
from llmcopula.policy import CascadePolicy, ModelInfo, ThresholdRule


def closed_form_raw(cal, t):
    """The previous release's raw threshold: T^-1((logit(t) − a)/b), ±inf outside the range."""
    a, b = cal.intercept_, cal.coef_
    t = np.clip(t, 0.0, 1.0)
    if b == 0:
        return np.where(cal.predict(np.array([0.0]))[0] > t, -np.inf, np.inf)
    with np.errstate(divide="ignore"):
        z = (special.logit(t) - a) / b
    out = np.empty_like(z)
    if b > 0:
        inside = (z >= cal.xi_min_) & (z < cal.xi_max_)
        out[z < cal.xi_min_], out[z >= cal.xi_max_] = -np.inf, np.inf
    else:
        inside = (z > cal.xi_min_) & (z <= cal.xi_max_)
        out[z > cal.xi_max_], out[z <= cal.xi_min_] = np.inf, -np.inf
    out[inside] = cal.transform_.inverse(z[inside])
    return out


def policy_route(front, p, test):
    chain = [ModelInfo(m) for m in test.models]
    rules = [ThresholdRule(**{k: v for k, v in r.items() if k != "kind"}) for r in front.rules(p)]
    pol = CascadePolicy(chain_models=chain, cascade_models=front.models, rules=rules,
                        cost_definition="cost_answer_usd")
    stage = pol.route(test.confidence, columns=test.models)
    idx = [test.models.index(m) for m in front.models]
    n = test.n_queries
    acc = test.correct[:, idx][np.arange(n), stage].mean()
    cost = np.cumsum(test.cost[:, idx], axis=1)[np.arange(n), stage].mean() * 1e6
    return acc, cost


def rule_check(front, test, calibrators):
    """(points, mismatches after, mismatches before)."""
    after = before = 0
    conf = np.column_stack([c.predict(test.confidence[:, m]) for m, c in enumerate(calibrators)])
    cas = list(front.cascade)
    calibrated = score_cascade(test, cas, front.thresholds, confidence=conf)
    old_raw = np.column_stack([closed_form_raw(calibrators[m], front.thresholds[:, j])
                               for j, m in enumerate(cas[:-1])])
    as_written = score_cascade(test, cas, old_raw)  # "raw > r", the old documented rule
    for p in range(len(front)):
        acc, cost = policy_route(front, p, test)
        if not (acc == front.test_accuracy[p] and np.isclose(cost, front.test_cost[p],
                                                             rtol=1e-12, atol=0)):
            after += 1
        if not (as_written["accuracy"][p] == calibrated["accuracy"][p]
                and np.isclose(as_written["cost"][p], calibrated["cost"][p], rtol=1e-12)):
            before += 1
    return len(front), after, before


def largest_gap(cost):
    c = np.sort(cost)
    return float(np.diff(c).max() / (c[-1] - c[0])) if c.size > 1 and c[-1] > c[0] else 0.0


def task(benchmark, chain, cascade, n_lambdas):
    quiet()
    train = load_benchmark(benchmark, chain, "train")
    test = load_benchmark(benchmark, chain, "test")
    rows = []
    for name, cls in (("markov-copula", MarkovCopulaModel),
                      ("empirical-copula", EmpiricalCopulaModel)):
        model = cls(calibration_slope="free").fit(train)  # keeps "below" rules: the harder case
        t0 = time.perf_counter()
        filled = evaluate_frontier(tune(model, cascade, n_lambdas=n_lambdas, rng=0), test,
                                   model=model)
        t1 = time.perf_counter()
        # gap filling only adds budget-form points: without it the frontier is the λ points
        lam = np.flatnonzero(~np.isnan(filled.lambdas))
        keep = lam[pareto_mask(filled.cost[lam], filled.accuracy[lam])]
        without = filled.take(keep)
        n_pts, after, before = rule_check(filled, test, model.calibrators_)
        try:
            a_f, a_w, _ = error_cost_area(filled.test_cost, filled.test_accuracy,
                                          without.test_cost, without.test_accuracy)
            pct = 100 * (a_f - a_w) / a_w
        except ValueError:
            a_f = a_w = pct = np.nan
        rows.append(dict(benchmark=benchmark, chain=chain, cascade="-".join(map(str, cascade)),
                         k=len(cascade), method=name, points=n_pts, mismatch_after=after,
                         mismatch_before=before, below=",".join(filled.directions).count("below"),
                         gap_before=largest_gap(without.cost), gap_after=largest_gap(filled.cost),
                         points_before=len(without), points_after=len(filled),
                         A_before=a_w, A_after=a_f, area_pct=pct,
                         seconds=t1 - t0))
    from llmcopula.calibration import fit_calibrators

    cals = fit_calibrators(train.confidence, train.correct, signal=train.signal)
    grid = evaluate_frontier(grid_search(train, cascade, calibrators=cals), test,
                             calibrators=cals)
    n_pts, after, before = rule_check(grid, test, cals)
    rows.append(dict(benchmark=benchmark, chain=chain, cascade="-".join(map(str, cascade)),
                     k=len(cascade), method="grid", points=n_pts, mismatch_after=after,
                     mismatch_before=before, below=",".join(grid.directions).count("below")))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--n-lambdas", type=int, default=15)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="bench_policy_rules.csv")
    args = parser.parse_args()
    quiet()
    jobs = [delayed(task)(b, c, cas, args.n_lambdas) for b in TEST_BENCHMARKS for c in CHAINS
            for cas in cascades(load_benchmark(b, c, "train").n_models)]
    t0 = time.perf_counter()
    out = Parallel(n_jobs=args.n_jobs, verbose=5)(jobs)
    frame = pd.DataFrame([r for rows in out for r in rows])
    frame.to_csv(args.output, index=False)
    print(f"{len(jobs)} cascades in {time.perf_counter() - t0:.0f} s; wrote {args.output}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = frame.groupby("method")
        print(g[["points", "mismatch_after", "mismatch_before"]].sum())
        print(g.apply(lambda d: pd.Series({
            "cascades": len(d), "cascades_mismatch_before": int((d.mismatch_before > 0).sum()),
            "cascades_mismatch_after": int((d.mismatch_after > 0).sum())})))


if __name__ == "__main__":
    # Run from the importable module, so that joblib's workers unpickle the tasks by reference.
    import bench_policy_rules

    bench_policy_rules.main()

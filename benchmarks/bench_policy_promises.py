"""How far a tuned policy's promises hold: interval coverage and the accuracy guarantee, on random
train/test splits of the pooled queries of MMLU, MedMCQA and TriviaQA (Llama chain, cascade
0-2-4 = llama3.2-1b → llama3.1-8b → llama3.1-405b, the representative k = 3 cascade; the
training size as shipped: 285 / 300 / 300 of 1816 / 1300 / 1300 pooled queries).

Per split and method (markov-copula, empirical-copula; grid search as the baseline):

* **Intervals** (first ``--coverage-splits`` splits): the frontier is tuned on the training part
  and its 90% bootstrap intervals computed (``frontier_intervals``: ``--resamples`` for the
  empirical-copula model, ``--markov-resamples`` for the Markov-copula model on the first
  ``--markov-splits`` splits, whose refit is ~15× slower). Three points per split (at 25%, 50% and 75% of the frontier's predicted cost
  range) are routed on the held-out remainder; an interval covers when the remainder's value
  (accuracy, cost, last-stage share) lies in it. The held-out value has sampling noise of its own
  (the remainder is 1000–1531 queries), so a 90% interval for the *population* value covers the
  remainder's value a little less often; the column ``+noise`` widens each interval by the
  remainder's binomial (or cost) standard error estimated from the training part, not from the
  test queries.
* **Guarantee** (every split): Learn-then-Test as ``llmcopula tune --confidence-level``: the
  method is fitted on a random half of the training part, its frontier points are tested in order
  of predicted accuracy on the other half with exact binomial tails (fixed-sequence testing), and
  the cheapest certified point is chosen, for three targets A per benchmark (the pooled accuracy
  of llama3.1-405b minus 0.02, 0.05 and 0.10) and δ ∈ {0.05, 0.1}. A violation is an accuracy
  below A on the held-out remainder. The unguaranteed choice is the cheapest point of the
  frontier fitted on the whole training part whose *predicted* accuracy is >= A.
* **Labels** (``--label-sizes``): the same guarantee with only n labelled training queries
  (the first n of the split's training part), for the label-efficiency comparison
  (empirical-copula against grid search).

``--coverage-only`` measures the intervals alone (no guarantee, no unguaranteed choice, no grid
search), ``--methods`` picks the methods, and ``--drop-cost-outliers`` (a diagnostic) removes the
queries whose last-model call costs more than 10x its median from the pooled log first. Coverage
rows record how many of these cost outliers fell in the training part (``cost_outliers_train``).

The Markov-copula model runs on the first ``--markov-splits`` splits only (its bootstrap refits
dominate the time); the empirical-copula model and grid search on every split. The defaults are
what fits a 2-core machine shared with other jobs; ``benchmarks/RESULTS.md`` records the command.

    python benchmarks/bench_policy_promises.py --splits 200 --coverage-splits 100 --n-jobs 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from policy_common import TEST_BENCHMARKS, pooled, quiet, random_split
from scipy import stats

from llmcopula.cascade import (
    EmpiricalCopulaModel,
    MarkovCopulaModel,
    frontier_intervals,
    score_cascade,
    select_point,
    tune,
)
from llmcopula.cascade.baselines import grid_search
from llmcopula.cascade.guarantee import fixed_sequence_test
from llmcopula.calibration import fit_calibrators
from llmcopula.datasets import load_benchmark

CASCADE = (0, 2, 4)
OFFSETS = (0.02, 0.05, 0.10)
DELTAS = (0.05, 0.10)
METHODS = ("empirical-copula", "markov-copula", "grid")
# Every row of the CSV has these columns in this order, whatever kinds of rows a split task
# returns: results are appended split by split, and a resumed run (--start) must line up.
COLUMNS = ("benchmark", "split", "kind", "method", "target", "test_accuracy", "test_cost",
           "predicted_accuracy", "point", "quantity", "observed", "predicted", "lo", "hi",
           "covered", "covered_noise", "n_labels", "delta", "certified", "violation", "seconds",
           "cost_outliers_train")
# A call costs more than this many times the model's median cost: a "cost outlier" (TriviaQA's
# llama3.1-405b has two answers of ~6400 USD/M against a median of 246); the coverage rows record
# how many of the pooled log's outliers of the last model fell in the training part.
OUTLIER_FACTOR = 10.0


def _frontier(method: str, train, n_lambdas: int, rng: int):
    if method == "grid":
        cals = fit_calibrators(train.confidence, train.correct, signal=train.signal)
        return grid_search(train, CASCADE, calibrators=cals), None
    # slope "free" (decreasing calibrations kept, as in the study's first runs; llama3.2-1b's
    # slope is negative on TriviaQA), the grid's calibrators likewise
    model = (EmpiricalCopulaModel(calibration_slope="free") if method == "empirical-copula"
             else MarkovCopulaModel(calibration_slope="free")).fit(train)
    return tune(model, CASCADE, n_lambdas=n_lambdas, rng=rng), model


def _route(front, log):
    return score_cascade(log, CASCADE, front.raw_thresholds, directions=front.directions)


def _guarantee_rows(method, front, holdout, test, targets, base):
    """Fixed-sequence testing of ``front`` on ``holdout`` for every (target, δ)."""
    rows = []
    res_h = _route(front, holdout)
    res_t = _route(front, test)
    order = np.lexsort((-front.cost, -front.accuracy))
    n_h = holdout.n_queries
    k = np.rint(res_h["accuracy"][order] * n_h).astype(np.int64)
    for a in targets:
        for delta in DELTAS:
            p, n_rej = fixed_sequence_test(k, n_h, a, delta)
            row = dict(base, method=method, target=a, delta=delta, certified=n_rej > 0)
            if n_rej:
                cert = order[:n_rej]
                best = int(cert[np.lexsort((cert, res_h["cost"][cert]))[0]])
                row.update(test_accuracy=res_t["accuracy"][best], test_cost=res_t["cost"][best],
                           violation=res_t["accuracy"][best] < a)
            rows.append(row)
    return rows


def split_task(benchmark: str, split: int, seed, n_lambdas: int, coverage: bool,
               markov: bool, markov_resamples: int, emp_resamples: int,
               label_sizes: tuple[int, ...], labels: bool, coverage_only: bool = False,
               methods: tuple[str, ...] = METHODS, drop_outliers: bool = False) -> list[dict]:
    quiet()
    log, n_train = pooled(benchmark, "llama")
    if drop_outliers:  # diagnostic: the pooled log without the last model's cost outliers
        c = log.cost[:, CASCADE[-1]]
        log = log.take(np.flatnonzero(c <= OUTLIER_FACTOR * np.median(c)))
    if seed is None:  # the shipped split
        train, test = (load_benchmark(benchmark, "llama", s) for s in ("train", "test"))
        seed = np.random.SeedSequence([20261212, 99])
    else:
        train, test = random_split(log, n_train, seed)
    acc_last = float(log.accuracy[CASCADE[-1]])
    targets = [round(acc_last - o, 2) for o in OFFSETS]
    rng = np.random.default_rng(seed)
    key = split if split >= 0 else 10**6  # the tuners' seed (the shipped split is split -1)
    rows: list[dict] = []
    last_cost = log.cost[:, CASCADE[-1]]
    outliers = {log.query_ids[i] for i in
                np.flatnonzero(last_cost > OUTLIER_FACTOR * np.median(last_cost))}
    n_out = sum(q in outliers for q in train.query_ids)
    base = {"benchmark": benchmark, "split": split}
    perm = rng.permutation(train.n_queries)
    for method in methods:
        if coverage_only and method == "grid":
            continue
        if method == "markov-copula" and not markov:
            continue  # time: the Markov-copula model runs on the first --markov-splits only
        t0 = time.perf_counter()
        front, model = _frontier(method, train, n_lambdas, key)
        # unguaranteed choice on the whole training part
        res_t = _route(front, test)
        for a in ([] if coverage_only else targets):
            try:
                pick = select_point(front, target_accuracy=a)
                rows.append(dict(base, kind="unguaranteed", method=method, target=a,
                                 test_accuracy=res_t["accuracy"][pick.index],
                                 test_cost=res_t["cost"][pick.index],
                                 predicted_accuracy=pick.accuracy))
            except ValueError:
                rows.append(dict(base, kind="unguaranteed", method=method, target=a))
        # intervals
        if coverage and method != "grid":
            n_res = emp_resamples if method == "empirical-copula" else markov_resamples
            fi = frontier_intervals(front, train, model=model, n_resamples=n_res, rng=key)
            lo, hi = front.cost.min(), front.cost.max()
            pts = sorted({int(np.argmin(np.abs(front.cost - (lo + q * (hi - lo)))))
                          for q in (0.25, 0.5, 0.75)})
            res_tr = _route(front, train)
            z = stats.norm.ppf(0.95)
            m = test.n_queries
            for p in pts:
                iv = fi.intervals
                obs = {"accuracy": res_t["accuracy"][p], "cost": res_t["cost"][p],
                       "last_share": res_t["stage_usage"][p, -1]}
                ints = {"accuracy": iv.accuracy[p], "cost": iv.cost[p],
                        "last_share": iv.stage_usage[p, -1]}
                pred = {"accuracy": front.accuracy[p], "cost": front.cost[p],
                        "last_share": front.stage_probabilities[p, -1]}
                # the remainder's own sampling error, estimated on the training part
                acc_tr, share_tr = res_tr["accuracy"][p], res_tr["stage_usage"][p, -1]
                stage = np.asarray(_stage(front, train, p))
                cum = np.cumsum(train.cost[:, list(CASCADE)], axis=1) * 1e6
                per_query = cum[np.arange(train.n_queries), stage]
                se = {"accuracy": np.sqrt(acc_tr * (1 - acc_tr) / m),
                      "cost": per_query.std(ddof=1) / np.sqrt(m),
                      "last_share": np.sqrt(share_tr * (1 - share_tr) / m)}
                for name in obs:
                    a_lo, a_hi = ints[name]
                    half = (a_hi - a_lo) / 2
                    mid = (a_hi + a_lo) / 2
                    wide = np.sqrt(half ** 2 + (z * se[name]) ** 2)
                    rows.append(dict(base, kind="coverage", method=method, point=p,
                                     quantity=name, observed=obs[name], predicted=pred[name],
                                     lo=a_lo, hi=a_hi, covered=a_lo <= obs[name] <= a_hi,
                                     covered_noise=mid - wide <= obs[name] <= mid + wide,
                                     cost_outliers_train=n_out))
        # guarantee with the shipped training size, then fewer labels
        sizes = () if coverage_only else (train.n_queries,) + (
            tuple(n for n in label_sizes if n < train.n_queries) if labels else ())
        for n in sizes:
            if n != train.n_queries and method == "markov-copula":
                continue  # label efficiency: empirical-copula vs grid (time)
            sub = train.take(np.sort(perm[:n]))
            half = np.random.default_rng([key, n]).permutation(n)
            n_h = n // 2
            holdout, tuning = sub.take(np.sort(half[:n_h])), sub.take(np.sort(half[n_h:]))
            f_tune, _ = _frontier(method, tuning, n_lambdas, key)
            rows += _guarantee_rows(method, f_tune, holdout, test, targets,
                                    dict(base, kind="guarantee", n_labels=n))
        rows.append(dict(base, kind="timing", method=method, seconds=time.perf_counter() - t0))
    return rows


def _stage(front, log, p):
    from llmcopula.cascade.routing import answering_stage_raw

    return answering_stage_raw(log.confidence[:, list(CASCADE)], front.directions,
                               front.raw_thresholds[p:p + 1])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--benchmarks", default="mmlu,medmcqa,triviaqa")
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--coverage-splits", type=int, default=100)
    parser.add_argument("--markov-splits", type=int, default=30)
    parser.add_argument("--markov-resamples", type=int, default=20)
    parser.add_argument("--resamples", type=int, default=100,
                        help="bootstrap resamples of the empirical-copula model")
    parser.add_argument("--label-sizes", default="100")
    parser.add_argument("--label-splits", type=int, default=100)
    parser.add_argument("--n-lambdas", type=int, default=6)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--start", type=int, default=0, help="first split (to resume a run)")
    parser.add_argument("--shipped", action="store_true",
                        help="the shipped train/test split only (reported as split -1)")
    parser.add_argument("--output", default="bench_policy_promises.csv")
    parser.add_argument("--coverage-only", action="store_true",
                        help="interval coverage only (no guarantee, no unguaranteed choice)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated subset of " + ",".join(METHODS))
    parser.add_argument("--drop-cost-outliers", action="store_true",
                        help="diagnostic: drop the queries whose last-model call costs more than "
                             f"{OUTLIER_FACTOR:g}x its median from the pooled log")
    args = parser.parse_args()
    sizes = tuple(int(v) for v in args.label_sizes.split(",") if v)
    benchmarks = args.benchmarks.split(",")
    # a benchmark's seeds depend on its name only, so that --benchmarks and --start reproduce
    # the splits of a full run
    seeds = {b: np.random.SeedSequence([20261212, TEST_BENCHMARKS.index(b)]).spawn(args.splits)
             for b in benchmarks}
    # Split s of every benchmark before split s + 1 of any, and every result appended to the CSV
    # as it arrives: an interrupted run keeps comparable numbers of splits per benchmark.
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"--methods: unknown {unknown}; expected a subset of {list(METHODS)}")
    jobs = [delayed(split_task)(b, s, seeds[b][s], args.n_lambdas, s < args.coverage_splits,
                                s < args.markov_splits, args.markov_resamples, args.resamples,
                                sizes, s < args.label_splits, args.coverage_only, methods,
                                args.drop_cost_outliers)
            for s in range(args.start, args.splits) for b in benchmarks]
    if args.shipped:
        jobs = [delayed(split_task)(b, -1, None, args.n_lambdas, True, True,
                                    args.markov_resamples, args.resamples, (), False)
                for b in benchmarks]
    t0 = time.perf_counter()
    first = args.start == 0 or not os.path.exists(args.output)
    done = 0
    for rows in Parallel(n_jobs=args.n_jobs, return_as="generator")(jobs):
        pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(args.output, mode="w" if first else "a", header=first,
                                  index=False)
        first = False
        done += 1
        if done % 10 == 0:
            print(f"{done} of {len(jobs)} split tasks in {time.perf_counter() - t0:.0f} s",
                  flush=True)
    print(f"{len(jobs)} split tasks in {time.perf_counter() - t0:.0f} s; wrote {args.output}")


if __name__ == "__main__":
    # Run from the importable module, so that joblib's workers unpickle the tasks by reference.
    import bench_policy_promises

    bench_policy_promises.main()

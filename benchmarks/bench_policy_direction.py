"""Keep or replace a non-increasing calibration? Test curves of both choices, on every cascade
that contains a model whose Platt slope is negative on its training data.

A model's raw signal can be inversely related to correctness (llama3.2-1b's P(True) on TriviaQA
and GSM8K). Either the calibration is kept as fitted (decreasing: the stage accepts when the raw
signal is *low*, direction "below"), or it is replaced by the maximum-likelihood fit under a
non-negative slope, which is then the constant training accuracy (the stage accepts all or
nothing; ``PlattCalibrator(slope="nonnegative")``). For each cascade containing such a model,
each tuner is run with both calibrations and the two test curves are compared by their normalised
area over the shared cost range (``error_cost_area``; % change of "keep" against "constant",
negative: keeping is better).

Data: TriviaQA/Llama on the shipped split (all 15 cascades with llama3.2-1b); and, for
robustness, random splits of the pooled TriviaQA/Llama queries (shipped training size) and
random 50/50 splits of GSM8K/Llama's 300 queries (no test split ships), on the cascades of two
and three models that contain llama3.2-1b (10 per chain).

    python benchmarks/bench_policy_direction.py [--splits 10] [--n-jobs 2] [--markdown]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from policy_common import cascades, markdown, pooled, quiet, random_split

from llmcopula.calibration import fit_calibrators
from llmcopula.cascade import (
    EmpiricalCopulaModel,
    MarkovCopulaModel,
    error_cost_area,
    evaluate_frontier,
    tune,
)
from llmcopula.cascade.baselines import grid_search
from llmcopula.datasets import load_benchmark

METHODS = ("markov-copula", "empirical-copula", "grid")


def frontier(method: str, slope: str, train, test, cascade, n_lambdas: int):
    if method == "grid":
        cals = fit_calibrators(train.confidence, train.correct, signal=train.signal, slope=slope)
        front = grid_search(train, cascade, calibrators=cals)
        return evaluate_frontier(front, test, calibrators=cals)
    cls = MarkovCopulaModel if method == "markov-copula" else EmpiricalCopulaModel
    model = cls(calibration_slope=slope).fit(train)
    return evaluate_frontier(tune(model, cascade, n_lambdas=n_lambdas, rng=0), test, model=model)


def task(setting: str, split: int, train, test, cascade, method: str, n_lambdas: int) -> dict:
    quiet()
    t0 = time.perf_counter()
    keep = frontier(method, "free", train, test, cascade, n_lambdas)
    const = frontier(method, "nonnegative", train, test, cascade, n_lambdas)
    row = {"setting": setting, "split": split, "cascade": "-".join(map(str, cascade)),
           "k": len(cascade), "method": method, "seconds": time.perf_counter() - t0,
           "directions": ",".join(keep.directions)}
    try:
        a_keep, a_const, _ = error_cost_area(keep.test_cost, keep.test_accuracy,
                                             const.test_cost, const.test_accuracy)
        row.update(A_keep=a_keep, A_constant=a_const,
                   pct=100 * (a_keep - a_const) / a_const)
    except ValueError:  # no shared cost range
        row.update(A_keep=np.nan, A_constant=np.nan, pct=np.nan)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--n-lambdas", type=int, default=15)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--output", default="bench_policy_direction.csv")
    args = parser.parse_args()
    quiet()
    jobs = []
    train = load_benchmark("triviaqa", "llama", "train")
    test = load_benchmark("triviaqa", "llama", "test")
    with_0 = [c for c in cascades(5) if 0 in c]
    for cas in with_0:
        for method in METHODS:
            jobs.append(("triviaqa/llama shipped split", 0, train, test, cas, method))
    small = [c for c in with_0 if len(c) <= 3]
    pool, n_train = pooled("triviaqa", "llama")
    gsm = load_benchmark("gsm8k", "llama", "train")
    seeds = np.random.SeedSequence(20261212).spawn(2 * args.splits)
    for s in range(args.splits):
        tr, te = random_split(pool, n_train, seeds[s])
        gtr, gte = random_split(gsm, gsm.n_queries // 2, seeds[args.splits + s])
        for cas in small:
            for method in METHODS:
                jobs.append(("triviaqa/llama random splits", s, tr, te, cas, method))
                jobs.append(("gsm8k/llama random 50/50 splits", s, gtr, gte, cas, method))
    t0 = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(delayed(task)(*job, args.n_lambdas) for job in jobs)
    frame = pd.DataFrame(rows)
    frame.to_csv(args.output, index=False)
    print(f"{len(frame)} comparisons in {time.perf_counter() - t0:.0f} s")
    # one value per cascade: the mean over splits
    per_cascade = frame.groupby(["setting", "method", "cascade"], as_index=False).pct.mean()
    table = per_cascade.groupby(["setting", "method"]).pct.agg(
        cascades="count", mean_pct="mean", median_pct="median",
        keep_better=lambda v: int((v < 0).sum()), constant_better=lambda v: int((v > 0).sum()))
    slopes = frame.groupby(["setting"]).directions.apply(
        lambda d: float(np.mean([x.split(",")[0] == "below" for x in d
                                 if x]))).rename("share of fits with direction below")
    if args.markdown:
        print(markdown(table.round(3), index=True))
        print()
        print(markdown(slopes.round(3).to_frame(), index=True))
    else:
        print(table.round(3))
        print(slopes.round(3))


if __name__ == "__main__":
    # Run from the importable module, so that joblib's workers unpickle the tasks by reference.
    import bench_policy_direction

    bench_policy_direction.main()

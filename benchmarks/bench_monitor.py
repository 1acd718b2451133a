"""Drift monitor: false-alarm rate on random splits and power on the shipped MedMCQA shift.

For every cascade of k = 2 and 3 models of both chains, the policy accepts at each non-final stage
the training half of raw signals above the training median (the serving tests' policy builder),
and its reference profile is the training routing (:func:`llmcopula.monitoring.reference_profile`).

- Size: R random splits of the pooled train + test queries of MMLU and MedMCQA, with a
  reference of the shipped train size, the policy and profile rebuilt on it, and a window of 500
  other queries. A false alarm is an alarm on such a window (α = 0.05, Holm).
- Power: the shipped MedMCQA train split as the reference, and R windows of 500 drawn from the
  shipped test split (whose questions are harder), unlabelled traffic only. MMLU's shipped split
  is reported too.

    python benchmarks/bench_monitor.py --splits 200 --n-jobs 2
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from llmcopula.datasets import load_benchmark
from llmcopula.monitoring import check_traffic, reference_profile, routed_window
from llmcopula.policy import CascadePolicy, ModelInfo, ThresholdRule

WINDOW = 500


def quantile_policy(models, confidence, cascade, share=0.5) -> CascadePolicy:
    cols = [models.index(m) for m in cascade]
    rules = [ThresholdRule(model=m, direction="above",
                           raw_threshold=float(np.quantile(confidence[:, c], 1 - share)))
             for m, c in zip(cascade[:-1], cols[:-1])]
    return CascadePolicy(chain_models=[ModelInfo(m, signal="logprob") for m in models],
                         cascade_models=cascade, rules=rules, cost_definition="cost_answer_usd")


def study(benchmark: str, chain: str, cascade: tuple[str, ...], splits: int, seed: int) -> dict:
    train, test = load_benchmark(benchmark, chain, "train"), load_benchmark(benchmark, chain, "test")
    models = train.models
    conf = np.vstack([train.confidence, test.confidence])
    cost = np.vstack([train.cost, test.cost])
    n_train, n = train.n_queries, conf.shape[0]
    rng = np.random.default_rng(seed)
    false_alarms = 0
    for _ in range(splits):
        perm = rng.permutation(n)
        ref, win = perm[:n_train], perm[n_train:n_train + WINDOW]
        policy = quantile_policy(models, conf[ref], cascade)
        profile = reference_profile(policy, conf[ref], cost[ref], columns=models)
        report = check_traffic(profile, **routed_window(policy, conf[win], cost[win],
                                                        columns=models))
        false_alarms += report.alarm
    policy = quantile_policy(models, train.confidence, cascade)
    profile = reference_profile(policy, train.confidence, train.cost, columns=models)
    alarms = 0
    for _ in range(splits):
        win = rng.choice(test.n_queries, WINDOW, replace=False)
        report = check_traffic(profile, **routed_window(policy, test.confidence[win],
                                                        test.cost[win], columns=models))
        alarms += report.alarm
    return {"benchmark": benchmark, "chain": chain, "cascade": " > ".join(cascade),
            "k": len(cascade), "false_alarms": false_alarms, "splits": splits,
            "shipped_alarms": alarms}


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    jobs = []
    for benchmark in ("mmlu", "medmcqa"):
        for chain in ("llama", "qwen_oai"):
            models = load_benchmark(benchmark, chain, "train").models
            for k in (2, 3):
                for cascade in itertools.combinations(models, k):
                    jobs.append((benchmark, chain, cascade))
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.n_jobs)(
        delayed(study)(b, c, cas, args.splits, args.seed + i) for i, (b, c, cas) in enumerate(jobs))
    table = pd.DataFrame(rows)
    table["false_alarm_rate"] = table.false_alarms / table.splits
    table["power_shipped"] = table.shipped_alarms / table.splits
    pd.set_option("display.width", 200)
    print(table[["benchmark", "chain", "cascade", "false_alarm_rate", "power_shipped"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for benchmark, group in table.groupby("benchmark", sort=False):
        fa, total = int(group.false_alarms.sum()), int(group.splits.sum())
        ci = stats.binomtest(fa, total).proportion_ci(0.95)
        worst = group.false_alarm_rate.max()
        print(f"\n{benchmark}: false-alarm rate {fa}/{total} = {fa / total:.4f} "
              f"(95% CI {ci.low:.4f}-{ci.high:.4f}); worst cascade {worst:.3f}")
        power = group.power_shipped
        print(f"{benchmark} shipped train -> test, windows of {WINDOW}: alarm rate median "
              f"{power.median():.2f}, min {power.min():.2f}, max {power.max():.2f}; cascades "
              f"with alarm rate >= 0.8: {(power >= 0.8).sum()} of {len(power)}")
    print(f"\n{len(jobs)} cascades x {args.splits} splits in {time.perf_counter() - start:.0f} s "
          f"(n_jobs={args.n_jobs})")


if __name__ == "__main__":
    main()

"""Speed of the cascade models: fitting a whole chain and tracing a k = 5 frontier.

Reference figures, measured on a machine of this kind with the paper's public reference code: it
took 159 s to precompute its lookup tables for the 5-model Llama chain on MMLU,
and 22.7 s on average to trace the frontier of one k = 5 cascade. Targets: a full 5-model chain
fit (calibrators, marginals and all 10 pair copulas) in under 1 s, and a k = 5 frontier of at
least 30 points in under 2 s. Both of our models are timed in the same run: the Markov-copula
model and the empirical-copula model (empirical beta copula of all confidences; its "fit" is
calibration and ranks, nothing pairwise). The frontier uses the default ``n_lambdas=30`` for
the Markov-copula model and ``n_lambdas=40`` for the empirical-copula model, whose piecewise
smooth objective gives fewer distinct points per λ; both then keep at least 30 points after
the Pareto filter (except where the data have fewer distinct efficient points).

The frontier is timed as ``tune`` returns it by default (the λ path, then the budget form filling
every gap wider than 1/``n_lambdas`` of the cost range) and as the λ path alone
(``fill_gaps=False``), the frontier the reference code traces.

Each time is reported as the best and the median of ``--repeats`` runs, with the load average
before and after the run: on a shared machine only the best of several repeats approaches the
idle time.

    python benchmarks/bench_cascade_speed.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, tune
from llmcopula.datasets import load_benchmark


def best_of(fn, repeats: int) -> tuple[float, float, object]:
    """(best, median) time of ``repeats`` calls of ``fn``, and its last result."""
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), float(np.median(times)), out


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {_load()}; best (median) of {args.repeats} repeats\n")
    print("| benchmark | chain | model | fit all pairs (s) | k=5 frontier (s) | points | "
          "λ path only (s) | points | ref. precompute (s) | ref. k=5 frontier (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for benchmark in ("mmlu", "medmcqa", "gsm8k", "triviaqa"):
            log = load_benchmark(benchmark, "llama", split="train")

            def fit():
                model = MarkovCopulaModel().fit(log)
                for i in range(5):
                    for j in range(i + 1, 5):
                        model.pair_copula(i, j)
                return model

            ref = ("159", "22.7") if benchmark == "mmlu" else ("—", "—")
            for name, fitter, n_lambdas in (
                    ("markov-copula", fit, 30),
                    ("empirical-copula", lambda: EmpiricalCopulaModel().fit(log), 40)):
                t_fit, m_fit, model = best_of(fitter, args.repeats)
                t_tune, m_tune, frontier = best_of(
                    lambda: tune(model, (0, 1, 2, 3, 4), n_lambdas=n_lambdas, rng=0), args.repeats)
                t_path, m_path, path = best_of(
                    lambda: tune(model, (0, 1, 2, 3, 4), n_lambdas=n_lambdas, fill_gaps=False,
                                 rng=0), args.repeats)
                print(f"| {benchmark} | llama | {name} | {t_fit:.3f} ({m_fit:.3f}) | "
                      f"{t_tune:.3f} ({m_tune:.3f}) | {len(frontier)} | "
                      f"{t_path:.3f} ({m_path:.3f}) | {len(path)} | {ref[0]} | {ref[1]} |")
    print(f"\nload average after: {_load()}")

if __name__ == "__main__":
    main()

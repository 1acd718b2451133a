"""Speed of the Markov-copula model: fitting a whole chain and tracing a k = 5 frontier.

Reference figures on a machine of this kind (our method notes §4.3, §7.5): the reference
implementation took 159 s to precompute its lookup tables for the 5-model Llama chain on MMLU,
and 22.7 s on average to trace the frontier of one k = 5 cascade. Targets: a full 5-model chain
fit (calibrators, marginals and all 10 pair copulas) in under 1 s, and a k = 5 frontier of at
least 30 points in under 2 s.

    python benchmarks/bench_cascade_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from llmcopula.cascade import MarkovCopulaModel, tune
from llmcopula.datasets import load_benchmark


def best_of(fn, repeats: int) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| benchmark | chain | fit all pairs (s) | k=5 frontier (s) | points | "
          "ref. precompute (s) | ref. k=5 frontier (s) |")
    print("|---|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for benchmark in ("mmlu", "medmcqa", "gsm8k", "triviaqa"):
            log = load_benchmark(benchmark, "llama", split="train")

            def fit():
                model = MarkovCopulaModel().fit(log)
                for i in range(5):
                    for j in range(i + 1, 5):
                        model.pair_copula(i, j)
                return model

            t_fit, model = best_of(fit, args.repeats)
            t_tune, frontier = best_of(lambda: tune(model, (0, 1, 2, 3, 4), n_lambdas=30),
                                       args.repeats)
            ref = ("159", "22.7") if benchmark == "mmlu" else ("—", "—")
            print(f"| {benchmark} | llama | {t_fit:.3f} | {t_tune:.3f} | {len(frontier)} | "
                  f"{ref[0]} | {ref[1]} |")


if __name__ == "__main__":
    main()

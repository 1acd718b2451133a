"""Shared helpers of the policy benchmarks (bench_policy_*.py): pooled queries of a benchmark,
random train/test splits with the shipped training size, and the cascades of a chain."""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from llmcopula.datasets import ChainLog, list_benchmarks, load_benchmark

TEST_BENCHMARKS = ("mmlu", "medmcqa", "triviaqa")
CHAINS = ("llama", "qwen_oai")


def has_test(benchmark: str, chain: str) -> bool:
    table = list_benchmarks()
    return bool(((table.benchmark == benchmark) & (table.chain == chain)
                 & (table.split == "test")).any())


def pooled(benchmark: str, chain: str) -> tuple[ChainLog, int]:
    """Train and test split of a shipped benchmark as one log (query ids prefixed by the split),
    and the shipped training size."""
    train = load_benchmark(benchmark, chain, "train")
    if not has_test(benchmark, chain):
        return train, train.n_queries
    test = load_benchmark(benchmark, chain, "test")
    log = ChainLog(train.models, np.vstack([train.confidence, test.confidence]),
                   np.vstack([train.correct, test.correct]), np.vstack([train.cost, test.cost]),
                   query_ids=[f"train-{q}" for q in train.query_ids]
                   + [f"test-{q}" for q in test.query_ids],
                   benchmark=benchmark, signal=train.signal)
    return log, train.n_queries


def random_split(log: ChainLog, n_train: int, seed: int | np.random.SeedSequence
                 ) -> tuple[ChainLog, ChainLog]:
    """A random split of ``log`` into ``n_train`` training queries and the rest."""
    perm = np.random.default_rng(seed).permutation(log.n_queries)
    return log.take(np.sort(perm[:n_train])), log.take(np.sort(perm[n_train:]))


def cascades(n_models: int, k_min: int = 2) -> list[tuple[int, ...]]:
    """Every strictly increasing cascade of at least ``k_min`` models of a chain."""
    return [c for k in range(k_min, n_models + 1)
            for c in itertools.combinations(range(n_models), k)]


def quiet() -> None:
    """Silence the calibrators' expected warnings (negative slopes, separation) in workers."""
    warnings.simplefilter("ignore", UserWarning)


def markdown(frame, index: bool = False) -> str:
    """A pipe table of a DataFrame (no tabulate dependency)."""
    f = frame.reset_index() if index else frame
    cols = [str(c) for c in f.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in f.itertuples(index=False):
        lines.append("| " + " | ".join(
            f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")
    return "\n".join(lines)

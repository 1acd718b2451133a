"""What the selection benchmarks share: the pooled 9-model answer logs of MMLU and MedMCQA, the
aggregator factory, and the mean ± standard error of paired differences."""

from __future__ import annotations

import numpy as np

from llmcopula.datasets import load_pool
from llmcopula.selection import make_aggregator

BENCHMARKS = ("mmlu", "medmcqa")
KS = (3, 5)
CLASSES = np.array(list("ABCD"))


def split_data(benchmark: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Answers (n, 9) and reference letters of one shipped split."""
    log = load_pool(benchmark, split)
    return np.asarray(log.answer, dtype=str), np.asarray(log.reference, dtype=str)


def pooled(benchmark: str) -> tuple[np.ndarray, np.ndarray, int]:
    """All queries (train then test) and the shipped training size."""
    (Xa, ya), (Xb, yb) = split_data(benchmark, "train"), split_data(benchmark, "test")
    return np.vstack([Xa, Xb]), np.concatenate([ya, yb]), ya.size


def aggregator(name: str, seed: int):
    """An aggregator over the answer letters (copula-Bayes seeded with ``seed``)."""
    return make_aggregator(name, classes=CLASSES,
                           **({"rng": seed} if name == "copula-bayes" else {}))


def mean_se(values) -> tuple[float, float]:
    """Mean and its standard error (0 for a single value)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def fmt(values) -> str:
    m, s = mean_se(values)
    return f"{m:+.4f} ± {s:.4f}"

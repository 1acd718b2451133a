"""A small synthetic pool for the planning tests: models of rising cost and accuracy whose
confidences carry information about their correctness and whose errors are correlated."""

from __future__ import annotations

import numpy as np

from llmcopula.datasets import ChainLog

CLASSES = np.array(list("ABCD"))


def toy_pool(n: int, *, seed: int, accuracy=(0.55, 0.7, 0.8, 0.88),
             cost=(2.0, 5.0, 20.0, 60.0), names=None) -> ChainLog:
    """n queries × len(accuracy) models, 4 classes; ``cost``: mean cost of each model in USD
    per million queries (per-query costs vary by ±20%)."""
    rng = np.random.default_rng(seed)
    k = len(accuracy)
    names = tuple(names or (f"m{i}" for i in range(k)))
    y = rng.integers(0, 4, n)
    # a shared difficulty makes errors correlated
    latent = 0.6 * rng.normal(size=(n, 1)) + 0.8 * rng.normal(size=(n, k))
    thresh = np.array([np.quantile(latent[:, j], 1 - a) for j, a in enumerate(accuracy)])
    right = latent > thresh
    wrong = (y[:, None] + rng.integers(1, 4, (n, k))) % 4
    answer = CLASSES[np.where(right, y[:, None], wrong)]
    score = np.where(right, 1.5, -0.5) + rng.normal(size=(n, k))
    confidence = -np.log1p(np.exp(-score))  # log-sigmoid: a log-probability, below 0
    per_query = np.asarray(cost) * 1e-6 * rng.uniform(0.8, 1.2, (n, k))
    return ChainLog(names, confidence, right.astype(int), per_query, answer=answer,
                    reference=CLASSES[y], signal="logprob")

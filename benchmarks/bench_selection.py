"""Ensemble selection on the bundled 9-model pools, and the speed of greedy MI selection.

Accuracy: the train and test queries of MMLU and MedMCQA are pooled (both chains: 9 models) and
re-split at random ``--splits`` times (``--train-frac`` for selection and aggregator fitting, the
rest for scoring).  For k = 1..9 every selection method picks k models on the training part, every
aggregator is fitted on it, and the test accuracy is recorded.  Greedy MI is compared with each
baseline by the paired difference over splits: a *win* (or *loss*) when the mean difference is
more than 2 standard errors above (below) zero, else a *tie*.

Speed: greedy selection of k = 10 models (and of the whole path) from 50 simulated models with
correlated errors on 100,000 labelled rows.

Run ``python benchmarks/bench_selection.py`` (about a few minutes on 2 cores); ``--quick`` for a
smoke run.  Results are printed as Markdown.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import defaultdict

import numpy as np
from scipy import stats

from llmcopula.datasets import load_pool
from llmcopula.selection.aggregation import make_aggregator
from llmcopula.selection import SELECTION_METHODS, greedy_mi_selection, select_models
from llmcopula.selection.information import SparsePatternWarning

BENCHMARKS = ("mmlu", "medmcqa")
# The table aggregators recorded in RESULTS.md; the copula model's Bayes rule and the choice of
# defaults are studied by bench_selection_defaults.py.
AGGREGATORS = ("map", "weighted-vote", "majority-vote", "dawid-skene")
# (row label, method, options): greedy MI also with the Miller-Madow estimator, whose smaller
# small-sample bias matters at ~900 training rows and up to 5^9 answer patterns.
METHODS = [(m, m, {}) for m in SELECTION_METHODS]
METHODS.insert(1, ("greedy-mi-mm", "greedy-mi", {"estimator": "miller-madow"}))
LABELS = [label for label, _, _ in METHODS]


def pooled(benchmark: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Model names, answers (n, 9) and labels of the train and test splits together."""
    logs = [load_pool(benchmark, split) for split in ("train", "test")]
    X = np.vstack([np.asarray(log.answer, dtype=str) for log in logs])
    y = np.concatenate([np.asarray(log.reference, dtype=str) for log in logs])
    return tuple(logs[0].models), X, y


def accuracy_runs(benchmark: str, splits: int, train_frac: float, seed: int,
                  methods=tuple(METHODS), aggregators=tuple(AGGREGATORS)):
    """acc[(method, aggregator, k)] = list over splits of test accuracy."""
    names, X, y = pooled(benchmark)
    n, m = X.shape
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    acc: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    chosen: dict[tuple[str, int], list[tuple[str, ...]]] = defaultdict(list)
    for s in range(splits):
        perm = rng.permutation(n)
        cut = int(round(train_frac * n))
        tr, te = perm[:cut], perm[cut:]
        for k in range(1, m + 1):
            for method, base, options in methods:
                res = select_models(X[tr], y[tr], method=base, k=k, names=names,
                                    rng=seed * 1000 + s, warn_sparse=False, **options)
                cols = list(res.selected)
                chosen[method, k].append(tuple(sorted(res.names or ())))
                for agg_name in aggregators:
                    agg = make_aggregator(agg_name, classes=classes).fit(X[tr][:, cols], y[tr])
                    acc[method, agg_name, k].append(agg.score(X[te][:, cols], y[te]))
    return names, acc, chosen


def verdict(diffs: np.ndarray) -> str:
    mean = diffs.mean()
    se = diffs.std(ddof=1) / np.sqrt(diffs.size) if diffs.size > 1 else np.inf
    if mean > 2 * se:
        return "win"
    if mean < -2 * se:
        return "loss"
    return "tie"


def report_accuracy(benchmark: str, acc, m: int, splits: int, train_frac: float) -> list[str]:
    lines = [f"### {benchmark.upper()}: test accuracy vs k (mean over {splits} random "
             f"{train_frac:.0%}/{1 - train_frac:.0%} splits of the pooled queries)", ""]
    for agg_name in AGGREGATORS:
        lines += [f"**aggregator: {agg_name}**", "",
                  "| method | " + " | ".join(f"k={k}" for k in range(1, m + 1)) + " |",
                  "|---|" + "---|" * m]
        for method in LABELS:
            cells = [f"{np.mean(acc[method, agg_name, k]):.3f}" for k in range(1, m + 1)]
            lines.append(f"| {method} | " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["**greedy-mi vs each baseline** (paired over splits; W = win, T = tie, L = loss "
              "at 2 SE; per aggregator, k = 1..9)", "",
              "| aggregator | vs | " + " | ".join(f"k={k}" for k in range(1, m + 1))
              + " | W/T/L |", "|---|---|" + "---|" * (m + 1)]
    for agg_name in AGGREGATORS:
        for method in LABELS:
            if method == "greedy-mi":
                continue
            v = [verdict(np.subtract(acc["greedy-mi", agg_name, k], acc[method, agg_name, k]))
                 for k in range(1, m + 1)]
            tally = f"{v.count('win')}/{v.count('tie')}/{v.count('loss')}"
            lines.append(f"| {agg_name} | {method} | "
                         + " | ".join(x[0].upper() for x in v) + f" | {tally} |")
    lines.append("")
    return lines


def speed(n: int = 100_000, m: int = 50, k: int = 10, repeats: int = 3, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    w = rng.standard_normal((n, 1))
    z = np.sqrt(0.5) * w + np.sqrt(0.5) * rng.standard_normal((n, m))
    err = z < stats.norm.ppf(rng.uniform(0.15, 0.4, m))
    X = np.where(err, 1 - y[:, None], y[:, None])
    y4 = rng.integers(0, 4, n)
    X4 = np.where(err, (y4[:, None] + rng.integers(1, 4, (n, m))) % 4, y4[:, None])
    lines = [f"### Speed: greedy MI selection, {m} models × {n:,} labelled rows "
             f"(best of {repeats})", "", "| labels | k | seconds | MI (bits) |", "|---|---|---|---|"]
    for label, (yy, XX) in (("binary", (y, X)), ("4 classes", (y4, X4))):
        for kk in (k, 20):
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                res = greedy_mi_selection(XX, yy, k=kk, warn_sparse=False)
                times.append(time.perf_counter() - t0)
            lines.append(f"| {label} | {kk} | {min(times):.3f} | {res.mi_bits:.3f} |")
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--train-frac", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="2 splits, MMLU only")
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--speed-only", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", SparsePatternWarning)
    lines: list[str] = []
    if not args.speed_only:
        benches = ("mmlu",) if args.quick else BENCHMARKS
        splits = 2 if args.quick else args.splits
        for bench in benches:
            t0 = time.perf_counter()
            names, acc, _ = accuracy_runs(bench, splits, args.train_frac, args.seed)
            lines += report_accuracy(bench, acc, len(names), splits, args.train_frac)
            lines.append(f"({bench}: {time.perf_counter() - t0:.0f} s)\n")
    if not args.no_speed:
        lines += speed()
    print("\n".join(lines))


if __name__ == "__main__":
    main()

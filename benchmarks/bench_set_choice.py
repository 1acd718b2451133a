"""Which selected set should ``llmcopula select`` use: greedy MI's, top-k's, or the one of the two
with the higher cross-validated accuracy on the training answers (``method="auto"``, the
default)?

Per benchmark (MMLU, MedMCQA) and k in {3, 5}, on the shipped split and on ``--splits`` random
splits of the pooled train + test queries with the shipped training size (the splits of
``bench_aggregator_choice.py``: same seed, same permutations):

* ``auto``: :func:`llmcopula.selection.auto_selection` (greedy MI with the Gaussian-copula
  estimator vs top-k by training accuracy, each set scored by the best aggregator's repeated
  stratified 5-fold CV accuracy on the training answers, 4 repeats), aggregator ``"auto"``;
  this is what ``llmcopula select --k K`` now does;
* ``greedy-mi``: the previous default, greedy MI's set with aggregator ``"auto"``;
* ``top-k``: the top-k set with the aggregator ``auto`` ended with (*same aggregator*) and with
  its own ``"auto"`` aggregator;
* ``single``: the train-chosen best single model.

Cells: mean test accuracy and paired differences (± SE over splits). Only training data
choose; the test split only scores. Run ``python benchmarks/bench_set_choice.py`` or
``--quick``. Output is Markdown.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter

import numpy as np
from joblib import Parallel, delayed

from llmcopula.selection import auto_selection
from selection_common import BENCHMARKS, KS, aggregator, fmt, pooled, split_data


def score(name: str, cols, Xtr, ytr, Xte, yte, seed: int) -> float:
    agg = aggregator(name, seed)
    agg.fit(Xtr[:, list(cols)], ytr)
    return float(np.mean(agg.predict(Xte[:, list(cols)]) == yte))


def run(Xtr, ytr, Xte, yte, seed: int) -> dict:
    out: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = int(np.argmax((Xtr == ytr[:, None]).mean(axis=0)))
        out["single"] = float(np.mean(Xte[:, best] == yte))
        for k in KS:
            res = auto_selection(Xtr, ytr, k=k, estimator="gaussian-copula", rng=seed,
                                 warn_sparse=False)
            c = res.choice
            i_g, i_t = c.methods.index("greedy-mi"), c.methods.index("top-k")
            i_c = c.methods.index(c.chosen)
            # c.aggregators[i] is the aggregator "auto" picks for set i on the same folds
            out["auto", k] = score(c.aggregators[i_c], c.sets[i_c], Xtr, ytr, Xte, yte, seed)
            out["greedy-mi", k] = score(c.aggregators[i_g], c.sets[i_g], Xtr, ytr, Xte, yte,
                                        seed)
            out["top-k same", k] = score(c.aggregators[i_c], c.sets[i_t], Xtr, ytr, Xte, yte,
                                         seed)
            out["top-k own", k] = score(c.aggregators[i_t], c.sets[i_t], Xtr, ytr, Xte, yte,
                                        seed)
            out["greedy-mi vs top-k same", k] = score(c.aggregators[i_g], c.sets[i_t], Xtr, ytr,
                                                      Xte, yte, seed)
            out["chosen", k] = c.chosen
            out["differ", k] = sorted(c.sets[i_g]) != sorted(c.sets[i_t])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.splits = 3
    t0 = time.perf_counter()
    lines = ["| benchmark | k | split | auto | greedy-mi (before) | top-k (same agg.) | "
             "top-k (own auto) | single | auto − top-k same | greedy-mi − top-k same | "
             "auto − top-k own | auto − single | sets differ / auto chose |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for b in BENCHMARKS:
        (Xa, ya), (Xb, yb) = split_data(b, "train"), split_data(b, "test")
        shipped = run(Xa, ya, Xb, yb, args.seed)
        X, y, n_train = pooled(b)
        rng = np.random.default_rng(args.seed)
        perms = [rng.permutation(y.size) for _ in range(args.splits)]
        runs = Parallel(n_jobs=args.n_jobs)(
            delayed(run)(X[p[:n_train]], y[p[:n_train]], X[p[n_train:]], y[p[n_train:]],
                         args.seed + i) for i, p in enumerate(perms))
        for k in KS:
            s = shipped
            lines.append(
                f"| {b} | {k} | shipped | {s['auto', k]:.4f} | {s['greedy-mi', k]:.4f} | "
                f"{s['top-k same', k]:.4f} | {s['top-k own', k]:.4f} | {s['single']:.4f} | "
                f"{s['auto', k] - s['top-k same', k]:+.4f} | "
                f"{s['greedy-mi', k] - s['greedy-mi vs top-k same', k]:+.4f} | "
                f"{s['auto', k] - s['top-k own', k]:+.4f} | {s['auto', k] - s['single']:+.4f} | "
                f"{s['differ', k]} / {s['chosen', k]} |")
            col = {key: [r[key, k] for r in runs] for key in
                   ("auto", "greedy-mi", "top-k same", "top-k own", "greedy-mi vs top-k same")}
            single = [r["single"] for r in runs]
            chosen = Counter(r["chosen", k] for r in runs if r["differ", k])
            lines.append(
                f"| {b} | {k} | random ×{args.splits} | {np.mean(col['auto']):.4f} | "
                f"{np.mean(col['greedy-mi']):.4f} | {np.mean(col['top-k same']):.4f} | "
                f"{np.mean(col['top-k own']):.4f} | {np.mean(single):.4f} | "
                f"{fmt(np.subtract(col['auto'], col['top-k same']))} | "
                f"{fmt(np.subtract(col['greedy-mi'], col['greedy-mi vs top-k same']))} | "
                f"{fmt(np.subtract(col['auto'], col['top-k own']))} | "
                f"{fmt(np.subtract(col['auto'], single))} | "
                f"{sum(r['differ', k] for r in runs)} / {dict(chosen)} |")
    lines.append(f"\n(total {time.perf_counter() - t0:.0f} s)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

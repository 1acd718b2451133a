"""Can a training-only choice of the aggregator make ``llmcopula select --k 3`` beat the
train-chosen best single model by one point on both shipped test splits?

The procedures (all see only the training data they are given):

``fixed``
    The current defaults: greedy MI with the Gaussian-copula estimator, aggregator
    ``copula-bayes``.
``best``, ``one-se``, ``one-se-paired``
    The same selected set, aggregator chosen among majority vote, weighted vote and
    copula-bayes by repeated stratified 5-fold cross-validation on the training answers of the
    set (:func:`llmcopula.selection.choose_aggregator`, 4 repeats), by the rule of that name.

Evidence, per benchmark (MMLU, MedMCQA) and k in {3, 5}:

``nested``
    Nested cross-validation *within the shipped training split*: outer repeated 5-fold; each
    procedure runs on the outer training folds (selection and its inner CV included) and is
    scored on the held-out fold. Paired differences to ``fixed``.
``random``
    Random splits of the pooled train + test queries with the shipped training size: each
    procedure on the training part, accuracy on the rest; paired differences to ``fixed``, to
    the train-chosen best single model and to top-k by training accuracy with the same
    aggregator.
``shipped``
    The shipped split: the result of each procedure with the command line's seed (0), and the
    choices over 10 seeds of the inner cross-validation (how stable the choice is).

Run ``python benchmarks/bench_aggregator_choice.py`` (about 15 minutes on 2 loaded cores) or
``--quick``. Output is Markdown.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter

import numpy as np
from joblib import Parallel, delayed

from llmcopula.selection import choose_aggregator, select_models
from llmcopula.selection.aggregator_choice import CHOICE_RULES
from selection_common import BENCHMARKS, CLASSES, KS, aggregator, fmt, pooled, split_data

PROCEDURES = ("fixed", *CHOICE_RULES)


def run(Xtr, ytr, Xte, yte, seed: int, repeats: int) -> dict:
    """Test accuracy of every procedure at every k, with the single model and top-k."""
    out: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = int(np.argmax((Xtr == ytr[:, None]).mean(axis=0)))
        out["single"] = float(np.mean(Xte[:, best] == yte))
        for k in KS:
            S = list(select_models(Xtr, ytr, k=k, estimator="gaussian-copula",
                                   rng=seed).selected)
            T = list(select_models(Xtr, ytr, method="top-k", k=k).selected)
            choice = choose_aggregator(Xtr[:, S], ytr, n_repeats=repeats, classes=CLASSES,
                                       rng=seed)
            for proc in PROCEDURES:
                name = "copula-bayes" if proc == "fixed" else choice.under(proc)
                out["name", proc, k] = name
                for label, cols in (("ours", S), ("top-k", T)):
                    agg = aggregator(name, seed).fit(Xtr[:, cols], ytr)
                    out[label, proc, k] = float(np.mean(agg.predict(Xte[:, cols]) == yte))
    return out


def part_nested(args) -> list[str]:
    lines = ["#### Nested cross-validation within the shipped training splits", "",
             f"Outer {args.folds}-fold × {args.outer} repeats inside each shipped training "
             "split (the test split is not used); every procedure, selection and inner CV "
             "included, runs on the outer training folds. Cells: mean held-out accuracy, and "
             "the paired difference to `fixed` (± SE over outer folds).", "",
             "| benchmark | k | " + " | ".join(PROCEDURES) + " | "
             + " | ".join(f"{p} − fixed" for p in PROCEDURES[1:]) + " | choices |",
             "|" + "---|" * (2 + 2 * len(PROCEDURES))]
    for b in BENCHMARKS:
        X, y = split_data(b, "train")
        rng = np.random.default_rng(args.seed)
        jobs = []
        for r in range(args.outer):
            perm = rng.permutation(y.size)
            for f in range(args.folds):
                held = perm[f::args.folds]
                jobs.append((np.setdiff1d(perm, held), held, args.seed + 100 * r + f))
        runs = Parallel(n_jobs=args.n_jobs)(delayed(run)(X[tr], y[tr], X[te], y[te], s,
                                                         args.repeats) for tr, te, s in jobs)
        for k in KS:
            acc = {p: [r["ours", p, k] for r in runs] for p in PROCEDURES}
            diffs = [fmt(np.subtract(acc[p], acc["fixed"])) for p in PROCEDURES[1:]]
            names = {p: Counter(r["name", p, k] for r in runs) for p in PROCEDURES[1:]}
            lines.append(f"| {b} | {k} | " + " | ".join(f"{np.mean(acc[p]):.4f}"
                                                        for p in PROCEDURES)
                         + " | " + " | ".join(diffs) + " | "
                         + "; ".join(f"{p}: {dict(c)}" for p, c in names.items()) + " |")
    lines.append("")
    return lines


def part_random(args) -> list[str]:
    lines = ["#### Random splits of the pooled queries", "",
             f"{args.splits} random splits with the shipped training size (285 / 300 "
             "queries). Mean test accuracy; paired differences ± SE over splits. *single*: the "
             "train-chosen best single model; *top-k*: the top-k models by training accuracy, "
             "with the aggregator the procedure chose.", "",
             "| benchmark | k | procedure | accuracy | − fixed | − single | − top-k | choices |",
             "|---|---|---|---|---|---|---|---|"]
    for b in BENCHMARKS:
        X, y, n_train = pooled(b)
        rng = np.random.default_rng(args.seed)
        perms = [rng.permutation(y.size) for _ in range(args.splits)]
        runs = Parallel(n_jobs=args.n_jobs)(
            delayed(run)(X[p[:n_train]], y[p[:n_train]], X[p[n_train:]], y[p[n_train:]],
                         args.seed + i, args.repeats) for i, p in enumerate(perms))
        single = [r["single"] for r in runs]
        for k in KS:
            fixed = [r["ours", "fixed", k] for r in runs]
            for p in PROCEDURES:
                ours = [r["ours", p, k] for r in runs]
                topk = [r["top-k", p, k] for r in runs]
                names = dict(Counter(r["name", p, k] for r in runs)) if p != "fixed" else ""
                lines.append(f"| {b} | {k} | {p} | {np.mean(ours):.4f} | "
                             f"{fmt(np.subtract(ours, fixed)) if p != 'fixed' else ''} | "
                             f"{fmt(np.subtract(ours, single))} | "
                             f"{fmt(np.subtract(ours, topk))} | {names} |")
    lines.append("")
    return lines


def part_shipped(args) -> list[str]:
    lines = ["#### The shipped splits", "",
             "Selection and the aggregator's choice on the shipped training split (seed 0, as "
             "`llmcopula select`), accuracy on the shipped test split. *Choices over seeds*: "
             f"what each rule chooses with inner-CV seeds 0–{args.seeds - 1} (the selected set "
             "is that of seed 0).", "",
             "| benchmark | k | procedure | aggregator | test accuracy | − single | − top-k | "
             "choices over seeds |", "|---|---|---|---|---|---|---|---|"]
    for b in BENCHMARKS:
        (Xtr, ytr), (Xte, yte) = split_data(b, "train"), split_data(b, "test")
        shipped = run(Xtr, ytr, Xte, yte, 0, args.repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sets = {k: list(select_models(Xtr, ytr, k=k, estimator="gaussian-copula",
                                          rng=0).selected) for k in KS}
        over = {k: Parallel(n_jobs=args.n_jobs)(
            delayed(choose_aggregator)(Xtr[:, sets[k]], ytr, n_repeats=args.repeats,
                                       classes=CLASSES, rng=s) for s in range(args.seeds))
            for k in KS}
        for k in KS:
            for p in PROCEDURES:
                acc = shipped["ours", p, k]
                seeds = "" if p == "fixed" else dict(Counter(c.under(p) for c in over[k]))
                lines.append(f"| {b} | {k} | {p} | {shipped['name', p, k]} | {acc:.4f} | "
                             f"{acc - shipped['single']:+.4f} | "
                             f"{acc - shipped['top-k', p, k]:+.4f} | {seeds} |")
        lines.append(f"| {b} | | single (train-chosen) | | {shipped['single']:.4f} | | | |")
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "nested", "random", "shipped"),
                        default="all")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--outer", type=int, default=2, help="repeats of the outer CV")
    parser.add_argument("--repeats", type=int, default=4, help="repeats of the inner CV")
    parser.add_argument("--splits", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.outer, args.splits, args.seeds, args.repeats = 1, 3, 2, 2
    t0 = time.perf_counter()
    out: list[str] = []
    if args.part in ("all", "shipped"):
        out += part_shipped(args)
    if args.part in ("all", "nested"):
        out += part_nested(args)
    if args.part in ("all", "random"):
        out += part_random(args)
    out.append(f"(total {time.perf_counter() - t0:.0f} s)")
    print("\n".join(out))


if __name__ == "__main__":
    main()

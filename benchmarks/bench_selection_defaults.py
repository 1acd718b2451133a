"""Evidence for the defaults of ``llmcopula select``, and checks of the Gaussian-copula estimator.

Parts (all on the bundled 9-model pools of MMLU and MedMCQA; run one with ``--part``):

``cv``
    The defaults are chosen here, on training data only: repeated 5-fold cross-validation
    *within the shipped training split* of each benchmark. Every MI estimator × aggregator is run
    at k = 3 and k = 5 (greedy MI on the training folds, accuracy on the held-out fold), next to
    top-k by training accuracy with the same aggregator and the best single model of the
    training folds. The default is the pair with the highest mean CV accuracy over both
    benchmarks and both k. The wrong-answer model of the copula estimator is chosen the same
    way, by held-out log-likelihood of the wrong answers.
``test``
    The chosen defaults on test data: the shipped split, and ``--splits`` random splits of the
    pooled queries with the shipped training size, with paired standard errors against the
    train-chosen best single model and against top-k with the same aggregator.
``estimators``
    Plug-in, Miller–Madow and Gaussian-copula MI at training sizes 30, 50, 100 and as shipped:
    test accuracy of the selected set (default aggregator), stability of the selected set over
    bootstrap resamples of the training set, and the bias of the MI estimate of a fixed set
    against a large-sample reference (Miller–Madow on all pooled queries).
``coverage``
    Over random splits: the model's predicted accuracy of the default ensemble (90% bootstrap
    prediction interval for the test accuracy, and interval of the error floor) against the
    realised test accuracy.

Run ``python benchmarks/bench_selection_defaults.py`` (all parts, ~15 minutes on 2 cores) or
``--quick`` for a smoke run. Output is Markdown.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import defaultdict

import numpy as np
from joblib import Parallel, delayed

from llmcopula.selection import SparsePatternWarning, select_models
from llmcopula.selection.copula_information import WRONG_ANSWER_MODELS, CopulaInformation
from llmcopula.selection.information import mutual_information
from llmcopula.selection.aggregator_choice import resolve_aggregator
from llmcopula.selection.prediction import predict_ensemble
from selection_common import BENCHMARKS, CLASSES, KS, aggregator, mean_se, pooled, split_data

ESTIMATORS = ("plugin", "miller-madow", "gaussian-copula")
AGGREGATORS = ("majority-vote", "weighted-vote", "map", "dawid-skene", "copula-bayes")


def evaluate(Xtr, ytr, Xte, yte, seed: int, ks=KS, estimators=ESTIMATORS,
             aggregators=AGGREGATORS) -> dict:
    """Test accuracy of every (selection, aggregator, k); selections: each estimator, top-k,
    and the best single model of the training data."""
    out: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        acc = (Xtr == ytr[:, None]).mean(axis=0)
        best = int(np.argmax(acc))
        out["single"] = float(np.mean(Xte[:, best] == yte))
        for k in ks:
            sets = {e: select_models(Xtr, ytr, method="greedy-mi", k=k, estimator=e, rng=seed,
                                     warn_sparse=False).selected for e in estimators}
            sets["top-k"] = select_models(Xtr, ytr, method="top-k", k=k).selected
            for name, S in sets.items():
                cols = list(S)
                out["set", name, k] = tuple(sorted(S))
                for a in aggregators:
                    agg = aggregator(a, seed).fit(Xtr[:, cols], ytr)
                    out[name, a, k] = float(agg.score(Xte[:, cols], yte))
    return out


# ---------------------------------------------------------------------------------------------
# cv


def cv_runs(benchmark: str, repeats: int, folds: int, seed: int, n_jobs: int) -> list[dict]:
    X, y = split_data(benchmark, "train")
    rng = np.random.default_rng(seed)
    jobs = []
    for r in range(repeats):
        perm = rng.permutation(y.size)
        for f in range(folds):
            te = perm[f::folds]
            tr = np.setdiff1d(perm, te)
            jobs.append((tr, te, seed + 100 * r + f))
    return Parallel(n_jobs=n_jobs)(delayed(evaluate)(X[tr], y[tr], X[te], y[te], s)
                                   for tr, te, s in jobs)


def _stability_run(X, y, k, e, seed):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        return tuple(sorted(select_models(X, y, k=k, estimator=e, rng=seed,
                                          warn_sparse=False).selected))


def train_stability(benchmark: str, n_boot: int, seed: int) -> dict:
    X, y = split_data(benchmark, "train")
    rng = np.random.default_rng(seed)
    idx = [rng.integers(0, y.size, y.size) for _ in range(n_boot)]
    out = {}
    for e in ESTIMATORS:
        for k in KS:
            sets = Parallel(n_jobs=2)(delayed(_stability_run)(X[i], y[i], k, e, seed + j)
                                      for j, i in enumerate(idx))
            out[e, k] = max(sets.count(s) for s in set(sets)) / n_boot
    return out


def wrong_answer_cv(benchmark: str, repeats: int, folds: int, seed: int) -> dict[str, list]:
    X, y = split_data(benchmark, "train")
    rng = np.random.default_rng(seed)
    out: dict[str, list] = defaultdict(list)
    for _ in range(repeats):
        perm = rng.permutation(y.size)
        for f in range(folds):
            te = perm[f::folds]
            tr = np.setdiff1d(perm, te)
            for w in WRONG_ANSWER_MODELS:
                model = CopulaInformation(wrong_answers=w, n_draws=1024, rng=0).fit(X[tr], y[tr])
                out[w].append(model.wrong_answer_log_likelihood(X[te], y[te]))
    return out


def part_cv(args) -> tuple[str, str, list[str]]:
    lines = ["### Choosing the defaults: cross-validation within the shipped training splits", "",
             f"Repeated {args.folds}-fold CV ({args.repeats} repeats) inside each benchmark's "
             "shipped training split (285 MMLU / 300 MedMCQA queries); the test splits are not "
             "used. Cells: mean held-out accuracy (SE over folds). `single`: the best model of "
             "the training folds.", ""]
    runs = {b: cv_runs(b, args.repeats, args.folds, args.seed, args.n_jobs) for b in BENCHMARKS}
    score: dict[tuple[str, str], list[float]] = defaultdict(list)
    header = "| selection | aggregator | " + " | ".join(
        f"{b} k={k}" for b in BENCHMARKS for k in KS) + " | mean |"
    lines += [header, "|" + "---|" * (3 + len(BENCHMARKS) * len(KS))]
    for sel in (*ESTIMATORS, "top-k"):
        for a in AGGREGATORS:
            cells, means = [], []
            for b in BENCHMARKS:
                for k in KS:
                    m, se = mean_se([r[sel, a, k] for r in runs[b]])
                    cells.append(f"{m:.3f} ({se:.3f})")
                    means.append(m)
            score[sel, a] = means
            lines.append(f"| {sel} | {a} | " + " | ".join(cells) + f" | {np.mean(means):.4f} |")
    single = [mean_se([r["single"] for r in runs[b]]) for b in BENCHMARKS]
    lines.append("| single | — | " + " | ".join(f"{m:.3f} ({se:.3f})" for m, se in single
                                                for _ in KS) + " | |")
    pairs = [(e, a) for e in ESTIMATORS for a in AGGREGATORS]

    def per_fold(pair):
        return np.concatenate([[r[pair[0], pair[1], k] for r in runs[b]]
                               for b in BENCHMARKS for k in KS])

    best = max(pairs, key=lambda ea: np.mean(score[ea]))
    agg = best[1]
    lines += ["", f"Highest mean CV accuracy: estimator {best[0]}, aggregator **{agg}** "
              f"({np.mean(score[best]):.4f}). Paired differences to it over the "
              f"{per_fold(best).size} (fold, benchmark, k) cells, ± SE:", "",
              "| estimator | aggregator | difference to the best |", "|---|---|---|"]
    for pair in sorted(pairs, key=lambda ea: -np.mean(score[ea]))[1:8]:
        d = mean_se(per_fold(pair) - per_fold(best))
        lines.append(f"| {pair[0]} | {pair[1]} | {d[0]:+.4f} ± {d[1]:.4f} |")
    # The estimator: by CV accuracy under the chosen aggregator unless tied (within 2 paired
    # SE), then by the stability of the selected set over bootstrap resamples of the training
    # split (training data only).
    tied = [e for e in ESTIMATORS
            if np.mean(per_fold((e, agg)) - per_fold(best)) > -2 * mean_se(
                per_fold((e, agg)) - per_fold(best))[1] or e == best[0]]
    stability = {b: train_stability(b, args.stability_boot, args.seed) for b in BENCHMARKS}
    lines += ["", f"Estimators tied with the best under {agg} (within 2 paired SE): {tied}. "
              "Tie-break: stability of the selected set over "
              f"{args.stability_boot} bootstrap resamples of the shipped training split (share "
              "of resamples giving the most frequent set):", "",
              "| estimator | " + " | ".join(f"{b} k={k}" for b in BENCHMARKS for k in KS)
              + " | mean |", "|" + "---|" * (2 + len(BENCHMARKS) * len(KS))]
    stab_mean = {}
    for e in ESTIMATORS:
        vals = [stability[b][e, k] for b in BENCHMARKS for k in KS]
        stab_mean[e] = float(np.mean(vals))
        lines.append(f"| {e} | " + " | ".join(f"{v:.2f}" for v in vals)
                     + f" | {stab_mean[e]:.3f} |")
    estimator = max(tied, key=lambda e: (stab_mean[e], np.mean(score[e, agg])))
    best = (estimator, agg)
    lines += ["", f"**Default: estimator {estimator}, aggregator {agg}.**", ""]
    # wrong-answer model
    lines += ["Wrong-answer model of the copula estimator, held-out mean log-likelihood per query "
              "of the wrong answers given which models erred (same folds; higher is better):", "",
              "| benchmark | " + " | ".join(WRONG_ANSWER_MODELS) + " |",
              "|" + "---|" * (1 + len(WRONG_ANSWER_MODELS))]
    for b in BENCHMARKS:
        ll = wrong_answer_cv(b, args.repeats, args.folds, args.seed)
        lines.append(f"| {b} | " + " | ".join("{:.3f} ({:.3f})".format(*mean_se(ll[w]))
                                              for w in WRONG_ANSWER_MODELS) + " |")
    lines.append("")
    return best[0], best[1], lines


# ---------------------------------------------------------------------------------------------
# test


def random_splits(benchmark: str, splits: int, seed: int, n_train: int | None = None):
    X, y, shipped = pooled(benchmark)
    n_train = shipped if n_train is None else n_train
    rng = np.random.default_rng(seed)
    for _ in range(splits):
        perm = rng.permutation(y.size)
        yield perm[:n_train], perm[n_train:]


def part_test(args, estimator: str, agg: str) -> list[str]:
    lines = [f"### The defaults on test data (estimator {estimator}, aggregator {agg})", "",
             "Shipped split: selection and aggregator on the shipped training split, accuracy on "
             f"the shipped test split. Random: {args.splits} random splits of the pooled queries "
             "with the shipped training size (285 / 300), mean test accuracy and the paired "
             "difference (± SE over splits).", "",
             "| benchmark | k | split | default | best single (train-chosen) | top-k (same "
             "aggregator) | default − single | default − top-k |", "|---|---|---|---|---|---|---|---|"]
    for b in BENCHMARKS:
        (Xtr, ytr), (Xte, yte) = split_data(b, "train"), split_data(b, "test")
        shipped = evaluate(Xtr, ytr, Xte, yte, args.seed, estimators=(estimator,),
                           aggregators=(agg,))
        X, y, _ = pooled(b)
        runs = Parallel(n_jobs=args.n_jobs)(
            delayed(evaluate)(X[tr], y[tr], X[te], y[te], args.seed + i, estimators=(estimator,),
                              aggregators=(agg,))
            for i, (tr, te) in enumerate(random_splits(b, args.splits, args.seed)))
        for k in KS:
            d, s, t = shipped[estimator, agg, k], shipped["single"], shipped["top-k", agg, k]
            lines.append(f"| {b} | {k} | shipped | {d:.3f} | {s:.3f} | {t:.3f} | {d - s:+.3f} | "
                         f"{d - t:+.3f} |")
            dd = [r[estimator, agg, k] for r in runs]
            ss = [r["single"] for r in runs]
            tt = [r["top-k", agg, k] for r in runs]
            ds = mean_se(np.subtract(dd, ss))
            dt = mean_se(np.subtract(dd, tt))
            lines.append(f"| {b} | {k} | random ×{args.splits} | {np.mean(dd):.3f} | "
                         f"{np.mean(ss):.3f} | {np.mean(tt):.3f} | {ds[0]:+.3f} ± {ds[1]:.3f} | "
                         f"{dt[0]:+.3f} ± {dt[1]:.3f} |")
        sets = {k: shipped["set", estimator, k] for k in KS}
        lines.append(f"| {b} | | shipped sets | {sets} | | | | |")
    lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# estimators


def _estimator_run(X, y, tr, te, k, agg, seed, n_boot, ref_set, reference):
    out: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        rng = np.random.default_rng(seed)
        for e in ESTIMATORS:
            S = select_models(X[tr], y[tr], k=k, estimator=e, rng=seed, warn_sparse=False).selected
            cols = list(S)
            out["acc", e] = aggregator(agg, seed).fit(X[tr][:, cols], y[tr]).score(
                X[te][:, cols], y[te])
            boots = []
            for _ in range(n_boot):
                idx = tr[rng.integers(0, tr.size, tr.size)]
                boots.append(tuple(sorted(select_models(X[idx], y[idx], k=k, estimator=e,
                                                        rng=seed, warn_sparse=False).selected)))
            modal = max(set(boots), key=boots.count)
            out["stab", e] = boots.count(modal) / n_boot
            out["same", e] = float(tuple(sorted(S)) == modal)
            if e == "gaussian-copula":
                est = CopulaInformation(rng=seed).fit(X[tr], y[tr]).mutual_information(ref_set)
            else:
                est = mutual_information(X[tr][:, ref_set], y[tr], estimator=e, warn_sparse=False)
            out["bias", e] = est - reference
    return out


def part_estimators(args, agg: str) -> list[str]:
    k = 3
    lines = ["### Plug-in, Miller–Madow and Gaussian-copula MI at small training sizes", "",
             f"k = {k}, aggregator {agg}. For each training size n, {args.subsamples} random "
             "training sets of n pooled queries (test: the remaining queries). *Test accuracy*: "
             "of the set each estimator selects. *Stability*: share of "
             f"{args.boot} bootstrap resamples of the training set on which the estimator "
             "selects its most frequent set (1 = always the same set). *MI bias*: estimate of "
             "I(Y; X_S) for a fixed set (the 3 most accurate models on all pooled queries) minus "
             "the reference, the Miller–Madow estimate on all pooled queries (1816 MMLU, 1300 "
             "MedMCQA queries), in bits. Mean (SE over training sets).", "",
             "| benchmark | n | estimator | test accuracy | stability | MI bias (bits) |",
             "|---|---|---|---|---|---|"]
    for b in BENCHMARKS:
        X, y, shipped = pooled(b)
        acc_all = (X == y[:, None]).mean(axis=0)
        ref_set = sorted(np.argsort(-acc_all, kind="stable")[:3].tolist())
        reference = mutual_information(X[:, ref_set], y, estimator="miller-madow",
                                       warn_sparse=False)
        for n in (*args.sizes, shipped):
            splits = list(random_splits(b, args.subsamples, args.seed + n, n_train=n))
            runs = Parallel(n_jobs=args.n_jobs)(
                delayed(_estimator_run)(X, y, tr, te, k, agg, args.seed + i, args.boot, ref_set,
                                        reference) for i, (tr, te) in enumerate(splits))
            for e in ESTIMATORS:
                a = mean_se([r["acc", e] for r in runs])
                s = mean_se([r["stab", e] for r in runs])
                bi = mean_se([r["bias", e] for r in runs])
                label = f"{n}" + (" (shipped size)" if n == shipped else "")
                lines.append(f"| {b} | {label} | {e} | {a[0]:.3f} ({a[1]:.3f}) | {s[0]:.2f} "
                             f"({s[1]:.2f}) | {bi[0]:+.3f} ({bi[1]:.3f}) |")
        lines.append(f"| {b} | reference | set {[str(i) for i in ref_set]} | | | "
                     f"I = {reference:.3f} bits |")
    lines.append("")
    return lines


# ---------------------------------------------------------------------------------------------
# coverage


def _coverage_run(X, y, tr, te, k, estimator, agg, seed, n_boot):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SparsePatternWarning)
        S = list(select_models(X[tr], y[tr], k=k, estimator=estimator, rng=seed,
                               warn_sparse=False).selected)
        if agg == "auto":  # chosen by cross-validation on the training answers, as select does
            fitted, _ = resolve_aggregator(agg, X[tr][:, S], y[tr], classes=CLASSES, rng=seed)
        else:
            fitted = aggregator(agg, seed).fit(X[tr][:, S], y[tr])
        pred = predict_ensemble(X[tr][:, S], y[tr], fitted, n_test=te.size, n_boot=n_boot,
                                level=0.9, rng=seed)
        realised = fitted.score(X[te][:, S], y[te])
    return pred, realised


def part_coverage(args, estimator: str, agg: str) -> list[str]:
    lines = [f"### Calibration of the model's predictions over random splits ({estimator}, {agg})",
             "", f"{args.splits} random splits of the pooled queries with the shipped training "
             "size. For the default ensemble at k, the fitted model predicts the aggregator's "
             "accuracy with a 90% bootstrap prediction interval for the test accuracy "
             f"({args.boot_pred} replicates; binomial noise of the test size included). "
             "*Coverage*: share of splits whose realised test accuracy lies in the interval "
             "(nominal 0.90). *Floor*: the model's Bayes accuracy 1 − P_e(S) (mean).", "",
             "| benchmark | k | predicted (mean) | realised (mean) | mean error (± SE) | "
             "coverage | floor 1 − P_e |", "|---|---|---|---|---|---|---|"]
    for b in BENCHMARKS:
        X, y, _ = pooled(b)
        for k in KS:
            runs = Parallel(n_jobs=args.n_jobs)(
                delayed(_coverage_run)(X, y, tr, te, k, estimator, agg, args.seed + i,
                                       args.boot_pred)
                for i, (tr, te) in enumerate(random_splits(b, args.splits, args.seed)))
            pred = np.array([r[0].accuracy for r in runs])
            real = np.array([r[1] for r in runs])
            inside = [r[0].test_interval[0] <= r[1] <= r[0].test_interval[1] for r in runs]
            err = mean_se(pred - real)
            floor = np.mean([1 - r[0].bayes_error for r in runs])
            lines.append(f"| {b} | {k} | {pred.mean():.3f} | {real.mean():.3f} | "
                         f"{err[0]:+.3f} ± {err[1]:.3f} | {np.mean(inside):.2f} | {floor:.3f} |")
    lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "cv", "test", "estimators", "coverage"),
                        default="all")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--splits", type=int, default=30)
    parser.add_argument("--subsamples", type=int, default=20)
    parser.add_argument("--sizes", type=lambda s: tuple(int(v) for v in s.split(",")),
                        default=(30, 50, 100))
    parser.add_argument("--boot", type=int, default=20)
    parser.add_argument("--boot-pred", type=int, default=100)
    parser.add_argument("--stability-boot", type=int, default=50)
    parser.add_argument("--estimator", default=None, help="skip cv: use this default")
    parser.add_argument("--aggregator", default=None, help="skip cv: use this default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.splits, args.subsamples, args.boot, args.boot_pred = 1, 3, 2, 3, 20
        args.stability_boot = 4
    t0 = time.perf_counter()
    out: list[str] = []
    estimator, agg = args.estimator, args.aggregator
    if args.part in ("all", "cv") or estimator is None or agg is None:
        estimator, agg, lines = part_cv(args)
        out += lines
    if args.part in ("all", "test"):
        out += part_test(args, estimator, agg)
    if args.part in ("all", "estimators"):
        out += part_estimators(args, agg)
    if args.part in ("all", "coverage"):
        out += part_coverage(args, estimator, agg)
    out.append(f"(total {time.perf_counter() - t0:.0f} s)")
    print("\n".join(out))


if __name__ == "__main__":
    main()

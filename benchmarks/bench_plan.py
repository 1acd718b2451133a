"""Cascade, ensemble or single model for a budget (``llmcopula plan``) on the bundled pools.

Parts:

``shipped``
    ``plan_budget`` on the shipped split of MMLU and MedMCQA with the command line's defaults
    (the 37 cascades inside the two shipped chains, Markov-copula model with 30 λ, ensembles of
    up to 5 models with the default selection and aggregator, 50 bootstrap replicates) over a
    grid of budgets: each family's choice, its prediction and its test accuracy and cost.
Cascade predictions are cross-fitted (5 folds, the default of ``plan_budget``).

``random``
    ``--splits`` random splits of the pooled train + test queries with the shipped training
    size, a lighter plan (cascades of the Pareto-front models, 10 λ, ensembles of up to 3, 20
    replicates): per budget and family the mean prediction error (predicted − test) and the
    test accuracy, and the paired differences of test accuracy between the families' choices.
    Random splits remove the train/test shift of the shipped splits, so they separate the
    models' own errors from the shift.

Run ``python benchmarks/bench_plan.py`` (about 25 minutes on 2 loaded cores) or ``--quick``.
Output is Markdown.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from llmcopula.datasets import load_pool
from llmcopula.planning import FAMILIES, plan_budget

BENCHMARKS = ("mmlu", "medmcqa")
BUDGETS = (25, 50, 100, 150, 200, 300, 400, 600, 800, 1200, 1600)


def _cell(pred: float, low: float, high: float, test: float) -> str:
    if np.isnan(pred):
        return "—"
    interval = "" if np.isnan(low) else f" [{low:.3f}, {high:.3f}]"
    return f"{pred:.3f}{interval} / {test:.3f}"


def part_shipped(args) -> list[str]:
    lines = ["#### Shipped splits, command-line defaults", "",
             "Cells: predicted / test accuracy of each family's choice (ensembles: with the 90% "
             "prediction interval for the test accuracy); costs in USD per million queries "
             "(predicted → test). *Best*: the family of highest predicted accuracy, and the one "
             "of highest test accuracy.", ""]
    for b in BENCHMARKS:
        t0 = time.perf_counter()
        plan = plan_budget(load_pool(b, "train"), load_pool(b, "test"), budgets=args.budgets,
                           n_jobs=args.n_jobs, rng=args.seed,
                           **({"n_lambdas": 8, "n_boot": 5, "cascades": "pareto",
                               "max_ensemble": 3} if args.quick else {}))
        frame = plan.to_frame()
        seconds = time.perf_counter() - t0
        lines += [f"**{b}** ({plan.info['n_cascades']} cascades, "
                  f"{len(plan.candidates['ensemble'])} candidate ensembles; {seconds:.0f} s)",
                  "", "| budget | single | cascade | cascade cost | ensemble | ensemble cost | "
                  "best predicted | best on test |", "|---|---|---|---|---|---|---|---|"]
        recommended = plan.recommend()
        for i, budget in enumerate(plan.budgets):
            rows = frame[frame.budget == budget].set_index("family")
            cells = [_cell(*rows.loc[f, ["predicted_accuracy", "predicted_low", "predicted_high",
                                         "test_accuracy"]]) for f in FAMILIES]
            costs = {f: "—" if np.isnan(rows.loc[f, "predicted_cost"]) else
                     f"{rows.loc[f, 'predicted_cost']:.0f} → {rows.loc[f, 'test_cost']:.0f}"
                     for f in FAMILIES}
            best_test = rows["test_accuracy"].idxmax()
            lines.append(f"| {budget:g} | {cells[0]} | {cells[1]} | {costs['cascade']} | "
                         f"{cells[2]} | {costs['ensemble']} | {recommended[i]} | "
                         f"{best_test} ({rows.loc[best_test, 'test_accuracy']:.3f}) |")
        lines.append("")
        lines.append("Choices: " + "; ".join(
            f"{budget:g}: " + ", ".join(f"{f} {frame[(frame.budget == budget) & (frame.family == f)].choice.iloc[0]}"
                                       for f in ("cascade", "ensemble"))
            for budget in plan.budgets[[0, len(plan.budgets) // 2, -1]]))
        lines.append("")
    return lines


def _random_run(benchmark: str, perm: np.ndarray, n_train: int, budgets, seed: int) -> dict:
    train, test = (load_pool(benchmark, s) for s in ("train", "test"))
    from llmcopula.datasets import ChainLog

    def concat(a: ChainLog, b: ChainLog) -> ChainLog:
        return ChainLog(a.models, np.vstack([a.confidence, b.confidence]),
                        np.vstack([a.correct, b.correct]), np.vstack([a.cost, b.cost]),
                        np.vstack([a.answer, b.answer]),
                        np.concatenate([a.query_ids, b.query_ids]),
                        np.concatenate([a.reference, b.reference]), benchmark=benchmark,
                        signal=a.signal)

    pool = concat(train, test)
    tr, te = pool.take(perm[:n_train]), pool.take(perm[n_train:])
    plan = plan_budget(tr, te, budgets=budgets, cascades="pareto", n_lambdas=10,
                       max_ensemble=3, n_boot=20, rng=seed)
    frame = plan.to_frame()
    out = {(row.budget, row.family): (row.predicted_accuracy, row.test_accuracy)
           for row in frame.itertuples()}
    out.update({(row.budget, "cost", row.family): (row.predicted_cost, row.test_cost)
                for row in frame.itertuples()})
    return out


def part_random(args) -> list[str]:
    from joblib import Parallel, delayed

    budgets = [b for b in args.budgets if b in (50, 100, 200, 400, 800, 1600)] or args.budgets
    lines = ["#### Random splits of the pooled queries", "",
             f"{args.splits} random splits with the shipped training size; cascades of the "
             "Pareto-front models (10 λ), ensembles of up to 3 models (20 replicates). Cells: "
             "mean test accuracy of each family's choice (mean predicted − test ± SE over "
             "splits); then the paired test-accuracy differences between families (± SE; "
             "splits where a family has nothing within the budget are left out).", ""]
    for b in BENCHMARKS:
        n_train = load_pool(b, "train").n_queries
        n_all = n_train + load_pool(b, "test").n_queries
        rng = np.random.default_rng(args.seed)
        perms = [rng.permutation(n_all) for _ in range(args.splits)]
        runs = Parallel(n_jobs=args.n_jobs)(
            delayed(_random_run)(b, p, n_train, budgets, args.seed + i)
            for i, p in enumerate(perms))
        lines += [f"**{b}**", "", "| budget | single | cascade | ensemble | cascade − single | "
                  "ensemble − single | cascade − ensemble | cascade cost predicted → test |",
                  "|---|---|---|---|---|---|---|---|"]
        for budget in budgets:
            cells = []
            for f in FAMILIES:
                pairs = np.array([r[float(budget), f] for r in runs], dtype=float)
                ok = ~np.isnan(pairs[:, 0])
                if not ok.any():
                    cells.append("—")
                    continue
                err = pairs[ok, 0] - pairs[ok, 1]
                se = err.std(ddof=1) / np.sqrt(ok.sum()) if ok.sum() > 1 else 0.0
                cells.append(f"{pairs[ok, 1].mean():.3f} ({err.mean():+.3f} ± {se:.3f})")
            diffs = []
            for f, g in (("cascade", "single"), ("ensemble", "single"), ("cascade", "ensemble")):
                d = np.array([r[float(budget), f][1] - r[float(budget), g][1] for r in runs])
                d = d[~np.isnan(d)]
                diffs.append("—" if d.size == 0 else
                             f"{d.mean():+.3f} ± {d.std(ddof=1) / np.sqrt(d.size):.3f}"
                             if d.size > 1 else f"{d.mean():+.3f}")
            pc = np.array([r[float(budget), "cost", "cascade"] for r in runs], dtype=float)
            pc = pc[~np.isnan(pc[:, 0])]
            diffs.append("—" if pc.size == 0 else
                         f"{pc[:, 0].mean():.0f} → {pc[:, 1].mean():.0f} ("
                         f"{np.mean(pc[:, 1] > float(budget)):.0%} over)")
            lines.append(f"| {budget:g} | " + " | ".join(cells + diffs) + " |")
        lines.append("")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("all", "shipped", "random"), default="all")
    parser.add_argument("--budgets", type=lambda s: [float(v) for v in s.split(",")],
                        default=list(BUDGETS))
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.budgets, args.splits = [50.0, 200.0, 800.0], 2
    t0 = time.perf_counter()
    out: list[str] = []
    if args.part in ("all", "shipped"):
        out += part_shipped(args)
    if args.part in ("all", "random"):
        out += part_random(args)
    out.append(f"(total {time.perf_counter() - t0:.0f} s)")
    print("\n".join(out))


if __name__ == "__main__":
    main()

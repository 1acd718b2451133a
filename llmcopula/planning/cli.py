"""``llmcopula plan``: single model, cascade or ensemble for a cost budget.

For each budget, prints the best single model, the best cascade frontier point and the best
selected ensemble of the pool, each chosen by its prediction from the training log, with that
prediction and, when there is a labelled test log, the realised test accuracy and cost. Data:
a bundled benchmark (both chains pooled, 9 models) or user logs in long format with confidences,
answers, reference answers and costs (:func:`llmcopula.datasets.read_log`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from .._cli_columns import add_column_arguments

__all__ = ["add_parser", "run"]


def _budgets(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated costs, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one budget")
    return values


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``plan`` on an ``argparse`` subparsers object and return its parser."""
    from llmcopula.cascade.methods import get_method, method_names
    from llmcopula.selection import AGGREGATORS, SELECTION_METHODS
    from llmcopula.selection.aggregator_choice import AUTO
    from llmcopula.selection.methods import DEFAULT_AGGREGATOR, DEFAULT_ESTIMATOR

    p = subparsers.add_parser(
        "plan", allow_abbrev=False, help="single model, cascade or ensemble for a cost budget",
        description="Compare, under the same cost budget, the best single model, the best "
                    "cascade frontier point and the best selected ensemble of a pool of models, "
                    "each chosen by its prediction from training data, and report the predicted "
                    "and test accuracy of each. Costs are in USD per million queries.")
    src = p.add_argument_group("data")
    src.add_argument("--benchmark", default=None,
                     help="bundled benchmark with a labelled test split, both chains pooled "
                          "(9 models): mmlu or medmcqa (default mmlu)")
    src.add_argument("--cost", default="answer", choices=("answer", "total"),
                     help="bundled data: answer-call cost (cost_answer_usd, default) or the "
                          "recorded total (cost_usd)")
    src.add_argument("--train", default=None, help="user training log (CSV, CSV.gz or Parquet)")
    src.add_argument("--test", default=None, help="user test log in the same format")
    cols = add_column_arguments(p, ("query", "model", "confidence", "correct", "cost", "answer",
                                    "label"))
    cols.add_argument("--signal", default=None, choices=("logprob", "p_true"),
                      help="how the raw confidence was produced (picks the calibration)")
    plan = p.add_argument_group("plan")
    plan.add_argument("--budget", required=True, type=_budgets,
                      help="cost budget(s) per query in USD per million queries, "
                           "comma-separated")
    plan.add_argument("--cascades", default="chains", choices=("chains", "pareto", "all"),
                      help="candidate cascades of the pool ordered by cost: chains (inside each "
                           "shipped chain: 37 cascades, default), pareto (of the models on the "
                           "training accuracy-cost front), all (502 for 9 models: slow)")
    plan.add_argument("--cascade-method", default="markov-copula",
                      choices=[m for m in method_names() if not get_method(m).needs_test],
                      help="registered tuning method for the cascades (see llmcopula tune)")
    plan.add_argument("--n-lambdas", type=int, default=30,
                      help="frontier points per cascade")
    plan.add_argument("--cascade-prediction", default="cross-fit",
                      choices=("cross-fit", "in-sample"),
                      help="cascades' predicted accuracy and cost: cross-fit (default: "
                           "thresholds tuned on K-1 folds of the training queries, the held-out "
                           "fold routed with them, averaged) or in-sample (the model's values at "
                           "the thresholds tuned on all training queries; optimistic)")
    plan.add_argument("--n-folds", type=int, default=5, help="folds of the cross-fitting")
    plan.add_argument("--selection-method", default="greedy-mi", choices=SELECTION_METHODS)
    plan.add_argument("--estimator", default=DEFAULT_ESTIMATOR,
                      choices=("gaussian-copula", "plugin", "miller-madow"),
                      help=f"MI estimator of the selection (default {DEFAULT_ESTIMATOR}, as "
                           "llmcopula select)")
    plan.add_argument("--aggregator", default=DEFAULT_AGGREGATOR,
                      choices=(AUTO, *AGGREGATORS),
                      help=f"ensemble aggregator (default {DEFAULT_AGGREGATOR}, as llmcopula "
                           "select)")
    plan.add_argument("--max-ensemble", type=int, default=5, help="largest ensemble considered")
    plan.add_argument("--n-boot", type=int, default=50,
                      help="bootstrap replicates of each ensemble's prediction")
    plan.add_argument("--n-jobs", type=int, default=1)
    plan.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="write the plan as JSON to this file")
    p.set_defaults(func=run)
    return p


def _load(args: argparse.Namespace) -> tuple[Any, Any, str]:
    from llmcopula._cli_errors import for_file
    from llmcopula.datasets import list_benchmarks, load_pool, read_log, read_table

    if args.train is not None:
        if args.benchmark is not None:
            raise ValueError("--benchmark and --train are exclusive: use bundled data or files")
        if args.signal is None:
            raise ValueError("--signal: needed with user logs (how the raw confidence was "
                             "produced: logprob or p_true), to calibrate the cascades")
        import pandas as pd

        logs = []
        for flag, path in (("--train", args.train), ("--test", args.test)):
            if path is None:
                logs.append(None)
                continue
            try:  # every way a file can be unreadable is named by read_table
                frame = read_table(path, (args.model_col, args.answer_col, args.label_col))
            except ValueError as exc:
                raise for_file(flag, path, exc) from None
            if args.model_col not in frame.columns:
                raise ValueError(f"{flag} {path}: missing column {args.model_col!r}")
            models = logs[0].models if logs else [str(m) for m in pd.unique(frame[args.model_col])]
            try:
                logs.append(read_log(
                    frame, query_col=args.query_col, model_col=args.model_col,
                    confidence_col=args.confidence_col, correct_col=args.correct_col,
                    cost_col=args.cost_col, answer_col=args.answer_col,
                    reference_col=args.label_col, models=models, signal=args.signal))
            except ValueError as exc:
                raise for_file(flag, path, exc) from None
        return logs[0], logs[1], f"user log {args.train}"
    if args.test is not None:
        raise ValueError("--test needs --train")
    benchmark = args.benchmark or "mmlu"
    table = list_benchmarks()
    rows = table[table["benchmark"] == benchmark]
    if rows.empty:
        raise ValueError(f"--benchmark: unknown {benchmark!r}; shipped: "
                         f"{sorted(set(table['benchmark']))}")
    if not rows["has_labels"].any() or not (rows["split"] == "test").any():
        raise ValueError(f"--benchmark: {benchmark!r} has no labelled test split; use mmlu or "
                         "medmcqa")
    train = load_pool(benchmark, "train", cost=args.cost)
    test = load_pool(benchmark, "test", cost=args.cost)
    return train, test, f"bundled {benchmark}, both chains pooled"


def _fmt(value: float, digits: int = 4) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else \
        f"{value:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    from llmcopula.planning import plan_budget

    if args.n_boot < 1:
        raise ValueError(f"--n-boot: must be >= 1, got {args.n_boot}")
    if args.max_ensemble < 2:
        raise ValueError(f"--max-ensemble: must be >= 2, got {args.max_ensemble}")
    if any(b <= 0 or not math.isfinite(b) for b in args.budget):
        raise ValueError(f"--budget: budgets must be positive and finite, got {args.budget}")
    if args.n_lambdas < 2:  # checked before any reading
        raise ValueError(f"--n-lambdas: must be >= 2, got {args.n_lambdas}")
    if args.n_jobs == 0:
        raise ValueError("--n-jobs: expected a non-zero integer (-1: all cores), got 0")
    train, test, where = _load(args)
    plan = plan_budget(train, test, budgets=args.budget, cascades=args.cascades,
                       cascade_method=args.cascade_method, n_lambdas=args.n_lambdas,
                       cascade_prediction=args.cascade_prediction, n_folds=args.n_folds,
                       selection_method=args.selection_method, estimator=args.estimator,
                       aggregator=args.aggregator, max_ensemble=args.max_ensemble,
                       n_boot=args.n_boot, n_jobs=args.n_jobs, rng=args.seed)
    info = plan.info
    frame = plan.to_frame()
    recommended = plan.recommend()
    print(f"llmcopula plan: {where}, {info['n_train']} training queries"
          + (f", {info['n_test']} test queries" if test is not None else ", no test log"))
    print("pool in cost order: " + ", ".join(plan.models))
    print(f"cascades: {info['n_cascades']} candidates ({args.cascades}), tuned by "
          f"{info['cascade_method']}; ensembles: {info['selection_method']} "
          f"({info['estimator']}) up to {args.max_ensemble} models, aggregator "
          f"{info['aggregator']}")
    level_head = f"{info.get('level', 0.9):.0%} interval"
    for b, budget in enumerate(plan.budgets):
        rows = frame[frame["budget"] == budget]
        print(f"\nbudget {budget:g} USD per million queries")
        print(f"  {'family':<9} {'predicted':>9} {level_head:>15} "
              f"{'pred cost':>9} {'test acc':>8} {'test cost':>9}  choice")
        for _, row in rows.iterrows():
            interval = ("" if math.isnan(row["predicted_low"]) else
                        f"{row['predicted_low']:.3f}–{row['predicted_high']:.3f}")
            print(f"  {row['family']:<9} {_fmt(row['predicted_accuracy']):>9} {interval:>15} "
                  f"{_fmt(row['predicted_cost'], 1):>9} {_fmt(row['test_accuracy']):>8} "
                  f"{_fmt(row['test_cost'], 1):>9}  {row['choice'] or 'nothing fits'}")
        if recommended[b] is not None:
            line = f"  predicted best: {recommended[b]}"
            if test is not None:
                best = rows.loc[rows["test_accuracy"].idxmax()]
                line += f"; best on test: {best['family']} ({best['test_accuracy']:.4f})"
            print(line)
    print("\npredicted: single = training accuracy; cascade = the cascade model's accuracy and "
          "expected cost at the tuned thresholds; ensemble = the correlated-error model's "
          "accuracy of the aggregator, less its bootstrap optimism, with a prediction interval "
          f"for the test accuracy ({args.n_boot} replicates). Choices use predictions only. "
          "Costs: USD per million queries; an ensemble costs the sum of its members.")
    if args.output:
        records = json.loads(frame.to_json(orient="records"))
        doc = {"budgets": plan.budgets.tolist(), "models": list(plan.models),
               "info": info, "recommended": list(recommended), "rows": records}
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0

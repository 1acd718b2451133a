"""``llmcopula tune``: tune a cascade's thresholds with one method of the registry
(:mod:`llmcopula.cascade.methods`) and trace its error–cost frontier."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

__all__ = ["add_parser", "run"]


def _methods() -> tuple[str, ...]:
    from .methods import method_names

    return method_names()


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated model indices, got {text!r}") from None


def add_log_arguments(parser: argparse.ArgumentParser) -> None:
    """Options selecting bundled data or user files (shared with other subcommands)."""
    src = parser.add_argument_group("data")
    src.add_argument("--benchmark", default=None,
                     help="bundled benchmark: mmlu, medmcqa, gsm8k or triviaqa (default mmlu)")
    src.add_argument("--chain", default="llama", help="bundled chain: llama or qwen_oai")
    src.add_argument("--train", default=None, help="user training log (CSV, CSV.gz or Parquet)")
    src.add_argument("--test", default=None, help="user test log in the same format")
    src.add_argument("--models", default=None,
                     help="comma-separated model names in chain order (else from --position-col)")
    src.add_argument("--signal", default=None, choices=("logprob", "p_true"),
                     help="how the user's raw confidence was produced (picks the transform)")
    cols = parser.add_argument_group("columns of user logs")
    cols.add_argument("--query-col", default="query_id")
    cols.add_argument("--model-col", default="model")
    cols.add_argument("--confidence-col", default="raw_confidence")
    cols.add_argument("--correct-col", default="correct")
    cols.add_argument("--cost-col", default="cost_answer_usd")
    cols.add_argument("--position-col", default="position")


def load_logs(args: argparse.Namespace):
    """(train, test or None, description) from the parsed data options."""
    from ..datasets import list_benchmarks, load_benchmark, read_log

    if args.train is not None:
        if args.benchmark is not None:
            raise ValueError("--benchmark and --train are exclusive: use bundled data or files")
        kwargs: dict[str, Any] = dict(
            query_col=args.query_col, model_col=args.model_col,
            confidence_col=args.confidence_col, correct_col=args.correct_col,
            cost_col=args.cost_col, position_col=args.position_col, signal=args.signal,
            models=args.models.split(",") if args.models else None,
        )
        train = read_log(args.train, split="train", **kwargs)
        test = read_log(args.test, split="test", **kwargs) if args.test else None
        return train, test, f"user log {args.train}"
    if args.test is not None:
        raise ValueError("--test needs --train")
    benchmark = args.benchmark or "mmlu"
    train = load_benchmark(benchmark, args.chain, split="train")
    table = list_benchmarks()
    has_test = bool(((table["benchmark"] == benchmark) & (table["chain"] == args.chain)
                     & (table["split"] == "test")).any())
    test = load_benchmark(benchmark, args.chain, split="test") if has_test else None
    return train, test, f"bundled {benchmark} / {args.chain}"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from .methods import get_method

    p = subparsers.add_parser(
        "tune", help="tune cascade thresholds along the error-cost frontier",
        description="Tune a cascade's thresholds on training data (by default with the "
                    "Markov-copula model of the chain's calibrated confidences) and trace its "
                    "error-cost frontier; score it on test data when there is some. Costs are "
                    "in USD per million queries.")
    add_log_arguments(p)
    opt = p.add_argument_group("tuning")
    opt.add_argument("--cascade", type=_ints, default=None,
                     help="comma-separated chain indices, e.g. 0,2,4 (default: whole chain)")
    grp = opt.add_mutually_exclusive_group()
    grp.add_argument("--lambda", dest="lambdas", type=_floats, default=None,
                     help="cost sensitivity (error per USD per million queries); comma-separated "
                          "for several points (default: an automatic grid)")
    grp.add_argument("--budget", dest="budgets", type=_floats, default=None,
                     help="cost budget(s) in USD per million queries: maximise accuracy subject "
                          "to expected cost <= budget")
    opt.add_argument("--method", default="markov-copula", choices=_methods(),
                     help="; ".join(f"{name}: {get_method(name).summary}"
                                    for name in _methods()))
    opt.add_argument("--family", default="gumbel",
                     help="pair-copula family: gumbel (paper), auto (AIC), gaussian, ...")
    opt.add_argument("--approximation", default="exact", choices=("exact", "event-markov"))
    opt.add_argument("--n-lambdas", type=int, default=30)
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--output", default=None, help="write the frontier as JSON to this file")
    p.set_defaults(func=run)
    return p


def _fmt(values: np.ndarray, digits: int = 4) -> str:
    return "[" + ", ".join("inf" if np.isposinf(v) else "-inf" if np.isneginf(v)
                           else f"{v:.{digits}g}" for v in values) + "]"


def run(args: argparse.Namespace) -> int:
    from .methods import MethodOptions, run_method

    train, test, where = load_logs(args)
    options = MethodOptions(lambdas=args.lambdas, budgets=args.budgets,
                            n_lambdas=args.n_lambdas, family=args.family,
                            approximation=args.approximation)
    frontier, _ = run_method(args.method, train, test, args.cascade, options=options,
                             rng=args.seed)
    print(f"llmcopula tune: {where}, {train.n_queries} training queries"
          + (f", {test.n_queries} test queries" if test is not None else ", no test split"))
    print("cascade: " + " -> ".join(f"{i}:{m}" for i, m in zip(frontier.cascade, frontier.models)))
    print(f"method: {args.method}" + (f", copula family: {args.family}, chaining: "
                                      f"{args.approximation}" if args.method == "markov-copula" else ""))
    header = f"{'#':>3}  {'thresholds (calibrated)':<28} {'raw thresholds':<30} " \
             f"{'pred acc':>8} {'pred cost':>10}"
    if test is not None:
        header += f" {'test acc':>8} {'test cost':>10}"
    print(header)
    for p in range(len(frontier)):
        line = (f"{p:>3}  {_fmt(frontier.thresholds[p]):<28} "
                f"{_fmt(frontier.raw_thresholds[p]):<30} "
                f"{frontier.accuracy[p]:>8.4f} {frontier.cost[p]:>10.2f}")
        if test is not None:
            line += f" {frontier.test_accuracy[p]:>8.4f} {frontier.test_cost[p]:>10.2f}"
        print(line)
    print("(cost: USD per million queries)")
    if args.output:
        doc = frontier.to_dict()
        doc["method"] = args.method
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0

"""``llmcopula reproduce``: run the cascade-tuner comparison on the shipped benchmarks."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from .._cli_errors import EXIT_FAILED

__all__ = ["add_parser", "run"]


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _cascades(text: str) -> list[tuple[int, ...]]:
    try:
        return [tuple(int(i) for i in c.split("-")) for c in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected cascades like 0-2-4,1-3, got {text!r}") from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from ..cascade.methods import get_method
    from .reproduce import DEFAULT_BENCHMARKS
    from .tasks import METHODS

    p = subparsers.add_parser(
        "reproduce", allow_abbrev=False,
        help="compare the Markov-copula tuner with grid search, BO and the oracle",
        description="Tune every cascade of the shipped chains with each method on training "
                    "data (optionally subsampled), score on the test split, and write tidy CSVs, "
                    "plots and a Markdown report. Interrupted runs resume.")
    p.add_argument("--benchmarks", type=_names, default=list(DEFAULT_BENCHMARKS),
                   help="comma-separated (default: mmlu,medmcqa,triviaqa; gsm8k has no test split)")
    p.add_argument("--chains", type=_names, default=["llama", "qwen_oai"])
    p.add_argument("--methods", type=_names,
                   default=["markov-copula", "empirical-copula", "grid", "bo", "oracle"],
                   help=f"comma-separated among {','.join(METHODS)}")
    p.add_argument("--ours", default="markov-copula",
                   choices=tuple(m for m in METHODS if get_method(m).is_model),
                   help="the method compared with every other one in the tables and plots")
    p.add_argument("--n-train", type=_names, default=["all"],
                   help="training-set sizes, e.g. 10,20,30,50,100,all")
    p.add_argument("--seeds", type=int, default=20, help="subsamples per n (n=all: one)")
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--output-dir", default="reproduce-results")
    p.add_argument("--k-min", type=int, default=2, help="shortest cascade length to run")
    p.add_argument("--cascades", type=_cascades, default=None,
                   help="only these cascades, e.g. 0-2-4,0-1-2-3-4")
    p.add_argument("--n-lambdas", type=int, default=30,
                   help="λ grid size, the same for the tuner and BO")
    p.add_argument("--bo-calls", type=int, default=None,
                   help="BO evaluations per λ (default 20 + 10·(k-1))")
    p.add_argument("--family", default="gumbel")
    p.add_argument("--seed", type=int, default=0, help="base seed of every derived seed")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from .reproduce import reproduce
    from .tasks import ReproduceConfig

    cfg = ReproduceConfig(n_lambdas=args.n_lambdas, bo_calls=args.bo_calls, family=args.family,
                          base_seed=args.seed)
    result = reproduce(benchmarks=args.benchmarks, chains=args.chains, methods=args.methods,
                       n_train=args.n_train, seeds=args.seeds, n_jobs=args.n_jobs,
                       output_dir=args.output_dir, k_min=args.k_min, cascades=args.cascades,
                       config=cfg, progress=not args.quiet, plots=not args.no_plots,
                       command="llmcopula reproduce " + shlex.join(sys.argv[2:]),
                       ours=args.ours)
    c = result["counts"]
    print(f"llmcopula reproduce: {c['total']} tasks ({c['skipped']} already done, {c['run']} run, "
          f"{c['failed']} failed); results in {args.output_dir}")
    head = result.get("headline")
    if head is not None and not head.empty:
        print(head.to_string(index=False))
    if c["failed"]:
        failures = result.get("failures")
        first = ""
        if failures is not None and len(failures):
            first = f"; first: {failures['task_id'].iloc[0]}: {failures['error'].iloc[0]}"
        print(f"llmcopula reproduce: {c['failed']} of {c['run']} task(s) failed{first}; all "
              f"in {args.output_dir}/failures.csv", file=sys.stderr)
        return EXIT_FAILED
    return 0

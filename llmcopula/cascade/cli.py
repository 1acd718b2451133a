"""``llmcopula tune``: tune a cascade's thresholds with one method of the registry
(:mod:`llmcopula.cascade.methods`) and trace its error–cost frontier."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import numpy as np

from .._cli_columns import add_column_arguments

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
    src.add_argument("--call-log", default=None,
                     help="a gateway call log (llmcopula serve --call-log) to train on: its "
                          "complete labelled requests (needs --labels)")
    src.add_argument("--labels", default=None,
                     help="labels of the call log's requests: query_id and reference (or "
                          "model and correct)")
    src.add_argument("--test", default=None, help="user test log in the same format")
    src.add_argument("--models", default=None,
                     help="comma-separated model names in chain order (else from --position-col)")
    src.add_argument("--signal", default=None, choices=("logprob", "p_true"),
                     help="how the user's raw confidence was produced (picks the transform)")
    add_column_arguments(parser, ("query", "model", "confidence", "correct", "cost", "position"))


def _read_log(option: str, path: str, split: str, kwargs: dict[str, Any]) -> Any:
    from .._cli_errors import for_file
    from ..datasets import read_log

    try:
        return read_log(path, split=split, **kwargs)
    except ValueError as exc:
        raise for_file(option, path, exc) from None


def _read_test(args: argparse.Namespace, train: Any, train_where: str,
               kwargs: dict[str, Any]) -> Any:
    """The ``--test`` log, if any, with the training log's models in the same order."""
    from .._cli_errors import check_same_models

    if not args.test:
        return None
    test = _read_log("--test", args.test, "test", kwargs)
    check_same_models(test.models, train.models, where=f"--test {args.test}",
                      reference_where=train_where)
    return test


def load_logs(args: argparse.Namespace):
    """(train, test or None, description) from the parsed data options."""
    from .._cli_errors import UsageError, for_file
    from ..datasets import list_benchmarks, load_benchmark, read_call_log

    call_log = getattr(args, "call_log", None)
    labels = getattr(args, "labels", None)
    kwargs: dict[str, Any] = dict(
        query_col=args.query_col, model_col=args.model_col,
        confidence_col=args.confidence_col, correct_col=args.correct_col,
        cost_col=args.cost_col, position_col=args.position_col, signal=args.signal,
        models=args.models.split(",") if args.models else None,
    )
    if call_log is not None or labels is not None:
        if call_log is None:
            raise ValueError("--labels: needs --call-log (the labels of a call log's requests)")
        if labels is None:
            raise ValueError("--call-log: needs --labels (a call log has no correctness labels)")
        for flag, value in (("--train", args.train), ("--benchmark", args.benchmark)):
            if value is not None:
                raise ValueError(f"--call-log and {flag} are exclusive: train on one source")
        if args.signal is None:
            raise UsageError("--signal: required with --call-log, to pick the calibration: "
                             "logprob (log-probability of the answer) or p_true "
                             "(log-probability of a self-verification 'yes')")
        try:
            data = read_call_log(call_log, labels, models=kwargs["models"],
                                 cost_col=args.cost_col, signal=args.signal)
        except ValueError as exc:  # "calls: ..." / "labels: ...": name the option and the file
            text = str(exc)
            for name, option, path in (("calls", "--call-log", call_log),
                                       ("labels", "--labels", labels)):
                if text.startswith(f"{name}: "):
                    raise for_file(option, path, ValueError(text.removeprefix(f"{name}: "))
                                   ) from None
            raise
        test = _read_test(args, data.log, f"--call-log {call_log}", kwargs)
        print(f"llmcopula tune: call log {call_log}: {data.summary()}", file=sys.stderr)
        return data.log, test, f"call log {call_log}"
    if args.train is not None:
        if args.benchmark is not None:
            raise UsageError("--benchmark and --train are exclusive: use bundled data or files")
        if args.signal is None:
            raise UsageError("--signal: required with --train, to pick the calibration: "
                             "logprob (log-probability of the answer) or p_true "
                             "(log-probability of a self-verification 'yes')")
        train = _read_log("--train", args.train, "train", kwargs)
        test = _read_test(args, train, f"--train {args.train}", kwargs)
        return train, test, f"user log {args.train}"
    if args.test is not None:
        raise UsageError("--test needs --train or --call-log")
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
        "tune", allow_abbrev=False, help="tune cascade thresholds along the error-cost frontier",
        description="Tune a cascade's thresholds on training data (by default with the "
                    "Markov-copula model of the chain's calibrated confidences) and trace its "
                    "error-cost frontier; score it on test data when there is some; write one "
                    "point as a deployable policy file (--write-policy with --target-accuracy, "
                    "--budget or --max-share). Costs are in USD per million queries.")
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
                          "to expected cost <= budget (with --write-policy: one budget, the "
                          "policy's selector)")
    opt.add_argument("--method", default="markov-copula", choices=_methods(),
                     help="; ".join(f"{name}: {get_method(name).summary}"
                                    for name in _methods()))
    opt.add_argument("--family", default="gumbel",
                     help="pair-copula family: gumbel (paper), auto (AIC), gaussian, ...")
    opt.add_argument("--approximation", default="exact", choices=("exact", "event-markov"))
    opt.add_argument("--model", dest="joint_model", default=None,
                     choices=("markov-copula", "empirical-copula"),
                     help="joint model of the posterior method (default markov-copula)")
    opt.add_argument("--n-lambdas", type=int, default=30)
    opt.add_argument("--seed", type=int, default=0)
    opt.add_argument("--output", default=None, help="write the frontier as JSON to this file")
    pol = p.add_argument_group("policy (one point of the frontier, ready to deploy)")
    pol.add_argument("--write-policy", default=None, metavar="PATH",
                     help="write the chosen point as a policy file (llmcopula serve --policy); "
                          "needs exactly one selector: --target-accuracy, --budget or "
                          "--max-share")
    pol.add_argument("--target-accuracy", type=float, default=None, metavar="A",
                     help="selector: the cheapest point whose predicted accuracy is >= A")
    pol.add_argument("--max-share", type=float, default=None, metavar="S",
                     help="selector: the most accurate point that sends at most a share S of "
                          "queries to the last model")
    pol.add_argument("--mix", action="store_true",
                     help="allow a randomised policy (two neighbouring points of the "
                          "frontier's convex hull, drawn per request id) where it beats every "
                          "single point")
    pol.add_argument("--confidence-level", type=float, default=None, metavar="L",
                     help="with --target-accuracy: guarantee accuracy >= A with probability "
                          ">= L over the training queries (Learn-then-Test: tune on part of the "
                          "training split, test the points on the rest with exact binomial "
                          "tails)")
    pol.add_argument("--holdout", type=float, default=0.5, metavar="F",
                     help="share of the training queries held out for the guarantee's tests "
                          "(default 0.5)")
    pol.add_argument("--intervals", action="store_true",
                     help="also compute the frontier's intervals for the printout and --output "
                          "(always done for --write-policy)")
    pol.add_argument("--level", type=float, default=0.9,
                     help="nominal coverage of the intervals (default 0.9)")
    pol.add_argument("--n-resamples", type=int, default=200,
                     help="bootstrap resamples of the training queries for the intervals")
    pol.add_argument("--n-jobs", type=int, default=1, help="workers for the bootstrap")
    p.set_defaults(func=run)
    return p


def _fmt(values: np.ndarray, digits: int = 4) -> str:
    return "[" + ", ".join("inf" if np.isposinf(v) else "-inf" if np.isneginf(v)
                           else f"{v:.{digits}g}" for v in values) + "]"


# Library argument names and the flags that set them, for error messages.
_KNOB_FLAGS = {"target_accuracy": "--target-accuracy", "budget": "--budget",
               "budgets": "--budget", "max_share": "--max-share",
               "confidence_level": "--confidence-level", "holdout": "--holdout",
               "level": "--level", "n_resamples": "--n-resamples"}


def _as_flag(exc: ValueError) -> ValueError:
    """The error with a leading library argument name replaced by its flag."""
    text = str(exc)
    for name, flag in _KNOB_FLAGS.items():
        if text.startswith(name + ":"):
            return ValueError(flag + text[len(name):])
    return exc


def _check_policy_knobs(args: argparse.Namespace) -> None:
    """Reject bad or inconsistent selector options before any data is loaded."""
    selectors = [flag for flag, value in (("--target-accuracy", args.target_accuracy),
                                          ("--budget", args.budgets),
                                          ("--max-share", args.max_share)) if value is not None]
    if args.method.startswith("posterior") and args.confidence_level is not None:
        # The guarantee tunes on part of the training split and tests each point's rules on
        # the rest; for this method that would need the multi-signal posterior refitted on the
        # tuning part and its held-out log-odds, which the guarantee does not compute.
        raise ValueError(f"--confidence-level: not available for --method {args.method}: the "
                         "guarantee tests thresholds on each model's own raw signal on the "
                         "held-out queries, and this method's thresholds are on the posterior "
                         "log-odds of a calibrator fitted on the training split; use "
                         "--target-accuracy without a guarantee, or a single-signal method")
    if args.write_policy is not None:
        if not selectors:
            raise ValueError("--write-policy: choose the point with exactly one of "
                             "--target-accuracy, --budget or --max-share")
        if len(selectors) > 1:
            raise ValueError(f"--write-policy: choose the point with exactly one selector, got "
                             f"{' and '.join(selectors)}")
        if args.budgets is not None and len(args.budgets) != 1:
            raise ValueError(f"--budget: --write-policy needs one budget, got {len(args.budgets)}")
        if args.lambdas is not None:
            raise ValueError("--lambda: --write-policy chooses from the whole frontier; drop "
                             "--lambda")
    elif args.max_share is not None and args.target_accuracy is not None:
        raise ValueError("--target-accuracy and --max-share: choose one selector")
    for flag, value, closed in (("--target-accuracy", args.target_accuracy, True),
                                ("--max-share", args.max_share, True),
                                ("--confidence-level", args.confidence_level, False),
                                ("--holdout", args.holdout, False),
                                ("--level", args.level, False)):
        if value is None:
            continue
        if not np.isfinite(value) or not ((0.0 <= value <= 1.0) if closed
                                          else (0.0 < value < 1.0)):
            where = "[0, 1]" if closed else "(0, 1)"
            raise ValueError(f"{flag}: must lie in {where}, got {value:g}")
    if args.confidence_level is not None and args.target_accuracy is None:
        raise ValueError("--confidence-level: a guarantee is for a target accuracy; add "
                         "--target-accuracy")
    if args.confidence_level is not None and args.mix:
        raise ValueError("--mix: the guarantee certifies single points; drop --mix")
    if args.n_resamples < 2:
        raise ValueError(f"--n-resamples: must be >= 2, got {args.n_resamples}")


def _merge(a: Any, b: Any) -> Any:
    """The Pareto frontier of the points of two frontiers of one cascade."""
    from dataclasses import replace

    from .routing import pareto_mask

    def cat(x: Any, y: Any, n_x: int, n_y: int) -> Any:
        if x is None and y is None:
            return None
        x = np.full(n_x, np.nan) if x is None else x
        y = np.full(n_y, np.nan) if y is None else y
        return np.concatenate([x, y])

    n_a, n_b = len(a), len(b)
    merged = replace(
        a, thresholds=np.vstack([a.thresholds, b.thresholds]),
        raw_thresholds=np.vstack([a.raw_thresholds, b.raw_thresholds]),
        accuracy=np.concatenate([a.accuracy, b.accuracy]), cost=np.concatenate([a.cost, b.cost]),
        stage_probabilities=np.vstack([a.stage_probabilities, b.stage_probabilities]),
        lambdas=cat(a.lambdas, b.lambdas, n_a, n_b), budgets=cat(a.budgets, b.budgets, n_a, n_b),
        test_accuracy=None, test_cost=None, test_stage_usage=None, intervals=None)
    keep = np.flatnonzero(pareto_mask(merged.cost, merged.accuracy))
    return merged.take(keep[np.argsort(merged.cost[keep], kind="stable")])


def _interval_text(frontier: Any, p: int, name: str) -> str:
    if frontier.intervals is None:
        return ""
    lo, hi = getattr(frontier.intervals, name)[p]
    return f" [{lo:.4g}, {hi:.4g}]"


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except ValueError as exc:
        raise _as_flag(exc) from None


def _run(args: argparse.Namespace) -> int:
    from ..deploy import build_policy
    from .choose import select_point
    from .evaluation import evaluate_frontier
    from .guarantee import learn_then_test
    from .intervals import frontier_intervals
    from .methods import MethodOptions, PosteriorMethod, get_method, run_method
    from .posterior import posterior_log

    _check_policy_knobs(args)
    posterior = isinstance(get_method(args.method), PosteriorMethod)
    writing = args.write_policy is not None
    options = MethodOptions(lambdas=args.lambdas,
                            budgets=None if writing else args.budgets,
                            n_lambdas=args.n_lambdas, family=args.family,
                            approximation=args.approximation,
                            model=args.joint_model)  # checked before any reading
    train, test, where = load_logs(args)
    guarantee = args.confidence_level is not None
    budget_knob = float(args.budgets[0]) if writing and args.budgets is not None else None
    if budget_knob is not None:
        from .cascades import check_cascade

        first = check_cascade(args.cascade, train.n_models)[0]
        min_cost = float(train.mean_cost[first] * 1e6)
        if budget_knob < min_cost * (1 - 1e-9):
            raise ValueError(f"--budget: {budget_knob:g} USD per million queries is below the "
                             f"cost of the first model {train.models[first]} ({min_cost:.4g})")
    fit_log = train
    if guarantee:
        result = learn_then_test(args.method, train, args.cascade,
                                 target_accuracy=args.target_accuracy,
                                 confidence_level=args.confidence_level, holdout=args.holdout,
                                 options=options, rng=args.seed)
        frontier, prepared, fit_log = result.frontier, result.fitted, result.tuning
        frontier = replace_test(frontier)
        if test is not None:
            frontier = get_method(args.method).score(frontier, prepared, test)
    else:
        frontier, prepared = run_method(args.method, train, test, args.cascade, options=options,
                                        rng=args.seed)
        if budget_knob is not None and "budgets" in get_method(args.method).options:
            exact, _ = run_method(args.method, train, None, args.cascade,
                                  options=MethodOptions(budgets=[budget_knob],
                                                        n_lambdas=args.n_lambdas,
                                                        family=args.family,
                                                        approximation=args.approximation,
                                                        model=args.joint_model),
                                  rng=args.seed, fitted=prepared)
            frontier = _merge(frontier, exact)
            if test is not None:
                frontier = (get_method(args.method).score(frontier, prepared, test) if posterior
                            else evaluate_frontier(frontier, test))
    if posterior:
        # The joint model describes the cross-fitted posterior log-odds of the training
        # queries: the intervals resample those (the calibrator itself is held fixed).
        fit_log = posterior_log(train, prepared.extra["cascade"],
                                prepared.extra["posterior"].train_log_odds(
                                    prepared.extra["cascade"]))
    if writing or args.intervals:
        frontier = frontier_intervals(frontier, fit_log, model=prepared.model, level=args.level,
                                      n_resamples=args.n_resamples, rng=args.seed,
                                      n_jobs=args.n_jobs)
    print(f"llmcopula tune: {where}, {train.n_queries} training queries"
          + (f", {test.n_queries} test queries" if test is not None else ", no test split"))
    print("cascade: " + " -> ".join(f"{i}:{m}" for i, m in zip(frontier.cascade, frontier.models)))
    print(f"method: {args.method}" + (f", copula family: {args.family}, chaining: "
                                      f"{args.approximation}" if args.method == "markov-copula" else ""))
    if guarantee:
        info = result.selection.info
        print(f"guarantee: tuned on {info['n_tuning']} training queries, tested on "
              f"{info['n_holdout']} held out")
    rule_width = max(30, 13 * (len(frontier.models) - 1))
    header = f"{'#':>3}  {'thresholds (calibrated)':<28} {'raw rules':<{rule_width}} " \
             f"{'pred acc':>8} {'pred cost':>10}"
    if frontier.intervals is not None:
        header += f"  {'acc interval':<18}"
    if test is not None:
        header += f" {'test acc':>8} {'test cost':>10}"
    print(header)
    for p in range(len(frontier)):
        rules = " ".join((">" if d == "above" else "<") + _fmt([r])[1:-1]
                         for d, r in zip(frontier.directions, frontier.raw_thresholds[p]))
        line = (f"{p:>3}  {_fmt(frontier.thresholds[p]):<28} {rules:<{rule_width}} "
                f"{frontier.accuracy[p]:>8.4f} {frontier.cost[p]:>10.2f}")
        if frontier.intervals is not None:
            line += f"  {_interval_text(frontier, p, 'accuracy').strip():<18}"
        if test is not None:
            line += f" {frontier.test_accuracy[p]:>8.4f} {frontier.test_cost[p]:>10.2f}"
        print(line)
    print("(cost: USD per million queries; raw rules: stage j accepts iff its "
          + ("posterior log-odds (docs/posterior.md) is" if posterior else "raw signal is")
          + " > or < the threshold)")
    if args.output:
        doc = frontier.to_dict()
        doc["method"] = args.method
        if posterior:  # the deployable rules read every visited model's signal and answer
            for p, point in enumerate(doc["points"]):
                point["rules"] = [r.to_dict()
                                  for r in PosteriorMethod.rules(prepared, frontier, p)]
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
        print(f"wrote {args.output}", file=sys.stderr)
    if guarantee:
        choice = result.selection
    elif args.target_accuracy is not None or args.max_share is not None or writing:
        choice = select_point(frontier, target_accuracy=args.target_accuracy,
                              budget=budget_knob, max_share=args.max_share, mix=args.mix)
    else:
        return 0
    _print_choice(frontier, choice, test is not None)
    if writing:
        policy = build_policy(frontier, choice, train,
                              cost_definition="cost_answer_usd" if args.train is None
                              and getattr(args, "call_log", None) is None else args.cost_col,
                              method=args.method,
                              rules=(lambda p: PosteriorMethod.rules(prepared, frontier, p))
                              if posterior else None)
        policy.save(args.write_policy)
        print(f"wrote policy {args.write_policy}", file=sys.stderr)
    return 0


def replace_test(frontier: Any) -> Any:
    """The frontier without the held-out values (they are the guarantee's, not a test split)."""
    from dataclasses import replace

    return replace(frontier, test_accuracy=None, test_cost=None, test_stage_usage=None)


def _print_choice(frontier: Any, choice: Any, has_test: bool) -> None:
    what = (f"points {choice.index} (p = {choice.probability:.4f}) and {choice.other}, mixed "
            f"at random per request" if choice.other is not None else f"point {choice.index}")
    acc_iv = cost_iv = ""
    if frontier.intervals is not None:
        iv = (frontier.intervals.point_dict(choice.index) if choice.other is None
              else frontier.intervals.mixture(choice.index, choice.other, choice.probability))
        acc_iv = f" [{iv['accuracy'][0]:.4f}, {iv['accuracy'][1]:.4f}]"
        cost_iv = f" [{iv['cost'][0]:.2f}, {iv['cost'][1]:.2f}]"
    print(f"chosen by {choice.by.replace('_', ' ')} {choice.value:g}: {what}; predicted "
          f"accuracy {choice.accuracy:.4f}{acc_iv}, cost {choice.cost:.2f}{cost_iv}")
    if choice.info.get("confidence_level") is not None:
        info = choice.info
        print(f"certified: accuracy >= {choice.value:g} with probability >= "
              f"{info['confidence_level']:g} (held-out accuracy {info['holdout_accuracy']:.4f} "
              f"on {info['n_holdout']} queries, lower bound {info['holdout_lower_bound']:.4f}; "
              f"{info['n_certified']} of the frontier's points certified)")
    if has_test and frontier.test_accuracy is not None:
        if choice.other is None:
            acc = frontier.test_accuracy[choice.index]
            cost = frontier.test_cost[choice.index]
        else:
            p, i, j = choice.probability, choice.index, choice.other
            acc = p * frontier.test_accuracy[i] + (1 - p) * frontier.test_accuracy[j]
            cost = p * frontier.test_cost[i] + (1 - p) * frontier.test_cost[j]
        print(f"on the test split: accuracy {acc:.4f}, cost {cost:.2f}")

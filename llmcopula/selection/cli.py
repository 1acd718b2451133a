"""``llmcopula select``: choose an ensemble by mutual information (or a baseline), aggregate its
answers and score it.

Data come from a bundled benchmark (both chains pooled: 9 models, see
:func:`llmcopula.datasets.load_pool`) or from user files in long format, one row per (query,
model), read and validated by :func:`llmcopula.datasets.read_log` (without confidences):

==========  ========  ===============================================================
column      required  meaning
==========  ========  ===============================================================
query_id    yes       query identifier
model       yes       model name
answer      yes       the model's answer (compared across models and with the label)
correct     yes       1 if the answer is correct, else 0
reference   no        the query's label, the same on all its rows
cost        no        the model's cost on the query (``cost_answer_usd`` by default)
==========  ========  ===============================================================

Without a label column the label of a query is *derived*: the answer given by the models marked
correct (it must be unique, else the data are inconsistent and an error is raised); when no model
is correct the label is the placeholder ``<none-correct>``.  That placeholder takes part in the
information estimates (the all-wrong pattern is informative) but a prediction is never counted as
correct on such a query.  Costs are reported and budgeted in USD per million queries (the mean of
the cost column × 10⁶); without a cost column every model costs 1, so ``--budget`` counts models.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["add_parser", "run", "NONE_CORRECT", "DEFAULT_ESTIMATOR", "DEFAULT_AGGREGATOR"]

from llmcopula._cli_columns import add_column_arguments
from llmcopula.selection.aggregator_choice import AUTO
from llmcopula.selection.methods import DEFAULT_AGGREGATOR, DEFAULT_ESTIMATOR, DEFAULT_METHOD

NONE_CORRECT = "<none-correct>"
ESTIMATORS = ("gaussian-copula", "plugin", "miller-madow")
PREDICTION_LEVEL = 0.9


@dataclass(frozen=True)
class _Data:
    names: tuple[str, ...]
    X_train: NDArray[Any]
    y_train: NDArray[Any]
    X_test: NDArray[Any] | None
    y_test: NDArray[Any] | None
    costs: NDArray[np.float64] | None
    where: str


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``select`` on an ``argparse`` subparsers object and return its parser."""
    from llmcopula.selection.aggregation import AGGREGATORS
    from llmcopula.selection.methods import SELECTION_METHODS

    p = subparsers.add_parser(
        "select", allow_abbrev=False,
        help="select an LLM ensemble by mutual information under a budget",
        description="Select models from a pool to maximise the mutual information I(Y; X_S) "
                    "between the label and their joint answers (or with a baseline), aggregate "
                    "the selected answers and score them on test data. Costs are in USD per "
                    "million queries.")
    src = p.add_argument_group("data")
    src.add_argument("--benchmark", default=None,
                     help="bundled benchmark, both chains pooled (9 models): mmlu or medmcqa "
                          "(default mmlu); gsm8k/triviaqa have no labelled test split")
    src.add_argument("--train", default=None, help="user training log (CSV, CSV.gz or Parquet)")
    src.add_argument("--test", default=None, help="user test log in the same format")
    add_column_arguments(p, ("query", "model", "answer", "correct", "label", "cost"), helps={
        "label": "label column (if absent, labels are derived from correct answers)",
        "cost": "cost column (if absent, every model costs 1)"})
    sel = p.add_argument_group("selection")
    sel.add_argument("--k", type=int, default=None, help="maximum number of models")
    sel.add_argument("--budget", type=float, default=None,
                     help="maximum total cost per query (USD per million queries)")
    sel.add_argument("--method", default=DEFAULT_METHOD, choices=SELECTION_METHODS,
                     help=f"default {DEFAULT_METHOD}: the greedy-mi set or the top-k set, "
                          "whichever has the higher cross-validated accuracy on the training "
                          "answers (see benchmarks/RESULTS.md)")
    sel.add_argument("--aggregator", default=DEFAULT_AGGREGATOR,
                     choices=(AUTO, *AGGREGATORS),
                     help=f"default {DEFAULT_AGGREGATOR}: the one of majority-vote, "
                          "weighted-vote and copula-bayes (the Bayes rule of the fitted "
                          "correlated-error model) with the best 5-fold cross-validated "
                          "accuracy on the selected models' training answers (see "
                          "benchmarks/RESULTS.md)")
    sel.add_argument("--estimator", default=DEFAULT_ESTIMATOR, choices=ESTIMATORS,
                     help=f"MI estimator (default {DEFAULT_ESTIMATOR}: from the fitted "
                          "Gaussian-copula model instead of sparse answer-pattern counts)")
    sel.add_argument("--stop", default="none", choices=("none", "permutation"),
                     help="greedy-mi only: stop at the permutation-null threshold")
    sel.add_argument("--n-boot", type=int, default=200,
                     help="bootstrap replicates for the MI interval and the model's predictions "
                          "(the realised accuracy's interval is Wilson's)")
    sel.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="write the result as JSON to this file")
    p.set_defaults(func=run)
    return p


def _read_table(path: str, args: argparse.Namespace, option: str) -> Any:
    """The raw long table of a user log (validated and pivoted by :func:`read_log`)."""
    from llmcopula._cli_errors import for_file
    from llmcopula.datasets import read_table

    try:
        return read_table(path, (args.model_col, args.answer_col, args.label_col))
    except ValueError as exc:
        raise for_file(option, path, exc) from None


def _wide(frame: Any, args: argparse.Namespace, source: str, names: tuple[str, ...] | None
          ) -> tuple[tuple[str, ...], NDArray[Any], NDArray[Any], NDArray[np.float64] | None]:
    """(model names, answers (n, M), labels (n,), mean cost per model or None) of a long table,
    read and validated by :func:`llmcopula.datasets.read_log`."""
    import pandas as pd

    from llmcopula._cli_errors import check_same_models
    from llmcopula.datasets import read_log

    for col in (args.model_col, args.answer_col):
        if col not in frame.columns:
            raise ValueError(f"{source}: missing column {col!r}; have {list(frame.columns)}")
    present = tuple(str(m) for m in pd.unique(frame[args.model_col].astype(str)))
    if names is not None:
        check_same_models(present, names, where=source, reference_where=f"--train {args.train}",
                          order=False)
    has_cost = args.cost_col in frame.columns
    try:
        log = read_log(frame, query_col=args.query_col, model_col=args.model_col,
                       confidence_col=None, correct_col=args.correct_col,
                       cost_col=args.cost_col if has_cost else None, answer_col=args.answer_col,
                       reference_col=args.label_col if args.label_col in frame.columns else None,
                       models=names or present)
    except ValueError as exc:
        raise ValueError(f"{source}: {str(exc).removeprefix('source: ')}") from None
    if log.answer is None:  # pragma: no cover - answer_col was checked above
        raise RuntimeError("internal error: the log has no answers")
    # An absent (empty) answer is kept as the empty string: an abstention, not a class.
    X = np.where(log.answer == None, "", log.answer).astype(str)  # noqa: E711
    derived = _derive_labels(X, np.asarray(log.correct, dtype=np.int64), source)
    if log.reference is None:
        y = derived
    else:
        ref = np.asarray(log.reference, dtype=object)
        y = np.where(ref == None, derived, ref).astype(str)  # noqa: E711
    costs = np.asarray(log.mean_cost) * 1e6 if has_cost else None
    return log.models, X, y, costs


def _derive_labels(X: NDArray[Any], correct: NDArray[np.int64], source: str) -> NDArray[Any]:
    right = np.where(correct == 1, X, "")
    n_distinct = np.array([len(set(row) - {""}) for row in right])  # per query, not per row-cell
    if (n_distinct > 1).any():
        raise ValueError(f"{source}: {int((n_distinct > 1).sum())} queries have different answers "
                         "marked correct; give a label column instead")
    first = np.argmax(correct == 1, axis=1)
    return np.where(n_distinct == 1, X[np.arange(X.shape[0]), first], NONE_CORRECT)


def _load(args: argparse.Namespace) -> _Data:
    if args.train is not None:
        if args.benchmark is not None:
            raise ValueError("--benchmark and --train are exclusive: use bundled data or files")
        names, X, y, costs = _wide(_read_table(args.train, args, "--train"), args,
                                   f"--train {args.train}", None)
        X_te = y_te = None
        if args.test is not None:
            _, X_te, y_te, _ = _wide(_read_table(args.test, args, "--test"), args,
                                     f"--test {args.test}", names)
        return _Data(names, X, y, X_te, y_te, costs, f"user log {args.train}")
    if args.test is not None:
        raise ValueError("--test needs --train")
    from llmcopula.datasets import list_benchmarks, load_pool

    benchmark = args.benchmark or "mmlu"
    train = load_pool(benchmark, "train")
    table = list_benchmarks()
    has_test = bool(((table["benchmark"] == benchmark) & (table["split"] == "test")).any())
    test = load_pool(benchmark, "test") if has_test else None

    def labels(log: Any) -> NDArray[Any]:
        if log.reference is not None:
            return np.asarray(log.reference, dtype=str)
        return _derive_labels(np.asarray(log.answer, dtype=str), np.asarray(log.correct), benchmark)

    X_te = y_te = None
    if test is not None:
        X_te, y_te = np.asarray(test.answer, dtype=str), labels(test)
    return _Data(tuple(train.models), np.asarray(train.answer, dtype=str), labels(train), X_te,
                 y_te, np.asarray(train.mean_cost) * 1e6, f"bundled {benchmark} (9-model pool)")


def _wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import binomtest

    ci = binomtest(successes, n).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def run(args: argparse.Namespace) -> int:
    """Run ``llmcopula select`` with parsed arguments; returns the exit status."""
    from llmcopula.selection.aggregator_choice import resolve_aggregator
    from llmcopula.selection.information import SparsePatternWarning, mi_bootstrap_ci
    from llmcopula.selection.methods import select_models
    from llmcopula.selection.prediction import predict_ensemble

    if args.k is None and args.budget is None:
        raise ValueError("--k or --budget is required")
    if args.n_boot < 1:
        raise ValueError(f"--n-boot: must be >= 1, got {args.n_boot}")
    data = _load(args)
    kwargs: dict[str, Any] = dict(k=args.k, budget=args.budget, costs=data.costs,
                                  names=data.names, estimator=args.estimator, rng=args.seed)
    if args.method in ("greedy-mi", "auto"):
        kwargs["stop"] = args.stop
    elif args.stop != "none":
        raise ValueError("--stop: only greedy-mi (and auto's greedy-mi set) supports a stopping "
                         "rule")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SparsePatternWarning)
        result = select_models(data.X_train, data.y_train, method=args.method, **kwargs)
        cols = list(result.selected)
        if args.estimator != "gaussian-copula":
            ci = mi_bootstrap_ci(data.X_train[:, cols], data.y_train, estimator=args.estimator,
                                 n_boot=args.n_boot, rng=args.seed)
    sparse = any(issubclass(w.category, SparsePatternWarning) for w in caught)
    classes = np.unique(np.concatenate([data.y_train] + ([data.y_test] if data.y_test is not None
                                                         else [])))
    aggregator, choice = resolve_aggregator(args.aggregator, data.X_train[:, cols],
                                            data.y_train, classes=classes, rng=args.seed)
    agg_name = args.aggregator if choice is None else choice.chosen
    on_test = data.X_test is not None
    X_eval = data.X_test if on_test else data.X_train
    y_eval = data.y_test if on_test else data.y_train
    if X_eval is None or y_eval is None:  # pragma: no cover - training data always exist
        raise RuntimeError("internal error: no evaluation data")
    scored = y_eval != NONE_CORRECT

    def accuracy_of(pred: NDArray[Any]) -> NDArray[np.bool_]:
        return (pred == y_eval) & scored

    hits = accuracy_of(aggregator.predict(X_eval[:, cols]))
    accuracy = float(hits.mean())
    acc_ci = _wilson(int(hits.sum()), hits.size)
    train_acc = (data.X_train == data.y_train[:, None]).mean(axis=0)
    best = int(np.argmax(train_acc))
    single = float(accuracy_of(X_eval[:, best]).mean())
    pred = predict_ensemble(data.X_train[:, cols], data.y_train, aggregator,
                            n_test=int(y_eval.size) if on_test else None, n_boot=args.n_boot,
                            level=PREDICTION_LEVEL, rng=args.seed)
    if args.estimator == "gaussian-copula":
        mi_low, mi_high, mi_level = *pred.mi_interval, PREDICTION_LEVEL
    else:
        mi_low, mi_high, mi_level = ci.low, ci.high, ci.level

    unit = "USD/1M queries" if data.costs is not None else "models"
    where = "test" if on_test else "training (in-sample)"
    pct = f"{PREDICTION_LEVEL:.0%}"
    print(f"llmcopula select: {data.where}, {data.y_train.size} training queries"
          + (f", {y_eval.size} test queries" if on_test else ", no test split (in-sample score)"))
    print(f"method: {args.method}, aggregator: "
          + (agg_name if choice is None else f"{AUTO} -> {agg_name}")
          + f", estimator: {args.estimator}"
          + (f", k <= {args.k}" if args.k is not None else "")
          + (f", budget {args.budget:g} {unit}" if args.budget is not None else ""))
    print(f"{'step':>4}  {'model':<28} {'gain (bits)':>11} {'MI (bits)':>9} {'cost':>10}")
    for i, step in enumerate(result.trace, 1):
        print(f"{i:>4}  {str(step.name):<28} {step.gain:>11.4f} {step.mi_bits:>9.4f} "
              f"{step.cost:>10.2f}")
    if result.choice is not None:
        sc = result.choice
        print("set chosen by 5-fold cross-validation on the training answers: "
              + ", ".join(f"{m} {v:.4f}" for m, v in zip(sc.methods, sc.accuracy))
              + f" -> {sc.chosen}")
    print(f"selected: {', '.join(result.names or ())}")
    print(f"I(Y; X_S) = {result.mi_bits:.4f} bits  ({mi_level:.0%} bootstrap interval "
          f"{mi_low:.4f} to {mi_high:.4f}, {args.n_boot} replicates)")
    print(f"total cost: {result.total_cost:.2f} {unit}")
    if choice is not None:
        print(f"aggregator chosen by {choice.n_splits}-fold cross-validation ({choice.n_repeats} "
              "repeats) on the selected models' training answers: "
              + ", ".join(f"{a} {v:.4f}" for a, v in zip(choice.candidates, choice.accuracy)))
    print(f"model prediction (correlated-error model fitted on the training queries, {pct} "
          "bootstrap intervals):")
    print(f"  accuracy of {agg_name}: {pred.accuracy:.4f} ({pred.accuracy_interval[0]:.4f} "
          f"to {pred.accuracy_interval[1]:.4f})"
          + (f"; on {y_eval.size} test queries: {pred.test_interval[0]:.4f} to "
             f"{pred.test_interval[1]:.4f}" if pred.test_interval is not None else ""))
    print(f"  error floor of the set (Bayes error, no aggregator does better): "
          f"{pred.bayes_error:.4f} ({pred.bayes_error_interval[0]:.4f} to "
          f"{pred.bayes_error_interval[1]:.4f})")
    print(f"{where} accuracy: {accuracy:.4f}  (95% Wilson interval {acc_ci[0]:.4f} to "
          f"{acc_ci[1]:.4f})")
    print(f"best single model on the training queries: {data.names[best]}, {where} accuracy "
          f"{single:.4f} ({accuracy - single:+.4f} for the ensemble)")
    if sparse and args.estimator != "gaussian-copula":
        print("note: fewer than 10 training rows per possible (pattern, label) cell; the MI "
              "estimate is biased upwards (try --estimator gaussian-copula)")
    if args.output:
        doc = {
            "selected": list(result.names or ()),
            "selected_indices": cols,
            "mi_bits": result.mi_bits,
            "mi_bits_ci": [mi_low, mi_high],
            "aggregator": agg_name,
            "aggregator_option": args.aggregator,
            "aggregator_cv_accuracy": (None if choice is None else dict(
                zip(choice.candidates, choice.accuracy.tolist()))),
            "method": args.method,
            "method_chosen": (args.method if result.choice is None
                              else result.choice.chosen),
            "set_cv_accuracy": (None if result.choice is None else dict(
                zip(result.choice.methods, result.choice.accuracy.tolist()))),
            "estimator": args.estimator,
            "test_accuracy": accuracy if on_test else None,
            "accuracy": accuracy,
            "accuracy_ci": list(acc_ci),
            "accuracy_on": "test" if on_test else "train",
            "predicted_accuracy": pred.accuracy,
            "predicted_accuracy_interval": list(pred.accuracy_interval),
            "predicted_test_interval": (list(pred.test_interval)
                                        if pred.test_interval is not None else None),
            "error_floor": pred.bayes_error,
            "error_floor_interval": list(pred.bayes_error_interval),
            "prediction_level": PREDICTION_LEVEL,
            "best_single_model": data.names[best],
            "best_single_accuracy": single,
            "total_cost": result.total_cost,
            "cost_unit": unit,
            "k": args.k,
            "budget": args.budget,
            "n_train": int(data.y_train.size),
            "n_eval": int(y_eval.size),
            "trace": [{"model": s.name, "gain_bits": s.gain, "mi_bits": s.mi_bits,
                       "cost": s.cost, "total_cost": s.total_cost} for s in result.trace],
        }
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0

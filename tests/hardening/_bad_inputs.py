"""The catalogue of bad command-line input, as claims: input -> the one error line it must give.

Each :class:`Claim` is an ``argv`` for ``llmcopula`` (with ``{name}`` placeholders for the files
that :func:`make_files` writes) and a regular expression the error line must match after
``llmcopula <command>: error: ``. :func:`run_claim` runs one in-process and classifies the
outcome, so that the test suite and ``benchmarks/bench_bad_inputs.py`` count the same thing:

* ``clear``: the claimed exit status; for status 2 exactly one error line on stderr, of the form
  ``llmcopula <command>: error: <what>: <why>``, matching the claim (warning lines of the same
  form may precede it);
* ``traceback``: an exception escaped ``main``;
* ``silent``: exit status 0 where an error was claimed;
* ``unclear``: anything else (a wrong status, several lines, a message that does not match).
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import traceback
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SMALL = 80  # training queries in the user files: enough to fit, quick to tune


@dataclass(frozen=True)
class Claim:
    name: str
    argv: tuple[str, ...]
    expect: str  # regex for the error line's text after "<prog>: error: " (status 2)
    status: int = 2


@dataclass(frozen=True)
class Outcome:
    kind: str  # clear, traceback, silent, unclear
    status: int | None
    stderr: str
    detail: str = ""


def make_files(folder: Path) -> dict[str, str]:
    """Write the good and bad input files the claims refer to; returns {placeholder: path}."""
    from llmcopula.datasets import load_benchmark

    folder.mkdir(parents=True, exist_ok=True)
    train = load_benchmark("mmlu", "llama", split="train").take(np.arange(SMALL))
    test = load_benchmark("mmlu", "llama", split="test").take(np.arange(SMALL))
    frame, test_frame = train.to_frame(), test.to_frame()
    models = list(train.models)
    paths: dict[str, str] = {"d": str(folder)}

    def write(name: str, table: pd.DataFrame) -> None:
        path = folder / name
        if name.endswith(".parquet"):
            table.to_parquet(path, index=False)
        else:
            table.to_csv(path, index=False)
        paths[name.split(".")[0]] = str(path)

    write("train.csv", frame)
    write("test.csv", test_frame)
    write("train_gz.csv.gz", frame)
    raw = Path(paths["train_gz"]).read_bytes()
    (folder / "truncated.csv.gz").write_bytes(raw[: len(raw) // 2])
    (folder / "plain.csv.gz").write_bytes(Path(paths["train"]).read_bytes())
    (folder / "empty.csv").write_bytes(b"")
    (folder / "latin1.csv").write_bytes(
        Path(paths["train"]).read_bytes().replace(b"llama3.2-1b", "llamä".encode("latin-1")))
    (folder / "random.csv").write_bytes(np.random.default_rng(0).bytes(3000))
    (folder / "header_only.csv").write_text(Path(paths["train"]).read_text().splitlines()[0] + "\n")
    (folder / "log.txt").write_text(Path(paths["train"]).read_text())
    (folder / "not_parquet.parquet").write_text("query_id,model\n1,a\n")
    (folder / "torn.csv").write_text(Path(paths["train"]).read_text()
                                     + "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n")
    (folder / "a_folder.csv").mkdir(exist_ok=True)
    (folder / "a_file").write_text("x")
    for name in ("truncated.csv.gz", "plain.csv.gz", "empty.csv", "latin1.csv", "random.csv",
                 "header_only.csv", "log.txt", "not_parquet.parquet", "torn.csv", "a_folder.csv",
                 "a_file"):
        paths[name.split(".")[0]] = str(folder / name)
    paths["missing"] = str(folder / "no_such_file.csv")
    # a gateway's call log and its labels (tune --call-log/--labels)
    write("calls.csv", frame.drop(columns=["correct"]))
    write("labels.csv", frame[["query_id", "model", "correct"]])
    write("labels_no_reference.csv", frame[["query_id"]])

    second = models[1]
    write("test_lacks_model.csv", test_frame[test_frame.model != second])
    write("test_renamed.csv", test_frame.assign(model=test_frame.model.replace(second, "other")))
    write("test_space.csv", test_frame.assign(model=test_frame.model.replace(second,
                                                                             second + " ")))
    write("test_extra_model.csv", pd.concat(
        [test_frame, test_frame[test_frame.model == second].assign(model="extra", position=9)]))
    write("test_reordered.csv", test_frame.assign(
        position=test_frame.position.map({0: 1, 1: 0}).fillna(test_frame.position)))

    def cell(column: str, value: object, row: int = 3) -> pd.DataFrame:
        out = frame.copy()
        out[column] = out[column].astype(object)
        out.loc[row, column] = value
        return out

    write("nan_confidence.csv", cell("raw_confidence", float("nan")))
    write("text_confidence.csv", cell("raw_confidence", "high"))
    write("positive_logprob.csv", cell("raw_confidence", 0.7))
    write("correct_2.csv", cell("correct", 2))
    write("correct_text.csv", cell("correct", "yes"))
    write("negative_cost.csv", cell("cost_answer_usd", -1.0))
    write("inf_cost.csv", cell("cost_answer_usd", float("inf")))
    write("empty_model.csv", cell("model", ""))
    write("empty_query.csv", cell("query_id", ""))
    write("two_positions.csv", cell("position", 1))
    write("nan_position.csv", cell("position", "first"))
    write("duplicate_row.csv", pd.concat([frame, frame.iloc[[5]]]))
    write("dropped_row.csv", frame.drop(index=7))
    write("no_position.csv", frame.drop(columns="position"))
    write("no_correct.csv", frame.drop(columns="correct"))
    write("no_cost.csv", frame.drop(columns="cost_answer_usd"))
    shared = frame.copy()
    shared.loc[shared.model == models[1], "position"] = 0
    write("shared_position.csv", shared)
    write("reference_differs.csv", frame.assign(reference=np.arange(len(frame)).astype(str)))
    write("constant_signal.csv", frame.assign(raw_confidence=-0.5))
    write("always_right.csv", frame.assign(correct=frame.correct.where(frame.model != models[0],
                                                                       1)))
    # select: answers, labels
    write("select_train.csv", frame.assign(reference=_labels(train)))
    write("select_test.csv", test_frame.assign(reference=_labels(test)))
    write("select_no_answer.csv", frame.drop(columns="answer"))
    write("select_test_renamed.csv", test_frame.assign(
        reference=_labels(test), model=test_frame.model.replace(second, "other")))
    paths["policy"] = _write_policy(folder / "policy.json")
    return paths


def _write_policy(path: Path) -> str:
    """A small valid policy (two-stage Llama cascade, training quantiles) for ``monitor``."""
    from dataclasses import replace

    from llmcopula.datasets import load_benchmark
    from llmcopula.monitoring import reference_profile
    from llmcopula.policy import CascadePolicy, ModelInfo, ThresholdRule

    train = load_benchmark("mmlu", "llama", "train")
    cascade = (train.models[0], train.models[4])
    rules = [ThresholdRule(model=cascade[0], direction="above",
                           raw_threshold=float(np.median(train.confidence[:, 0])))]
    models = [ModelInfo(m, signal=train.signal, cost=float(train.mean_cost[i] * 1e6))
              for i, m in enumerate(train.models)]
    policy = CascadePolicy(chain_models=models, cascade_models=cascade, rules=rules,
                           cost_definition="cost_answer_usd", method="training quantile")
    policy = replace(policy, monitoring=reference_profile(
        policy, train.confidence, train.cost, columns=train.models, correct=train.correct,
        keys=[f"train-{q}" for q in train.query_ids]))
    policy.save(path)
    return str(path)


def _labels(log) -> np.ndarray:
    """The reference answer of each query, on every one of its rows (long format)."""
    from llmcopula.datasets import load_labels

    labels = load_labels(log.benchmark, log.split).set_index("query_id")["reference"]
    return np.repeat(labels.loc[log.query_ids].to_numpy(dtype=str), log.n_models)


# -------------------------------------------------------------------------------- the claims
_T = ("tune", "--cascade", "0,4", "--n-lambdas", "3")
_U = ("tune", "--signal", "logprob", "--cascade", "0,4", "--n-lambdas", "3")
_S = ("select", "--k", "2", "--n-boot", "5")
_R = ("reproduce", "--benchmarks", "mmlu", "--chains", "llama", "--methods", "grid",
      "--no-plots", "--quiet", "--cascades", "0-4", "--output-dir", "{d}/reproduce")
_P = ("plan", "--budget", "100", "--n-boot", "5", "--n-lambdas", "3")
_F = r"\S+"  # a path

CLAIMS: tuple[Claim, ...] = (
    # the command line itself
    Claim("no command", (), r"COMMAND: missing; one of tune, select"),
    Claim("unknown command", ("frobnicate",), r"COMMAND: invalid choice: 'frobnicate'"),
    Claim("unknown option", _T + ("--foo",), r"--foo: unrecognized argument"),
    Claim("abbreviated option", ("tune", "--bench", "mmlu"), r"--bench mmlu: unrecognized"),
    Claim("option without its value", ("tune", "--train"), r"--train: expected one argument"),
    Claim("stray positional argument", _T + ("extra",), r"extra: unrecognized argument"),
    Claim("invalid choice", _T + ("--method", "nope"), r"--method: invalid choice: 'nope'"),
    Claim("int option given text", _T + ("--seed", "abc"), r"--seed: invalid int value"),
    Claim("exclusive options", _T + ("--budget", "5", "--lambda", "1"),
          r"--lambda: not allowed with argument --budget"),
    Claim("required option missing", ("monitor", "--log", "x.csv"), r"--policy: required"),
    # files: tune --train
    Claim("missing file", _U + ("--train", "{missing}"), rf"--train {_F}: no such file"),
    Claim("folder instead of a file", _U + ("--train", "{a_folder}"),
          rf"--train {_F}: is a folder, not a file"),
    Claim("truncated .csv.gz", _U + ("--train", "{truncated}"),
          rf"--train {_F}truncated.csv.gz: the gzip data are damaged or cut short"),
    Claim("plain CSV named .gz", _U + ("--train", "{plain}"),
          rf"--train {_F}plain.csv.gz: not gzip-compressed"),
    Claim("0-byte file", _U + ("--train", "{empty}"), rf"--train {_F}: the file is empty"),
    Claim("non-UTF-8 bytes", _U + ("--train", "{latin1}"),
          rf"--train {_F}latin1.csv: not UTF-8 text \(byte 0xe4"),
    Claim("random bytes", _U + ("--train", "{random}"), rf"--train {_F}: not UTF-8 text"),
    Claim("header only", _U + ("--train", "{header_only}"),
          rf"--train {_F}: the table has no rows"),
    Claim("unsupported suffix", _U + ("--train", "{log}"),
          rf"--train {_F}: unsupported file type 'log.txt'"),
    Claim("text named .parquet", _U + ("--train", "{not_parquet}"),
          rf"--train {_F}: not a Parquet file"),
    Claim("row with extra fields", _U + ("--train", "{torn}"),
          rf"--train {_F}: not a well-formed CSV table .*line 402"),
    Claim("missing test file", _U + ("--train", "{train}", "--test", "{missing}"),
          rf"--test {_F}: no such file"),
    # files: their content
    Claim("NaN confidence", _U + ("--train", "{nan_confidence}"),
          rf"--train {_F}: raw_confidence: 1 value\(s\) are NaN or not numbers: row 3"),
    Claim("text confidence", _U + ("--train", "{text_confidence}"),
          r"raw_confidence: 1 value\(s\) are NaN or not numbers: row 3 .*'high'"),
    Claim("positive log-probability", _U + ("--train", "{positive_logprob}"),
          rf"--train {_F}: raw_confidence: 1 value\(s\) are > 0, but a 'logprob' signal"),
    Claim("correct = 2", _U + ("--train", "{correct_2}"),
          r"correct: 1 value\(s\) are not 0/1 .*row 3"),
    Claim("correct = 'yes'", _U + ("--train", "{correct_text}"),
          r"correct: 1 value\(s\) are not 0/1 .*'yes'"),
    Claim("negative cost", _U + ("--train", "{negative_cost}"),
          r"cost_answer_usd: 1 value\(s\) are negative, NaN or infinite: row 3"),
    Claim("infinite cost", _U + ("--train", "{inf_cost}"),
          r"cost_answer_usd: 1 value\(s\) are negative, NaN or infinite: row 3"),
    Claim("empty model name", _U + ("--train", "{empty_model}"),
          r"model: 1 row\(s\) have no value, rows \[3\]"),
    Claim("empty query id", _U + ("--train", "{empty_query}"),
          r"query_id: 1 row\(s\) have no value, rows \[3\]"),
    Claim("model with two positions", _U + ("--train", "{two_positions}"),
          r"position: each model must have a single position"),
    Claim("position not a number", _U + ("--train", "{nan_position}"),
          r"position: 1 row\(s\) are not finite numbers, rows \[3\]"),
    Claim("models sharing a position", _U + ("--train", "{shared_position}"),
          r"position: models share a position"),
    Claim("duplicate row", _U + ("--train", "{duplicate_row}"),
          r"1 duplicate \(query, model\) pair\(s\).*rows \[5, 400\]"),
    Claim("dropped row", _U + ("--train", "{dropped_row}"),
          r"every query needs a row for every model; 1 quer\(y/ies\) lack some"),
    Claim("no position column", _U + ("--train", "{no_position}"),
          r"models: cannot tell the chain order"),
    Claim("no correct column", _U + ("--train", "{no_correct}"),
          r"missing required column\(s\) \['correct'\]"),
    Claim("no cost column", _U + ("--train", "{no_cost}"),
          r"missing required column\(s\) \['cost_answer_usd'\]"),
    Claim("renamed column option", _U + ("--train", "{train}", "--query-col", "qid"),
          r"missing required column\(s\) \['qid'\]"),
    Claim("reference differs within a query", _U + ("--train", "{reference_differs}"),
          r"reference: the reference must be the same on all rows of a query"),
    Claim("--models names an unknown model", _U + ("--train", "{train}", "--models", "a,b"),
          r"models: \['a', 'b'\] not found in the model column"),
    Claim("--models repeats a model", _U + ("--train", "{train}", "--models",
                                             "llama3.2-1b,llama3.2-1b"),
          r"models: names must be distinct"),
    # train and test disagree
    Claim("test lacks a model", _U + ("--train", "{train}", "--test", "{test_lacks_model}"),
          rf"--test {_F}: models differ: lacks 'llama3.2-3b' of --train {_F}"),
    Claim("test renames a model", _U + ("--train", "{train}", "--test", "{test_renamed}"),
          r"models differ: lacks 'llama3.2-3b' .*has 'other', not in --train"),
    Claim("test model with a trailing space", _U + ("--train", "{train}", "--test",
                                                     "{test_space}"),
          r"models differ: .*has 'llama3.2-3b ', not in --train"),
    Claim("test has an extra model", _U + ("--train", "{train}", "--test",
                                           "{test_extra_model}"),
          r"models differ: has 'extra', not in --train"),
    Claim("test orders the chain differently", _U + ("--train", "{train}", "--test",
                                                      "{test_reordered}"),
          r"models differ: orders the models"),
    # tune options
    Claim("user log without --signal", ("tune", "--train", "{train}"),
          r"--signal: required with --train"),
    Claim("--test without --train", _T + ("--test", "{test}"), r"--test needs --train"),
    Claim("--benchmark with --train", _U + ("--benchmark", "mmlu", "--train", "{train}"),
          r"--benchmark and --train are exclusive"),
    Claim("--n-lambdas 0", _T[:-1] + ("0",), r"--n-lambdas: must be >= 1, got 0"),
    Claim("--n-lambdas negative", _T[:-1] + ("-3",), r"--n-lambdas: must be >= 1, got -3"),
    Claim("--lambda nan", _T + ("--lambda", "nan"), r"--lambda: every value must be finite"),
    Claim("--lambda negative", _T + ("--lambda", "1,-1"), r"--lambda: .*got \[-1.0\]"),
    Claim("--lambda empty", _T + ("--lambda", ","), r"--lambda: expected a non-empty list"),
    Claim("--lambda text", _T + ("--lambda", "x"), r"--lambda: expected comma-separated numbers"),
    Claim("--budget 0", _T + ("--budget", "0"), r"--budget: every value must be finite and > 0"),
    Claim("--budget inf", _T + ("--budget", "inf"), r"--budget: every value must be finite"),
    Claim("--budget below the first model", _T + ("--budget", "1"),
          r"budgets?: every budget must be at least the cost of the first model"),
    Claim("--cascade out of range", ("tune", "--cascade", "0,9"),
          r"--cascade: indices must lie in 0..4"),
    Claim("--cascade decreasing", ("tune", "--cascade", "3,1"),
          r"--cascade: indices must be strictly increasing"),
    Claim("--cascade repeated", ("tune", "--cascade", "1,1"),
          r"--cascade: indices must be strictly increasing"),
    Claim("--cascade empty", ("tune", "--cascade", ""), r"--cascade: must contain at least one"),
    Claim("--cascade text", ("tune", "--cascade", "a,b"),
          r"--cascade: expected comma-separated model indices"),
    Claim("--family unknown", _T + ("--family", "nope"), r"--family: expected 'auto' or one of"),
    Claim("--benchmark unknown", _T + ("--benchmark", "nope"),
          r"--benchmark: unknown benchmark 'nope'"),
    Claim("--chain unknown", _T + ("--chain", "nope"), r"--chain: unknown chain 'nope'"),
    Claim("--seed negative", _T + ("--seed", "-1"), r"--seed: a seed must be a non-negative"),
    Claim("option of another method", _T + ("--method", "grid", "--family", "frank"),
          r"--family: not an option of the grid method"),
    Claim("oracle without test data", ("tune", "--benchmark", "gsm8k", "--method", "oracle",
                                       "--cascade", "0,4"),
          r"--method oracle: needs labelled test data"),
    Claim("event-markov for the empirical model", _T + ("--method", "empirical-copula",
                                                        "--approximation", "event-markov"),
          r"--approximation: not an option of the empirical-copula method"),
    # outputs, checked before the work
    Claim("--output in a missing folder", _T + ("--output", "{d}/no/such/f.json"),
          rf"--output {_F}: the folder '{_F}' does not exist"),
    Claim("--output is a folder", _T + ("--output", "{d}"), rf"--output {_F}: is a folder"),
    Claim("--output under a file", _T + ("--output", "{a_file}/f.json"),
          rf"--output {_F}: '{_F}a_file' is a file, not a folder"),
    Claim("--output empty", _T + ("--output", ""), r"--output: an empty path"),
    Claim("select --output in a missing folder", _S + ("--output", "{d}/no/o.json"),
          r"--output \S+: the folder"),
    Claim("reproduce --output-dir is a file",
          _R[:-1] + ("{a_file}",), rf"--output-dir {_F}: exists and is not a folder"),
    Claim("monitor --json in a missing folder", ("monitor", "--policy", "{missing}", "--log",
                                                 "{train}", "--json", "{d}/no/r.json"),
          r"--json \S+: the folder"),
    # select
    Claim("select without --k or --budget", ("select",), r"--k or --budget is required"),
    Claim("select --k 0", ("select", "--k", "0"), r"--k: must be >= 1, got 0"),
    Claim("select --k larger than the pool", ("select", "--k", "100"),
          r"--k: cannot select 100 models from a pool of 9"),
    Claim("select --budget negative", ("select", "--budget", "-1"),
          r"--budget: must be a finite number > 0"),
    Claim("select --budget nan", ("select", "--budget", "nan"),
          r"--budget: must be a finite number > 0, got nan"),
    Claim("select --budget below every model", ("select", "--budget", "1e-9"),
          r"--budget: 1e-09 is below the cheapest model's cost"),
    Claim("select --n-boot 0", ("select", "--k", "2", "--n-boot", "0"), r"--n-boot: must be >= 1"),
    Claim("select --stop for top-k", ("select", "--k", "2", "--method", "top-k", "--stop",
                                      "permutation"), r"--stop: only greedy-mi"),
    Claim("select missing file", _S + ("--train", "{missing}"), rf"--train {_F}: no such file"),
    Claim("select truncated .csv.gz", _S + ("--train", "{truncated}"),
          rf"--train {_F}: the gzip data are damaged"),
    Claim("select 0-byte file", _S + ("--train", "{empty}"), rf"--train {_F}: the file is empty"),
    Claim("select non-UTF-8", _S + ("--train", "{latin1}"), rf"--train {_F}: not UTF-8 text"),
    Claim("select without an answer column", _S + ("--train", "{select_no_answer}"),
          rf"--train {_F}: missing column 'answer'"),
    Claim("select test renames a model", _S + ("--train", "{select_train}", "--test",
                                                "{select_test_renamed}"),
          rf"--test {_F}: models differ: lacks 'llama3.2-3b' of --train {_F}; has 'other'"),
    Claim("select --benchmark unknown", _S + ("--benchmark", "nope"),
          r"--benchmark: unknown benchmark 'nope'"),
    # reproduce
    Claim("reproduce --cascades 2-0", _R[:-3] + ("2-0", "--output-dir", "{d}/r"),
          r"--cascades: 2-0 is not a cascade; indices must increase"),
    Claim("reproduce --cascades out of range", _R[:-3] + ("0-9", "--output-dir", "{d}/r"),
          r"--cascades: 0-9 has indices outside 0..4"),
    Claim("reproduce --n-train 0", _R + ("--n-train", "0"),
          r"--n-train: each size must be an integer >= 2 or 'all', got '0'"),
    Claim("reproduce --n-train text", _R + ("--n-train", "many"), r"--n-train: .*got 'many'"),
    Claim("reproduce --n-train too large", _R + ("--n-train", "100000"),
          r"--n-train: \['100000'\] exceed the .* training queries"),
    Claim("reproduce --seeds 0", _R + ("--seeds", "0"), r"--seeds: must be >= 1"),
    Claim("reproduce --n-jobs 0", _R + ("--n-jobs", "0"), r"--n-jobs: expected a non-zero"),
    Claim("reproduce --k-min too large", _R[:-4] + ("--k-min", "9", "--output-dir", "{d}/r"),
          r"--k-min: no task to run: mmlu / llama has 5 models"),
    Claim("reproduce --methods unknown", _R + ("--methods", "nope"),
          r"--methods: unknown \['nope'\]"),
    Claim("reproduce --benchmarks without a test split", _R + ("--benchmarks", "gsm8k"),
          r"--benchmarks: 'gsm8k' has no test split"),
    Claim("reproduce --chains unknown", _R + ("--chains", "nope"),
          r"--chains: unknown chain 'nope'"),
    Claim("reproduce --n-lambdas 0", _R + ("--n-lambdas", "0"), r"--n-lambdas: must be >= 1"),
    Claim("reproduce --bo-calls 0", _R + ("--bo-calls", "0"), r"--bo-calls: must be >= 1"),
    Claim("reproduce --family unknown", _R + ("--family", "nope"),
          r"--family: expected 'auto' or one of"),
    # tune's policy options: choosing a frontier point, its guarantee, intervals, call logs
    Claim("--write-policy without a selector", _T + ("--write-policy", "{d}/p.json"),
          r"--write-policy: choose the point with exactly one of"),
    Claim("--write-policy with two selectors", _T + ("--write-policy", "{d}/p.json",
                                                    "--target-accuracy", "0.8",
                                                    "--max-share", "0.5"),
          r"--write-policy: choose the point with exactly one selector"),
    Claim("--write-policy in a missing folder", _T + ("--write-policy", "{d}/no/p.json",
                                                     "--target-accuracy", "0.8"),
          r"--write-policy \S+: the folder"),
    Claim("--write-policy is a folder", _T + ("--write-policy", "{d}", "--max-share", "0.5"),
          r"--write-policy \S+: is a folder"),
    Claim("--target-accuracy NaN", _T + ("--target-accuracy", "nan"),
          r"--target-accuracy: must lie in \[0, 1\]"),
    Claim("--target-accuracy above the frontier", _T + ("--write-policy", "{d}/p.json",
                                                       "--target-accuracy", "0.9999"),
          r"--target-accuracy: 0.9999 is above every accuracy"),
    Claim("--max-share negative", _T + ("--write-policy", "{d}/p.json", "--max-share", "-0.1"),
          r"--max-share: must lie in \[0, 1\]"),
    Claim("--budget below the first model's cost", _T + ("--write-policy", "{d}/p.json",
                                                        "--budget", "1e-6"),
          r"--budget: 1e-06 USD per million queries is below the cost of the first model"),
    Claim("--confidence-level without a target", _T + ("--confidence-level", "0.9"),
          r"--confidence-level: a guarantee is for a target accuracy"),
    Claim("--confidence-level 1", _T + ("--target-accuracy", "0.8", "--confidence-level", "1"),
          r"--confidence-level: must lie in \(0, 1\)"),
    Claim("--holdout 0", _T + ("--target-accuracy", "0.8", "--confidence-level", "0.9",
                               "--holdout", "0"), r"--holdout: must lie in \(0, 1\)"),
    Claim("--mix with a guarantee", _T + ("--write-policy", "{d}/p.json", "--target-accuracy",
                                          "0.8", "--confidence-level", "0.9", "--mix"),
          r"--mix: the guarantee certifies single points"),
    Claim("--level 2", _T + ("--intervals", "--level", "2"), r"--level: must lie in \(0, 1\)"),
    Claim("--n-resamples 1", _T + ("--intervals", "--n-resamples", "1"),
          r"--n-resamples: must be >= 2"),
    Claim("--n-jobs 0", _T + ("--intervals", "--n-resamples", "5", "--n-jobs", "0"),
          r"--n-jobs: expected None or a non-zero integer"),
    Claim("--call-log without --labels", _T + ("--call-log", "{calls}"),
          r"--call-log: needs --labels"),
    Claim("--call-log with --train", _U + ("--call-log", "{calls}", "--labels", "{labels}",
                                           "--train", "{train}"),
          r"--call-log and --train are exclusive"),
    Claim("--call-log missing", _U + ("--call-log", "{missing}", "--labels", "{labels}"),
          rf"--call-log {_F}: no such file"),
    Claim("--call-log is a folder", _U + ("--call-log", "{a_folder}", "--labels", "{labels}"),
          rf"--call-log {_F}: is a folder"),
    Claim("--call-log truncated .csv.gz", _U + ("--call-log", "{truncated}", "--labels",
                                                "{labels}"),
          rf"--call-log {_F}: the gzip data are damaged"),
    Claim("--call-log non-UTF-8", _U + ("--call-log", "{latin1}", "--labels", "{labels}"),
          rf"--call-log {_F}: not UTF-8 text"),
    Claim("--call-log without --signal", _T + ("--call-log", "{calls}", "--labels",
                                               "{labels}"), r"--signal: required with --call-log"),
    Claim("--call-log a labels file", _U + ("--call-log", "{labels}", "--labels", "{labels}"),
          rf"--call-log {_F}: missing column\(s\)"),
    Claim("--labels missing", _U + ("--call-log", "{calls}", "--labels", "{missing}"),
          rf"--labels {_F}: no such file"),
    Claim("--labels without a reference", _U + ("--call-log", "{calls}", "--labels",
                                                "{labels_no_reference}"),
          rf"--labels {_F}: needs a reference column"),
    Claim("--labels 0 bytes", _U + ("--call-log", "{calls}", "--labels", "{empty}"),
          rf"--labels {_F}: the file is empty"),
    Claim("--call-log with a test log of other models",
          _U + ("--call-log", "{calls}", "--labels", "{labels}", "--test",
                "{test_lacks_model}"),
          rf"--test {_F}: models differ: lacks '\S+' of --call-log {_F}"),
    # plan (through the same boundary and the same file reader)
    Claim("plan --train missing", _P + ("--train", "{missing}", "--signal", "logprob"),
          rf"--train {_F}: no such file"),
    Claim("plan --train truncated .csv.gz", _P + ("--train", "{truncated}", "--signal",
                                                  "logprob"),
          rf"--train {_F}: the gzip data are damaged"),
    Claim("plan --train non-UTF-8", _P + ("--train", "{latin1}", "--signal", "logprob"),
          rf"--train {_F}: not UTF-8 text"),
    Claim("plan --train a folder", _P + ("--train", "{a_folder}", "--signal", "logprob"),
          rf"--train {_F}: is a folder"),
    Claim("plan --train 0 bytes", _P + ("--train", "{empty}", "--signal", "logprob"),
          rf"--train {_F}: the file is empty"),
    Claim("plan --train plain CSV named .gz", _P + ("--train", "{plain}", "--signal",
                                                    "logprob"),
          rf"--train {_F}: not gzip-compressed"),
    Claim("plan --budget negative", ("plan", "--budget", "-1"), r"--budget: budgets must be"),
    Claim("plan --n-jobs 0", _P + ("--n-jobs", "0"), r"--n-jobs: expected a non-zero integer"),
    Claim("plan --output in a missing folder", _P + ("--output", "{d}/no/plan.json"),
          rf"--output {_F}: the folder"),
    # serve, replay, monitor (their own checks, through the same boundary)
    Claim("monitor missing policy", ("monitor", "--policy", "{missing}", "--log", "{train}"),
          rf"--policy {_F}: no such policy file"),
    Claim("monitor truncated .csv.gz call log", ("monitor", "--policy", "{policy}", "--log",
                                                 "{truncated}"),
          rf"--log {_F}: cannot be read as a call log"),
    Claim("monitor 0-byte call log", ("monitor", "--policy", "{policy}", "--log", "{empty}"),
          rf"--log {_F}: cannot be read as a call log"),
    Claim("monitor non-UTF-8 call log", ("monitor", "--policy", "{policy}", "--log",
                                         "{latin1}"), rf"--log {_F}: cannot be read"),
    Claim("monitor a chain log as a call log", ("monitor", "--policy", "{policy}", "--log",
                                                "{train}"),
          rf"--log {_F}: not a call log, missing column\(s\)"),
    Claim("monitor a policy that is not JSON", ("monitor", "--policy", "{train}", "--log",
                                                "{train}"), rf"--policy {_F}"),
    Claim("monitor --plot in a missing folder", ("monitor", "--policy", "{policy}", "--log",
                                                 "{train}", "--plot", "{d}/no/p.png"),
          r"--plot \S+: the folder"),
    Claim("monitor --window negative", ("monitor", "--policy", "{missing}", "--log", "{train}",
                                        "--window", "-1"), r"--window: must be >= 0"),
    Claim("serve missing policy", ("serve", "--policy", "{missing}", "--upstreams", "{missing}"),
          rf"--policy {_F}: no such policy file"),
    Claim("replay unknown benchmark", ("replay", "--benchmark", "nope"),
          r"--benchmark: invalid choice: 'nope'"),
    # replay's --fault/--delay are checked before the server starts (the out-of-range --port
    # keeps a regression from starting a server: it would fail on the port instead)
    Claim("replay --delay negative", ("replay", "--benchmark", "mmlu", "--port", "70000",
                                      "--delay", "gpt-4o=-1"),
          r"--delay: every delay must be a finite number of seconds >= 0"),
    Claim("replay --delay NaN", ("replay", "--benchmark", "mmlu", "--port", "70000",
                                 "--delay", "gpt-4o=nan"), r"--delay: every delay must be"),
    Claim("replay --delay not a number", ("replay", "--benchmark", "mmlu", "--port", "70000",
                                          "--delay", "gpt-4o=soon"),
          r"--delay gpt-4o=soon: bad value 'soon'"),
    Claim("replay --delay unknown model", ("replay", "--benchmark", "mmlu", "--port", "70000",
                                           "--delay", "gpt-5=1"),
          r"--delay: unknown model\(s\) \['gpt-5'\]"),
    Claim("replay --fault unknown kind", ("replay", "--benchmark", "mmlu", "--port", "70000",
                                          "--fault", "gpt-4o=boom"),
          r"--fault: unknown fault kind\(s\)"),
    Claim("replay --fault without =", ("replay", "--benchmark", "mmlu", "--port", "70000",
                                       "--fault", "gpt-4o"), r"--fault gpt-4o: expected MODEL=VALUE"),
    Claim("replay --port out of range", ("replay", "--benchmark", "mmlu", "--port", "70000"),
          r"--port: must lie in 0\.\.65535"),
)

#: Degenerate but valid input: the command works (status 0), with its documented warning.
VALID_EDGES: tuple[Claim, ...] = (
    Claim("one-model cascade", ("tune", "--cascade", "2", "--n-lambdas", "3"), "", status=0),
    Claim("constant signal (documented fallback)", _U + ("--train", "{constant_signal}"),
          r"warning: .*", status=0),
    Claim("a model always right in the training log (documented fallback)",
          _U + ("--train", "{always_right}"),
          r"warning: PlattCalibrator\(name='llama3.2-1b'\): correct: all \d+ training labels "
          r"are 1; falling back to the constant", status=0),
    Claim("gzip-compressed log", _U + ("--train", "{train_gz}"), "", status=0),
    Claim("--debug accepted after the command", _T + ("--debug",), "", status=0),
    Claim("tune from a call log and its labels", _U + ("--call-log", "{calls}", "--labels",
                                                       "{labels}"), "", status=0),
)


@contextlib.contextmanager
def shown_warnings() -> Iterator[None]:
    """Within the block, warnings are printed to stderr as for a user of the console script,
    even under pytest (which otherwise records them): a ``showwarning`` of our own that writes
    what ``warnings.formatwarning`` (the command line's one-line form) makes of them."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")

        def show(message, category, filename, lineno, file=None, line=None):
            sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

        warnings.showwarning = show
        yield


def run_claim(claim: Claim, paths: dict[str, str]) -> Outcome:
    """Run ``llmcopula`` in-process on the claim's argv and classify what happened."""
    from llmcopula.cli import main

    argv = [a.format(**paths) for a in claim.argv]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), shown_warnings():
        try:
            status = main(argv)
        except SystemExit as exc:  # only -h and --version may exit
            return Outcome("unclear", None, err.getvalue(), f"SystemExit({exc.code})")
        except BaseException:  # noqa: BLE001 - the point is to see it
            return Outcome("traceback", None, err.getvalue(), traceback.format_exc())
    return classify(claim, status, err.getvalue())


def classify(claim: Claim, status: int, stderr: str) -> Outcome:
    lines = [line for line in stderr.splitlines() if line.strip()]
    prog = r"llmcopula(?: [a-z]+)?"
    if claim.status == 0:
        if status != 0:
            return Outcome("unclear", status, stderr, "a valid input failed")
        if claim.expect and not any(re.search(claim.expect, line) for line in lines):
            return Outcome("unclear", status, stderr, "the documented warning is missing")
        return Outcome("clear", status, stderr)
    if status == 0:
        return Outcome("silent", status, stderr)
    errors = [line for line in lines if re.match(rf"{prog}: error: ", line)]
    others = [line for line in lines if not re.match(rf"{prog}: (error|warning): ", line)]
    if status != claim.status or len(errors) != 1 or others or lines[-1] != errors[0]:
        return Outcome("unclear", status, stderr, f"status {status}, {len(errors)} error lines")
    text = re.sub(rf"^{prog}: error: ", "", errors[0])
    if not re.search(claim.expect, text):
        return Outcome("unclear", status, stderr, f"does not match {claim.expect!r}")
    return Outcome("clear", status, stderr)


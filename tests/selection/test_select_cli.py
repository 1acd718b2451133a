"""Tests of the ``llmcopula select`` subcommand (llmcopula.selection.cli)."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from llmcopula.datasets import load_pool
from llmcopula.selection import cli
from llmcopula.selection.aggregation import MAPAggregator
from llmcopula.selection.information import mutual_information

pytestmark = pytest.mark.filterwarnings("ignore::llmcopula.selection.information.SparsePatternWarning")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llmcopula")
    cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["select", *argv])


def _long_table(n: int, seed: int, *, with_labels: bool = True) -> pd.DataFrame:
    """A user log: 4 models answering 3-class questions, model 0 best, with costs."""
    rng = np.random.default_rng(seed)
    y = rng.choice(list("abc"), size=n)
    acc = [0.8, 0.7, 0.6, 0.5]
    rows = []
    for q in range(n):
        for i, a in enumerate(acc):
            ans = y[q] if rng.random() < a else rng.choice([c for c in "abc" if c != y[q]])
            row = {"query_id": q, "model": f"m{i}", "answer": ans, "correct": int(ans == y[q]),
                   "cost_answer_usd": (i + 1) * 1e-6}
            if with_labels:
                row["reference"] = y[q]
            rows.append(row)
    return pd.DataFrame(rows)


def test_select_on_the_bundled_pool_writes_a_json_that_matches_the_library(tmp_path, capsys):
    out = tmp_path / "sel.json"
    assert cli.run(parse_args(["--benchmark", "mmlu", "--k", "2", "--n-boot", "50",
                               "--estimator", "plugin", "--aggregator", "map",
                               "--output", str(out)])) == 0
    doc = json.loads(out.read_text())
    train, test = load_pool("mmlu", "train"), load_pool("mmlu", "test")
    assert set(doc) >= {"selected", "mi_bits", "aggregator", "test_accuracy"}
    assert len(doc["selected"]) == 2 and set(doc["selected"]) <= set(train.models)
    cols = [train.models.index(m) for m in doc["selected"]]
    X, y = np.asarray(train.answer, dtype=str), np.asarray(train.reference, dtype=str)
    assert doc["mi_bits"] == pytest.approx(mutual_information(X[:, cols], y), abs=1e-12)
    agg = MAPAggregator(classes=list("ABCD")).fit(X[:, cols], y)
    expected = agg.score(np.asarray(test.answer, dtype=str)[:, cols],
                         np.asarray(test.reference, dtype=str))
    assert doc["test_accuracy"] == pytest.approx(expected, abs=1e-12)
    assert doc["mi_bits_ci"][0] <= doc["mi_bits_ci"][1]
    assert doc["accuracy_ci"][0] <= doc["test_accuracy"] <= doc["accuracy_ci"][1]
    printed = capsys.readouterr().out
    assert "selected: " + ", ".join(doc["selected"]) in printed


def test_budget_is_in_usd_per_million_queries_and_respected(tmp_path):
    out = tmp_path / "b.json"
    cli.run(parse_args(["--benchmark", "medmcqa", "--budget", "100", "--method", "top-k",
                        "--aggregator", "majority-vote", "--n-boot", "20", "--output", str(out)]))
    doc = json.loads(out.read_text())
    mean_cost = dict(zip(load_pool("medmcqa", "train").models,
                         load_pool("medmcqa", "train").mean_cost * 1e6))
    assert doc["total_cost"] == pytest.approx(sum(mean_cost[m] for m in doc["selected"]))
    assert doc["total_cost"] <= 100


def test_user_files_with_and_without_labels_give_the_same_selection(tmp_path):
    paths = {}
    for split, seed in (("train", 1), ("test", 2)):
        for labelled in (True, False):
            path = tmp_path / f"{split}_{labelled}.csv"
            _long_table(600, seed, with_labels=labelled).to_csv(path, index=False)
            paths[split, labelled] = str(path)
    docs = {}
    for labelled in (True, False):
        out = tmp_path / f"out_{labelled}.json"
        cli.run(parse_args(["--train", paths["train", labelled], "--test", paths["test", labelled],
                            "--k", "2", "--n-boot", "20", "--output", str(out)]))
        docs[labelled] = json.loads(out.read_text())
    # Every query has a correct model in most rows; where none is, the derived label is the
    # placeholder, so the two runs see slightly different label sets but agree on the first pick.
    assert docs[True]["selected"][0] == docs[False]["selected"][0] == "m0"
    assert docs[True]["cost_unit"] == "USD/1M queries"
    assert 0.5 < docs[True]["test_accuracy"] <= 1


def test_derived_labels_use_the_correct_answer_and_never_score_none_correct_queries():
    X = np.array([["a", "b"], ["c", "c"], ["a", "a"]])
    correct = np.array([[0, 1], [0, 0], [1, 1]])
    assert cli._derive_labels(X, correct, "t").tolist() == ["b", cli.NONE_CORRECT, "a"]
    with pytest.raises(ValueError, match="different answers marked correct"):
        cli._derive_labels(np.array([["a", "b"]]), np.array([[1, 1]]), "t")


def test_a_training_log_alone_is_scored_in_sample(tmp_path, capsys):
    path = tmp_path / "train.csv"
    _long_table(300, 3).to_csv(path, index=False)
    out = tmp_path / "o.json"
    cli.run(parse_args(["--train", str(path), "--k", "1", "--n-boot", "10", "--output", str(out)]))
    doc = json.loads(out.read_text())
    assert doc["test_accuracy"] is None and doc["accuracy_on"] == "train"
    assert "in-sample" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--benchmark", "mmlu"], "--k or --budget is required"),
    (["--benchmark", "mmlu", "--train", "x.csv", "--k", "1"], "exclusive"),
    (["--test", "x.csv", "--k", "1"], "--test needs --train"),
    (["--k", "1", "--method", "top-k", "--stop", "permutation"], "--stop"),
    (["--k", "1", "--n-boot", "0"], "--n-boot"),
    (["--k", "20"], "k: cannot select 20"),
])
def test_bad_arguments_raise_value_errors(argv, message):
    with pytest.raises(ValueError, match=message):
        cli.run(parse_args(argv))


def test_malformed_user_logs_raise_value_errors(tmp_path):
    frame = _long_table(50, 4)
    bad = {
        "missing column": (frame.drop(columns="answer"), "missing column"),
        "incomplete": (frame.iloc[1:], r"--train \S*incomplete.csv: every query needs a row for every model"),
        "duplicates": (pd.concat([frame, frame.iloc[:1]]), "duplicate .query, model. pair"),
        "correct": (frame.assign(correct=2), "correct: .* are not 0/1"),
        "cost": (frame.assign(cost_answer_usd=-1.0), "cost_answer_usd: .* negative"),
        "label": (frame.assign(reference=np.arange(len(frame)).astype(str)),
                  "reference: the reference must be the same"),
    }
    for name, (table, message) in bad.items():
        path = tmp_path / f"{name.replace(' ', '_')}.csv"
        table.to_csv(path, index=False)
        with pytest.raises(ValueError, match=message):
            cli.run(parse_args(["--train", str(path), "--k", "1", "--n-boot", "5"]))


def test_console_script_runs_select_and_reports_errors_with_status_2(tmp_path):
    from llmcopula.cli import main

    assert main(["select", "--k", "1", "--n-boot", "5"]) == 0
    assert main(["select", "--benchmark", "mmlu"]) == 2
    exe = shutil.which("llmcopula")
    if exe is None:
        pytest.skip("console script not installed")
    out = tmp_path / "s.json"
    proc = subprocess.run([exe, "select", "--k", "2", "--n-boot", "5", "--output", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["aggregator_option"] == cli.DEFAULT_AGGREGATOR
    assert doc["aggregator"] in ("majority-vote", "weighted-vote", "copula-bayes")


def test_defaults_report_the_model_prediction_next_to_the_realised_accuracy(tmp_path, capsys):
    """The default run (copula estimator, aggregator chosen by cross-validation) prints and
    writes the model's predicted accuracy with intervals, the error floor, the realised test
    accuracy and the train-chosen best single model, each recomputable from the library."""
    from llmcopula.selection import choose_aggregator, make_aggregator
    from llmcopula.selection.copula_information import CopulaInformation
    from llmcopula.selection.prediction import predict_ensemble

    out = tmp_path / "d.json"
    assert cli.run(parse_args(["--benchmark", "medmcqa", "--k", "3", "--n-boot", "20",
                               "--output", str(out)])) == 0
    doc = json.loads(out.read_text())
    assert doc["estimator"] == cli.DEFAULT_ESTIMATOR == "gaussian-copula"
    assert doc["aggregator_option"] == cli.DEFAULT_AGGREGATOR == "auto"
    train, test = load_pool("medmcqa", "train"), load_pool("medmcqa", "test")
    X, y = np.asarray(train.answer, dtype=str), np.asarray(train.reference, dtype=str)
    Xt, yt = np.asarray(test.answer, dtype=str), np.asarray(test.reference, dtype=str)
    cols = doc["selected_indices"]
    assert doc["mi_bits"] == pytest.approx(
        CopulaInformation(rng=0).fit(X, y).mutual_information(cols), abs=1e-9)
    choice = choose_aggregator(X[:, cols], y, classes=np.array(list("ABCD")), rng=0)
    assert doc["aggregator"] == choice.chosen
    assert doc["aggregator_cv_accuracy"] == dict(zip(choice.candidates, choice.accuracy.tolist()))
    agg = make_aggregator(choice.chosen, classes=list("ABCD"),
                          **({"rng": 0} if choice.chosen == "copula-bayes" else {}))
    agg.fit(X[:, cols], y)
    assert doc["test_accuracy"] == pytest.approx(agg.score(Xt[:, cols], yt), abs=1e-12)
    pred = predict_ensemble(X[:, cols], y, agg, n_test=yt.size, n_boot=20, level=0.9, rng=0)
    assert doc["predicted_accuracy"] == pytest.approx(pred.accuracy, abs=1e-12)
    assert doc["error_floor"] == pytest.approx(pred.bayes_error, abs=1e-12)
    lo, hi = doc["predicted_accuracy_interval"]
    assert lo <= doc["predicted_accuracy"] <= hi and doc["predicted_test_interval"][0] < hi
    best = int(np.argmax((X == y[:, None]).mean(axis=0)))
    assert doc["best_single_model"] == train.models[best]
    assert doc["best_single_accuracy"] == pytest.approx(np.mean(Xt[:, best] == yt))
    printed = capsys.readouterr().out
    assert "error floor of the set" in printed and "best single model" in printed


def test_the_readme_select_example_beats_the_train_chosen_best_single_model(tmp_path):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "llmcopula select --benchmark mmlu --k 3 --output selected.json" in readme
    out = tmp_path / "readme.json"
    assert cli.run(parse_args(["--benchmark", "mmlu", "--k", "3", "--n-boot", "5",
                               "--output", str(out)])) == 0
    doc = json.loads(out.read_text())
    assert doc["test_accuracy"] >= doc["best_single_accuracy"] + 0.01  # by at least one point
    assert f"test accuracy {doc['best_single_accuracy']:.4f}" in readme
    assert f"test accuracy: {doc['test_accuracy']:.4f}" in readme

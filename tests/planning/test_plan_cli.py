"""``llmcopula plan`` end to end on user logs, and its errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llmcopula.cli import main
from llmcopula.planning import plan_budget

from planning_toys import toy_pool

# m2 is dominated by the cheaper, more accurate m3: the Pareto set has 3 models, 4 cascades
ACC = (0.8, 0.88, 0.65, 0.75)
COST = (20.0, 60.0, 5.0, 2.0)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    train, test = (toy_pool(300, seed=4, accuracy=ACC, cost=COST),
                   toy_pool(400, seed=5, accuracy=ACC, cost=COST))
    paths = folder / "train.csv", folder / "test.csv.gz"
    train.to_frame().to_csv(paths[0], index=False)
    test.to_frame().to_csv(paths[1], index=False)
    return train, test, paths


def test_plan_prints_three_families_per_budget_and_writes_what_the_library_returns(
        files, tmp_path, capsys):
    train, test, (f_train, f_test) = files
    out = tmp_path / "plan.json"
    code = main(["plan", "--train", str(f_train), "--test", str(f_test), "--budget", "8,70",
                 "--signal", "logprob", "--cascades", "pareto", "--cascade-method", "grid", "--n-boot", "3",
                 "--max-ensemble", "2", "--seed", "3", "--output", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "budget 8 USD per million queries" in text and "budget 70 USD" in text
    assert "pool in cost order: m3, m2, m0, m1" in text
    for family in ("single", "cascade", "ensemble"):
        assert text.count(f"  {family} ") == 2
    doc = json.loads(out.read_text())
    assert doc["budgets"] == [8.0, 70.0] and len(doc["rows"]) == 6
    # the same plan from the library, on the logs read back from the files
    plan = plan_budget(train, test, budgets=[8.0, 70.0], cascades="pareto",
                       cascade_method="grid", n_boot=3, max_ensemble=2, rng=3)
    frame = plan.to_frame()
    for row, (_, ref) in zip(doc["rows"], frame.iterrows()):
        assert (row["family"], row["choice"]) == (ref.family, ref.choice)
        for col in ("predicted_accuracy", "predicted_cost", "test_accuracy", "test_cost"):
            assert row[col] == pytest.approx(ref[col], rel=1e-9, nan_ok=True) or (
                row[col] is None and np.isnan(ref[col]))
    assert doc["recommended"] == list(plan.recommend())


@pytest.mark.parametrize("argv, message", [
    (["--benchmark", "mmlu", "--budget", "-5"], "--budget"),
    (["--benchmark", "gsm8k", "--budget", "50"], "--benchmark"),
    (["--benchmark", "nope", "--budget", "50"], "--benchmark"),
    (["--test", "x.csv", "--budget", "50"], "--test needs --train"),
    (["--benchmark", "mmlu", "--budget", "50", "--n-boot", "0"], "--n-boot"),
    (["--benchmark", "mmlu", "--budget", "50", "--max-ensemble", "1"], "--max-ensemble"),
    (["--benchmark", "mmlu", "--budget", "50", "--n-lambdas", "1"], "--n-lambdas"),
])
def test_bad_options_exit_2_naming_the_option(argv, message, capsys):
    assert main(["plan", *argv]) == 2
    assert message in capsys.readouterr().err


def test_train_and_benchmark_are_exclusive_and_file_types_are_checked(files, tmp_path, capsys):
    _, _, (f_train, _) = files
    assert main(["plan", "--benchmark", "mmlu", "--train", str(f_train), "--budget", "5"]) == 2
    assert "exclusive" in capsys.readouterr().err
    bad = tmp_path / "log.txt"
    bad.write_text("x")
    assert main(["plan", "--train", str(bad), "--budget", "5", "--signal", "logprob"]) == 2
    assert f"--train {bad}: unsupported file type" in capsys.readouterr().err
    assert main(["plan", "--train", str(f_train), "--budget", "5"]) == 2
    assert "--signal: needed" in capsys.readouterr().err


def test_unknown_choices_are_refused_by_the_parser(capsys):
    assert main(["plan", "--benchmark", "mmlu", "--budget", "50", "--cascade-method",
                 "oracle"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llmcopula plan: error: --cascade-method: invalid choice")

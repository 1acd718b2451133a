"""`llmcopula tune` on bundled data and on user files."""

import json
import subprocess
import sys

from llmcopula.cli import main
from llmcopula.datasets import load_benchmark


def test_tune_on_bundled_data_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "frontier.json"
    code = main(["tune", "--benchmark", "mmlu", "--chain", "llama", "--cascade", "0,4",
                 "--n-lambdas", "6", "--output", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "llama3.2-1b -> 4:llama3.1-405b" in printed and "test acc" in printed
    doc = json.loads(out.read_text())
    assert doc["models"] == ["llama3.2-1b", "llama3.1-405b"]
    assert doc["cascade"] == [0, 4] and doc["method"] == "markov-copula"
    assert len(doc["points"]) >= 3
    for point in doc["points"]:
        assert len(point["thresholds"]) == 1 and len(point["raw_thresholds"]) == 1
        assert set(point["predicted"]) == {"accuracy", "cost", "stage_usage"}
        assert set(point["test"]) == {"accuracy", "cost", "stage_usage"}
        assert [r["direction"] for r in point["rules"]] == ["above"]
        assert 15 < point["test"]["cost"] < 700  # USD per million queries
    costs = [p["predicted"]["cost"] for p in doc["points"]]
    assert costs == sorted(costs)


def test_tune_with_budgets_respects_them(tmp_path):
    out = tmp_path / "b.json"
    assert main(["tune", "--benchmark", "medmcqa", "--chain", "qwen_oai", "--cascade", "0,3",
                 "--budget", "60,200", "--output", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert [p["budget"] for p in doc["points"]] == [60.0, 200.0]
    assert all(p["predicted"]["cost"] <= p["budget"] * (1 + 1e-6) for p in doc["points"])


def test_tune_on_user_files_without_a_test_split(tmp_path):
    log = load_benchmark("triviaqa", "llama", split="train")
    frame = log.to_frame().rename(columns={"raw_confidence": "conf", "query_id": "q"})
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "f.json"
    code = main(["tune", "--train", str(path), "--confidence-col", "conf", "--query-col", "q",
                 "--signal", "p_true", "--cascade", "1,3", "--lambda", "1e-4,1e-3",
                 "--output", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert all("test" not in p for p in doc["points"])
    assert doc["models"] == ["llama3.2-3b", "llama3.1-70b"]


def test_bad_input_is_a_one_line_error(tmp_path, capsys):
    assert main(["tune", "--benchmark", "gsm8k", "--cascade", "3,1"]) == 2
    assert "cascade" in capsys.readouterr().err
    path = tmp_path / "bad.csv"
    path.write_text("query_id,model,raw_confidence,correct,cost_answer_usd,position\n"
                    "0,a,-0.1,2,1e-6,0\n0,b,-0.2,1,1e-6,1\n")
    assert main(["tune", "--train", str(path), "--signal", "logprob"]) == 2
    assert "correct" in capsys.readouterr().err
    assert main(["tune", "--benchmark", "mmlu", "--method", "empirical-copula",
                 "--approximation", "event-markov"]) == 2
    assert "--approximation" in capsys.readouterr().err


def test_console_script_is_installed():
    res = subprocess.run([sys.executable, "-m", "llmcopula.cli", "--help"], capture_output=True,
                         text=True, check=True)
    assert "tune" in res.stdout


def test_tune_with_the_empirical_copula_model(tmp_path, capsys):
    out = tmp_path / "emp.json"
    assert main(["tune", "--benchmark", "mmlu", "--chain", "llama", "--cascade", "0,2,4",
                 "--method", "empirical-copula", "--n-lambdas", "8", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "method: empirical-copula" in printed and "copula family" not in printed
    doc = json.loads(out.read_text())
    assert doc["method"] == "empirical-copula" and doc["cascade"] == [0, 2, 4]
    acc = [p["predicted"]["accuracy"] for p in doc["points"]]
    assert len(acc) >= 4 and acc == sorted(acc)  # Pareto: costlier points are more accurate
    # the smoothed training objective tracks the training data, and the test data follows
    assert all(abs(p["test"]["accuracy"] - p["predicted"]["accuracy"]) < 0.08
               for p in doc["points"])
    budget = tmp_path / "emp_budget.json"
    assert main(["tune", "--benchmark", "mmlu", "--chain", "llama", "--cascade", "0,4",
                 "--method", "empirical-copula", "--budget", "100",
                 "--output", str(budget)]) == 0
    point = json.loads(budget.read_text())["points"][0]
    assert point["predicted"]["cost"] <= 100 * (1 + 1e-6)

"""The serve / replay / monitor command lines: one-line errors with exit status 2 for bad input,
the monitor's exit status and outputs, and the gateway's import footprint."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from serve_helpers import build_test_policy, write_upstreams

from llmcopula.cli import main
from llmcopula.datasets import load_benchmark, load_labels
from llmcopula.serve.call_log import COLUMNS

CASCADE = ("llama3.1-8b", "llama3.1-70b", "llama3.1-405b")


def _error_line(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


@pytest.fixture
def files(tmp_path):
    policy = build_test_policy("mmlu", "llama", CASCADE)
    policy.save(tmp_path / "policy.json")
    write_upstreams(tmp_path / "up.toml", CASCADE, "http://127.0.0.1:9/v1")
    return tmp_path


@pytest.mark.parametrize("change, expected", [
    (lambda d: ["--policy", str(d / "absent.json")], r"--policy .*absent\.json: no such policy file"),
    (lambda d: ["--upstreams", str(d / "bad.toml")], r"--upstreams .*bad\.toml: not valid TOML"),
    (lambda d: ["--upstreams", str(d / "short.toml")],
     r"the policy's cascade model\(s\) \['llama3\.1-405b'\] have no"),
    (lambda d: ["--shadow-rate", "1.5"], r"--shadow-rate: must lie in \[0, 1\]"),
    (lambda d: ["--api-key-env", "LLMCOPULA_TEST_UNSET_VAR"], r"environment variable is not set"),
    (lambda d: ["--call-log", str(d / "calls.txt")], r"--call-log .*must be a \.csv or \.parquet"),
    (lambda d: ["--workers", "0"], r"--workers: must be >= 1"),
])
def test_serve_rejects_bad_input_with_one_line_and_status_2(files, capsys, change, expected):
    (files / "bad.toml").write_text("[models.\n")
    write_upstreams(files / "short.toml", CASCADE[:2], "http://127.0.0.1:9/v1")
    argv = ["serve", "--policy", str(files / "policy.json"), "--upstreams",
            str(files / "up.toml"), "--port", "0"]
    extra = change(files)
    for i in range(0, len(extra), 2):  # later options override earlier ones
        if extra[i] in argv:
            argv[argv.index(extra[i]) + 1] = extra[i + 1]
        else:
            argv += extra[i:i + 2]
    err = _error_line(capsys, argv)
    assert err.startswith("llmcopula serve: error: ")
    assert re.search(expected, err), err


def test_upstreams_fields_are_checked_by_name(files, capsys):
    (files / "up2.toml").write_text('[models."llama3.1-8b"]\nbase_url = "ftp://x"\n')
    err = _error_line(capsys, ["serve", "--policy", str(files / "policy.json"), "--upstreams",
                               str(files / "up2.toml")])
    assert "models.'llama3.1-8b'.base_url: expected an http(s) URL" in err
    (files / "up3.toml").write_text(
        '[models."llama3.1-8b"]\nbase_url = "http://x/v1"\nsignal = "p_true"\n'
        '[models."llama3.1-70b"]\nbase_url = "http://x/v1"\n'
        '[models."llama3.1-405b"]\nbase_url = "http://x/v1"\n')
    err = _error_line(capsys, ["serve", "--policy", str(files / "policy.json"), "--upstreams",
                               str(files / "up3.toml")])
    assert "signal is 'p_true' but the policy was tuned on 'logprob'" in err


def test_abbreviated_options_are_not_accepted(files, capsys):
    assert main(["serve", "--pol", str(files / "policy.json"), "--upstreams", "u.toml"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("llmcopula serve: error: --policy: required")


def _call_log_from_offline_routing(policy, log, rows, path):
    """A call log as the gateway writes it, for recorded queries routed offline."""
    stage = policy.route(log.confidence[rows], columns=log.models)
    out = []
    for i, q in enumerate(rows):
        for j in range(stage[i] + 1):
            m = policy.cascade_models[j]
            k = log.models.index(m)
            out.append({"query_id": f"q{q}", "model": m, "position": k, "stage": j,
                        "role": "served" if j == stage[i] else "deferred",
                        "raw_confidence": log.confidence[q, k], "correct": "",
                        "cost_usd": log.cost[q, k], "cost_answer_usd": log.cost[q, k],
                        "input_tokens": 1, "output_tokens": 1, "latency_s": 0.01,
                        "answer": log.answer[q, k], "error": "", "attempts": 1,
                        "timestamp": 1000.0 + i})
    pd.DataFrame(out, columns=list(COLUMNS)).to_csv(path, index=False)


def test_monitor_exit_status_is_1_on_the_medmcqa_shift_and_0_on_training_traffic(
        tmp_path, capsys):
    train = load_benchmark("medmcqa", "llama", "train")
    test = load_benchmark("medmcqa", "llama", "test")
    policy = build_test_policy("medmcqa", "llama", CASCADE)
    policy.save(tmp_path / "p.json")
    _call_log_from_offline_routing(policy, test, np.arange(500), tmp_path / "shifted.csv")
    _call_log_from_offline_routing(policy, train, np.arange(300), tmp_path / "same.csv")
    argv = ["monitor", "--policy", str(tmp_path / "p.json"), "--json", str(tmp_path / "r.json"),
            "--plot", str(tmp_path / "r.png")]
    assert main(argv + ["--log", str(tmp_path / "shifted.csv")]) == 1
    out = capsys.readouterr().out
    assert "ALARM" in out and "acceptance" in out and "signal" in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["alarm"] and report["n_requests"] == 500
    assert (tmp_path / "r.png").stat().st_size > 1000
    assert main(argv + ["--log", str(tmp_path / "same.csv")]) == 0
    assert "within bounds" in capsys.readouterr().out
    labels = load_labels("medmcqa", "train").assign(query_id=lambda f: "q" + f.query_id.astype(str))
    labels.to_csv(tmp_path / "labels.csv", index=False)
    assert main(argv + ["--log", str(tmp_path / "same.csv"), "--labels",
                        str(tmp_path / "labels.csv")]) == 0
    accuracy = [c for c in json.loads((tmp_path / "r.json").read_text())["checks"]
                if c["check"] == "accuracy"][0]
    assert accuracy["observed"] == accuracy["reference"]  # same queries, same routing


def test_monitor_rejects_bad_input_with_status_2(tmp_path, capsys):
    policy = build_test_policy("medmcqa", "llama", CASCADE)
    policy.save(tmp_path / "p.json")
    (tmp_path / "junk.csv").write_text("a,b\n1,2\n")
    err = _error_line(capsys, ["monitor", "--policy", str(tmp_path / "p.json"), "--log",
                               str(tmp_path / "junk.csv")])
    assert err.startswith("llmcopula monitor: error: --log ") and "missing column" in err
    err = _error_line(capsys, ["monitor", "--policy", str(tmp_path / "p.json"), "--log",
                               str(tmp_path / "absent.csv")])
    assert "no such call log" in err


def test_replay_rejects_bad_faults_with_status_2(capsys):
    err = _error_line(capsys, ["replay", "--benchmark", "mmlu", "--fault", "gpt-4o=explode",
                               "--port", "0"])
    assert err.startswith("llmcopula replay: error: ") and "unknown fault kind" in err


def test_the_gateway_process_imports_neither_pandas_nor_the_fitting_stack():
    code = ("import sys, llmcopula.serve.gateway, llmcopula.serve.run; "
            "bad = [m for m in ('pandas', 'scipy', 'llmcopula.cascade', 'llmcopula.copulas', "
            "'llmcopula.calibration', 'llmcopula.selection', 'llmcopula.datasets') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_modules_import_only_the_allowed_layers():
    import ast
    from pathlib import Path

    import llmcopula.serve as serve

    forbidden = ("cascade", "copulas", "selection", "calibration", "ranking", "fusion")
    for path in Path(serve.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                parts = name.split(".")
                assert not (parts[0] == "llmcopula" and len(parts) > 1
                            and parts[1] in forbidden), f"{path.name} imports {name}"

"""`llmcopula tune --method posterior --write-policy`: the file holds posterior rules, and
routing the test log with it (batch and one decision at a time) reproduces the point's test
numbers; the guarantee is refused with its reason."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llmcopula.cli import main
from llmcopula.datasets import load_benchmark
from llmcopula.policy import CascadePolicy, PosteriorRule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # constant first-stage Platt fits


def _tune(tmp_path, benchmark, cascade, extra):
    policy_path, front_path = tmp_path / "p.json", tmp_path / "front.json"
    argv = ["tune", "--benchmark", benchmark, "--chain", "llama", "--cascade", cascade,
            "--method", "posterior", "--model", "empirical-copula", "--n-lambdas", "5",
            "--n-resamples", "5", "--write-policy", str(policy_path),
            "--output", str(front_path)] + extra
    assert main(argv) == 0
    return CascadePolicy.load(policy_path), json.loads(front_path.read_text())


def _routed(policy, test):
    stage = policy.route(test.confidence, answers=test.answer, columns=list(test.models))
    idx = [test.models.index(m) for m in policy.cascade_models]
    rows = np.arange(test.n_queries)
    acc = test.correct[:, idx][rows, stage].mean()
    cost = np.cumsum(test.cost[:, idx], axis=1)[rows, stage].mean() * 1e6
    return stage, idx, acc, cost


@pytest.mark.parametrize("benchmark, cascade, extra", [
    ("triviaqa", "0,2,4", ["--target-accuracy", "0.8"]),
    ("mmlu", "0,2,4", ["--max-share", "0.3"]),
    ("medmcqa", "1,3", ["--budget", "60"]),
])
def test_posterior_policy_file_reproduces_the_chosen_points_test_numbers(
        tmp_path, capsys, benchmark, cascade, extra):
    policy, front = _tune(tmp_path, benchmark, cascade, extra)
    out = capsys.readouterr().out
    assert policy.method == "posterior"
    assert all(isinstance(r, PosteriorRule) for r in policy.rules)
    assert all(r.normalizer == {"kind": "text", "max_chars": 64} for r in policy.rules)
    if len(policy.rules) > 1:  # a later stage compares its answer with the earlier ones
        assert any(policy.rules[-1].agree_coef) or any(policy.rules[-1].disagree_coef)
    test = load_benchmark(benchmark, "llama", split="test")
    stage, idx, acc, cost = _routed(policy, test)
    point = front["points"][policy.selection["point"]]
    assert acc == point["test"]["accuracy"]
    assert cost == pytest.approx(point["test"]["cost"], rel=1e-12)
    assert f"on the test split: accuracy {acc:.4f}, cost {cost:.2f}" in out
    # the --output file carries the same deployable rules as the policy
    assert point["rules"] == [r.to_dict() for r in policy.rules]
    # one decision at a time, as the gateway calls it, gives the batch routing
    for q in range(0, test.n_queries, 7):
        for j in range(policy.n_stages):
            if policy.decide(j, test.confidence[q, idx[: j + 1]],
                             list(test.answer[q, idx[: j + 1]])):
                break
        assert j == stage[q]


def test_posterior_policy_monitoring_routes_the_training_queries_with_their_answers(tmp_path):
    policy, _ = _tune(tmp_path, "triviaqa", "0,2,4", ["--target-accuracy", "0.8"])
    train = load_benchmark("triviaqa", "llama", split="train")
    stage, idx, acc, _ = _routed(policy, train)
    assert policy.monitoring["accuracy"] == pytest.approx(acc, abs=1e-15)
    assert [s["accepted"] for s in policy.monitoring["stages"]] == \
        np.bincount(stage, minlength=policy.n_stages).tolist()


def test_tune_refuses_the_guarantee_for_posterior_frontiers_and_says_why(tmp_path, capsys,
                                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["tune", "--benchmark", "triviaqa", "--chain", "llama", "--cascade", "0,2",
            "--method", "posterior", "--n-lambdas", "3", "--target-accuracy", "0.8",
            "--confidence-level", "0.9", "--write-policy", "p.json"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--confidence-level" in err and "posterior log-odds" in err
    assert not (tmp_path / "p.json").exists()

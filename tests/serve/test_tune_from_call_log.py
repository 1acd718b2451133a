"""Re-tuning from live traffic: the gateway's shadow-traffic call log, joined with labels, is the
training log of ``llmcopula tune --call-log ... --labels ...``."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
from serve_helpers import build_test_policy, prompt_of, write_upstreams

from llmcopula.cli import main
from llmcopula.datasets import load_benchmark, load_labels, load_questions, read_call_log
from llmcopula.deploy import log_fingerprint
from llmcopula.policy import CascadePolicy
from llmcopula.serve.gateway import ServeConfig, create_app
from llmcopula.serve.replay import ReplayData, create_replay_app

N = 60


def test_tune_trains_on_the_complete_labelled_requests_of_a_gateway_call_log(
        tmp_path, start_app, capsys):
    replay = start_app(create_replay_app(ReplayData.load("mmlu", "test")))
    policy = build_test_policy("mmlu", "llama", ("llama3.2-1b", "llama3.1-405b"))
    policy.save(tmp_path / "policy.json")
    chain = [m.name for m in policy.chain_models]
    up = write_upstreams(tmp_path / "up.toml", chain, replay.url + "/v1")
    log_path = tmp_path / "calls.csv"
    gateway = start_app(create_app(ServeConfig(policy=str(tmp_path / "policy.json"),
                                               upstreams=str(up), call_log=str(log_path),
                                               shadow_rate=1.0)))
    questions = load_questions("mmlu", "test")
    with httpx.Client(base_url=gateway.url, timeout=30.0) as client:
        for i in range(N):
            body = {"model": "cascade",
                    "messages": [{"role": "user", "content": prompt_of(questions.iloc[i])}]}
            r = client.post("/v1/chat/completions", json=body, headers={"x-request-id": f"q{i}"})
            assert r.status_code == 200
    gateway.stop()  # flushes the call log
    labels = load_labels("mmlu", "test").iloc[:N].assign(query_id=lambda f: [
        f"q{q}" for q in f.query_id])
    labels.to_csv(tmp_path / "labels.csv", index=False)

    out = tmp_path / "retuned.json"
    argv = ["tune", "--call-log", str(log_path), "--labels", str(tmp_path / "labels.csv"),
            "--signal", "logprob", "--cascade", "0,4", "--method", "empirical-copula",
            "--n-lambdas", "6", "--n-resamples", "20", "--target-accuracy", "0.6",
            "--write-policy", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    data = read_call_log(log_path, tmp_path / "labels.csv", signal="logprob")
    assert data.n_used + data.n_skipped == N and data.n_used >= N - 5
    assert data.summary() in captured.err and "call log" in captured.out
    retuned = CascadePolicy.load(out)
    assert retuned.training["n_queries"] == data.n_used
    assert retuned.training["sha256"] == log_fingerprint(data.log)["sha256"]
    # the call log's signals are the recorded ones: the training log equals the bundled rows
    test = load_benchmark("mmlu", "llama", "test")
    calls = pd.read_csv(log_path, keep_default_na=False, dtype={"query_id": str})
    row = calls[(calls.query_id == "q3") & (calls.model == "llama3.1-8b")].iloc[0]
    assert np.isclose(float(row.raw_confidence), test.confidence[3, 2], rtol=1e-12)


def test_call_log_options_are_checked(tmp_path, capsys):
    for argv, expected in (
            (["--call-log", "c.csv"], "--call-log: needs --labels"),
            (["--labels", "l.csv"], "--labels: needs --call-log"),
            (["--call-log", "c.csv", "--labels", "l.csv", "--benchmark", "mmlu"],
             "--call-log and --benchmark are exclusive"),
            (["--call-log", "c.csv", "--labels", "l.csv", "--train", "t.csv"],
             "--call-log and --train are exclusive")):
        assert main(["tune", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert expected in err and "\n" not in err

"""End to end: replay upstreams, the gateway with a policy, and every MMLU test question sent by
32 concurrent official ``openai`` clients. The served answers, stages and costs must equal offline
routing of the recorded test log with the same policy."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import openai
import pandas as pd
import pytest
from serve_helpers import build_test_policy, prompt_of, write_upstreams

from llmcopula.datasets import load_benchmark, load_labels, load_questions
from llmcopula.monitoring import PROFILE_KIND
from llmcopula.serve.replay import ReplayData

CASCADE = ("llama3.2-1b", "llama3.1-8b", "llama3.1-405b")


def _metric(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        match = re.match(rf"{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def _offline(policy, log, keys):
    """Stage, correctness and cost of each query under offline routing of the recorded log."""
    stage = policy.route(log.confidence, columns=log.models, keys=keys)
    cols = np.array([log.models.index(m) for m in policy.cascade_models])
    n = log.n_queries
    correct = log.correct[np.arange(n), cols[stage]]
    reached = np.arange(len(cols))[None, :] <= stage[:, None]
    cost = np.where(reached, log.cost[:, cols], 0.0).sum(axis=1)
    return stage, correct, cost


def test_all_mmlu_test_questions_through_two_workers_match_offline_routing(
        tmp_path, start_server, mmlu_replay):
    # A randomised policy, so that the request id (the mixture key) must be carried through.
    policy = build_test_policy("mmlu", "llama", CASCADE, mix=True)
    policy.save(tmp_path / "policy.json")
    assert policy.is_randomized and policy.selection["by"] == "target_accuracy"
    assert policy.monitoring["kind"] == PROFILE_KIND
    upstreams = write_upstreams(tmp_path / "up.toml", CASCADE, mmlu_replay.url + "/v1")
    log_path = tmp_path / "calls.csv"
    gateway = start_server(["serve", "--policy", str(tmp_path / "policy.json"), "--upstreams",
                            str(upstreams), "--port", "0", "--workers", "2", "--call-log",
                            str(log_path)], "gateway")

    questions = load_questions("mmlu", "test")
    local = threading.local()

    def ask(row) -> tuple[int, str, int, str, float, float]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="unused",
                                                  max_retries=0, timeout=60)
        raw = client.chat.completions.with_raw_response.create(
            model="cascade", messages=[{"role": "user", "content": prompt_of(row)}],
            extra_headers={"x-request-id": f"q{row.query_id}"})
        completion = raw.parse()
        return (int(row.query_id), completion.choices[0].message.content, int(
            raw.headers["x-llmcopula-stage"]), completion.model,
            float(raw.headers["x-llmcopula-confidence"]), float(raw.headers["x-llmcopula-cost-usd"]))

    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(ask, questions.itertuples(index=False)))
    metrics = httpx.get(gateway.url + "/metrics", timeout=10).text
    assert gateway.terminate() == 0  # SIGTERM: graceful, the call log is flushed

    served = pd.DataFrame(answers, columns=["query_id", "content", "stage", "model", "raw",
                                            "cost"]).sort_values("query_id")
    assert len(served) == 1531 and served.query_id.tolist() == list(range(1531))

    log = load_benchmark("mmlu", "llama", "test")
    keys = [f"q{q}" for q in log.query_ids]
    stage, correct, cost = _offline(policy, log, keys)
    reference = load_labels("mmlu", "test")["reference"].to_numpy()
    keep = ~np.isin(log.query_ids, sorted(ReplayData.load("mmlu", "test").ambiguous))
    assert keep.sum() == 1527
    assert np.array_equal(served.stage.to_numpy()[keep], stage[keep])
    assert served.model.tolist() == [CASCADE[s] for s in served.stage]
    served_correct = (served.content.to_numpy() == reference).astype(int)
    assert np.array_equal(served_correct[keep], correct[keep])
    assert served_correct[keep].mean() == correct[keep].mean()
    np.testing.assert_allclose(served.cost.to_numpy()[keep], cost[keep], rtol=1e-9, atol=0)
    assert served.cost.to_numpy()[keep].mean() == pytest.approx(cost[keep].mean(), rel=1e-12)
    # the confidence header is the recorded raw signal of the answering model
    cols = [log.models.index(m) for m in CASCADE]
    recorded = log.confidence[np.arange(1531), np.array(cols)[served.stage.to_numpy()]]
    assert np.array_equal(served.raw.to_numpy()[keep], recorded[keep])

    calls = pd.read_csv(log_path, keep_default_na=False, dtype={"query_id": str, "answer": str})
    # exactly one row per model reached per request: nothing lost, nothing duplicated
    assert not calls.duplicated(["query_id", "model"]).any()
    per_request = calls.groupby("query_id").size()
    expected = pd.Series(served.stage.to_numpy() + 1, index=[f"q{q}" for q in served.query_id])
    assert per_request.sort_index().equals(expected.sort_index())
    assert (calls.error == "").all() and set(calls.role) == {"served", "deferred"}
    # /metrics (summed over the two workers) agrees with the call log
    assert _metric(metrics, "llmcopula_requests_total", code="200") == 1531
    for m in CASCADE:
        assert _metric(metrics, "llmcopula_stage_answers_total", model=m) == (
            (calls.role == "served") & (calls.model == m)).sum()
    assert _metric(metrics, "llmcopula_upstream_errors_total") == 0
    assert _metric(metrics, "llmcopula_cost_usd_total") == pytest.approx(calls.cost_usd.sum(),
                                                                          rel=1e-9)
    assert _metric(metrics, "llmcopula_request_latency_seconds_count") == 1531

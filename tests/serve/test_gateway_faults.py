"""The gateway under faults and bad requests: each fault of a non-final stage is a logged deferral,
the same fault at the final stage is a 502 that names the model, bad requests get 4xx, and the
call log holds exactly one row per model reached per request."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import openai
import pandas as pd
import pytest
from serve_helpers import build_test_policy, prompt_of, write_upstreams

from llmcopula.datasets import load_benchmark, load_questions
from llmcopula.policy import CascadePolicy
from llmcopula.serve.gateway import ServeConfig, create_app
from llmcopula.serve.replay import ReplayData, create_replay_app

QUESTIONS = load_questions("mmlu", "test")


def _body(i: int, **extra) -> dict:
    return {"model": "cascade", "messages": [{"role": "user",
                                              "content": prompt_of(QUESTIONS.iloc[i])}], **extra}


def _calls(path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"query_id": str, "answer": str,
                                                           "error": str})


@pytest.fixture(scope="module")
def replay_data():
    return ReplayData.load("mmlu", "test")


def _gateway(tmp_path, start_app, policy: CascadePolicy, urls, *, name="g", timeout_s=5.0,
             max_retries=1, **config):
    policy.save(tmp_path / f"{name}.json")
    models = [m.name for m in policy.chain_models] if config.get("shadow_rate") else list(
        policy.cascade_models)
    up = write_upstreams(tmp_path / f"{name}.toml", models, urls, timeout_s=timeout_s,
                         max_retries=max_retries)
    log = tmp_path / f"{name}.csv"
    cfg = ServeConfig(policy=str(tmp_path / f"{name}.json"), upstreams=str(up),
                      call_log=str(log), **config)
    return start_app(create_app(cfg)), log


def test_non_final_faults_are_logged_deferrals_and_the_final_stage_answers(
        tmp_path, start_app, replay_data):
    cascade = ("llama3.2-1b", "llama3.2-3b", "llama3.1-8b", "llama3.1-405b")
    replay = start_app(create_replay_app(
        replay_data, faults={"llama3.2-1b": "no_logprobs", "llama3.1-8b": "invalid_json"},
        delays={"llama3.2-3b": 3.0}))
    policy = build_test_policy("mmlu", "llama", cascade)
    gateway, log = _gateway(tmp_path, start_app, policy, replay.url + "/v1", timeout_s=0.3)
    with httpx.Client(base_url=gateway.url, timeout=2.5) as client:  # below the 3 s delay
        for i in range(6):
            r = client.post("/v1/chat/completions", json=_body(i), headers={"x-request-id": f"r{i}"})
            assert r.status_code == 200
            assert r.headers["x-llmcopula-model"] == "llama3.1-405b"
            assert r.headers["x-llmcopula-stage"] == "3"
            assert r.json()["model"] == "llama3.1-405b"
            assert r.json()["choices"][0]["message"]["content"] == replay_data.answer[
                "llama3.1-405b"][i]
        metrics = client.get("/metrics").text
    gateway.stop()
    calls = _calls(log)
    assert len(calls) == 6 * 4 and not calls.duplicated(["query_id", "model"]).any()
    errors = calls.set_index(["query_id", "model"])["error"]
    for i in range(6):
        assert errors[(f"r{i}", "llama3.2-1b")] == "no_logprobs"
        assert errors[(f"r{i}", "llama3.2-3b")] == "timeout"
        assert errors[(f"r{i}", "llama3.1-8b")] == "invalid_json"
        assert errors[(f"r{i}", "llama3.1-405b")] == ""
    assert (calls[calls.error != ""].attempts == 2).all()  # one retry each
    assert (calls[calls.error != ""].raw_confidence == "").all()
    assert set(calls[calls.model == "llama3.1-405b"].role) == {"served"}
    for kind, model in (("no_logprobs", "llama3.2-1b"), ("timeout", "llama3.2-3b"),
                        ("invalid_json", "llama3.1-8b")):
        assert (f'llmcopula_upstream_errors_total{{kind="{kind}",model="{model}"}} 6.0'
                in metrics)


@pytest.mark.parametrize("fault", ["no_logprobs", "invalid_json", "http_500", "slow"])
def test_a_fault_at_the_final_stage_gives_502_naming_the_model(tmp_path, start_app, replay_data,
                                                                fault):
    final = "llama3.1-70b"
    replay = start_app(create_replay_app(
        replay_data, faults={} if fault == "slow" else {final: fault},
        delays={final: 3.0} if fault == "slow" else {}))
    policy = build_test_policy("mmlu", "llama", ("llama3.2-1b", final))
    gateway, log = _gateway(tmp_path, start_app, policy, replay.url + "/v1", timeout_s=0.3)
    stage = policy.route(load_benchmark("mmlu", "llama", "test").confidence,
                               columns=load_benchmark("mmlu", "llama", "test").models)
    deferred = [int(i) for i in np.flatnonzero(stage == 1)[:3]]
    accepted = [int(i) for i in np.flatnonzero(stage == 0)[:2]]
    kind = "timeout" if fault == "slow" else "http_5xx" if fault == "http_500" else fault
    with httpx.Client(base_url=gateway.url, timeout=2.5) as client:  # below the 3 s delay
        for i in deferred:
            r = client.post("/v1/chat/completions", json=_body(i))
            assert r.status_code == 502
            err = r.json()["error"]
            assert err["model"] == final and err["code"] == kind and final in err["message"]
        for i in accepted:  # the first stage still answers what it accepts
            assert client.post("/v1/chat/completions", json=_body(i)).status_code == 200
    gateway.stop()
    calls = _calls(log)
    assert len(calls) == 2 * len(deferred) + len(accepted)
    failed = calls[calls.role == "failed"]
    assert len(failed) == len(deferred) and set(failed.model) == {final}
    assert set(failed.error) == {kind}


def test_killing_an_upstream_mid_run_defers_without_losing_or_duplicating_rows(
        tmp_path, start_app, start_server, replay_data):
    first = start_server(["replay", "--benchmark", "mmlu", "--split", "test", "--port", "0"],
                         "replay-first")
    rest = start_app(create_replay_app(replay_data))
    cascade = ("llama3.2-1b", "llama3.1-8b", "llama3.1-405b")
    urls = {"llama3.2-1b": first.url + "/v1", "llama3.1-8b": rest.url + "/v1",
            "llama3.1-405b": rest.url + "/v1"}
    policy = build_test_policy("mmlu", "llama", cascade)
    gateway, log = _gateway(tmp_path, start_app, policy, urls, timeout_s=2.0)
    n, killed = 90, threading.Event()
    done = []
    lock = threading.Lock()
    local = threading.local()

    def ask(i: int) -> int:
        if not hasattr(local, "client"):
            local.client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x",
                                         max_retries=0, timeout=30)
        client = local.client
        r = client.chat.completions.with_raw_response.create(
            model="cascade", messages=_body(i)["messages"],
            extra_headers={"x-request-id": f"k{i}"})
        with lock:
            done.append(i)
            if len(done) == n // 3 and not killed.is_set():
                first.proc.kill()  # SIGKILL: connections refused from now on
                first.proc.wait(10)
                killed.set()
        return r.http_response.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(ask, range(n)))
    assert killed.is_set()
    assert codes == [200] * n
    gateway.stop()
    calls = _calls(log)
    assert not calls.duplicated(["query_id", "model"]).any()
    assert sorted(calls.query_id.unique()) == sorted(f"k{i}" for i in range(n))
    assert (calls.groupby("query_id").role.apply(lambda r: (r == "served").sum()) == 1).all()
    small = calls[calls.model == "llama3.2-1b"]
    assert len(small) == n  # every request tried the first stage once
    assert small.error.isin(["", "connect"]).all() and (small.error == "connect").sum() > 0
    # after the kill no request was answered by the dead model
    dead = small[small.error == "connect"]
    assert (calls[calls.query_id.isin(dead.query_id)].groupby("query_id").size() >= 2).all()


def test_bad_requests_get_clear_4xx_answers(tmp_path, start_app, replay_data):
    replay = start_app(create_replay_app(replay_data))
    policy = build_test_policy("mmlu", "llama", ("llama3.2-1b", "llama3.1-405b"))
    gateway, log = _gateway(tmp_path, start_app, policy, replay.url + "/v1")
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        cases = [
            (b"{not json", "not valid JSON"),
            (json.dumps([1, 2]).encode(), "JSON object"),
            (json.dumps({"messages": []}).encode(), "messages"),
            (json.dumps({"messages": [{"content": "hi"}]}).encode(), "role"),
            (json.dumps(_body(0, stream=True)).encode(), "streaming is not supported"),
            (json.dumps(_body(0, n=2)).encode(), "'n' must be 1"),
        ]
        for payload, message in cases:
            r = client.post("/v1/chat/completions", content=payload,
                            headers={"content-type": "application/json"})
            assert r.status_code == 400, payload
            assert message in r.json()["error"]["message"]
        models = client.get("/v1/models").json()
        assert [m["id"] for m in models["data"]] == ["cascade", "llama3.2-1b", "llama3.1-405b"]
        assert client.get("/health").json()["status"] == "ok"
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="streaming"):
        client.chat.completions.create(model="cascade", messages=_body(0)["messages"],
                                       stream=True)
    gateway.stop()
    assert len(_calls(log)) == 0  # malformed requests reach no upstream


def test_api_key_is_required_when_configured(tmp_path, start_app, replay_data, monkeypatch):
    monkeypatch.setenv("GATEWAY_TEST_KEY", "s3cret")
    replay = start_app(create_replay_app(replay_data))
    policy = build_test_policy("mmlu", "llama", ("llama3.2-1b", "llama3.1-405b"))
    gateway, _ = _gateway(tmp_path, start_app, policy, replay.url + "/v1",
                          api_key_env="GATEWAY_TEST_KEY")
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        assert client.post("/v1/chat/completions", json=_body(0)).status_code == 401
        assert client.post("/v1/chat/completions", json=_body(0),
                           headers={"authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/v1/models").status_code == 401
        assert client.get("/health").status_code == 200
    good = openai.OpenAI(base_url=gateway.url + "/v1", api_key="s3cret", max_retries=0)
    assert good.chat.completions.create(model="cascade", messages=_body(0)["messages"]).choices
    bad = openai.OpenAI(base_url=gateway.url + "/v1", api_key="nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="cascade", messages=_body(0)["messages"])


def test_requests_past_max_concurrency_get_503_at_once(tmp_path, start_app, replay_data):
    replay = start_app(create_replay_app(replay_data, delays={"llama3.2-1b": 1.5}))
    policy = build_test_policy("mmlu", "llama", ("llama3.2-1b", "llama3.1-405b"))
    gateway, _ = _gateway(tmp_path, start_app, policy, replay.url + "/v1", max_concurrency=1)
    order = []
    lock = threading.Lock()

    def send(i: int) -> int:
        if i:
            time.sleep(0.3)  # let the first request take the only slot
        code = httpx.post(gateway.url + "/v1/chat/completions", json=_body(i), timeout=10).status_code
        with lock:
            order.append((i, code))
        return code

    with ThreadPoolExecutor(2) as pool:
        codes = list(pool.map(send, range(2)))
    assert codes == [200, 503]
    assert order[0] == (1, 503)  # refused while the first was still in flight


def test_shadow_traffic_logs_every_other_chain_model_and_is_never_served(
        tmp_path, start_app, replay_data):
    replay = start_app(create_replay_app(replay_data))
    cascade = ("llama3.2-1b", "llama3.1-405b")
    policy = build_test_policy("mmlu", "llama", cascade)
    gateway, log = _gateway(tmp_path, start_app, policy, replay.url + "/v1", shadow_rate=0.5)
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        heads = [client.post("/v1/chat/completions", json=_body(i),
                             headers={"x-request-id": f"s{i}"}).headers for i in range(40)]
    gateway.stop()  # waits for pending shadow calls, then flushes
    calls = _calls(log)
    assert not calls.duplicated(["query_id", "model"]).any()
    per = calls.groupby("query_id")
    shadowed = [q for q, rows in per if (rows.role == "shadow").any()]
    assert 8 <= len(shadowed) <= 32  # about half of 40 (binomial, p = 0.5: ±3.8 sd)
    chain = [m.name for m in policy.chain_models]
    for q, rows in per:
        if q in shadowed:
            assert sorted(rows.model) == sorted(chain)  # complete rows for re-tuning
        else:
            assert (rows.role != "shadow").all()
    assert all(h["x-llmcopula-model"] in cascade for h in heads)
    served = calls[calls.role == "served"]
    assert len(served) == 40 and served.model.isin(cascade).all()


def test_p_true_upstreams_route_on_the_verification_signal_and_pay_for_it(
        tmp_path, start_app, replay_data):
    from dataclasses import replace

    replay = start_app(create_replay_app(replay_data))
    cascade = ("llama3.2-1b", "llama3.1-405b")
    base = build_test_policy("mmlu", "llama", cascade)
    policy = replace(base, chain_models=[replace(m, signal="p_true") for m in base.chain_models])
    policy.save(tmp_path / "pt.json")
    up = write_upstreams(tmp_path / "pt.toml", cascade, replay.url + "/v1", signal="p_true")
    log_path = tmp_path / "pt.csv"
    gateway = start_app(create_app(ServeConfig(policy=str(tmp_path / "pt.json"),
                                               upstreams=str(up), call_log=str(log_path))))
    log = load_benchmark("mmlu", "llama", "test")
    stage = policy.route(log.confidence, columns=log.models)
    with httpx.Client(base_url=gateway.url, timeout=10.0) as client:
        for i in range(12):
            r = client.post("/v1/chat/completions", json=_body(i))
            assert int(r.headers["x-llmcopula-stage"]) == stage[i]
            k = log.models.index(cascade[stage[i]])
            assert float(r.headers["x-llmcopula-confidence"]) == log.confidence[i, k]
    gateway.stop()
    calls = _calls(log_path)
    assert (calls.cost_usd > calls.cost_answer_usd).all()  # the verification call is paid too

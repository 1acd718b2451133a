"""The replay upstreams: every bundled question is recognised in a prompt, and the answer carries
the recorded answer, token counts and log-probabilities whose mean is the recorded signal."""

from __future__ import annotations

import httpx
import pytest
from serve_helpers import prompt_of

from llmcopula.datasets import load_benchmark, load_questions
from llmcopula.serve.replay import ReplayData, create_replay_app
from llmcopula.serve.signals import VERIFY_PROMPT, logprob_signal, p_true_signal


@pytest.mark.parametrize("benchmark", ["mmlu", "medmcqa"])
def test_every_test_question_is_recognised_whatever_the_template(benchmark):
    data = ReplayData.load(benchmark, "test")
    questions = load_questions(benchmark, "test")
    for i, row in enumerate(questions.itertuples(index=False)):
        # another template, with the CR-LF line breaks of the texts turned into LF
        prompt = (f"{row.subject}\n{row.question.replace(chr(13), '')}\n(a) {row.A}\n(b) {row.B}"
                  f"\n(c) {row.C}\n(d) {row.D}")
        found = data.match(prompt)
        if int(row.query_id) in data.ambiguous:
            assert found is not None and int(data.query_ids[found]) in data.ambiguous
        else:
            assert found == i
    assert data.match("What is the capital of France?") is None


def test_the_ambiguous_pairs_are_the_two_of_mmlu_test():
    assert sorted(ReplayData.load("mmlu", "test").ambiguous) == [59, 64, 134, 142]
    assert sorted(ReplayData.load("medmcqa", "test").ambiguous) == []


def test_answers_carry_the_recorded_output_usage_and_signal(start_app):
    data = ReplayData.load("medmcqa", "test")
    server = start_app(create_replay_app(data))
    log = load_benchmark("medmcqa", "llama", "test")
    questions = load_questions("medmcqa", "test")
    rows = [0, 17, 433]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for q in rows:
            messages = [{"role": "user", "content": prompt_of(questions.iloc[q])}]
            for k, model in enumerate(log.models):
                r = client.post("/v1/chat/completions",
                                json={"model": model, "messages": messages, "logprobs": True})
                assert r.status_code == 200 and r.headers["x-replay-query-id"] == str(q)
                body = r.json()
                assert body["choices"][0]["message"]["content"] == log.answer[q, k]
                assert body["usage"]["prompt_tokens"] == data.input_tokens[model][q]
                n_out = body["usage"]["completion_tokens"]
                assert n_out == data.output_tokens[model][q]
                assert len(body["choices"][0]["logprobs"]["content"]) == n_out
                assert logprob_signal(body) == log.confidence[q, k]  # exactly
            plain = client.post("/v1/chat/completions",
                                json={"model": log.models[0], "messages": messages}).json()
            assert plain["choices"][0]["logprobs"] is None  # only when asked, as OpenAI does
            verify = messages + [{"role": "assistant", "content": "A"},
                                 {"role": "user", "content": VERIFY_PROMPT}]
            v = client.post("/v1/chat/completions", json={"model": log.models[2],
                                                           "messages": verify, "logprobs": True})
            assert p_true_signal(v.json()) == log.confidence[q, 2]
        assert client.post("/v1/chat/completions",
                           json={"model": "gpt-5", "messages": messages}).status_code == 404
        r = client.post("/v1/chat/completions",
                        json={"model": log.models[0],
                              "messages": [{"role": "user", "content": "Hello"}]})
        assert r.status_code == 400 and "recognised" in r.json()["error"]["message"]

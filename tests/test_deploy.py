"""The policy builder: a frontier point (or a mixture of two) as a self-describing policy file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llmcopula.cascade import (
    EmpiricalCopulaModel,
    frontier_intervals,
    score_cascade,
    select_point,
    tune,
)
from llmcopula.datasets import load_benchmark
from llmcopula.deploy import build_policy, log_fingerprint
from llmcopula.monitoring import reference_profile
from llmcopula.policy import SCHEMA_VERSION, CascadePolicy


@pytest.fixture(scope="module")
def tuned():
    train = load_benchmark("medmcqa", "llama", "train")
    model = EmpiricalCopulaModel().fit(train)
    front = frontier_intervals(tune(model, (0, 2, 4), n_lambdas=8, rng=0), train, model=model,
                               n_resamples=30, rng=0)
    return train, front


def test_the_policy_file_holds_every_documented_field(tuned, tmp_path):
    train, front = tuned
    choice = select_point(front, target_accuracy=0.7)
    policy = build_policy(front, choice, train)
    policy.save(tmp_path / "p.json")
    doc = json.loads((tmp_path / "p.json").read_text())
    assert doc["schema_version"] == SCHEMA_VERSION and doc["package_version"]
    assert [m["name"] for m in doc["chain_models"]] == list(train.models)
    assert all(m["signal"] == "logprob" and m["cost"] > 0 for m in doc["chain_models"])
    assert doc["cascade_models"] == ["llama3.2-1b", "llama3.1-8b", "llama3.1-405b"]
    assert doc["rules"] == front.rules(choice.index)
    assert doc["cost_definition"] == "cost_answer_usd" and doc["method"] == "empirical-copula"
    pred = doc["predicted"]
    assert pred["accuracy"]["estimate"] == pytest.approx(front.accuracy[choice.index])
    lo, hi = pred["accuracy"]["interval"]
    assert lo <= pred["accuracy"]["estimate"] + 0.01 and pred["accuracy"]["level"] == 0.9
    assert len(pred["stage_usage"]) == 3 and all("interval" in u for u in pred["stage_usage"])
    assert doc["selection"] == {"by": "target_accuracy", "value": 0.7, "point": choice.index}
    assert doc["training"]["n_queries"] == 300 and len(doc["training"]["sha256"]) == 64
    # the monitoring block is the reference profile of the policy's training routing
    assert policy.monitoring == CascadePolicy.from_json(CascadePolicy(
        **{**policy.__dict__, "monitoring": reference_profile(
            policy, train.confidence, train.cost, columns=train.models,
            correct=train.correct)}).to_json()).monitoring
    loaded = CascadePolicy.load(tmp_path / "p.json")
    assert loaded.rules == policy.rules and loaded.predicted == CascadePolicy.from_json(
        policy.to_json()).predicted


def test_the_policy_routes_the_training_log_like_the_frontier_point(tuned):
    train, front = tuned
    p = select_point(front, budget=150.0).index
    policy = build_policy(front, p, train)
    stage = policy.route(train.confidence, columns=train.models)
    ref = score_cascade(train, (0, 2, 4), front.raw_thresholds[p], directions=front.directions)
    usage = np.bincount(stage, minlength=3) / train.n_queries
    np.testing.assert_array_equal(usage, ref["stage_usage"][0])
    assert policy.monitoring["accuracy"] == ref["accuracy"][0]


def test_a_mixture_policy_says_so_and_predicts_the_mixture(tuned):
    train, front = tuned
    choice = select_point(front, target_accuracy=0.7, mix=True)
    assert choice.is_mixture
    policy = build_policy(front, choice, train)
    assert policy.is_randomized and policy.mixture.probability == choice.probability
    assert "randomized" in policy.selection and tuple(policy.selection["mixture_of"]) == (
        choice.index, choice.other)
    assert policy.predicted["accuracy"]["estimate"] == pytest.approx(0.7)
    assert policy.mixture.predicted["accuracy"]["estimate"] == pytest.approx(
        front.accuracy[choice.other])
    keys = [f"q{i}" for i in range(train.n_queries)]
    first = policy.route(train.confidence, columns=train.models, keys=keys)
    assert first.shape == (train.n_queries,)


def test_the_fingerprint_changes_with_any_value_and_not_otherwise():
    log = load_benchmark("mmlu", "llama", "train")
    fp = log_fingerprint(log)
    assert fp == log_fingerprint(log.take(np.arange(log.n_queries)))
    conf = log.confidence.copy()
    conf[5, 2] = np.nextafter(conf[5, 2], 0)
    assert log_fingerprint(log.replace(confidence=conf))["sha256"] != fp["sha256"]
    assert log_fingerprint(log.take(np.arange(1, log.n_queries)))["n_queries"] == 284


def test_build_policy_rejects_bad_arguments(tuned):
    train, front = tuned
    with pytest.raises(ValueError, match="choice: the frontier has"):
        build_policy(front, 10_000, train)
    with pytest.raises(ValueError, match="train: lacks the frontier's models"):
        build_policy(front, 0, load_benchmark("mmlu", "qwen_oai", "train"))

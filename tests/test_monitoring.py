"""Drift monitoring: the reference profile, each check against an independent implementation,
the false-alarm rate on random splits and the power on the shipped MedMCQA shift."""

import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests

from llmcopula.datasets import load_benchmark
from llmcopula.monitoring import (
    PROFILE_KIND,
    check_traffic,
    holm_adjust,
    ks_on_sketch,
    reference_profile,
    routed_window,
    signal_sketch,
)
from llmcopula.policy import CascadePolicy, ModelInfo, ThresholdRule


def quantile_policy(models, confidence, cascade, share=0.5):
    """Accept above the training quantile 1 - share at each non-final stage."""
    cols = [list(models).index(m) for m in cascade]
    rules = [ThresholdRule(model=m, direction="above",
                           raw_threshold=float(np.quantile(confidence[:, c], 1 - share)))
             for m, c in zip(cascade[:-1], cols[:-1])]
    return CascadePolicy(chain_models=[ModelInfo(m, signal="logprob") for m in models],
                         cascade_models=cascade, rules=rules, cost_definition="cost_answer_usd")


# ----------------------------------------------------------------------- building blocks
def test_holm_adjust_matches_statsmodels():
    rng = np.random.default_rng(0)
    cases = [[0.0], [1.0], [0.01, 0.01, 0.04], [0.2, 0.0, 1.0, 0.2]]
    cases += [rng.uniform(size=rng.integers(1, 30)) ** 3 for _ in range(16)]
    for p in cases:  # statsmodels takes ~0.1 s a call here, so no property test
        np.testing.assert_allclose(holm_adjust(p), multipletests(p, method="holm")[1],
                                   rtol=1e-12, atol=1e-15)


def test_ks_on_a_sketch_with_every_value_as_edge_equals_scipys_two_sample_test():
    rng = np.random.default_rng(3)
    support = np.round(rng.normal(size=25), 3)
    ref = rng.choice(support, 300)
    win = rng.choice(support, 170, p=np.linspace(1, 2, 25) / np.linspace(1, 2, 25).sum())
    sketch = signal_sketch(ref, n_bins=10_000)
    assert set(np.unique(ref)[:-1]) <= set(sketch["edges"])
    d, p, n, m = ks_on_sketch(sketch, win)
    expected = stats.ks_2samp(ref, win, method="asymp")
    assert (n, m) == (300, 170)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


@given(st.integers(0, 2**32 - 1), st.integers(1, 30))
def test_ks_on_a_coarse_sketch_never_exceeds_the_full_statistic(seed, n_bins):
    rng = np.random.default_rng(seed)
    ref, win = rng.normal(size=200), rng.normal(0.3, 1.2, size=150)
    d, _, _, _ = ks_on_sketch(signal_sketch(ref, n_bins=n_bins), win)
    assert d <= stats.ks_2samp(ref, win).statistic + 1e-12


def test_signal_sketch_keeps_atoms_together_and_counts_everything():
    x = np.array([0.0] * 46 + list(-np.linspace(0.01, 2, 50)) + [-np.inf] * 4)
    sketch = signal_sketch(x, n_bins=10)
    assert sum(sketch["counts"]) == x.size
    assert 0.0 in sketch["edges"]
    # every exact zero sits in the bin closed at the edge 0
    i = sketch["edges"].index(0.0)
    assert sketch["counts"][i] >= 46


# ------------------------------------------------------------------------- the profile
def test_reference_profile_counts_the_training_routing_like_for_like():
    train = load_benchmark("medmcqa", "llama", "train")
    cascade = ("llama3.2-3b", "llama3.1-8b", "llama3.1-405b")
    policy = quantile_policy(train.models, train.confidence, cascade)
    profile = reference_profile(policy, train.confidence, train.cost, columns=train.models,
                                correct=train.correct)
    stage = policy.route(train.confidence, columns=train.models)
    cols = [train.models.index(m) for m in cascade]
    assert profile["kind"] == PROFILE_KIND and profile["n_queries"] == 300
    for j, s in enumerate(profile["stages"]):
        assert s["reached"] == (stage >= j).sum() and s["accepted"] == (stage == j).sum()
        reached = train.confidence[stage >= j, cols[j]]
        assert sum(s["signal"]["counts"]) == reached.size
        assert s["signal"] == signal_sketch(reached)
    per_query = np.array([train.cost[i, cols[: stage[i] + 1]].sum() for i in range(300)]) * 1e6
    assert profile["mean_cost"] == pytest.approx(per_query.mean(), rel=1e-12)
    assert profile["cost_sd"] == pytest.approx(per_query.std(ddof=1), rel=1e-12)
    served = train.correct[np.arange(300), np.array(cols)[stage]]
    assert profile["n_correct"] == served.sum()


def test_the_profile_survives_the_policy_file_and_a_window_equal_to_the_reference_is_quiet(
        tmp_path):
    train = load_benchmark("mmlu", "qwen_oai", "train")
    cascade = ("gpt-4o-mini", "gpt-4o")  # gpt-4o-mini's signal is exactly 0 on half the queries
    policy = quantile_policy(train.models, train.confidence, cascade)
    profile = reference_profile(policy, train.confidence, train.cost, columns=train.models,
                                correct=train.correct)
    replace(policy, monitoring=profile).save(tmp_path / "p.json")
    loaded = CascadePolicy.load(tmp_path / "p.json").monitoring
    window = routed_window(policy, train.confidence, train.cost, columns=train.models,
                           correct=train.correct)
    report = check_traffic(loaded, **window)
    assert not report.alarm
    assert all(c.p_value > 0.5 for c in report.checks if c.tested)
    acc = [c for c in report.checks if c.name == "accuracy"][0]
    assert acc.observed == acc.reference


def test_a_failed_stage_is_left_out_of_its_checks_and_counted():
    train = load_benchmark("mmlu", "llama", "train")
    cascade = ("llama3.2-1b", "llama3.1-405b")
    policy = quantile_policy(train.models, train.confidence, cascade)
    profile = reference_profile(policy, train.confidence, train.cost, columns=train.models)
    w = routed_window(policy, train.confidence, train.cost, columns=train.models)
    faulted = np.zeros((300 - 15, 2), dtype=bool)
    w = {k: (v[:285] if v is not None else None) for k, v in w.items()}
    faulted[:10, 0] = True
    w["answered_stage"] = w["answered_stage"].copy()
    w["answered_stage"][10:12] = -1
    report = check_traffic(profile, faulted=faulted, **w)
    assert report.faults == (10, 0) and report.failed_requests == 2
    acceptance = [c for c in report.checks if c.name == "acceptance"][0]
    assert acceptance.n_window == 285 - 10 - 2


@pytest.mark.parametrize("bad, match", [
    (dict(alpha=0.0), "alpha"), (dict(level=1.0), "level"),
    (dict(answered_stage=np.array([0, 5])), "answered_stage"),
])
def test_check_traffic_rejects_bad_arguments(bad, match):
    train = load_benchmark("mmlu", "llama", "train")
    policy = quantile_policy(train.models, train.confidence, ("llama3.2-1b", "llama3.1-405b"))
    profile = reference_profile(policy, train.confidence, train.cost, columns=train.models)
    args = dict(answered_stage=np.array([0, 1]), raw=np.array([[-1.0, np.nan], [-2.0, -0.1]]),
                cost=np.array([1e-5, 2e-5]))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        check_traffic(profile, **args)


# ----------------------------------------------------------------------- size and power
def test_false_alarm_rate_on_random_splits_of_pooled_queries_is_at_most_five_percent():
    """Seeded small version of benchmarks/bench_monitor.py (which runs 200 splits for each of
    60 cascades). 60 windows of 500: with a true rate of 5%, more than 8 alarms has probability
    0.007."""
    rng = np.random.default_rng(20240601)
    alarms = 0
    for benchmark, chain, cascade in [
            ("medmcqa", "llama", ("llama3.2-3b", "llama3.1-70b", "llama3.1-405b")),
            ("mmlu", "qwen_oai", ("gpt-4o-mini", "qwen2.5-32b-coder-instruct", "gpt-4o"))]:
        train, test = (load_benchmark(benchmark, chain, s) for s in ("train", "test"))
        conf, cost = (np.vstack([a, b]) for a, b in ((train.confidence, test.confidence),
                                                     (train.cost, test.cost)))
        for _ in range(30):
            perm = rng.permutation(conf.shape[0])
            ref, win = perm[:train.n_queries], perm[train.n_queries:train.n_queries + 500]
            policy = quantile_policy(train.models, conf[ref], cascade)
            profile = reference_profile(policy, conf[ref], cost[ref], columns=train.models)
            alarms += check_traffic(profile, **routed_window(
                policy, conf[win], cost[win], columns=train.models)).alarm
    assert alarms <= 8


@pytest.mark.parametrize("chain, cascade", [
    ("llama", ("llama3.1-8b", "llama3.1-70b", "llama3.1-405b")),
    ("qwen_oai", ("qwen2.5-72b-instruct", "gpt-4o")),
])
def test_the_shipped_medmcqa_shift_raises_an_alarm_from_unlabelled_traffic(chain, cascade):
    train, test = load_benchmark("medmcqa", chain, "train"), load_benchmark("medmcqa", chain, "test")
    policy = quantile_policy(train.models, train.confidence, cascade)
    profile = reference_profile(policy, train.confidence, train.cost, columns=train.models)
    for window in (slice(0, 500), slice(500, 1000)):  # the two disjoint windows of 500
        report = check_traffic(profile, **routed_window(
            policy, test.confidence[window], test.cost[window], columns=test.models))
        assert report.alarm
        assert all(c.name != "accuracy" for c in report.checks)  # no labels were used


def test_monitoring_imports_neither_pandas_nor_the_fitting_stack():
    code = ("import sys, llmcopula.monitoring; "
            "bad = [m for m in ('pandas', 'llmcopula.cascade', 'llmcopula.copulas', "
            "'llmcopula.serve', 'fastapi') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

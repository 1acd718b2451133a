"""The rules a frontier point deploys mean what its test numbers say: exact raw thresholds with a
direction, checked against an independent router (CascadePolicy) on every benchmark and chain,
including the models whose calibration does not increase and the signals with ±inf values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from llmcopula.calibration import PlattCalibrator, accepts_raw, fit_calibrators
from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, evaluate_frontier, tune
from llmcopula.cascade.baselines import grid_search
from llmcopula.cascade.routing import route_raw
from llmcopula.datasets import list_benchmarks, load_benchmark
from llmcopula.policy import CascadePolicy, ModelInfo, ThresholdRule

# (benchmark, chain, cascade): the first and last model of every chain; TriviaQA/Llama and
# GSM8K/Llama start with llama3.2-1b, whose Platt slope is negative there; TriviaQA/Qwen-OpenAI
# starts with gpt-4o-mini, whose P(True) signal has -inf values (11 train, 30 test rows).
CASES = [(b, c, (0, 4) if c == "llama" else (0, 3))
         for b in ("mmlu", "medmcqa", "gsm8k", "triviaqa") for c in ("llama", "qwen_oai")]
NON_INCREASING = [("triviaqa", "llama", (0, 4)), ("gsm8k", "llama", (0, 2, 4)),
                  ("triviaqa", "qwen_oai", (0, 2, 3))]


def _logs(benchmark, chain):
    train = load_benchmark(benchmark, chain, "train")
    table = list_benchmarks()
    has_test = ((table.benchmark == benchmark) & (table.chain == chain)
                & (table.split == "test")).any()
    return train, load_benchmark(benchmark, chain, "test") if has_test else train


def _policy_numbers(front, p, log):
    """Accuracy and cost of routing ``log`` with point p's rules through CascadePolicy."""
    rules = [ThresholdRule(model=r["model"], direction=r["direction"],
                           raw_threshold=r["raw_threshold"]) for r in front.rules(p)]
    policy = CascadePolicy(chain_models=[ModelInfo(m) for m in log.models],
                           cascade_models=front.models, rules=rules,
                           cost_definition="cost_answer_usd")
    stage = policy.route(log.confidence, columns=log.models)
    idx = [log.models.index(m) for m in front.models]
    rows = np.arange(log.n_queries)
    return (log.correct[:, idx][rows, stage].mean(),
            np.cumsum(log.cost[:, idx], axis=1)[rows, stage].mean() * 1e6)


def _check(front, log):
    assert len(front) >= 2
    for p in range(len(front)):
        acc, cost = _policy_numbers(front, p, log)
        assert acc == front.test_accuracy[p]
        assert cost == pytest.approx(front.test_cost[p], rel=1e-12)


@pytest.mark.parametrize("benchmark, chain, cascade", CASES)
def test_test_numbers_equal_routing_with_the_rules_for_the_models_and_grid(benchmark, chain,
                                                                            cascade):
    train, test = _logs(benchmark, chain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # "free" keeps decreasing calibrations (rules "below"), the harder case for the rules
        model = EmpiricalCopulaModel(calibration_slope="free").fit(train)
        cals = fit_calibrators(train.confidence, train.correct, signal=train.signal)
    # with model= / calibrators=, evaluate_frontier also checks the calibrated routing per query
    _check(evaluate_frontier(tune(model, cascade, n_lambdas=6, rng=0), test, model=model), test)
    _check(evaluate_frontier(grid_search(train, cascade, calibrators=cals), test,
                             calibrators=cals), test)


@pytest.mark.parametrize("benchmark, chain, cascade", NON_INCREASING)
def test_markov_copula_rules_on_non_increasing_calibrations_and_infinite_signals(
        benchmark, chain, cascade):
    train, test = _logs(benchmark, chain)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = MarkovCopulaModel(calibration_slope="free").fit(train)
    front = evaluate_frontier(tune(model, cascade, n_lambdas=6, rng=0), test, model=model)
    _check(front, test)
    expected = ["below" if model.calibrators_[m].coef_ < 0 else "above" for m in cascade[:-1]]
    assert list(front.directions) == expected
    if benchmark != "triviaqa" or chain != "qwen_oai":
        assert "below" in front.directions


def test_triviaqa_llama_rules_as_written_before_this_release_disagree_with_the_test_numbers():
    """The defect the directions fix: "raw > r" with a negative slope is the opposite rule."""
    train, test = _logs("triviaqa", "llama")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = MarkovCopulaModel(calibration_slope="free").fit(train)
    front = evaluate_frontier(tune(model, (0, 3, 4), n_lambdas=6, rng=0), test, model=model)
    stage_above = route_raw(test.confidence[:, [0, 3, 4]], ["above", "above"],
                            np.where(np.isinf(front.raw_thresholds), 0.0, front.raw_thresholds))
    stage_rules = route_raw(test.confidence[:, [0, 3, 4]], front.directions,
                            front.raw_thresholds)
    assert (stage_above != stage_rules).any()


def _calibrator(seed, slope_sign):
    rng = np.random.default_rng(seed)
    raw = np.log(rng.uniform(0.05, 1.0, 300))
    raw[:15] = 0.0  # an atom at log-probability 0
    p = np.exp(raw) if slope_sign > 0 else 1.2 - np.exp(raw)
    correct = (rng.uniform(size=300) < np.clip(p, 0.05, 0.95)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return PlattCalibrator().fit(raw, correct), raw


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 50), sign=st.sampled_from([1, -1]),
       q=st.floats(0.0, 1.0, allow_nan=False))
def test_raw_threshold_is_exact_on_every_float_near_it_at_atoms_and_at_random_levels(seed, sign,
                                                                                    q):
    cal, raw = _calibrator(seed, sign)
    phi_train = np.unique(cal.predict(raw))
    # a random level, each confidence value itself (ties), and one ulp below the top atom
    levels = np.concatenate([[q], phi_train[:: max(1, phi_train.size // 10)],
                             [np.nextafter(phi_train[-1], -np.inf), phi_train[-1]]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "flipped rule" of a decreasing fit
        r = cal.raw_threshold(levels)
    d = cal.direction_
    assert d == ("below" if cal.coef_ < 0 else "above")
    for level, thr in zip(levels, r):
        probe = [raw, [-np.inf, 0.0]]
        if np.isfinite(thr):
            probe.append([thr, np.nextafter(thr, -np.inf), np.nextafter(thr, np.inf)])
        x = np.concatenate(probe)
        x = x[x <= 0.0]
        np.testing.assert_array_equal(cal.predict(x) > level, accepts_raw(x, d, thr))


def test_nonnegative_slope_replaces_a_decreasing_calibration_by_the_training_accuracy():
    cal, raw = _calibrator(3, -1)
    assert cal.coef_ < 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        constant = PlattCalibrator(slope="nonnegative").fit(
            raw, (cal.predict(raw) > 0.5).astype(int))
    assert constant.coef_ == 0 and constant.fallback_ == "negative-slope"
    assert constant.direction_ == "above"
    np.testing.assert_allclose(constant.predict(raw), (cal.predict(raw) > 0.5).mean())
    with pytest.raises(ValueError, match="slope"):
        PlattCalibrator(slope="up").fit(raw, np.ones(300))


def test_cascade_models_replace_a_decreasing_calibration_by_default():
    """The default chosen on the test curves (docs/calibration.md): llama3.2-1b's P(True) on
    TriviaQA has a negative Platt slope; the models' calibrator is then the training accuracy,
    and every rule of the tuned frontier is an "above" rule."""
    train = load_benchmark("triviaqa", "llama", "train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        free = EmpiricalCopulaModel(calibration_slope="free").fit(train)
        default = EmpiricalCopulaModel().fit(train)
    assert free.calibrators_[0].coef_ < 0
    assert default.calibrators_[0].coef_ == 0
    assert default.calibrators_[0].predict(train.confidence[:5, 0]) == pytest.approx(
        train.accuracy[0], abs=0.5 / train.n_queries)
    assert set(tune(default, (0, 4), n_lambdas=4, rng=0).directions) == {"above"}

"""The predicted cost of deployable rules: each stage's cost conditional on the queries that reach
it (``llmcopula.cascade.stage_costs``, ``CalibratedChainModel.rule_cost``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from llmcopula.cascade import (
    EmpiricalCopulaModel,
    MarkovCopulaModel,
    frontier_intervals,
    score_cascade,
    tune,
)
from llmcopula.cascade.intervals import rule_quantiles
from llmcopula.cascade.stage_costs import conditional_expected_cost, routed_stage_costs
from llmcopula.datasets import ChainLog, load_benchmark

LOW = 0.05  # U ~ Uniform(LOW, 1)


def _cost_follows_confidence(n, rng):
    """Stage 1 (raw = log U) is right with probability U; the second model's call costs 300
    USD/M when U < 0.5 (the queries the first model is unsure of get long answers) and 100
    otherwise; the first model's call costs 1 USD/M."""
    u = rng.uniform(LOW, 1.0, n)
    correct = np.column_stack([rng.uniform(size=n) < u, rng.uniform(size=n) < 0.9])
    conf = np.column_stack([np.log(u), np.log(rng.uniform(0.5, 1.0, n))])
    cost = np.column_stack([np.full(n, 1e-6), np.where(u < 0.5, 3e-4, 1e-4)])
    return ChainLog(("small", "large"), conf, correct.astype(int), cost, signal="logprob")


def _true_cost(u0):
    """E[cost] (USD/M) of "accept iff raw > log u0": the second model is called iff U <= u0."""
    below = (3.0 * (min(u0, 0.5) - LOW) + max(u0 - 0.5, 0.0)) / (1.0 - LOW)
    return 1.0 + 100.0 * below


@pytest.mark.parametrize("model_cls", [MarkovCopulaModel, EmpiricalCopulaModel])
def test_rule_cost_is_unbiased_when_cost_depends_on_confidence_and_the_mean_cost_is_not(model_cls):
    """Fit on 4000 simulated queries, evaluate the rule "accept iff raw > log 0.7": the cost from
    each model's mean cost (the tuner's objective for the Markov-copula model) is off by ~30 USD/M;
    ``rule_cost`` is within 4 standard errors of the true cost (the routed per-query cost's and
    the reach share's sampling errors)."""
    rng = np.random.default_rng(3)
    n, u0 = 4000, 0.7
    log = _cost_follows_confidence(n, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = model_cls().fit(log)
    directions, raw = ("above",), np.array([[np.log(u0)]])
    s = rule_quantiles(model, log.confidence, directions, raw)
    ev = model.evaluate_quantile(s, (0, 1))
    new = model.rule_cost(ev.stage_probabilities, directions, raw, (0, 1))[0]
    mean_cost = conditional_expected_cost(ev.stage_probabilities,
                                          model.costs_[None, :])[0]
    truth = _true_cost(u0)
    # standard error of the routed estimate: per-query routed cost, plus the reach share's
    # binomial error times the reached stage's cost
    routed = score_cascade(log, (0, 1), raw, directions=directions)
    stage = np.where(log.confidence[:, 0] > np.log(u0), 0, 1)
    per_query = np.cumsum(log.cost * 1e6, axis=1)[np.arange(n), stage]
    share = routed["stage_usage"][0, 1]
    c2 = (log.cost[stage == 1, 1] * 1e6).mean()
    se = np.hypot(per_query.std(ddof=1) / np.sqrt(n), c2 * np.sqrt(share * (1 - share) / n))
    assert abs(new - truth) < 4 * se, (new, truth, se)
    assert abs(mean_cost - truth) > 10 * se, (mean_cost, truth, se)


@pytest.mark.parametrize("benchmark", ["triviaqa", "mmlu"])
def test_empirical_model_frontier_cost_is_exactly_the_routed_training_cost(benchmark):
    """The empirical-copula model is its training rows: every frontier point's reported cost
    equals routing the training log with the point's rules (an independent router), to 1e-12."""
    train = load_benchmark(benchmark, "llama", "train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = EmpiricalCopulaModel(calibration_slope="free").fit(train)
    front = tune(model, (0, 2, 4), n_lambdas=6, rng=0)
    routed = score_cascade(train, (0, 2, 4), front.raw_thresholds, directions=front.directions)
    np.testing.assert_allclose(front.cost, routed["cost"], rtol=1e-12, atol=1e-9)


def test_markov_frontier_cost_with_the_routed_shares_is_the_routed_training_cost():
    """``routed_stage_costs`` against an independent router: weighting its stage costs by the
    training log's own stage usage (from ``score_cascade``) gives ``score_cascade``'s cost."""
    train = load_benchmark("triviaqa", "llama", "train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = MarkovCopulaModel(calibration_slope="free").fit(train)
    front = tune(model, (0, 2, 4), n_lambdas=6, rng=0)
    routed = score_cascade(train, (0, 2, 4), front.raw_thresholds, directions=front.directions)
    stage_cost, share = routed_stage_costs(train.confidence[:, [0, 2, 4]],
                                           train.cost[:, [0, 2, 4]] * 1e6, front.directions,
                                           front.raw_thresholds)
    np.testing.assert_allclose(conditional_expected_cost(routed["stage_usage"], stage_cost),
                               routed["cost"], rtol=1e-12)
    np.testing.assert_allclose(share[:, 1:], np.cumsum(
        routed["stage_usage"][:, ::-1], axis=1)[:, ::-1][:, 1:], rtol=1e-12)
    # and the frontier reports the model's reach times these stage costs
    np.testing.assert_allclose(front.cost,
                               conditional_expected_cost(front.stage_probabilities, stage_cost),
                               rtol=1e-10)


def test_bootstrap_cost_intervals_use_the_rule_cost():
    """Each resample's cost is the refitted empirical model's routed cost of the resample: the
    interval lies within the range of routed costs of the rules over resamples."""
    train = load_benchmark("mmlu", "llama", "train")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = EmpiricalCopulaModel().fit(train)
    front = tune(model, (0, 4), n_lambdas=4, rng=0)
    fi = frontier_intervals(front, train, model=model, n_resamples=20, rng=1)
    gen = np.random.default_rng(1)
    idx = [gen.integers(0, train.n_queries, train.n_queries) for _ in range(20)]
    routed = np.array([score_cascade(train.take(i), (0, 4), front.raw_thresholds,
                                     directions=front.directions)["cost"] for i in idx])
    np.testing.assert_allclose(np.sort(fi.intervals.draws["cost"], axis=0),
                               np.sort(routed, axis=0), rtol=1e-10)


def test_rule_cost_rejects_stage_probabilities_of_the_wrong_shape():
    train = load_benchmark("mmlu", "llama", "train")
    model = EmpiricalCopulaModel().fit(train)
    with pytest.raises(ValueError, match="stage_probabilities"):
        model.rule_cost(np.ones((2, 2)), ("above",), np.zeros((3, 1)), (0, 4))

"""plan_budget on a small synthetic pool: every family's choice is the brute-force best of its
candidates within the budget, and the reported test values are those of the chosen thing,
recomputed independently from the original (unordered) logs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from llmcopula.cascade.methods import run_method
from llmcopula.datasets import load_pool
from llmcopula.planning import (
    FAMILIES,
    cascade_candidates_of,
    order_by_cost,
    plan_budget,
    shipped_chains,
)
from llmcopula.selection import choose_aggregator, make_aggregator

from planning_toys import CLASSES, toy_pool

# shuffled so that the cost order (m3, m0, m2, m1) differs from the log's order
ACC = (0.8, 0.88, 0.7, 0.55)
COST = (20.0, 60.0, 5.0, 2.0)
BUDGETS = [1.0, 4.0, 8.0, 30.0, 70.0, 200.0]


@pytest.fixture(scope="module")
def logs():
    return (toy_pool(400, seed=1, accuracy=ACC, cost=COST),
            toy_pool(600, seed=2, accuracy=ACC, cost=COST))


@pytest.fixture(scope="module")
def plan(logs):
    train, test = logs
    return plan_budget(train, test, budgets=BUDGETS, cascades="all", cascade_method="grid",
                       max_ensemble=3, n_boot=5, rng=0)


def _brute(acc, cost, budget):
    fits = [i for i in range(len(acc)) if cost[i] <= budget]
    if not fits:
        return -1
    return min(fits, key=lambda i: (-acc[i], cost[i], i))


def test_models_are_put_in_cost_order_and_both_logs_follow(logs):
    train, test = logs
    tr, te = order_by_cost(train, test)
    assert tr.models == ("m3", "m2", "m0", "m1")
    for j, name in enumerate(tr.models):
        i = train.models.index(name)
        np.testing.assert_array_equal(te.answer[:, j], test.answer[:, i])
        np.testing.assert_array_equal(tr.cost[:, j], train.cost[:, i])


def test_each_family_choice_is_the_brute_force_best_within_budget(plan):
    for family in FAMILIES:
        cand = plan.candidates[family]
        for b, budget in enumerate(BUDGETS):
            assert plan.choices[family][b] == _brute(cand.predicted_accuracy,
                                                     cand.predicted_cost, budget)


def test_choices_fit_the_budget_and_improve_with_it(plan):
    frame = plan.to_frame()
    for family in FAMILIES:
        rows = frame[frame.family == family].sort_values("budget")
        chosen = rows.dropna(subset=["predicted_cost"])
        assert (chosen.predicted_cost <= chosen.budget).all()
        assert np.all(np.diff(chosen.predicted_accuracy) >= 0)
    # the smallest budget affords nothing, the largest affords something of every family
    assert frame[frame.budget == 1.0].predicted_accuracy.isna().all()
    assert frame[frame.budget == 200.0].predicted_accuracy.notna().all()


def test_single_model_prediction_is_training_accuracy_and_test_values_match(logs, plan):
    train, test = logs
    rows = plan.to_frame().query("family == 'single'").dropna(subset=["choice"])
    for _, row in rows.iterrows():
        i = train.models.index(row.choice)
        fits = [j for j in range(4) if train.cost[:, j].mean() * 1e6 <= row.budget]
        right = (train.answer == train.reference[:, None]).mean(axis=0)
        assert i == max(fits, key=lambda j: (right[j], -train.cost[:, j].mean()))
        assert row.predicted_accuracy == pytest.approx(right[i])
        assert row.test_accuracy == pytest.approx(np.mean(test.answer[:, i] == test.reference))
        assert row.test_cost == pytest.approx(test.cost[:, i].mean() * 1e6)


def _replay(log, models, raw_thresholds):
    """Route each query by a plain loop: stage j answers iff its raw confidence is strictly
    above its threshold; the last stage always answers; every model called is paid for."""
    cols = [log.models.index(m) for m in models]
    right = cost = 0.0
    for q in range(log.n_queries):
        paid = 0.0
        for j, c in enumerate(cols):
            paid += log.cost[q, c]
            if j == len(cols) - 1 or log.confidence[q, c] > raw_thresholds[j]:
                right += log.correct[q, c]
                break
        cost += paid
    return right / log.n_queries, cost / log.n_queries * 1e6


def test_cascade_choice_replays_to_its_reported_test_values(logs, plan):
    _, test = logs
    cand = plan.candidates["cascade"]
    assert {m for m in cand.members} == {
        tuple(plan.models[i] for i in c) for c in itertools.combinations(range(4), 2)
    } | {tuple(plan.models[i] for i in c) for k in (3, 4)
         for c in itertools.combinations(range(4), k)}
    for b in range(len(BUDGETS)):
        i = plan.choices["cascade"][b]
        if i < 0:
            continue
        acc, cost = _replay(test, cand.members[i], cand.details[i]["raw_thresholds"])
        assert cand.test_accuracy[i] == pytest.approx(acc)
        assert cand.test_cost[i] == pytest.approx(cost)


def test_cascade_candidates_are_the_tuning_method_frontiers(logs, plan):
    train, test = logs
    tr, te = order_by_cost(train, test)
    cand = plan.candidates["cascade"]
    front, _ = run_method("grid", tr, te, (0, 2))
    mine = [i for i, m in enumerate(cand.members) if m == (tr.models[0], tr.models[2])]
    # the tuned thresholds are the full-data frontier's; its in-sample values are kept, and the
    # prediction is the cross-fitted one (tests/planning/test_crossfit.py)
    np.testing.assert_allclose([cand.details[i]["in_sample_accuracy"] for i in mine],
                               front.accuracy)
    np.testing.assert_allclose([cand.details[i]["in_sample_cost"] for i in mine], front.cost)
    np.testing.assert_allclose([cand.details[i]["raw_thresholds"] for i in mine],
                               front.raw_thresholds)
    assert all(cand.details[i]["prediction"] == "cross-fit" for i in mine)


def test_ensemble_test_values_are_those_of_the_aggregated_members(logs, plan):
    train, test = logs
    cand = plan.candidates["ensemble"]
    assert all(2 <= len(m) <= 3 for m in cand.members)
    for i, members in enumerate(cand.members):
        cols = [train.models.index(m) for m in members]
        X, y = train.answer[:, cols].astype(str), train.reference.astype(str)
        seed = cand.details[i]["seed"]
        # the default aggregator is chosen by cross-validation on the set's training answers
        assert cand.details[i]["aggregator_option"] == "auto"
        name = choose_aggregator(X, y, classes=CLASSES, rng=seed).chosen
        assert cand.details[i]["aggregator"] == name
        agg = make_aggregator(name, classes=CLASSES,
                              **({"rng": seed} if name == "copula-bayes" else {})).fit(X, y)
        realised = np.mean(agg.predict(test.answer[:, cols].astype(str)) == test.reference)
        assert cand.test_accuracy[i] == pytest.approx(realised)
        assert cand.predicted_cost[i] == pytest.approx(train.mean_cost[cols].sum() * 1e6)
        assert cand.test_cost[i] == pytest.approx(test.cost[:, cols].sum(axis=1).mean() * 1e6)
        assert 0.0 <= cand.predicted_low[i] <= cand.predicted_high[i] <= 1.0


def test_pool_cascade_sets_have_the_documented_sizes_and_pareto_is_undominated():
    train, _ = order_by_cost(load_pool("medmcqa", "train"))
    assert len(cascade_candidates_of(train, "chains", chains=shipped_chains("medmcqa"))) == 37
    assert len(cascade_candidates_of(train, "all")) == 2**9 - 9 - 1
    front = {i for c in cascade_candidates_of(train, "pareto") for i in c}
    acc, cost = train.accuracy, train.mean_cost
    for i in range(9):
        dominated = any(cost[j] <= cost[i] and acc[j] >= acc[i] and
                        (cost[j] < cost[i] or acc[j] > acc[i]) for j in range(9))
        assert (i in front) == (not dominated)


def test_explicit_cascades_are_put_in_chain_order(logs):
    tr, _ = order_by_cost(logs[0])
    assert cascade_candidates_of(tr, [["m1", "m3"], ["m3", "m1"]]) == [(0, 3)]


@pytest.mark.parametrize("kwargs, match", [
    ({"budgets": [-1.0]}, "budgets"),
    ({"budgets": [10.0], "families": ["bagging"]}, "families"),
    ({"budgets": [10.0], "cascades": "some"}, "cascades"),
    ({"budgets": [10.0], "cascades": [["m0", "nope"]]}, "cascades"),
    ({"budgets": [10.0], "cascades": [["m0"]]}, "cascades"),
    ({"budgets": [10.0]}, "chains"),  # not a bundled pool: chains unknown
    ({"budgets": [10.0], "cascades": "all", "cascade_method": "oracle"}, "cascade_method"),
    ({"budgets": [10.0], "families": ["ensemble"], "aggregator": "nope"}, "aggregator"),
])
def test_bad_options_raise_naming_the_argument(logs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_budget(logs[0], logs[1], **kwargs)


def test_logs_with_other_models_are_rejected(logs):
    other = toy_pool(50, seed=3, names=("a", "b", "c", "d"))
    with pytest.raises(ValueError, match="test: models"):
        plan_budget(logs[0], other, budgets=[10.0], families=["single"])

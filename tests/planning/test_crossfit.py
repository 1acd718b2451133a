"""Cross-fitted cascade predictions (llmcopula.planning.crossfit): the point matching is the
brute-force one, the average is that of routing each held-out fold with rules tuned without it,
and on a seeded simulation the in-sample prediction at the budget rule's choice is biased upward
while the cross-fitted one is not (tolerances from the standard error over replicates)."""

from __future__ import annotations

import numpy as np
import pytest

from llmcopula.cascade.methods import MethodOptions, run_method
from llmcopula.planning import best_under_budget
from llmcopula.planning.crossfit import crossfit_frontiers, match_points

from planning_toys import toy_pool


def test_match_points_is_the_brute_force_lagrangian_minimiser_or_nearest_cost():
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = int(rng.integers(1, 8))
        acc = np.round(rng.uniform(0.5, 0.9, m), 2)  # rounded: ties happen
        cost = np.round(rng.uniform(1, 30, m))
        lam = rng.choice([0.0, 1e-3, 1e-2, 0.1, np.nan], size=6)
        target_cost = rng.uniform(0, 35, 6)
        got = match_points(acc, cost, lam, target_cost)
        for t in range(6):
            if np.isnan(lam[t]):
                want = min(range(m), key=lambda i: (abs(cost[i] - target_cost[t]), -acc[i], i))
            else:
                want = min(range(m), key=lambda i: (1 - acc[i] + lam[t] * cost[i], cost[i], i))
            assert got[t] == want


def test_crossfit_is_the_fold_size_weighted_mean_of_held_out_routing():
    train = toy_pool(120, seed=3)
    cas = (0, 2, 3)
    opts = MethodOptions(n_lambdas=4)
    full, _ = run_method("markov-copula", train, None, cas, options=opts, rng=1)
    (acc, cost), = crossfit_frontiers("markov-copula", train, [cas], [full], options=opts,
                                      n_folds=3, rng=7)
    # the same folds and seeds, recomputed step by step
    gen = np.random.default_rng(7)
    fold = gen.permutation(np.arange(train.n_queries) % 3)
    seed = int(gen.integers(0, 2**31 - 1, size=1)[0])
    want_acc, want_cost = np.zeros(len(full)), np.zeros(len(full))
    for f in range(3):
        held = train.take(fold == f)
        part, _ = run_method("markov-copula", train.take(fold != f), held, cas, options=opts,
                             rng=seed)
        for p in range(len(full)):
            lam = full.lambdas[p]
            if np.isnan(lam):
                q = min(range(len(part)), key=lambda i: (abs(part.cost[i] - full.cost[p]),
                                                         -part.accuracy[i], i))
            else:
                q = min(range(len(part)), key=lambda i: (1 - part.accuracy[i]
                                                         + lam * part.cost[i], part.cost[i], i))
            # route the held-out queries by hand with the fold's raw rules
            signal = held.confidence[:, list(cas)]
            answered = np.zeros(held.n_queries, dtype=bool)
            right = np.zeros(held.n_queries)
            spent = np.zeros(held.n_queries)
            for j, model in enumerate(cas):
                active = ~answered
                spent[active] += held.cost[active, model] * 1e6
                last = j == len(cas) - 1
                if last:
                    stop = active
                else:
                    r = part.raw_thresholds[q][j]
                    passes = (signal[:, j] > r) if part.directions is None or \
                        part.directions[j] == "above" else (signal[:, j] < r)
                    if np.isneginf(r) and (part.directions is None
                                           or part.directions[j] == "above"):
                        passes = np.ones_like(passes)
                    stop = active & passes
                right[stop] = held.correct[stop, model]
                answered |= stop
            want_acc[p] += np.mean(fold == f) * right.mean()
            want_cost[p] += np.mean(fold == f) * spent.mean()
    np.testing.assert_allclose(acc, want_acc, atol=1e-12)
    np.testing.assert_allclose(cost, want_cost, rtol=1e-9)


def test_in_sample_prediction_of_the_budget_choice_is_optimistic_and_crossfit_is_not():
    population = toy_pool(20000, seed=12345)
    cas, budget, reps = (0, 1, 2, 3), 10.0, 20
    naive, honest = [], []
    for r in range(reps):
        train = toy_pool(200, seed=r)
        full, _ = run_method("grid", train, population, cas, rng=r)
        (acc, cost), = crossfit_frontiers("grid", train, [cas], [full], n_folds=5, rng=r)
        truth = np.asarray(full.test_accuracy)
        i = best_under_budget(full.accuracy, full.cost, [budget])[0]
        j = best_under_budget(acc, cost, [budget])[0]
        naive.append(full.accuracy[i] - truth[i])
        honest.append(acc[j] - truth[j])
    se_naive = np.std(naive, ddof=1) / np.sqrt(reps)
    se_honest = np.std(honest, ddof=1) / np.sqrt(reps)
    assert np.mean(naive) > 4 * se_naive
    assert abs(np.mean(honest)) < 3 * se_honest


@pytest.mark.parametrize("kwargs, match", [({"n_folds": 1}, "n_folds"),
                                           ({"n_folds": 70}, "n_folds")])
def test_bad_folds_raise_naming_the_argument(kwargs, match):
    train = toy_pool(100, seed=0)
    full, _ = run_method("grid", train, None, (0, 1))
    with pytest.raises(ValueError, match=match):
        crossfit_frontiers("grid", train, [(0, 1)], [full], **kwargs)

"""The continuous threshold optimiser against closed forms and brute force."""

import numpy as np
import pytest

from llmcopula.cascade import MarkovCopulaModel, tune
from llmcopula.cascade.tuning import gap_budgets
from llmcopula.datasets import load_benchmark


@pytest.fixture(scope="module")
def model():
    return MarkovCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))


@pytest.fixture(scope="module")
def independent_model():
    return MarkovCopulaModel(family="independence").fit(
        load_benchmark("medmcqa", "llama", split="train"))


def objective(model, cascade, s, lam):
    r = model.evaluate_quantile(s, cascade)
    return 1 - r.accuracy + lam * r.cost


def test_two_stage_optimum_matches_the_closed_form_under_independence(independent_model):
    """With independent stages, deferring at Φ_1 = t gains E[Φ_2] − t per query and costs
    λ·c_2, so the optimal threshold is t* = E[Φ_2] − λ·c_2."""
    m = independent_model
    lams = np.array([1e-5, 1e-4, 5e-4])
    f = tune(m, (0, 3), lambdas=lams, pareto=False, rng=0)
    expected = m.marginals_[3].mean - lams * m.costs_[3]
    order = np.argsort(f.lambdas)
    np.testing.assert_allclose(f.thresholds[order, 0], expected, atol=2e-4)


@pytest.mark.parametrize("cascade", [(0, 4), (1, 3), (0, 2, 4)])
def test_optimiser_is_at_least_as_good_as_brute_force(model, cascade):
    """On a grid of 2001 (k=2) or 61x61 (k=3) points of the uniform-scale cube, no point beats
    the tuned thresholds by more than the optimiser tolerance."""
    k = len(cascade)
    lams = np.array([0.0, 2e-4, 1e-3, 4e-3])
    f = tune(model, cascade, lambdas=lams, pareto=False, polish=True, rng=0)
    fast = tune(model, cascade, lambdas=lams, pareto=False, rng=0)
    if k == 2:
        grid = np.linspace(0, 1, 2001)[:, None]
    else:
        g = np.linspace(0, 1, 61)
        grid = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    ev = [model.evaluate_quantile(chunk, cascade)
          for chunk in np.array_split(grid, max(1, grid.shape[0] // 1000))]
    acc = np.concatenate([e.accuracy for e in ev])
    cost = np.concatenate([e.cost for e in ev])
    for p, lam in enumerate(f.lambdas):
        tuned = objective(model, cascade, model.to_quantile(f.thresholds[p], cascade), lam)[0]
        brute = np.min(1 - acc + lam * cost)
        assert tuned <= brute + 1e-7
        # without polish the optimum of the coarse discretisation (n_cells // 3) is used: its
        # fine objective is within the coarse discretisation error, measured <= 1.5e-5
        unpolished = objective(model, cascade, model.to_quantile(fast.thresholds[p], cascade),
                               lam)[0]
        assert unpolished <= brute + 2e-5


def test_frontier_is_monotone_and_spans_the_costs(model):
    f = tune(model, (0, 1, 2, 3, 4), rng=0)
    assert len(f) >= 20
    assert np.all(np.diff(f.cost) > 0)
    assert np.all(np.diff(f.accuracy) > 0)
    assert np.all((f.thresholds >= 0) & (f.thresholds <= 1))
    assert f.cost[0] == pytest.approx(model.costs_[0], rel=1e-3)
    assert f.cost[-1] <= model.costs_.sum() + 1e-9
    # the most accurate point is at least as accurate as the best single model on its own
    assert f.accuracy[-1] >= max(mg.mean for mg in model.marginals_) - 1e-6


def test_frontier_has_no_local_optimum_jumps(model):
    """Along the λ path each point is optimal for its λ among all frontier points' thresholds."""
    f = tune(model, (0, 2, 3, 4), rng=0)
    s = model.to_quantile(f.thresholds, (0, 2, 3, 4))
    for p, lam in enumerate(f.lambdas):
        if np.isnan(lam):  # a gap-filling point of the budget form, not a λ solution
            continue
        values = objective(model, (0, 2, 3, 4), s, lam)
        # judged on the fine discretisation, optimised on the coarse one (see tune's polish):
        # within the coarse discretisation error; a local-optimum jump costs ~1e-3 or more
        assert values[p] <= values.min() + 2e-5


def test_gap_filling_leaves_no_gap_wider_than_the_cost_range_over_n_lambdas(model):
    """MMLU/Llama (0, 4): the λ path jumps from 18 to 344 USD/M (the model's frontier bends
    below its concave hull there); the budget form fills the hole."""
    without = tune(model, (0, 4), n_lambdas=20, fill_gaps=False, rng=0)
    assert np.diff(without.cost).max() > 300
    f = tune(model, (0, 4), n_lambdas=20, rng=0)
    width = (f.cost.max() - f.cost.min()) / 20
    assert np.diff(f.cost).max() <= width * 1.05
    filled = ~np.isnan(f.budgets)
    assert filled.sum() >= 10 and np.isnan(f.lambdas[filled]).all()
    assert np.all(f.cost[filled] <= f.budgets[filled] * (1 + 1e-3))
    assert np.all(np.diff(f.accuracy) > 0)  # still a Pareto frontier
    # every filling point is at least as accurate as the best λ point within its budget
    lam_pts = ~filled
    for p in np.flatnonzero(filled):
        within = f.accuracy[lam_pts & (f.cost <= f.budgets[p])]
        assert f.accuracy[p] >= within.max() - 1e-6


def test_gap_budgets_split_wide_gaps_evenly():
    assert gap_budgets([0.0, 1.0, 2.0], 2).size == 0
    b = gap_budgets([0.0, 100.0], 10)
    np.testing.assert_allclose(b, np.arange(10, 100, 10))
    assert gap_budgets([5.0], 10).size == 0


def test_budget_form_respects_the_budget_and_beats_lagrangian_points(model):
    cas = (0, 2, 4)
    f = tune(model, cas, rng=0)
    budgets = np.array([30.0, 60.0, 150.0, 400.0])
    fb = tune(model, cas, budgets=budgets, rng=0)
    assert np.all(fb.cost <= budgets * (1 + 1e-6))
    for b, budget in enumerate(budgets):
        feasible = f.accuracy[f.cost <= budget]
        if feasible.size:
            assert fb.accuracy[b] >= feasible.max() - 1e-6


def test_tuning_is_deterministic_given_rng(model):
    a = tune(model, (0, 2, 4), n_lambdas=10, rng=3)
    b = tune(model, (0, 2, 4), n_lambdas=10, rng=3)
    np.testing.assert_array_equal(a.thresholds, b.thresholds)
    c = tune(model, (0, 2, 4), n_lambdas=10, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.thresholds, c.thresholds)  # a seed and its Generator agree
    budgets = [60.0, 120.0]
    d = tune(model, (0, 2, 4), budgets=budgets, rng=5)
    e = tune(model, (0, 2, 4), budgets=budgets, rng=5)
    np.testing.assert_array_equal(d.thresholds, e.thresholds)


def test_rng_defaults_to_none(model):
    import inspect

    assert inspect.signature(tune).parameters["rng"].default is None
    assert len(tune(model, (0, 4), n_lambdas=4)) >= 1  # fresh entropy works


def test_bad_inputs_raise(model):
    with pytest.raises(ValueError, match="lambdas"):
        tune(model, (0, 4), lambdas=[-1.0])
    with pytest.raises(ValueError, match="budgets"):
        tune(model, (0, 4), budgets=[1.0])
    with pytest.raises(ValueError, match="not fitted"):
        tune(MarkovCopulaModel(), (0, 4))

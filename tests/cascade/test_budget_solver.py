"""The batched budget solver against SLSQP, one budget at a time (the earlier solver)."""

import numpy as np
import pytest
from scipy import optimize
from scipy.stats import qmc

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, tune
from llmcopula.cascade.tuning import _BUDGET_STARTS, _Problem, _solve_budgets_batched
from llmcopula.datasets import load_benchmark


def slsqp_budgets(problem, budgets, seeds, n_starts):
    """max accuracy s.t. cost <= B by SLSQP from the n_starts most accurate feasible seeds."""
    ev = problem.evaluate(seeds)
    d = seeds.shape[1]
    out = np.zeros((budgets.size, d))
    best = np.full(budgets.size, -np.inf)

    def acc(x):
        r = problem.evaluate(x[None, :], with_grad=True)
        return -float(r.accuracy[0]), -r.grad_accuracy[0]

    for b, budget in enumerate(budgets):
        feasible = np.flatnonzero(ev.cost <= budget)
        for i in feasible[np.argsort(-ev.accuracy[feasible])][:n_starts]:
            cons = {"type": "ineq",
                    "fun": lambda x, B=budget: (B - problem.evaluate(x[None, :]).cost[0]) / B,
                    "jac": lambda x, B=budget: -problem.evaluate(
                        x[None, :], with_grad=True).grad_cost[0] / B}
            res = optimize.minimize(acc, seeds[i], jac=True, method="SLSQP",
                                    bounds=[(0.0, 1.0)] * d, constraints=[cons],
                                    options={"ftol": 1e-12, "maxiter": 200})
            x = np.clip(res.x, 0.0, 1.0)
            r = problem.evaluate(x[None, :])
            for cand, a, c in ((x, r.accuracy[0], r.cost[0]), (seeds[i], ev.accuracy[i],
                                                                 ev.cost[i])):
                if c <= budget * (1 + 1e-9) and a > best[b]:
                    best[b], out[b] = a, cand
    return out


@pytest.fixture(scope="module")
def mmlu():
    return load_benchmark("mmlu", "llama", split="train")


@pytest.mark.parametrize("kind", ["markov", "empirical"])
@pytest.mark.parametrize("cascade", [(0, 2, 4), (0, 1, 2, 3, 4)])
def test_batched_budget_solver_matches_slsqp(mmlu, kind, cascade):
    model = (MarkovCopulaModel() if kind == "markov" else EmpiricalCopulaModel()).fit(mmlu)
    path = tune(model, cascade, fill_gaps=False, pareto=False, rng=0)
    seeds = np.vstack([model.to_quantile(path.thresholds, cascade),
                       qmc.Sobol(d=len(cascade) - 1, scramble=True, seed=0).random(256)])
    budgets = np.linspace(path.cost.min(), path.cost.max(), 22)[1:-1]
    problem = _Problem(model, cascade, None, n_cells=model.coarse_n_cells())
    fast = _solve_budgets_batched(problem, budgets, seeds, problem.evaluate(seeds),
                                  _BUDGET_STARTS)
    ref = slsqp_budgets(problem, budgets, seeds, 2)
    ef, er = problem.evaluate(fast), problem.evaluate(ref)
    assert np.all(ef.cost <= budgets * (1 + 1e-9))
    diff = ef.accuracy - er.accuracy
    # Both are local searches on a non-convex objective and neither is always ahead. Measured
    # here (seeded, deterministic): Markov-copula worst budget -3.7e-4, mean over the budgets
    # -7e-7 (k = 3) and +4.7e-4 (k = 5: the batched solver wins one budget by 1e-2); the
    # empirical-copula model, whose piecewise-smooth objective has many local optima, worst
    # -1.4e-2 (and +9.7e-3 the other way), mean -9e-5 / +3e-4. The bounds leave a factor of
    # about two; the radius at which the batched solver stops (1e-3 of a quantile) alone
    # costs ~1e-6 of accuracy.
    worst, mean = (-1e-3, -2e-5) if kind == "markov" else (-3e-2, -5e-4)
    assert diff.min() >= worst
    assert diff.mean() >= mean


def test_warm_start_is_used_and_the_result_never_worse_than_the_best_feasible_seed(mmlu):
    model = MarkovCopulaModel().fit(mmlu)
    cascade = (0, 2, 4)
    problem = _Problem(model, cascade, None, n_cells=model.coarse_n_cells())
    seeds = qmc.Sobol(d=2, scramble=True, seed=1).random(64)
    ev = problem.evaluate(seeds)
    budgets = np.quantile(ev.cost, [0.2, 0.5, 0.8])
    out = _solve_budgets_batched(problem, budgets, seeds, ev, 1, warm=np.full((3, 2), 0.5))
    eo = problem.evaluate(out)
    for b, budget in enumerate(budgets):
        best_seed = ev.accuracy[ev.cost <= budget].max()
        assert eo.cost[b] <= budget * (1 + 1e-9)
        assert eo.accuracy[b] >= best_seed


def test_a_budget_without_feasible_seeds_starts_from_the_cheapest_cascade(mmlu):
    model = MarkovCopulaModel().fit(mmlu)
    problem = _Problem(model, (0, 4), None, n_cells=model.coarse_n_cells())
    seeds = np.array([[0.9], [0.95]])  # both defer most queries: far above the budget
    budget = np.array([model.costs_[0] * 1.5])
    out = _solve_budgets_batched(problem, budget, seeds, problem.evaluate(seeds), 2)
    r = problem.evaluate(out)
    assert r.cost[0] <= budget[0] * (1 + 1e-9)
    assert out[0, 0] > 0.0  # it moved off "answer everything at stage 1" towards the budget

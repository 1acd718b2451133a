"""The registry of tuning methods: each method run through it equals the direct library call,
options are checked, and both command lines use it."""

import numpy as np
import pytest

from llmcopula.cascade import EmpiricalCopulaModel, MarkovCopulaModel, evaluate_frontier, tune
from llmcopula.cascade.baselines import RandomSearch, bayes_opt, grid_search, oracle_frontier
from llmcopula.cascade.methods import (
    Fitted,
    MethodOptions,
    TuningMethod,
    get_method,
    method_names,
    register_method,
    run_method,
)
from llmcopula.datasets import load_benchmark


@pytest.fixture(scope="module")
def logs():
    return (load_benchmark("mmlu", "llama", split="train"),
            load_benchmark("mmlu", "llama", split="test"))


def _same(a, b):
    for attr in ("thresholds", "raw_thresholds", "accuracy", "cost", "test_accuracy",
                 "test_cost"):
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
    assert a.method == b.method


def test_every_method_of_the_comparison_is_registered():
    assert set(method_names()) == {"markov-copula", "empirical-copula", "empirical-copula-phi",
                                   "grid", "grid-labels", "bo", "bo-labels", "oracle",
                                   "markov-copula-paper", "posterior", "posterior-markov-copula",
                                   "posterior-empirical-copula"}


def test_model_methods_equal_the_direct_calls(logs):
    train, test = logs
    opts = MethodOptions(n_lambdas=6)
    front, fitted = run_method("markov-copula", train, test, (0, 2, 4), options=opts, rng=0)
    model = MarkovCopulaModel().fit(train)
    _same(front, evaluate_frontier(tune(model, (0, 2, 4), n_lambdas=6, rng=0), test,
                                   model=model))
    assert isinstance(fitted.model, MarkovCopulaModel)
    front, _ = run_method("empirical-copula-phi", train, test, (1, 3), options=opts, rng=2)
    model = EmpiricalCopulaModel(target="confidence").fit(train)
    _same(front, evaluate_frontier(tune(model, (1, 3), n_lambdas=6, rng=2), test, model=model))


def test_baselines_equal_the_direct_calls_and_share_one_fit(logs):
    train, test = logs
    grid, fitted = run_method("grid-labels", train, test, (0, 4))
    _same(grid, evaluate_frontier(grid_search(train, (0, 4), score="labels"), test,
                                  calibrators=fitted.calibrators))
    assert fitted.model is None and fitted.costs.tolist() == (train.mean_cost * 1e6).tolist()
    assert get_method("grid").fit_key(MethodOptions()) == get_method("bo").fit_key(
        MethodOptions())
    oracle, _ = run_method("oracle", train, test, (0, 4))
    _same(oracle, oracle_frontier(test, (0, 4)))


def test_bo_through_the_registry_passes_its_options(logs, monkeypatch):
    train, _ = logs
    seen = {}

    def fake_bayes_opt(log, cascade, **kw):
        seen.update(kw)
        return bayes_opt(log, cascade, **dict(kw, minimizer=RandomSearch()))

    monkeypatch.setattr("llmcopula.cascade.baselines.bayes_opt", fake_bayes_opt)
    run_method("bo", train, None, (0, 4), options=MethodOptions(n_lambdas=3, n_calls=5), rng=7)
    assert seen["n_lambdas"] == 3 and seen["n_calls"] == 5 and seen["rng"] == 7
    assert seen["score"] == "confidence"


def test_options_a_method_does_not_read_are_rejected(logs):
    train, test = logs
    with pytest.raises(ValueError, match="--family/--approximation: not an option of the "
                                         "empirical-copula method"):
        run_method("empirical-copula", train, test, (0, 1),
                   options=MethodOptions(family="auto", approximation="event-markov"))
    with pytest.raises(ValueError, match="--budget: not an option of the grid method"):
        run_method("grid", train, test, (0, 1), options=MethodOptions(budgets=[100.0]))
    with pytest.raises(ValueError, match="needs labelled test data"):
        run_method("oracle", train, None, (0, 1))
    with pytest.raises(ValueError, match="method: unknown 'nope'"):
        get_method("nope")


def test_a_registered_method_is_available_to_run_method(logs):
    train, _ = logs

    class Cheapest(TuningMethod):
        name = "always-first"
        summary = "answer every query with the first model"

        def frontier(self, prepared, train, test, cascade, options, rng):
            return grid_search(train, cascade, quantiles=[0.0])

    try:
        register_method(Cheapest())
        front, prepared = run_method("always-first", train, None, (0, 4))
        assert isinstance(prepared, Fitted) and front.thresholds.shape[1] == 1
    finally:
        from llmcopula.cascade import methods

        methods._REGISTRY.pop("always-first", None)


def test_both_command_lines_offer_the_registry():
    from llmcopula.cli import build_parser
    from llmcopula.experiments.tasks import METHODS

    assert METHODS == method_names()
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    tune_method = next(a for a in sub.choices["tune"]._actions if a.dest == "method")
    assert tuple(tune_method.choices) == method_names()

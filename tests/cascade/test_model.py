"""The fitted Markov-copula model: bookkeeping, monotonicity and agreement with simulation."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.cascade import MarkovCopulaModel
from llmcopula.datasets import ChainLog, load_benchmark


@pytest.fixture(scope="module")
def mmlu_model():
    return MarkovCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))


@pytest.fixture(scope="module")
def qwen_model():
    """gpt-4o-mini has a large atom at the top of its calibrated confidence."""
    return MarkovCopulaModel(family="auto").fit(load_benchmark("mmlu", "qwen_oai", split="train"))


def test_fit_returns_self_with_learned_attributes(mmlu_model):
    assert mmlu_model.models_[0] == "llama3.2-1b"
    assert mmlu_model.costs_.shape == (5,)
    assert mmlu_model.confidence_.shape == (285, 5)
    assert mmlu_model.n_train_ == 285


def test_pair_copulas_are_fitted_lazily_and_cached(mmlu_model):
    model = MarkovCopulaModel().fit(load_benchmark("mmlu", "llama", split="train"))
    assert model._pairs == {}
    cop = model.pair_copula(0, 2)
    assert set(model._pairs) == {(0, 2)}
    assert model.pair_copula(0, 2) is cop
    assert cop.family == "gumbel" and cop.theta >= 1


def test_never_deferring_gives_the_first_models_accuracy_and_cost(mmlu_model):
    """Thresholds of 0 accept every answer of stage 1: accuracy = E[Φ_1] = training accuracy
    (a maximum-likelihood identity of the calibrator) and cost = c_1."""
    pred = mmlu_model.predict([0.0, 0.0], cascade=(1, 3, 4))
    train = load_benchmark("mmlu", "llama", split="train")
    assert pred.accuracy[0] == pytest.approx(train.accuracy[1], abs=2e-3)
    assert pred.cost[0] == pytest.approx(mmlu_model.costs_[1])
    np.testing.assert_allclose(pred.stage_probabilities[0], [1, 0, 0], atol=1e-12)


def test_always_deferring_charges_every_model(mmlu_model):
    pred = mmlu_model.predict([1.0, 1.0, 1.0, 1.0])
    assert pred.cost[0] == pytest.approx(mmlu_model.costs_.sum())
    assert pred.accuracy[0] == pytest.approx(mmlu_model.marginals_[4].mean, abs=1e-9)


@settings(max_examples=30)
@given(st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3), st.integers(0, 2),
       st.floats(0.0, 0.5))
def test_cost_is_monotone_in_every_threshold(mmlu_model, t, j, step):
    """Raising a threshold defers more queries, so the expected cost cannot fall, and it
    stays within [c_1, Σc]."""
    t = np.array(t)
    t2 = t.copy()
    t2[j] = min(1.0, t2[j] + step)
    cas = (0, 2, 3, 4)
    low, high = mmlu_model.predict(np.vstack([t, t2]), cascade=cas).cost
    assert high >= low - 1e-9
    costs = mmlu_model.costs_[list(cas)]
    assert costs[0] - 1e-9 <= low <= costs.sum() + 1e-9


@settings(max_examples=20)
@given(st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4))
def test_stage_probabilities_bookkeeping(mmlu_model, t):
    """Stop probabilities lie in [0, 1] and sum to 1; reaching a stage is non-increasing in
    depth."""
    for approx in ("exact", "event-markov"):
        p = mmlu_model.predict(t, approximation=approx).stage_probabilities[0]
        assert np.all(p >= -1e-12) and np.all(p <= 1 + 1e-12)
        assert p.sum() == pytest.approx(1.0, abs=1e-10)
        reach = 1 - np.concatenate([[0], np.cumsum(p)[:-1]])
        assert np.all(np.diff(reach) <= 1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("cascade", [(0, 4), (0, 2, 4), (1, 2, 3, 4), (0, 1, 2, 3, 4)])
def test_exact_recursion_matches_simulation_from_the_fitted_model(qwen_model, mmlu_model,
                                                                   cascade):
    """Monte Carlo from the fitted law (an implementation independent of the recursion):
    accuracy, cost and stage probabilities within 4 standard errors, for k = 2..5 (on a chain
    with atoms too)."""
    rng = np.random.default_rng(sum(cascade))
    for model in (mmlu_model, qwen_model):
        if max(cascade) >= len(model.models_):
            continue
        k = len(cascade)
        n = 100_000
        phi = model.sample(n, cascade=cascade, rng=rng)
        s = rng.uniform(0.2, 0.9, size=(3, k - 1))
        t = model.from_quantile(s, cascade)
        pred = model.predict(t, cascade=cascade)
        costs = np.cumsum(model.costs_[list(cascade)])
        for b in range(3):
            accept = np.concatenate([phi[:, :-1] > t[b], np.ones((n, 1), bool)], axis=1)
            stage = np.argmax(accept, axis=1)
            usage = np.bincount(stage, minlength=k) / n
            se_usage = np.sqrt(usage * (1 - usage) / n)
            assert np.all(np.abs(usage - pred.stage_probabilities[b]) <= 4 * se_usage + 1e-4)
            acc_draws = phi[np.arange(n), stage]  # E[C | Φ] = Φ: average Φ of the answering stage
            se = acc_draws.std() / np.sqrt(n)
            assert abs(acc_draws.mean() - pred.accuracy[b]) <= 4 * se + 1e-4
            cost_draws = costs[stage]
            assert abs(cost_draws.mean() - pred.cost[b]) <= 4 * cost_draws.std() / np.sqrt(n) + 1e-3


def test_event_markov_underestimates_deep_deferral_on_mmlu(mmlu_model):
    """The reference's product formula is biased for k >= 3 under positive dependence."""
    s = np.full((1, 4), 0.7)
    t = mmlu_model.from_quantile(s)
    exact = mmlu_model.predict(t).stage_probabilities[0, -1]
    approx = mmlu_model.predict(t, approximation="event-markov").stage_probabilities[0, -1]
    assert approx < exact


def test_model_is_invariant_to_row_order():
    log = load_benchmark("mmlu", "llama", split="train")
    perm = np.random.default_rng(0).permutation(log.n_queries)
    a = MarkovCopulaModel().fit(log).predict([0.5, 0.6], cascade=(0, 2, 4))
    b = MarkovCopulaModel().fit(log.take(perm)).predict([0.5, 0.6], cascade=(0, 2, 4))
    assert a.accuracy[0] == pytest.approx(b.accuracy[0], abs=1e-7)
    # the fits see sums in another order: agreement to optimiser tolerance, not bitwise
    assert a.cost[0] == pytest.approx(b.cost[0], rel=1e-7)


def test_raw_thresholds_reproduce_the_calibrated_rule_on_test_data(mmlu_model):
    test = load_benchmark("mmlu", "llama", split="test")
    phi = mmlu_model.calibrate(test)
    t = np.array([0.4, 0.55, 0.7, 0.8])
    r = mmlu_model.raw_thresholds(t)[0]
    np.testing.assert_array_equal(phi[:, :4] > t, test.confidence[:, :4] > r)


def test_bad_inputs_raise(mmlu_model):
    with pytest.raises(ValueError, match="log"):
        MarkovCopulaModel().fit("not a log")
    with pytest.raises(ValueError, match="not fitted"):
        MarkovCopulaModel().predict([0.5])
    with pytest.raises(ValueError, match="cascade"):
        mmlu_model.predict([0.5], cascade=(3, 1))
    with pytest.raises(ValueError, match="thresholds"):
        mmlu_model.predict([0.5, 0.5], cascade=(0, 4))
    with pytest.raises(ValueError, match="thresholds"):
        mmlu_model.predict([np.nan], cascade=(0, 4))
    with pytest.raises(ValueError, match="approximation"):
        MarkovCopulaModel(approximation="x").fit(load_benchmark("mmlu", "llama"))
    one = ChainLog.from_arrays(["a", "b"], confidence=[[-0.1, -0.2]], correct=[[1, 0]],
                               cost=[[1e-6, 2e-6]], signal="logprob")
    with pytest.raises(ValueError, match="at least 2"):
        MarkovCopulaModel().fit(one)


def test_equal_labels_fall_back_with_a_warning():
    rng = np.random.default_rng(0)
    conf = np.log(rng.uniform(0.3, 1.0, size=(40, 2)))
    correct = np.column_stack([np.ones(40, int), rng.integers(0, 2, 40)])
    log = ChainLog.from_arrays(["a", "b"], confidence=conf, correct=correct,
                               cost=np.full((40, 2), 1e-6), signal="logprob")
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        model = MarkovCopulaModel().fit(log)
    assert any("constant" in str(w.message) for w in rec)
    pred = model.predict([0.5], cascade=(0, 1))
    assert 0 <= pred.accuracy[0] <= 1

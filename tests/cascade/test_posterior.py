"""The posterior method: stage posteriors from every signal seen so far, their deployable rules,
and the claim that its test numbers are those of routing the test log with the exported rules."""

import numpy as np
import pytest

from llmcopula.calibration import PlattCalibrator
from llmcopula.cascade.methods import MethodOptions, get_method, run_method
from llmcopula.cascade.posterior import CascadePosterior, posterior_log
from llmcopula.datasets import ChainLog, load_benchmark
from llmcopula.policy import CascadePolicy, ModelInfo, PosteriorRule

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def trivia():
    return (load_benchmark("triviaqa", "llama", split="train"),
            load_benchmark("triviaqa", "llama", split="test"))


@pytest.fixture(scope="module")
def posterior(trivia):
    return CascadePosterior().fit(trivia[0])


def test_signal_features_are_the_platt_calibrators_clipped_transformed_signals(trivia, posterior):
    train, test = trivia
    feats = posterior.features(test, (1, 3))
    for col, m in enumerate((1, 3)):
        platt = PlattCalibrator(transform="two-sided").fit(train.confidence[:, m],
                                                           train.correct[:, m])
        np.testing.assert_array_equal(feats[:, col], platt.clipped_signal(test.confidence[:, m]))


def test_agreement_features_compare_the_stage_answer_with_each_earlier_one(trivia, posterior):
    train, _ = trivia
    feats = posterior.features(train, (0, 2, 4))
    assert feats.shape == (train.n_queries, 3 + 2 + 2)
    from llmcopula.policy import normalize_answer

    norm = [[normalize_answer(a) for a in row] for row in train.answer[:, [0, 2, 4]]]
    expect_agree = [[float(r[i] is not None and r[2] is not None and r[i] == r[2]) for i in (0, 1)]
                    for r in norm]
    np.testing.assert_array_equal(feats[:, 3:5], expect_agree)
    unknown = np.array([r[2] is None or r[0] is None for r in norm])
    assert unknown.any() and np.all(feats[unknown, 3] + feats[unknown, 5] == 0)


def test_rules_compute_the_calibrators_log_odds(trivia, posterior):
    _, test = trivia
    cas = (0, 2, 4)
    z = posterior.log_odds(test, cas)
    for j in range(3):
        cal = posterior.calibrator(cas[: j + 1])
        expected = (posterior.features(test, cas[: j + 1]) @ cal.fold_coef_.mean(axis=0)
                    + cal.fold_intercept_.mean())
        np.testing.assert_allclose(z[:, j], expected, rtol=1e-12, atol=1e-12)
    train_z = posterior.train_log_odds(cas)
    np.testing.assert_array_equal(train_z[:, 1], posterior.calibrator((0, 2)).oof_decision_)
    # the stage posterior depends on the prefix only, so cascades share their fits
    assert posterior.calibrator((0, 2)) is posterior.calibrator([0, 2])


def test_without_answers_the_posterior_uses_the_signals_only(trivia):
    train, _ = trivia
    bare = ChainLog(train.models, train.confidence, train.correct, train.cost,
                    signal=train.signal)
    post = CascadePosterior().fit(bare)
    assert not post.agreement_
    rule = post.rule((0, 1), threshold=0.0)
    assert rule.agree_coef == (0.0,) and rule.accepts(bare.confidence[:, :2]).shape == (300,)
    with pytest.raises(ValueError, match="max_answer_chars"):
        CascadePosterior(max_answer_chars=0).fit(train)
    with pytest.raises(ValueError, match="final"):
        CascadePosterior(final="median").fit(train)


def _route_with_policy(rules, frontier, test, cascade):
    chain = [ModelInfo(m) for m in test.models]
    policy = CascadePolicy(chain_models=chain, cascade_models=list(frontier.models),
                           rules=rules, cost_definition="cost_answer_usd")
    stage = policy.route(test.confidence, answers=test.answer, columns=list(test.models))
    policy = CascadePolicy.from_json(policy.to_json())  # the file, not the object
    assert policy.route(test.confidence, answers=test.answer,
                        columns=list(test.models)).tolist() == stage.tolist()
    rows = np.arange(test.n_queries)
    idx = list(cascade)
    acc = test.correct[:, idx][rows, stage].mean()
    cost = np.cumsum(test.cost[:, idx], axis=1)[rows, stage].mean() * 1e6
    return acc, cost


@pytest.mark.parametrize("method, cascade", [("posterior-empirical-copula", (0, 2, 4)),
                                             ("posterior-markov-copula", (1, 3))])
def test_test_numbers_equal_routing_the_test_log_with_the_exported_rules(trivia, method, cascade):
    train, test = trivia
    front, prepared = run_method(method, train, test, cascade,
                                 options=MethodOptions(n_lambdas=6), rng=0)
    assert front.cascade == cascade and front.method == method and len(front) >= 2
    for p in range(len(front)):
        rules = get_method(method).rules(prepared, front, p)
        assert all(isinstance(r, PosteriorRule) for r in rules)
        acc, cost = _route_with_policy(rules, front, test, cascade)
        assert acc == front.test_accuracy[p]
        assert cost == pytest.approx(front.test_cost[p], rel=1e-12)


def test_posterior_method_options(trivia):
    train, _ = trivia
    with pytest.raises(ValueError, match="--model"):
        run_method("posterior", train, cascade=(0, 1),
                   options=MethodOptions(n_lambdas=4, model="grid"))
    with pytest.raises(ValueError, match="--family"):
        run_method("posterior", train, cascade=(0, 1),
                   options=MethodOptions(n_lambdas=4, model="empirical-copula",
                                         family="frank"))
    with pytest.raises(ValueError, match="--model: not an option of the grid method"):
        run_method("grid", train, cascade=(0, 1), options=MethodOptions(model="markov-copula"))


def test_posterior_log_keeps_labels_and_costs(trivia):
    train, _ = trivia
    z = np.zeros((train.n_queries, 2))
    derived = posterior_log(train, (1, 3), z)
    assert derived.models == (train.models[1], train.models[3])
    np.testing.assert_array_equal(derived.correct, train.correct[:, [1, 3]])
    np.testing.assert_array_equal(derived.cost, train.cost[:, [1, 3]])


def _oof_log_loss(z, y):
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))


@pytest.mark.parametrize("n", [20, 300])
def test_guard_keeps_the_calibrator_with_the_lower_held_out_log_loss(trivia, n):
    from llmcopula.calibration import MultiSignalCalibrator

    train, test = trivia
    sub = train.take(np.arange(n))
    guarded = CascadePosterior(fallback="held-out-log-loss").fit(sub)
    plain = CascadePosterior().fit(sub)
    cas = (0, 2, 4)
    for j in (1, 2):
        pre = cas[: j + 1]
        x = plain.features(sub, pre)
        y = sub.correct[:, pre[-1]]
        full = MultiSignalCalibrator(rng=0).fit(x, y)
        alone = MultiSignalCalibrator(rng=0).fit(x[:, [j]], y)
        own_only = _oof_log_loss(alone.oof_decision_, y) <= _oof_log_loss(full.oof_decision_, y)
        assert guarded.uses_own_signal_only(pre) == own_only
        kept = alone if own_only else full
        np.testing.assert_allclose(guarded.train_log_odds(cas)[:, j], kept.oof_decision_,
                                   rtol=1e-12)
        rule = guarded.rule(pre, threshold=0.0)
        if own_only:  # exported as a posterior rule that reads the stage's own signal only
            assert rule.signal_coef[:j] == (0.0,) * j
            assert not any(rule.agree_coef) and not any(rule.disagree_coef)
        expected = (x[:, [j]] if own_only else x) @ kept.fold_coef_.mean(axis=0) \
            + kept.fold_intercept_.mean()
        np.testing.assert_allclose(rule.log_odds(sub.confidence[:, list(pre)],
                                                 sub.answer[:, list(pre)]), expected,
                                   rtol=1e-12, atol=1e-12)
    # the first stage has nothing to fall back from
    assert not guarded.uses_own_signal_only((0,))


def test_guard_option_is_checked(trivia):
    with pytest.raises(ValueError, match="fallback"):
        CascadePosterior(fallback="always").fit(trivia[0])

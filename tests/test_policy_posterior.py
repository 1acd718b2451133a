"""The posterior rule kind of the policy file: answer normalisation, features computed in numpy
against the calibration layer's transforms, rule semantics, routing and the file format."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from llmcopula.calibration import get_transform
from llmcopula.policy import (
    CascadePolicy,
    ModelInfo,
    PosteriorRule,
    ThresholdRule,
    normalize_answer,
    posterior_features,
    rule_from_dict,
)

CHAIN = [ModelInfo("a", signal="p_true", cost=10.0), ModelInfo("b", signal="p_true", cost=50.0),
         ModelInfo("c", signal="p_true", cost=300.0)]


def make_rule(model="b", inputs=("a", "b"), threshold=0.0, direction="above", **kw):
    width = len(inputs)
    base = dict(model=model, inputs=inputs, transforms=("two-sided",) * width,
                xi_min=(-4.0,) * width, xi_max=(4.0,) * width,
                signal_coef=tuple(0.3 + 0.2 * i for i in range(width)),
                agree_coef=(1.2,) * (width - 1), disagree_coef=(-0.7,) * (width - 1),
                intercept=-0.4, threshold=threshold, direction=direction)
    base.update(kw)
    return PosteriorRule(**base)


# --------------------------------------------------------------------------- normaliser
@pytest.mark.parametrize("answer, expected", [
    ("Paris", "paris"), (" Paris. ", "paris"), ("The Eiffel Tower!", "eiffel tower"),
    ("A", "a"), ("the", "the"), ("Noo-Noo", "noonoo"), ("$1,234", "1234"), ("12.50", "12.5"),
    ("3.", "3"), ("-0", "0"), ("", None), ("   ", None), (None, None), (float("nan"), None),
    ("two\nlines", None), ("x" * 64, "x" * 64), ("x" * 65, None), ("...", None),
])
def test_normalize_answer_cases(answer, expected):
    assert normalize_answer(answer) == expected


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_normalize_answer_is_idempotent(text):
    once = normalize_answer(text)
    assert once is None or normalize_answer(once) == once


# ------------------------------------------------------------------------------ features
def _reference_features(raws, answers, transforms, lo, hi):
    """The same features written out with the calibration layer's transforms and loops."""
    n, width = raws.shape
    cols = [np.clip(get_transform(t).forward(raws[:, i]), lo[i], hi[i])
            for i, t in enumerate(transforms)]
    agree = np.zeros((n, width - 1))
    disagree = np.zeros((n, width - 1))
    for q in range(n):
        last = normalize_answer(answers[q][-1])
        for i in range(width - 1):
            other = normalize_answer(answers[q][i])
            if last is not None and other is not None:
                (agree if other == last else disagree)[q, i] = 1.0
    return np.column_stack(cols + [agree, disagree])


def test_posterior_features_match_the_calibration_transforms_and_a_loop_reference():
    rng = np.random.default_rng(0)
    raws = np.log(rng.uniform(0.001, 1.0, size=(200, 3)))
    raws[:5, 0] = -np.inf
    raws[5:10, 1] = 0.0
    words = np.array(["Paris", "paris.", "Rome", None, "The Rome"], dtype=object)
    answers = words[rng.integers(0, words.size, size=(200, 3))]
    transforms = ("one-sided", "two-sided", "one-sided")
    lo, hi = (0.1, -2.0, 0.0), (3.0, 2.5, 5.0)
    ours = posterior_features(raws, answers, transforms=transforms, xi_min=lo, xi_max=hi,
                              normalizer={"kind": "text", "max_chars": 64})
    np.testing.assert_allclose(ours, _reference_features(raws, answers, transforms, lo, hi),
                               rtol=1e-15, atol=0)


def test_blank_answers_are_unknown_not_disagreements():
    raws = np.zeros((3, 2)) - 0.5
    answers = [["Rome", "Paris"], [None, "Paris"], ["", "Paris"]]
    feats = posterior_features(raws, answers, transforms=("two-sided",) * 2,
                               xi_min=(-4, -4), xi_max=(4, 4), normalizer={"kind": "text"})
    assert feats[:, 2:].tolist() == [[0.0, 1.0], [0.0, 0.0], [0.0, 0.0]]


# --------------------------------------------------------------------------- semantics
def test_log_odds_is_the_linear_predictor_of_the_features():
    rule = make_rule(inputs=("a", "b"))
    raws = np.log([[0.9, 0.6], [0.2, 0.95]])
    answers = [["Paris", "paris"], ["Rome", "Paris"]]
    feats = posterior_features(raws, answers, transforms=rule.transforms, xi_min=rule.xi_min,
                               xi_max=rule.xi_max, normalizer=rule.normalizer)
    coef = np.array(rule.signal_coef + rule.agree_coef + rule.disagree_coef)
    np.testing.assert_array_equal(rule.log_odds(raws, answers), rule.intercept + feats @ coef)


@pytest.mark.parametrize("direction, threshold, z_accepts", [
    ("above", 0.0, lambda z: z > 0.0), ("below", 0.0, lambda z: z < 0.0),
    ("above", -math.inf, lambda z: np.ones_like(z, bool)),
    ("above", math.inf, lambda z: np.zeros_like(z, bool)),
    ("below", math.inf, lambda z: np.ones_like(z, bool)),
])
def test_posterior_rule_thresholds_the_log_odds(direction, threshold, z_accepts):
    rule = make_rule(threshold=threshold, direction=direction)
    rng = np.random.default_rng(1)
    raws = np.log(rng.uniform(0.01, 1.0, size=(100, 2)))
    answers = np.array(["x", "y"], dtype=object)[rng.integers(0, 2, size=(100, 2))]
    z = rule.log_odds(raws, answers)
    assert rule.accepts(raws, answers).tolist() == z_accepts(z).tolist()


def test_a_missing_signal_defers_and_answers_are_required_for_agreement():
    rule = make_rule(threshold=-math.inf)
    raws = np.array([[np.nan, -0.1], [-0.1, np.nan], [-0.1, -0.1]])
    answers = [["x", "x"]] * 3
    assert rule.accepts(raws, answers).tolist() == [False, False, True]
    with pytest.raises(ValueError, match="answers"):
        rule.accepts(raws)
    no_agreement = make_rule(agree_coef=(0.0,), disagree_coef=(0.0,), threshold=-math.inf)
    assert no_agreement.accepts(raws[2:]).tolist() == [True]


@pytest.mark.parametrize("kw, match", [
    (dict(inputs=("a", "c")), "inputs"),
    (dict(transforms=("two-sided", "cubic")), "transforms"),
    (dict(xi_min=(5.0, 0.0)), "xi_min"),
    (dict(signal_coef=(1.0,)), "signal_coef"),
    (dict(direction="up"), "direction"),
    (dict(threshold=float("nan")), "threshold"),
    (dict(normalizer={"kind": "stem"}), "normalizer"),
    (dict(normalizer={"kind": "text", "max_chars": 0}), "max_chars"),
])
def test_posterior_rule_rejects_bad_fields(kw, match):
    with pytest.raises(ValueError, match=match):
        make_rule(**kw)


# ------------------------------------------------------------------------ policy files
def make_policy(threshold_b=0.2):
    rules = [ThresholdRule(model="a", direction="above", raw_threshold=-0.2),
             make_rule(model="b", inputs=("a", "b"), threshold=threshold_b)]
    return CascadePolicy(chain_models=CHAIN, cascade_models=["a", "b", "c"], rules=rules,
                         cost_definition="cost_answer_usd")


def test_policy_with_posterior_rules_round_trips_through_json():
    policy = make_policy()
    text = policy.to_json()
    assert CascadePolicy.from_json(text) == policy
    data = json.loads(text)
    rule = data["rules"][1]
    assert rule["kind"] == "posterior" and rule["inputs"][0]["agree"] == 1.2
    assert rule["answer_normalizer"] == {"kind": "text", "max_chars": 64}
    assert rule_from_dict(rule, "r") == policy.rules[1]


def test_posterior_rule_must_read_the_cascade_stages_up_to_its_own():
    rules = [ThresholdRule(model="a", direction="above", raw_threshold=0.0),
             make_rule(model="b", inputs=("c", "b"))]
    with pytest.raises(ValueError, match=r"rules\[1\]\.inputs"):
        CascadePolicy(chain_models=CHAIN, cascade_models=["a", "b", "c"], rules=rules,
                      cost_definition="cost_answer_usd")


def test_route_and_decide_agree_with_answers():
    policy = make_policy()
    rng = np.random.default_rng(2)
    raws = np.log(rng.uniform(0.05, 1.0, size=(300, 3)))
    answers = np.array(["Paris", "paris", "Rome", None], dtype=object)[
        rng.integers(0, 4, size=(300, 3))]
    batch = policy.route(raws, answers=answers)
    seq = []
    for q in range(raws.shape[0]):
        for j in range(3):
            if policy.decide(j, raws[q, : j + 1], list(answers[q, : j + 1])):
                seq.append(j)
                break
    assert batch.tolist() == seq
    assert set(batch.tolist()) == {0, 1, 2}

"""CascadePolicy: the rule semantics, routing, the file format and its import footprint."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from llmcopula.policy import (
    SCHEMA_VERSION,
    CascadePolicy,
    ModelInfo,
    ThresholdRule,
    uniform_from_key,
)
from llmcopula.policy import Mixture

CHAIN = [ModelInfo("a", signal="logprob", cost=10.0), ModelInfo("b", signal="logprob", cost=50.0),
         ModelInfo("c", signal="p_true", cost=300.0)]


def make_policy(directions=("above", "below"), thresholds=(-0.5, -1.0), **kw):
    rules = [ThresholdRule(model=m, direction=d, raw_threshold=t)
             for m, d, t in zip(("a", "b"), directions, thresholds)]
    return CascadePolicy(chain_models=CHAIN, cascade_models=["a", "b", "c"], rules=rules,
                         cost_definition="cost_answer_usd", **kw)


def sequential_route(policy, raw, keys=None):
    """Reference router: one query at a time through decide()."""
    out = []
    for i, row in enumerate(raw):
        key = None if keys is None else keys[i]
        for j in range(policy.n_stages):
            if policy.decide(j, row[: j + 1], key=key):
                out.append(j)
                break
    return np.array(out)


# ------------------------------------------------------------------------- rule semantics
@pytest.mark.parametrize("direction, r, x, expected", [
    ("above", -1.0, [-2.0, -1.0, -0.5], [False, False, True]),     # ties defer
    ("below", -1.0, [-2.0, -1.0, -0.5], [True, False, False]),
    ("above", -math.inf, [-math.inf, -5.0, math.inf], [True, True, True]),
    ("above", math.inf, [-math.inf, 0.0, math.inf], [False, False, False]),
    ("below", math.inf, [-math.inf, 0.0, math.inf], [True, True, True]),
    ("below", -math.inf, [-math.inf, 0.0, math.inf], [False, False, False]),
    ("above", -1.0, [math.nan], [False]),
    ("above", -math.inf, [math.nan], [False]),
    ("below", math.inf, [math.nan], [False]),
])
def test_threshold_rule_semantics_including_infinite_thresholds_ties_and_nan(
        direction, r, x, expected):
    rule = ThresholdRule(model="a", direction=direction, raw_threshold=r)
    assert rule.accepts(np.array(x)[:, None]).tolist() == expected


def test_threshold_rule_reads_only_the_current_stage_signal():
    rule = ThresholdRule(model="b", direction="above", raw_threshold=0.0)
    raws = np.array([[5.0, -1.0], [-5.0, 1.0]])
    assert rule.accepts(raws).tolist() == [False, True]


@pytest.mark.parametrize("kw, match", [
    (dict(direction="up", raw_threshold=0.0), "direction"),
    (dict(direction="above", raw_threshold=float("nan")), "raw_threshold"),
    (dict(direction="above", raw_threshold="high"), "raw_threshold"),
])
def test_threshold_rule_rejects_bad_fields(kw, match):
    with pytest.raises(ValueError, match=match):
        ThresholdRule(model="a", **kw)


# ---------------------------------------------------------------------------------- route
def test_last_stage_always_answers():
    policy = make_policy(thresholds=(math.inf, -math.inf))  # a: none; b below -inf: none
    assert policy.route(np.zeros((4, 3))).tolist() == [2, 2, 2, 2]
    assert policy.decide(2, [0.0, 0.0, -math.inf])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1), d0=st.sampled_from(["above", "below"]),
       d1=st.sampled_from(["above", "below"]))
def test_vectorised_route_equals_sequential_decide(seed, d0, d1):
    rng = np.random.default_rng(seed)
    raw = rng.choice([-np.inf, -3.0, -1.0, -0.5, -0.1, 0.0, np.inf], size=(40, 3))
    t = rng.choice([-np.inf, -1.0, -0.5, 0.0, np.inf], size=2)
    policy = make_policy(directions=(d0, d1), thresholds=tuple(t))
    np.testing.assert_array_equal(policy.route(raw), sequential_route(policy, raw))


def test_route_selects_cascade_columns_by_name():
    rules = [ThresholdRule(model="a", direction="above", raw_threshold=-0.5)]
    policy = CascadePolicy(chain_models=CHAIN, cascade_models=["a", "c"], rules=rules,
                           cost_definition="cost_usd")
    raw = np.array([[-0.1, 9.0, -9.0], [-0.9, 9.0, -9.0]])
    assert policy.route(raw, columns=["a", "b", "c"]).tolist() == [0, 1]
    with pytest.raises(ValueError, match="raw: expected 2 columns"):
        policy.route(raw)
    with pytest.raises(ValueError, match=r"columns: lacks the cascade's models \['c'\]"):
        policy.route(raw[:, :2], columns=["a", "b"])


def test_decide_checks_its_arguments():
    policy = make_policy()
    with pytest.raises(ValueError, match="stage: must lie in 0..2"):
        policy.decide(3, [0, 0, 0, 0])
    with pytest.raises(ValueError, match="raws_so_far: stage 1 needs 2"):
        policy.decide(1, [0.0])
    with pytest.raises(ValueError, match="answers_so_far"):
        policy.decide(0, [0.0], ["A", "B"])


# ---------------------------------------------------------------------------- randomised
def test_randomised_policy_uses_the_first_rules_with_its_probability():
    p = 0.3
    other = (ThresholdRule(model="a", direction="above", raw_threshold=math.inf),
             ThresholdRule(model="b", direction="above", raw_threshold=math.inf))
    policy = make_policy(directions=("above", "above"), thresholds=(-math.inf, -math.inf),
                         mixture=Mixture(probability=p, rules=other))
    n = 4000
    keys = [f"req-{i}" for i in range(n)]
    stages = policy.route(np.zeros((n, 3)), keys=keys)
    share_first = np.mean(stages == 0)  # first rules accept everything at stage 0
    assert set(np.unique(stages)) == {0, 2}
    se = math.sqrt(p * (1 - p) / n)
    assert abs(share_first - p) < 4 * se
    np.testing.assert_array_equal(stages, sequential_route(policy, np.zeros((n, 3)), keys))
    with pytest.raises(ValueError, match="keys: this policy is randomised"):
        policy.route(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="key: this policy is randomised"):
        policy.decide(0, [0.0])


def test_uniform_from_key_is_deterministic_and_roughly_uniform():
    u = np.array([uniform_from_key(i) for i in range(5000)])
    assert uniform_from_key("x") == uniform_from_key("x")
    assert ((u >= 0) & (u < 1)).all()
    # Kolmogorov–Smirnov against U(0, 1) at the 1% level.
    from scipy import stats
    assert stats.kstest(u, "uniform").pvalue > 0.01


# ------------------------------------------------------------------------- construction
@pytest.mark.parametrize("kw, match", [
    (dict(cascade_models=["a", "x"]), r"cascade_models: \['x'\] are not among"),
    (dict(cascade_models=["b", "a"]), "cascade_models: must follow the chain order"),
    (dict(rules=[]), "rules: a cascade of 2 models needs 1 rules, got 0"),
    (dict(rules=[ThresholdRule(model="b", direction="above", raw_threshold=0.0)]),
     r"rules\[0\].model: stage 0 is 'a'"),
    (dict(cost_definition=""), "cost_definition"),
])
def test_policy_rejects_inconsistent_fields(kw, match):
    base = dict(chain_models=CHAIN, cascade_models=["a", "b"],
                rules=[ThresholdRule(model="a", direction="above", raw_threshold=0.0)],
                cost_definition="cost_usd")
    base.update(kw)
    with pytest.raises(ValueError, match=match):
        CascadePolicy(**base)


def test_duplicate_chain_models_are_rejected():
    with pytest.raises(ValueError, match=r"chain_models: duplicate model names \['a'\]"):
        CascadePolicy(chain_models=[CHAIN[0], CHAIN[0]], cascade_models=["a"], rules=[],
                      cost_definition="cost_usd")


# ---------------------------------------------------------------------------- file format
def test_json_round_trip_keeps_every_field_and_writes_strict_json(tmp_path):
    policy = make_policy(
        thresholds=(-math.inf, math.inf), method="markov-copula",
        predicted={"accuracy": {"estimate": 0.8, "interval": [0.75, 0.85], "level": 0.9}},
        selection={"by": "target_accuracy", "value": 0.8},
        training={"n_queries": 285, "sha256": "ab" * 32}, package_version="0.1.0",
        mixture=Mixture(probability=0.25, rules=(
            ThresholdRule(model="a", direction="above", raw_threshold=-0.2),
            ThresholdRule(model="b", direction="below", raw_threshold=-1.5))))
    path = tmp_path / "p.json"
    policy.save(path)
    text = path.read_text()
    assert "Infinity" not in text and "NaN" not in text
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["rules"][0] == {"kind": "threshold", "model": "a", "direction": "above",
                                "raw_threshold": "-inf"}
    assert CascadePolicy.load(path) == policy


@settings(max_examples=50, deadline=None, derandomize=True)
@given(t=st.lists(st.one_of(st.floats(allow_nan=False), st.sampled_from([math.inf, -math.inf])),
                  min_size=2, max_size=2),
       d=st.lists(st.sampled_from(["above", "below"]), min_size=2, max_size=2))
def test_round_trip_preserves_decisions_for_any_thresholds(t, d):
    policy = make_policy(directions=tuple(d), thresholds=tuple(t))
    again = CascadePolicy.from_json(policy.to_json())
    assert again == policy
    raw = np.array([[x, y, 0.0] for x in (-np.inf, -1.0, 0.0, np.inf) for y in (-2.0, np.inf)])
    np.testing.assert_array_equal(again.route(raw), policy.route(raw))


def good_dict():
    return make_policy().to_dict()


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d.pop("rules"), r"policy.rules: missing"),
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "schema_version: the file has version"),
    (lambda d: d.update(schema_version="1"), "schema_version: expected a positive integer"),
    (lambda d: d["rules"][1].update(direction="sideways"), r"policy.rules\[1\].direction"),
    (lambda d: d["rules"][0].update(kind="magic"), r"policy.rules\[0\].kind: unknown rule kind"),
    (lambda d: d["rules"][0].update(raw_threshold="high"), r"policy.rules\[0\].raw_threshold"),
    (lambda d: d["rules"].pop(), "policy.rules: a cascade of 3 models needs 2 rules, got 1"),
    (lambda d: d["chain_models"][0].update(signal="vibes"), r"chain_models\[0\].signal"),
    (lambda d: d["chain_models"][1].update(cost=-1), r"chain_models\[1\].cost: must be >= 0"),
    (lambda d: d.update(format="something-else"), "policy.format"),
    (lambda d: d.update(cascade_models="a,b,c"), "policy.cascade_models: expected a list"),
])
def test_loading_a_bad_policy_names_the_field(mutate, match):
    data = good_dict()
    mutate(data)
    with pytest.raises(ValueError, match=match):
        CascadePolicy.from_dict(data)


def test_loading_bad_files_names_the_file(tmp_path):
    with pytest.raises(ValueError, match="no such policy file"):
        CascadePolicy.load(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="is a directory"):
        CascadePolicy.load(tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad.json: policy: not valid JSON"):
        CascadePolicy.load(bad)
    nan = tmp_path / "nan.json"
    nan.write_text(json.dumps(good_dict()).replace('"-0.5"', "NaN").replace("-0.5", "NaN"))
    with pytest.raises(ValueError, match="the JSON literal NaN is not allowed"):
        CascadePolicy.load(nan)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b"\xff\xfe{")
    with pytest.raises(ValueError, match="not UTF-8"):
        CascadePolicy.load(latin)


def test_unknown_top_level_fields_are_kept_as_extra():
    data = good_dict()
    data["note"] = "hand edited"
    policy = CascadePolicy.from_dict(data)
    assert policy.extra == {"note": "hand edited"}
    assert CascadePolicy.from_json(policy.to_json()) == policy


# ------------------------------------------------------------------------- import footprint
def test_policy_module_imports_only_numpy_and_the_standard_library():
    code = (
        "import sys; import llmcopula.policy\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'scipy', 'pandas', 'matplotlib', 'statsmodels', 'joblib', 'sklearn'})\n"
        "ours = sorted(m for m in sys.modules if m.startswith('llmcopula.') and "
        "m != 'llmcopula.policy')\n"
        "print(heavy, ours)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"

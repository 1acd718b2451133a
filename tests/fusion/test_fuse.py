import numpy as np
import pytest
from scipy.special import softmax

from llmcopula.fusion import (
    aggregate,
    check_weights,
    flip_rate,
    fuse_logits,
    fuse_relative,
    relative_distributions,
    to_relative,
    transfer_matrix,
)

from fusion_toys import random_rotation


@pytest.fixture
def two_vocab_problem():
    """Main vocabulary of 12 tokens, assistant vocabulary of 15 whose first 10 are anchors."""
    rng = np.random.default_rng(0)
    E_main, E_assist = rng.normal(size=(12, 8)), rng.normal(size=(15, 5))
    T_main = transfer_matrix(E_main, np.arange(10))
    T_assist = transfer_matrix(E_assist, np.arange(10))
    z_main, z_assist = rng.normal(size=(4, 12)), rng.normal(size=(4, 15))
    return z_main, z_assist, T_main, T_assist


def test_aggregate_is_the_weighted_mean_of_relative_distributions():
    r1, r2 = np.array([0.2, 0.8]), np.array([0.6, 0.4])
    np.testing.assert_allclose(aggregate([r1, r2]), [0.4, 0.6])
    np.testing.assert_allclose(aggregate([r1, r2], [1, 3]), 0.25 * r1 + 0.75 * r2)


def test_relative_distributions_map_each_model_through_its_own_transfer(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    r = relative_distributions([z_main, z_assist], [T_main, T_assist])
    np.testing.assert_allclose(r[1], softmax(z_assist, axis=-1) @ T_assist, atol=1e-15)


def test_fusion_with_an_identical_assistant_keeps_the_main_models_token(two_vocab_problem):
    z_main, _, T_main, _ = two_vocab_problem
    out = fuse_logits([z_main, z_main.copy()], [T_main, T_main.copy()])
    np.testing.assert_array_equal(out.tokens, out.main_tokens)
    assert flip_rate(out) == 0.0
    np.testing.assert_allclose(out.loss_initial, 0.0, atol=1e-15)
    # Adam normalises even tiny gradients (those created by the weight decay), so the logits do
    # drift, but by no more than the step budget sum_t lr_t (~0.67) plus the decay.
    assert np.abs(out.logits - z_main).max() < 0.7


def test_fused_loss_is_lower_than_at_the_main_logits(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    for method in ("adamw", "mirror"):
        out = fuse_logits([z_main, z_assist], [T_main, T_assist], method=method)
        assert out.fused.all()
        assert (out.loss < out.loss_initial).all()


def test_log_probs_of_the_output_are_normalised(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    lp = fuse_logits([z_main, z_assist], [T_main, T_assist]).log_probs()
    np.testing.assert_allclose(np.exp(lp).sum(axis=-1), 1.0, atol=1e-12)


def test_main_model_can_be_any_index(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    out = fuse_logits([z_main, z_assist], [T_main, T_assist], main=1)
    assert out.logits.shape == z_assist.shape
    np.testing.assert_array_equal(out.main_tokens, z_assist.argmax(axis=-1))


def test_weight_one_on_the_main_model_targets_its_own_relative_vector(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    out = fuse_logits([z_main, z_assist], [T_main, T_assist], weights=[1.0, 0.0])
    np.testing.assert_allclose(out.loss_initial, 0.0, atol=1e-15)


def test_skip_rule_missing_assistant_uses_the_main_model_alone(two_vocab_problem):
    z_main, _, T_main, T_assist = two_vocab_problem
    out = fuse_logits([z_main, None], [T_main, T_assist])
    np.testing.assert_array_equal(out.logits, z_main)
    assert out.skip_reason == "missing assistant" and not out.fused.any()


def test_skip_rule_zero_learning_rate_uses_the_main_model_alone(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    out = fuse_logits([z_main, z_assist], [T_main, T_assist], lr=0.0)
    np.testing.assert_array_equal(out.logits, z_main)
    assert out.skip_reason == "lr=0"


def test_skip_rule_main_argmax_eos_keeps_the_main_logits_on_that_row(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    z_main = z_main.copy()
    z_main[2, 11] = 10.0  # row 2's argmax is the EOS id 11
    out = fuse_logits([z_main, z_assist], [T_main, T_assist], eos_token_id=11)
    np.testing.assert_array_equal(out.logits[2], z_main[2])
    assert out.fused.tolist() == [True, True, False, True]
    assert np.isnan(out.loss[2]) and not np.isnan(out.loss[[0, 1, 3]]).any()
    assert not np.array_equal(out.logits[0], z_main[0])


def test_assistant_in_a_rotated_space_acts_like_the_same_assistant_in_the_main_space():
    rng = np.random.default_rng(1)
    E = rng.normal(size=(20, 6))
    anchors = np.arange(20)
    T = transfer_matrix(E, anchors)
    T_rot = transfer_matrix(E @ random_rotation(6, rng), anchors)
    z_main, z_assist = rng.normal(size=20), 3 * rng.normal(size=20)
    a = fuse_logits([z_main, z_assist], [T, T_rot])
    b = fuse_logits([z_main, z_assist], [T, T])
    np.testing.assert_allclose(a.logits, b.logits, atol=1e-10)
    np.testing.assert_allclose(to_relative(softmax(z_assist), T_rot),
                               to_relative(softmax(z_assist), T), atol=1e-12)


@pytest.mark.parametrize("build, match", [
    (lambda z, za, T, Ta: ([], []), "logits: expected one array per model"),
    (lambda z, za, T, Ta: ([z, za], [T]), "transfers: expected 2 transfer matrices"),
    (lambda z, za, T, Ta: ([None, za], [T, Ta]), r"logits: the main model's \(index 0\)"),
    (lambda z, za, T, Ta: ([z, za[:, :14]], [T, Ta]), r"logits\[1\]: last axis must equal"),
    (lambda z, za, T, Ta: ([z, za[:2]], [T, Ta]), r"logits\[1\]: batch shape"),
    (lambda z, za, T, Ta: ([z, np.where(za > 1, np.nan, za)], [T, Ta]), r"logits\[1\]: contains"),
    (lambda z, za, T, Ta: ([z, za], [T, Ta[:, :9]]), r"transfers\[1\]: has 9 anchor columns"),
])
def test_bad_fusion_inputs_raise_value_errors(two_vocab_problem, build, match):
    logits, transfers = build(*two_vocab_problem)
    with pytest.raises(ValueError, match=match):
        fuse_logits(logits, transfers)


@pytest.mark.parametrize("weights, match", [
    ([1.0], "weights: expected 2 weights"),
    ([-1.0, 2.0], "weights: weights must be non-negative"),
    ([0.0, 0.0], "weights: weights must not all be zero"),
    ([np.nan, 1.0], "weights: contains 1 non-finite"),
])
def test_bad_weights_raise_value_errors(weights, match):
    with pytest.raises(ValueError, match=match):
        check_weights(weights, 2)


def test_main_index_out_of_range_is_rejected(two_vocab_problem):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    with pytest.raises(ValueError, match="main: must index one of the 2 models"):
        fuse_logits([z_main, z_assist], [T_main, T_assist], main=2)


@pytest.mark.parametrize("method", ["adamw", "mirror"])
def test_fuse_relative_with_the_mapped_distributions_is_fuse_logits(two_vocab_problem, method):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    rels = relative_distributions([z_main, z_assist], [T_main, T_assist])
    a = fuse_relative(z_main, rels, T_main, weights=[0.3, 0.7], method=method)
    b = fuse_logits([z_main, z_assist], [T_main, T_assist], weights=[0.3, 0.7], method=method)
    np.testing.assert_array_equal(a.logits, b.logits)
    np.testing.assert_array_equal(a.fused, b.fused)


@pytest.mark.parametrize("build, match", [
    (lambda z, r, T: (z[:, :5], r, T), "main_logits: last axis must equal"),
    (lambda z, r, T: (z, [], T), "relatives: expected one relative distribution"),
    (lambda z, r, T: (z, [r[0], r[1][:2]], T), r"relatives\[1\]: expected shape \(4, 10\)"),
    (lambda z, r, T: (z, [r[0], -r[1]], T), r"relatives\[1\]: must be non-negative"),
    (lambda z, r, T: (z, r, -T), "main_transfer: must be non-negative"),
])
def test_bad_fuse_relative_inputs_raise_value_errors(two_vocab_problem, build, match):
    z_main, z_assist, T_main, T_assist = two_vocab_problem
    rels = relative_distributions([z_main, z_assist], [T_main, T_assist])
    z, r, T = build(z_main, rels, T_main)
    with pytest.raises(ValueError, match=match):
        fuse_relative(z, r, T)

import numpy as np
import pytest

from llmcopula.fusion import anchor_consistency, flip_rate, transfer_conditioning, transfer_matrix

from fusion_toys import random_rotation


def test_conditioning_matches_numpy_singular_values_of_the_anchor_block():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(25, 6))
    anchors = np.arange(3, 13)
    T = transfer_matrix(E, anchors, tau=10.0)
    c = transfer_conditioning(T, anchors)
    s = np.linalg.svd(T[anchors], compute_uv=False)
    np.testing.assert_allclose(c.anchor_singular_values, s)
    assert c.anchor_condition_number == pytest.approx(s[0] / s[-1])
    assert c.anchor_self_mass == pytest.approx(np.mean([T[a, j] for j, a in enumerate(anchors)]))
    assert 0 < c.mean_row_entropy < np.log(10)


def test_sharper_transfer_matrices_are_better_conditioned():
    rng = np.random.default_rng(1)
    E = rng.normal(size=(30, 8))
    anchors = np.arange(12)
    sharp = transfer_conditioning(transfer_matrix(E, anchors, tau=100.0), anchors)
    blunt = transfer_conditioning(transfer_matrix(E, anchors, tau=2.0), anchors)
    assert sharp.anchor_condition_number < blunt.anchor_condition_number
    assert sharp.anchor_self_mass > blunt.anchor_self_mass


def test_anchor_consistency_is_one_for_rotated_copies_and_lower_for_unrelated_models():
    rng = np.random.default_rng(2)
    E = rng.normal(size=(15, 6))
    idx = np.arange(10)
    same = anchor_consistency([E, 2 * E @ random_rotation(6, rng)], [idx, idx])
    np.testing.assert_allclose(same, 1.0, atol=1e-12)
    other = anchor_consistency([E, rng.normal(size=(15, 6))], [idx, idx])
    assert other.mean() < 0.8
    assert np.isnan(anchor_consistency([E], [idx])).all()


def test_flip_rate_rejects_empty_input():
    with pytest.raises(ValueError, match="outputs: expected at least one"):
        flip_rate([])


def test_conditioning_rejects_mismatched_anchor_ids():
    with pytest.raises(ValueError, match="anchor_idx: expected 3 ids"):
        transfer_conditioning(np.ones((4, 3)) / 3, [0, 1])

import numpy as np
import pytest
import scipy.sparse as sp

from llmcopula.fusion import (
    anchor_consistency,
    anchor_mass,
    coverage_advice,
    flip_rate,
    transfer_conditioning,
    transfer_matrix,
)

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


def test_anchor_mass_is_the_softmax_mass_of_the_anchor_ids():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2, 3, 7))
    p = np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(anchor_mass(z, [1, 4, 5]), p[..., [1, 4, 5]].sum(axis=-1),
                               atol=1e-15)
    with pytest.raises(ValueError, match=r"anchor_idx: ids must lie in \[0, 7\)"):
        anchor_mass(z, [7])
    with pytest.raises(ValueError, match="anchor_idx: expected a 1-d array of integer ids"):
        anchor_mass(z, [0.5])


def test_coverage_advice_names_the_best_covered_model_or_says_none_is_better():
    assert coverage_advice([0.9, 0.3, 0.95], main=0, threshold=0.5) is None
    text = coverage_advice([0.9, 0.3, 0.95], main=1, threshold=0.5)
    assert "model 1 puts only 30%" in text and "make it the main one (main=2)" in text
    text = coverage_advice([0.2, 0.1], main=0, threshold=0.5)
    assert "No model puts more there" in text and "linear pool" in text
    with pytest.raises(ValueError, match="main: must index one of the 2 models"):
        coverage_advice([0.2, 0.1], main=2, threshold=0.5)


def test_conditioning_of_a_sparse_transfer_equals_that_of_its_dense_copy():
    T = transfer_matrix(np.random.default_rng(4).normal(size=(12, 5)), np.arange(6))
    a, b = transfer_conditioning(sp.csr_array(T), np.arange(6)), transfer_conditioning(T,
                                                                                       np.arange(6))
    np.testing.assert_allclose(a.singular_values, b.singular_values)
    assert a.anchor_self_mass == b.anchor_self_mass

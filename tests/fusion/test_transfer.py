import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.fusion import (
    relative_representation,
    to_relative,
    transfer_matrix,
)

from fusion_toys import random_rotation


def _embeddings(seed: int, n_vocab: int = 30, dim: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n_vocab, dim))


def test_relative_representation_equals_cosine_similarity_computed_entry_by_entry():
    E = _embeddings(0, 7, 5)
    anchors = np.array([1, 4, 6])
    R = relative_representation(E, anchors)
    for v in range(7):
        for j, a in enumerate(anchors):
            cos = E[v] @ E[a] / (np.linalg.norm(E[v]) * np.linalg.norm(E[a]))
            assert R[v, j] == pytest.approx(cos, abs=1e-14)


@pytest.mark.parametrize("seed", range(5))
def test_a_model_in_a_rotated_and_rescaled_embedding_space_has_the_same_transfer_matrix(seed):
    rng = np.random.default_rng(seed)
    E = _embeddings(seed)
    anchors = rng.choice(30, size=12, replace=False)
    rotated = 3.7 * E @ random_rotation(16, rng)
    np.testing.assert_allclose(transfer_matrix(rotated, anchors), transfer_matrix(E, anchors),
                               atol=1e-12)
    # An isometric embedding into a wider space (d=16 -> 24) changes nothing either.
    wide = E @ np.linalg.qr(rng.normal(size=(24, 16)))[0].T
    np.testing.assert_allclose(relative_representation(wide, anchors),
                               relative_representation(E, anchors), atol=1e-12)


def test_rotation_invariance_degrades_gracefully_with_embedding_noise():
    # Noise of relative size 1e-3 moves cosines by O(1e-3); the transfer rows (softmax with
    # tau = 100 of L2-normalised rows) then move by at most O(tau * 1e-3) in log space.
    rng = np.random.default_rng(3)
    E = _embeddings(3)
    anchors = np.arange(10)
    noisy = E @ random_rotation(16, rng) + 1e-3 * rng.normal(size=E.shape)
    R0, R1 = relative_representation(E, anchors), relative_representation(noisy, anchors)
    assert np.abs(R1 - R0).max() < 1e-2
    T0, T1 = transfer_matrix(E, anchors), transfer_matrix(noisy, anchors)
    assert np.abs(T1 - T0).max() < 0.2
    assert np.abs(T1 - T0).max() > 0  # the check can fail: noise does move T


@settings(max_examples=40)
@given(seed=st.integers(0, 10_000), n_vocab=st.integers(2, 40), dim=st.integers(1, 12),
       tau=st.floats(0.1, 200.0))
def test_transfer_rows_are_stochastic_and_p_times_t_lies_on_the_simplex(seed, n_vocab, dim, tau):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(n_vocab, dim))
    anchors = rng.choice(n_vocab, size=rng.integers(1, n_vocab + 1), replace=False)
    T = transfer_matrix(E, anchors, tau=tau)
    assert (T >= 0).all()
    np.testing.assert_allclose(T.sum(axis=1), 1.0, atol=1e-12)
    p = rng.dirichlet(np.full(n_vocab, 0.3), size=4)
    r = to_relative(p, T)
    assert r.shape == (4, anchors.size) and (r >= 0).all()
    np.testing.assert_allclose(r.sum(axis=1), 1.0, atol=1e-12)


def test_anchor_rows_of_a_sharp_transfer_matrix_keep_most_mass_on_themselves():
    E = _embeddings(1, 40, 32)
    T = transfer_matrix(E, np.arange(20))
    assert np.diag(T[:20]).min() > 0.9


def test_zero_embedding_row_gives_a_uniform_transfer_row():
    E = _embeddings(2, 5, 3)
    E[4] = 0.0
    T = transfer_matrix(E, [0, 1, 2])
    np.testing.assert_allclose(T[4], 1 / 3)


@pytest.mark.parametrize("kwargs, match", [
    ({"embeddings": np.ones((0, 3)), "anchor_idx": [0]}, "embeddings: expected a non-empty"),
    ({"embeddings": np.ones(3), "anchor_idx": [0]}, "embeddings: expected a 2-d"),
    ({"embeddings": [[np.nan, 1.0]], "anchor_idx": [0]}, "embeddings: contains 1 non-finite"),
    ({"embeddings": np.ones((3, 2)), "anchor_idx": []}, "anchor_idx: expected a non-empty"),
    ({"embeddings": np.ones((3, 2)), "anchor_idx": [3]}, r"anchor_idx: ids must lie in \[0, 3\)"),
    ({"embeddings": np.ones((3, 2)), "anchor_idx": [0.5]}, "anchor_idx: expected integer"),
    ({"embeddings": np.ones((3, 2)), "anchor_idx": [0], "tau": 0.0}, "tau: must be a positive"),
])
def test_bad_transfer_inputs_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        transfer_matrix(**kwargs)


def test_to_relative_rejects_a_vocabulary_size_mismatch():
    with pytest.raises(ValueError, match="p: last axis must match"):
        to_relative(np.ones(3) / 3, np.ones((4, 2)) / 2)

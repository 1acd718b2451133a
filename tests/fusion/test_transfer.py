import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.fusion import (
    check_transfer,
    longest_anchor_prefix,
    relative_representation,
    shared_prefix_transfer,
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


# --------------------------------------------------------------------------- shared-prefix transfer
def _longest_prefix_brute_force(token: str, anchors: list[str]) -> int:
    """Index of the longest anchor that prefixes ``token`` (an independent, quadratic search)."""
    best, best_len = -1, 0
    for j, a in enumerate(anchors):
        if token.startswith(a) and len(a) > best_len:
            best, best_len = j, len(a)
    return best


@settings(max_examples=60)
@given(vocab=st.lists(st.text(alphabet="ab\u2581", min_size=1, max_size=5), min_size=1,
                      max_size=25, unique=True),
       data=st.data())
def test_shared_prefix_rows_are_one_hot_at_the_longest_anchor_prefix(vocab, data):
    anchors = data.draw(st.lists(st.sampled_from(vocab), min_size=1, unique=True))
    T = shared_prefix_transfer(vocab, anchors)
    assert sp.issparse(T) and T.shape == (len(vocab), len(anchors))
    dense = T.toarray()
    np.testing.assert_allclose(dense.sum(axis=1), 1.0)
    for v, tok in enumerate(vocab):
        j = _longest_prefix_brute_force(tok, anchors)
        if j >= 0:
            np.testing.assert_array_equal(dense[v], np.eye(len(anchors))[j])
        else:
            np.testing.assert_allclose(dense[v], 1.0 / len(anchors))


def test_shared_prefix_transfer_is_the_identity_on_anchors_and_normalises_space_markers():
    vocab = ["\u0120the", "\u0120there", "t", "he", "re", "\u0120"]
    anchors = ["\u2581", "\u2581the", "t", "he"]  # normalised strings, as in AnchorSet.tokens
    T = shared_prefix_transfer(vocab, anchors).toarray()
    assert T[0].argmax() == 1 and T[1].argmax() == 1  # "Ġthere" -> its first piece "▁the"
    assert T[2].argmax() == 2 and T[3].argmax() == 3 and T[5].argmax() == 0
    np.testing.assert_allclose(T[4], 0.25)  # "re" has no anchor prefix: uniform


def test_shared_prefix_fallback_rows_are_the_embedding_transfer_rows():
    rng = np.random.default_rng(4)
    vocab = ["a", "b", "ab", "<s>", "<pad>"]
    E = rng.normal(size=(5, 4))
    T = shared_prefix_transfer(vocab, ["a", "b"], embeddings=E, anchor_idx=[0, 1], tau=7.0)
    reference = transfer_matrix(E, [0, 1], tau=7.0)
    np.testing.assert_allclose(T.toarray()[3:], reference[3:], atol=1e-15)
    np.testing.assert_array_equal(T.toarray()[2], [1.0, 0.0])


def test_longest_anchor_prefix_marks_strings_without_one():
    assert longest_anchor_prefix(["abc", "b", ""], ["a", "ab"]).tolist() == [1, -1, -1]


@pytest.mark.parametrize("args, kwargs, match", [
    (([], ["a"]), {}, "vocabulary: must not be empty"),
    ((["a"], []), {}, "anchor_tokens: must not be empty"),
    ((["a", "<s>"], ["a"]), {"embeddings": np.ones((2, 2))}, "anchor_idx: needed together"),
    ((["a", "<s>"], ["a"]), {"embeddings": np.ones((3, 2)), "anchor_idx": [0]},
     "embeddings: has 3 rows"),
    ((["a", "<s>"], ["a"]), {"embeddings": np.ones((2, 2)), "anchor_idx": [0, 1]},
     "anchor_idx: expected 1 ids"),
    ((["a"], ["a"]), {"tau": -1.0}, "tau: must be a positive"),
])
def test_bad_shared_prefix_inputs_raise_value_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        shared_prefix_transfer(*args, **kwargs)


def test_sparse_and_dense_transfers_give_the_same_relative_distributions():
    rng = np.random.default_rng(5)
    T = transfer_matrix(rng.normal(size=(12, 4)), np.arange(5))
    p = rng.dirichlet(np.ones(12), size=(3, 2))  # two leading axes
    np.testing.assert_allclose(to_relative(p, sp.csr_array(T)), to_relative(p, T), atol=1e-15)


@pytest.mark.parametrize("transfer, match", [
    (sp.csr_array(np.array([[0.5, -0.5]])), "transfer: must be non-negative"),
    (sp.csr_array(np.array([[np.nan, 1.0]])), "transfer: contains 1 non-finite"),
    (np.ones(3), "transfer: expected a 2-d array"),
])
def test_check_transfer_rejects_bad_matrices(transfer, match):
    with pytest.raises(ValueError, match=match):
        check_transfer(transfer)

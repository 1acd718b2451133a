import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmcopula.fusion import (
    is_space_prefixed,
    split_partial_word,
    word_start_relative,
)


def _longest_prefix(s: str, anchors: list[str]) -> int:
    best, best_len = -1, 0
    for j, a in enumerate(anchors):
        if s.startswith(a) and len(a) > best_len:
            best, best_len = j, len(a)
    return best


def _lookahead_by_definition(p, partial, vocab, anchors, reference):
    """The formula of the lookahead, token by token (independent of the vectorised code)."""
    if not partial:
        return reference
    num, den = np.zeros(len(anchors)), 0.0
    for v, tok in enumerate(vocab):
        if tok.startswith(partial) and len(tok) > len(partial):
            j = _longest_prefix(tok[len(partial):], anchors)
            num += p[v] * (np.eye(len(anchors))[j] if j >= 0 else reference)
            den += p[v]
        elif tok and partial.startswith(tok):
            num += p[v] * reference
            den += p[v]
    return num / den if den > 0 else reference


@settings(max_examples=60)
@given(vocab=st.lists(st.text(alphabet="ab\u2581", min_size=1, max_size=4), min_size=2,
                      max_size=20, unique=True),
       partials=st.lists(st.text(alphabet="ab\u2581", max_size=3), min_size=1, max_size=6),
       data=st.data())
def test_lookahead_matches_its_definition_token_by_token(vocab, partials, data):
    anchors = data.draw(st.lists(st.sampled_from(vocab), min_size=1, unique=True))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    logits = rng.normal(size=(len(partials), len(vocab)))
    reference = rng.dirichlet(np.ones(len(anchors)), size=len(partials))
    got = word_start_relative(logits, partials, vocab, anchors, reference)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for i, s in enumerate(partials):
        np.testing.assert_allclose(
            got[i], _lookahead_by_definition(p[i], s, vocab, anchors, reference[i]), atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)


def test_lookahead_follows_the_word_the_assistant_expected_at_the_word_start():
    # The assistant has "Nebuchadnezzar" as one token and is sure of it at the word start. The
    # main model wrote "Neb"; asked directly, the assistant (reference) has no idea what comes
    # next, while the lookahead sends its mass to "uch", the first shared piece of the rest.
    vocab = ["Neb", "uch", "ad", "nezzar", "Nebuchadnezzar", "\u2581", "the"]
    anchors = ["Neb", "uch", "ad", "nezzar", "\u2581", "the"]
    at_start = np.log([[0.02, 0.01, 0.01, 0.01, 0.9, 0.02, 0.03]])
    reference = np.full((1, 6), 1 / 6)
    r = word_start_relative(at_start, ["Neb"], vocab, anchors, reference)
    assert r[0].argmax() == anchors.index("uch") and r[0, 1] > 0.95


def test_empty_partial_words_keep_the_reference_rows():
    reference = np.array([[0.2, 0.8], [0.6, 0.4]])
    r = word_start_relative(np.zeros((2, 3)), ["", "a"], ["a", "ab", "b"], ["a", "b"],
                            reference)
    np.testing.assert_array_equal(r[0], reference[0])
    np.testing.assert_allclose(r[1], [(1 / 3) * 0.6, (1 / 3) * 0.4 + 1 / 3]
                               / np.float64(2 / 3))


def test_space_markers_are_normalised_in_vocabulary_and_partial_words():
    vocab = ["\u0120the", "\u0120there", "re", "\u0120"]
    anchors = ["\u2581the", "re", "\u2581"]
    r = word_start_relative(np.log([[0.1, 0.8, 0.05, 0.05]]), [" the"], vocab, anchors,
                            np.array([[1 / 3, 1 / 3, 1 / 3]]))
    # " the" itself (0.1) and "Ġ" (0.05) keep the reference; "Ġthere" (0.8) continues with "re".
    np.testing.assert_allclose(r[0], (0.15 * np.full(3, 1 / 3) + [0, 0.8, 0]) / 0.95)


def test_word_starts_follow_the_vocabularys_space_convention():
    assert is_space_prefixed(["\u2581the", "\u2581", "a"])
    assert not is_space_prefixed(["\u2581", "\u2581\u2581", "the", "a"])
    assert split_partial_word("in the begin", space_prefixed=True) == ("in the", " begin")
    assert split_partial_word("in the begin", space_prefixed=False) == ("in the ", "begin")
    assert split_partial_word("in the ", space_prefixed=True) == ("in the", " ")
    assert split_partial_word("line\nWor", space_prefixed=True) == ("line\n", "Wor")
    assert split_partial_word("word", space_prefixed=False) == ("", "word")
    assert split_partial_word("", space_prefixed=True) == ("", "")


@pytest.mark.parametrize("kwargs, match", [
    ({"word_start_logits": np.zeros((1, 2))}, "word_start_logits: has 2 columns"),
    ({"partials": ["a", "b"]}, "partials: expected 1 strings"),
    ({"reference": np.ones((1, 3)) / 3}, r"reference: expected shape \(1, 2\)"),
    ({"reference": np.array([[-0.5, 1.5]])}, "reference: must be non-negative"),
    ({"word_start_logits": np.array([[np.nan, 0.0, 0.0]])}, "word_start_logits: contains 1"),
])
def test_bad_lookahead_inputs_raise_value_errors(kwargs, match):
    args = {"word_start_logits": np.zeros((1, 3)), "partials": ["a"],
            "vocabulary": ["a", "ab", "b"], "anchor_tokens": ["a", "b"],
            "reference": np.array([[0.5, 0.5]])}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        word_start_relative(**args)

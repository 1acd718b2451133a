import numpy as np
import pytest

from llmcopula.fusion import SPACE_MARKER, common_anchors, normalize_token


def test_space_markers_of_byte_bpe_sentencepiece_and_plain_space_normalise_alike():
    assert normalize_token("\u0120the") == normalize_token("\u2581the") == "\u2581the"
    assert normalize_token(" ") == SPACE_MARKER
    assert normalize_token("\u0120the", space_aliases=()) == "\u0120the"


def test_common_anchors_returns_the_id_of_each_shared_token_in_every_vocabulary():
    v1 = ["<s>", "\u0120the", "a", "b", "\u0120cat"]
    v2 = ["b", "\u2581the", "x", "a"]
    v3 = ["a", "b", " the", "zz"]
    anchors = common_anchors([v1, v2, v3])
    assert anchors.tokens == ("a", "b", "\u2581the")
    for vocab, idx in zip([v1, v2, v3], anchors.indices):
        assert [normalize_token(vocab[i]) for i in idx] == list(anchors.tokens)
    np.testing.assert_allclose(anchors.coverage(), [3 / 5, 3 / 4, 3 / 4])


def test_without_normalisation_space_marker_variants_are_not_anchors():
    anchors = common_anchors([["\u0120the", "a"], ["\u2581the", "a"]], normalize=False)
    assert anchors.tokens == ("a",)


def test_duplicate_normalised_strings_use_the_smallest_id():
    anchors = common_anchors([["x", " a", "\u2581a"], ["\u2581a", "x"]])
    assert anchors.tokens == ("x", "\u2581a")
    assert anchors.indices[0].tolist() == [0, 1]


@pytest.mark.parametrize("vocabs, match", [
    ([], "vocabularies: expected at least one"),
    ([["a"], []], "vocabularies: vocabulary 1 is empty"),
    ([["a", "b"], ["c", "d"]], "vocabularies: the 2 vocabularies share no token"),
])
def test_bad_vocabularies_raise_value_errors_naming_the_argument(vocabs, match):
    with pytest.raises(ValueError, match=match):
        common_anchors(vocabs)

import numpy as np
import pytest

from llmcopula.fusion import TokenPieces, word_start_relative


def _tokenizer(vocab, order):
    def tokenize(text):
        ids, i = [], 0
        while i < len(text):
            piece = next(t for t in order if text.startswith(t, i))
            ids.append(vocab.index(piece))
            i += len(piece)
        return ids
    return tokenize


def test_pieces_and_piece_boundaries_follow_the_tokenizer():
    vocab = ["\u0120Ne", "bu", "chad", "nezzar", "\u0120", "N", "e"]
    pieces = TokenPieces(_tokenizer([t.replace("\u0120", " ") for t in vocab],
                                    [" Ne", "bu", "chad", "nezzar", " ", "N", "e"]), vocab)
    word = " Nebuchadnezzar"
    assert pieces.pieces(word) == ["\u2581Ne", "bu", "chad", "nezzar"]
    assert pieces.piece_at(word, 0) == "\u2581Ne" and pieces.piece_at(word, 3) == "bu"
    assert pieces.piece_at(word, 4) is None  # inside "bu"
    assert pieces.piece_at(word, len(word)) is None


def test_pieces_that_do_not_spell_the_word_fall_back_to_the_rest_of_the_word():
    vocab = ["<0x41>", "b"]
    pieces = TokenPieces(lambda text: [0] * len(text), vocab)
    assert pieces.pieces("ab") is None
    assert pieces.piece_at("ab", 1) == "b"


def test_lookahead_with_main_pieces_follows_the_main_models_cut_and_drops_other_cuts():
    # Assistant at the word start: "abcd" (0.6) or "abxy" (0.4). The main model has written "ab"
    # and cuts "abcd" as "ab|cd" but "abxy" as "a|bxy": the second continuation cannot follow
    # the main model's "ab", so only "cd" remains.
    main_vocab = ["a", "ab", "cd", "bxy", "c", "x"]
    order = {"abcd": ["ab", "cd"], "abxy": ["a", "bxy"]}

    def tokenize(text):
        return [main_vocab.index(p) for p in order.get(text, list(text))]

    pieces = TokenPieces(tokenize, main_vocab)
    anchors = ["ab", "cd", "c", "x", "a"]
    at_start = np.log([[1e-20, 1e-20, 0.6, 0.4]])
    vocab = ["a", "ab", "abcd", "abxy"]
    r = word_start_relative(at_start, ["ab"], vocab, anchors, [[0.2] * 5], pieces=pieces,
                            main_partials=["ab"])
    np.testing.assert_allclose(r[0], np.eye(5)[anchors.index("cd")], atol=1e-15)
    # Without the main model's pieces, "xy" is kept and goes to its longest anchor prefix "x".
    plain = word_start_relative(at_start, ["ab"], vocab, anchors, [[0.2] * 5])
    np.testing.assert_allclose(plain[0, [anchors.index("cd"), anchors.index("x")]], [0.6, 0.4],
                               atol=1e-15)
    with pytest.raises(ValueError, match="main_partials: needed with pieces"):
        word_start_relative([[0.0] * 4], ["ab"], ["a", "ab", "abcd", "abxy"], anchors,
                            [[0.2] * 5], pieces=pieces)


def test_a_tokenizer_must_be_callable():
    with pytest.raises(ValueError, match="tokenize: expected a callable"):
        TokenPieces("not a function", ["a"])

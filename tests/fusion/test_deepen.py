import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

from llmcopula._estimator import clone
from llmcopula._validation import NotFittedError
from llmcopula.fusion import (
    DeePEnFusion,
    FunctionLanguageModel,
    FusionCoverageWarning,
    LanguageModel,
    split_partial_word,
)

from fusion_toys import CHARS, WORDS, greedy_tokenize


def test_toy_models_satisfy_the_language_model_protocol(char_model, word_model):
    assert isinstance(char_model, LanguageModel) and isinstance(word_model, LanguageModel)


def test_fit_finds_the_shared_anchors_and_one_stochastic_transfer_per_model(char_model, word_model):
    fusion = DeePEnFusion().fit([char_model, word_model])
    assert fusion.anchors_.tokens == ("a", "b", "c", "\u2581")
    assert [T.shape for T in fusion.transfers_] == [(len(CHARS), 4), (len(WORDS), 4)]
    for T in fusion.transfers_:
        np.testing.assert_allclose(T.sum(axis=1), 1.0)
    np.testing.assert_allclose(fusion.weights_, [0.5, 0.5])


def test_generation_over_two_tokenizers_produces_text_and_feeds_every_model_the_same_text(
        char_model, word_model):
    fusion = DeePEnFusion(main=0).fit([char_model, word_model])
    result = fusion.generate("a", max_new_tokens=12)
    assert len(result.text) == 12 and set(result.text) <= set("abc ")
    assert result.stop_reason == "max_new_tokens"
    assert char_model.prefixes == word_model.prefixes
    assert char_model.prefixes == ["a" + result.text[:i] for i in range(12)]
    # The word model tokenises the growing text its own way, into multi-character tokens.
    assert any(len(greedy_tokenize(p, WORDS)) < len(p) for p in word_model.prefixes)


def test_generation_with_the_word_model_as_main_decodes_multi_character_tokens(
        char_model, word_model):
    fusion = DeePEnFusion(main=1).fit([char_model, word_model])
    result = fusion.generate("c", max_new_tokens=6)
    assert result.token_ids.size == 6
    assert result.text == "".join(WORDS[i] for i in result.token_ids).replace("\u2581", " ")


def test_fused_token_equals_the_main_models_when_the_assistant_is_identical(char_model):
    fusion = DeePEnFusion().fit([char_model, char_model])
    result = fusion.generate("b", max_new_tokens=10)
    alone = DeePEnFusion(lr=0.0).fit([char_model, char_model]).generate("b", max_new_tokens=10)
    np.testing.assert_array_equal(result.token_ids, result.main_token_ids)
    assert result.text == alone.text and result.flip_rate == 0.0


def test_a_confident_assistant_overrides_a_hesitant_main_model():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(3, 8))
    hesitant = FunctionLanguageModel(["x", "y", "z"], E, lambda s: np.log([0.45, 0.40, 0.15]))
    E_sure = np.vstack([E[[1, 0, 2]], rng.normal(size=8)])
    sure = FunctionLanguageModel(["y", "x", "z", "yy"], E_sure,
                                 lambda s: np.log([0.9, 0.03, 0.03, 0.04]))
    result = DeePEnFusion().fit([hesitant, sure]).generate("", max_new_tokens=4)
    assert result.text == "yyyy" and result.flip_rate == 1.0
    assert DeePEnFusion(lr=0.0).fit([hesitant, sure]).generate("", max_new_tokens=4).text == "xxxx"


def test_generation_stops_at_the_main_models_eos(char_model, word_model):
    eos_model = FunctionLanguageModel(CHARS, char_model.input_embeddings,
                                      lambda s: np.log([0.1, 0.1, 0.1, 0.1, 0.6]), eos_token_id=4)
    fusion = DeePEnFusion(min_anchor_mass=0.0).fit([eos_model, word_model])
    result = fusion.generate("ab", max_new_tokens=5)
    assert result.text == "" and result.stop_reason == "eos"
    assert not result.fused[0]  # the EOS skip rule left the main model alone


def test_generation_stops_after_an_early_stop_string(char_model, word_model):
    fusion = DeePEnFusion().fit([char_model, word_model])
    full = fusion.generate("a", max_new_tokens=12).text
    assert " " in full
    cut = fusion.generate("a", max_new_tokens=12, stop=[" "])
    assert cut.stop_reason == "stop_string" and cut.text == full[: full.index(" ") + 1]


def test_missing_assistant_distribution_falls_back_to_the_main_model(char_model):
    silent = FunctionLanguageModel(CHARS, np.eye(5), lambda s: None)
    silent.next_token_logprobs = lambda prefix: None  # the assistant's reply never arrived
    fusion = DeePEnFusion().fit([char_model, silent])
    out = fusion.next_token("ab")
    assert out.skip_reason == "missing assistant"
    assert int(out.tokens) == int(np.argmax(char_model.next_token_logprobs("ab")))


def test_precise_inverse_methods_generate_as_well(char_model, word_model):
    for method in ("mirror", "lbfgs"):
        result = DeePEnFusion(method=method).fit([char_model, word_model]).generate(
            "a", max_new_tokens=3)
        assert len(result.text) == 3


def test_dev_weights_are_fitted_in_fit(char_model, word_model):
    rng = np.random.default_rng(0)
    dev = [rng.normal(size=(20, len(CHARS))), rng.normal(size=(20, len(WORDS)))]
    y = rng.integers(0, len(CHARS), size=20)
    fusion = DeePEnFusion(weights="dev-nll").fit([char_model, word_model], dev_logits=dev,
                                                 dev_targets=y)
    assert fusion.weight_fit_ is not None and fusion.weight_fit_.objective == "nll"
    np.testing.assert_allclose(fusion.weights_.sum(), 1.0)
    with pytest.raises(ValueError, match="dev_logits: weights='dev-nll' needs"):
        DeePEnFusion(weights="dev-nll").fit([char_model, word_model])


def test_diagnostics_report_coverage_conditioning_and_consistency(char_model, word_model):
    diag = DeePEnFusion().fit([char_model, word_model]).diagnostics()
    assert diag.n_anchors == 4
    np.testing.assert_allclose(diag.coverage, [4 / len(CHARS), 4 / len(WORDS)])
    assert len(diag.conditioning) == 2 and diag.anchor_consistency.shape == (4,)
    assert all(c.condition_number >= 1.0 for c in diag.conditioning)


@pytest.mark.parametrize("options, match", [
    ({"main": 2}, "main: must index one of the 2 models"),
    ({"method": "sgd"}, "method: expected 'adamw', 'mirror' or 'lbfgs'"),
    ({"lr": np.nan}, "lr: must be a non-negative finite"),
    ({"weights": "best"}, "weights: expected 'uniform'"),
    ({"weights": [1.0, 2.0, 3.0]}, "weights: expected 2 weights"),
    ({"transfer": "cosine"}, "transfer: expected 'embedding', 'shared-prefix' or 'main-pieces'"),
    ({"transfer": "main-pieces"}, r"transfer: 'main-pieces' needs the main model \(index 0\)"),
    ({"lookahead": "yes"}, "lookahead: expected True or False"),
    ({"min_anchor_mass": 1.5}, r"min_anchor_mass: must lie in \[0, 1\]"),
])
def test_bad_options_raise_value_errors_at_fit(char_model, word_model, options, match):
    with pytest.raises(ValueError, match=match):
        DeePEnFusion(**options).fit([char_model, word_model])


def test_models_without_shared_tokens_or_with_bad_embeddings_are_rejected(char_model):
    other = FunctionLanguageModel(["X", "Y"], np.eye(2), lambda s: np.zeros(2))
    with pytest.raises(ValueError, match="vocabularies: the 2 vocabularies share no token"):
        DeePEnFusion().fit([char_model, other])
    with pytest.raises(ValueError, match="models: expected at least one"):
        DeePEnFusion().fit([])
    with pytest.raises(ValueError, match="input_embeddings: has 3 rows"):
        FunctionLanguageModel(["a", "b"], np.eye(3), lambda s: np.zeros(2))
    with pytest.raises(ValueError, match="vocabulary: must not be empty"):
        FunctionLanguageModel([], np.eye(3), lambda s: np.zeros(2))


def test_using_an_unfitted_fusion_is_an_error(char_model):
    with pytest.raises(NotFittedError, match=r"DeePEnFusion: not fitted yet; call fit\(models\)"):
        DeePEnFusion().next_token("a")
    with pytest.raises(ValueError, match="not fitted"):
        DeePEnFusion().diagnostics()


def test_options_are_stored_unchanged_and_clone_gives_an_unfitted_copy(char_model, word_model):
    w = np.array([0.2, 0.8])
    fusion = DeePEnFusion(main=1, weights=w, transfer="shared-prefix", lookahead=True)
    params = fusion.get_params()
    assert params["weights"] is w and params["transfer"] == "shared-prefix"
    assert params["lookahead"] is True and params["min_anchor_mass"] == 0.5
    fusion.fit([char_model, word_model])
    copy = clone(fusion)
    assert not hasattr(copy, "transfers_")
    np.testing.assert_array_equal(copy.get_params()["weights"], w)
    assert fusion.set_params(tau=10.0).tau == 10.0
    assert "transfer='shared-prefix'" in repr(fusion)


def test_shared_prefix_transfers_are_sparse_and_an_identical_assistant_changes_nothing(
        char_model, word_model):
    fusion = DeePEnFusion(transfer="shared-prefix").fit([char_model, word_model])
    assert all(sp.issparse(T) for T in fusion.transfers_)
    # "ab" and "cab" have no anchor of their own: they go to their first pieces "a" and "c".
    T_words = fusion.transfers_[1].toarray()
    assert fusion.anchors_.tokens[T_words[WORDS.index("ab")].argmax()] == "a"
    assert fusion.anchors_.tokens[T_words[WORDS.index("cab")].argmax()] == "c"
    same = DeePEnFusion(transfer="shared-prefix", method="mirror").fit([char_model, char_model])
    result = same.generate("b", max_new_tokens=8)
    np.testing.assert_array_equal(result.token_ids, result.main_token_ids)


def test_lookahead_also_asks_assistants_at_the_start_of_a_partial_word(char_model, word_model):
    fusion = DeePEnFusion(transfer="shared-prefix", lookahead=True).fit([char_model, word_model])
    result = fusion.generate("a", max_new_tokens=10)
    steps = ["a" + result.text[:i] for i in range(10)]
    assert char_model.prefixes == steps  # the main model is asked once per step
    # The word model attaches spaces to words ("▁c"), so a word starts before its space.
    starts = {split_partial_word(s, space_prefixed=True)[0] for s in steps
              if split_partial_word(s, space_prefixed=True)[1]}
    extra = Counter(word_model.prefixes) - Counter(steps)
    assert starts and set(extra) == starts  # repeated word starts come from the cache
    assert set(word_model.prefixes) >= set(steps)


def test_lookahead_and_plain_fusion_agree_at_word_starts(char_model, word_model):
    plain = DeePEnFusion(transfer="shared-prefix").fit([char_model, word_model])
    ahead = DeePEnFusion(transfer="shared-prefix", lookahead=True).fit([char_model, word_model])
    # After "c" the word model's "cab" continues with "ab" (first piece "a"); after "ab " its
    # "▁c" continues with "c". The empty text has no partial word.
    for prefix in ("", "c", "ab "):
        partial = split_partial_word(prefix, space_prefixed=True)[1]
        a, b = plain.next_token(prefix), ahead.next_token(prefix)
        if not partial:
            np.testing.assert_array_equal(a.logits, b.logits)
        else:
            assert not np.array_equal(a.logits, b.logits)


def _low_coverage_models():
    rng = np.random.default_rng(5)
    # The word model puts 90% of its mass on "xyz", which the char model lacks.
    chars = FunctionLanguageModel(["x", "y", "z"], rng.normal(size=(3, 4)),
                                  lambda s: np.log([0.5, 0.3, 0.2]))
    words = FunctionLanguageModel(["x", "y", "z", "xyz"], rng.normal(size=(4, 4)),
                                  lambda s: np.log([0.04, 0.03, 0.03, 0.9]))
    return chars, words


def test_fuse_warns_when_the_main_model_has_little_mass_on_anchors_and_names_a_better_main():
    chars, words = _low_coverage_models()
    fusion = DeePEnFusion(main=1).fit([chars, words])
    with pytest.warns(FusionCoverageWarning,
                      match=r"model 1 puts only 10% .* Model 0 puts 100% there: make it the main "
                            r"one \(main=0\)"):
        fusion.next_token("x")
    np.testing.assert_allclose(fusion.anchor_masses([np.log([0.5, 0.3, 0.2]), None]),
                               [1.0, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FusionCoverageWarning)
        DeePEnFusion(main=0).fit([chars, words]).next_token("x")
        DeePEnFusion(main=1, min_anchor_mass=0.0).fit([chars, words]).next_token("x")


def test_generate_warns_about_coverage_once_per_call():
    chars, words = _low_coverage_models()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DeePEnFusion(main=1).fit([chars, words]).generate("", max_new_tokens=6)
    assert [w.category for w in caught] == [FusionCoverageWarning]


def test_main_pieces_send_assistant_tokens_to_the_main_models_first_piece(char_model):
    # The main word model cuts "cab" as "c|ab" (no "ca" token); the assistant has "ca" and "cab"
    # as tokens. Shared-prefix sends the assistant's "cab" to "ca" (its longest shared prefix);
    # main-pieces sends it to "c", the piece the main model writes first.
    main_vocab = ["a", "b", "c", "ab", "ca", "\u2581"]
    main = FunctionLanguageModel(main_vocab, np.eye(6), lambda s: np.zeros(6),
                                 tokenizer=lambda text: greedy_split(text, ["ab", "a", "b", "c",
                                                                            "\u2581"],
                                                                     main_vocab))
    assistant = FunctionLanguageModel(["a", "b", "c", "ca", "cab"], np.eye(5),
                                      lambda s: np.zeros(5))
    by_prefix = DeePEnFusion(transfer="shared-prefix").fit([main, assistant])
    by_pieces = DeePEnFusion(transfer="main-pieces").fit([main, assistant])
    tokens = by_pieces.anchors_.tokens
    assert tokens[by_prefix.transfers_[1].toarray()[4].argmax()] == "ca"
    assert tokens[by_pieces.transfers_[1].toarray()[4].argmax()] == "c"
    np.testing.assert_array_equal(by_pieces.transfers_[0].toarray(),
                                  by_prefix.transfers_[0].toarray())


def greedy_split(text, order, vocab):
    """Tokenise by trying the strings of ``order`` first at each position."""
    text = text.replace(" ", "\u2581")
    ids, i = [], 0
    while i < len(text):
        piece = next(t for t in order if text.startswith(t, i))
        ids.append(vocab.index(piece))
        i += len(piece)
    return ids

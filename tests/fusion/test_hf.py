"""The Hugging Face adapter, on tiny models built locally from configs (nothing is downloaded)."""

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")

from llmcopula.fusion import DeePEnFusion, LanguageModel  # noqa: E402
from llmcopula.fusion.hf import HuggingFaceLanguageModel  # noqa: E402

TEXT = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog and the end"] * 5


def _tokenizer(kind: str):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    if kind == "byte":  # GPT-2 style: "Ġ" marks a leading space
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
    else:  # SentencePiece style: "▁" marks a leading space
        tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="never")
        tok.decoder = decoders.Metaspace(prepend_scheme="never")
        alphabet = []
    trainer = trainers.BpeTrainer(vocab_size=290 if kind == "byte" else 45,
                                  special_tokens=["<eos>"], initial_alphabet=alphabet,
                                  show_progress=False)
    tok.train_from_iterator(TEXT, trainer=trainer)
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>")


def _model(tokenizer, seed: int, n_embd: int):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=len(tokenizer), n_layer=1, n_head=2,
                                     n_embd=n_embd, n_positions=64,
                                     eos_token_id=tokenizer.eos_token_id)
    return transformers.GPT2LMHeadModel(config)


@pytest.fixture(scope="module")
def pair():
    byte_tok, sp_tok = _tokenizer("byte"), _tokenizer("sp")
    return (HuggingFaceLanguageModel(_model(byte_tok, 0, 16), byte_tok),
            HuggingFaceLanguageModel(_model(sp_tok, 1, 24), sp_tok))


def test_adapter_exposes_vocabulary_embeddings_and_normalised_logprobs(pair):
    lm, _ = pair
    assert isinstance(lm, LanguageModel)
    E = lm.input_embeddings
    assert E.shape == (len(lm.vocabulary), 16) and E.dtype == np.float64
    lp = lm.next_token_logprobs("the cat")
    assert lp.shape == (len(lm.vocabulary),)
    assert np.exp(lp).sum() == pytest.approx(1.0, abs=1e-10)
    ids = lm.tokenizer("the cat")["input_ids"]
    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ids])).logits[0, -1].double()
    direct = torch.log_softmax(logits, -1)
    np.testing.assert_allclose(lp, direct.numpy(), atol=1e-12)
    assert lm.next_token_logprobs("").shape == lp.shape  # empty prefix uses EOS as the start
    assert lm.eos_token_id == lm.tokenizer.eos_token_id


def test_byte_bpe_and_sentencepiece_vocabularies_share_space_marked_anchors(pair):
    byte_lm, sp_lm = pair
    assert any(t.startswith("\u0120") for t in byte_lm.vocabulary)
    assert any(t.startswith("\u2581") for t in sp_lm.vocabulary)
    fusion = DeePEnFusion().fit([byte_lm, sp_lm])
    assert any(t.startswith("\u2581") and len(t) > 1 for t in fusion.anchors_.tokens)


def test_fused_generation_runs_with_two_transformers_models(pair):
    byte_lm, sp_lm = pair
    result = DeePEnFusion(main=0).fit([byte_lm, sp_lm]).generate("the cat", max_new_tokens=4)
    assert result.token_ids.size + (result.stop_reason == "eos") >= 1
    same = DeePEnFusion(main=0).fit([byte_lm, byte_lm]).generate("the dog", max_new_tokens=4)
    np.testing.assert_array_equal(same.token_ids, same.main_token_ids[: same.token_ids.size])

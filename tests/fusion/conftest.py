"""Fixtures of the fusion tests: two toy language models with different tokenizers."""

from __future__ import annotations

import numpy as np
import pytest

from fusion_toys import CHARS, WORDS, RecordingModel, char_logprobs, word_logprobs


@pytest.fixture
def char_model() -> RecordingModel:
    rng = np.random.default_rng(11)
    return RecordingModel(CHARS, rng.normal(size=(len(CHARS), 6)), char_logprobs,
                          eos_token_id=4, decoder=lambda ids: "".join(
                              CHARS[i] for i in ids).replace("\u2581", " "))


@pytest.fixture
def word_model() -> RecordingModel:
    rng = np.random.default_rng(12)
    return RecordingModel(WORDS, rng.normal(size=(len(WORDS), 9)), word_logprobs,
                          eos_token_id=7)

"""Two tokenizers with one interface: characters, and BPE trained with the `tokenizers` library.

Both keep a padding token at id 0 (named differently, so it is never an anchor). Spaces are
written ``▁`` in the BPE vocabulary and ``" "`` in the character vocabulary; the fusion's anchor
normalisation maps both to ``▁``. The BPE pre-tokenizer isolates every space, so word starts are
always token boundaries (a prefix ending in a space is tokenised as in training).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CharTokenizer", "BPETokenizer"]

SPACE = "\u2581"


class CharTokenizer:
    """One token per character of the training text (unknown characters map to padding)."""

    pad = "<cpad>"

    def __init__(self, text: str) -> None:
        self.vocabulary = [self.pad] + sorted(set(text))
        self._index = {c: i for i, c in enumerate(self.vocabulary)}

    def encode(self, text: str) -> list[int]:
        return [self._index.get(c, 0) for c in text]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.vocabulary[i] for i in ids if i != 0)


class BPETokenizer:
    """Byte-pair encoding learned on the training text with Hugging Face `tokenizers`.

    Every character of ``text`` and ``alphabet`` is a token, so that held-out text with
    characters the training text lacks is still covered."""

    pad = "<bpad>"

    def __init__(self, text: str, vocab_size: int, *, alphabet: str = "") -> None:
        try:
            from tokenizers import (
                Tokenizer,
                decoders,
                models,
                normalizers,
                pre_tokenizers,
                trainers,
            )
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("the fusion benchmark needs `pip install tokenizers`") from err
        tok = Tokenizer(models.BPE())
        tok.normalizer = normalizers.Replace(" ", SPACE)
        tok.pre_tokenizer = pre_tokenizers.Split(SPACE, "isolated")
        tok.decoder = decoders.Replace(SPACE, " ")
        chars = sorted(set((text + alphabet).replace(" ", SPACE)))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[self.pad],
                                      initial_alphabet=chars, show_progress=False)
        tok.train_from_iterator([text[i:i + 10_000] for i in range(0, len(text), 10_000)],
                                trainer=trainer)
        self._tok = tok
        vocab = tok.get_vocab()
        self.vocabulary = [""] * len(vocab)
        for s, i in vocab.items():
            self.vocabulary[i] = s

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(list(texts))]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.vocabulary[i] for i in ids if i != 0).replace(SPACE, " ")

    def token_lengths(self) -> np.ndarray:
        """Number of characters each token decodes to (0 for padding)."""
        return np.array([0] + [len(t) for t in self.vocabulary[1:]])

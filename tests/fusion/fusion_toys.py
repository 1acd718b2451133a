"""Toy vocabularies, embeddings and language models shared by the fusion tests.

A module with a unique name (not ``conftest``) so that test files can import its helpers
without clashing with other test directories' modules."""

from __future__ import annotations

import numpy as np

from llmcopula.fusion import FunctionLanguageModel


def random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def greedy_tokenize(text: str, vocab: list[str]) -> list[int]:
    """Longest-match tokenisation of ``text`` (spaces written as '▁') over ``vocab``."""
    text = text.replace(" ", "\u2581")
    index = {t: i for i, t in enumerate(vocab)}
    longest = max(map(len, vocab))
    ids, i = [], 0
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            if text[i:i + n] in index:
                ids.append(index[text[i:i + n]])
                i += n
                break
        else:
            raise ValueError(f"cannot tokenise {text[i]!r}")
    return ids


class RecordingModel(FunctionLanguageModel):
    """A FunctionLanguageModel that remembers every prefix it was asked about."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prefixes: list[str] = []

    def next_token_logprobs(self, prefix: str) -> np.ndarray:
        self.prefixes.append(prefix)
        return super().next_token_logprobs(prefix)


CHARS = ["a", "b", "c", "\u2581", "<eos>"]
WORDS = ["a", "b", "c", "\u2581", "ab", "\u2581c", "cab", "</s>"]


def char_logprobs(text: str) -> np.ndarray:
    # After "a" comes "b", after "b" comes "c" (rarely a space), after "c" a space, after a
    # space "a"; a cyclic toy grammar.
    nxt = {"a": 1, "b": 2, "c": 3, " ": 0, "": 0}[text[-1:] if text else ""]
    logits = np.full(len(CHARS), -3.0)
    logits[nxt] = 1.0
    logits[3] = max(logits[3], 0.5) if nxt == 2 else logits[3]
    return logits - np.logaddexp.reduce(logits)


def word_logprobs(text: str) -> np.ndarray:
    ids = greedy_tokenize(text, WORDS) if text else []
    last = WORDS[ids[-1]] if ids else "\u2581"
    table = {"a": 1, "b": 5, "c": 3, "\u2581": 4, "ab": 5, "\u2581c": 0, "cab": 5, "</s>": 0}
    logits = np.full(len(WORDS), -2.0)
    logits[table[last]] = 2.0
    return logits - np.logaddexp.reduce(logits)

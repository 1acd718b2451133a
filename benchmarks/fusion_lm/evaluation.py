"""Per-character evaluation of token-level and character-level predictors on one footing.

* **Bits per character (BPC)** over a fixed span of held-out text: every system is a sequential
  model of that span under its own (for a fusion: its main model's) tokenisation, so
  ``-log2 P(span) / n_chars`` is comparable whatever the tokenisation.
* **Next-character accuracy at word-piece boundaries**: at the start of every BPE token of the
  span, each system predicts the next character. A character-level system reads it off directly;
  a BPE-level system sums its token probabilities by first character,
  ``P(c) = sum_{t : t starts with c} P(t)``. At these positions both tokenisations are at a
  token boundary, so neither system is asked to continue a half-finished token.
* **Next-character accuracy at every position** for character-level systems only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["first_char_matrix", "token_spans", "bits", "char_log_marginal"]

SPACE = "\u2581"


def first_char_matrix(token_vocab, char_vocab) -> np.ndarray:
    """``M[t, c] = 1`` if token ``t`` starts with character ``c`` (padding maps nowhere)."""
    index = {c: i for i, c in enumerate(char_vocab)}
    M = np.zeros((len(token_vocab), len(char_vocab)))
    for t, tok in enumerate(token_vocab):
        first = tok[:1].replace(SPACE, " ")
        if t > 0 and first in index:
            M[t, index[first]] = 1.0
    return M


def char_log_marginal(token_logprobs: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Log of ``P(next char)`` from next-token log-probabilities, renormalised over characters."""
    p = np.exp(token_logprobs) @ M
    p /= p.sum(axis=1, keepdims=True)
    return np.log(np.maximum(p, 1e-300))


def token_spans(ids: list[int], vocab) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and length in characters of each token of a tokenisation."""
    lengths = np.array([len(vocab[i]) for i in ids])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return starts, lengths


def bits(nll_nats: np.ndarray) -> float:
    return float(np.sum(nll_nats) / np.log(2.0))

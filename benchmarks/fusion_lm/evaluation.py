"""Scoring systems with different tokenisations on one footing, and the segment-level pool.

* **Bits per character (BPC)** over a fixed held-out text: every system is a sequential model of
  that text under its own (for a fusion: its main model's) tokenisation, so
  ``-log2 P(text) / n_chars`` is comparable whatever the tokenisation.
* **Next-character accuracy at shared boundaries**: at every position where both tokenisations
  start a token, each system's distribution of the next *character* (a token-level system sums
  its token probabilities by first character, ``P(c) = sum_{t starts with c} P(t)``).
* **Segment-level linear pool**: the text is cut into segments that end after a space ("word +
  space"), which both tokenisations share because the BPE pre-tokenizer isolates spaces. Each
  model scores a segment by its own tokens (canonical tokenisation, own context), and the pool is
  ``P(segment) = sum_m w_m P_m(segment)``. Inside a segment, at a shared boundary, its
  next-character distribution is the mixture of the models' with posterior weights
  ``w_m P_m(segment so far)``, which is the exact conditional of the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import logsumexp

__all__ = ["SPACE", "Scored", "score_model", "first_char_matrix", "char_log_marginal",
           "token_spans", "segment_starts", "block_ids", "pool_segments", "fit_pool_weight",
           "pool_char_logprobs", "SystemScore", "system_score"]

SPACE = "\u2581"
LOG2 = np.log(2.0)


def token_spans(ids, vocab) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and length in characters of each token of a tokenisation."""
    lengths = np.array([len(vocab[i]) for i in ids])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return starts.astype(np.int64), lengths


def first_char_matrix(token_vocab, chars) -> np.ndarray:
    """``M[t, c] = 1`` if token ``t`` starts with character ``chars[c]`` (``▁`` is a space)."""
    index = {c: i for i, c in enumerate(chars)}
    M = np.zeros((len(token_vocab), len(chars)))
    for t, tok in enumerate(token_vocab):
        first = tok[:1].replace(SPACE, " ")
        if first in index:
            M[t, index[first]] = 1.0
    return M


def char_log_marginal(token_logprobs: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Log of ``P(next char)`` from next-token log-probabilities, renormalised over characters."""
    p = np.exp(token_logprobs) @ M
    p /= p.sum(axis=1, keepdims=True)
    return np.log(np.maximum(p, 1e-300))


@dataclass
class Scored:
    """One model's canonical scoring of a text: token ids, their starts, full log-probabilities
    and the log-probability of each true token."""

    ids: np.ndarray
    starts: np.ndarray
    logprobs: np.ndarray
    token_lp: np.ndarray


def score_model(model, text: str) -> Scored:
    ids = np.array(model.tokenizer.encode(text), dtype=np.int64)
    starts, lengths = token_spans(ids, model.vocabulary)
    if starts[-1] + lengths[-1] != len(text):
        raise ValueError("text: the tokenisation does not cover the text (unknown characters?)")
    from .mlp_lm import context_windows

    lp = model.logprobs(context_windows(ids, model.context))
    return Scored(ids, starts, lp, lp[np.arange(ids.size), ids])


def segment_starts(text: str) -> np.ndarray:
    """Start of every segment: 0 and every position right after a space."""
    arr = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    after_space = np.flatnonzero(arr == ord(" ")) + 1
    return np.concatenate([[0], after_space[after_space < len(text)]]).astype(np.int64)


def block_ids(positions: np.ndarray, block_starts: np.ndarray) -> np.ndarray:
    return np.searchsorted(block_starts, positions, side="right") - 1


def pool_segments(scored: list[Scored], seg_starts: np.ndarray) -> np.ndarray:
    """Per model, the log-probability of every segment: array (K, n_segments)."""
    return np.array([np.bincount(block_ids(s.starts, seg_starts), weights=s.token_lp,
                                 minlength=seg_starts.size) for s in scored])


def _pool_total(seg_lp: np.ndarray, w: float) -> float:
    logw = np.log(np.array([w, 1.0 - w]) + 1e-300)[:, None]
    return float(logsumexp(seg_lp + logw, axis=0).sum())


def fit_pool_weight(seg_lp: np.ndarray) -> float:
    """Weight of the first model maximising the pooled log-likelihood of the segments."""
    res = minimize_scalar(lambda w: -_pool_total(seg_lp, w), bounds=(0.0, 1.0),
                          method="bounded", options={"xatol": 1e-4})
    return float(res.x)


def pool_char_logprobs(scored: list[Scored], char_lp: list[np.ndarray], positions: np.ndarray,
                       seg_starts: np.ndarray, w: float) -> np.ndarray:
    """The pool's next-character log-probabilities at shared boundaries ``positions``.

    ``char_lp[m]`` holds model m's next-character log-probabilities at ``positions``. The
    posterior weight of model m is ``w_m P_m(segment so far)``.
    """
    logw = np.log(np.array([w, 1.0 - w]) + 1e-300)
    post = []
    for m, s in enumerate(scored):
        seg_of_tok = block_ids(s.starts, seg_starts)
        csum = np.concatenate([[0.0], np.cumsum(s.token_lp)])
        first_tok = np.searchsorted(seg_of_tok, np.arange(seg_starts.size), side="left")
        tok_at = np.searchsorted(s.starts, positions)  # token starting at each position
        seg = block_ids(positions, seg_starts)
        post.append(logw[m] + csum[tok_at] - csum[first_tok[seg]])
    post = np.array(post)
    post -= logsumexp(post, axis=0)
    return logsumexp(post[:, :, None] + np.stack(char_lp), axis=0)


@dataclass
class SystemScore:
    """Per-block totals of one system on one text: bits, characters, correct next-character
    guesses and the number of shared boundaries."""

    bits: np.ndarray
    chars: np.ndarray
    correct: np.ndarray
    boundaries: np.ndarray

    @property
    def bpc(self) -> float:
        return float(self.bits.sum() / self.chars.sum())

    @property
    def accuracy(self) -> float:
        return float(self.correct.sum() / self.boundaries.sum())


def system_score(nll_nats: np.ndarray, nll_positions: np.ndarray, char_lp: np.ndarray,
                 char_positions: np.ndarray, char_targets: np.ndarray,
                 block_starts: np.ndarray, n_chars: int) -> SystemScore:
    """Per-block bits (from per-unit NLLs at their start positions) and next-char hits."""
    n_blocks = block_starts.size
    bits = np.bincount(block_ids(nll_positions, block_starts), weights=nll_nats / LOG2,
                       minlength=n_blocks)
    chars = np.diff(np.append(block_starts, n_chars)).astype(float)
    blk = block_ids(char_positions, block_starts)
    hit = (char_lp.argmax(axis=1) == char_targets).astype(float)
    return SystemScore(bits, chars, np.bincount(blk, weights=hit, minlength=n_blocks),
                       np.bincount(blk, minlength=n_blocks).astype(float))

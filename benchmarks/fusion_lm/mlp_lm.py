"""A fixed-window MLP language model in numpy (Bengio et al., 2003), trained with Adam.

``h = tanh(concat(E[x_{t-k}], ..., E[x_{t-1}]) W1 + b1)``, ``logits = h W2 + b2``. The gradients
are written out by hand; the input embeddings ``E`` are what the fusion's transfer matrices use.
The model satisfies :class:`llmcopula.fusion.LanguageModel`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import log_softmax

__all__ = ["MLPLanguageModel", "context_windows"]


def context_windows(ids: np.ndarray, k: int) -> np.ndarray:
    """Row ``t`` holds the ``k`` ids before position ``t`` (padded with 0), shape (n, k)."""
    padded = np.concatenate([np.zeros(k, dtype=np.int64), ids])
    return np.lib.stride_tricks.sliding_window_view(padded, k)[: ids.size]


class MLPLanguageModel:
    """Fixed-window neural LM over a tokenizer's vocabulary (see the module docstring)."""

    def __init__(self, tokenizer, *, context: int, dim: int, hidden: int, seed: int) -> None:
        self.tokenizer = tokenizer
        self.context = context
        rng = np.random.default_rng(seed)
        V = len(tokenizer.vocabulary)
        self.E = (0.1 * rng.normal(size=(V, dim))).astype(np.float32)
        fan_in = context * dim
        self.W1 = (rng.normal(size=(fan_in, hidden)) / np.sqrt(fan_in)).astype(np.float32)
        self.b1 = np.zeros(hidden, dtype=np.float32)
        self.W2 = (rng.normal(size=(hidden, V)) / np.sqrt(hidden)).astype(np.float32)
        self.b2 = np.zeros(V, dtype=np.float32)

    # --------------------------------------------------------------- LanguageModel protocol
    @property
    def vocabulary(self) -> Sequence[str]:
        return self.tokenizer.vocabulary

    @property
    def input_embeddings(self) -> np.ndarray:
        return self.E.astype(np.float64)

    @property
    def eos_token_id(self) -> int | None:
        return None

    def next_token_logprobs(self, prefix: str) -> np.ndarray:
        return self.logprobs(self.contexts_for_prefixes([prefix]))[0]

    def decode(self, token_ids: Sequence[int]) -> str:
        return self.tokenizer.decode(token_ids)

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    # --------------------------------------------------------------- batched use
    def contexts_for_prefixes(self, prefixes: Sequence[str], window: int = 64) -> np.ndarray:
        """The last ``context`` ids of each prefix's own tokenisation (of its last ``window``
        characters, which covers the context), padded with 0."""
        encoded = self.tokenizer.encode_batch([p[-window:] for p in prefixes])
        out = np.zeros((len(prefixes), self.context), dtype=np.int64)
        for i, ids in enumerate(encoded):
            tail = ids[-self.context:]
            if tail:
                out[i, self.context - len(tail):] = tail
        return out

    def _forward(self, ctx: np.ndarray):
        x = self.E[ctx].reshape(ctx.shape[0], -1)
        h = np.tanh(x @ self.W1 + self.b1)
        return x, h, h @ self.W2 + self.b2

    def logprobs(self, ctx: np.ndarray, batch: int = 4096) -> np.ndarray:
        """Next-token log-probabilities (float64) for context windows ``ctx`` (n, k)."""
        out = [log_softmax(self._forward(ctx[i:i + batch])[2].astype(np.float64), axis=1)
               for i in range(0, ctx.shape[0], batch)]
        return np.concatenate(out) if out else np.zeros((0, len(self.vocabulary)))

    def fit(self, ids: np.ndarray, *, steps: int, batch: int = 256, lr: float = 3e-3,
            seed: int = 0) -> list[float]:
        """Minibatch Adam on the cross-entropy of ``ids`` (one long token stream)."""
        rng = np.random.default_rng(seed)
        ctx_all = context_windows(ids, self.context)
        params = [self.E, self.W1, self.b1, self.W2, self.b2]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        losses = []
        for t in range(1, steps + 1):
            rows = rng.integers(0, ids.size, size=batch)
            ctx, y = ctx_all[rows], ids[rows]
            x, h, logits = self._forward(ctx)
            logits = logits - logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            losses.append(float(-np.log(p[np.arange(batch), y] + 1e-30).mean()))
            d = p
            d[np.arange(batch), y] -= 1.0
            d /= batch
            gW2, gb2 = h.T @ d, d.sum(axis=0)
            dpre = (d @ self.W2.T) * (1.0 - h * h)
            gW1, gb1 = x.T @ dpre, dpre.sum(axis=0)
            # Scatter-add of the context gradients as a one-hot product (np.add.at is slower).
            onehot = np.zeros((ctx.size, self.E.shape[0]), dtype=np.float32)
            onehot[np.arange(ctx.size), ctx.ravel()] = 1.0
            gE = onehot.T @ (dpre @ self.W1.T).reshape(-1, self.E.shape[1])
            lr_t = lr * 0.5 * (1 + np.cos(np.pi * t / steps))  # cosine decay to 0
            for P, G, M, Vv in zip(params, [gE, gW1, gb1, gW2, gb2], m, v):
                M *= 0.9
                M += 0.1 * G
                Vv *= 0.999
                Vv += 0.001 * G * G
                P -= lr_t * (M / (1 - 0.9**t)) / (np.sqrt(Vv / (1 - 0.999**t)) + 1e-8)
        return losses

"""What the fusion needs from a language model, as a structural ``typing.Protocol``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_finite_array
from .anchors import SPACE_MARKER

__all__ = ["LanguageModel", "FunctionLanguageModel"]


@runtime_checkable
class LanguageModel(Protocol):
    """A causal language model seen through its vocabulary, embeddings and next-token law.

    Each model keeps its own tokenizer: the fusion only ever hands it *text* and asks for the
    distribution of the next token in *its* vocabulary. A main model may also offer
    ``tokenize(text) -> sequence of int`` (its canonical token ids, no special tokens), which
    ``DeePEnFusion(transfer="main-pieces")`` needs; it is not part of the protocol.

    Attributes
    ----------
    vocabulary : sequence of str
        ``vocabulary[i]`` is the string of token id ``i`` as the tokenizer stores it (with its
        space marker, e.g. ``"Ġthe"`` or ``"▁the"``), length ``|V|``.
    input_embeddings : ndarray, shape (|V|, d)
        The input (token) embedding matrix; only cosine similarities of its rows are used.
    eos_token_id : int or None
        End-of-sequence id, if the model has one.
    """

    @property
    def vocabulary(self) -> Sequence[str]: ...

    @property
    def input_embeddings(self) -> NDArray[np.float64]: ...

    @property
    def eos_token_id(self) -> int | None: ...

    def next_token_logprobs(self, prefix: str) -> NDArray[np.float64]:
        """Log-probabilities (or logits) of the next token after the text ``prefix``, (|V|,)."""
        ...

    def decode(self, token_ids: Sequence[int]) -> str:
        """The text of a sequence of token ids."""
        ...


class FunctionLanguageModel:
    """A :class:`LanguageModel` assembled from a vocabulary, an embedding matrix and a function.

    Parameters
    ----------
    vocabulary : sequence of str
    input_embeddings : array_like, shape (|V|, d)
    next_token_logprobs : callable ``str -> array (|V|,)``
    eos_token_id : int, optional
    decoder : callable ``Sequence[int] -> str``, optional
        Defaults to concatenating the token strings with ``▁`` and ``Ġ`` turned into spaces.
    tokenizer : callable ``str -> Sequence[int]``, optional
        Becomes the model's ``tokenize`` method (see :class:`LanguageModel`).

    Examples
    --------
    >>> import numpy as np
    >>> lm = FunctionLanguageModel(["a", "b"], np.eye(2), lambda s: np.log([0.9, 0.1]))
    >>> lm.decode([0, 1, 0]), lm.next_token_logprobs("ab").argmax()
    ('aba', np.int64(0))
    """

    def __init__(self, vocabulary: Sequence[str], input_embeddings: ArrayLike,
                 next_token_logprobs: Callable[[str], ArrayLike], *,
                 eos_token_id: int | None = None,
                 decoder: Callable[[Sequence[int]], str] | None = None,
                 tokenizer: Callable[[str], Sequence[int]] | None = None) -> None:
        if len(vocabulary) == 0:
            raise ValueError("vocabulary: must not be empty")
        E = check_finite_array(input_embeddings, "input_embeddings", ndim=2)
        if E.shape[0] != len(vocabulary):
            raise ValueError(
                f"input_embeddings: has {E.shape[0]} rows but the vocabulary has "
                f"{len(vocabulary)} tokens"
            )
        if eos_token_id is not None and not 0 <= eos_token_id < len(vocabulary):
            raise ValueError(f"eos_token_id: {eos_token_id} is not a token id")
        self._vocabulary = tuple(vocabulary)
        self._embeddings = E
        self._fn = next_token_logprobs
        self._eos = eos_token_id
        self._decoder = decoder
        if tokenizer is not None:
            if not callable(tokenizer):
                raise ValueError("tokenizer: expected a callable str -> sequence of int")
            self.tokenize = tokenizer

    @property
    def vocabulary(self) -> Sequence[str]:
        return self._vocabulary

    @property
    def input_embeddings(self) -> NDArray[np.float64]:
        return self._embeddings

    @property
    def eos_token_id(self) -> int | None:
        return self._eos

    def next_token_logprobs(self, prefix: str) -> NDArray[np.float64]:
        return np.asarray(self._fn(prefix), dtype=np.float64)

    def decode(self, token_ids: Sequence[int]) -> str:
        if self._decoder is not None:
            return self._decoder(token_ids)
        text = "".join(self._vocabulary[i] for i in token_ids)
        return text.replace(SPACE_MARKER, " ").replace("\u0120", " ")

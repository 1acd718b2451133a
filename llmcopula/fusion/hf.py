"""Optional adapter: a Hugging Face ``transformers`` causal LM as a :class:`LanguageModel`.

Needs the ``hf`` extra (``pip install 'llmcopula[hf]'``: torch, transformers, tokenizers);
nothing is imported until an adapter is built, and nothing is downloaded: pass a model and a
tokenizer you have already loaded (``from_pretrained`` on a local path, or built from a config).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["HuggingFaceLanguageModel"]

_EXTRA_HINT = (
    "the Hugging Face adapter needs torch and transformers; install them with "
    "`pip install 'llmcopula[hf]'`"
)


def _import_torch() -> Any:
    try:
        import torch
        import transformers  # noqa: F401
    except ImportError as err:
        raise ImportError(_EXTRA_HINT) from err
    return torch


class HuggingFaceLanguageModel:
    """Wrap a ``transformers`` causal LM and its tokenizer for :class:`DeePEnFusion`.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A causal LM (``model(input_ids).logits`` of shape ``(1, n, |V|)``).
    tokenizer : transformers.PreTrainedTokenizerBase
        Its tokenizer; ``convert_ids_to_tokens`` gives the vocabulary strings (with ``Ġ`` or
        ``▁`` markers), which the anchor search normalises.
    add_special_tokens : bool, default True
        Passed to the tokenizer when encoding a prefix (e.g. to prepend BOS).
    max_context : int, optional
        Keep only the last ``max_context`` tokens of a prefix.

    Notes
    -----
    The vocabulary has one entry per row of the input-embedding matrix; rows beyond the
    tokenizer's size (padding added for hardware efficiency) get the placeholder
    ``"<unused:i>"``, which is never an anchor. An empty prefix is encoded as the BOS token (or
    EOS when there is no BOS).

    Examples
    --------
    >>> from transformers import AutoModelForCausalLM, AutoTokenizer  # doctest: +SKIP
    >>> tok = AutoTokenizer.from_pretrained("/path/to/local/model")  # doctest: +SKIP
    >>> lm = HuggingFaceLanguageModel(
    ...     AutoModelForCausalLM.from_pretrained("/path/to/local/model"), tok)  # doctest: +SKIP
    """

    def __init__(self, model: Any, tokenizer: Any, *, add_special_tokens: bool = True,
                 max_context: int | None = None) -> None:
        self._torch = _import_torch()
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.add_special_tokens = add_special_tokens
        self.max_context = max_context
        weight = model.get_input_embeddings().weight
        self._embeddings = weight.detach().to(self._torch.float64).cpu().numpy()
        n_rows, n_tok = self._embeddings.shape[0], len(tokenizer)
        known = tokenizer.convert_ids_to_tokens(list(range(min(n_rows, n_tok))))
        self._vocabulary = tuple(known) + tuple(f"<unused:{i}>" for i in range(n_tok, n_rows))
        if n_tok > n_rows:
            raise ValueError(
                f"tokenizer: has {n_tok} tokens but the model embeds only {n_rows}"
            )

    @property
    def vocabulary(self) -> Sequence[str]:
        return self._vocabulary

    @property
    def input_embeddings(self) -> NDArray[np.float64]:
        return self._embeddings

    @property
    def eos_token_id(self) -> int | None:
        eos = self.tokenizer.eos_token_id
        return None if eos is None else int(eos)

    def _encode(self, prefix: str) -> list[int]:
        ids = list(self.tokenizer(prefix, add_special_tokens=self.add_special_tokens)["input_ids"])
        if not ids:
            start = self.tokenizer.bos_token_id
            start = self.tokenizer.eos_token_id if start is None else start
            if start is None:
                raise ValueError("prefix: empty, and the tokenizer has neither BOS nor EOS")
            ids = [int(start)]
        if self.max_context is not None:
            ids = ids[-self.max_context:]
        return ids

    def next_token_logprobs(self, prefix: str) -> NDArray[np.float64]:
        torch = self._torch
        ids = torch.tensor([self._encode(prefix)], dtype=torch.long)
        with torch.no_grad():
            logits = self.model(input_ids=ids).logits[0, -1].to(torch.float64)
        return torch.log_softmax(logits, dim=-1).cpu().numpy()[: len(self._vocabulary)]

    def decode(self, token_ids: Sequence[int]) -> str:
        return str(self.tokenizer.decode(list(token_ids)))

    def tokenize(self, text: str) -> list[int]:
        """The tokenizer's ids of ``text`` without special tokens (for
        ``DeePEnFusion(transfer="main-pieces")``)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

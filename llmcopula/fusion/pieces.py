"""The pieces a model's tokenizer cuts a word into, for transfers that follow the main model.

An assistant's token (or the rest of a word an assistant expects) is best sent to the anchor
that the *main* model would write first for the same text: ``▁Nebuchadnezzar`` of an assistant
goes to ``▁Ne`` if the main model's tokenizer writes ``▁Ne|bu|chad|nezzar``, even when ``▁Neb``
is also a shared token. :class:`TokenPieces` answers "which piece does the main model's
tokenizer write at this offset of this word" from any ``tokenize(text) -> ids`` function.
``docs/fusion.md`` explains where this matters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .anchors import normalize_token

__all__ = ["TokenPieces"]


class TokenPieces:
    """A tokenizer's pieces of words, as normalised token strings (cached per word).

    Parameters
    ----------
    tokenize : callable ``str -> sequence of int``
        The model's canonical token ids of a text (no special tokens added).
    vocabulary : sequence of str
        The model's token strings.
    normalize : bool, default True
        Map space markers to ``▁`` (:func:`~llmcopula.fusion.anchors.normalize_token`).

    Examples
    --------
    >>> vocab = ["a", "b", "ab", "ba"]
    >>> def tokenize(text):  # greedy longest match, a toy tokenizer
    ...     ids, i = [], 0
    ...     while i < len(text):
    ...         n = 2 if text[i:i + 2] in vocab else 1
    ...         ids.append(vocab.index(text[i:i + n]))
    ...         i += n
    ...     return ids
    >>> pieces = TokenPieces(tokenize, vocab)
    >>> pieces.pieces("abba"), pieces.piece_at("abba", 2), pieces.piece_at("abba", 1)
    (['ab', 'ba'], 'ba', None)
    """

    def __init__(self, tokenize: Callable[[str], Sequence[int]], vocabulary: Sequence[str], *,
                 normalize: bool = True) -> None:
        if not callable(tokenize):
            raise ValueError(f"tokenize: expected a callable, got {type(tokenize).__name__}")
        self._tokenize = tokenize
        self._strings = [normalize_token(t) if normalize else t for t in vocabulary]
        self._normalize = normalize
        self._cache: dict[str, list[str] | None] = {}

    def norm(self, text: str) -> str:
        return normalize_token(text) if self._normalize else text

    def pieces(self, word: str) -> list[str] | None:
        """The normalised piece strings of ``word``, or None if they do not spell it (a
        tokenizer that adds or rewrites characters, e.g. byte-fallback tokens)."""
        key = self.norm(word)
        if key not in self._cache:
            text = key.replace("\u2581", " ") if self._normalize else key
            out = [self._strings[i] for i in self._tokenize(text)]
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key] = out if "".join(out) == key else None
        return self._cache[key]

    def piece_at(self, word: str, offset: int) -> str | None:
        """The piece that starts at character ``offset`` of ``word``; None if the tokenizer
        has no piece boundary there. If the pieces cannot be aligned with the word, the rest of
        the word ``word[offset:]`` is returned instead."""
        found = self.pieces(word)
        if found is None:
            return self.norm(word)[offset:]
        pos = 0
        for piece in found:
            if pos == offset:
                return piece
            pos += len(piece)
            if pos > offset:
                return None
        return None

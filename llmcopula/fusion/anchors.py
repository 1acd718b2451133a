"""Anchor tokens: the token strings that every vocabulary of an ensemble shares.

DeePEn (Huang et al., 2024, arXiv 2404.12715) expresses every token of every model by its
similarity to a common set of *anchor* tokens. The anchors are the intersection of the models'
vocabularies after one normalisation of the word-boundary marker, so that the byte-level BPE
marker ``Ġ`` (GPT-2 style) and the SentencePiece marker ``▁`` (LLaMA style) denote the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["SPACE_MARKER", "AnchorSet", "normalize_token", "common_anchors"]

SPACE_MARKER = "\u2581"
"""The SentencePiece word-boundary marker ``▁`` every space marker is mapped to."""

_DEFAULT_SPACE_ALIASES = ("\u0120", " ")  # byte-level BPE "Ġ" and a literal space


def normalize_token(token: str, *, space_aliases: Sequence[str] = _DEFAULT_SPACE_ALIASES) -> str:
    """Map every space-marker alias in ``token`` to the SentencePiece marker ``▁``.

    Parameters
    ----------
    token : str
        A token string as stored in a vocabulary (``"Ġthe"``, ``"▁the"``, ``" "``).
    space_aliases : sequence of str, default ``("Ġ", " ")``
        Characters that stand for a space. The reference implementation maps only ``Ġ``; we also
        map a literal space, so that character-level vocabularies (which store ``" "``) share
        their space token with subword vocabularies.

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_token("\u0120the") == normalize_token("\u2581the") == "\u2581the"
    True
    >>> normalize_token(" ")
    '▁'
    """
    for alias in space_aliases:
        token = token.replace(alias, SPACE_MARKER)
    return token


@dataclass(frozen=True)
class AnchorSet:
    """The anchors shared by ``K`` vocabularies.

    Attributes
    ----------
    tokens : tuple of str
        The normalised anchor strings, sorted, length ``|A|``.
    indices : tuple of ndarray of int
        ``indices[m][j]`` is the id of anchor ``tokens[j]`` in vocabulary ``m``.
    vocab_sizes : tuple of int
        ``|V_m|`` for every model.
    """

    tokens: tuple[str, ...]
    indices: tuple[NDArray[np.intp], ...]
    vocab_sizes: tuple[int, ...]

    @property
    def n_anchors(self) -> int:
        """Number of anchors ``|A|``."""
        return len(self.tokens)

    def coverage(self) -> NDArray[np.float64]:
        """Fraction of each vocabulary that are anchors, ``|A| / |V_m|``, shape ``(K,)``."""
        return self.n_anchors / np.asarray(self.vocab_sizes, dtype=np.float64)


def common_anchors(vocabularies: Sequence[Sequence[str]], *, normalize: bool = True,
                   space_aliases: Sequence[str] = _DEFAULT_SPACE_ALIASES) -> AnchorSet:
    """Find the tokens that every vocabulary contains, and their ids in each.

    Parameters
    ----------
    vocabularies : sequence of sequences of str
        ``vocabularies[m][i]`` is the string of token id ``i`` of model ``m``.
    normalize : bool, default True
        Apply :func:`normalize_token` before intersecting.
    space_aliases : sequence of str
        Passed to :func:`normalize_token`.

    Returns
    -------
    AnchorSet

    Raises
    ------
    ValueError
        If fewer than one vocabulary is given, a vocabulary is empty, or no token is shared.

    Notes
    -----
    If two ids of one vocabulary normalise to the same string (for example both ``" a"`` and
    ``"▁a"`` exist), the smallest id is used, so that the result does not depend on dictionary
    order.

    Examples
    --------
    >>> a = common_anchors([["a", "b", "\u0120c"], ["\u2581c", "a", "d"]])
    >>> a.tokens
    ('a', '▁c')
    >>> [idx.tolist() for idx in a.indices]
    [[0, 2], [1, 0]]
    """
    if len(vocabularies) < 1:
        raise ValueError("vocabularies: expected at least one vocabulary, got none")
    lookups: list[dict[str, int]] = []
    for m, vocab in enumerate(vocabularies):
        if len(vocab) == 0:
            raise ValueError(f"vocabularies: vocabulary {m} is empty")
        lookup: dict[str, int] = {}
        for i, tok in enumerate(vocab):
            key = normalize_token(tok, space_aliases=space_aliases) if normalize else tok
            lookup.setdefault(key, i)
        lookups.append(lookup)
    shared = set(lookups[0]).intersection(*lookups[1:])
    if not shared:
        raise ValueError(
            f"vocabularies: the {len(vocabularies)} vocabularies share no token"
            + (" even after space-marker normalisation" if normalize else "")
        )
    tokens = tuple(sorted(shared))
    indices = tuple(np.array([lk[t] for t in tokens], dtype=np.intp) for lk in lookups)
    return AnchorSet(tokens=tokens, indices=indices,
                     vocab_sizes=tuple(len(v) for v in vocabularies))

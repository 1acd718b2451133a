"""Word-start lookahead: what an assistant expects next when the text stops inside a word.

DeePEn hands every model the same text and lets each tokenise it its own way. When the main
model's last token ends inside a word that an assistant would have tokenised differently (the
main model wrote ``"Neb"``, the assistant has the single token ``"Nebuchadnezzar"``), the
assistant sees a token sequence it never saw in training, and its next-token distribution is
poor. The lookahead asks the assistant instead at the start of the word, where its tokenisation
is the one it was trained on, and keeps the tokens that agree with the partial word ``s``:

.. math::

    r = \\frac{\\sum_{t \\sqsupset s} P(t)\\, e_{g(t \\setminus s)}
              + P(\\mathrm{Pre}(s))\\, r_{\\mathrm{ref}}}
             {\\sum_{t \\sqsupset s} P(t) + P(\\mathrm{Pre}(s))},

where ``P`` is the assistant's next-token distribution at the word start, ``t ⊐ s`` are its
tokens that extend ``s``, ``t \\ s`` is what remains of ``t`` after ``s``, ``g(x)`` is the anchor
that is the longest prefix of ``x`` (as in
:func:`~llmcopula.fusion.transfer.shared_prefix_transfer`), ``Pre(s)`` are its tokens that are
prefixes of ``s`` (``s`` itself included: after them the assistant's next token is what the direct
query at the full text gives), and ``r_ref`` is the relative distribution of that direct query.
Remainders without an anchor prefix are counted with ``Pre(s)``. With the main model's
tokenizer (``pieces``), the rest of the word is cut the way the main model would cut the whole
word, and its next piece is used instead of ``g(t \\ s)``; continuations that the main model's
tokenizer would not cut where the main model's partial word ends are left out. ``docs/fusion.md``
describes where this helps and by how much.

Where a word starts depends on the vocabulary: SentencePiece and byte-level BPE vocabularies
attach the space to the next word (``"▁the"``), so the word starts *before* the space;
vocabularies whose space is a token of its own start the word *after* it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_softmax

from .._validation import check_finite_array
from .anchors import SPACE_MARKER, normalize_token
from .pieces import TokenPieces
from .transfer import _longest_prefix

__all__ = ["is_space_prefixed", "split_partial_word", "word_start_relative"]


def is_space_prefixed(vocabulary: Sequence[str]) -> bool:
    """Whether the vocabulary attaches spaces to the following word (``"▁the"``, ``"Ġthe"``).

    True if some token of two or more characters starts with a space marker and is not made of
    space markers only.

    Examples
    --------
    >>> is_space_prefixed(["\\u0120the", "a"]), is_space_prefixed(["\\u2581", "the"])
    (True, False)
    """
    for tok in vocabulary:
        s = normalize_token(tok)
        if len(s) > 1 and s[0] == SPACE_MARKER and s.strip(SPACE_MARKER):
            return True
    return False


def split_partial_word(prefix: str, *, space_prefixed: bool) -> tuple[str, str]:
    """Split a text into the text up to the start of its last word and the partial last word.

    The last word starts after the last whitespace character, or at that character when it is
    a space and ``space_prefixed`` is true. A text that ends where a word may start returns an
    empty partial word.

    Examples
    --------
    >>> split_partial_word("the king of Bab", space_prefixed=False)
    ('the king of ', 'Bab')
    >>> split_partial_word("the king of Bab", space_prefixed=True)
    ('the king of', ' Bab')
    >>> split_partial_word("the king ", space_prefixed=False)
    ('the king ', '')
    """
    i = max(prefix.rfind(c) for c in (" ", "\n", "\t", "\r"))
    start = i if (space_prefixed and i >= 0 and prefix[i] == " ") else i + 1
    return prefix[:start], prefix[start:]


def word_start_relative(word_start_logits: ArrayLike, partials: Sequence[str],
                        vocabulary: Sequence[str], anchor_tokens: Sequence[str],
                        reference: ArrayLike, *, normalize: bool = True,
                        pieces: TokenPieces | None = None,
                        main_partials: Sequence[str] | None = None) -> NDArray[np.float64]:
    """An assistant's relative distribution inside a word, from its distribution at the word start.

    See the module docstring for the formula.

    Parameters
    ----------
    word_start_logits : array_like, shape (n, |V|)
        The assistant's next-token logits (or log-probabilities) at the start of each row's word.
    partials : sequence of n str
        The partial word of each row (text, spaces as ``" "``); an empty string keeps the
        reference row.
    vocabulary : sequence of str
        The assistant's token strings.
    anchor_tokens : sequence of str
        The anchors' normalised strings (``AnchorSet.tokens``).
    reference : array_like, shape (n, |A|)
        The assistant's relative distribution from the direct query at the full text.
    normalize : bool, default True
        Normalise space markers in ``vocabulary`` and ``partials``.
    pieces : TokenPieces, optional
        The main model's tokenizer; see the module docstring.
    main_partials : sequence of n str, optional
        The main model's partial word of each row (needed with ``pieces``; it differs from
        ``partials`` when only one of the vocabularies attaches spaces to words).

    Returns
    -------
    ndarray, shape (n, |A|)

    Examples
    --------
    At the word start the assistant is sure of "abc"; inside the word, after "a", the lookahead
    expects "bc", whose longest anchor prefix is "b":

    >>> import numpy as np
    >>> vocab, anchors = ["a", "b", "abc"], ["a", "b"]
    >>> word_start_relative(np.log([[0.05, 0.05, 0.9]]), ["a"], vocab, anchors,
    ...                     reference=[[0.5, 0.5]]).round(3)
    array([[0.026, 0.974]])
    """
    Z = check_finite_array(word_start_logits, "word_start_logits", ndim=2)
    R = check_finite_array(reference, "reference", ndim=2)
    n, n_vocab = Z.shape
    if n_vocab != len(vocabulary):
        raise ValueError(f"word_start_logits: has {n_vocab} columns but the vocabulary has "
                         f"{len(vocabulary)} tokens")
    if len(partials) != n:
        raise ValueError(f"partials: expected {n} strings (one per row), got {len(partials)}")
    if R.shape != (n, len(anchor_tokens)):
        raise ValueError(f"reference: expected shape {(n, len(anchor_tokens))}, got {R.shape}")
    if (R < 0).any():
        raise ValueError("reference: must be non-negative (distributions over anchors)")
    if pieces is not None and (main_partials is None or len(main_partials) != n):
        raise ValueError("main_partials: needed with pieces, one string per row")
    index = _PrefixIndex(vocabulary, normalize=normalize)
    partials = [index.norm(s) for s in partials]
    return _word_start_relative(Z, partials, index, anchor_tokens, R, pieces=pieces,
                                main_partials=main_partials)


class _PrefixIndex:
    """The tokens that extend a string, and those that are prefixes of it, by sorted search."""

    def __init__(self, vocabulary: Sequence[str], *, normalize: bool) -> None:
        self.normalize = normalize
        self.strings = [self.norm(t) for t in vocabulary]
        self.order = sorted(range(len(self.strings)), key=self.strings.__getitem__)
        self.keys = [self.strings[v] for v in self.order]
        self.ids_of: dict[str, list[int]] = {}
        for v, s in enumerate(self.strings):
            self.ids_of.setdefault(s, []).append(v)

    def norm(self, s: str) -> str:
        return normalize_token(s) if self.normalize else s

    def extending(self, s: str) -> NDArray[np.intp]:
        lo = bisect.bisect_left(self.keys, s)
        hi = bisect.bisect_left(self.keys, s + "\U0010ffff")
        return np.array([v for v in self.order[lo:hi] if len(self.strings[v]) > len(s)],
                        dtype=np.intp)

    def prefixes(self, s: str) -> list[int]:
        return [v for k in range(1, len(s) + 1) for v in self.ids_of.get(s[:k], ())]


def _word_start_relative(Z: NDArray[np.float64], partials: Sequence[str], index: _PrefixIndex,
                         anchor_tokens: Sequence[str], R: NDArray[np.float64], *,
                         pieces: TokenPieces | None = None,
                         main_partials: Sequence[str] | None = None) -> NDArray[np.float64]:
    """:func:`word_start_relative` on checked arrays and normalised partial words."""
    P = np.exp(log_softmax(Z, axis=1))
    anchor_index = {t: j for j, t in enumerate(anchor_tokens)}
    out = R.copy()
    if pieces is None:
        keys = [(s, "") for s in partials]
    else:
        keys = [(s, pieces.norm(m)) for s, m in zip(partials, main_partials or ())]
    rows_of: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(keys):
        rows_of.setdefault(key, []).append(i)
    for (s, main_partial), row_list in rows_of.items():
        if not s:
            continue
        rows = np.asarray(row_list, dtype=np.intp)
        extending = index.extending(s)
        rests = [index.strings[v][len(s):] for v in extending]
        if pieces is not None:
            cut = [pieces.piece_at(main_partial + r, len(main_partial)) for r in rests]
            consistent = np.array([c is not None for c in cut], dtype=bool)
            extending = extending[consistent]
            rests = [c for c in cut if c is not None]
        groups = _longest_prefix(rests, anchor_index)
        known = groups >= 0
        to_reference = np.concatenate([np.asarray(index.prefixes(s), dtype=np.intp),
                                       extending[~known]])
        Pr = P[rows]
        # Sum the extending tokens' mass by anchor: a small dense one-hot over the anchors hit.
        hit, inverse = np.unique(groups[known], return_inverse=True)
        num = np.zeros((rows.size, R.shape[1]))
        num[:, hit] = Pr[:, extending[known]] @ np.eye(hit.size)[inverse]
        num += Pr[:, to_reference].sum(axis=1)[:, None] * R[rows]
        total = num.sum(axis=1)
        ok = total > 0
        out[rows[ok]] = num[ok] / total[ok, None]
    return out

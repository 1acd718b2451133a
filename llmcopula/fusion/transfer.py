"""Relative representations and the probability transfer matrices of DeePEn.

Each model's tokens are described by their cosine similarities to the shared anchors,
``R[v, a] = cos(E[v], E[a])``. Cosine similarity is invariant to rotations and rescaling of the
embedding space, which is what makes the representations of different models comparable. DeePEn
turns ``R`` into a row-stochastic *transfer matrix*
``T[v, :] = softmax(tau * R[v, :] / ||R[v, :]||_2)`` (the row L2 normalisation and the sharp
softmax counter what the paper calls relative representation degeneration), and maps a
next-token distribution ``p`` over the model's vocabulary to a distribution ``p @ T`` over the
anchors.

:func:`shared_prefix_transfer` is a second, string-based transfer: every token is sent, with
probability one, to the longest anchor that is a prefix of its string (an anchor to itself, a
token that only one vocabulary has to its first piece in the shared vocabulary). It needs no
embeddings, is exact on anchors, and is stored as a sparse matrix. ``docs/fusion.md`` explains
when each transfer is the better choice.

Every function that applies a transfer matrix accepts a dense array or a ``scipy.sparse`` matrix.

References
----------
Huang, Feng, Li, Xiang, Wang, Qin, Liu (2024). Ensemble Learning for Heterogeneous Large Language
Models with Deep Parallel Collaboration. NeurIPS 2024, arXiv:2404.12715.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.special import softmax

from .._validation import check_finite_array
from .anchors import _DEFAULT_SPACE_ALIASES, normalize_token
from .pieces import TokenPieces

__all__ = [
    "Transfer",
    "relative_representation",
    "transfer_matrix",
    "shared_prefix_transfer",
    "longest_anchor_prefix",
    "check_transfer",
    "to_relative",
]

Transfer: TypeAlias = "NDArray[np.float64] | sp.csr_array"
"""A transfer matrix: a dense array or a sparse CSR array of shape ``(|V|, |A|)``."""


def _check_anchor_idx(anchor_idx: ArrayLike, n_vocab: int) -> NDArray[np.intp]:
    idx = np.asarray(anchor_idx)
    if idx.ndim != 1 or idx.size == 0:
        raise ValueError(
            f"anchor_idx: expected a non-empty 1-d array of ids, got shape {idx.shape}"
        )
    if not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"anchor_idx: expected integer ids, got dtype {idx.dtype}")
    if idx.min() < 0 or idx.max() >= n_vocab:
        raise ValueError(
            f"anchor_idx: ids must lie in [0, {n_vocab}), got range [{idx.min()}, {idx.max()}]"
        )
    return idx.astype(np.intp)


def relative_representation(embeddings: ArrayLike, anchor_idx: ArrayLike) -> NDArray[np.float64]:
    """Cosine similarity of every token embedding to every anchor embedding.

    ``R[v, a] = <E[v], E[anchor_idx[a]]> / (||E[v]|| ||E[anchor_idx[a]]||)``; a zero embedding row
    has similarity 0 to everything.

    Parameters
    ----------
    embeddings : array_like, shape (|V|, d)
        The model's input-embedding matrix.
    anchor_idx : array_like of int, shape (|A|,)
        Ids of the anchors in this vocabulary.

    Returns
    -------
    ndarray, shape (|V|, |A|)

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    >>> relative_representation(E, [0, 1]).round(3)
    array([[1.   , 0.   ],
           [0.   , 1.   ],
           [0.707, 0.707]])
    """
    E = check_finite_array(embeddings, "embeddings", ndim=2)
    if E.shape[0] == 0 or E.shape[1] == 0:
        raise ValueError(f"embeddings: expected a non-empty (|V|, d) matrix, got shape {E.shape}")
    idx = _check_anchor_idx(anchor_idx, E.shape[0])
    norms = np.linalg.norm(E, axis=1)
    unit = np.divide(E, norms[:, None], out=np.zeros_like(E), where=norms[:, None] > 0)
    return unit @ unit[idx].T


def transfer_matrix(embeddings: ArrayLike, anchor_idx: ArrayLike, *,
                    tau: float = 100.0) -> NDArray[np.float64]:
    """DeePEn's row-stochastic probability transfer matrix of one model.

    ``T[v, :] = softmax(tau * R[v, :] / ||R[v, :]||_2)`` with ``R`` from
    :func:`relative_representation`. A row of ``R`` that is identically zero gives a uniform row.

    Parameters
    ----------
    embeddings : array_like, shape (|V|, d)
    anchor_idx : array_like of int, shape (|A|,)
    tau : float, default 100
        Softmax temperature (the paper's and the reference code's value is 100).

    Returns
    -------
    ndarray, shape (|V|, |A|)
        Non-negative, every row sums to 1.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> T = transfer_matrix(rng.normal(size=(30, 8)), np.arange(10))
    >>> T.shape, bool(np.allclose(T.sum(axis=1), 1.0))
    ((30, 10), True)
    """
    _check_tau(tau)
    R = relative_representation(embeddings, anchor_idx)
    return _softmax_rows(R, tau)


def _check_tau(tau: float) -> None:
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau: must be a positive finite number, got {tau}")


def _softmax_rows(R: NDArray[np.float64], tau: float) -> NDArray[np.float64]:
    norms = np.linalg.norm(R, axis=1, keepdims=True)
    R = np.divide(R, norms, out=np.zeros_like(R), where=norms > 0)
    return softmax(tau * R, axis=1)


def longest_anchor_prefix(strings: Sequence[str], anchor_tokens: Sequence[str]
                          ) -> NDArray[np.intp]:
    """For every string, the position in ``anchor_tokens`` of its longest prefix that is an
    anchor, or -1 when none is (strings are compared as given, already normalised).

    Examples
    --------
    >>> longest_anchor_prefix(["▁the", "there", "xyz", ""], ["the", "t", "▁"]).tolist()
    [2, 0, -1, -1]
    """
    return _longest_prefix(strings, {t: j for j, t in enumerate(anchor_tokens)})


def _longest_prefix(strings: Sequence[str], index: dict[str, int]) -> NDArray[np.intp]:
    longest = max((len(t) for t in index), default=0)
    out = np.full(len(strings), -1, dtype=np.intp)
    for i, s in enumerate(strings):
        for n in range(min(len(s), longest), 0, -1):
            j = index.get(s[:n])
            if j is not None:
                out[i] = j
                break
    return out


def shared_prefix_transfer(vocabulary: Sequence[str], anchor_tokens: Sequence[str], *,
                           embeddings: ArrayLike | None = None,
                           anchor_idx: ArrayLike | None = None, tau: float = 100.0,
                           normalize: bool = True,
                           space_aliases: Sequence[str] = _DEFAULT_SPACE_ALIASES,
                           pieces: TokenPieces | None = None) -> sp.csr_array:
    """Transfer matrix that sends each token to the longest anchor prefixing its string.

    ``T[v, a] = 1`` if anchor ``a`` is the longest anchor that is a prefix of token ``v``'s
    (normalised) string. An anchor is therefore sent to itself, and a token that only this
    vocabulary has (``"▁Nebuchadnezzar"``) to its first piece in the shared vocabulary
    (``"▁Neb"``), which is where the other models put the mass of the same text. With
    ``pieces`` (the main model's tokenizer), a token is first cut the way the main model would
    cut its text, and its first piece is used instead (``"▁Ne"`` if the main model writes
    ``▁Ne|bu|chad|nezzar``). Tokens without any anchor prefix (special tokens) get the embedding
    row of :func:`transfer_matrix` when ``embeddings`` and ``anchor_idx`` are given, and a
    uniform row otherwise.

    Parameters
    ----------
    vocabulary : sequence of str
        The model's token strings, ``vocabulary[v]`` for id ``v``.
    anchor_tokens : sequence of str
        The anchors' normalised strings (``AnchorSet.tokens``); column ``a`` of the result is
        ``anchor_tokens[a]``.
    embeddings : array_like, shape (|V|, d), optional
    anchor_idx : array_like of int, shape (|A|,), optional
        The anchors' ids in this vocabulary; needed with ``embeddings``.
    tau : float, default 100
        Temperature of the embedding rows.
    normalize : bool, default True
        Normalise the space markers of ``vocabulary`` as :func:`~.anchors.normalize_token` does.
    space_aliases : sequence of str
        Passed to :func:`~.anchors.normalize_token`.
    pieces : TokenPieces, optional
        The main model's tokenizer (:class:`~llmcopula.fusion.pieces.TokenPieces`), for the
        transfer of an assistant's vocabulary.

    Returns
    -------
    scipy.sparse.csr_array, shape (|V|, |A|)
        Row-stochastic.

    Examples
    --------
    >>> T = shared_prefix_transfer(["a", "ab", "abc", "\u0120b", "<s>"], ["a", "ab", "\u2581"])
    >>> T.toarray().round(3)
    array([[1.   , 0.   , 0.   ],
           [0.   , 1.   , 0.   ],
           [0.   , 1.   , 0.   ],
           [0.   , 0.   , 1.   ],
           [0.333, 0.333, 0.333]])
    """
    if len(vocabulary) == 0:
        raise ValueError("vocabulary: must not be empty")
    if len(anchor_tokens) == 0:
        raise ValueError("anchor_tokens: must not be empty")
    _check_tau(tau)
    n_vocab, n_anchors = len(vocabulary), len(anchor_tokens)
    strings = ([normalize_token(t, space_aliases=space_aliases) for t in vocabulary]
               if normalize else list(vocabulary))
    if pieces is not None:
        strings = [(pieces.piece_at(t, 0) or t) if t else t for t in strings]
    target = longest_anchor_prefix(strings, anchor_tokens)
    rows = np.flatnonzero(target >= 0)
    missing = np.flatnonzero(target < 0)
    data = [np.ones(rows.size)]
    row_ids = [rows]
    col_ids = [target[rows]]
    if missing.size:
        if embeddings is not None:
            if anchor_idx is None:
                raise ValueError("anchor_idx: needed together with embeddings")
            E = check_finite_array(embeddings, "embeddings", ndim=2)
            if E.shape[0] != n_vocab:
                raise ValueError(
                    f"embeddings: has {E.shape[0]} rows but the vocabulary has {n_vocab} tokens")
            idx = _check_anchor_idx(anchor_idx, n_vocab)
            if idx.size != n_anchors:
                raise ValueError(
                    f"anchor_idx: expected {n_anchors} ids (one per anchor), got {idx.size}")
            fill = _softmax_rows(relative_representation(E, idx)[missing], tau)
        else:
            fill = np.full((missing.size, n_anchors), 1.0 / n_anchors)
        data.append(fill.ravel())
        row_ids.append(np.repeat(missing, n_anchors))
        col_ids.append(np.tile(np.arange(n_anchors), missing.size))
    return sp.csr_array((np.concatenate(data), (np.concatenate(row_ids), np.concatenate(col_ids))),
                        shape=(n_vocab, n_anchors))


def check_transfer(transfer: Any, name: str = "transfer") -> Transfer:
    """Validate a transfer matrix: 2-d, finite and non-negative, dense or ``scipy.sparse``.

    Returns a float64 ``ndarray`` or a float64 ``scipy.sparse.csr_array``.

    Examples
    --------
    >>> check_transfer([[0.5, 0.5]])
    array([[0.5, 0.5]])
    >>> check_transfer([[-1.0, 2.0]])
    Traceback (most recent call last):
    ...
    ValueError: transfer: must be non-negative (a row-stochastic matrix)
    """
    if sp.issparse(transfer):
        T = sp.csr_array(transfer, dtype=np.float64)
        if T.ndim != 2:
            raise ValueError(f"{name}: expected a 2-d matrix, got shape {T.shape}")
        check_finite_array(T.data, name)
        values = T.data
    else:
        T = check_finite_array(transfer, name, ndim=2)
        values = T
    if 0 in T.shape:
        raise ValueError(f"{name}: empty, shape {T.shape}; expected (|V|, |A|)")
    if (values < 0).any():
        raise ValueError(f"{name}: must be non-negative (a row-stochastic matrix)")
    return T


def _apply_transfer(x: NDArray[np.float64], transfer: Transfer) -> NDArray[np.float64]:
    """``x @ T`` over the last axis of ``x``, for a dense or sparse ``T``."""
    if not sp.issparse(transfer):
        return x @ transfer
    flat = x.reshape(-1, x.shape[-1])
    return np.asarray(transfer.T @ flat.T).T.reshape(x.shape[:-1] + (transfer.shape[1],))


def _apply_transfer_t(x: NDArray[np.float64], transfer: Transfer) -> NDArray[np.float64]:
    """``x @ T.T`` over the last axis of ``x``, for a dense or sparse ``T``."""
    if not sp.issparse(transfer):
        return x @ transfer.T
    flat = x.reshape(-1, x.shape[-1])
    return np.asarray(transfer @ flat.T).T.reshape(x.shape[:-1] + (transfer.shape[0],))


def to_relative(p: ArrayLike, transfer: ArrayLike) -> NDArray[np.float64]:
    """Map next-token distributions into the relative (anchor) space, ``r = p @ T``.

    Parameters
    ----------
    p : array_like, shape (..., |V|)
        Probability vectors over the model's vocabulary (each sums to 1).
    transfer : array_like or scipy.sparse matrix, shape (|V|, |A|)
        The model's transfer matrix.

    Returns
    -------
    ndarray, shape (..., |A|)
        Distributions over the anchors (on the simplex when ``p`` is and ``T`` is row-stochastic).

    Examples
    --------
    >>> import numpy as np
    >>> to_relative([0.5, 0.5], [[1.0, 0.0], [0.2, 0.8]])
    array([0.6, 0.4])
    """
    P = check_finite_array(p, "p")
    T = check_transfer(transfer)
    if P.ndim == 0 or P.shape[-1] != T.shape[0]:
        raise ValueError(
            f"p: last axis must match the transfer matrix's {T.shape[0]} rows, got shape {P.shape}"
        )
    return _apply_transfer(P, T)

"""Relative representations and the probability transfer matrices of DeePEn.

Each model's tokens are described by their cosine similarities to the shared anchors,
``R[v, a] = cos(E[v], E[a])``. Cosine similarity is invariant to rotations and rescaling of the
embedding space, which is what makes the representations of different models comparable. DeePEn
turns ``R`` into a row-stochastic *transfer matrix*
``T[v, :] = softmax(tau * R[v, :] / ||R[v, :]||_2)`` (the row L2 normalisation and the sharp
softmax counter what the paper calls relative representation degeneration), and maps a
next-token distribution ``p`` over the model's vocabulary to a distribution ``p @ T`` over the
anchors.

References
----------
Huang, Feng, Li, Xiang, Wang, Qin, Liu (2024). Ensemble Learning for Heterogeneous Large Language
Models with Deep Parallel Collaboration. NeurIPS 2024, arXiv:2404.12715.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import softmax

from .._validation import check_finite_array

__all__ = ["relative_representation", "transfer_matrix", "to_relative"]


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
    if not np.isfinite(tau) or tau <= 0:
        raise ValueError(f"tau: must be a positive finite number, got {tau}")
    R = relative_representation(embeddings, anchor_idx)
    norms = np.linalg.norm(R, axis=1, keepdims=True)
    R = np.divide(R, norms, out=np.zeros_like(R), where=norms > 0)
    return softmax(tau * R, axis=1)


def to_relative(p: ArrayLike, transfer: ArrayLike) -> NDArray[np.float64]:
    """Map next-token distributions into the relative (anchor) space, ``r = p @ T``.

    Parameters
    ----------
    p : array_like, shape (..., |V|)
        Probability vectors over the model's vocabulary (each sums to 1).
    transfer : array_like, shape (|V|, |A|)
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
    T = check_finite_array(transfer, "transfer", ndim=2)
    if P.ndim == 0 or P.shape[-1] != T.shape[0]:
        raise ValueError(
            f"p: last axis must match the transfer matrix's {T.shape[0]} rows, got shape {P.shape}"
        )
    return P @ T

"""Diagnostics of a cross-vocabulary fusion: anchors, transfer matrices and token flips.

None of these is in the DeePEn reference; they answer "can this ensemble be fused at all, and how
much did fusing change the output?":

* **anchor coverage**, ``|A| / |V_m|``: with few anchors the relative space is coarse;
* **anchor consistency**: for each anchor, the cosine between its relative representations
  (restricted to the anchor columns) in different models; low values mean the models' embedding
  geometries disagree about that token, so mass sent through it is mis-transferred;
* **conditioning of T**: the singular values of the main model's transfer matrix and of its
  ``|A| x |A|`` anchor block. A nearly singular ``T`` means many different main-model
  distributions map to the same anchor distribution, so the inverse search is ill-posed;
* **flip rate**: how often the fused token differs from the main model's greedy token;
* **anchor mass**: how much of each model's next-token probability falls on anchor tokens. The
  fusion changes the main model's distribution through the anchors only, so a main model that
  puts little mass there can hardly be helped; :class:`FusionCoverageWarning` says so, and names
  the model that would make a better main one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import entr

import scipy.sparse as sp
from scipy.special import log_softmax

from .._validation import check_finite_array
from .fuse import FusionOutput
from .transfer import _check_anchor_idx, check_transfer, relative_representation

__all__ = [
    "FusionCoverageWarning",
    "TransferConditioning",
    "transfer_conditioning",
    "anchor_consistency",
    "anchor_mass",
    "coverage_advice",
    "flip_rate",
]


class FusionCoverageWarning(UserWarning):
    """The main model puts little of its probability on anchor tokens (see :func:`anchor_mass`)."""


@dataclass(frozen=True)
class TransferConditioning:
    """Spectral summary of one transfer matrix.

    Attributes
    ----------
    singular_values : ndarray, shape (min(|V|, |A|),)
        Of the full ``|V| x |A|`` matrix, descending.
    condition_number : float
        ``s_max / s_min`` of the full matrix (``inf`` if rank deficient).
    anchor_singular_values : ndarray, shape (|A|,)
        Of the anchor block ``T[anchor_idx, :]``.
    anchor_condition_number : float
    anchor_self_mass : float
        Mean of ``T[anchor_idx[a], a]``: how much of an anchor's mass stays on itself (1 for a
        perfectly sharp matrix; small values signal degenerate relative representations).
    mean_row_entropy : float
        Mean Shannon entropy (nats) of the rows of ``T``.
    """

    singular_values: NDArray[np.float64]
    condition_number: float
    anchor_singular_values: NDArray[np.float64]
    anchor_condition_number: float
    anchor_self_mass: float
    mean_row_entropy: float


def _cond(s: NDArray[np.float64]) -> float:
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


def transfer_conditioning(transfer: ArrayLike, anchor_idx: ArrayLike) -> TransferConditioning:
    """Singular values, condition numbers and sharpness of a transfer matrix.

    A sparse transfer is converted to a dense array first (the SVD of a ``|V| x |A|`` matrix
    costs ``O(|V| |A|^2)``).

    Examples
    --------
    >>> import numpy as np
    >>> c = transfer_conditioning(np.eye(3), [0, 1, 2])
    >>> c.condition_number, c.anchor_self_mass
    (1.0, 1.0)
    """
    T = check_transfer(transfer)
    if sp.issparse(T):
        T = T.toarray()
    if T.size == 0:
        raise ValueError(f"transfer: empty, shape {T.shape}")
    idx = _check_anchor_idx(anchor_idx, T.shape[0])
    if idx.shape != (T.shape[1],):
        raise ValueError(
            f"anchor_idx: expected {T.shape[1]} ids (one per anchor column), got shape {idx.shape}"
        )
    s = np.linalg.svd(T, compute_uv=False)
    block = T[idx]
    s_a = np.linalg.svd(block, compute_uv=False)
    return TransferConditioning(
        singular_values=s,
        condition_number=_cond(s),
        anchor_singular_values=s_a,
        anchor_condition_number=_cond(s_a),
        anchor_self_mass=float(np.diag(block).mean()),
        mean_row_entropy=float(entr(T).sum(axis=1).mean()),
    )


def anchor_consistency(embeddings: Sequence[ArrayLike], anchor_indices: Sequence[ArrayLike]
                       ) -> NDArray[np.float64]:
    """Per-anchor agreement of the models' relative representations.

    For anchor ``a`` and models ``m, l``, compare the rows ``R_m[a, :]`` and ``R_l[a, :]`` of the
    anchor-by-anchor cosine matrices; the score is the mean, over model pairs, of the cosine of
    these two rows after centring. Identical geometries (up to rotation and scale) give 1.

    Parameters
    ----------
    embeddings : sequence of K array_like, shape (|V_m|, d_m)
    anchor_indices : sequence of K array_like of int, shape (|A|,)

    Returns
    -------
    ndarray, shape (|A|,)
        In ``[-1, 1]``; NaN if fewer than two models.

    Examples
    --------
    >>> import numpy as np
    >>> E = np.random.default_rng(0).normal(size=(6, 4))
    >>> Q = np.linalg.qr(np.random.default_rng(1).normal(size=(4, 4)))[0]
    >>> bool(np.allclose(anchor_consistency([E, E @ Q], [np.arange(5), np.arange(5)]), 1.0))
    True
    """
    if len(embeddings) == 0:
        raise ValueError("embeddings: need at least one model's embedding matrix")
    if len(embeddings) != len(anchor_indices):
        raise ValueError(
            f"anchor_indices: expected {len(embeddings)} index arrays, got {len(anchor_indices)}"
        )
    blocks = []
    for m, (E, idx) in enumerate(zip(embeddings, anchor_indices)):
        ix = np.asarray(idx)
        try:
            blocks.append(relative_representation(E, ix)[ix])
        except ValueError as exc:  # name the model's entry of the argument lists
            text = str(exc)
            for name, entry in (("anchor_idx", "anchor_indices"), ("embeddings", "embeddings")):
                if text.startswith(f"{name}:"):
                    text = f"{entry}[{m}]:" + text[len(name) + 1:]
            raise ValueError(text) from None
    n_anchors = blocks[0].shape[0]
    if any(b.shape != (n_anchors, n_anchors) for b in blocks):
        raise ValueError("anchor_indices: every model must list the same number of anchors")
    if len(blocks) < 2:
        return np.full(n_anchors, np.nan)
    centred = [b - b.mean(axis=1, keepdims=True) for b in blocks]
    normed = []
    for c in centred:
        n = np.linalg.norm(c, axis=1, keepdims=True)
        normed.append(np.divide(c, n, out=np.zeros_like(c), where=n > 0))
    scores = [(normed[i] * normed[j]).sum(axis=1)
              for i in range(len(normed)) for j in range(i + 1, len(normed))]
    return np.mean(scores, axis=0)


def flip_rate(outputs: FusionOutput | Sequence[FusionOutput]) -> float:
    """Fraction of positions where the fused greedy token differs from the main model's.

    Examples
    --------
    >>> import numpy as np
    >>> from llmcopula.fusion import fuse_logits
    >>> T = np.eye(2)
    >>> out = fuse_logits([np.array([[2.0, 1.8], [5.0, 0.0]]), np.array([[-3.0, 3.0]] * 2)],
    ...                   [T, T])
    >>> flip_rate(out)
    0.5
    """
    outs = [outputs] if isinstance(outputs, FusionOutput) else list(outputs)
    if not outs:
        raise ValueError("outputs: expected at least one FusionOutput")
    flips = np.concatenate([np.ravel(o.differs_from_main) for o in outs])
    if flips.size == 0:
        raise ValueError("outputs: no positions to count")
    return float(flips.mean())


def anchor_mass(logits: ArrayLike, anchor_idx: ArrayLike) -> NDArray[np.float64]:
    """Probability that a model's next token is an anchor, ``sum_a softmax(z)[anchor_idx[a]]``.

    Parameters
    ----------
    logits : array_like, shape (..., |V|)
    anchor_idx : array_like of int, shape (|A|,)

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> anchor_mass(np.log([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]), [0, 1])
    array([0.8, 0.2])
    """
    z = check_finite_array(logits, "logits")
    idx = np.asarray(anchor_idx)
    if z.ndim == 0 or idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"anchor_idx: expected a 1-d array of integer ids for logits of shape {z.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= z.shape[-1]):
        raise ValueError(f"anchor_idx: ids must lie in [0, {z.shape[-1]}), the vocabulary "
                         f"size on the last axis of logits (shape {z.shape})")
    return np.exp(log_softmax(z, axis=-1)[..., idx]).sum(axis=-1)


def coverage_advice(masses: ArrayLike, main: int, threshold: float) -> str | None:
    """The warning text when the main model's mean anchor mass is below ``threshold``, else None.

    ``masses[m]`` is model ``m``'s mean :func:`anchor_mass`. The advice names the model with
    the largest anchor mass when that is not the main one.

    Examples
    --------
    >>> coverage_advice([0.2, 0.9], main=0, threshold=0.5)[:46]
    'main: model 0 puts only 20% of its next-token '
    >>> coverage_advice([0.6, 0.9], main=0, threshold=0.5) is None
    True
    """
    m = check_finite_array(masses, "masses", ndim=1)
    if m.size == 0:
        raise ValueError("masses: empty; expected one mean anchor mass per model")
    threshold = float(threshold)
    if not 0.0 <= threshold <= 1.0:  # also NaN
        raise ValueError(f"threshold: must lie in [0, 1], got {threshold}")
    if not 0 <= main < m.size:
        raise ValueError(f"main: must index one of the {m.size} models, got {main}")
    if m[main] >= threshold:
        return None
    text = (f"main: model {main} puts only {m[main]:.0%} of its next-token probability on the "
            f"anchor tokens (threshold {threshold:.0%}); the fusion reaches the rest of its "
            "distribution only through transfer rows. ")
    best = int(np.argmax(m))
    if best != main and m[best] > m[main]:
        return text + (f"Model {best} puts {m[best]:.0%} there: make it the main one "
                       f"(main={best}).")
    return text + ("No model puts more there: the vocabularies share too few tokens for this "
                   "fusion to help; compare it with a linear pool over shared segments "
                   "(docs/fusion.md).")

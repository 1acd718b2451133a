"""One DeePEn fusion step on arrays: map, aggregate, invert, with the reference's skip rules.

The pipeline (Huang et al., 2024, arXiv:2404.12715):

1. ``p_m = softmax(z_m)`` for every model ``m`` over its own vocabulary;
2. ``r_m = p_m T_m`` (relative space, a distribution over the shared anchors);
3. ``rbar = sum_m alpha_m r_m``;
4. inverse search from the main model's logits: ``z* = argmin_z KL(rbar || softmax(z) T_main)``
   (approximately, see :mod:`llmcopula.fusion.inverse`);
5. the next token is ``argmax z*`` (greedy).

Skip rules (the main model's logits are returned unchanged): an assistant's distribution is
missing (``None``), the learning rate of the AdamW search is 0, or, per row, the main model's own
argmax is the end-of-sequence token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_softmax

from .._validation import check_finite_array
from .aggregation import check_weights
from .inverse import inverse_search
from .transfer import Transfer, _apply_transfer, check_transfer

__all__ = ["FusionOutput", "relative_distributions", "fuse_logits", "fuse_relative"]


@dataclass(frozen=True)
class FusionOutput:
    """Result of fusing one batch of next-token distributions.

    Attributes
    ----------
    logits : ndarray, shape (..., |V_main|)
        Fused logits in the main model's vocabulary (the main model's own logits where skipped).
    tokens : ndarray of int, shape (...)
        Greedy choice, ``argmax logits``.
    main_tokens : ndarray of int, shape (...)
        The main model's own greedy choice.
    fused : ndarray of bool, shape (...)
        Rows where the fusion was applied (False where a skip rule fired).
    loss_initial, loss : ndarray, shape (...)
        Relative-space KL at the main model's logits and at the fused logits (NaN where skipped).
    skip_reason : str or None
        Why the whole batch was skipped (``"missing assistant"``, ``"lr=0"``), if it was.
    """

    logits: NDArray[np.float64]
    tokens: NDArray[np.intp]
    main_tokens: NDArray[np.intp]
    fused: NDArray[np.bool_]
    loss_initial: NDArray[np.float64]
    loss: NDArray[np.float64]
    skip_reason: str | None = None

    @property
    def differs_from_main(self) -> NDArray[np.bool_]:
        """Rows where the fused token is not the main model's greedy token."""
        return self.tokens != self.main_tokens

    def log_probs(self) -> NDArray[np.float64]:
        """Fused next-token log-probabilities ``log_softmax(logits)``."""
        return log_softmax(self.logits, axis=-1)


def _check_inputs(logits: Sequence[ArrayLike | None], transfers: Sequence[ArrayLike | Transfer],
                  main: int) -> tuple[list[NDArray[np.float64] | None], list[Transfer]]:
    if len(logits) == 0:
        raise ValueError("logits: expected one array per model, got none")
    if len(transfers) != len(logits):
        raise ValueError(
            f"transfers: expected {len(logits)} transfer matrices (one per model), "
            f"got {len(transfers)}"
        )
    if not 0 <= main < len(logits):
        raise ValueError(f"main: must index one of the {len(logits)} models, got {main}")
    if logits[main] is None:
        raise ValueError(f"logits: the main model's (index {main}) logits are missing")
    Ts = [check_transfer(T, f"transfers[{m}]") for m, T in enumerate(transfers)]
    for m, T in enumerate(Ts):
        if 0 in T.shape:
            raise ValueError(f"transfers[{m}]: empty, shape {T.shape}; expected (|V|, |A|)")
    n_anchors = Ts[main].shape[1]
    zs: list[NDArray[np.float64] | None] = []
    lead = None
    for m, (z, T) in enumerate(zip(logits, Ts)):
        if T.shape[1] != n_anchors:
            raise ValueError(
                f"transfers[{m}]: has {T.shape[1]} anchor columns, the main model's has {n_anchors}"
            )
        if z is None:
            zs.append(None)
            continue
        arr = check_finite_array(z, f"logits[{m}]")
        if arr.ndim == 0 or arr.shape[-1] != T.shape[0]:
            raise ValueError(
                f"logits[{m}]: last axis must equal model {m}'s vocabulary size {T.shape[0]}, "
                f"got shape {arr.shape}"
            )
        if lead is None:
            lead = arr.shape[:-1]
        elif arr.shape[:-1] != lead:
            raise ValueError(
                f"logits[{m}]: batch shape {arr.shape[:-1]} differs from the others' {lead}"
            )
        zs.append(arr)
    return zs, Ts


def relative_distributions(logits: Sequence[ArrayLike], transfers: Sequence[ArrayLike | Transfer]
                           ) -> list[NDArray[np.float64]]:
    """``r_m = softmax(z_m) @ T_m`` for every model (step 2 of the pipeline).

    Examples
    --------
    >>> import numpy as np
    >>> [r.round(2) for r in relative_distributions([np.log([0.5, 0.5])], [np.eye(2)])]
    [array([0.5, 0.5])]
    """
    zs, Ts = _check_inputs(logits, transfers, 0)
    return [_to_relative(z, T) for z, T in zip(zs, Ts) if z is not None]


def _to_relative(z: NDArray[np.float64], T: Transfer) -> NDArray[np.float64]:
    return _apply_transfer(np.exp(log_softmax(z, axis=-1)), T)


def _skipped(z_main: NDArray[np.float64], reason: str) -> FusionOutput:
    tok = z_main.argmax(axis=-1)
    nan = np.full(z_main.shape[:-1], np.nan)
    return FusionOutput(z_main.copy(), tok, tok, np.zeros(tok.shape, dtype=bool), nan, nan.copy(),
                        reason)


def _fuse_relative(z_main: NDArray[np.float64], relatives: Sequence[NDArray[np.float64]],
                   weights: NDArray[np.float64], T_main: Transfer, *,
                   method: str, eos_token_id: int | None,
                   solver_options: Mapping[str, Any]) -> FusionOutput:
    """Steps 3-5 once the relative distributions are known (shared with the weight fitting)."""
    if method == "adamw" and float(solver_options.get("lr", 0.15)) == 0.0:
        return _skipped(z_main, "lr=0")
    rbar = np.tensordot(weights, np.stack(relatives), axes=1)
    main_tokens = z_main.argmax(axis=-1)
    res = inverse_search(z_main, T_main, rbar, method=method,  # type: ignore[arg-type]
                         **solver_options)
    logits = res.logits
    fused = np.ones(main_tokens.shape, dtype=bool)
    loss0, loss = res.loss_initial, res.loss
    if eos_token_id is not None:
        keep_main = main_tokens == eos_token_id
        if keep_main.any():
            logits = np.where(keep_main[..., None], z_main, logits)
            fused = ~keep_main
            loss0 = np.where(keep_main, np.nan, loss0)
            loss = np.where(keep_main, np.nan, loss)
    return FusionOutput(logits, logits.argmax(axis=-1), main_tokens, fused, loss0, loss)


def fuse_logits(logits: Sequence[ArrayLike | None], transfers: Sequence[ArrayLike], *,
                main: int = 0, weights: ArrayLike | None = None,
                method: Literal["adamw", "mirror", "lbfgs"] = "adamw",
                eos_token_id: int | None = None,
                **solver_options: Any) -> FusionOutput:
    """Fuse the next-token distributions of ``K`` models into the main model's vocabulary.

    Parameters
    ----------
    logits : sequence of K array_like or None
        ``logits[m]`` has shape ``(..., |V_m|)`` (logits or log-probabilities; all models share
        the batch shape). ``None`` marks an assistant whose distribution did not arrive: the main
        model is then used alone, as in the reference implementation.
    transfers : sequence of K array_like or scipy.sparse matrices, shape (|V_m|, |A|)
        Transfer matrices from :func:`~llmcopula.fusion.transfer.transfer_matrix` or
        :func:`~llmcopula.fusion.transfer.shared_prefix_transfer`.
    main : int, default 0
        Index of the main model (the output vocabulary).
    weights : array_like of shape (K,), optional
        Aggregation weights ``alpha`` (uniform when omitted).
    method : {"adamw", "mirror", "lbfgs"}, default "adamw"
        Inverse search: the reference 5-step AdamW nudge, or a precise solver (certified
        mirror descent or L-BFGS).
    eos_token_id : int, optional
        Main-model EOS id. Rows where the main model's argmax is EOS keep the main logits.
    **solver_options
        Passed to :func:`~llmcopula.fusion.inverse.inverse_adamw` (``lr``, ``n_steps``, ...) or
        :func:`~llmcopula.fusion.inverse.inverse_mirror` (``tol``, ``maxiter``) or
        :func:`~llmcopula.fusion.inverse.inverse_lbfgs` (``gtol``, ``maxiter``).

    Returns
    -------
    FusionOutput

    Examples
    --------
    Two models over the same two tokens; the main model hesitates, the assistant is sure:

    >>> import numpy as np
    >>> T = np.eye(2)
    >>> out = fuse_logits([np.array([2.0, 1.8]), np.array([-3.0, 3.0])], [T, T])
    >>> int(out.main_tokens), int(out.tokens)
    (0, 1)
    """
    zs, Ts = _check_inputs(logits, transfers, main)
    w = check_weights(weights, len(zs))
    z_main = zs[main]
    if z_main is None:  # unreachable: _check_inputs rejects it; narrows the type
        raise ValueError(f"logits: the main model's (index {main}) logits are missing")
    if any(z is None for z in zs):
        return _skipped(z_main, "missing assistant")
    rels = [_to_relative(z, T) for z, T in zip(zs, Ts)]  # type: ignore[arg-type]
    return _fuse_relative(z_main, rels, w, Ts[main], method=method, eos_token_id=eos_token_id,
                          solver_options=solver_options)


def fuse_relative(main_logits: ArrayLike, relatives: Sequence[ArrayLike],
                  main_transfer: ArrayLike | Transfer, *, weights: ArrayLike | None = None,
                  method: Literal["adamw", "mirror", "lbfgs"] = "adamw",
                  eos_token_id: int | None = None, **solver_options: Any) -> FusionOutput:
    """Steps 3-5 of the pipeline from given relative distributions.

    For callers that build the models' relative distributions ``r_m`` themselves, for example
    with :func:`~llmcopula.fusion.lookahead.word_start_relative` for assistants queried inside a
    word. :func:`fuse_logits` is this function with ``r_m = softmax(z_m) T_m``.

    Parameters
    ----------
    main_logits : array_like, shape (..., |V_main|)
        The main model's logits (the start of the inverse search).
    relatives : sequence of K array_like, each shape (..., |A|)
        Every model's relative distribution, the main model's included.
    main_transfer : array_like or scipy.sparse matrix, shape (|V_main|, |A|)
    weights, method, eos_token_id, **solver_options
        As in :func:`fuse_logits`.

    Returns
    -------
    FusionOutput

    Examples
    --------
    >>> import numpy as np
    >>> out = fuse_relative(np.array([2.0, 1.8]), [[0.55, 0.45], [0.02, 0.98]], np.eye(2))
    >>> int(out.main_tokens), int(out.tokens)
    (0, 1)
    """
    z_main = check_finite_array(main_logits, "main_logits")
    if z_main.size == 0:
        raise ValueError(f"main_logits: empty, shape {z_main.shape}")
    T = check_transfer(main_transfer, "main_transfer")
    if z_main.ndim == 0 or z_main.shape[-1] != T.shape[0]:
        raise ValueError(
            f"main_logits: last axis must equal the main transfer's {T.shape[0]} rows, "
            f"got shape {z_main.shape}"
        )
    if len(relatives) == 0:
        raise ValueError("relatives: expected one relative distribution per model, got none")
    rels = [check_finite_array(r, f"relatives[{m}]") for m, r in enumerate(relatives)]
    want = z_main.shape[:-1] + (T.shape[1],)
    for m, r in enumerate(rels):
        if r.shape != want:
            raise ValueError(f"relatives[{m}]: expected shape {want}, got {r.shape}")
        if (r < 0).any():
            raise ValueError(f"relatives[{m}]: must be non-negative (distributions over anchors)")
    w = check_weights(weights, len(rels))
    return _fuse_relative(z_main, rels, w, T, method=method, eos_token_id=eos_token_id,
                          solver_options=solver_options)

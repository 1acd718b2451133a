"""``DeePEnFusion``: fuse language models with different vocabularies while generating text.

The method and the two additions to it (the shared-prefix transfer and the word-start
lookahead) are described in ``docs/fusion.md``.

References
----------
Huang, Feng, Li, Xiang, Wang, Qin, Liu (2024). Ensemble Learning for Heterogeneous Large Language
Models with Deep Parallel Collaboration. NeurIPS 2024, arXiv:2404.12715.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._estimator import BaseEstimator
from .._validation import check_finite_array, check_is_fitted, check_positive_int
from .aggregation import check_weights
from .anchors import AnchorSet, common_anchors
from .diagnostics import (
    FusionCoverageWarning,
    TransferConditioning,
    anchor_consistency,
    anchor_mass,
    coverage_advice,
    transfer_conditioning,
)
from .fuse import FusionOutput, _skipped, _to_relative, fuse_relative
from .lookahead import _PrefixIndex, _word_start_relative, is_space_prefixed, split_partial_word
from .pieces import TokenPieces
from .protocol import LanguageModel
from .transfer import Transfer, check_transfer, shared_prefix_transfer, transfer_matrix
from .weights import WeightFit, fit_fusion_weights

__all__ = ["DeePEnFusion", "GenerationResult", "FusionDiagnostics"]


@dataclass(frozen=True)
class GenerationResult:
    """Text produced by :meth:`DeePEnFusion.generate`.

    Attributes
    ----------
    text : str
        The generated continuation (without the prompt).
    token_ids : ndarray of int
        The chosen main-model token ids, EOS excluded.
    main_token_ids : ndarray of int
        What the main model alone would have chosen at each step (given the fused prefix).
    fused : ndarray of bool
        Steps at which the fusion was applied (no skip rule fired).
    stop_reason : str
        ``"eos"``, ``"stop_string"`` or ``"max_new_tokens"``.
    """

    text: str
    token_ids: NDArray[np.intp]
    main_token_ids: NDArray[np.intp]
    fused: NDArray[np.bool_]
    stop_reason: str

    @property
    def flip_rate(self) -> float:
        """Fraction of steps whose token differs from the main model's own choice."""
        if self.token_ids.size == 0:
            return 0.0
        return float((self.token_ids != self.main_token_ids[: self.token_ids.size]).mean())


@dataclass(frozen=True)
class FusionDiagnostics:
    """Anchors and transfer matrices of a fitted :class:`DeePEnFusion`.

    Attributes
    ----------
    n_anchors : int
    coverage : ndarray, shape (K,)
        ``|A| / |V_m|``.
    conditioning : tuple of TransferConditioning
        One per model.
    anchor_consistency : ndarray, shape (|A|,)
        See :func:`~llmcopula.fusion.diagnostics.anchor_consistency`.
    """

    n_anchors: int
    coverage: NDArray[np.float64]
    conditioning: tuple[TransferConditioning, ...]
    anchor_consistency: NDArray[np.float64]


class DeePEnFusion(BaseEstimator):
    """Probability-level fusion of ``K`` language models with different vocabularies.

    At each decoding step every model's next-token distribution ``p_m`` (over its own vocabulary)
    is mapped to the shared anchor space, ``r_m = p_m T_m``, where by default
    ``T_m[v, :] = softmax(tau cos(E_m[v], E_m[A]) / ||cos(E_m[v], E_m[A])||)`` is built from the
    model's input embeddings; the ``r_m`` are averaged with weights ``alpha``, and the result is
    mapped back into the main model's vocabulary by an inverse search on its logits
    (``min_z KL(rbar || softmax(z) T_main)``). The next token is the argmax.

    Parameters
    ----------
    main : int, default 0
        Index of the main model, whose vocabulary the output is in. Prefer the better model, or
        with similar models the one with the larger vocabulary; :meth:`fuse` warns when the
        main model puts little probability on the anchors.
    weights : "uniform", array_like of shape (K,), "dev-nll" or "dev-accuracy", default "uniform"
        Aggregation weights. The ``"dev-*"`` options fit them in :meth:`fit` on dev data with
        :func:`~llmcopula.fusion.weights.fit_fusion_weights`.
    transfer : {"embedding", "shared-prefix", "main-pieces"}, default "embedding"
        How tokens are sent to the anchors: DeePEn's embedding similarity
        (:func:`~llmcopula.fusion.transfer.transfer_matrix`); each token to the longest anchor
        that prefixes its string (:func:`~llmcopula.fusion.transfer.shared_prefix_transfer`,
        sparse, exact on anchors; better when embeddings are small or anchors many, see
        ``docs/fusion.md``); or, with ``"main-pieces"``, an assistant's token to the anchor of
        the first piece the main model's tokenizer cuts its text into (the main model must have
        a ``tokenize(text)`` method; :class:`~llmcopula.fusion.pieces.TokenPieces`). The
        lookahead then also follows the main model's pieces.
    lookahead : bool, default False
        When the text ends inside a word, ask each assistant at the word start as well and keep
        the tokens that extend the partial word
        (:func:`~llmcopula.fusion.lookahead.word_start_relative`). One more query per
        assistant and step (repeated word starts are cached).
    tau : float, default 100
        Softmax temperature of the embedding transfer.
    method : {"adamw", "mirror", "lbfgs"}, default "adamw"
        Inverse search: the reference AdamW schedule, or a precise solver (mirror descent with a
        certified optimality gap, or L-BFGS).
    lr : float, default 0.15
        AdamW learning rate ``eta``; 0 disables the fusion (main model alone).
    n_steps : int, default 5
        AdamW steps.
    solver_options : dict, optional
        Further options of the inverse search (``betas``, ``eps``, ``weight_decay``, ``t_max``,
        ``eta_min`` for AdamW; ``tol``, ``maxiter`` for mirror; ``gtol``, ``maxiter`` for L-BFGS).
    normalize_anchors : bool, default True
        Map the space markers ``Ġ`` and ``" "`` to ``▁`` before intersecting vocabularies.
    min_anchor_mass : float, default 0.5
        :meth:`fuse`, :meth:`next_token` and :meth:`generate` issue a
        :class:`~llmcopula.fusion.diagnostics.FusionCoverageWarning` when the main model's mean
        probability on anchor tokens is below this; 0 never warns.

    Attributes
    ----------
    models_ : tuple of LanguageModel
    anchors_ : AnchorSet
    transfers_ : tuple of ndarray or scipy.sparse.csr_array, each (|V_m|, |A|)
    weights_ : ndarray, shape (K,)
    weight_fit_ : WeightFit or None
        The dev-set fit when ``weights`` is ``"dev-nll"`` or ``"dev-accuracy"``.

    Examples
    --------
    Two toy models: a character model and a model whose vocabulary adds the word "ab".

    >>> import numpy as np
    >>> from llmcopula.fusion import FunctionLanguageModel
    >>> rng = np.random.default_rng(0)
    >>> E1 = rng.normal(size=(3, 4))
    >>> E2 = np.vstack([E1 @ np.linalg.qr(rng.normal(size=(4, 4)))[0], rng.normal(size=4)])
    >>> chars = FunctionLanguageModel(["a", "b", "▁"], E1, lambda s: np.log([0.5, 0.4, 0.1]))
    >>> words = FunctionLanguageModel(["a", "b", "▁", "ab"], E2,
    ...                               lambda s: np.log([0.1, 0.8, 0.05, 0.05]))
    >>> fusion = DeePEnFusion(main=0).fit([chars, words])
    >>> fusion.anchors_.tokens
    ('a', 'b', '▁')
    >>> fusion.generate("", max_new_tokens=3).text
    'bbb'
    """

    def __init__(self, *, main: int = 0,
                 weights: ArrayLike | Literal["uniform", "dev-nll", "dev-accuracy"] = "uniform",
                 transfer: Literal["embedding", "shared-prefix", "main-pieces"] = "embedding",
                 lookahead: bool = False, tau: float = 100.0,
                 method: Literal["adamw", "mirror", "lbfgs"] = "adamw",
                 lr: float = 0.15, n_steps: int = 5,
                 solver_options: dict[str, Any] | None = None,
                 normalize_anchors: bool = True, min_anchor_mass: float = 0.5) -> None:
        self.main = main
        self.weights = weights
        self.transfer = transfer
        self.lookahead = lookahead
        self.tau = tau
        self.method = method
        self.lr = lr
        self.n_steps = n_steps
        self.solver_options = solver_options
        self.normalize_anchors = normalize_anchors
        self.min_anchor_mass = min_anchor_mass

    # ------------------------------------------------------------------ fitting
    def _solver_options(self) -> dict[str, Any]:
        opts = dict(self.solver_options or {})
        if self.method == "adamw":
            opts.setdefault("lr", self.lr)
            opts.setdefault("n_steps", self.n_steps)
        return opts

    def fit(self, models: Sequence[LanguageModel], *,
            dev_logits: Sequence[ArrayLike | None] | None = None,
            dev_targets: ArrayLike | None = None,
            dev_relatives: Sequence[ArrayLike] | None = None) -> DeePEnFusion:
        """Find the anchors, build the transfer matrices and set the weights.

        Parameters
        ----------
        models : sequence of K LanguageModel
        dev_logits, dev_targets : optional
            Dev data for ``weights="dev-nll"`` / ``"dev-accuracy"``: every model's logits at
            ``n`` positions (arrays ``(n, |V_m|)``) and the true next tokens as main-model ids.
        dev_relatives : sequence of K arrays ``(n, |A|)``, optional
            The models' relative distributions at the dev positions, when they are not
            ``softmax(dev_logits_m) T_m`` (for example with the lookahead); see
            :func:`~llmcopula.fusion.weights.fit_fusion_weights`.

        Returns
        -------
        self
        """
        if len(models) == 0:
            raise ValueError("models: expected at least one language model, got none")
        if not isinstance(self.main, (int, np.integer)) or not 0 <= self.main < len(models):
            raise ValueError(f"main: must index one of the {len(models)} models, got {self.main}")
        if self.method not in ("adamw", "mirror", "lbfgs"):
            raise ValueError(
                f"method: expected 'adamw', 'mirror' or 'lbfgs', got {self.method!r}"
            )
        if not np.isfinite(self.lr) or self.lr < 0:
            raise ValueError(f"lr: must be a non-negative finite number, got {self.lr}")
        check_positive_int(self.n_steps, "n_steps", minimum=0)
        if self.transfer not in ("embedding", "shared-prefix", "main-pieces"):
            raise ValueError("transfer: expected 'embedding', 'shared-prefix' or 'main-pieces', "
                             f"got {self.transfer!r}")
        tokenize = getattr(models[self.main], "tokenize", None)
        if self.transfer == "main-pieces" and not callable(tokenize):
            raise ValueError(
                f"transfer: 'main-pieces' needs the main model (index {self.main}) to have a "
                "tokenize(text) method returning its token ids")
        if not isinstance(self.lookahead, (bool, np.bool_)):
            raise ValueError(f"lookahead: expected True or False, got {self.lookahead!r}")
        if not np.isfinite(self.min_anchor_mass) or not 0 <= self.min_anchor_mass <= 1:
            raise ValueError(
                f"min_anchor_mass: must lie in [0, 1], got {self.min_anchor_mass}")
        vocabs = [list(m.vocabulary) for m in models]
        for k, (m, v) in enumerate(zip(models, vocabs)):
            shape = np.shape(m.input_embeddings)
            if len(shape) != 2 or shape[0] != len(v):
                raise ValueError(
                    f"models: model {k}'s input_embeddings have shape {shape}, expected "
                    f"({len(v)}, d) to match its vocabulary"
                )
        anchors = common_anchors(vocabs, normalize=self.normalize_anchors)
        transfers: tuple[Transfer, ...]
        self._pieces = (TokenPieces(tokenize, vocabs[self.main],  # type: ignore[arg-type]
                                    normalize=self.normalize_anchors)
                        if self.transfer == "main-pieces" else None)
        if self.transfer == "embedding":
            transfers = tuple(transfer_matrix(m.input_embeddings, idx, tau=self.tau)
                              for m, idx in zip(models, anchors.indices))
        else:
            transfers = tuple(
                shared_prefix_transfer(v, anchors.tokens, embeddings=m.input_embeddings,
                                       anchor_idx=idx, tau=self.tau,
                                       normalize=self.normalize_anchors,
                                       pieces=None if k == self.main else self._pieces)
                for k, (m, v, idx) in enumerate(zip(models, vocabs, anchors.indices)))
        self.models_ = tuple(models)
        self.anchors_: AnchorSet = anchors
        self.transfers_ = transfers
        self.space_prefixed_ = tuple(is_space_prefixed(v) for v in vocabs)
        self._prefix_indexes = ([_PrefixIndex(v, normalize=self.normalize_anchors) for v in vocabs]
                                if self.lookahead else [])
        self.weight_fit_: WeightFit | None = None
        if isinstance(self.weights, str):
            if self.weights == "uniform":
                self.weights_ = check_weights(None, len(models))
            elif self.weights in ("dev-nll", "dev-accuracy"):
                if dev_logits is None or dev_targets is None:
                    raise ValueError(
                        f"dev_logits: weights={self.weights!r} needs dev_logits and dev_targets"
                    )
                self.weight_fit_ = fit_fusion_weights(
                    dev_logits, dev_targets, transfers, relatives=dev_relatives, main=self.main,
                    objective="nll" if self.weights == "dev-nll" else "accuracy",
                    method=self.method, eos_token_id=models[self.main].eos_token_id,
                    **self._solver_options())
                self.weights_ = self.weight_fit_.weights
            else:
                raise ValueError(
                    "weights: expected 'uniform', 'dev-nll', 'dev-accuracy' or an array, "
                    f"got {self.weights!r}"
                )
        else:
            self.weights_ = check_weights(self.weights, len(models))
        return self

    def _check_fitted(self) -> None:
        check_is_fitted(self, "transfers_", hint="fit(models)")

    # ------------------------------------------------------------------ fusing
    def anchor_masses(self, logits: Sequence[ArrayLike | None]) -> NDArray[np.float64]:
        """Each model's mean probability on anchor tokens over the rows of ``logits`` (NaN for a
        missing model); see :func:`~llmcopula.fusion.diagnostics.anchor_mass`."""
        self._check_fitted()
        return np.array([np.nan if z is None else float(np.mean(anchor_mass(z, idx)))
                         for z, idx in zip(logits, self.anchors_.indices)])

    def _warn_coverage(self, masses: NDArray[np.float64]) -> None:
        if self.min_anchor_mass <= 0:
            return
        advice = coverage_advice(np.nan_to_num(masses, nan=0.0), self.main,
                                 self.min_anchor_mass)
        if advice is not None:
            warnings.warn(advice, FusionCoverageWarning, stacklevel=3)

    def fuse(self, logits: Sequence[ArrayLike | None], *,
             relatives: Sequence[ArrayLike | None] | None = None) -> FusionOutput:
        """Fuse given next-token logits (one array ``(..., |V_m|)`` or None per model).

        See :func:`~llmcopula.fusion.fuse.fuse_logits`. ``relatives`` may replace the relative
        distribution of any model (an array ``(..., |A|)``; None keeps ``softmax(z_m) T_m``).
        Warns (:class:`~llmcopula.fusion.diagnostics.FusionCoverageWarning`) when the main
        model's mean probability on anchors is below ``min_anchor_mass``.
        """
        self._check_fitted()
        out = self._fuse(logits, relatives)
        main_logits = logits[self.main]
        if main_logits is not None:
            self._warn_coverage(self.anchor_masses(logits))
        return out

    def _fuse(self, logits: Sequence[ArrayLike | None],
              relatives: Sequence[ArrayLike | None] | None) -> FusionOutput:
        K = len(self.models_)
        if len(logits) != K:
            raise ValueError(f"logits: expected {K} arrays (one per model), got {len(logits)}")
        if relatives is not None and len(relatives) != K:
            raise ValueError(
                f"relatives: expected {K} entries (one per model), got {len(relatives)}")
        z_main = logits[self.main]
        if z_main is None:
            raise ValueError(f"logits: the main model's (index {self.main}) logits are missing")
        eos = self.models_[self.main].eos_token_id
        options = self._solver_options()
        if any(z is None for z in logits):
            # The reference's skip rule: an assistant's distribution did not arrive.
            return _skipped(check_finite_array(z_main, f"logits[{self.main}]"),
                            "missing assistant")
        rels = []
        for m, (z, T) in enumerate(zip(logits, self.transfers_)):
            given = None if relatives is None else relatives[m]
            rels.append(_to_relative(np.asarray(z, dtype=np.float64), check_transfer(T))
                        if given is None else given)
        return fuse_relative(z_main, rels, self.transfers_[self.main], weights=self.weights_,
                             method=self.method, eos_token_id=eos, **options)

    def _query(self, prefix: str, cache: dict[tuple[int, str], Any] | None = None
               ) -> tuple[list[Any], list[Any]]:
        logits = [m.next_token_logprobs(prefix) for m in self.models_]
        relatives: list[Any] = [None] * len(self.models_)
        if not self.lookahead:
            return logits, relatives
        for k, (model, z) in enumerate(zip(self.models_, logits)):
            if k == self.main or z is None:
                continue
            start, partial = split_partial_word(prefix, space_prefixed=self.space_prefixed_[k])
            if not partial:
                continue
            key = (k, start)
            if cache is not None and key in cache:
                z_start = cache[key]
            else:
                z_start = model.next_token_logprobs(start)
                if cache is not None:
                    if len(cache) > 64:  # words are short; old word starts are not asked again
                        cache.clear()
                    cache[key] = z_start
            if z_start is None:
                continue
            reference = _to_relative(np.asarray(z, dtype=np.float64)[None],
                                     check_transfer(self.transfers_[k]))
            index = self._prefix_indexes[k]
            main_partial = split_partial_word(
                prefix, space_prefixed=self.space_prefixed_[self.main])[1]
            relatives[k] = _word_start_relative(
                np.asarray(z_start, dtype=np.float64)[None], [index.norm(partial)], index,
                self.anchors_.tokens, reference, pieces=self._pieces,
                main_partials=[main_partial])[0]
        return logits, relatives

    def next_token(self, prefix: str) -> FusionOutput:
        """Ask every model for its next-token distribution after ``prefix`` and fuse them.

        A model whose ``next_token_logprobs`` returns ``None`` counts as missing (the main model
        is then used alone). With ``lookahead=True``, assistants are also asked at the start of
        a partial last word.
        """
        self._check_fitted()
        logits, relatives = self._query(prefix)
        return self.fuse(logits, relatives=relatives)

    def generate(self, prompt: str, *, max_new_tokens: int = 32,
                 stop: Sequence[str] = ()) -> GenerationResult:
        """Greedy generation with the fused distribution.

        At each step every model reads the text so far with its own tokenizer, the fused token
        (a main-model id) is decoded with the main model's ``decode`` and appended to the text
        that all models see next.

        Parameters
        ----------
        prompt : str
        max_new_tokens : int, default 32
        stop : sequence of str
            Early-stop strings: generation ends (EOS is forced) as soon as the continuation
            contains one of them; the continuation is kept up to and including it.

        Returns
        -------
        GenerationResult
        """
        self._check_fitted()
        max_new_tokens = check_positive_int(max_new_tokens, "max_new_tokens", minimum=0)
        cache: dict[tuple[int, str], Any] = {}
        masses = []
        if any(not s for s in stop):
            raise ValueError("stop: stop strings must be non-empty")
        main_model = self.models_[self.main]
        eos = main_model.eos_token_id
        text = ""
        chosen: list[int] = []
        main_chosen: list[int] = []
        fused: list[bool] = []
        reason = "max_new_tokens"
        for _ in range(max_new_tokens):
            logits, relatives = self._query(prompt + text, cache)
            out = self._fuse(logits, relatives)
            masses.append(self.anchor_masses(logits))
            tok, main_tok = int(out.tokens), int(out.main_tokens)
            main_chosen.append(main_tok)
            fused.append(bool(out.fused))
            if eos is not None and tok == eos:
                reason = "eos"
                break
            chosen.append(tok)
            text += main_model.decode([tok])
            hits = [text.find(s) + len(s) for s in stop if s in text]
            if hits:
                text = text[: min(hits)]
                reason = "stop_string"
                break
        if masses:
            self._warn_coverage(np.nanmean(np.array(masses), axis=0))
        return GenerationResult(text, np.asarray(chosen, dtype=np.intp),
                                np.asarray(main_chosen, dtype=np.intp),
                                np.asarray(fused, dtype=bool), reason)

    # ------------------------------------------------------------------ diagnostics
    def diagnostics(self) -> FusionDiagnostics:
        """Anchor coverage, per-anchor consistency and conditioning of every transfer matrix."""
        self._check_fitted()
        cond = tuple(transfer_conditioning(T, idx)
                     for T, idx in zip(self.transfers_, self.anchors_.indices))
        consistency = anchor_consistency([m.input_embeddings for m in self.models_],
                                         self.anchors_.indices)
        return FusionDiagnostics(self.anchors_.n_anchors, self.anchors_.coverage(), cond,
                                 consistency)

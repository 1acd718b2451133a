"""Probability-level fusion of language models with different vocabularies (DeePEn).

Huang et al. (2024), "Ensemble Learning for Heterogeneous Large Language Models with Deep
Parallel Collaboration", NeurIPS 2024, arXiv:2404.12715. The pipeline: shared anchor tokens
(:mod:`.anchors`), transfer matrices into the anchor space (:mod:`.transfer`: DeePEn's
relative-representation transfer, and a string-based shared-prefix transfer), weighted
aggregation (:mod:`.aggregation`, :mod:`.weights`), the search-based inverse back into the main
model's vocabulary (:mod:`.inverse`: the reference 5-step AdamW nudge, and precise solvers), one
fusion step on arrays (:mod:`.fuse`), assistants asked inside a word (:mod:`.lookahead`),
generation with models that each keep their own tokenizer (:mod:`.deepen`, :mod:`.protocol`),
and diagnostics (:mod:`.diagnostics`). An optional Hugging Face adapter lives in
:mod:`llmcopula.fusion.hf` (needs the ``hf`` extra). ``docs/fusion.md`` describes the method,
its additions and when it helps.
"""

from .aggregation import aggregate, check_weights
from .anchors import SPACE_MARKER, AnchorSet, common_anchors, normalize_token
from .deepen import DeePEnFusion, FusionDiagnostics, GenerationResult
from .diagnostics import (
    FusionCoverageWarning,
    TransferConditioning,
    anchor_consistency,
    anchor_mass,
    coverage_advice,
    flip_rate,
    transfer_conditioning,
)
from .fuse import FusionOutput, fuse_logits, fuse_relative, relative_distributions
from .inverse import (
    InverseResult,
    inverse_adamw,
    inverse_lbfgs,
    inverse_mirror,
    inverse_search,
    relative_kl,
    relative_kl_grad,
)
from .lookahead import is_space_prefixed, split_partial_word, word_start_relative
from .pieces import TokenPieces
from .protocol import FunctionLanguageModel, LanguageModel
from .transfer import (
    check_transfer,
    longest_anchor_prefix,
    relative_representation,
    shared_prefix_transfer,
    to_relative,
    transfer_matrix,
)
from .weights import WeightFit, fit_fusion_weights, simplex_grid

__all__ = [
    "SPACE_MARKER",
    "AnchorSet",
    "DeePEnFusion",
    "FunctionLanguageModel",
    "FusionCoverageWarning",
    "FusionDiagnostics",
    "FusionOutput",
    "GenerationResult",
    "InverseResult",
    "LanguageModel",
    "TokenPieces",
    "TransferConditioning",
    "WeightFit",
    "aggregate",
    "anchor_consistency",
    "anchor_mass",
    "check_transfer",
    "check_weights",
    "common_anchors",
    "coverage_advice",
    "fit_fusion_weights",
    "flip_rate",
    "fuse_logits",
    "fuse_relative",
    "inverse_adamw",
    "inverse_lbfgs",
    "inverse_mirror",
    "inverse_search",
    "is_space_prefixed",
    "longest_anchor_prefix",
    "normalize_token",
    "relative_distributions",
    "relative_kl",
    "relative_kl_grad",
    "relative_representation",
    "shared_prefix_transfer",
    "simplex_grid",
    "split_partial_word",
    "to_relative",
    "transfer_conditioning",
    "transfer_matrix",
    "word_start_relative",
]

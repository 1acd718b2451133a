"""Probability-level fusion of language models with different vocabularies (DeePEn).

Huang et al. (2024), "Ensemble Learning for Heterogeneous Large Language Models with Deep
Parallel Collaboration", NeurIPS 2024, arXiv:2404.12715. The pipeline: shared anchor tokens
(:mod:`.anchors`), relative-representation transfer matrices (:mod:`.transfer`), weighted
aggregation (:mod:`.aggregation`, :mod:`.weights`), the search-based inverse back into the main
model's vocabulary (:mod:`.inverse`: the reference 5-step AdamW nudge, and precise solvers), one
fusion step on arrays (:mod:`.fuse`), generation with models that each keep their own tokenizer
(:mod:`.deepen`, :mod:`.protocol`), and diagnostics (:mod:`.diagnostics`). An optional Hugging
Face adapter lives in :mod:`llmcopula.fusion.hf` (needs the ``hf`` extra).
"""

from .aggregation import aggregate, check_weights
from .anchors import SPACE_MARKER, AnchorSet, common_anchors, normalize_token
from .deepen import DeePEnFusion, FusionDiagnostics, GenerationResult
from .diagnostics import (
    TransferConditioning,
    anchor_consistency,
    flip_rate,
    transfer_conditioning,
)
from .fuse import FusionOutput, fuse_logits, relative_distributions
from .inverse import (
    InverseResult,
    inverse_adamw,
    inverse_lbfgs,
    inverse_mirror,
    inverse_search,
    relative_kl,
    relative_kl_grad,
)
from .protocol import FunctionLanguageModel, LanguageModel
from .transfer import relative_representation, to_relative, transfer_matrix
from .weights import WeightFit, fit_fusion_weights, simplex_grid

__all__ = [
    "SPACE_MARKER",
    "AnchorSet",
    "DeePEnFusion",
    "FunctionLanguageModel",
    "FusionDiagnostics",
    "FusionOutput",
    "GenerationResult",
    "InverseResult",
    "LanguageModel",
    "TransferConditioning",
    "WeightFit",
    "aggregate",
    "anchor_consistency",
    "check_weights",
    "common_anchors",
    "fit_fusion_weights",
    "flip_rate",
    "fuse_logits",
    "inverse_adamw",
    "inverse_lbfgs",
    "inverse_mirror",
    "inverse_search",
    "normalize_token",
    "relative_distributions",
    "relative_kl",
    "relative_kl_grad",
    "relative_representation",
    "simplex_grid",
    "to_relative",
    "transfer_conditioning",
    "transfer_matrix",
]

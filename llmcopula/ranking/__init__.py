"""Pairwise ranking and fusion of several LLMs' candidate answers (LLM-Blender and beyond).

Jiang, Ren and Lin (2023), "LLM-Blender: Ensembling Large Language Models with Pairwise Ranking
and Generative Fusion", ACL 2023, arXiv:2306.02561. A :class:`Comparator` ``f(x, y_i, y_j)``
judges two answers; :class:`PairwiseMatrix` / :class:`ComparisonSession` query it with both-order
debiasing and count the calls; :mod:`.aggregation` turns logits into rankings (MaxLogits,
MaxWins, bubble selection, reference rewards); :class:`BradleyTerry` fits strengths with a
position bias and ties to any subset of queried pairs; :func:`active_rank` chooses the pairs
under a budget; :mod:`.diagnostics` checks order-swap consistency and intransitivity;
:func:`rank_and_fuse` feeds the top-K to any fuser; :mod:`.evaluation` holds the MixInstruct
metrics; :mod:`.logged` has comparators over the shipped answer logs; :mod:`.pairrm` is the
optional PairRM adapter (import it explicitly).
"""

from .active import ActiveResult, active_rank, check_budget
from .aggregation import (
    BubbleResult,
    UnequalComparisonsWarning,
    bubble_comparisons,
    bubble_select,
    maxlogits_scores,
    maxwins_scores,
    ranks_from_scores,
    reference_rewards,
    topk_from_scores,
)
from .blend import (
    BlendResult,
    Fuser,
    TopK,
    first_fuser,
    plurality_fuser,
    rank_and_fuse,
    select_top_k,
)
from .bradley_terry import BradleyTerry, davidson_probabilities, records_from_matrix
from .comparator import BatchComparator, Comparator, MatrixComparator
from .diagnostics import (
    IntransitivityReport,
    OrderSwapReport,
    filter_swap_consistent,
    intransitivity,
    max_cyclic_triads,
    order_swap_consistency,
)
from .evaluation import (
    VersusBaseline,
    kendall_tau,
    mean_oracle_rank,
    oracle_win_ranks,
    top_k_hit_rate,
    versus_baseline,
)
from .logged import (
    LoggedAnswer,
    agreement_judge,
    calibrate_pool_confidence,
    confidence_judge,
    logged_candidates,
)
from .matrix import ComparisonSession, PairwiseMatrix, all_pairs, symmetrize
from .simulation import simulate_comparisons, simulate_logits

__all__ = [
    "ActiveResult",
    "BatchComparator",
    "BlendResult",
    "BradleyTerry",
    "BubbleResult",
    "Comparator",
    "ComparisonSession",
    "Fuser",
    "IntransitivityReport",
    "LoggedAnswer",
    "MatrixComparator",
    "OrderSwapReport",
    "PairwiseMatrix",
    "TopK",
    "VersusBaseline",
    "active_rank",
    "agreement_judge",
    "all_pairs",
    "bubble_comparisons",
    "bubble_select",
    "calibrate_pool_confidence",
    "check_budget",
    "confidence_judge",
    "davidson_probabilities",
    "filter_swap_consistent",
    "first_fuser",
    "intransitivity",
    "kendall_tau",
    "logged_candidates",
    "max_cyclic_triads",
    "maxlogits_scores",
    "maxwins_scores",
    "mean_oracle_rank",
    "oracle_win_ranks",
    "order_swap_consistency",
    "plurality_fuser",
    "rank_and_fuse",
    "ranks_from_scores",
    "records_from_matrix",
    "reference_rewards",
    "select_top_k",
    "UnequalComparisonsWarning",
    "simulate_comparisons",
    "simulate_logits",
    "symmetrize",
    "top_k_hit_rate",
    "topk_from_scores",
    "versus_baseline",
]

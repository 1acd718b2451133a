from .floors import bayes_error, effective_number_of_models, equicorrelated_bayes_error, equicorrelated_error_floor, error_pattern_probabilities, fano_lower_bound, information_limit, majority_vote_error  # noqa: F401,E501
from .information import SparsePatternWarning, conditional_mutual_information, entropy, mi_bootstrap_ci, mi_decomposition, mutual_information, permutation_null_threshold  # noqa: F401,E501
from .greedy import SelectionResult, exhaustive_selection, greedy_mi_selection, mrmr_selection, random_selection, select_models, term1_selection, term12_selection, top_k_selection  # noqa: F401,E501
from .aggregation import DawidSkene, MajorityVote, MAPAggregator, WeightedMajorityVote, make_aggregator  # noqa: F401,E501
from .error_model import CorrelatedErrorModel, Simulation  # noqa: F401

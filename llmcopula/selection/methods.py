"""One entry point for every selection strategy: :func:`select_models` and
:data:`SELECTION_METHODS`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numpy.typing import ArrayLike

from llmcopula.selection._compat import is_legacy_order, warn_legacy
from llmcopula.selection.baselines import (
    mrmr_selection,
    random_selection,
    term1_selection,
    term12_selection,
    top_k_selection,
)
from llmcopula.selection.exhaustive import exhaustive_selection
from llmcopula.selection.greedy import greedy_mi_selection
from llmcopula.selection.result import SelectionResult
from llmcopula.selection.set_choice import auto_selection

__all__ = ["SELECTION_METHODS", "DEFAULT_METHOD", "DEFAULT_ESTIMATOR", "DEFAULT_AGGREGATOR",
           "select_models"]

# The defaults of ``llmcopula select`` and of every caller that selects "as select does". The
# estimator was chosen by cross-validation within the shipped training splits of MMLU and
# MedMCQA (benchmarks/bench_selection_defaults.py); the aggregator is chosen for each selected
# set by cross-validation on its training answers ("auto": choose_aggregator, rule "best"),
# which ties the fixed copula-bayes aggregator in nested cross-validation and beats or ties it
# over random splits (benchmarks/bench_aggregator_choice.py; tables in benchmarks/RESULTS.md).
DEFAULT_ESTIMATOR = "gaussian-copula"
DEFAULT_AGGREGATOR = "auto"
# The selection method: "auto" keeps the greedy-MI set or the top-k set, whichever has the
# higher cross-validated accuracy on the training answers (auto_selection). Greedy MI alone lost
# to top-k on MMLU at k = 3 over random splits (benchmarks/bench_aggregator_choice.py,
# benchmarks/RESULTS.md); the choice removes that loss without using test data.
DEFAULT_METHOD = "auto"

_METHODS: dict[str, Callable[..., SelectionResult]] = {
    "auto": auto_selection,
    "greedy-mi": greedy_mi_selection,
    "top-k": top_k_selection,
    "mrmr": mrmr_selection,
    "term1": term1_selection,
    "term12": term12_selection,
    "random": random_selection,
    "exhaustive": exhaustive_selection,
}
SELECTION_METHODS = tuple(_METHODS)


def select_models(X: ArrayLike, y: ArrayLike, *, method: str = "greedy-mi", **kwargs: Any
                  ) -> SelectionResult:
    """Select an ensemble with any of :data:`SELECTION_METHODS`.

    ``kwargs`` are passed to the method's function (``budget``, ``k``, ``costs``, ``names``,
    ``estimator``; ``rng`` for ``"random"``, for greedy MI's permutation stop and for
    ``"auto"``'s folds, ignored by the deterministic methods). ``"auto"`` (the default of
    ``llmcopula select``) keeps the greedy-MI or the top-k set by cross-validation on the
    training answers (:func:`~llmcopula.selection.set_choice.auto_selection`).  The old argument order ``(y, X)`` is deprecated (it warns).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 1, 0, 1, 1, 0])
    >>> X = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [1, 1], [0, 0]])
    >>> select_models(X, y, method="top-k", k=1, warn_sparse=False).selected
    (0,)
    """
    if method not in _METHODS:
        raise ValueError(f"method: expected one of {SELECTION_METHODS}, got {method!r}")
    if is_legacy_order(X, y):
        warn_legacy("select_models", "y, X", "X, y")
        X, y = y, X
    if method not in ("random", "greedy-mi", "auto"):
        rng = kwargs.pop("rng", None)  # deterministic methods: a shared rng argument is harmless
        if kwargs.get("estimator") == "gaussian-copula":
            from llmcopula.selection.copula_information import CopulaInformation

            kwargs["estimator"] = CopulaInformation(rng=rng)  # its draws still need the seed
    return _METHODS[method](X, y, **kwargs)

"""The three kinds of candidate for a cost budget, each with its prediction from training data and,
when a labelled test log is given, its realised test accuracy and cost.

* **Single models**: predicted accuracy = training accuracy, predicted cost = mean training cost.
* **Cascades** of the pool ordered by cost (a registered tuning method, by default the
  Markov-copula model): every point of each candidate cascade's error–cost frontier, with the
  cross-fitted accuracy and cost of tuning at that point's λ (thresholds tuned on K − 1 folds
  of the training queries, the held-out fold routed with them; see
  :mod:`llmcopula.planning.crossfit`), or optionally the model's in-sample values at the tuned
  thresholds.
* **Ensembles** chosen by :func:`~llmcopula.selection.select_models`, without a budget and under
  each budget: every prefix of two or more models of each selection path, with the correlated-error model's
  predicted accuracy of the aggregator (optimism-corrected, with a bootstrap interval,
  :func:`~llmcopula.selection.predict_ensemble`). Its cost per query is the sum of its members'.

Costs are in USD per million queries (the log's ``cost``, ``cost_answer_usd`` for the bundled
data, × 10⁶), the unit of the cascade tuner. ``docs/planning.md`` describes the protocol.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from numpy.typing import NDArray

from llmcopula._validation import RNGLike, check_positive_int, check_rng
from llmcopula.datasets import ChainLog

__all__ = ["Candidates", "order_by_cost", "cascade_candidates_of", "single_candidates",
           "cascade_candidates", "ensemble_candidates", "CASCADE_SETS",
           "CASCADE_PREDICTIONS"]

FloatArray = NDArray[np.float64]
#: Named sets of candidate cascades (see :func:`cascade_candidates_of`).
CASCADE_SETS = ("chains", "pareto", "all")
#: What a cascade candidate's prediction is (see :func:`cascade_candidates`).
CASCADE_PREDICTIONS = ("cross-fit", "in-sample")


@dataclass(frozen=True)
class Candidates:
    """The candidates of one family (``"single"``, ``"cascade"`` or ``"ensemble"``).

    Attributes
    ----------
    family : str
    members : tuple of tuple of str
        The models of each candidate (a cascade's in routing order).
    predicted_accuracy, predicted_cost : ndarray, shape (P,)
        From training data only; cost in USD per million queries.
    test_accuracy, test_cost : ndarray, shape (P,), or None
        Realised on the test log, when one was given.
    predicted_low, predicted_high : ndarray, shape (P,)
        Interval of the prediction where the family has one (ensembles: the bootstrap
        prediction interval of the accuracy on the test log, or of the accuracy itself without
        a test log); NaN otherwise.
    details : tuple of dict
        Per candidate: the cascade's thresholds, the ensemble's aggregator, ...
    """

    family: str
    members: tuple[tuple[str, ...], ...]
    predicted_accuracy: FloatArray
    predicted_cost: FloatArray
    test_accuracy: FloatArray | None = None
    test_cost: FloatArray | None = None
    predicted_low: FloatArray | None = None
    predicted_high: FloatArray | None = None
    details: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.members)

    def describe(self, i: int) -> str:
        """One line naming candidate ``i``."""
        if self.family == "cascade":
            return " -> ".join(self.members[i])
        if self.family == "ensemble":
            name = self.details[i].get("aggregator") if self.details else None
            return "{" + ", ".join(self.members[i]) + "}" + (f" by {name}" if name else "")
        return self.members[i][0]


def _nan(n: int) -> FloatArray:
    return np.full(n, np.nan)


def _check_logs(train: ChainLog, test: ChainLog | None) -> None:
    if not isinstance(train, ChainLog):
        raise ValueError(f"train: expected a ChainLog, got {type(train).__name__}")
    if test is not None:
        if not isinstance(test, ChainLog):
            raise ValueError(f"test: expected a ChainLog or None, got {type(test).__name__}")
        if test.models != train.models:
            raise ValueError(f"test: models {list(test.models)} differ from the training log's "
                             f"{list(train.models)} (same models in the same order)")


def order_by_cost(train: ChainLog, test: ChainLog | None = None
                  ) -> tuple[ChainLog, ChainLog | None]:
    """The logs with their models reordered by mean training cost (ties keep the log's order):
    the chain order in which cascades of the pool are formed.

    Examples
    --------
    >>> from llmcopula.datasets import load_pool
    >>> train, _ = order_by_cost(load_pool("mmlu", "train"))
    >>> train.models[:3], train.models[-1]
    (('llama3.2-1b', 'llama3.2-3b', 'gpt-4o-mini'), 'llama3.1-405b')
    """
    _check_logs(train, test)
    order = [int(i) for i in np.lexsort((np.arange(train.n_models), train.mean_cost))]
    return train.subset(order), None if test is None else test.subset(order)


def _pareto_models(train: ChainLog) -> list[int]:
    """Models not dominated on training accuracy and cost: no other model costs at most as much
    and is at least as accurate, strictly better in one."""
    acc, cost = train.accuracy, train.mean_cost
    keep = []
    for i in range(train.n_models):
        dominated = ((cost <= cost[i]) & (acc >= acc[i]) & ((cost < cost[i]) | (acc > acc[i])))
        if not dominated.any():
            keep.append(i)
    return keep


def cascade_candidates_of(train: ChainLog, cascades: str | Sequence[Sequence[str]] = "chains",
                          *, chains: Sequence[Sequence[str]] | None = None
                          ) -> list[tuple[int, ...]]:
    """The candidate cascades (strictly increasing indices of ``train``'s models, at least two).

    Parameters
    ----------
    train : ChainLog
        Models in chain order (cheapest first, :func:`order_by_cost`).
    cascades : {"chains", "pareto", "all"} or sequence of sequences of model names
        ``"chains"``: every cascade inside one of ``chains`` (for the bundled pool, the two
        shipped chains: 26 + 11 = 37); ``"pareto"``: every cascade of the models on the
        training accuracy–cost Pareto front; ``"all"``: every cascade of the pool (502 for nine
        models); or the cascades themselves, as model names (put in chain order).
    chains : sequence of sequences of model names, optional
        Groups of models for ``"chains"``.

    Examples
    --------
    >>> from llmcopula.datasets import load_pool
    >>> from llmcopula.planning import shipped_chains
    >>> train, _ = order_by_cost(load_pool("mmlu", "train"))
    >>> len(cascade_candidates_of(train, "chains", chains=shipped_chains("mmlu")))
    37
    >>> len(cascade_candidates_of(train, "all"))
    502
    """
    names = train.models
    if isinstance(cascades, str):
        if cascades not in CASCADE_SETS:
            raise ValueError(f"cascades: expected one of {CASCADE_SETS} or a list of cascades, "
                             f"got {cascades!r}")
        if cascades == "all":
            groups = [list(range(len(names)))]
        elif cascades == "pareto":
            groups = [_pareto_models(train)]
        else:
            if chains is None:
                raise ValueError("chains: needed with cascades='chains' (groups of model names)")
            groups = [sorted(_indices(chain, names, "chains")) for chain in chains]
        out: list[tuple[int, ...]] = []
        for group in groups:
            for k in range(2, len(group) + 1):
                out.extend(c for c in itertools.combinations(group, k) if c not in out)
        if not out:
            raise ValueError(f"cascades: {cascades!r} gives no cascade of two or more models")
        return out
    found = []
    for cascade in cascades:
        idx = tuple(sorted(_indices(cascade, names, "cascades")))
        if len(idx) < 2:
            raise ValueError(f"cascades: {list(cascade)} has fewer than two models")
        found.append(idx)
    if not found:
        raise ValueError("cascades: empty list")
    return list(dict.fromkeys(found))


def _indices(models: Sequence[str], names: tuple[str, ...], arg: str) -> list[int]:
    if isinstance(models, str):
        raise ValueError(f"{arg}: expected sequences of model names, got the string {models!r}")
    unknown = [m for m in models if m not in names]
    if unknown:
        raise ValueError(f"{arg}: unknown models {unknown}; the log has {list(names)}")
    idx = [names.index(m) for m in models]
    if len(set(idx)) != len(idx):
        raise ValueError(f"{arg}: a model appears twice in {list(models)}")
    return idx


def single_candidates(train: ChainLog, test: ChainLog | None = None) -> Candidates:
    """Every model alone: training accuracy and mean cost (the prediction), test values."""
    _check_logs(train, test)
    n = train.n_models
    return Candidates(
        "single", tuple((m,) for m in train.models),
        np.asarray(train.accuracy, dtype=np.float64), train.mean_cost * 1e6,
        None if test is None else np.asarray(test.accuracy, dtype=np.float64),
        None if test is None else test.mean_cost * 1e6, _nan(n), _nan(n),
        tuple({} for _ in range(n)))


def cascade_candidates(train: ChainLog, test: ChainLog | None, cascades: Sequence[Sequence[int]],
                       *, method: str = "markov-copula", n_lambdas: int = 30,
                       prediction: str = "cross-fit", n_folds: int = 5, n_jobs: int = 1,
                       rng: RNGLike = None) -> Candidates:
    """Every frontier point of every cascade, tuned on ``train`` by a registered method
    (:func:`~llmcopula.cascade.methods.run_method`) and scored on ``test`` with the shared
    routing code (:func:`~llmcopula.cascade.evaluation.evaluate_frontier`).

    ``train`` and ``test`` hold the models in chain order; ``cascades`` are index tuples of it.
    The method's fit is shared by all cascades; cascades run in parallel with ``n_jobs``.

    ``prediction`` says what the predicted accuracy and cost are: ``"cross-fit"`` (default) the
    ``n_folds``-fold cross-fitted values of the tuning procedure at each point's λ
    (:func:`~llmcopula.planning.crossfit.crossfit_frontiers`), honest on new queries;
    ``"in-sample"`` the method's own values at the thresholds tuned on the same queries
    (optimistic). Both are kept in ``details`` (``in_sample_accuracy``, ``in_sample_cost``).
    """
    from llmcopula.cascade.methods import MethodOptions, get_method, run_method

    _check_logs(train, test)
    tuner = get_method(method)
    if tuner.needs_test:
        raise ValueError(f"cascade_method: {method!r} is tuned on test data; a plan chooses "
                         "on training data only")
    options = MethodOptions(n_lambdas=check_positive_int(n_lambdas, "n_lambdas", minimum=2)
                            ) if "n_lambdas" in tuner.options else MethodOptions()
    if prediction not in CASCADE_PREDICTIONS:
        raise ValueError(f"prediction: expected one of {CASCADE_PREDICTIONS}, got "
                         f"{prediction!r}")
    fitted = tuner.fit(train, options)
    gen = check_rng(rng)
    seeds = gen.integers(0, 2**31 - 1, size=len(cascades))
    crossfit_seed = int(gen.integers(0, 2**31 - 1))
    runs = Parallel(n_jobs=n_jobs)(
        delayed(run_method)(method, train, test, cas, options=options, rng=int(s), fitted=fitted)
        for cas, s in zip(cascades, seeds))
    frontiers = [frontier for frontier, _ in runs]
    if prediction == "cross-fit":
        from llmcopula.planning.crossfit import crossfit_frontiers

        honest = crossfit_frontiers(method, train, cascades, frontiers, options=options,
                                    n_folds=n_folds, n_jobs=n_jobs, rng=crossfit_seed)
    else:
        honest = [(np.asarray(f.accuracy), np.asarray(f.cost)) for f in frontiers]
    members, details, parts = [], [], {k: [] for k in ("acc", "cost", "tacc", "tcost")}
    for frontier, (acc, cost) in zip(frontiers, honest):
        for p in range(len(frontier)):
            members.append(frontier.models)
            details.append({"cascade": frontier.cascade,
                            "thresholds": frontier.thresholds[p].tolist(),
                            "raw_thresholds": frontier.raw_thresholds[p].tolist(),
                            "method": method, "prediction": prediction,
                            "in_sample_accuracy": float(frontier.accuracy[p]),
                            "in_sample_cost": float(frontier.cost[p])})
        parts["acc"].append(acc)
        parts["cost"].append(cost)
        if test is not None:
            parts["tacc"].append(frontier.test_accuracy)
            parts["tcost"].append(frontier.test_cost)
    n = len(members)
    return Candidates(
        "cascade", tuple(members), np.concatenate(parts["acc"]), np.concatenate(parts["cost"]),
        np.concatenate(parts["tacc"]) if test is not None else None,
        np.concatenate(parts["tcost"]) if test is not None else None, _nan(n), _nan(n),
        tuple(details))


def _labels(log: ChainLog, arg: str) -> NDArray[Any]:
    if log.answer is None or log.reference is None:
        raise ValueError(f"{arg}: ensembles need the models' answers and the reference answers "
                         "(labels) in the log")
    if any(r is None for r in log.reference):
        raise ValueError(f"{arg}: {sum(r is None for r in log.reference)} queries have no "
                         "reference answer")
    return np.asarray(log.reference, dtype=str)


def _answers(log: ChainLog) -> NDArray[Any]:
    # An absent answer is an abstention (never equal to a label).
    return np.where(log.answer == None, "", log.answer).astype(str)  # noqa: E711


def _ensemble_sets(X: NDArray[Any], y: NDArray[Any], costs: FloatArray, budgets: FloatArray,
                   method: str, estimator: str, max_size: int, seed: int
                   ) -> list[tuple[int, ...]]:
    """Prefixes of two or more models of the selection path with no budget and under each
    budget (sorted sets, first occurrence order, no repeats)."""
    from llmcopula.selection import select_models

    cheapest_pair = float(np.sort(costs)[:2].sum())
    found: dict[tuple[int, ...], None] = {}
    # The path without a budget (as ``llmcopula select --k max_size``), then each budget's.
    for budget in (None, *budgets):
        if budget is not None and budget < cheapest_pair:
            continue
        result = select_models(X, y, method=method, budget=None if budget is None else
                               float(budget), k=max_size, costs=costs, estimator=estimator,
                               rng=seed, warn_sparse=False)
        for j in range(2, len(result.selected) + 1):
            found.setdefault(tuple(sorted(result.selected[:j])), None)
    return list(found)


def _score_ensemble(cols: tuple[int, ...], X: NDArray[Any], y: NDArray[Any],
                    X_test: NDArray[Any] | None, y_test: NDArray[Any] | None,
                    aggregator: str, classes: NDArray[Any], n_boot: int, level: float,
                    seed: int) -> tuple[tuple[float, float, float, float], str]:
    from llmcopula.selection import predict_ensemble
    from llmcopula.selection.aggregator_choice import resolve_aggregator

    c = list(cols)
    agg, choice = resolve_aggregator(aggregator, X[:, c], y, classes=classes, rng=seed)
    n_test = None if y_test is None else int(y_test.size)
    pred = predict_ensemble(X[:, c], y, agg, n_test=n_test, n_boot=n_boot, level=level,
                            rng=seed)
    low, high = pred.test_interval if pred.test_interval is not None else pred.accuracy_interval
    test_acc = np.nan if X_test is None else float(np.mean(agg.predict(X_test[:, c]) == y_test))
    return (pred.accuracy, low, high, test_acc), aggregator if choice is None else choice.chosen


def ensemble_candidates(train: ChainLog, test: ChainLog | None, budgets: Sequence[float], *,
                        selection_method: str = "greedy-mi", estimator: str | None = None,
                        aggregator: str | None = None, max_size: int = 5, n_boot: int = 50,
                        level: float = 0.9, n_jobs: int = 1, rng: RNGLike = None
                        ) -> Candidates:
    """The ensembles that selection proposes under ``budgets``, with the correlated-error
    model's predictions.

    ``selection_method`` (with ``estimator``) selects up to ``max_size`` models, once without a
    budget and once under each budget (summed mean training cost within it); each prefix of two
    or more models of each path is a candidate, and the budget rule later keeps those that
    fit. Each candidate's ``aggregator`` (``"auto"``: chosen for that set by
    :func:`~llmcopula.selection.choose_aggregator`) is fitted on the training answers, and
    :func:`~llmcopula.selection.predict_ensemble` predicts its accuracy (less the bootstrap
    estimate of its optimism, ``n_boot`` replicates) with a ``level`` interval. Defaults: those
    of ``llmcopula select``.
    """
    from llmcopula.selection.methods import DEFAULT_AGGREGATOR, DEFAULT_ESTIMATOR

    _check_logs(train, test)
    estimator = DEFAULT_ESTIMATOR if estimator is None else estimator
    aggregator = DEFAULT_AGGREGATOR if aggregator is None else aggregator
    max_size = check_positive_int(max_size, "max_size", minimum=2)
    n_boot = check_positive_int(n_boot, "n_boot")
    b = np.atleast_1d(np.asarray(budgets, dtype=np.float64))
    y = _labels(train, "train")
    X = _answers(train)
    X_test = y_test = None
    if test is not None:
        y_test, X_test = _labels(test, "test"), _answers(test)
    classes = np.unique(y if y_test is None else np.concatenate([y, y_test]))
    costs = train.mean_cost * 1e6
    gen = check_rng(rng)
    seed = int(gen.integers(0, 2**31 - 1))
    sets = _ensemble_sets(X, y, costs, b, selection_method, estimator, min(max_size, X.shape[1]),
                          seed)
    from llmcopula.selection import AGGREGATORS
    from llmcopula.selection.aggregator_choice import AUTO

    if aggregator != AUTO and aggregator not in AGGREGATORS:
        raise ValueError(f"aggregator: expected {AUTO!r} or one of {list(AGGREGATORS)}, got "
                         f"{aggregator!r}")
    scored = Parallel(n_jobs=n_jobs)(
        delayed(_score_ensemble)(cols, X, y, X_test, y_test, aggregator, classes, n_boot, level,
                                 seed) for cols in sets)
    n = len(sets)
    arr = np.array([v for v, _ in scored], dtype=np.float64).reshape(n, 4)
    test_cost = None
    if test is not None:
        test_cost = np.array([test.cost[:, list(c)].sum(axis=1).mean() * 1e6 for c in sets])
    return Candidates(
        "ensemble", tuple(tuple(train.models[i] for i in c) for c in sets), arr[:, 0],
        np.array([costs[list(c)].sum() for c in sets]),
        arr[:, 3] if test is not None else None, test_cost, arr[:, 1], arr[:, 2],
        tuple({"aggregator": name, "aggregator_option": aggregator,
               "selection": selection_method, "estimator": estimator, "seed": seed}
              for _, name in scored))

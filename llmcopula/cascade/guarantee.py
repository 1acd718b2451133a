"""A frontier point with a finite-sample accuracy guarantee: Learn-then-Test with fixed-sequence
testing and exact binomial tails.

The promise: the returned rules have accuracy at least A with probability at least 1 − δ over
the draw of the training queries (assumed independent draws from the traffic the policy will
serve). Only the training split is used:

1. The training queries are split at random into a tuning part and a held-out part (a share
   ``holdout``, half by default).
2. The method is fitted and its frontier traced on the tuning part only. Its points, ordered by
   predicted accuracy from the highest down, are the fixed sequence of hypotheses
   H_i: "point i has accuracy < A". The order depends on the tuning part only.
3. Each point's rules route the held-out queries; with k_i of n correct, the exact binomial
   p-value is p_i = P(Bin(n, A) >= k_i), valid for H_i since the tail grows with the accuracy.
4. Fixed-sequence testing: reject H_1, H_2, ... while p_i <= δ and stop at the first p_i > δ.
   This controls the family-wise error rate at δ with no correction for the number of points
   (Westfall & Krishen 2001), so every rejected point has accuracy >= A simultaneously with
   probability >= 1 − δ, and any of them may be returned; the cheapest on the held-out queries is.

This is the Learn-then-Test framework of Angelopoulos, Bates, Candès, Jordan & Lei (2021,
arXiv 2110.01052) with the binomial tail as the p-value. A point's held-out p-value at or below δ is
the same as its one-sided Clopper–Pearson lower bound at 1 − δ being at least A, which the result
reports. The model only orders the hypotheses: a good order (an accurate frontier from the tuning
part) lets the sequence reach cheaper points before it stops, which is where a model that needs
fewer tuning labels saves labels (``benchmarks/RESULTS.md`` measures it against grid search).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .._validation import check_rng
from ..datasets import ChainLog
from .cascades import check_cascade
from .choose import Selection, make_selection
from .evaluation import score_cascade
from .frontier import Frontier
from .methods import Fitted, MethodOptions, run_method

__all__ = ["GuaranteedChoice", "learn_then_test", "fixed_sequence_test"]

FloatArray = NDArray[np.float64]


def fixed_sequence_test(n_correct: Sequence[int], n: int, target: float, delta: float
                        ) -> tuple[NDArray[np.float64], int]:
    """Binomial p-values of "accuracy < target" for points in their testing order, and how many
    leading hypotheses the fixed-sequence procedure rejects at level ``delta``.

    >>> p, n_rejected = fixed_sequence_test([95, 90, 70, 99], 100, 0.8, 0.05)
    >>> n_rejected, bool(p[0] < 1e-4), bool(p[2] > 0.05)
    (2, True, True)
    """
    k = np.asarray(n_correct, dtype=np.int64)
    p = stats.binom.sf(k - 1, n, target)
    fails = np.flatnonzero(p > delta)
    return p, int(fails[0]) if fails.size else int(k.size)


@dataclass(frozen=True)
class GuaranteedChoice:
    """The result of :func:`learn_then_test`.

    Attributes
    ----------
    frontier : Frontier
        Tuned on the tuning part; ``test_*`` hold the held-out values.
    selection : Selection
        The chosen point, with the test's facts in ``selection.info``.
    fitted : Fitted
        What the method fitted on the tuning part (the frontier's model or calibrators).
    tuning, holdout : ChainLog
        The two parts of the training log.
    p_values : ndarray
        Binomial p-values in testing order (``order``), up to and including the first failure.
    order : ndarray of int
        Frontier indices in testing order.
    """

    frontier: Frontier
    selection: Selection
    fitted: Fitted
    tuning: ChainLog
    holdout: ChainLog
    p_values: FloatArray
    order: NDArray[np.intp]


def learn_then_test(method: str, train: ChainLog, cascade: Sequence[int] | None = None, *,
                    target_accuracy: float, confidence_level: float, holdout: float = 0.5,
                    options: MethodOptions | None = None, rng: Any = None) -> GuaranteedChoice:
    """The cheapest frontier point certified to have accuracy >= ``target_accuracy`` with
    probability >= ``confidence_level`` over the draw of the training queries (see the module
    docstring).

    Parameters
    ----------
    method : str
        A registered tuning method (``"markov-copula"``, ``"empirical-copula"``, ``"grid"``, ...).
    train : ChainLog
        Labelled training queries; nothing else is used.
    cascade : sequence of int, optional
    target_accuracy : float
        A, in (0, 1).
    confidence_level : float
        1 − δ, in (0, 1).
    holdout : float
        Share of the training queries held out for the tests, in (0, 1).
    options : MethodOptions, optional
    rng : None, int or Generator
        Seeds the split and the method.

    Raises
    ------
    ValueError
        Naming the argument: a level or share outside (0, 1), too few queries, or no point
        certified (the first point's test already fails: lower the target or the confidence,
        or add labelled queries).

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> train = load_benchmark("mmlu", "llama", "train")
    >>> res = learn_then_test("grid", train, (0, 4), target_accuracy=0.7,
    ...                       confidence_level=0.9, rng=0)
    >>> info = res.selection.info
    >>> bool(info["holdout_lower_bound"] >= 0.7), info["n_holdout"]
    (True, 142)
    """
    for name, value in (("target_accuracy", target_accuracy),
                        ("confidence_level", confidence_level), ("holdout", holdout)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (
                0.0 < float(value) < 1.0):
            raise ValueError(f"{name}: must lie in (0, 1), got {value!r}")
    if not isinstance(train, ChainLog):
        raise ValueError(f"train: expected a ChainLog, got {type(train).__name__}")
    cas = check_cascade(cascade, train.n_models)
    n = train.n_queries
    n_hold = int(round(holdout * n))
    if n_hold < 1 or n - n_hold < 2:
        raise ValueError(f"train: {n} queries are too few to hold out a share {holdout} "
                         f"(the tuning part needs at least 2, the held-out part 1)")
    gen = check_rng(rng)
    perm = gen.permutation(n)
    tuning = train.take(np.sort(perm[n_hold:]))
    held = train.take(np.sort(perm[:n_hold]))
    delta = 1.0 - float(confidence_level)
    front, fitted = run_method(method, tuning, None, cas, options=options, rng=gen)
    res = score_cascade(held, cas, front.raw_thresholds, directions=front.directions)
    front = front.with_test(res["accuracy"], res["cost"], res["stage_usage"])
    order = np.lexsort((-front.cost, -front.accuracy))
    k_correct = np.rint(res["accuracy"][order] * n_hold).astype(np.int64)
    p, n_rej = fixed_sequence_test(k_correct, n_hold, float(target_accuracy), delta)
    tested = order[:min(n_rej + 1, order.size)]
    if n_rej == 0:
        raise ValueError(
            f"target_accuracy: no frontier point is certified at accuracy >= "
            f"{target_accuracy:g} with confidence {confidence_level:g}: the most accurate point "
            f"is right on {k_correct[0]} of {n_hold} held-out queries (binomial p-value "
            f"{p[0]:.3g} > {delta:.3g}); lower the target or the confidence level, or add "
            f"labelled queries")
    certified = order[:n_rej]
    best = int(certified[np.lexsort((certified, front.test_cost[certified]))[0]])
    k_best = int(np.rint(front.test_accuracy[best] * n_hold))
    lower = float(stats.beta.ppf(delta, k_best, n_hold - k_best + 1)) if k_best > 0 else 0.0
    choice = make_selection(front, "target_accuracy", float(target_accuracy), best)
    info = {
        "confidence_level": float(confidence_level),
        "guarantee": ("accuracy >= target with probability >= confidence_level over the draw "
                      "of the training queries: Learn-then-Test, fixed-sequence binomial tests "
                      "on a held-out part of the training split"),
        "n_tuning": int(tuning.n_queries), "n_holdout": int(n_hold),
        "holdout_accuracy": float(front.test_accuracy[best]),
        "holdout_cost": float(front.test_cost[best]),
        "holdout_lower_bound": lower, "n_tested": int(tested.size),
        "n_certified": int(n_rej), "p_value": float(p[int(np.flatnonzero(order == best)[0])]),
    }
    choice = Selection(index=choice.index, other=None, probability=1.0, by=choice.by,
                       value=choice.value, accuracy=choice.accuracy, cost=choice.cost,
                       stage_usage=choice.stage_usage, info=info)
    return GuaranteedChoice(frontier=front, selection=choice, fitted=fitted, tuning=tuning,
                            holdout=held, p_values=p[:tested.size], order=tested)

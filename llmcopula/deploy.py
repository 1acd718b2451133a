"""From a tuned frontier to a deployable policy file.

:func:`build_policy` writes a chosen frontier point (or a mixture of two,
:func:`~llmcopula.cascade.select_point`) as a :class:`~llmcopula.policy.CascadePolicy` with
everything needed to trust it later: the point's rules (a direction and a raw threshold per
stage), the chain's models with their signal type and mean cost, the cost definition, the
predicted accuracy, cost and stage usage with their intervals (when the frontier has them,
:func:`~llmcopula.cascade.frontier_intervals`), how the point was chosen, the method, the
training data's fingerprint (:func:`log_fingerprint`), the package version, and the monitoring
block that ``llmcopula monitor`` reads (:func:`llmcopula.monitoring.reference_profile` of the
training routing of the policy).

This module sits above :mod:`llmcopula.cascade` and :mod:`llmcopula.monitoring` (it needs both);
the policy file it writes is read by :mod:`llmcopula.policy` alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .cascade.choose import Selection, make_selection
from .cascade.frontier import Frontier
from .datasets import ChainLog
from .monitoring import reference_profile
from .policy import CascadePolicy, Mixture, ModelInfo, Rule, ThresholdRule

__all__ = ["build_policy", "log_fingerprint"]


def log_fingerprint(log: ChainLog) -> dict[str, Any]:
    """The training data's fingerprint: number of queries, models, signal and a SHA-256 of the
    log's canonical content.

    The canonical content is, in this order: the models' names, the query ids (as text), the raw
    signals (little-endian float64), the labels (int8) and the per-query costs (float64), each
    in query × model order; two logs with the same content in the same order have the same hash.

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> fp = log_fingerprint(load_benchmark("mmlu", "llama", "train"))
    >>> fp["n_queries"], len(fp["sha256"])
    (285, 64)
    """
    h = hashlib.sha256()

    def add(tag: str, payload: bytes) -> None:
        h.update(tag.encode() + len(payload).to_bytes(8, "little") + payload)

    add("models", "\x1f".join(log.models).encode("utf-8"))
    add("query_ids", "\x1f".join(str(q) for q in log.query_ids).encode("utf-8"))
    add("confidence", np.ascontiguousarray(log.confidence, dtype="<f8").tobytes())
    add("correct", np.ascontiguousarray(log.correct, dtype="i1").tobytes())
    add("cost", np.ascontiguousarray(log.cost, dtype="<f8").tobytes())
    return {"n_queries": int(log.n_queries), "models": list(log.models),
            "signal": log.signal, "benchmark": log.benchmark, "split": log.split,
            "sha256": h.hexdigest()}


def _estimate(value: float, interval: Any, level: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {"estimate": float(value)}
    if interval is not None:
        out["interval"] = [float(interval[0]), float(interval[1])]
        out["level"] = level
    return out


def _predicted(frontier: Frontier, choice: Selection, *, mixture_branch: bool = False
               ) -> dict[str, Any]:
    """The ``predicted`` block of a policy (or of its mixture's second branch)."""
    iv = frontier.intervals
    if mixture_branch or choice.other is None:
        p = choice.other if mixture_branch else choice.index
        acc, cost = float(frontier.accuracy[p]), float(frontier.cost[p])
        usage = frontier.stage_probabilities[p]
        ivd = None if iv is None else iv.point_dict(p)
    else:
        acc, cost, usage = choice.accuracy, choice.cost, choice.stage_usage
        ivd = None if iv is None or iv.draws is None else iv.mixture(
            choice.index, choice.other, choice.probability)
    level = None if ivd is None else ivd["level"]
    out: dict[str, Any] = {
        "source": f"{frontier.method} model of the training split" if frontier.method
        else "training split",
        "accuracy": _estimate(acc, None if ivd is None else ivd["accuracy"], level),
        "cost": _estimate(cost, None if ivd is None else ivd["cost"], level),
        "cost_unit": "USD per million queries",
        "stage_usage": [_estimate(u, None if ivd is None else ivd["stage_usage"][j], level)
                        for j, u in enumerate(usage)],
    }
    if ivd is not None:
        out["interval_method"] = f"{ivd['method']}, {ivd['n_resamples']} resamples of the " \
                                 f"training queries"
    return out


def _rules(frontier: Frontier, p: int) -> list[ThresholdRule]:
    return [ThresholdRule(model=r["model"], direction=r["direction"],
                          raw_threshold=r["raw_threshold"]) for r in frontier.rules(p)]


def build_policy(frontier: Frontier, choice: Selection | int, train: ChainLog, *,
                 cost_definition: str = "cost_answer_usd", method: str | None = None,
                 n_bins: int = 20, rules: Callable[[int], Sequence[Rule]] | None = None
                 ) -> CascadePolicy:
    """The deployable policy of a frontier point (or of a mixture of two).

    Parameters
    ----------
    frontier : Frontier
        Tuned on ``train`` (with :attr:`Frontier.intervals` for predicted intervals).
    choice : Selection or int
        From :func:`select_point`, or a point index.
    train : ChainLog
        The training log: the chain's models, signal and mean costs, the fingerprint, and the
        monitoring reference (the training routing of the policy).
    cost_definition : str
        The recorded cost the log's costs are (``"cost_answer_usd"`` for the bundled data by
        default; ``"cost_usd"`` with ``load_benchmark(..., cost="total")``).
    method : str, optional
        Default ``frontier.method``.
    n_bins : int
        Bins of the monitoring block's signal sketches.
    rules : callable, optional
        ``rules(p)`` gives the rules of frontier point ``p`` (one per stage but the last), for
        methods whose rules are not thresholds on each model's own signal (the posterior
        method: :meth:`llmcopula.cascade.methods.PosteriorMethod.rules`). Default: the
        point's threshold rules (:meth:`Frontier.rules`). The monitoring reference routes the
        training queries with them, with the training log's answers when a rule reads answers.

    Returns
    -------
    CascadePolicy

    Examples
    --------
    >>> from llmcopula.datasets import load_benchmark
    >>> from llmcopula.cascade import EmpiricalCopulaModel, select_point, tune
    >>> train = load_benchmark("mmlu", "llama", "train")
    >>> front = tune(EmpiricalCopulaModel().fit(train), (0, 2, 4), n_lambdas=8, rng=0)
    >>> policy = build_policy(front, select_point(front, budget=100.0), train)
    >>> policy.cascade_models, policy.rules[0].direction
    (('llama3.2-1b', 'llama3.1-8b', 'llama3.1-405b'), 'above')
    >>> policy.training["n_queries"], policy.monitoring["n_queries"]
    (285, 285)
    """
    from . import __version__

    if not isinstance(frontier, Frontier):
        raise ValueError(f"frontier: expected a Frontier, got {type(frontier).__name__}")
    if not isinstance(train, ChainLog):
        raise ValueError(f"train: expected a ChainLog, got {type(train).__name__}")
    if isinstance(choice, (int, np.integer)) and not isinstance(choice, bool):
        if not -len(frontier) <= choice < len(frontier):
            raise ValueError(f"choice: the frontier has {len(frontier)} points, got {choice}")
        choice = make_selection(frontier, "index", float(choice), int(choice) % len(frontier))
    if not isinstance(choice, Selection):
        raise ValueError(f"choice: expected a Selection or a point index, got "
                         f"{type(choice).__name__}")
    missing = [m for m in frontier.models if m not in train.models]
    if missing:
        raise ValueError(f"train: lacks the frontier's models {missing}")
    chain = [ModelInfo(m, signal=train.signal, cost=float(c * 1e6))
             for m, c in zip(train.models, train.mean_cost)]
    point_rules = (lambda p: _rules(frontier, p)) if rules is None else rules
    mixture = None
    if choice.other is not None:
        mixture = Mixture(probability=choice.probability,
                          rules=tuple(point_rules(choice.other)),
                          predicted=_predicted(frontier, choice, mixture_branch=True))
    selection = choice.to_dict()
    if choice.other is not None:
        selection["randomized"] = ("each request uses the rules of point "
                                   f"{choice.index} with probability {choice.probability:.6g} "
                                   f"and those of point {choice.other} otherwise, drawn from "
                                   f"its request id")
    policy = CascadePolicy(
        chain_models=chain, cascade_models=frontier.models,
        rules=tuple(point_rules(choice.index)), cost_definition=cost_definition, mixture=mixture,
        predicted=_predicted(frontier, choice), selection=selection,
        method=method or frontier.method, training=log_fingerprint(train),
        package_version=__version__)
    keys = [f"train-{q}" for q in train.query_ids] if mixture is not None else None
    every_rule = policy.rules + (() if mixture is None else tuple(mixture.rules))
    reads_answers = any(not isinstance(r, ThresholdRule) for r in every_rule)
    profile = reference_profile(policy, train.confidence, train.cost, columns=train.models,
                                correct=train.correct, keys=keys, n_bins=n_bins,
                                answers=train.answer if reads_answers else None)
    return replace(policy, monitoring=profile)

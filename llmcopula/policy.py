"""Deployable cascade policies: the decision rule of a tuned cascade as a versioned file.

A :class:`CascadePolicy` says, for a cascade of LLMs tried in order, when a stage's answer is
accepted and when the query goes on to the next model, in terms of the signals a production
service sees (each model's *raw* confidence signal as recorded, for example the mean token
log-probability of its answer), never in terms of a fitted calibration. It also records what the
tuner promised for it (accuracy, cost and stage usage, with intervals), how it was chosen, and
where it came from, so that a file on its own says what it does.

Decision rule
-------------
A policy for a cascade of k models holds k − 1 rules, one per stage but the last. Stage j's rule
sees the raw signals (and, for rule kinds that use them, the answers) of stages 0..j; if it
accepts, stage j's answer is returned, otherwise the query goes to stage j + 1. The last stage
always answers. The rule kind ``"threshold"`` uses stage j's own signal only::

    {"kind": "threshold", "model": "llama3.2-1b", "direction": "above", "raw_threshold": -0.31}

- ``"above"``: accept iff raw > r; ``"below"``: accept iff raw < r. Ties defer.
- Infinite thresholds are absolute: ``"above" -inf`` and ``"below" +inf`` accept every value,
  including a raw signal of ±inf; ``"above" +inf`` and ``"below" -inf`` accept none. In JSON they
  are the strings ``"inf"`` and ``"-inf"``.
- A missing signal (NaN, e.g. an upstream that returned no log-probabilities) never accepts.

"below" exists because calibration can be decreasing: when higher raw values go with *lower*
probability of being correct, "calibrated confidence > t" is "raw < r".

Randomised policies
-------------------
A target budget between two neighbouring frontier points is reached exactly by using one point
with probability p and the other otherwise. Such a policy has ``mixture`` set: ``rules`` are used
with probability ``mixture.probability`` and ``mixture.rules`` otherwise. The draw is made once
per query, from a key (the request id) by hashing, so that the same query always takes the same
branch and offline replay reproduces a live service.

This module imports only numpy and the standard library, so that a serving process can load and
apply a policy without the fitting stack.

Examples
--------
>>> policy = CascadePolicy(
...     chain_models=[ModelInfo("small", signal="logprob", cost=20.0),
...                   ModelInfo("large", signal="logprob", cost=500.0)],
...     cascade_models=["small", "large"],
...     rules=[ThresholdRule(model="small", direction="above", raw_threshold=-0.1)],
...     cost_definition="cost_answer_usd")
>>> policy.decide(0, [-0.05]), policy.decide(0, [-0.5]), policy.decide(1, [-0.5, -2.0])
(True, False, True)
>>> policy.route([[-0.05, -1.0], [-0.5, -0.2]]).tolist()
[0, 1]
>>> CascadePolicy.from_json(policy.to_json()) == policy
True
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SCHEMA_VERSION",
    "CascadePolicy",
    "ModelInfo",
    "PosteriorRule",
    "Rule",
    "ThresholdRule",
    "normalize_answer",
    "posterior_features",
    "posterior_log_odds",
    "register_rule_kind",
    "rule_from_dict",
    "uniform_from_key",
]

SCHEMA_VERSION = 1
"""Version of the policy file format written by this release. Files of a newer version are
rejected with a clear error rather than misread."""

_FORMAT = "llmcopula.cascade-policy"
_SIGNALS = ("logprob", "p_true")
_DIRECTIONS = ("above", "below")


# --------------------------------------------------------------------------------- helpers
def _json_number(x: float) -> float | str:
    """A float for JSON: ±inf as the strings "inf"/"-inf" (JSON has no infinity)."""
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _parse_number(value: Any, where: str, *, allow_inf: bool = False) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if isinstance(value, str):
        text = value.strip().lower()
        if allow_inf and text in ("inf", "+inf", "infinity", "+infinity"):
            return math.inf
        if allow_inf and text in ("-inf", "-infinity"):
            return -math.inf
        what = 'a number or "inf"/"-inf"' if allow_inf else "a number"
        raise ValueError(f"{where}: expected {what}, got the string {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a number, got {value!r}") from None
    if math.isnan(out) or (math.isinf(out) and not allow_inf):
        raise ValueError(f"{where}: must be a finite number, got {value!r}")
    return out


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
    if key not in data:
        raise ValueError(f"{where}.{key}: missing")
    return data[key]


def uniform_from_key(key: str | int) -> float:
    """A number in [0, 1) determined by ``key`` (SHA-256 of its text), for per-query randomisation
    that is the same in every process and on every machine.

    >>> uniform_from_key("req-1") == uniform_from_key("req-1")
    True
    >>> 0.0 <= uniform_from_key(42) < 1.0
    True
    """
    digest = hashlib.sha256(str(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


# ----------------------------------------------------------------------------------- rules
class Rule:
    """A stage's acceptance rule. Subclasses set ``kind``, and implement :meth:`accepts`,
    :meth:`to_dict` and :meth:`from_dict`; :func:`register_rule_kind` makes a kind loadable."""

    kind: ClassVar[str] = ""
    model: str

    def accepts(self, raws: NDArray[np.float64], answers: Sequence[Sequence[Any]] | None = None
                ) -> NDArray[np.bool_]:
        """Whether the stage accepts, for a batch of queries.

        Parameters
        ----------
        raws : ndarray of shape (n, j + 1)
            Raw signals of stages 0..j (this stage last).
        answers : array of shape (n, j + 1), optional
            Answers of stages 0..j, for rule kinds that use them.
        """
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Rule:
        raise NotImplementedError


_RULE_KINDS: dict[str, type[Rule]] = {}


def register_rule_kind(cls: type[Rule]) -> type[Rule]:
    """Class decorator: make ``cls`` loadable from policy files under ``cls.kind``."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__}: a rule class needs a non-empty 'kind'")
    _RULE_KINDS[cls.kind] = cls
    return cls


def rule_from_dict(data: Mapping[str, Any], where: str = "rule") -> Rule:
    """Build a rule from its JSON object, dispatching on ``kind``."""
    kind = _require(data, "kind", where)
    if kind not in _RULE_KINDS:
        raise ValueError(f"{where}.kind: unknown rule kind {kind!r}; this release knows "
                         f"{sorted(_RULE_KINDS)}")
    return _RULE_KINDS[kind].from_dict(data, where)


@register_rule_kind
@dataclass(frozen=True)
class ThresholdRule(Rule):
    """Accept iff the stage's raw signal is above (or below) a threshold; ties defer.

    Infinite thresholds are absolute: ``above -inf`` and ``below +inf`` accept everything (a raw
    of ±inf included); ``above +inf`` and ``below -inf`` accept nothing. NaN never accepts.

    >>> rule = ThresholdRule(model="m", direction="below", raw_threshold=-1.0)
    >>> rule.accepts(np.array([[-2.0], [-1.0], [0.0], [-np.inf]])).tolist()
    [True, False, False, True]
    >>> ThresholdRule(model="m", direction="above", raw_threshold=-np.inf).accepts(
    ...     np.array([[-np.inf], [np.nan]])).tolist()
    [True, False]
    """

    kind: ClassVar[str] = "threshold"
    model: str
    direction: str
    raw_threshold: float

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(f"model: expected a non-empty model name, got {self.model!r}")
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"direction: expected 'above' or 'below', got {self.direction!r}")
        object.__setattr__(self, "raw_threshold",
                           _parse_number(self.raw_threshold, "raw_threshold", allow_inf=True))

    def accepts(self, raws: NDArray[np.float64], answers: Sequence[Sequence[Any]] | None = None
                ) -> NDArray[np.bool_]:
        x = np.asarray(raws, dtype=np.float64)[:, -1]
        r = self.raw_threshold
        if self.direction == "above":
            if r == -math.inf:
                return ~np.isnan(x)
            return x > r  # NaN compares False; r = +inf accepts nothing
        if r == math.inf:
            return ~np.isnan(x)
        return x < r

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "model": self.model, "direction": self.direction,
                "raw_threshold": _json_number(self.raw_threshold)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> ThresholdRule:
        model = _require(data, "model", where)
        direction = _require(data, "direction", where)
        value = _require(data, "raw_threshold", where)
        if direction not in _DIRECTIONS:
            raise ValueError(f"{where}.direction: expected 'above' or 'below', got {direction!r}")
        if not isinstance(model, str) or not model:
            raise ValueError(f"{where}.model: expected a non-empty model name, got {model!r}")
        return cls(model=model, direction=direction,
                   raw_threshold=_parse_number(value, f"{where}.raw_threshold", allow_inf=True))


# ---------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelInfo:
    """One model of the chain a policy was tuned on.

    Attributes
    ----------
    name : str
    signal : {"logprob", "p_true"} or None
        The raw confidence signal the rules expect: ``"logprob"``, the arithmetic mean of the
        answer's token log-probabilities; ``"p_true"``, log P(yes) of a self-verification call.
    cost : float
        Mean cost of one call in USD per million queries, on the policy's cost definition.
    """

    name: str
    signal: str | None = None
    cost: float = math.nan

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name: expected a non-empty model name, got {self.name!r}")
        if self.signal is not None and self.signal not in _SIGNALS:
            raise ValueError(f"signal: expected one of {_SIGNALS} or None, got {self.signal!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "signal": self.signal}
        out["cost"] = None if math.isnan(self.cost) else float(self.cost)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> ModelInfo:
        name = _require(data, "name", where)
        cost = data.get("cost")
        cost = math.nan if cost is None else _parse_number(cost, f"{where}.cost")
        if cost < 0:
            raise ValueError(f"{where}.cost: must be >= 0, got {cost}")
        signal = data.get("signal")
        if signal is not None and signal not in _SIGNALS:
            raise ValueError(f"{where}.signal: expected one of {_SIGNALS} or null, got {signal!r}")
        return cls(name=name, signal=signal, cost=cost)


# ---------------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class Mixture:
    """The second branch of a randomised policy: the policy's own ``rules`` are used with
    probability ``probability`` and these ``rules`` otherwise."""

    probability: float
    rules: tuple[Rule, ...]
    predicted: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"probability": self.probability,
                               "rules": [r.to_dict() for r in self.rules]}
        if self.predicted is not None:
            out["predicted"] = _to_jsonable(self.predicted)
        return out


def _to_jsonable(obj: Any) -> Any:
    """Plain JSON types, with infinities as strings and NaN as null."""
    if isinstance(obj, Mapping):
        return {str(k): _to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_to_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if math.isnan(x) else _json_number(x)
    return obj


def _freeze(obj: Any) -> Any:
    """A deep, read-only-by-convention copy of JSON-like metadata (tuples for lists)."""
    if isinstance(obj, Mapping):
        return {str(k): _freeze(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return tuple(_freeze(v) for v in obj)
    return obj


@dataclass(frozen=True, eq=True)
class CascadePolicy:
    """A deployable cascade: which models to try in order, and when to accept an answer.

    Parameters
    ----------
    chain_models : sequence of ModelInfo
        The models of the chain the policy was tuned on, in chain order, with each one's signal
        type and mean cost.
    cascade_models : sequence of str
        The cascade's models in the order they are tried (a subsequence of the chain); the last
        one always answers.
    rules : sequence of Rule
        One rule per stage but the last (see the module docstring for the semantics).
    cost_definition : str
        Which recorded cost the policy was tuned on, e.g. ``"cost_answer_usd"`` (the answer call
        only) or ``"cost_usd"`` (every call, a verification call included).
    mixture : Mixture, optional
        Makes the policy randomised between two rule sets (see the module docstring).
    predicted : mapping, optional
        What the tuner promised: ``accuracy``, ``cost`` (USD per million queries) and
        ``stage_usage``, each ``{"estimate": ..., "interval": [lo, hi], "level": ...}``.
    selection : mapping, optional
        How the point was chosen (``{"by": "target_accuracy", "value": 0.85, ...}``).
    method : str, optional
        The tuning method (``"markov-copula"``, ``"empirical-copula"``, ``"grid"``, ...).
    training : mapping, optional
        The training data's fingerprint (``n_queries``, ``sha256``, ...).
    monitoring : mapping, optional
        Reference statistics for drift monitoring, written by the tuner, read by the monitor.
    package_version : str, optional
        Version of llmcopula that wrote the file.
    extra : mapping, optional
        Further metadata, kept as is.

    Notes
    -----
    Instances are immutable values; two policies are equal when every field is.
    """

    chain_models: tuple[ModelInfo, ...]
    cascade_models: tuple[str, ...]
    rules: tuple[Rule, ...]
    cost_definition: str
    mixture: Mixture | None = None
    predicted: Mapping[str, Any] | None = None
    selection: Mapping[str, Any] | None = None
    method: str | None = None
    training: Mapping[str, Any] | None = None
    monitoring: Mapping[str, Any] | None = None
    package_version: str | None = None
    extra: Mapping[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        chain = tuple(self.chain_models)
        for i, m in enumerate(chain):
            if not isinstance(m, ModelInfo):
                raise ValueError(f"chain_models[{i}]: expected a ModelInfo, got "
                                 f"{type(m).__name__}")
        names = [m.name for m in chain]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"chain_models: duplicate model names {dupes}")
        cascade = tuple(self.cascade_models)
        if len(cascade) < 1:
            raise ValueError("cascade_models: needs at least one model")
        unknown = [m for m in cascade if m not in names]
        if unknown:
            raise ValueError(f"cascade_models: {unknown} are not among chain_models {names}")
        pos = [names.index(m) for m in cascade]
        if any(b <= a for a, b in zip(pos, pos[1:])):
            raise ValueError(f"cascade_models: must follow the chain order without repeats, got "
                             f"{list(cascade)} for the chain {names}")
        if not isinstance(self.cost_definition, str) or not self.cost_definition:
            raise ValueError(f"cost_definition: expected a column name such as "
                             f"'cost_answer_usd', got {self.cost_definition!r}")
        rules = self._check_rules(self.rules, cascade, "rules")
        object.__setattr__(self, "chain_models", chain)
        object.__setattr__(self, "cascade_models", cascade)
        object.__setattr__(self, "rules", rules)
        if self.mixture is not None:
            mix = self.mixture
            p = _parse_number(mix.probability, "mixture.probability")
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"mixture.probability: must lie in [0, 1], got {p}")
            mix_rules = self._check_rules(mix.rules, cascade, "mixture.rules")
            object.__setattr__(self, "mixture",
                               Mixture(probability=p, rules=mix_rules,
                                       predicted=None if mix.predicted is None
                                       else _freeze(mix.predicted)))
        for name in ("predicted", "selection", "training", "monitoring", "extra"):
            value = getattr(self, name)
            if value is not None:
                if not isinstance(value, Mapping):
                    raise ValueError(f"{name}: expected a mapping, got {type(value).__name__}")
                object.__setattr__(self, name, _freeze(value))

    @staticmethod
    def _check_rules(rules: Sequence[Rule], cascade: tuple[str, ...], where: str
                     ) -> tuple[Rule, ...]:
        rules = tuple(rules)
        if len(rules) != len(cascade) - 1:
            raise ValueError(f"{where}: a cascade of {len(cascade)} models needs "
                             f"{len(cascade) - 1} rules, got {len(rules)}")
        for j, rule in enumerate(rules):
            if not isinstance(rule, Rule):
                raise ValueError(f"{where}[{j}]: expected a Rule, got {type(rule).__name__}")
            if rule.model != cascade[j]:
                raise ValueError(f"{where}[{j}].model: stage {j} is {cascade[j]!r}, but the rule "
                                 f"is for {rule.model!r}")
            check_inputs = getattr(rule, "check_inputs", None)
            if check_inputs is not None:  # rules that read earlier stages name them
                check_inputs(cascade[: j + 1], f"{where}[{j}]")
        return rules

    # ------------------------------------------------------------------------ properties
    @property
    def n_stages(self) -> int:
        """Number of models in the cascade."""
        return len(self.cascade_models)

    @property
    def is_randomized(self) -> bool:
        """Whether the policy mixes two rule sets."""
        return self.mixture is not None

    def model_info(self, name: str) -> ModelInfo:
        """The :class:`ModelInfo` of a chain model."""
        for m in self.chain_models:
            if m.name == name:
                return m
        raise ValueError(f"name: {name!r} is not a model of this policy's chain")

    # -------------------------------------------------------------------------- decisions
    def rules_for(self, key: str | int | None = None) -> tuple[Rule, ...]:
        """The rule set a query uses: the policy's ``rules``, or for a randomised policy the
        branch that ``key`` (the query's or request's id) draws, via :func:`uniform_from_key`.

        A randomised policy needs ``key``; a deterministic one ignores it.
        """
        if self.mixture is None:
            return self.rules
        if key is None:
            raise ValueError("key: this policy is randomised, so each query needs a key (its "
                             "request id) that decides which rule set it uses")
        return self.rules if uniform_from_key(key) < self.mixture.probability else self.mixture.rules

    def decide(self, stage: int, raws_so_far: Sequence[float],
               answers_so_far: Sequence[Any] | None = None, *, key: str | int | None = None
               ) -> bool:
        """Whether stage ``stage`` (0-based) accepts its answer.

        Parameters
        ----------
        stage : int
            Position in the cascade; the last stage always accepts.
        raws_so_far : sequence of float
            Raw signals of stages ``0..stage``, the current stage's last (at least
            ``stage + 1`` values; extra values are an error).
        answers_so_far : sequence, optional
            Answers of stages ``0..stage``, for rule kinds that compare answers.
        key : str or int, optional
            The request id; needed by randomised policies.
        """
        if isinstance(stage, bool) or not isinstance(stage, (int, np.integer)):
            raise ValueError(f"stage: expected an integer, got {stage!r}")
        if not 0 <= stage < self.n_stages:
            raise ValueError(f"stage: must lie in 0..{self.n_stages - 1}, got {stage}")
        raws = np.asarray(raws_so_far, dtype=np.float64).reshape(-1)
        if raws.size != stage + 1:
            raise ValueError(f"raws_so_far: stage {stage} needs {stage + 1} raw signals (stages "
                             f"0..{stage}), got {raws.size}")
        if answers_so_far is not None and len(answers_so_far) != stage + 1:
            raise ValueError(f"answers_so_far: stage {stage} needs {stage + 1} answers, got "
                             f"{len(answers_so_far)}")
        if stage == self.n_stages - 1:
            return True
        rule = self.rules_for(key)[stage]
        answers = None if answers_so_far is None else [list(answers_so_far)]
        return bool(rule.accepts(raws[None, :], answers)[0])

    def route(self, raw: ArrayLike, *, answers: ArrayLike | None = None,
              columns: Sequence[str] | None = None,
              keys: Sequence[str | int] | None = None) -> NDArray[np.intp]:
        """The stage that answers each query, for a batch of recorded signals.

        Parameters
        ----------
        raw : array_like of shape (n, k) or (n, K)
            Raw signals, one column per cascade model in cascade order; or, with ``columns``,
            one column per named model (e.g. every chain model), of which the cascade's are used.
        answers : array_like of shape like ``raw``, optional
            Answers, for rule kinds that use them.
        columns : sequence of str, optional
            Model names of ``raw``'s columns.
        keys : sequence, optional
            One key per query (request ids), required by randomised policies.

        Returns
        -------
        ndarray of int, shape (n,)
            0-based stage per query.
        """
        x = np.asarray(raw, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"raw: expected a 2-d array (queries × models), got shape {x.shape}")
        ans = None if answers is None else np.asarray(answers, dtype=object)
        if ans is not None and ans.shape != x.shape:
            raise ValueError(f"answers: expected shape {x.shape} like raw, got {ans.shape}")
        if columns is not None:
            cols = list(columns)
            if len(cols) != x.shape[1]:
                raise ValueError(f"columns: raw has {x.shape[1]} columns, got {len(cols)} names")
            missing = [m for m in self.cascade_models if m not in cols]
            if missing:
                raise ValueError(f"columns: lacks the cascade's models {missing}")
            idx = [cols.index(m) for m in self.cascade_models]
            x = x[:, idx]
            ans = None if ans is None else ans[:, idx]
        elif x.shape[1] != self.n_stages:
            raise ValueError(f"raw: expected {self.n_stages} columns (one per cascade model), got "
                             f"{x.shape[1]}; pass columns= to select them by name")
        n = x.shape[0]
        if self.mixture is None:
            return self._route_rules(self.rules, x, ans)
        if keys is None or len(keys) != n:
            raise ValueError(f"keys: this policy is randomised, so route needs one key per query "
                             f"({n}), got {None if keys is None else len(keys)}")
        first = np.array([uniform_from_key(k) < self.mixture.probability for k in keys], dtype=bool)
        out = self._route_rules(self.mixture.rules, x, ans)
        out[first] = self._route_rules(self.rules, x[first], None if ans is None else ans[first])
        return out

    def _route_rules(self, rules: Sequence[Rule], x: NDArray[np.float64],
                     ans: NDArray[Any] | None) -> NDArray[np.intp]:
        n, k = x.shape
        stage = np.full(n, k - 1, dtype=np.intp)
        open_ = np.ones(n, dtype=bool)
        for j, rule in enumerate(rules):
            sub_ans = None if ans is None else ans[:, : j + 1]
            take = open_ & rule.accepts(x[:, : j + 1], sub_ans)
            stage[take] = j
            open_ &= ~take
        return stage

    # ------------------------------------------------------------------------- round trip
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole policy (see :meth:`from_dict`)."""
        out: dict[str, Any] = {
            "format": _FORMAT,
            "schema_version": SCHEMA_VERSION,
            "package_version": self.package_version,
            "chain_models": [m.to_dict() for m in self.chain_models],
            "cascade_models": list(self.cascade_models),
            "cost_definition": self.cost_definition,
            "rules": [r.to_dict() for r in self.rules],
            "mixture": None if self.mixture is None else self.mixture.to_dict(),
        }
        for name in ("predicted", "selection", "method", "training", "monitoring", "extra"):
            value = getattr(self, name)
            if value is not None:
                out[name] = _to_jsonable(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CascadePolicy:
        """Build a policy from its JSON object, checking every field; errors name the field
        (``policy.rules[1].direction: ...``)."""
        where = "policy"
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        fmt = data.get("format", _FORMAT)
        if fmt != _FORMAT:
            raise ValueError(f"{where}.format: expected {_FORMAT!r}, got {fmt!r}")
        version = _require(data, "schema_version", where)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValueError(f"{where}.schema_version: expected a positive integer, got {version!r}")
        if version > SCHEMA_VERSION:
            raise ValueError(f"{where}.schema_version: the file has version {version}, this "
                             f"release reads up to {SCHEMA_VERSION}; upgrade llmcopula")
        chain_raw = _require(data, "chain_models", where)
        if not isinstance(chain_raw, list) or not chain_raw:
            raise ValueError(f"{where}.chain_models: expected a non-empty list")
        chain = [ModelInfo.from_dict(m, f"{where}.chain_models[{i}]")
                 for i, m in enumerate(chain_raw)]
        cascade = _require(data, "cascade_models", where)
        if not isinstance(cascade, list) or not all(isinstance(m, str) for m in cascade):
            raise ValueError(f"{where}.cascade_models: expected a list of model names")
        rules_raw = _require(data, "rules", where)
        if not isinstance(rules_raw, list):
            raise ValueError(f"{where}.rules: expected a list")
        rules = [rule_from_dict(r, f"{where}.rules[{j}]") for j, r in enumerate(rules_raw)]
        mixture = None
        mix = data.get("mixture")
        if mix is not None:
            p = _parse_number(_require(mix, "probability", f"{where}.mixture"),
                              f"{where}.mixture.probability")
            mix_rules_raw = _require(mix, "rules", f"{where}.mixture")
            if not isinstance(mix_rules_raw, list):
                raise ValueError(f"{where}.mixture.rules: expected a list")
            mixture = Mixture(probability=p, predicted=mix.get("predicted"),
                              rules=tuple(rule_from_dict(r, f"{where}.mixture.rules[{j}]")
                                          for j, r in enumerate(mix_rules_raw)))
        known = {f.name for f in fields(cls)} | {"format", "schema_version"}
        extra_raw = data.get("extra") or {}
        if not isinstance(extra_raw, Mapping):
            raise ValueError(f"{where}.extra: expected an object, got {type(extra_raw).__name__}")
        extra = dict(extra_raw)
        extra.update({k: v for k, v in data.items() if k not in known})
        try:
            return cls(chain_models=chain, cascade_models=cascade, rules=rules,
                       cost_definition=_require(data, "cost_definition", where),
                       mixture=mixture, predicted=data.get("predicted"),
                       selection=data.get("selection"), method=data.get("method"),
                       training=data.get("training"), monitoring=data.get("monitoring"),
                       package_version=data.get("package_version"), extra=extra or None)
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None

    def to_json(self, *, indent: int | None = 2) -> str:
        """The policy as JSON text (strict JSON: no NaN or Infinity literals)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> CascadePolicy:
        """Parse :meth:`to_json`'s output."""
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise ValueError(f"policy: not valid JSON ({exc.msg} at line {exc.lineno}, column "
                             f"{exc.colno})") from None
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the policy to ``path`` as JSON (atomically: a temporary file, then a rename)."""
        target = Path(path)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(self.to_json() + "\n", encoding="utf-8")
        os.replace(tmp, target)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CascadePolicy:
        """Read a policy file; errors name the file and the field."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"{p}: no such policy file") from None
        except IsADirectoryError:
            raise ValueError(f"{p}: is a directory, not a policy file") from None
        except UnicodeDecodeError:
            raise ValueError(f"{p}: not UTF-8 text, so not a policy file") from None
        try:
            return cls.from_json(text)
        except ValueError as exc:
            raise ValueError(f"{p}: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"policy: the JSON literal {name} is not allowed (write infinite "
                     f"thresholds as the strings \"inf\" / \"-inf\")")


# ------------------------------------------------------------------------- posterior rules
# A rule that decides on everything the cascade has seen so far: the raw signals of stages
# 0..j and whether stage j's answer agrees with the earlier answers, combined by a logistic
# model (the multi-signal calibrator of ``llmcopula.cascade.posterior``). Its features are
# computed here, in numpy, so that a serving process computes exactly what the tuner scored.

_ARTICLES = frozenset({"a", "an", "the"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NORMALIZERS = ("text",)
_LOG2 = math.log(2.0)
_POSTERIOR_TRANSFORMS = ("one-sided", "two-sided", "identity")


def normalize_answer(answer: Any, *, max_chars: int | None = 64) -> str | None:
    """The comparable form of an answer, or ``None`` when the answer is unknown.

    Unknown: ``None``, NaN, an empty or blank string, a multi-line answer, or one longer than
    ``max_chars`` characters after stripping (the shipped logs blank every answer longer than
    64 characters, so the same rule keeps a deployed policy's features like its training
    features). Otherwise the answer is lower-cased; a number (commas, ``$`` and a trailing
    period removed) becomes its canonical decimal form; other text loses its punctuation
    (Unicode category P), and, when it has several words, the articles "a", "an", "the"
    (the answer normalisation of Rajpurkar et al. 2016, SQuAD, except that a one-word answer
    such as the option letter "A" is kept).

    Examples
    --------
    >>> normalize_answer("The Articles of Confederation."), normalize_answer("Noo-Noo")
    ('articles of confederation', 'noonoo')
    >>> normalize_answer("$1,200.00"), normalize_answer("A"), normalize_answer("  ")
    ('1200', 'a', None)
    >>> normalize_answer("x" * 65) is None, normalize_answer("x" * 65, max_chars=None)
    (True, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')
    """
    if answer is None or (isinstance(answer, float) and math.isnan(answer)):
        return None
    text = str(answer)
    if "\n" in text or "\r" in text:
        return None
    text = text.strip()
    if not text or (max_chars is not None and len(text) > max_chars):
        return None
    text = text.lower()
    number = _canonical_number(text.replace(",", "").replace("$", "").rstrip(".").strip())
    if number is not None:
        return number
    text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    words = text.split()
    if len(words) > 1:
        words = [w for w in words if w not in _ARTICLES] or words
    words = [_canonical_number(w) or w for w in words]
    return " ".join(words) or None


def _canonical_number(text: str) -> str | None:
    """The canonical decimal form of a number written as ``text``, else None."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    if not math.isfinite(value):
        return None
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _log1mexp(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """``log(1 - exp(a))`` for ``a <= 0``, accurate everywhere (Mächler 2012)."""
    out = np.empty_like(a)
    near = a > -_LOG2
    with np.errstate(divide="ignore", invalid="ignore"):
        out[near] = np.log(-np.expm1(a[near]))
        out[~near] = np.log1p(-np.exp(a[~near]))
    return out


def _transform_signal(name: str, raw: NDArray[np.float64]) -> NDArray[np.float64]:
    """The calibration transforms (one-sided / two-sided asymptotic log, identity) in numpy;
    log-probabilities above 0 are invalid and give NaN, like a missing signal."""
    x = np.asarray(raw, dtype=np.float64)
    if name == "identity":
        return x.copy()
    ell = np.where(x > 0, np.nan, x)
    bad = np.isnan(ell)
    ell = np.where(bad, -1.0, ell)
    if name == "one-sided":
        out = -_log1mexp(ell)
    else:  # two-sided
        low = ell < -_LOG2
        out = np.where(low, ell + _LOG2, -_LOG2 - _log1mexp(np.where(low, -1.0, ell)))
    out[bad] = np.nan
    return out


def _agreement(answers: Any, n: int, width: int, normalizer: Mapping[str, Any]
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(agree, disagree), each (n, width − 1): whether the last stage's answer equals (differs
    from) each earlier one's; both 0 where either answer is unknown."""
    ans = np.asarray(answers, dtype=object)
    if ans.shape != (n, width):
        raise ValueError(f"answers: expected shape {(n, width)} like the raw signals, got "
                         f"{ans.shape}")
    max_chars = normalizer.get("max_chars")
    norm = [[normalize_answer(a, max_chars=max_chars) for a in row] for row in ans]
    agree = np.zeros((n, width - 1))
    disagree = np.zeros((n, width - 1))
    for i, row in enumerate(norm):
        last = row[-1]
        if last is None:
            continue
        for j, other in enumerate(row[:-1]):
            if other is not None:
                if other == last:
                    agree[i, j] = 1.0
                else:
                    disagree[i, j] = 1.0
    return agree, disagree


def posterior_features(raws: ArrayLike, answers: Any, *, transforms: Sequence[str],
                       xi_min: Sequence[float], xi_max: Sequence[float],
                       normalizer: Mapping[str, Any] | None, agreement: bool = True
                       ) -> NDArray[np.float64]:
    """The features of a posterior rule at stage j = width − 1, shape (n, 3·width − 2) (or
    (n, width) without ``agreement``): the clipped transformed signals of stages 0..j, then
    the agreement and the disagreement indicators of stage j with each earlier stage (see
    :class:`PosteriorRule`). The multi-signal calibrator is fitted on these columns."""
    x = np.asarray(raws, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(transforms):
        raise ValueError(f"raws: expected shape (n, {len(transforms)}) (stages 0..j), got "
                         f"{x.shape}")
    n, width = x.shape
    xi = np.column_stack([np.clip(_transform_signal(t, x[:, i]), xi_min[i], xi_max[i])
                          for i, t in enumerate(transforms)])
    if not agreement or width == 1:
        return xi
    if answers is None:
        raise ValueError("answers: agreement features need the answers of stages 0..j")
    agree, disagree = _agreement(answers, n, width, normalizer or {})
    return np.hstack([xi, agree, disagree])


def posterior_log_odds(raws: ArrayLike, answers: Any, *, transforms: Sequence[str],
                       xi_min: Sequence[float], xi_max: Sequence[float],
                       signal_coef: Sequence[float], agree_coef: Sequence[float],
                       disagree_coef: Sequence[float], intercept: float,
                       normalizer: Mapping[str, Any]) -> NDArray[np.float64]:
    """The log-odds ``z`` of a posterior rule for a batch of queries (see
    :class:`PosteriorRule`); NaN where a raw signal is missing (NaN)."""
    width = len(transforms)
    agreement = width > 1 and (any(agree_coef) or any(disagree_coef))
    if agreement and answers is None:
        raise ValueError("answers: this posterior rule compares the stage's answer with the "
                         "earlier answers; pass the answers of stages 0..j")
    features = posterior_features(raws, answers, transforms=transforms, xi_min=xi_min,
                                  xi_max=xi_max, normalizer=normalizer, agreement=agreement)
    coef = list(signal_coef) + (list(agree_coef) + list(disagree_coef) if agreement else [])
    return intercept + features @ np.asarray(coef, dtype=np.float64)


def _float_tuple(values: Any, length: int, where: str) -> tuple[float, ...]:
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) != length:
        raise ValueError(f"{where}: expected {length} numbers, got {values!r}")
    return tuple(_parse_number(v, f"{where}[{i}]") for i, v in enumerate(values))


@register_rule_kind
@dataclass(frozen=True)
class PosteriorRule(Rule):
    """Accept iff the posterior log-odds of the stage's answer being correct, given everything
    seen so far, is above (or below) a threshold; ties defer.

    With stages 0..j of the cascade visited, the log-odds is

    .. math::

        z = b_0 + \\sum_{i \\le j} b_i\\, \\mathrm{clip}(T_i(r_i), \\xi^{lo}_i, \\xi^{hi}_i)
              + \\sum_{i < j} (a_i A_{ij} + d_i D_{ij}),

    with r_i the raw signal of stage i, T_i its calibration transform, A_ij = 1 if the
    normalised answers of stages i and j are known and equal, D_ij = 1 if they are known and
    differ (both 0 when either is unknown: :func:`normalize_answer`). The coefficients come from
    a ridge-penalised, cross-fitted logistic regression on training data
    (:class:`~llmcopula.calibration.MultiSignalCalibrator`). A missing raw signal (NaN) of any
    visited stage defers; infinite thresholds are absolute, as for :class:`ThresholdRule`.

    Parameters
    ----------
    model : str
        The stage's model.
    inputs : sequence of str
        Models of stages 0..j (the stage's own last).
    transforms : sequence of {"one-sided", "two-sided", "identity"}
        Each input's raw-signal transform.
    xi_min, xi_max : sequence of float
        Clipping range of each transformed signal (the finite training range).
    signal_coef : sequence of float
        b_i, one per input.
    agree_coef, disagree_coef : sequence of float
        a_i and d_i, one per earlier input.
    intercept : float
    threshold : float
        On the log-odds scale; ``"inf"``/``"-inf"`` in JSON.
    direction : {"above", "below"}, default "above"
    normalizer : mapping, default ``{"kind": "text", "max_chars": 64}``
        The answer normaliser (:func:`normalize_answer` and its ``max_chars``).

    Examples
    --------
    >>> rule = PosteriorRule(model="b", inputs=("a", "b"), transforms=("one-sided",) * 2,
    ...                      xi_min=(0.0, 0.0), xi_max=(5.0, 5.0), signal_coef=(0.2, 1.0),
    ...                      agree_coef=(1.5,), disagree_coef=(-0.5,), intercept=-1.0,
    ...                      threshold=0.0)
    >>> raws = np.log([[0.9, 0.6], [0.9, 0.6], [0.9, 0.6]])  # agree, disagree, unknown:
    >>> rule.accepts(raws, [["Paris", "paris."], ["Paris", "Rome"], ["Paris", None]]).tolist()
    [True, False, True]
    """

    kind: ClassVar[str] = "posterior"
    model: str
    inputs: tuple[str, ...]
    transforms: tuple[str, ...]
    xi_min: tuple[float, ...]
    xi_max: tuple[float, ...]
    signal_coef: tuple[float, ...]
    agree_coef: tuple[float, ...]
    disagree_coef: tuple[float, ...]
    intercept: float
    threshold: float
    direction: str = "above"
    normalizer: Mapping[str, Any] = field(
        default_factory=lambda: {"kind": "text", "max_chars": 64})

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model:
            raise ValueError(f"model: expected a non-empty model name, got {self.model!r}")
        inputs = tuple(self.inputs)
        if not inputs or any(not isinstance(m, str) or not m for m in inputs):
            raise ValueError(f"inputs: expected the model names of stages 0..j, got {inputs!r}")
        if inputs[-1] != self.model:
            raise ValueError(f"inputs: the last input must be the rule's model {self.model!r}, "
                             f"got {inputs[-1]!r}")
        width = len(inputs)
        transforms = tuple(self.transforms)
        if len(transforms) != width or any(t not in _POSTERIOR_TRANSFORMS for t in transforms):
            raise ValueError(f"transforms: expected {width} of {_POSTERIOR_TRANSFORMS}, got "
                             f"{transforms!r}")
        lo = _float_tuple(self.xi_min, width, "xi_min")
        hi = _float_tuple(self.xi_max, width, "xi_max")
        if any(a > b for a, b in zip(lo, hi)):
            raise ValueError(f"xi_min, xi_max: each minimum must be <= its maximum, got {lo} "
                             f"and {hi}")
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"direction: expected 'above' or 'below', got {self.direction!r}")
        norm = self.normalizer
        if not isinstance(norm, Mapping) or norm.get("kind") not in _NORMALIZERS:
            raise ValueError(f"normalizer: expected {{'kind': 'text', 'max_chars': ...}}, got "
                             f"{norm!r}")
        max_chars = norm.get("max_chars")
        if max_chars is not None and (isinstance(max_chars, bool)
                                      or not isinstance(max_chars, int) or max_chars < 1):
            raise ValueError(f"normalizer.max_chars: expected a positive integer or null, got "
                             f"{max_chars!r}")
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "transforms", transforms)
        object.__setattr__(self, "xi_min", lo)
        object.__setattr__(self, "xi_max", hi)
        object.__setattr__(self, "signal_coef", _float_tuple(self.signal_coef, width,
                                                             "signal_coef"))
        object.__setattr__(self, "agree_coef", _float_tuple(self.agree_coef, width - 1,
                                                            "agree_coef"))
        object.__setattr__(self, "disagree_coef", _float_tuple(self.disagree_coef, width - 1,
                                                               "disagree_coef"))
        object.__setattr__(self, "intercept", _parse_number(self.intercept, "intercept"))
        object.__setattr__(self, "threshold", _parse_number(self.threshold, "threshold",
                                                            allow_inf=True))
        object.__setattr__(self, "normalizer", {"kind": norm["kind"], "max_chars": max_chars})

    def __hash__(self) -> int:
        return hash((self.model, self.inputs, self.signal_coef, self.threshold))

    def check_inputs(self, stages: Sequence[str], where: str) -> None:
        """Raise unless the rule's inputs are the cascade's stages 0..j (``stages``)."""
        if tuple(stages) != self.inputs:
            raise ValueError(f"{where}.inputs: the rule reads {list(self.inputs)}, but the "
                             f"cascade's stages up to this one are {list(stages)}")

    def log_odds(self, raws: ArrayLike, answers: Any = None) -> NDArray[np.float64]:
        """The posterior log-odds z of every query (NaN where a signal is missing)."""
        return posterior_log_odds(
            raws, answers, transforms=self.transforms, xi_min=self.xi_min, xi_max=self.xi_max,
            signal_coef=self.signal_coef, agree_coef=self.agree_coef,
            disagree_coef=self.disagree_coef, intercept=self.intercept,
            normalizer=self.normalizer)

    def accepts(self, raws: NDArray[np.float64], answers: Sequence[Sequence[Any]] | None = None
                ) -> NDArray[np.bool_]:
        z = self.log_odds(raws, answers)
        r = self.threshold
        if self.direction == "above":
            return ~np.isnan(z) if r == -math.inf else z > r
        return ~np.isnan(z) if r == math.inf else z < r

    def with_threshold(self, threshold: float, direction: str | None = None) -> PosteriorRule:
        """The same posterior with another threshold (and direction)."""
        from dataclasses import replace

        return replace(self, threshold=threshold,
                       direction=self.direction if direction is None else direction)

    def to_dict(self) -> dict[str, Any]:
        inputs = []
        for i, m in enumerate(self.inputs):
            entry: dict[str, Any] = {"model": m, "transform": self.transforms[i],
                                     "xi_min": self.xi_min[i], "xi_max": self.xi_max[i],
                                     "coef": self.signal_coef[i]}
            if i < len(self.inputs) - 1:
                entry["agree"] = self.agree_coef[i]
                entry["disagree"] = self.disagree_coef[i]
            inputs.append(entry)
        return {"kind": self.kind, "model": self.model, "direction": self.direction,
                "threshold": _json_number(self.threshold), "intercept": self.intercept,
                "inputs": inputs, "answer_normalizer": dict(self.normalizer)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> PosteriorRule:
        inputs = _require(data, "inputs", where)
        if not isinstance(inputs, list) or not inputs:
            raise ValueError(f"{where}.inputs: expected a non-empty list")
        cols: dict[str, list[Any]] = {k: [] for k in ("model", "transform", "xi_min", "xi_max",
                                                      "coef", "agree", "disagree")}
        for i, entry in enumerate(inputs):
            here = f"{where}.inputs[{i}]"
            keys = ["model", "transform", "xi_min", "xi_max", "coef"]
            if i < len(inputs) - 1:
                keys += ["agree", "disagree"]
            for key in keys:
                cols[key].append(_require(entry, key, here))
        try:
            return cls(model=_require(data, "model", where), inputs=tuple(cols["model"]),
                       transforms=tuple(cols["transform"]), xi_min=tuple(cols["xi_min"]),
                       xi_max=tuple(cols["xi_max"]), signal_coef=tuple(cols["coef"]),
                       agree_coef=tuple(cols["agree"]), disagree_coef=tuple(cols["disagree"]),
                       intercept=_require(data, "intercept", where),
                       threshold=_require(data, "threshold", where),
                       direction=data.get("direction", "above"),
                       normalizer=_require(data, "answer_normalizer", where))
        except ValueError as exc:
            raise ValueError(f"{where}.{exc}") from None

"""The upstreams file: where each model of a policy is served, and how its signal and cost are read.

A TOML file with one table per model::

    [models."llama3.2-1b"]
    base_url = "http://127.0.0.1:9001/v1"   # any OpenAI-compatible server
    model = "llama3.2-1b"                  # the upstream's model id
    signal = "logprob"                     # or "p_true"
    aggregation = "mean"                   # token logprobs -> signal: "mean" or "sum"
    price_in = 0.1                         # USD per million input tokens
    price_out = 0.1                        # USD per million output tokens
    timeout_s = 30
    api_key_env = "PROVIDER_API_KEY"       # optional: environment variable holding the key
    max_retries = 1                        # optional: retries after a fault (default 1)
    retry_backoff_s = 0.05                 # optional: first backoff, doubled per retry

Standard library only (``tomllib``), so that the CLI can check the file before starting servers.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from llmcopula.policy import CascadePolicy

__all__ = ["Upstream", "load_upstreams", "parse_upstreams"]

_SIGNALS = ("logprob", "p_true")
_AGGREGATIONS = ("mean", "sum")
_KEYS = {"base_url", "model", "signal", "aggregation", "price_in", "price_out", "timeout_s",
         "api_key_env", "max_retries", "retry_backoff_s"}


@dataclass(frozen=True)
class Upstream:
    """One model's upstream: an OpenAI-compatible endpoint and how to read its answers."""

    name: str
    base_url: str
    model: str
    signal: str = "logprob"
    aggregation: str = "mean"
    price_in: float = 0.0
    price_out: float = 0.0
    timeout_s: float = 30.0
    api_key_env: str | None = None
    max_retries: int = 1
    retry_backoff_s: float = 0.05

    @property
    def chat_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """USD cost of one call from its token counts and the list prices."""
        return (input_tokens * self.price_in + output_tokens * self.price_out) / 1e6

    def api_key(self) -> str | None:
        return None if self.api_key_env is None else os.environ.get(self.api_key_env)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _number(table: Mapping[str, Any], key: str, where: str, default: float, *,
            positive: bool = False) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}.{key}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{where}.{key}: expected a finite number "
                         f"{'> 0' if positive else '>= 0'}, got {value!r}")
    return value


def parse_upstreams(data: Mapping[str, Any], *, source: str = "upstreams") -> dict[str, Upstream]:
    """Validate a parsed upstreams document (``{"models": {name: table}}``)."""
    models = data.get("models")
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"{source}: needs at least one [models.\"NAME\"] table")
    out: dict[str, Upstream] = {}
    for name, table in models.items():
        where = f"{source}: models.{name!r}"
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: expected a table")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(_KEYS)}")
        base_url = table.get("base_url")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{where}.base_url: expected an http(s) URL, got {base_url!r}")
        model = table.get("model", name)
        if not isinstance(model, str) or not model:
            raise ValueError(f"{where}.model: expected the upstream's model id, got {model!r}")
        signal = table.get("signal", "logprob")
        if signal not in _SIGNALS:
            raise ValueError(f"{where}.signal: expected one of {list(_SIGNALS)}, got {signal!r}")
        aggregation = table.get("aggregation", "mean")
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"{where}.aggregation: expected one of {list(_AGGREGATIONS)}, got "
                             f"{aggregation!r}")
        key_env = table.get("api_key_env")
        if key_env is not None and (not isinstance(key_env, str) or not key_env):
            raise ValueError(f"{where}.api_key_env: expected an environment variable name")
        retries = table.get("max_retries", 1)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise ValueError(f"{where}.max_retries: expected an integer in 0..10, got {retries!r}")
        out[str(name)] = Upstream(
            name=str(name), base_url=base_url, model=model, signal=signal,
            aggregation=aggregation, price_in=_number(table, "price_in", where, 0.0),
            price_out=_number(table, "price_out", where, 0.0),
            timeout_s=_number(table, "timeout_s", where, 30.0, positive=True),
            api_key_env=key_env, max_retries=retries,
            retry_backoff_s=_number(table, "retry_backoff_s", where, 0.05))
    return out


def load_upstreams(path: str | os.PathLike[str], policy: CascadePolicy | None = None, *,
                   need_chain: bool = False) -> dict[str, Upstream]:
    """Read and check an upstreams file.

    Parameters
    ----------
    path : path of the TOML file
    policy : CascadePolicy, optional
        When given, every cascade model (and with ``need_chain`` every chain model, as shadow
        traffic needs) must have a table, and each table's ``signal`` must match the policy's.
    need_chain : bool

    Raises
    ------
    ValueError
        ``"<path>: <what is wrong>"`` for a missing file, bad TOML, bad fields, a policy model
        without a table, an API key variable that is not set, or a signal mismatch.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{p}: no such upstreams file") from None
    except (IsADirectoryError, UnicodeDecodeError):
        raise ValueError(f"{p}: not a TOML text file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{p}: not valid TOML ({exc})") from None
    upstreams = parse_upstreams(data, source=str(p))
    if policy is not None:
        wanted = [m.name for m in policy.chain_models] if need_chain else list(
            policy.cascade_models)
        missing = [m for m in wanted if m not in upstreams]
        if missing:
            what = "chain" if need_chain else "cascade"
            raise ValueError(f"{p}: the policy's {what} model(s) {missing} have no "
                             f"[models.\"NAME\"] table" + (" (shadow traffic calls every chain "
                                                            "model)" if need_chain else ""))
        for name in wanted:
            info = policy.model_info(name)
            if info.signal is not None and info.signal != upstreams[name].signal:
                raise ValueError(f"{p}: models.{name!r}.signal is {upstreams[name].signal!r} but "
                                 f"the policy was tuned on {info.signal!r}")
            env = upstreams[name].api_key_env
            if env is not None and not os.environ.get(env):
                raise ValueError(f"{p}: models.{name!r}.api_key_env: the environment variable "
                                 f"{env} is not set")
    return upstreams

"""``llmcopula serve``: an OpenAI-compatible gateway that runs a cascade policy.

``POST /v1/chat/completions`` takes a chat-completion request (OpenAI format, non-streaming) and
tries the policy's cascade models in order. Each stage's upstream gets the client's messages and
parameters unchanged, its own ``model`` id and ``logprobs: true``; the stage's raw signal is read
from the answer (:mod:`llmcopula.serve.signals`) and the policy's rule decides whether the answer
is returned or the request goes on. The response is the answering upstream's ``chat.completion``
JSON with ``model`` set to the answering model's name, and the headers ``x-llmcopula-model``,
``x-llmcopula-stage`` (0-based), ``x-llmcopula-confidence`` (the raw signal),
``x-llmcopula-cost-usd`` (every call made for the request), ``x-request-id`` and
``server-timing`` (``handler``: time in the handler, ``upstream``: the part of it spent waiting
on upstream calls, both in ms).

Faults. An upstream that times out, refuses the connection, answers 5xx, returns malformed JSON
or no logprobs is retried (``max_retries`` times, exponential backoff from ``retry_backoff_s``);
a 4xx answer is not retried. A non-final stage that still fails counts as a deferral (logged with
its fault kind, counted in ``llmcopula_upstream_errors_total``); at the final stage the request
gets HTTP 502 with a JSON error that names the model. Every attempt runs under its
``timeout_s``, so a request takes at most the sum over stages of
``(max_retries + 1) * timeout_s`` plus the backoffs.

Other endpoints: ``GET /v1/models``, ``GET /health`` and ``GET /metrics`` (Prometheus text; see
:mod:`llmcopula.serve.metrics` for several workers). With an API key (``--api-key-env``) the
``/v1`` endpoints need ``Authorization: Bearer <key>`` (401 otherwise); ``/health`` and
``/metrics`` stay open. Past ``max_concurrency`` requests in flight (per worker process), a request
gets 503 at once.

Statelessness. Nothing about a request outlives its response except its call-log rows and
metric increments (and, with shadow traffic, its shadow calls): the cascade's decisions depend
only on the request and the policy (randomised policies draw from the request id), so any number
of gateway processes can run behind a load balancer.

This module imports the policy, the standard library, FastAPI, httpx and prometheus_client only;
never pandas or the fitting stack.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import os
import time
import uuid
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response

from llmcopula.policy import CascadePolicy, uniform_from_key
from llmcopula.serve.call_log import CallLogWriter
from llmcopula.serve.metrics import GatewayMetrics, multiprocess_mode
from llmcopula.serve.signals import (
    SignalError,
    answer_text,
    logprob_signal,
    p_true_signal,
    usage_tokens,
    verification_messages,
)
from llmcopula.serve.upstreams import Upstream, load_upstreams

__all__ = ["CONFIG_ENV", "ServeConfig", "app_from_env", "create_app"]

CONFIG_ENV = "LLMCOPULA_SERVE_CONFIG"
_JSON = "application/json"
_RETRIABLE = frozenset({"timeout", "connect", "transport", "http_5xx", "invalid_json",
                        "no_logprobs", "bad_response"})
_MAX_REQUEST_ID = 200


@dataclass(frozen=True)
class ServeConfig:
    """Everything a gateway worker needs; JSON-serialisable so that workers can read it."""

    policy: str
    upstreams: str
    call_log: str | None = None
    shadow_rate: float = 0.0
    api_key_env: str | None = None
    max_concurrency: int = 256
    workers: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        return cls(**json.loads(text))


@dataclass
class CallResult:
    """The outcome of one model's calls for a request."""

    model: str
    answer: str | None = None
    raw: float = math.nan
    response: dict[str, Any] | None = None
    error: str | None = None
    detail: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cost_answer_usd: float = 0.0
    latency_s: float = 0.0
    attempts: int = 0


@dataclass
class _State:
    policy: CascadePolicy
    upstreams: dict[str, Upstream]
    chain_position: dict[str, int]
    config: ServeConfig
    metrics: GatewayMetrics
    api_key: str | None
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)
    writer: CallLogWriter | None = None
    in_flight: int = 0
    pending: set[asyncio.Task[Any]] = field(default_factory=set)


def _error(status: int, message: str, kind: str, *, headers: Mapping[str, str] | None = None,
           **extra: Any) -> Response:
    body = {"error": {"message": message, "type": kind, **extra}}
    return Response(json.dumps(body), status_code=status, media_type=_JSON,
                    headers=dict(headers or {}))


def _check_request(body: Any) -> str | None:
    """Why a chat-completion request is malformed, or None."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty list of messages"
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            return f"messages[{i}] must be an object with a string 'role'"
        content = msg.get("content")
        if content is not None and not isinstance(content, (str, list)):
            return f"messages[{i}].content must be a string, a list of parts or null"
    if body.get("stream"):
        return ("streaming is not supported: the cascade must see a whole answer and its "
                "logprobs before deciding; send 'stream': false")
    n = body.get("n", 1)
    if n is not None and n != 1:
        return "'n' must be 1: the cascade returns one answer"
    return None


def _classify_status(status: int) -> str:
    return "http_5xx" if status >= 500 else "http_4xx"


async def _post(state: _State, up: Upstream, payload: dict[str, Any], validate: Any
                ) -> tuple[dict[str, Any] | None, str | None, str, int]:
    """POST with bounded retries; returns (json, fault kind, detail, attempts)."""
    client = state.clients[up.name]
    content = json.dumps(payload).encode("utf-8")
    headers = {"content-type": _JSON}
    key = up.api_key()
    if key:
        headers["authorization"] = f"Bearer {key}"
    kind: str | None = None
    detail = ""
    attempt = 0
    for attempt in range(1, up.max_retries + 2):
        try:
            async with asyncio.timeout(up.timeout_s):
                resp = await client.post(up.chat_url, content=content, headers=headers,
                                               timeout=up.timeout_s)
            if resp.status_code >= 400:
                kind, detail = _classify_status(resp.status_code), f"HTTP {resp.status_code}"
            else:
                try:
                    data = json.loads(resp.content)
                except ValueError:
                    kind, detail = "invalid_json", "the response is not valid JSON"
                else:
                    try:
                        validate(data)
                        return data, None, "", attempt
                    except SignalError as exc:
                        kind, detail = exc.kind, str(exc)
        except TimeoutError:
            kind, detail = "timeout", f"no answer within {up.timeout_s:g} s"
        except httpx.TimeoutException:
            kind, detail = "timeout", f"no answer within {up.timeout_s:g} s"
        except httpx.ConnectError as exc:
            kind, detail = "connect", f"cannot connect ({exc.__class__.__name__})"
        except httpx.HTTPError as exc:
            kind, detail = "transport", f"{exc.__class__.__name__}: {exc}"
        if kind not in _RETRIABLE or attempt > up.max_retries:
            break
        await asyncio.sleep(up.retry_backoff_s * 2 ** (attempt - 1))
    return None, kind, detail, attempt


async def _call_model(state: _State, name: str, body: dict[str, Any]) -> CallResult:
    """One model's answer (and, for ``p_true``, its verification) with retries."""
    up = state.upstreams[name]
    start = time.perf_counter()
    out = CallResult(model=name)
    payload = dict(body)
    payload.pop("stream", None)
    payload.pop("stream_options", None)
    payload["model"] = up.model
    payload["logprobs"] = True

    if up.signal == "logprob":
        def validate(data: Any) -> None:
            answer_text(data)
            logprob_signal(data, up.aggregation)
    else:
        def validate(data: Any) -> None:
            answer_text(data)

    data, kind, detail, attempts = await _post(state, up, payload, validate)
    out.attempts = attempts
    if data is None:
        out.error, out.detail = kind, detail
        out.latency_s = time.perf_counter() - start
        return out
    out.response = data
    out.answer = answer_text(data)
    out.input_tokens, out.output_tokens = usage_tokens(data)
    out.cost_answer_usd = up.cost_usd(out.input_tokens, out.output_tokens)
    out.cost_usd = out.cost_answer_usd
    if up.signal == "logprob":
        out.raw = logprob_signal(data, up.aggregation)
    else:
        verify = {k: v for k, v in payload.items() if k not in ("n", "tools", "tool_choice",
                                                                 "response_format")}
        verify.update(messages=verification_messages(body["messages"], out.answer),
                      max_tokens=1, temperature=0, logprobs=True)
        verify.pop("max_completion_tokens", None)
        vdata, kind, detail, _ = await _post(state, up, verify, p_true_signal)
        if vdata is None:
            out.error, out.detail = kind, f"verification call: {detail}"
        else:
            out.raw = p_true_signal(vdata)
            out.cost_usd += up.cost_usd(*usage_tokens(vdata))
    out.latency_s = time.perf_counter() - start
    return out


def _row(state: _State, rid: str, ts: float, res: CallResult, role: str) -> dict[str, Any]:
    stage = (state.policy.cascade_models.index(res.model)
             if res.model in state.policy.cascade_models else None)
    return {"query_id": rid, "model": res.model, "position": state.chain_position[res.model],
            "stage": stage, "role": role,
            "raw_confidence": None if res.error else res.raw, "correct": None,
            "cost_usd": res.cost_usd, "cost_answer_usd": res.cost_answer_usd,
            "input_tokens": res.input_tokens, "output_tokens": res.output_tokens,
            "latency_s": res.latency_s, "answer": res.answer, "error": res.error,
            "attempts": res.attempts, "timestamp": ts}


async def _shadow(state: _State, rid: str, ts: float, body: dict[str, Any],
                  models: list[str]) -> None:
    results = await asyncio.gather(*(_call_model(state, m, body) for m in models))
    for res in results:
        state.metrics.upstream_calls.labels(res.model, "shadow").inc()
        if res.error:
            state.metrics.upstream_errors.labels(res.model, res.error).inc()
        state.metrics.shadow_cost.inc(res.cost_usd)
    if state.writer is not None:
        state.writer.write([_row(state, rid, ts, r, "shadow") for r in results])


async def _run_cascade(state: _State, body: dict[str, Any], rid: str, ts: float,
                       start: float) -> Response:
    policy = state.policy
    k = policy.n_stages
    raws: list[float] = []
    answers: list[Any] = []
    results: list[CallResult] = []
    total = 0.0
    served: CallResult | None = None
    stage = -1
    for j, name in enumerate(policy.cascade_models):
        res = await _call_model(state, name, body)
        results.append(res)
        state.metrics.upstream_calls.labels(name, "cascade").inc()
        total += res.cost_usd
        if res.error:
            state.metrics.upstream_errors.labels(name, res.error).inc()
            raws.append(math.nan)
            answers.append(None)
            continue
        raws.append(res.raw)
        answers.append(res.answer)
        if j == k - 1 or policy.decide(j, raws, answers, key=rid):
            served, stage = res, j
            break
    state.metrics.cost.inc(total)
    if state.writer is not None:
        roles = ["deferred"] * len(results)
        roles[-1] = "served" if served is not None else "failed"
        state.writer.write([_row(state, rid, ts, r, role) for r, role in zip(results, roles)])
    if state.config.shadow_rate > 0 and uniform_from_key(f"{rid}#shadow") < state.config.shadow_rate:
        called = {r.model for r in results}
        others = [m.name for m in policy.chain_models if m.name not in called]
        if others:
            task = asyncio.create_task(_shadow(state, rid, ts, body, others))
            state.pending.add(task)
            task.add_done_callback(state.pending.discard)
    if served is None:
        last = results[-1]
        state.metrics.requests.labels("502").inc()
        return _error(502, f"the final stage's upstream {last.model!r} failed: {last.error}: "
                      f"{last.detail}", "upstream_error", code=last.error, model=last.model,
                      headers={"x-request-id": rid, "x-llmcopula-cost-usd": repr(total)})
    data = dict(served.response or {})
    data["model"] = served.model
    state.metrics.stage_answers.labels(served.model).inc()
    state.metrics.requests.labels("200").inc()
    upstream_s = sum(r.latency_s for r in results)
    handler_s = time.perf_counter() - start
    headers = {"x-llmcopula-model": served.model, "x-llmcopula-stage": str(stage),
               "x-llmcopula-confidence": repr(served.raw), "x-llmcopula-cost-usd": repr(total),
               "x-request-id": rid,
               # time in the handler, and the part of it spent waiting on upstreams (ms)
               "server-timing": f"handler;dur={handler_s * 1e3:.3f}, "
                                f"upstream;dur={upstream_s * 1e3:.3f}"}
    return Response(json.dumps(data), media_type=_JSON, headers=headers)


def _request_id(request: Request) -> str:
    rid = request.headers.get("x-request-id", "")
    if rid and len(rid) <= _MAX_REQUEST_ID and rid.isprintable() and "," not in rid:
        return rid
    return uuid.uuid4().hex


def create_app(config: ServeConfig) -> FastAPI:
    """The gateway app for ``config`` (loads the policy and upstreams now; raises ValueError)."""
    policy = CascadePolicy.load(config.policy)
    upstreams = load_upstreams(config.upstreams, policy, need_chain=config.shadow_rate > 0)
    if not 0.0 <= config.shadow_rate <= 1.0:
        raise ValueError(f"shadow_rate: must lie in [0, 1], got {config.shadow_rate}")
    if config.max_concurrency < 1:
        raise ValueError(f"max_concurrency: must be >= 1, got {config.max_concurrency}")
    api_key = None
    if config.api_key_env:
        api_key = os.environ.get(config.api_key_env)
        if not api_key:
            raise ValueError(f"api_key_env: the environment variable {config.api_key_env} is "
                             "not set")
    state = _State(policy=policy, upstreams=upstreams,
                   chain_position={m.name: i for i, m in enumerate(policy.chain_models)},
                   config=config, metrics=GatewayMetrics(), api_key=api_key)
    # The longest a request (or a shadow call) can take, for the shutdown wait.
    longest = sum((u.max_retries + 1) * (u.timeout_s + u.retry_backoff_s * 2 ** u.max_retries)
                  * (2 if u.signal == "p_true" else 1) for u in upstreams.values())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        # One client (connection pool) per upstream: httpx scans its pool's connections on every
        # request, so small per-upstream pools cost less CPU than one large shared pool.
        state.clients = {name: httpx.AsyncClient(
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            timeout=httpx.Timeout(None)) for name in upstreams}
        state.writer = CallLogWriter(config.call_log) if config.call_log else None
        try:
            yield
        finally:
            if state.pending:
                await asyncio.wait(list(state.pending), timeout=longest + 1.0)
            for client in state.clients.values():
                await client.aclose()
            if state.writer is not None:
                state.writer.close()
            if multiprocess_mode():
                from prometheus_client import multiprocess
                multiprocess.mark_process_dead(os.getpid())

    app = FastAPI(title="llmcopula cascade gateway", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.llmcopula = state

    def authorized(request: Request) -> bool:
        if api_key is None:
            return True
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(),
                                                                  api_key.encode())

    def unauthorized() -> Response:
        state.metrics.requests.labels("401").inc()
        return _error(401, "missing or wrong API key: send 'Authorization: Bearer <key>'",
                      "authentication_error", headers={"www-authenticate": "Bearer"})

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        start = time.perf_counter()
        ts = time.time()
        if not authorized(request):
            return unauthorized()
        if state.in_flight >= config.max_concurrency:
            state.metrics.requests.labels("503").inc()
            return _error(503, f"the gateway is at its limit of {config.max_concurrency} "
                          "requests in flight; retry later", "overloaded",
                          headers={"retry-after": "1"})
        state.in_flight += 1
        try:
            raw_body = await request.body()
            try:
                body = json.loads(raw_body)
            except ValueError:
                body = None
                problem = "the request body is not valid JSON"
            else:
                problem = _check_request(body)
            if problem is not None:
                state.metrics.requests.labels("400").inc()
                return _error(400, problem, "invalid_request_error")
            return await _run_cascade(state, body, _request_id(request), ts, start)
        finally:
            state.in_flight -= 1
            state.metrics.latency.observe(time.perf_counter() - start)

    @app.get("/v1/models")
    async def models(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        created = 0
        data = [{"id": "cascade", "object": "model", "created": created, "owned_by": "llmcopula"}]
        data += [{"id": m, "object": "model", "created": created, "owned_by": "llmcopula"}
                 for m in policy.cascade_models]
        return Response(json.dumps({"object": "list", "data": data}), media_type=_JSON)

    @app.get("/health")
    async def health() -> Response:
        return Response(json.dumps({"status": "ok", "cascade": list(policy.cascade_models),
                                    "in_flight": state.in_flight, "pid": os.getpid()}),
                        media_type=_JSON)

    @app.get("/metrics")
    async def metrics() -> Response:
        payload, content_type = state.metrics.exposition()
        return Response(payload, media_type=content_type)

    return app


def app_from_env() -> FastAPI:
    """App factory for uvicorn workers: the configuration comes from :data:`CONFIG_ENV`."""
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise RuntimeError(f"{CONFIG_ENV} is not set; start the gateway with `llmcopula serve`")
    return create_app(ServeConfig.from_json(text))

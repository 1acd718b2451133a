"""``llmcopula serve``, ``llmcopula replay`` and ``llmcopula monitor``.

Options are checked here, before any server starts, so that bad input gives one line
``llmcopula <command>: error: <what>: <why>`` and exit status 2. The servers need the ``serve``
extra; this module imports neither FastAPI nor pandas at import time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser"]

_EXTRA_HINT = "needs the serve extra: pip install 'llmcopula[serve]'"


def _require_serve_extra(command: str) -> None:
    missing = []
    for module in ("fastapi", "uvicorn", "httpx", "prometheus_client"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ValueError(f"{command}: {_EXTRA_HINT} (missing: {', '.join(missing)})")


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: the OS picks a free port)."""
    if not 0 <= port <= 65535:
        raise ValueError(f"--port: must lie in 0..65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ValueError(f"--host {host}: cannot resolve ({exc.strerror})") from None
    family, _, proto, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM, proto or socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY from the listening socket on Linux. Without it a
    # response written as headers + body waits for the client's delayed ACK (~40 ms) on every
    # kept-alive connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ValueError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.listen(2048)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


# ---------------------------------------------------------------------------------- serve
def _run_serve(args: argparse.Namespace) -> int:
    from llmcopula.policy import CascadePolicy
    from llmcopula.serve.call_log import check_call_log_path, prepare_call_log
    from llmcopula.serve.upstreams import load_upstreams

    _require_serve_extra("serve")
    if args.workers < 1:
        raise ValueError(f"--workers: must be >= 1, got {args.workers}")
    if not 0.0 <= args.shadow_rate <= 1.0:
        raise ValueError(f"--shadow-rate: must lie in [0, 1], got {args.shadow_rate}")
    if args.max_concurrency < 1:
        raise ValueError(f"--max-concurrency: must be >= 1, got {args.max_concurrency}")
    try:
        policy = CascadePolicy.load(args.policy)
    except ValueError as exc:
        raise ValueError(f"--policy {exc}") from None
    try:
        load_upstreams(args.upstreams, policy, need_chain=args.shadow_rate > 0)
    except ValueError as exc:
        raise ValueError(f"--upstreams {exc}") from None
    if args.api_key_env is not None and not os.environ.get(args.api_key_env):
        raise ValueError(f"--api-key-env {args.api_key_env}: the environment variable is not set")
    call_log = None
    if args.call_log is not None:
        try:
            call_log = str(check_call_log_path(args.call_log, workers=args.workers).resolve())
        except ValueError as exc:
            raise ValueError(f"--call-log {exc}") from None
        prepare_call_log(call_log)

    from llmcopula.serve.gateway import CONFIG_ENV, ServeConfig
    from llmcopula.serve.run import FD_ENV

    config = ServeConfig(policy=str(Path(args.policy).resolve()),
                         upstreams=str(Path(args.upstreams).resolve()), call_log=call_log,
                         shadow_rate=args.shadow_rate, api_key_env=args.api_key_env,
                         max_concurrency=args.max_concurrency, workers=args.workers)
    sock = _bind(args.host, args.port)
    sock.set_inheritable(True)
    print(f"llmcopula serve: listening on {_url(sock)} ({args.workers} worker(s); cascade "
          f"{' -> '.join(policy.cascade_models)}; OpenAI base URL {_url(sock)}/v1)",
          file=sys.stderr, flush=True)
    env = dict(os.environ)
    env[CONFIG_ENV] = config.to_json()
    env[FD_ENV] = str(sock.fileno())
    # A fresh interpreter that holds only the serving stack (see llmcopula.serve.run).
    os.execve(sys.executable, [sys.executable, "-m", "llmcopula.serve.run"], env)
    return 0  # pragma: no cover - execve does not return


# --------------------------------------------------------------------------------- replay
def _pairs(values: list[str] | None, option: str, convert: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        model, sep, value = item.rpartition("=")
        if not sep or not model:
            raise ValueError(f"{option} {item}: expected MODEL=VALUE")
        try:
            out[model] = convert(value)
        except ValueError:
            raise ValueError(f"{option} {item}: bad value {value!r}") from None
    return out


def _run_replay(args: argparse.Namespace) -> int:
    _require_serve_extra("replay")
    from llmcopula.serve.replay import ReplayData, create_replay_app

    try:
        data = ReplayData.load(args.benchmark, args.split)
    except ValueError as exc:
        raise ValueError(f"--benchmark {args.benchmark} --split {args.split}: {exc}") from None
    faults = _pairs(args.fault, "--fault", str)
    delays = _pairs(args.delay, "--delay", float)
    app = create_replay_app(data, faults=faults, delays=delays)
    sock = _bind(args.host, args.port)
    print(f"llmcopula replay: listening on {_url(sock)} (OpenAI base URL {_url(sock)}/v1; "
          f"{args.benchmark} {args.split}, {len(data.query_ids)} questions, models "
          f"{', '.join(data.models)})", file=sys.stderr, flush=True)
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, access_log=False, log_level="warning",
                                           lifespan="off"))
    server.run(sockets=[sock])
    return 0


# -------------------------------------------------------------------------------- monitor
def _run_monitor(args: argparse.Namespace) -> int:
    from llmcopula.policy import CascadePolicy
    from llmcopula.serve.monitor import monitor, plot_report, read_calls, read_labels

    if args.window < 0:
        raise ValueError(f"--window: must be >= 0 (0: every request), got {args.window}")
    try:
        policy = CascadePolicy.load(args.policy)
    except ValueError as exc:
        raise ValueError(f"--policy {exc}") from None
    try:
        calls = read_calls(args.log)
    except ValueError as exc:
        raise ValueError(f"--log {exc}") from None
    labels = None
    if args.labels is not None:
        try:
            labels = read_labels(args.labels)
        except ValueError as exc:
            raise ValueError(f"--labels {exc}") from None
    try:
        report = monitor(policy, calls, labels=labels, window=args.window or None,
                         alpha=args.alpha, level=args.level)
    except ValueError as exc:
        raise ValueError(f"--log {args.log}: {exc}") from None
    print(report.to_table())
    if args.json is not None:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + "\n",
                                   encoding="utf-8")
    if args.plot is not None:
        plot_report(report, args.plot)
    return 1 if report.alarm else 0


# ------------------------------------------------------------------------------- parsers
def add_parser(subparsers: Any) -> None:
    """Register ``serve``, ``replay`` and ``monitor``."""
    p = subparsers.add_parser(
        "serve", allow_abbrev=False,
        help="run a cascade policy as an OpenAI-compatible gateway",
        description="Serve POST /v1/chat/completions by running the policy's cascade over "
                    "OpenAI-compatible upstreams; also /v1/models, /health and /metrics. "
                    "Needs the serve extra.")
    p.add_argument("--policy", required=True, help="policy file (JSON)")
    p.add_argument("--upstreams", required=True, help="upstreams file (TOML): one "
                   "[models.\"NAME\"] table per model of the policy")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--call-log", default=None, help="call log to append to (.csv, or .parquet "
                   "with one worker)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    p.add_argument("--shadow-rate", type=float, default=0.0,
                   help="share of requests also sent to every other chain model, logged and "
                        "never served (complete rows for re-tuning; default 0)")
    p.add_argument("--api-key-env", default=None, metavar="NAME",
                   help="require 'Authorization: Bearer <key>' with the key in this environment "
                        "variable")
    p.add_argument("--max-concurrency", type=int, default=256,
                   help="requests in flight per worker before answering 503 (default 256)")
    p.set_defaults(func=_run_serve)

    r = subparsers.add_parser(
        "replay", allow_abbrev=False,
        help="serve the bundled logs as OpenAI-compatible upstreams",
        description="Serve every bundled model of a benchmark split at /v1/chat/completions: "
                    "the bundled question in the prompt is recognised and answered with the "
                    "model's recorded answer, token counts and log-probabilities. Needs the "
                    "serve extra.")
    r.add_argument("--benchmark", required=True, choices=("mmlu", "medmcqa"))
    r.add_argument("--split", default="test", choices=("train", "test"))
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--port", type=int, default=9001, help="port (default 9001; 0: any free port)")
    r.add_argument("--fault", action="append", metavar="MODEL=KIND",
                   help="make a model fail (no_logprobs, invalid_json or http_500), for trying "
                        "a gateway's fault handling; repeatable")
    r.add_argument("--delay", action="append", metavar="MODEL=SECONDS",
                   help="make a model answer late; repeatable")
    r.set_defaults(func=_run_replay)

    m = subparsers.add_parser(
        "monitor", allow_abbrev=False,
        help="check a call log against what the policy promised (drift)",
        description="Compare the most recent window of a gateway's call log with the policy's "
                    "reference statistics: per-stage acceptance rates, per-stage signal "
                    "distributions, mean cost and (with labels) accuracy, with Holm's "
                    "correction. Exit status 0 within bounds, 1 on an alarm, 2 on bad input.")
    m.add_argument("--policy", required=True, help="policy file with a monitoring block")
    m.add_argument("--log", required=True, help="call log written by llmcopula serve")
    m.add_argument("--labels", default=None, help="labels: query_id with reference, or correct")
    m.add_argument("--window", type=int, default=500,
                   help="number of most recent requests to check (default 500; 0: all)")
    m.add_argument("--alpha", type=float, default=0.05,
                   help="family-wise false-alarm rate per check (default 0.05)")
    m.add_argument("--level", type=float, default=0.95,
                   help="coverage of the printed sampling intervals (default 0.95)")
    m.add_argument("--json", default=None, help="also write the report as JSON here")
    m.add_argument("--plot", default=None, help="also save a figure of the report here (PNG)")
    m.set_defaults(func=_run_monitor)

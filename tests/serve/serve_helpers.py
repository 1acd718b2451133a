"""Helpers of the serving tests: the policy builder, upstream files, prompts, and real servers on
127.0.0.1 (ports from the OS)."""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from llmcopula.cascade import EmpiricalCopulaModel, frontier_intervals, select_point, tune
from llmcopula.datasets import load_benchmark
from llmcopula.deploy import build_policy
from llmcopula.policy import CascadePolicy

PRICES = {  # USD per million input / output tokens (the bundled data's README)
    "llama3.2-1b": (0.10, 0.10), "llama3.2-3b": (0.10, 0.10), "llama3.1-8b": (0.20, 0.20),
    "llama3.1-70b": (0.90, 0.90), "llama3.1-405b": (3.00, 3.00), "gpt-4o-mini": (0.15, 0.60),
    "qwen2.5-32b-coder-instruct": (0.90, 0.90), "qwen2.5-72b-instruct": (0.90, 0.90),
    "gpt-4o": (2.50, 10.00),
}
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


# ------------------------------------------------------------------------ policies
@functools.lru_cache(maxsize=None)
def tuned_frontier(benchmark: str, chain: str, cascade: tuple[str, ...]):
    """(train, frontier with intervals) of the empirical-copula tuner on a bundled training split,
    as the README's deployment walk-through tunes it."""
    train = load_benchmark(benchmark, chain, "train")
    model = EmpiricalCopulaModel().fit(train)
    cas = tuple(train.models.index(m) for m in cascade)
    front = frontier_intervals(tune(model, cascade=cas, n_lambdas=12, rng=0), train, model=model,
                               rng=0)
    return train, front


def build_test_policy(benchmark: str, chain: str, cascade: tuple[str, ...], *,
                      target_accuracy: float | None = None, mix: bool = False) -> CascadePolicy:
    """THE policy builder of the serving tests: the official one (:func:`build_policy`) on a
    frontier tuned on the training split, chosen by target accuracy.

    The default target is halfway between the cheapest and the most accurate point's predicted
    accuracy, so that every non-final stage both accepts and defers; ``mix=True`` allows the
    randomised mixture of two neighbouring hull points (keyed by request id).
    """
    train, front = tuned_frontier(benchmark, chain, tuple(cascade))
    if target_accuracy is None:
        target_accuracy = float(front.accuracy.min() + 0.5 * (front.accuracy.max()
                                                              - front.accuracy.min()))
    return build_policy(front, select_point(front, target_accuracy=target_accuracy, mix=mix),
                        train, method="empirical-copula")


def write_upstreams(path: Path, models, base_url: str | dict[str, str], *, timeout_s: float = 5.0,
                    max_retries: int = 1, backoff: float = 0.01, signal: str = "logprob") -> Path:
    lines = []
    for m in models:
        url = base_url[m] if isinstance(base_url, dict) else base_url
        p_in, p_out = PRICES[m]
        lines += [f'[models."{m}"]', f'base_url = "{url}"', f'model = "{m}"',
                  f'signal = "{signal}"', 'aggregation = "mean"', f"price_in = {p_in}",
                  f"price_out = {p_out}", f"timeout_s = {timeout_s}",
                  f"max_retries = {max_retries}", f"retry_backoff_s = {backoff}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def prompt_of(row) -> str:
    """A zero-shot multiple-choice prompt around a bundled question (texts sent unchanged)."""
    return (f"Answer the following multiple-choice question with the letter of the correct "
            f"option only.\n\nQuestion: {row.question}\nA. {row.A}\nB. {row.B}\nC. {row.C}\n"
            f"D. {row.D}\nAnswer:")


# ------------------------------------------------------------------------- servers
class ServerProcess:
    """A CLI server started as a subprocess; ``url`` is read from its "listening on" line."""

    def __init__(self, args: list[str], log_dir: Path, name: str, env: dict | None = None,
                 timeout: float = 60.0) -> None:
        self.stderr_path = log_dir / f"{name}.stderr"
        self._stderr = self.stderr_path.open("w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([sys.executable, "-m", "llmcopula.cli", *args],
                                     stdout=subprocess.DEVNULL, stderr=self._stderr,
                                     env=full_env, start_new_session=True)
        deadline = time.monotonic() + timeout
        self.url = None
        while time.monotonic() < deadline:
            text = self.stderr_path.read_text()
            match = _LISTENING.search(text)
            if match:
                self.url = match.group(1)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if self.url is None:
            self.stop()
            raise RuntimeError(f"{name} did not start:\n{self.stderr_path.read_text()}")
        self._wait_ready(deadline)

    def _wait_ready(self, deadline: float) -> None:
        import httpx

        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server at {self.url} did not become healthy:\n"
                           f"{self.stderr_path.read_text()}")

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful shutdown), then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.stop()

    def stop(self) -> None:
        """Make sure the process group is gone (SIGKILL after a short grace)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        else:
            try:  # worker processes of a stopped supervisor, if any
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._stderr.close()


class ThreadServer:
    """An ASGI app served by uvicorn in a thread of the test process, on a port from the OS.

    Cheaper to start than a process; :meth:`stop` runs the app's shutdown (which flushes a
    gateway's call log) and joins the thread.
    """

    def __init__(self, app, timeout: float = 30.0) -> None:
        import socket
        import threading

        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the in-thread server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

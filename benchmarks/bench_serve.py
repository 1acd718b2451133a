"""Gateway throughput and overhead, with instant replay upstreams on this machine.

Starts ``llmcopula replay`` (MMLU test) and ``llmcopula serve`` with a 3-model Llama cascade
(1b > 8b > 405b, each non-final stage accepting the upper half of its training signal) as
subprocesses on 127.0.0.1, then drives the gateway with an async load generator (asyncio,
one process, keep-alive HTTP/1.1 on asyncio streams) over the 1531 MMLU test prompts:

- throughput: requests per second at a fixed concurrency through the cascade with ``--workers``
  uvicorn workers (target >= 300 with 2 workers);
- overhead at concurrency 1: the gateway's own time per request, i.e. the handler's time not
  spent waiting on upstreams (from the ``server-timing`` header; target p99 <= 5 ms); also the
  client-side latency of a gateway request minus that of direct calls to the same upstreams.

Everything (load generator, gateway workers, replay server) shares the machine's cores, so the
throughput is what this machine sustains end to end, not the gateway alone.

    python benchmarks/bench_serve.py --workers 2 --concurrency 64 --requests 6000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "serve"))
from serve_helpers import build_test_policy, prompt_of, write_upstreams

from llmcopula.datasets import load_questions

CASCADE = ("llama3.2-1b", "llama3.1-8b", "llama3.1-405b")
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


def start(args: list[str], log: Path) -> tuple[subprocess.Popen, str]:
    fh = log.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "llmcopula.cli", *args], stderr=fh,
                            stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = _LISTENING.search(log.read_text())
        if match:
            url = match.group(1)
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        return proc, url
                except httpx.HTTPError:
                    time.sleep(0.05)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(log.read_text())


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class _Connection:
    """A keep-alive HTTP/1.1 connection on asyncio streams: a load generator that costs the
    client a small fraction of what a full client library costs per request, so that the
    measured server is not starved of CPU by its own load generator on a 2-core machine."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        self.writer.write(head.encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


async def load(url: str, bodies: list[bytes], n: int, concurrency: int
               ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, int]:
    """Send n requests with ``concurrency`` in flight (one keep-alive connection each); returns
    the elapsed time, client latencies, and the handler and upstream times reported in the
    ``server-timing`` header (s), and the number of failed requests."""
    host, port = _host_port(url)
    lat, handler, upstream = np.zeros(n), np.zeros(n), np.zeros(n)
    failures = 0
    counter = iter(range(n))

    async def worker() -> None:
        nonlocal failures
        conn = _Connection(host, port)
        try:
            for i in counter:
                t0 = time.perf_counter()
                status, headers, _ = await conn.post("/v1/chat/completions",
                                                     bodies[i % len(bodies)])
                lat[i] = time.perf_counter() - t0
                if status != 200:
                    failures += 1
                    continue
                timing = dict(re.findall(r"(\w+);dur=([\d.]+)", headers["server-timing"]))
                handler[i] = float(timing["handler"]) / 1e3
                upstream[i] = float(timing["upstream"]) / 1e3
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, lat, handler, upstream, failures


async def direct(url: str, bodies_per_stage: list[list[bytes]], n: int) -> np.ndarray:
    """Client latency of calling the upstreams directly, stage after stage, as the gateway did."""
    conn = _Connection(*_host_port(url))
    lat = np.zeros(n)
    try:
        for i in range(n):
            t0 = time.perf_counter()
            for body in bodies_per_stage[i]:
                await conn.post("/v1/chat/completions", body)
            lat[i] = time.perf_counter() - t0
    finally:
        conn.close()
    return lat


def _cpu(procs) -> float:
    """User + system CPU seconds of processes (psutil), 0 when unavailable."""
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except Exception:
            pass
    return total


def _processes(pid: int) -> list:
    try:
        import psutil
    except ImportError:
        return []
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def main() -> None:
    import json

    parser = argparse.ArgumentParser(allow_abbrev=False)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--overhead-requests", type=int, default=2000)
    parser.add_argument("--call-log", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    policy = build_test_policy("mmlu", "llama", CASCADE)
    policy.save(tmp / "policy.json")
    questions = load_questions("mmlu", "test")
    bodies = [json.dumps({"model": "cascade", "messages": [
        {"role": "user", "content": prompt_of(row)}]}).encode()
        for row in questions.itertuples(index=False)]
    replay, replay_url = start(["replay", "--benchmark", "mmlu", "--split", "test", "--port",
                                "0"], tmp / "replay.log")
    try:
        write_upstreams(tmp / "up.toml", CASCADE, replay_url + "/v1")
        serve_args = ["serve", "--policy", str(tmp / "policy.json"), "--upstreams",
                      str(tmp / "up.toml"), "--port", "0", "--workers", str(args.workers),
                      "--max-concurrency", "4096"]
        if args.call_log:
            serve_args += ["--call-log", str(tmp / "calls.csv")]
        gateway, url = start(serve_args, tmp / "serve.log")
        try:
            # warm-up: every prompt once (fills the replay's match cache as in a long run)
            asyncio.run(load(url, bodies, len(bodies), 32))
            gw_procs, rp_procs = _processes(gateway.pid), _processes(replay.pid)
            cpu0 = (_cpu(gw_procs), _cpu(rp_procs), time.process_time())
            elapsed, lat, _, _, failures = asyncio.run(
                load(url, bodies, args.requests, args.concurrency))
            cpu1 = (_cpu(gw_procs), _cpu(rp_procs), time.process_time())
            cpu_ms = [(b - a) / args.requests * 1e3 for a, b in zip(cpu0, cpu1)]
            n1 = args.overhead_requests
            _, lat1, handler1, upstream1, failures1 = asyncio.run(load(url, bodies, n1, 1))
        finally:
            stop(gateway)
        # the same upstream calls made directly, stage after stage
        stages = policy.route(
            __import__("llmcopula.datasets", fromlist=["load_benchmark"]).load_benchmark(
                "mmlu", "llama", "test").confidence,
            columns=[m.name for m in policy.chain_models])
        per_stage = []
        for i in range(n1):
            q = i % len(bodies)
            msg = json.loads(bodies[q])["messages"]
            per_stage.append([json.dumps({"model": CASCADE[j], "messages": msg,
                                          "logprobs": True}).encode()
                              for j in range(stages[q] + 1)])
        lat_direct = asyncio.run(direct(replay_url, per_stage, n1))
    finally:
        stop(replay)

    overhead = handler1 - upstream1
    cpu = platform.processor() or ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"machine: {os.cpu_count()} cores, {cpu}; load average before the run's end "
          f"{os.getloadavg()}")
    print(f"cascade {' > '.join(CASCADE)}, {args.workers} worker(s), call log "
          f"{'on' if args.call_log else 'off'}, mean stages per request "
          f"{np.mean([len(s) for s in per_stage]):.2f}")
    print(f"throughput: {args.requests} requests at concurrency {args.concurrency}: "
          f"{args.requests / elapsed:.0f} req/s ({failures} failures); latency p50 "
          f"{np.median(lat) * 1e3:.1f} ms, p99 {np.quantile(lat, 0.99) * 1e3:.1f} ms")
    print(f"CPU per request: gateway (all workers) {cpu_ms[0]:.2f} ms, replay upstreams "
          f"{cpu_ms[1]:.2f} ms, load generator {cpu_ms[2]:.2f} ms; total {sum(cpu_ms):.2f} ms, "
          f"so {os.cpu_count()} idle cores would sustain about "
          f"{os.cpu_count() * 1e3 / sum(cpu_ms):.0f} req/s (gateway alone: "
          f"{os.cpu_count() * 1e3 / cpu_ms[0]:.0f})")
    print(f"concurrency 1, {n1} requests ({failures1} failures): gateway overhead (handler time "
          f"not waiting on upstreams) p50 {np.median(overhead) * 1e3:.2f} ms, p99 "
          f"{np.quantile(overhead, 0.99) * 1e3:.2f} ms, max {overhead.max() * 1e3:.2f} ms")
    added = lat1 - lat_direct
    print(f"client latency via the gateway p50 {np.median(lat1) * 1e3:.2f} ms vs direct calls "
          f"to the same upstreams p50 {np.median(lat_direct) * 1e3:.2f} ms: added p50 "
          f"{np.median(added) * 1e3:.2f} ms, p99 of the difference "
          f"{(np.quantile(lat1, 0.99) - np.quantile(lat_direct, 0.99)) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()

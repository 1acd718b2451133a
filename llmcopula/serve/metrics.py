"""Prometheus metrics of the gateway.

With one worker the metrics live in a registry of the app. With several workers (``--workers N``)
each worker is a separate process, so ``llmcopula serve`` switches prometheus_client to its
multiprocess mode: it points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory before the workers
start, every worker writes its counters and histograms to memory-mapped files there, and
``/metrics``, whichever worker answers it, sums the files of all workers. Counts are therefore
totals over the whole server, not the answering worker's. The directory is removed when the server
stops; a user who sets ``PROMETHEUS_MULTIPROC_DIR`` owns its directory (it must be empty at start).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["GatewayMetrics", "multiprocess_mode"]

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def multiprocess_mode() -> bool:
    """Whether prometheus_client runs in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class GatewayMetrics:
    """The gateway's counters and latency histogram, and their exposition."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self._multiprocess = multiprocess_mode()
        # In multiprocess mode values go to the shared files whatever the registry; a private
        # registry keeps several apps in one process (tests) from clashing.
        registry = CollectorRegistry(auto_describe=True)
        self.registry = registry
        self.requests = Counter("llmcopula_requests", "Chat-completion requests by HTTP status.",
                                ["code"], registry=registry)
        self.stage_answers = Counter("llmcopula_stage_answers",
                                     "Requests answered, by the answering model.", ["model"],
                                     registry=registry)
        self.upstream_errors = Counter("llmcopula_upstream_errors",
                                       "Upstream calls that failed after their retries, by model "
                                       "and fault kind.", ["model", "kind"], registry=registry)
        self.upstream_calls = Counter("llmcopula_upstream_calls",
                                      "Answer calls made to upstreams (cascade and shadow), by "
                                      "model.", ["model", "role"], registry=registry)
        self.cost = Counter("llmcopula_cost_usd", "USD spent on the calls made for requests "
                            "(every stage reached, verification included; shadow calls "
                            "excluded).", registry=registry)
        self.shadow_cost = Counter("llmcopula_shadow_cost_usd", "USD spent on shadow calls.",
                                   registry=registry)
        self.latency = Histogram("llmcopula_request_latency_seconds",
                                 "Time from receiving a chat-completion request to its response.",
                                 buckets=_BUCKETS, registry=registry)

    def exposition(self) -> tuple[bytes, str]:
        """The metrics in Prometheus text format, and the content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if self._multiprocess:
            from prometheus_client import multiprocess

            registry: Any = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        return generate_latest(registry), CONTENT_TYPE_LATEST

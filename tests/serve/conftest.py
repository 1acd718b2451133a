"""Fixtures of the serving tests: real servers on 127.0.0.1 (ports from the OS) that are always
stopped by the fixtures' finalizers, even when a test fails."""

from __future__ import annotations

import pytest
from serve_helpers import ServerProcess


@pytest.fixture
def start_server(tmp_path):
    """Factory: ``start_server(args, name)`` starts a CLI server; all are stopped at teardown."""
    started: list[ServerProcess] = []

    def start(args: list[str], name: str, env: dict | None = None) -> ServerProcess:
        server = ServerProcess(args, tmp_path, name, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def mmlu_replay(tmp_path_factory):
    """One replay server of the MMLU test split for a whole test module."""
    server = ServerProcess(["replay", "--benchmark", "mmlu", "--split", "test", "--port", "0"],
                           tmp_path_factory.mktemp("replay"), "replay")
    yield server
    server.stop()


@pytest.fixture
def start_app():
    """Factory: ``start_app(app)`` serves an ASGI app in a thread; all are stopped at teardown."""
    started = []

    def start(app):
        from serve_helpers import ThreadServer

        server = ThreadServer(app)
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.stop()

"""Shared fixtures: a real hookcatcher server on a free loopback port, and an httpx client of
it. Every wait is bounded. Helpers that are not fixtures are in tests/helpers/.

The test folders mirror the package: tests/<subpackage>/ tests hookcatcher/<subpackage>/;
what checks the whole package (layers, packaging, redaction everywhere) stays here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from helpers.api import TIMEOUT
from helpers.process import Running

from hookcatcher.check.validation import Validator
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()


@pytest.fixture
def make_server(validator: Validator) -> Iterator[Callable[..., BackgroundServer]]:
    """Start servers with the store limits (and answer rules) a test needs; all are stopped
    afterwards."""
    started: list[BackgroundServer] = []

    def make(answers: Answers | None = None, **store_options: Any) -> BackgroundServer:
        # Not pacing the collector: in a test process, a heap frozen per server would keep
        # every earlier test's reference cycles alive (tests/receive/test_runner.py tests the
        # pacer).
        server = BackgroundServer(
            create_app(Store(**store_options), validator, answers), pace_collector=False
        ).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., BackgroundServer]) -> BackgroundServer:
    return make_server()


@pytest.fixture
def client(server: BackgroundServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        yield http


@pytest.fixture
def run() -> Iterator[Callable[..., Running]]:
    """Start hookcatcher processes (`run("serve", "--port", "0")`); any still running are
    killed afterwards."""
    processes: list[Running] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Running:
        process = Running(*args, env=env)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(timeout=10)

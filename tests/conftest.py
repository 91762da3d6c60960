"""Shared test helpers: a real hookcatcher server on a free loopback port, fixture bodies, and
a small SSE reader. Every wait is bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hookcatcher.answers import Answers
from hookcatcher.resources import data_dir
from hookcatcher.runner import BackgroundServer
from hookcatcher.server import create_app
from hookcatcher.store import Store
from hookcatcher.validation import Validator

TIMEOUT = httpx.Timeout(10.0)


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
        # every earlier test's reference cycles alive (tests/test_runner.py tests the pacer).
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


def fixture(name: str) -> dict[str, Any]:
    """A bundled fixture file, e.g. fixture("evolution/v2/messages.upsert.text")."""
    return json.loads((data_dir("fixtures") / f"{name}.json").read_text(encoding="utf-8"))


def body_of(name: str) -> bytes:
    return json.dumps(fixture(name)["body"]).encode()


def sse_events(lines: Iterator[str], count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Read `count` SSE messages (comments and pings skipped) as {event, id, data}."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for line in lines:
        if time.monotonic() > deadline:
            break
        if line == "":
            if "data" in current:
                current["data"] = json.loads(current["data"])
                found.append(current)
                if len(found) == count:
                    return found
            current = {}
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data" and "data" in current:
            current["data"] += "\n" + value
        else:
            current[field] = value
    raise AssertionError(f"expected {count} SSE messages within {timeout}s, got {found}")


def fixtures_root() -> Path:
    return data_dir("fixtures")

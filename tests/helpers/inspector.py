"""Driving the inspector with Textual's Pilot against a real server.

Each test runs its own event loop (`run`, asyncio.run), the server runs on its own thread, and
every wait is bounded: `until` polls the app between Pilot pauses and fails with what it saw."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from rich.console import Console

from hookcatcher.check.validation import Validator
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.tui import InspectorApp

from .bundled import fixture

SIZE = (120, 40)


async def until(pilot: Any, condition: Callable[[], Any], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await pilot.pause(0.02)


async def post(
    server: BackgroundServer,
    name: str,
    path: str = "/",
    change: Callable[[dict[str, Any]], None] | None = None,
    method: str = "POST",
) -> int:
    """POST a bundled fixture (optionally changed) with its own headers; returns the id."""
    document = fixture(name)
    body = document["body"]
    if change is not None:
        change(body)
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.request(
            method,
            path,
            content=json.dumps(body).encode(),
            headers=[tuple(h) for h in document["headers"]],
        )
    assert answer.status_code == 200
    return answer.json()["id"]


def filled_store(
    validator: Validator, names: list[Any], start: str = "2026-11-21T10:00:00"
) -> Store:
    """A store holding fixtures received at fixed times, for screens that must not change.
    An item may be (name, change) to alter the body first."""
    store = Store()
    for index, item in enumerate(names):
        name, change = item if isinstance(item, tuple) else (item, None)
        document = fixture(name)
        if change is not None:
            change(document["body"])
        capture = build_capture(
            validator,
            "POST",
            "/webhook",
            "",
            [tuple(h) for h in document["headers"]],
            "127.0.0.1:40000",
            json.dumps(document["body"]).encode(),
        )
        capture.received_at = f"{start}.{index:03d}000Z"
        store.add(capture)
    return store


def plain(renderable: Any, width: int = 200) -> str:
    """A Rich renderable as the plain text a terminal would show."""
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def shown(app: InspectorApp, selector: str) -> str:
    """What a widget shows, as plain text (the app's active screen is searched)."""
    return plain(app.screen.query_one(selector).content)


@asynccontextmanager
async def opened(app: InspectorApp) -> AsyncIterator[Any]:
    """The app running at 120x40 with its first listing on screen; yields the Pilot."""
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loaded.is_set, "the first listing")
        yield pilot


async def open_window(pilot: Any, app: InspectorApp, key: str, screen: str) -> None:
    """Press `key` and wait for the window (screen class) it opens."""
    await pilot.press(key)
    await until(pilot, lambda: type(app.screen).__name__ == screen, f"the {screen}")


def run(scenario: Callable[[], Any]) -> None:
    asyncio.run(scenario())

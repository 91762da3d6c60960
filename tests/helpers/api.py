"""Talking to a running hookcatcher server with httpx: the timeout every client uses, and a
small SSE reader. Every wait is bounded."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

TIMEOUT = httpx.Timeout(10.0)


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

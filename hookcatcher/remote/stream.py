"""Following hookcatcher's SSE stream: what a follower is told (`StreamEvent`), the SSE
parser, and the loop that resumes with Last-Event-ID after a dropped connection. The loop
tells a restarted server (its run id changed, so its ids began again) from the same one,
so a client never mixes two runs' ids."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from hookcatcher.core.paths import STREAM
from hookcatcher.remote.errors import RemoteError, unreachable
from hookcatcher.remote.tokens import refusal

if TYPE_CHECKING:
    from hookcatcher.core.summary import Summary

__all__ = [
    "GONE_AFTER",
    "Arrived",
    "Lost",
    "Notice",
    "Restarted",
    "StateChanged",
    "StreamEvent",
    "follow",
]

GONE_AFTER = 10.0  # seconds without a server before "reconnecting" becomes "gone"


@dataclass(frozen=True, slots=True)
class Arrived:
    row: Summary  # the capture's list row; fetch it whole by row["id"]


@dataclass(frozen=True, slots=True)
class Lost:
    message: str


@dataclass(frozen=True, slots=True)
class Notice:
    message: str


@dataclass(frozen=True, slots=True)
class StateChanged:
    state: str  # connected | reconnecting | gone
    detail: str


@dataclass(frozen=True, slots=True)
class Restarted:
    run: str


StreamEvent = Arrived | Lost | Notice | StateChanged | Restarted


async def follow(
    http: httpx.AsyncClient,
    url: str,
    token: str | None,
    q: str,
    last_id: int,
    run: str,
    emit: Callable[[StreamEvent], None],
) -> None:
    """Stream the list rows of captures after `last_id` for ever, reconnecting with
    Last-Event-ID. Returns only when the server turned out to be another run (after
    `Restarted`). Rows, not whole captures: at 1,000 captures a second the inspector
    parses a few hundred bytes each, and fetches a body only when it shows one. `url` and
    `token` are what a refusal names."""
    failing_since: float | None = None
    while True:
        try:
            async with http.stream(
                "GET",
                STREAM,
                params={"q": q, "view": "summary"} if q else {"view": "summary"},
                headers={"Last-Event-ID": str(last_id), "Accept": "text/event-stream"},
                timeout=httpx.Timeout(10.0, read=40.0),  # the server pings every 15 s
            ) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise RemoteError(
                        refusal(url, token)
                        if response.status_code == 401
                        else f"the stream answered HTTP {response.status_code}"
                    )
                now_run = response.headers.get("x-hookcatcher-run", "")
                if now_run != run:
                    emit(Restarted(now_run))
                    return
                failing_since = None
                emit(StateChanged("connected", url))
                async for event, _ident, data in _sse(response.aiter_lines()):
                    if event == "capture":
                        row = json.loads(data)
                        last_id = row["id"]
                        emit(Arrived(row))
                    elif event == "lost":
                        emit(Lost(json.loads(data)["message"]))
                    elif event == "notice":
                        emit(Notice(json.loads(data)["message"]))
            detail = "the server closed the stream"
        except (httpx.TransportError, RemoteError) as exc:
            detail = unreachable(exc) if isinstance(exc, httpx.TransportError) else str(exc)
        failing_since = failing_since or time.monotonic()
        down_for = time.monotonic() - failing_since
        state = "gone" if down_for >= GONE_AFTER else "reconnecting"
        emit(StateChanged(state, detail))
        await asyncio.sleep(0.25 if down_for < 2 else 1.0)


async def _sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str, str]]:
    """(event, id, data) for each message of an SSE stream; comments (pings) skipped."""
    data: list[str]
    event, ident, data = "message", "", []
    async for line in lines:
        if line == "":
            if data:
                yield event, ident, "\n".join(data)
            event, ident, data = "message", "", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "id":
                ident = value
            elif field == "data":
                data.append(value)

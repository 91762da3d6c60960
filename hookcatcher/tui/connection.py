"""The inspector's only way to the server: its HTTP API and its SSE stream, over httpx.

Because nothing else is shared, `hookcatcher` (server and TUI in one process) and
`hookcatcher tui --connect URL` behave the same. The stream loop resumes with Last-Event-ID
after a dropped connection, and tells a restarted server (its run id changed, so its ids
began again) from the same one, so the list never mixes two runs' ids.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from hookcatcher.core.capture import Capture
from hookcatcher.remote import API_PREFIX, auth_headers, refusal
from hookcatcher.send.outgoing import why_failed
from hookcatcher.send.webhook import Instance

if TYPE_CHECKING:
    from hookcatcher.core.summary import Summary

__all__ = [
    "ServerConnection",
    "Listing",
    "ServerError",
    "FilterProblem",
    "Arrived",
    "Lost",
    "Notice",
    "StateChanged",
    "Restarted",
    "StreamEvent",
    "GONE_AFTER",
    "collector_paused",
]

API = f"{API_PREFIX}/api"
STREAM = f"{API_PREFIX}/stream"
GONE_AFTER = 10.0  # seconds without a server before "reconnecting" becomes "gone"
EVERYTHING = 1_000_000_000


class ServerError(Exception):
    """The server could not be reached or refused a request; the message says which."""


class FilterProblem(ServerError):
    """The server rejected the filter; `term` is the part it could not read."""

    def __init__(self, message: str, term: str | None) -> None:
        super().__init__(message)
        self.term = term


@dataclass(frozen=True, slots=True)
class Listing:
    rows: list[Summary]
    last_id: int
    run: str


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


class ServerConnection:
    def __init__(self, url: str, timeout: float = 10.0, token: str | None = None) -> None:
        """`token`: the server's --token, sent as a bearer token with every request (the
        stream too: httpx sets headers where a browser's EventSource cannot)."""
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.AsyncClient(
            base_url=self.url, timeout=timeout, headers=auth_headers(token)
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _get(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            response = await self.http.get(
                path, params={k: v for k, v in params.items() if v not in (None, "")}
            )
        except httpx.TransportError as exc:
            raise ServerError(f"cannot reach the server at {self.url}: {_reason(exc)}") from None
        if response.status_code == 400:
            error = response.json()
            raise FilterProblem(error.get("error", "bad request"), error.get("term"))
        if response.status_code == 401:
            raise ServerError(refusal(self.url, self.token))
        if response.status_code != 200:
            try:
                message = response.json().get("error")
            except ValueError:
                message = None
            raise ServerError(message or f"{path}: HTTP {response.status_code}")
        with collector_paused():
            answer: dict[str, Any] = json.loads(response.content)  # every route answers an object
        return answer

    async def health(self) -> dict[str, Any]:
        return await self._get(f"{API_PREFIX}/health")

    async def listing(self, q: str) -> Listing:
        """Every stored capture the filter lets through, as list rows."""
        answer = await self._get(f"{API}/events", q=q, view="summary", limit=EVERYTHING)
        return Listing(answer["events"], answer["last_id"], answer["run"])

    async def capture(self, capture_id: int) -> Capture:
        return Capture.from_json(await self._get(f"{API}/events/{capture_id}"))

    async def captures(
        self, q: str, after: int = 0, limit: int = 200
    ) -> tuple[list[Capture], bool]:
        """A page of whole captures with their raw bytes, oldest first, after an id."""
        answer = await self._get(f"{API}/events", q=q, after=after, limit=limit, raw=1)
        return [Capture.from_json(item) for item in answer["events"]], answer["more"]

    async def stats(self) -> dict[str, Any]:
        return await self._get(f"{API}/stats")

    async def catalog(self) -> dict[str, Any]:
        return await self._get(f"{API}/catalog")

    async def instances(self) -> list[Instance]:
        """The instances an app configured through the server's mock gateway API."""
        answer = await self._get(f"{API}/instances")
        return [Instance.from_json(item) for item in answer["instances"]]

    async def follow(
        self, q: str, last_id: int, run: str, emit: Callable[[StreamEvent], None]
    ) -> None:
        """Stream the list rows of captures after `last_id` for ever, reconnecting with
        Last-Event-ID. Returns only when the server turned out to be another run (after
        `Restarted`). Rows, not whole captures: at 1,000 captures a second the inspector
        parses a few hundred bytes each, and fetches a body only when it shows one."""
        failing_since: float | None = None
        while True:
            try:
                async with self.http.stream(
                    "GET",
                    STREAM,
                    params={"q": q, "view": "summary"} if q else {"view": "summary"},
                    headers={"Last-Event-ID": str(last_id), "Accept": "text/event-stream"},
                    timeout=httpx.Timeout(10.0, read=40.0),  # the server pings every 15 s
                ) as response:
                    if response.status_code != 200:
                        await response.aread()
                        raise ServerError(
                            refusal(self.url, self.token)
                            if response.status_code == 401
                            else f"the stream answered HTTP {response.status_code}"
                        )
                    now_run = response.headers.get("x-hookcatcher-run", "")
                    if now_run != run:
                        emit(Restarted(now_run))
                        return
                    failing_since = None
                    emit(StateChanged("connected", self.url))
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
            except (httpx.TransportError, ServerError) as exc:
                detail = _reason(exc) if isinstance(exc, httpx.TransportError) else str(exc)
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


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection while a large answer becomes objects. Decoding 10,000 list rows
    allocates enough to set off collections of the older generations, which took 18 ms of
    decoding to 100 ms at times; the rows hold no cycles, so nothing is lost by waiting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _reason(exc: httpx.TransportError) -> str:
    reason = why_failed(exc)
    return f"{reason} (is the server running?)" if reason == "connection refused" else reason

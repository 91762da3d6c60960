"""The SSE stream: every capture as one `capture` message whose id is the capture id.

Each client reads the store by id, from its own cursor. The receiver only wakes the clients
(one flag each), so a slow or stalled client costs the receiver nothing and holds no queue of
its own: the ring buffer is the bounded queue. A client that falls so far behind that the ring
evicts captures before it reads them is told so in a `lost` message, never silently.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .capture import Capture
from .filters import Filter, FilterError, parse
from .store import Store
from .summary import row_json

__all__ = ["Hub", "stream_endpoint"]

SHUTDOWN_GRACE_SECONDS = 2


class Hub:
    """The open streams: woken on every capture, all ended when the server shuts down."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._wakers: set[asyncio.Event] = set()
        self.closing = False
        store.subscribe(self._wake)

    def _wake(self, _capture: Capture) -> None:
        for waker in self._wakers:
            waker.set()

    @property
    def clients(self) -> int:
        """How many streams are open: a client that went away is no longer counted (nor
        woken) once its stream has ended."""
        return len(self._wakers)

    def close(self) -> None:
        self.closing = True
        for waker in self._wakers:
            waker.set()

    async def messages(self, query: Filter, last_id: int, notices: list[ServerSentEvent],
                       summary: bool = False) -> AsyncIterator[ServerSentEvent]:
        """Captures after `last_id` still stored, then live ones, as they arrive; with
        `summary`, their list rows (encoded once per capture, whatever the client count)."""
        waker = asyncio.Event()
        self._wakers.add(waker)
        try:
            for notice in notices:
                yield notice
            cursor = last_id
            while not self.closing:
                if cursor < self.store.evicted_through:
                    yield _lost(cursor, self.store)
                    cursor = self.store.evicted_through
                capture = self.store.first_after(cursor)
                if capture is None:
                    waker.clear()
                    await waker.wait()
                    continue
                cursor = capture.id
                if query(capture):
                    data = row_json(capture).decode("utf-8") if summary else \
                        json.dumps(capture.to_json(include_raw=False))
                    yield ServerSentEvent(data, event="capture", id=str(capture.id))
        finally:
            self._wakers.discard(waker)


def _lost(cursor: int, store: Store) -> ServerSentEvent:
    first, last = cursor + 1, store.evicted_through
    return ServerSentEvent(json.dumps({
        "from_id": first,
        "to_id": last,
        "message": (f"this client fell behind: captures {first}..{last} were evicted "
                    f"(--max-events {store.max_events}, --max-bytes {store.max_bytes}) "
                    "before it read them; the stream goes on with the next stored capture"),
    }), event="lost")


async def stream_endpoint(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    try:
        query = parse(request.query_params.get("q"))
    except FilterError as exc:
        return JSONResponse({"error": str(exc), "term": exc.term}, status_code=400)
    view = request.query_params.get("view", "full")
    if view not in ("full", "summary"):
        return JSONResponse({"error": f"query parameter view={view!r} must be full or summary"},
                            status_code=400)
    last_id, notices = _resume_point(request.headers.get("last-event-id"), hub.store)
    # The run id lets a reconnecting client tell a restarted server (ids begin again) from
    # the same one, before it reads a single message. The grace period: on SIGINT/SIGTERM
    # sse-starlette would cut the stream off mid-response (uvicorn logs that as an error)
    # before the server's shutdown ends it cleanly (Hub.close), a moment later; it is
    # shorter than the server's graceful window, so a stream never outlives that.
    return EventSourceResponse(hub.messages(query, last_id, notices, view == "summary"),
                               ping=15, headers={"x-hookcatcher-run": hub.store.run},
                               shutdown_grace_period=SHUTDOWN_GRACE_SECONDS)


def _resume_point(header: str | None, store: Store) -> tuple[int, list[ServerSentEvent]]:
    """Where a client resumes: after its Last-Event-ID, or only new captures without one.

    An id this server never gave (it restarted since, or the number is past its newest)
    resends every stored capture, after a notice, and no `lost` message: what this run
    evicted was never the client's to miss. Anything that is not a capture id (ids
    are written as plain decimal digits: not `-1`, `+3`, `1_000` or ` 1.5`) gets a notice
    and new captures only: the client has lost its place and must ask the API for the rest."""
    if header is None:
        return store.last_id, []
    text = header.strip(" \t")
    if not (text.isascii() and text.isdigit()):
        return store.last_id, [_notice(f"Last-Event-ID {_short(header)!r} is not a capture id "
                                       "(ids are whole numbers from 1); streaming new "
                                       "captures only")]
    digits = text.lstrip("0") or "0"
    # Compared by length first: int() refuses texts of more than 4,300 digits.
    if len(digits) > len(str(store.last_id)) or int(digits) > store.last_id:
        return store.evicted_through, [_notice(
            f"Last-Event-ID {_short(text)} is not from this server run (newest id is "
            f"{store.last_id}); resending every stored capture")]
    return int(digits), []


def _short(header: str, limit: int = 40) -> str:
    """The header as a notice quotes it: short enough to read, whatever was sent."""
    return header if len(header) <= limit else header[:limit] + "..."


def _notice(message: str) -> ServerSentEvent:
    return ServerSentEvent(json.dumps({"message": message}), event="notice")

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
    # the same one, before it reads a single message.
    return EventSourceResponse(hub.messages(query, last_id, notices, view == "summary"),
                               ping=15, headers={"x-hookcatcher-run": hub.store.run})


def _resume_point(header: str | None, store: Store) -> tuple[int, list[ServerSentEvent]]:
    """Where a client resumes: after its Last-Event-ID, or only new captures without one.
    An id this server never gave (it restarted since) resumes from the oldest stored."""
    if header is None:
        return store.last_id, []
    try:
        last_id = int(header.strip())
    except ValueError:
        return store.last_id, [_notice(f"Last-Event-ID {header!r} is not a capture id; "
                                       "streaming new captures only")]
    if last_id > store.last_id or last_id < 0:
        return 0, [_notice(f"Last-Event-ID {last_id} is not from this server run "
                           f"(newest id is {store.last_id}); resending every stored capture")]
    return last_id, []


def _notice(message: str) -> ServerSentEvent:
    return ServerSentEvent(json.dumps({"message": message}), event="notice")

"""The SSE stream: every capture as one `capture` message whose id is the capture id.

Each client reads the store by id, from its own cursor. The receiver only wakes the clients
(one flag each), so a slow or stalled client costs the receiver nothing and holds no queue of
its own: the ring buffer is the bounded queue. A client that falls so far behind that the ring
evicts captures before it reads them is told so in a `lost` message, never silently.

What a client costs is bounded, whatever the load and however many clients there are:

- A capture is encoded once for every client (a small cache of the newest messages, by id
  and view); a client that is woken sends everything it has not seen in one write (at most
  BATCH_BYTES), not one write per capture.
- Wakes are paced by the number of clients: with a few, each capture wakes them at once (a
  millisecond from POST to client); with hundreds, they are woken together at most every
  `clients x WAKE_COST` seconds (half a second at most), each sent at most its share of
  STREAM_BYTES_PER_SECOND, so the receiver keeps most of the loop's time at any count (a
  client that falls behind the ring is told what it lost, as always).
- A stalled client holds at most one batch in its connection's buffer (the HTTP layer waits
  for the socket to drain before taking the next); a body larger than STREAM_BODY_BYTES is
  not put in the full view at all (`body_omitted`; GET /api/events/{id} has it), so 30
  stalled clients and 40 MB captures cost megabytes, not gigabytes.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator

import orjson
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hookcatcher.core.capture import Capture
from hookcatcher.core.filters import Filter, FilterError, parse
from hookcatcher.core.summary import row_json
from hookcatcher.receive.store import Store
from hookcatcher.receive.workers import INLINE_BYTES, Workers

__all__ = ["Hub", "stream_endpoint", "STREAM_BODY_BYTES"]

SHUTDOWN_GRACE_SECONDS = 2
BATCH_BYTES = 256 * 1024  # the most one write to a client carries (one message may be more)
BATCH_READ = 2_000  # captures looked at in one step, matched or not
STREAM_BODY_BYTES = 256 * 1024  # larger bodies are left out of the stream's full view
# With more than WAKE_NOW clients, what all of them together are sent in a second: under a
# tenth of one core's time (copies, syscalls, the HTTP layer), measured with 500 clients.
STREAM_BYTES_PER_SECOND = 8 * 1024 * 1024
MIN_BATCH_BYTES = 4 * 1024
WAKE_NOW = 8  # clients woken at once on every capture, up to this many
WAKE_COST = 0.001  # seconds of pacing per client beyond that: 10 wakes/s for 100 clients
WAKE_MOST = 0.5  # the longest a client waits to be woken
_CACHED = 1024  # encoded messages kept for the next client that wants the same one
_CACHED_BYTES = 16 * 1024 * 1024


class Hub:
    """The open streams: woken on captures, all ended when the server shuts down."""

    def __init__(self, store: Store, workers: Workers | None = None) -> None:
        self.store = store
        self.workers = workers or Workers()
        # Verdicts of body-reading filters on large captures, worked out once on a worker
        # for every client with the same filter.
        self._verdicts: OrderedDict[tuple[str, int], asyncio.Future[bool]] = OrderedDict()
        self._wakers: set[asyncio.Event] = set()
        self.closing = False
        self._paced: asyncio.TimerHandle | None = None
        self._behind = False  # a paced client stopped at its allowance: wake again
        self._encoded: OrderedDict[tuple[int, bool], bytes] = OrderedDict()
        self._encoded_bytes = 0
        store.subscribe(self._wake)

    def _wake(self, _capture: Capture) -> None:
        if len(self._wakers) <= WAKE_NOW:
            self._wake_all()
        elif self._paced is None:
            self._paced = asyncio.get_running_loop().call_later(self._interval(), self._wake_all)

    def _wake_all(self) -> None:
        self._paced = None
        for waker in self._wakers:
            waker.set()
        if self._behind and not self.closing:
            self._behind = False
            self._paced = asyncio.get_running_loop().call_later(self._interval(), self._wake_all)

    def _interval(self) -> float:
        return min(WAKE_MOST, len(self._wakers) * WAKE_COST)

    def _allowance(self) -> int:
        """The bytes one client may be sent per wake: all it needs with a few clients;
        with many, a share of STREAM_BYTES_PER_SECOND, so that what every client together
        is sent (and costs the loop) stays bounded however many there are."""
        clients = len(self._wakers)
        if clients <= WAKE_NOW:
            return BATCH_BYTES
        share = int(STREAM_BYTES_PER_SECOND * self._interval() / clients)
        return max(MIN_BATCH_BYTES, min(BATCH_BYTES, share))

    @property
    def clients(self) -> int:
        """How many streams are open: a client that went away is no longer counted (nor
        woken) once its stream has ended."""
        return len(self._wakers)

    def close(self) -> None:
        self.closing = True
        if self._paced is not None:
            self._paced.cancel()
        self._wake_all()

    def forget(self, capture: Capture) -> None:
        """A capture changed after it was stored (its answer): encode it again."""
        for summary in (False, True):
            dropped = self._encoded.pop((capture.id, summary), None)
            if dropped is not None:
                self._encoded_bytes -= len(dropped)

    async def messages(
        self, query: Filter, last_id: int, notices: list[ServerSentEvent], summary: bool = False
    ) -> AsyncIterator[ServerSentEvent | bytes]:
        """Captures after `last_id` still stored, then live ones, as they arrive; with
        `summary`, their list rows. Several captures go out in one write."""
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
                batch, cursor, heavy = self._batch(cursor, query, summary, self._allowance())
                if batch:
                    yield batch
                if heavy is not None:
                    if await self._judged(query, heavy):
                        yield self._message(heavy, summary)
                    cursor = heavy.id
                    continue
                if cursor < self.store.last_id and len(self._wakers) <= WAKE_NOW:
                    if not batch:
                        await asyncio.sleep(0)  # a stretch the filter skips: let others run
                    continue
                if cursor < self.store.last_id:
                    self._behind = True  # paced: the rest with the next round
                    if self._paced is None:
                        self._paced = asyncio.get_running_loop().call_later(
                            self._interval(), self._wake_all
                        )
                waker.clear()
                await waker.wait()
        finally:
            self._wakers.discard(waker)

    def _batch(
        self, cursor: int, query: Filter, summary: bool, allowance: int
    ) -> tuple[bytes, int, Capture | None]:
        """The encoded messages of the captures after `cursor` that `query` takes, up to
        `allowance` bytes (at least one message), and the id read up to (captures the
        query skips are read past too); and the next capture, when the query must read
        its large body, which is judged off the loop."""
        parts: list[bytes] = []
        size = 0
        for read, capture in enumerate(self.store.after(cursor), 1):
            if query.reads_body and capture.size > INLINE_BYTES:
                return b"".join(parts), cursor, capture
            if query(capture):
                message = self._message(capture, summary)
                if parts and size + len(message) > allowance:
                    break
                parts.append(message)
                size += len(message)
            cursor = capture.id
            if read >= BATCH_READ or size >= allowance:
                break
        return b"".join(parts), cursor, None

    async def _judged(self, query: Filter, capture: Capture) -> bool:
        """Whether `query` takes a large capture, worked out on a worker thread, once for
        every client with the same filter."""
        key = (query.query, capture.id)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = asyncio.ensure_future(self.workers.run(query, capture))
            self._verdicts[key] = verdict
            while len(self._verdicts) > _CACHED:
                self._verdicts.popitem(last=False)
        return await asyncio.shield(verdict)

    def _message(self, capture: Capture, summary: bool) -> bytes:
        """A capture as an SSE `capture` message, encoded once for every client."""
        key = (capture.id, summary)
        message = self._encoded.get(key)
        if message is None:
            data = row_json(capture) if summary else _full_view(capture)
            message = b"event: capture\r\nid: %d\r\ndata: %s\r\n\r\n" % (capture.id, data)
            self._encoded[key] = message
            self._encoded_bytes += len(message)
            while len(self._encoded) > _CACHED or self._encoded_bytes > _CACHED_BYTES:
                _, dropped = self._encoded.popitem(last=False)
                self._encoded_bytes -= len(dropped)
        return message


def _full_view(capture: Capture) -> bytes:
    """The capture as JSON on one line, without its raw bytes; a body over STREAM_BODY_BYTES
    is left out (`body_omitted`), so no client is sent, or holds, a whole large capture."""
    if capture.size <= STREAM_BODY_BYTES:
        data = capture.to_json(include_raw=False)
    else:
        data = capture.to_json(include_raw=False, include_body=False)
        data["body_omitted"] = True
    try:
        return orjson.dumps(data)
    except TypeError:  # an integer past 64 bits, which JSON allows
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _lost(cursor: int, store: Store) -> ServerSentEvent:
    first, last = cursor + 1, store.evicted_through
    return ServerSentEvent(
        json.dumps(
            {
                "from_id": first,
                "to_id": last,
                "message": (
                    f"this client fell behind: captures {first}..{last} were evicted "
                    f"(--max-events {store.max_events}, --max-bytes {store.max_bytes}) "
                    "before it read them; the stream goes on with the next stored capture"
                ),
            }
        ),
        event="lost",
    )


async def stream_endpoint(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    try:
        query = parse(request.query_params.get("q"))
    except FilterError as exc:
        return JSONResponse({"error": str(exc), "term": exc.term}, status_code=400)
    view = request.query_params.get("view", "full")
    if view not in ("full", "summary"):
        return JSONResponse(
            {"error": f"query parameter view={view!r} must be full or summary"}, status_code=400
        )
    last_id, notices = _resume_point(request.headers.get("last-event-id"), hub.store)
    # The run id lets a reconnecting client tell a restarted server (ids begin again) from
    # the same one, before it reads a single message. The grace period: on SIGINT/SIGTERM
    # sse-starlette would cut the stream off mid-response (uvicorn logs that as an error)
    # before the server's shutdown ends it cleanly (Hub.close), a moment later; it is
    # shorter than the server's graceful window, so a stream never outlives that.
    return EventSourceResponse(
        hub.messages(query, last_id, notices, view == "summary"),
        ping=15,
        headers={"x-hookcatcher-run": hub.store.run},
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )


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
        return store.last_id, [
            _notice(
                f"Last-Event-ID {_short(header)!r} is not a capture id "
                "(ids are whole numbers from 1); streaming new "
                "captures only"
            )
        ]
    digits = text.lstrip("0") or "0"
    # Compared by length first: int() refuses texts of more than 4,300 digits.
    if len(digits) > len(str(store.last_id)) or int(digits) > store.last_id:
        return store.evicted_through, [
            _notice(
                f"Last-Event-ID {_short(text)} is not from this server run (newest id is "
                f"{store.last_id}); resending every stored capture"
            )
        ]
    return int(digits), []


def _short(header: str, limit: int = 40) -> str:
    """The header as a notice quotes it: short enough to read, whatever was sent."""
    return header if len(header) <= limit else header[:limit] + "..."


def _notice(message: str) -> ServerSentEvent:
    return ServerSentEvent(json.dumps({"message": message}), event="notice")

"""Bounds on the connections the HTTP layer holds: how long a request head and a request
body may take to arrive, and how many connections may be open at once.

Without them, a connection that opens and sends nothing, or half a head, or half a body,
holds a file descriptor for ever; a few hundred of them (a port scan, a stuck client, anyone
on the network) use up the process's open-file limit, and then no webhook gets in. So:

- A request head must arrive within `head_timeout` of the connection opening, or of the end
  of the previous answer on a kept-alive connection. That covers a connection that never
  sends, one idle between requests, and one that sends its head a byte at a time.
- A request body must keep coming: nothing for `body_timeout` ends it, and so does an average
  under `min_body_rate` bytes a second once `body_timeout` has passed (the rule is
  "body_timeout seconds, plus one second per min_body_rate bytes received"). The first
  catches a sender that stopped; the second one that sends a byte every few seconds, which
  a pause-only rule would keep for ever. Time while hookcatcher itself is not reading (the
  app has not taken what came) does not count.
- Nothing else is timed: a request that arrived whole and waits on the app (an answer held
  by --delay, a stream being written, a long export) is never cut.
- At most `max_connections` are open. At the bound, a new connection closes the one that has
  waited longest for a request head (an idle or half-sent one) instead of being turned away,
  so webhooks keep arriving while someone holds sockets open; only when every connection is
  busy with a request is the new one answered 503.

The bound comes from the open-file limit: the soft limit is raised toward the hard one as
far as the bound needs, and the bound leaves `RESERVED_FILES` descriptors for everything
else the process opens (the session file, exports, the inspector's own connections), and
room for connections being accepted: asyncio accepts up to the listen backlog at each turn
of the loop, and a connection makes room (closes another) two or three turns later, so a
flood of new connections overshoots the bound by a few backlogs. Past the open-file limit
accept() fails ("Too many open files"), which stops accepting for a second.

It is done in a subclass of uvicorn's h11 protocol, which also keeps a request head within
HEAD_CEILING exactly (h11's own check runs only between reads, so a head could pass it by up
to one read, 256 KiB)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from hookcatcher.receive.connection_limits import (
    DEFAULT_MAX_CONNECTIONS,
    HEAD_CEILING,
    RESERVED_FILES,
    SWEEP_SECONDS,
    ConnectionLimits,
    resolved,
    room_for_connections,
)

__all__ = [
    "ConnectionLimits",
    "HEAD_CEILING",
    "RESERVED_FILES",
    "DEFAULT_MAX_CONNECTIONS",
    "Registry",
    "protocol_for",
    "room_for_connections",
    "resolved",
]


class Registry:
    """The open connections of one server, by what they wait for: a request head (oldest
    first, so the sweep stops at the first that still has time, and the bound evicts the
    front), a request body, or the app (untimed)."""

    def __init__(self, limits: ConnectionLimits) -> None:
        """`limits` as `resolved` settles them."""
        self.limits = limits
        self.max_connections = limits.max_connections or DEFAULT_MAX_CONNECTIONS
        self.open: set[BoundedH11Protocol] = set()
        self.waiting: OrderedDict[BoundedH11Protocol, float] = OrderedDict()
        self.receiving: set[BoundedH11Protocol] = set()
        self.timed_out = 0  # connections closed for taking too long
        self.evicted = 0  # connections closed to make room for a new one
        self.refused = 0  # new connections turned away: every open one was busy
        self._sweep_seconds = max(
            0.05, min(SWEEP_SECONDS, limits.head_timeout / 4, limits.body_timeout / 4)
        )
        self._sweeping: asyncio.TimerHandle | None = None
        self._last_sweep = 0.0

    def admit(self, connection: BoundedH11Protocol, now: float) -> bool:
        """Count a new connection in, closing the longest waiting for a head if the bound
        is reached; False when nothing could be closed."""
        if len(self.open) >= self.max_connections:
            if not self.waiting:
                self.refused += 1
                return False
            oldest = next(iter(self.waiting))
            self.forget(oldest)
            self.evicted += 1
            oldest.transport.close()
        self.open.add(connection)
        if self._sweeping is None:
            self._last_sweep = now
            self._sweeping = connection.loop.call_later(self._sweep_seconds, self._sweep)
        return True

    def forget(self, connection: BoundedH11Protocol) -> None:
        self.open.discard(connection)
        self.waiting.pop(connection, None)
        self.receiving.discard(connection)

    def settle(self, connection: BoundedH11Protocol, now: float) -> None:
        """Put the connection with what its HTTP state says it waits for."""
        if connection not in self.open:
            return
        if connection.transport.is_closing():
            self.forget(connection)
            return
        cycle = connection.cycle
        their = connection.conn.their_state
        if their is h11.IDLE and (cycle is None or cycle.response_complete):
            self.receiving.discard(connection)
            if connection not in self.waiting:
                self.waiting[connection] = now
                connection.head_started()
        elif their is h11.SEND_BODY:
            self.waiting.pop(connection, None)
            if connection not in self.receiving:
                self.receiving.add(connection)
                connection.body_started(now)
        else:
            self.waiting.pop(connection, None)
            self.receiving.discard(connection)

    def _sweep(self) -> None:
        now = time.monotonic()
        elapsed, self._last_sweep = now - self._last_sweep, now
        limits = self.limits
        while self.waiting:
            connection, since = next(iter(self.waiting.items()))
            if now - since < limits.head_timeout:
                break
            self.forget(connection)
            self.timed_out += 1
            connection.head_timed_out(now - since)
        for connection in list(self.receiving):
            reason = connection.body_overdue(now, elapsed)
            if reason is not None:
                self.forget(connection)
                self.timed_out += 1
                connection.body_timed_out(reason)
        self._sweeping = (
            None
            if not self.open
            else asyncio.get_running_loop().call_later(self._sweep_seconds, self._sweep)
        )

    def close(self) -> None:
        """Stop sweeping (the server is gone)."""
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None


def _plain_answer(status: int, reason: str, message: str) -> bytes:
    """An answer written straight to the socket, for when no request was read whole (h11
    answers only a request it has parsed); the connection closes after it."""
    body = message.encode("ascii", "replace") + b"\n"
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n%s"
        % (status, reason.encode("ascii"), len(body), body)
    )


def _seconds(value: float) -> str:
    return f"{value:g} s"


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with the head ceiling, the timeouts and the bound of its
    server's Registry (set on the subclass protocol_for makes)."""

    registry: Registry

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0  # of the head being received, as far as it came
        self._last_data = 0.0
        self._body_since = 0.0  # when the body began, moved on by time spent not reading
        self._body_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        now = time.monotonic()
        if not self.registry.admit(self, now):
            transport.write(
                _plain_answer(
                    503,
                    "Service Unavailable",
                    f"hookcatcher holds {self.registry.max_connections:,} "
                    "connections, each busy with a request (--max-connections): try again",
                )
            )
            transport.close()
            return
        self.registry.settle(self, now)

    def connection_lost(self, exc: Exception | None) -> None:
        self.registry.forget(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self._last_data = now
        if self in self.registry.receiving:
            self._body_bytes += len(data)
        elif self in self.registry.waiting:
            room = HEAD_CEILING - self._head_bytes
            if len(data) > room:
                self._past_the_ceiling(data, room, now)
                return
            self._head_bytes += len(data)
        super().data_received(data)
        self.registry.settle(self, now)

    def _past_the_ceiling(self, data: bytes, room: int, now: float) -> None:
        """More came than a head may hold: give h11 only what fits, and if no whole head is
        in it, refuse; else go on with the rest (a body, or the next request)."""
        super().data_received(data[:room])
        self._head_bytes = HEAD_CEILING
        self.registry.settle(self, now)
        if self.transport.is_closing():
            return
        if self in self.registry.waiting:
            self.registry.forget(self)
            self.transport.write(
                _plain_answer(
                    431,
                    "Request Header Fields Too Large",
                    f"the request head (request line and headers) is over "
                    f"{HEAD_CEILING // (1024 * 1024)} MiB: refused",
                )
            )
            self.transport.close()
            return
        self.data_received(data[room:])

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.registry.settle(self, time.monotonic())

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self.registry.forget(self)  # the connection is another protocol's from here
        super().handle_websocket_upgrade(event)

    def head_started(self) -> None:
        # What h11 holds already (the start of a pipelined request) is part of the head.
        self._head_bytes = len(self.conn.trailing_data[0])

    def body_started(self, now: float) -> None:
        self._body_since = self._last_data = now
        # What came with the head: the app has not run yet, so it is all still buffered.
        self._body_bytes = len(self.cycle.body) if self.cycle is not None else 0

    def body_overdue(self, now: float, elapsed: float) -> str | None:
        """Why the body is given up on: it stopped coming, or comes slower than the
        minimum rate; None while it is on its way."""
        if self.flow.read_paused:  # hookcatcher is not reading: the sender is not at fault
            self._body_since += elapsed
            self._last_data = now
            return None
        limits = self.registry.limits
        if now - self._last_data >= limits.body_timeout:
            return (
                f"the request body stopped: nothing came for "
                f"{_seconds(limits.body_timeout)} (--body-timeout)"
            )
        if not limits.min_body_rate:
            return None
        taken = now - self._body_since
        if taken < limits.body_timeout + self._body_bytes / limits.min_body_rate:
            return None
        return (
            f"the request body came too slowly: {self._body_bytes:,} bytes in "
            f"{_seconds(round(taken, 1))}, under {limits.min_body_rate:,} bytes a second "
            f"(--min-body-rate)"
        )

    def head_timed_out(self, waited: float) -> None:
        """Closed: no whole request head within --head-timeout. Said in a 408 when part of
        one came; a connection that sent nothing is just closed, as idle ones are."""
        if self._head_bytes:
            self.transport.write(
                _plain_answer(
                    408,
                    "Request Timeout",
                    f"the request head did not arrive whole within "
                    f"{_seconds(self.registry.limits.head_timeout)} (--head-timeout)",
                )
            )
        self.transport.close()

    def body_timed_out(self, reason: str) -> None:
        """Closed: the body stopped or crawled. The app reading it sees the sender gone
        (and stores nothing); the sender gets a 408, unless an answer was already sent."""
        if self.cycle is not None and not self.cycle.response_started:
            self.transport.write(_plain_answer(408, "Request Timeout", reason))
        self.transport.close()


def protocol_for(registry: Registry) -> type[BoundedH11Protocol]:
    """The protocol class for uvicorn's `http=`: one per server, bound to its registry."""
    return type("HookcatcherH11Protocol", (BoundedH11Protocol,), {"registry": registry})

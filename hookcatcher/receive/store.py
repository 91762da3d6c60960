"""The store: captures in a ring buffer bounded by count and by bytes, oldest evicted first.

Ids increase by one per capture for the life of the server, so a reader that remembers the
last id it saw (an SSE client, `?after=`) can always tell what it has missed. Captures loaded
from a session file keep their ids, which may leave gaps (a line that could not be read);
lookups by id stay arithmetic until a gap is stored, and search only then.
A capture whose bytes repeat a stored capture's is marked as a retry of the first of them:
gateways retry by sending the same body again, and they carry no delivery id to tell by.
Everything here runs on the server's event loop thread; listeners are called synchronously
and must only hand work off (set an event, put on a queue).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from operator import attrgetter
from uuid import uuid4

from hookcatcher.core.capture import Capture

__all__ = ["Store", "DEFAULT_MAX_EVENTS", "DEFAULT_MAX_BYTES"]

DEFAULT_MAX_EVENTS = 10_000
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

Listener = Callable[[Capture], None]
_ID = attrgetter("id")


class Store:
    def __init__(
        self, max_events: int = DEFAULT_MAX_EVENTS, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("max_events and max_bytes must be at least 1")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._items: deque[Capture] = deque()
        self._bytes = 0
        self._last_id = 0
        self.received = 0
        self.loaded = 0  # of received: put back from a session file, not received by this run
        self.evicted = 0
        self.cleared = 0
        self.evicted_through = 0  # the highest id the ring has pushed out
        self._per_event: dict[tuple[str, str | None], list[int]] = {}
        self._by_status: dict[str, int] = {}
        # hash(raw) -> [id of the first arrival, id of the newest stored one with those bytes].
        # An entry lives while a capture with those bytes is stored, so it is bounded by the
        # ring; the newest is the one the bytes are confirmed against (a hash match alone
        # could be a collision, and the first arrival may already be evicted).
        self._bodies: dict[int, list[int]] = {}
        self.retries = 0
        # The id of the newest stored capture that does not follow its predecessor by one
        # (0: none); while it is not stored past the first, a position is id - first_id.
        self._gap_at = 0
        self._listeners: list[Listener] = []
        self._delivery_listeners: list[Listener] = []
        # Ids restart with the server; a client that sees another run knows its ids are stale.
        self.run = uuid4().hex[:12]

    def add(self, capture: Capture) -> Capture:
        """Keep a capture, give it the next id, evict what no longer fits, tell listeners.
        The newest capture is always kept, even one larger than max_bytes on its own."""
        self._last_id += 1
        capture.id = self._last_id
        if capture.raw:  # an empty body is no event, so it repeats nothing
            self._mark_retry(capture)
        self._keep(capture)
        for listener in tuple(self._listeners):
            listener(capture)
        return capture

    def restore(self, capture: Capture) -> Capture:
        """Put back a capture read from a session file, keeping its id and its `retry_of`
        (what its own run saw); a later arrival with the same bytes is a retry of it.
        Listeners are not told: nothing was received. Ids must increase."""
        if capture.id <= self._last_id:
            raise ValueError(
                f"capture {capture.id} cannot follow capture {self._last_id}: "
                "restored ids must increase"
            )
        if self._items and capture.id != self._last_id + 1:
            self._gap_at = capture.id
        self._last_id = capture.id
        self.loaded += 1
        if capture.retry_of is not None:
            self.retries += 1
        if capture.raw:
            key = hash(capture.raw)
            entry = self._bodies.get(key)
            if entry is None:
                self._bodies[key] = [capture.retry_of or capture.id, capture.id]
            elif self._same_bytes(entry, capture):
                entry[1] = capture.id
        self._keep(capture)
        return capture

    def _keep(self, capture: Capture) -> None:
        """Count a capture in, store it, and evict what no longer fits."""
        self.received += 1
        status = capture.validation.status
        self._by_status[status] = self._by_status.get(status, 0) + 1
        counts = self._per_event.setdefault((capture.provider, capture.event), [0, 0])
        counts[0] += 1
        counts[1] += status == "invalid"
        self._items.append(capture)
        self._bytes += capture.weight
        while len(self._items) > 1 and (
            len(self._items) > self.max_events or self._bytes > self.max_bytes
        ):
            gone = self._items.popleft()
            self._bytes -= gone.weight
            if gone.raw:
                self._forget_body(gone)
            self.evicted += 1
            self.evicted_through = gone.id

    def _mark_retry(self, capture: Capture) -> None:
        # hash() of bytes is computed once per object and cached, so this costs one pass over
        # a new body and a dict lookup; the byte comparison happens only for a repeat.
        key = hash(capture.raw)
        entry = self._bodies.get(key)
        if entry is None:
            self._bodies[key] = [capture.id, capture.id]
        elif self._same_bytes(entry, capture):
            capture.retry_of = entry[0]
            entry[1] = capture.id
            self.retries += 1

    def _same_bytes(self, entry: list[int], capture: Capture) -> bool:
        """Whether the newest stored capture of a hash entry has these very bytes."""
        newest = self.get(entry[1])
        return newest is not None and newest.raw == capture.raw

    def _forget_body(self, gone: Capture) -> None:
        key = hash(gone.raw)
        entry = self._bodies.get(key)
        if entry is not None and entry[1] == gone.id:
            del self._bodies[key]  # no capture with these bytes is stored any more

    def delivered(self, capture: Capture) -> None:
        """A stored capture was sent on to the app (--forward-to): tell who asked."""
        for listener in tuple(self._delivery_listeners):
            listener(capture)

    def on_delivery(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every capture once it has been forwarded."""
        self._delivery_listeners.append(listener)
        return lambda: (
            self._delivery_listeners.remove(listener)
            if listener in self._delivery_listeners
            else None
        )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every new capture; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def get(self, capture_id: int) -> Capture | None:
        index = self._position(capture_id)
        if index < len(self._items) and self._items[index].id == capture_id:
            return self._items[index]
        return None

    def first_after(self, capture_id: int) -> Capture | None:
        """The oldest stored capture whose id is greater than `capture_id`."""
        index = self._position(capture_id + 1)
        return self._items[index] if index < len(self._items) else None

    def _position(self, capture_id: int) -> int:
        """Where the oldest stored capture with an id of at least `capture_id` is (the
        length when there is none). Ids increase by at least one per position, so it is
        no further than `capture_id - first_id`: exactly there when no gap is stored."""
        if not self._items:
            return 0
        first = self._items[0].id
        offset = capture_id - first
        if offset <= 0:
            return 0
        end = min(offset, len(self._items))
        if self._gap_at <= first:
            return end
        return bisect_left(self._items, capture_id, 0, end, key=_ID)

    def after(self, capture_id: int) -> Iterator[Capture]:
        """Stored captures with id greater than `capture_id`, oldest first. Safe to iterate
        across awaits: it re-reads the ring by id at each step."""
        cursor = capture_id
        while (capture := self.first_after(cursor)) is not None:
            yield capture
            cursor = capture.id

    def __iter__(self) -> Iterator[Capture]:
        return iter(tuple(self._items))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def first_id(self) -> int:
        """The id of the oldest stored capture (or the next id when the store is empty)."""
        return self._items[0].id if self._items else self._last_id + 1

    @property
    def last_id(self) -> int:
        return self._last_id

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def clear(self) -> int:
        """Forget every stored capture; ids keep increasing. Returns how many were removed."""
        removed = len(self._items)
        self.cleared += removed
        self._items.clear()
        self._bodies.clear()
        self._bytes = 0
        self._gap_at = 0
        return removed

    def stats(self) -> dict[str, object]:
        """Counts that add up: received = stored + evicted + cleared."""
        return {
            "run": self.run,
            "received": self.received,
            "loaded": self.loaded,
            "stored": len(self._items),
            "evicted": self.evicted,
            "cleared": self.cleared,
            "invalid": self._by_status.get("invalid", 0),
            "not_json": self._by_status.get("not-json", 0),
            "retries": self.retries,
            "stored_bytes": self._bytes,
            "max_events": self.max_events,
            "max_bytes": self.max_bytes,
            "first_id": self.first_id if self._items else None,
            "last_id": self._last_id or None,
            "per_event": [
                {"provider": provider, "event": event, "received": received, "invalid": invalid}
                for (provider, event), (received, invalid) in sorted(
                    self._per_event.items(), key=lambda item: (item[0][0], item[0][1] or "")
                )
            ],
        }

"""Forwarding (`--forward-to`) in passthrough mode: each capture is sent on to every target
whose rule matches it, at once and side by side, and the gateway is answered with the first
matching target's answer (its status, body and content type), so the gateway's retries behave
as they would against the app itself. An app that cannot be reached makes a 502, one slower
than the timeout a 504, each with the reason in the body. Every delivery is recorded on the
capture (`Capture.forwards`)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hookcatcher.core.capture import Forward
from hookcatcher.core.forwarding import (
    DEFAULT_FORWARD_TIMEOUT,
    DEFAULT_QUEUE,
    ForwardRule,
    forward_url,
)
from hookcatcher.send.keepalive import KeepAlive
from hookcatcher.send.outgoing import Attempt, forwarded

if TYPE_CHECKING:
    from hookcatcher.core.capture import Capture

__all__ = ["DEFAULT_FORWARD_TIMEOUT", "Forwarder", "Relayed", "not_forwarded"]

MODES = ("passthrough", "detach")
# The app's answer headers relayed to the gateway: what says what the body is. The rest
# (its cookies, its server's name, its connection handling) was for hookcatcher.
RELAYED_HEADERS = frozenset({"content-type", "content-language", "retry-after", "location"})


class Relayed:
    """The gateway's answer, made of the app's (or of why there was none)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Forwarder:
    """The forwarding rules of one server and the client that delivers them."""

    def __init__(
        self,
        rules: Sequence[ForwardRule],
        timeout: float = DEFAULT_FORWARD_TIMEOUT,
        mode: str = "passthrough",
        queue_size: int = DEFAULT_QUEUE,
    ) -> None:
        """`mode`: passthrough (the gateway waits for the app's answer) or detach (the
        gateway is answered at once; each target's deliveries wait in a queue of at most
        `queue_size`, in order, and the oldest waiting one is dropped when it is full)."""
        self.rules = tuple(rules)
        self.timeout = timeout
        self.mode = mode
        self.queue_size = queue_size
        self._client = KeepAlive()  # connections to the app, reused
        self.forwarded = 0  # deliveries the app answered 2xx
        self.failed = 0  # deliveries answered otherwise, or not at all
        self.dropped = 0  # detach: deliveries let go while the queue was full
        self._queues: dict[str, deque[Capture]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self.on_delivered: Callable[[Capture], None] = lambda capture: None

    @property
    def waiting(self) -> int:
        """Detach: deliveries queued and not yet sent."""
        return sum(len(queue) for queue in self._queues.values())

    def enqueue(self, capture: Capture) -> None:
        """Detach: queue `capture` for each matching target and return at once."""
        for rule in self.targets(capture):
            queue = self._queues.setdefault(rule.url, deque())
            if len(queue) >= self.queue_size:
                lost = queue.popleft()
                self.dropped += 1
                lost.forwards.append(_dropped(rule, lost, self.queue_size))
                self.on_delivered(lost)
            queue.append(capture)
            worker = self._workers.get(rule.url)
            if worker is None or worker.done():
                self._workers[rule.url] = asyncio.create_task(self._drain(rule, queue))

    async def _drain(self, rule: ForwardRule, queue: deque[Capture]) -> None:
        """Detach: one target's deliveries, oldest first, one at a time."""
        while queue:
            capture = queue.popleft()
            url = forward_url(rule.url, capture)
            attempt = await self._client.send(forwarded(capture, url), capture.id, self.timeout)
            self._count(attempt)
            capture.forwards.append(_record(rule, attempt))
            self.on_delivered(capture)

    def _count(self, attempt: Attempt) -> None:
        if attempt.ok:
            self.forwarded += 1
        else:
            self.failed += 1

    def targets(self, capture: Capture) -> list[ForwardRule]:
        return [rule for rule in self.rules if rule.applies(capture)]

    async def deliver(self, capture: Capture) -> Relayed | None:
        """Send `capture` to each matching target; the first one's answer as the gateway's
        (None when no rule matches: the capture stays here)."""
        rules = self.targets(capture)
        if not rules:
            return None
        attempts = await asyncio.gather(
            *(
                self._client.send(forwarded(capture, forward_url(rule.url, capture)), capture.id,
                     self.timeout)
                for rule in rules
            )
        )  # fmt: skip
        for rule, attempt in zip(rules, attempts, strict=True):
            capture.forwards.append(_record(rule, attempt))
            self._count(attempt)
        return _relayed(attempts[0], self.timeout)

    async def close(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        await self._client.close()


def not_forwarded(capture: Capture) -> Forward:
    """The record of a capture an answer rule kept from the app: rules win over passthrough."""
    return Forward(
        target="",
        url="",
        at=capture.received_at,
        status=None,
        elapsed_ms=0.0,
        error=f"not forwarded: answered {capture.answer.status} by an answer rule "
        f"({capture.answer.reason or '--respond/--delay/--fail-first'})",
    )


def _dropped(rule: ForwardRule, capture: Capture, size: int) -> Forward:
    return Forward(
        target=rule.url,
        url=forward_url(rule.url, capture),
        at=capture.received_at,
        status=None,
        elapsed_ms=0.0,
        error=f"dropped: {size:,} deliveries were already waiting for {rule.url} "
        "(is the app down or slow?)",
    )


def _record(rule: ForwardRule, attempt: Attempt) -> Forward:
    return Forward(
        target=rule.url,
        url=attempt.url,
        at=attempt.at,
        status=attempt.status,
        elapsed_ms=attempt.elapsed_ms,
        response_headers=attempt.response_headers,
        response_body=attempt.response_body,
        response_size=len(attempt.content),
        error=attempt.error,
    )


def _relayed(attempt: Attempt, timeout: float) -> Relayed:
    if attempt.status is None:
        timed_out = attempt.error is not None and attempt.error.startswith("no answer")
        status = 504 if timed_out else 502
        why = attempt.error or "no answer"
        if attempt.refused:
            why = f"your app at {attempt.url} refused the connection: is it running?"
        body = json.dumps({"ok": False, "forwarded_to": attempt.url, "error": why}).encode()
        return Relayed(status, [(b"content-type", b"application/json")], body)
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1", "replace"))
        for name, value in attempt.response_headers
        if name.lower() in RELAYED_HEADERS
    ]
    return Relayed(attempt.status, headers, attempt.content)

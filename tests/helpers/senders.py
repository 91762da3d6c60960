"""Many senders at once, each on its own keep-alive connection, posting pre-built requests
and keeping every answer in order: for the load test (tests/receive/test_load.py) and the long
load run (bench/load.py). asyncio and plain sockets, so the client costs little next to
the server it measures."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from hookcatcher.remote import SyncRemote

from .rawhttp import Address, aread_reply, request_bytes

__all__ = ["SenderLog", "Audit", "body_for", "send_concurrently", "audit"]


@dataclass(slots=True)
class SenderLog:
    """One sender's requests and answers, in the order it sent them."""

    index: int
    bodies: list[bytes]
    statuses: list[int] = field(default_factory=list)
    ids: list[int | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # each request's answer time


def body_for(sender: int, number: int, padding: int = 0) -> bytes:
    """A body no other request repeats (a repeat would be marked a retry, not lost)."""
    return b'{"event":"load.test","sender":%d,"n":%d,"pad":"%s"}' % (sender, number, b"x" * padding)


async def _send(address: Address, log: SenderLog, path: bytes) -> None:
    requests = [
        request_bytes(
            b"POST",
            path,
            [
                (b"Host", b"load.test"),
                (b"Content-Type", b"application/json"),
                (b"Content-Length", str(len(body)).encode()),
            ],
            body,
        )
        for body in log.bodies
    ]
    reader, writer = await asyncio.open_connection(*address)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            reply = await aread_reply(reader)
            log.seconds.append(time.perf_counter() - started)
            log.statuses.append(reply.status)
            log.ids.append(reply.json()["id"] if reply.status < 300 else None)
    finally:
        writer.close()


async def _send_all(address: Address, logs: list[SenderLog], path: bytes) -> None:
    await asyncio.gather(*(_send(address, log, path) for log in logs))


def send_concurrently(
    address: Address, senders: int, captures: int, padding: int = 0, path: bytes = b"/webhook"
) -> list[SenderLog]:
    """`captures` requests spread over `senders` connections that all send at once."""
    logs = [
        SenderLog(
            index, [body_for(index, number, padding) for number in range(index, captures, senders)]
        )
        for index in range(senders)
    ]
    asyncio.run(_send_all(address, logs, path))
    return logs


@dataclass(frozen=True, slots=True)
class Audit:
    """What became of every acknowledged capture, from the senders' logs and the server."""

    acknowledged: int
    statuses: dict[int, int]
    ids_unique: bool
    ids_in_send_order: bool  # per sender, strictly increasing
    stats: dict[str, int]
    stored_ids: list[int]
    wrong_bytes: list[int]  # stored captures whose bytes are not what was acknowledged
    lost: int  # acknowledged, yet neither stored nor counted as evicted or cleared

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def audit(logs: list[SenderLog], url: str) -> Audit:
    """Check the store against what the senders were told: each acknowledged id once, its
    bytes intact while stored, and everything no longer stored accounted for."""
    statuses = Counter(status for log in logs for status in log.statuses)
    body_of = {
        capture_id: body
        for log in logs
        for capture_id, body in zip(log.ids, log.bodies, strict=True)  # one reply per body
        if capture_id is not None
    }
    acknowledged = sum(len([i for i in log.ids if i is not None]) for log in logs)
    with SyncRemote(url, timeout=60) as remote:
        stats = remote.stats()
        stored = remote.captures()
    stored_ids = [capture.id for capture in stored]
    unstored = set(body_of) - set(stored_ids)
    # The ring evicts the oldest first, so an acknowledged id at or above the oldest stored
    # one must be stored; the older ones may be gone only as many as the counts say.
    oldest = stored_ids[0] if stored_ids else (stats["last_id"] or 0) + 1
    missing = [capture_id for capture_id in unstored if capture_id >= oldest]
    gone = stats["evicted"] + stats["cleared"]
    lost = len(missing) + max(0, len(unstored) - len(missing) - gone)
    return Audit(
        acknowledged=acknowledged,
        statuses=dict(statuses),
        ids_unique=len(body_of) == acknowledged,
        ids_in_send_order=all(
            all(a < b for a, b in zip(ids, ids[1:], strict=False))
            for ids in ([i for i in log.ids if i is not None] for log in logs)
        ),
        stats={key: stats[key] for key in ("received", "stored", "evicted", "cleared", "retries")},
        stored_ids=stored_ids,
        wrong_bytes=[
            capture.id
            for capture in stored
            if capture.id in body_of and capture.raw != body_of[capture.id]
        ],
        lost=lost,
    )

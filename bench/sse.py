"""SSE delivery latency: how long after a gateway's POST a connected client (the TUI, a
browser, a test) has the capture, while captures arrive at 1,000 a second.

    python bench/sse.py [--rate 1000] [--seconds 5]

A sender in another process posts the typical messages.upsert at a steady rate over 8
kept-alive connections and notes, per capture id (from the answer), when the POST was sent
and when it was acknowledged; one client reads /_hookcatcher/stream and notes when each id
arrives. Both use the system-wide monotonic clock, so the times compare across processes.
Target: p99 from POST sent to client received < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from common import (
    Figure,
    client_cpus,
    fixture,
    percentile,
    report,
    run_pinned,
    serve_hookcatcher,
)

__all__ = ["run"]

SENDER = r"""
import asyncio, json, sys, time
host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
headers, body = json.loads(sys.stdin.read())
# Raw HTTP/1.1: a Python HTTP client costs more per request than the server does.
lines = ["POST /webhook HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body.encode())}"]
lines += [f"{name}: {value}" for name, value in headers]
request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body.encode()
state = {"sent": 0}
log = []

async def worker(started):
    reader, writer = await asyncio.open_connection(host, port)
    while (elapsed := time.perf_counter() - started) < seconds:
        if state["sent"] >= int(elapsed * rate):
            await asyncio.sleep(0.0002)
            continue
        state["sent"] += 1
        sent = time.monotonic()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        answer = json.loads(await reader.readexactly(length))
        log.append((answer["id"], sent, time.monotonic()))
    writer.close()

async def main():
    started = time.perf_counter()
    await asyncio.gather(*(worker(started) for _ in range(8)))
    print(json.dumps({"seconds": time.perf_counter() - started, "log": log}))

asyncio.run(main())
"""


class StreamReader:
    """Reads the stream on a raw socket and notes when each capture id arrives."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port))
        self.sock.sendall(
            f"GET /_hookcatcher/stream HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        self.arrived: dict[int, float] = {}
        self.stop = False
        self.thread = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        pending = b""
        self.sock.settimeout(0.5)
        while not self.stop:
            try:
                chunk = self.sock.recv(1 << 20)
            except TimeoutError:
                continue
            now = time.monotonic()
            if not chunk:
                return
            pending += chunk
            *whole, pending = pending.split(b"\n")
            for line in whole:
                if line.startswith(b"id:"):
                    self.arrived[int(line[3:].strip())] = now

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def run(rate: int = 1000, seconds: float = 5) -> dict[str, Any]:
    headers, body = fixture("evolution/v2/messages.upsert.text")
    with serve_hookcatcher() as hook:
        parts = urlsplit(hook.url)
        reader = StreamReader(hook.url)
        reader.thread.start()
        time.sleep(0.5)  # the stream's head is out before the first capture
        sent = json.loads(
            run_pinned(
                [
                    sys.executable,
                    "-c",
                    SENDER,
                    str(parts.hostname),
                    str(parts.port),
                    str(rate),
                    str(seconds),
                ],
                client_cpus(),
                input=json.dumps([headers, json.dumps(body)]),
            )
        )
        log = sent["log"]
        deadline = time.monotonic() + 10
        while len(reader.arrived) < len(log) and time.monotonic() < deadline:
            time.sleep(0.01)
        reader.close()
    from_sent = [(reader.arrived[i] - s) * 1000 for i, s, _ in log if i in reader.arrived]
    from_ack = [(reader.arrived[i] - a) * 1000 for i, _, a in log if i in reader.arrived]
    answered = [(a - s) * 1000 for _, s, a in log]
    achieved = len(log) / sent["seconds"]
    p99 = percentile(from_sent, 0.99)
    return report(
        f"SSE delivery: {len(log):,} captures at {achieved:,.0f}/s (asked {rate:,}/s), "
        "one stream client",
        [
            Figure(
                "captures the client missed",
                len(log) - len(from_sent),
                "",
                "0",
                len(log) == len(from_sent),
            ),
            Figure(
                "achieved rate", achieved, "/s", f">= {0.95 * rate:,.0f}/s", achieved >= 0.95 * rate
            ),
            Figure("POST answer time p50", percentile(answered, 0.5), "ms"),
            Figure("POST answer time p99", percentile(answered, 0.99), "ms"),
            Figure("POST sent -> client received p50", percentile(from_sent, 0.5), "ms"),
            Figure("POST sent -> client received p99", p99, "ms", "< 20 ms", p99 < 20),
            Figure("POST acknowledged -> client received p50", percentile(from_ack, 0.5), "ms"),
            Figure("POST acknowledged -> client received p99", percentile(from_ack, 0.99), "ms"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    run(args.rate, args.seconds)


if __name__ == "__main__":
    main()

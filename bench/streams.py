"""What stream clients cost the receiver: ingest with hundreds of SSE clients connected,
and memory with stalled clients while 40 MB captures arrive.

    python bench/streams.py [--clients 500] [--stalled 30] [--captures 20000] [--rounds 3] [--big 3]

Each scenario runs a fresh `hookcatcher serve` in its own process (pinned like the other
benches). A client process opens the SSE connections (readers that take everything, or
stalled ones that never read, with a small receive buffer), then a sender process posts the
typical messages.upsert `--captures` times over 8 kept-alive connections. Figures:

- ingest with N summary-view clients (and `--stalled` stalled ones), and with N full-view
  clients (and the stalled ones), as a ratio of the same server's ingest with no client,
  while `--big` bodies of 40 MB arrive in every run (rounds alternate; medians): target
  >= 0.8;
- peak RSS of the server in each, against the run without clients: target under 1 MiB a
  stalled client and 100 KiB a reading one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

import httpx
from common import (
    Figure,
    client_cpus,
    fixture,
    peak_rss,
    post_many,
    report,
    serve_hookcatcher,
    spawn,
)

__all__ = ["run"]

CLIENTS = r"""
import asyncio, socket, sys
host, port, view = sys.argv[1], int(sys.argv[2]), sys.argv[3]
readers, stalled = int(sys.argv[4]), int(sys.argv[5])
request = (f"GET /_hookcatcher/stream?view={view} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n").encode()
received = [0]

async def reader():
    r, w = await asyncio.open_connection(host, port)
    w.write(request)
    await r.readuntil(b"\r\n\r\n")
    return r, w

async def read_all(r):
    while chunk := await r.read(1 << 16):
        received[0] += len(chunk)

def stall():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(request)
    return s

async def main():
    held = [stall() for _ in range(stalled)]
    opened = [await reader() for _ in range(readers)]
    print("ready", flush=True)
    tasks = [asyncio.create_task(read_all(r)) for r, _ in opened]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(received[0], flush=True)
    for s in held:
        s.close()

asyncio.run(main())
"""


def _ingest(url: str, captures: int) -> float:
    headers, body = fixture("evolution/v2/messages.upsert.text")
    started = time.perf_counter()
    post_many(url, headers, json.dumps(body).encode(), captures)
    return captures / (time.perf_counter() - started)


def _big_bodies(url: str, count: int, size: int) -> None:
    os.sched_setaffinity(0, client_cpus())  # this thread only: off the server's CPU
    body = (
        b'{"event":"messages.upsert","instance":"big","data":{"x":"' + b"A" * (size - 60) + b'"}}'
    )
    with httpx.Client(timeout=120) as http:
        for _ in range(count):
            http.post(f"{url}/webhook", content=body, headers={"content-type": "application/json"})


def _scenario(view: str, readers: int, stalled: int, captures: int, big: int) -> tuple[float, int]:
    """Ingest rate and the server's peak RSS with these clients connected, while `big`
    40 MB bodies arrive alongside the small ones."""
    with serve_hookcatcher("--max-body", "64MiB") as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        clients = None
        if readers or stalled:
            clients = spawn(
                [sys.executable, "-c", CLIENTS, host, port, view, str(readers), str(stalled)],
                client_cpus(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            assert clients.stdout is not None and clients.stdin is not None
            if clients.stdout.readline().strip() != "ready":
                raise RuntimeError("the stream clients did not connect")
        heavy = threading.Thread(target=_big_bodies, args=(server.url, big, 40 * 1024 * 1024))
        heavy.start()
        rate = _ingest(server.url, captures)
        heavy.join()
        peak = peak_rss(server.pid)
        if clients is not None:
            assert clients.stdin is not None and clients.stdout is not None
            clients.stdin.write("\n")
            clients.stdin.flush()
            clients.stdout.readline()
            clients.wait(30)
        return rate, peak


def run(
    clients: int = 500, stalled: int = 30, captures: int = 20_000, rounds: int = 3, big: int = 3
) -> dict[str, object]:
    """Rounds alternate between no client, summary-view and full-view clients (each time
    with `stalled` stalled ones too, and `big` 40 MB bodies arriving), so a noisy moment of
    a shared machine hits all three; each ratio is the median of the rounds'."""
    summary_ratios, full_ratios, peaks = [], [], {"none": 0, "summary": 0, "full": 0}
    mib = 1024 * 1024
    for _ in range(rounds):
        alone, alone_peak = _scenario("summary", 0, 0, captures, big)
        summary, summary_peak = _scenario("summary", clients, stalled, captures, big)
        full, full_peak = _scenario("full", clients, stalled, captures, big)
        summary_ratios.append(summary / alone)
        full_ratios.append(full / alone)
        for name, peak in (("none", alone_peak), ("summary", summary_peak), ("full", full_peak)):
            peaks[name] = max(peaks[name], peak)
        print(
            f"  round: no clients {alone:,.0f}/s ({alone_peak / mib:,.0f} MiB); {clients} "
            f"summary-view + {stalled} stalled {summary:,.0f}/s ({summary_peak / mib:,.0f} "
            f"MiB); {clients} full-view + {stalled} stalled {full:,.0f}/s "
            f"({full_peak / mib:,.0f} MiB)",
            flush=True,
        )
    summary_ratio, full_ratio = statistics.median(summary_ratios), statistics.median(full_ratios)
    extra = (max(peaks["summary"], peaks["full"]) - peaks["none"]) / mib
    figures = [
        Figure(
            f"ingest, {clients} summary + {stalled} stalled clients",
            summary_ratio,
            "x of none",
            ">= 0.8",
            summary_ratio >= 0.8,
        ),
        Figure(
            f"ingest, {clients} full + {stalled} stalled clients",
            full_ratio,
            "x of none",
            ">= 0.8",
            full_ratio >= 0.8,
        ),
        Figure("peak RSS without stream clients", peaks["none"] / mib, "MiB"),
        Figure(
            f"peak RSS more with {clients + stalled} stream clients",
            extra,
            "MiB",
            f"< {stalled + clients // 10}",
            extra < stalled + clients // 10,
        ),
    ]
    return report(f"stream clients ({big} bodies of 40 MB arriving in each run)", figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--stalled", type=int, default=30)
    parser.add_argument("--captures", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big", type=int, default=3)
    args = parser.parse_args()
    run(args.clients, args.stalled, args.captures, args.rounds, args.big)


if __name__ == "__main__":
    main()

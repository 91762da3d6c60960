"""Forwarding cost: a typical messages.upsert posted straight to the bare app (bench/bareapp.py),
next to the same body posted to `hookcatcher serve --forward-to <the bare app>`, which captures
it, sends it on to that same bare app and answers with the app's answer (passthrough). A plain
`hookcatcher serve` (capturing, forwarding nothing) is measured too, for reference: what
capturing alone costs, apart from the forwarding hop.

    python bench/forward.py [--duration 16] [--connections 32] [--rounds 8] [--requests 400]

The three servers run side by side, pinned to the same CPU (so the forwarded path shares it
with the app it forwards to, as on a developer's machine), and a load generator in another
process, on the other CPUs, loads them in turn: `rounds` rounds, each the bare app, the
forwarding hookcatcher, the plain one. Per round and side:

- latency: `requests` POSTs one after the other on one kept-alive connection, the time from
  sending each to its whole answer; the figure is the p50, what a gateway waits per webhook.
- throughput: `connections` kept-alive connections posting back to back for
  duration / rounds seconds; the figure is answers a second.

Each figure is the median over the rounds, each ratio the median of the rounds' ratios.
wrk is used for throughput when it is installed, else a Python load generator (raw HTTP/1.1,
as in common.post_many). That generator can itself be what caps the bare app's rate (and the
plain hookcatcher's): when the two are about equal, the throughput ratio is an upper bound.

Targets (ratios from one run): p50 latency at most 1.5 times the bare app's, throughput at
least 0.5 of the bare app's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from common import (
    Figure,
    client_cpus,
    fixture,
    report,
    run_pinned,
    serve_bare,
    serve_hookcatcher,
    write_wrk_body,
    wrk,
)

__all__ = ["run"]

FIXTURE = "evolution/v2/messages.upsert.text"
WARMUP_SECONDS = 2

LOADER = r"""
import asyncio, json, sys, time
host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
amount, connections = float(sys.argv[4]), int(sys.argv[5])
headers, body = json.loads(sys.stdin.read())
# Raw HTTP/1.1: a Python HTTP client costs more per request than the servers do.
lines = ["POST /webhook HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body.encode())}"]
lines += [f"{name}: {value}" for name, value in headers]
request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body.encode()
state = {"done": 0, "failed": 0, "times": []}

async def exchange(reader, writer):
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    state["failed"] += not head.split(b" ", 2)[1].startswith(b"2")
    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    await reader.readexactly(length)

async def timed(count):
    reader, writer = await asyncio.open_connection(host, port)
    for _ in range(count):
        started = time.perf_counter()
        await exchange(reader, writer)
        state["times"].append(time.perf_counter() - started)
    writer.close()

async def loaded(until):
    reader, writer = await asyncio.open_connection(host, port)
    while time.perf_counter() < until:
        await exchange(reader, writer)
        state["done"] += 1
    writer.close()

async def main():
    started = time.perf_counter()
    if mode == "latency":
        await timed(int(amount))
    else:
        await asyncio.gather(*(loaded(started + amount) for _ in range(connections)))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "done": state["done"], "failed": state["failed"],
                      "times": state["times"]}))

asyncio.run(main())
"""


@dataclass(frozen=True, slots=True)
class Round:
    p50_ms: float
    requests_per_second: float


class Load:
    """The load generator, for one body: wrk for throughput when installed, else Python."""

    def __init__(self, headers: list[tuple[str, str]], body: bytes, body_file: Path) -> None:
        self.payload = json.dumps([headers, body.decode()])
        self.body_file = body_file
        self.wrk = shutil.which("wrk") is not None

    def _python(self, url: str, mode: str, amount: float, connections: int) -> dict[str, Any]:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        out = run_pinned(
            [sys.executable, "-c", LOADER, host, port, mode, str(amount), str(connections)],
            client_cpus(),
            input=self.payload,
        )
        result = json.loads(out)
        if result["failed"]:
            raise RuntimeError(f"{result['failed']} POSTs to {url} were not answered 2xx")
        return result

    def p50_ms(self, url: str, requests: int) -> float:
        times = self._python(url, "latency", requests, 1)["times"]
        return statistics.median(times) * 1000

    def rate(self, url: str, seconds: float, connections: int) -> float:
        if self.wrk:
            result = wrk(url + "/webhook", self.body_file, seconds, connections)
            if result.errors:
                raise RuntimeError(f"wrk into {url}: {result.errors}")
            return result.requests_per_second
        out = self._python(url, "throughput", seconds, connections)
        return out["done"] / out["seconds"]

    def round(self, url: str, requests: int, seconds: float, connections: int) -> Round:
        return Round(self.p50_ms(url, requests), self.rate(url, seconds, connections))


def check_passthrough(url: str, headers: list[tuple[str, str]], raw: bytes) -> None:
    """The answer through hookcatcher is the bare app's own: the body was forwarded."""
    answer = httpx.post(url + "/webhook", headers=headers, content=raw, timeout=10)
    if answer.status_code != 200 or answer.json() != {"ok": True}:
        raise RuntimeError(
            f"hookcatcher did not answer with the bare app's answer: {answer.status_code} "
            f"{answer.text[:200]}"
        )


def run(
    duration: float = 16, connections: int = 32, rounds: int = 8, requests: int = 400
) -> dict[str, Any]:
    headers, body = fixture(FIXTURE)
    raw = json.dumps(body).encode()
    seconds = max(1.0, duration / rounds)
    base: list[Round] = []
    mine: list[Round] = []
    plain: list[Round] = []
    with tempfile.TemporaryDirectory() as tmp:
        load = Load(headers, raw, write_wrk_body(Path(tmp) / "body", headers, raw))
        with (
            serve_bare() as bare,
            serve_hookcatcher("--forward-to", bare.url + "/webhook") as hook,
            serve_hookcatcher() as alone,
        ):
            check_passthrough(hook.url, headers, raw)
            # Imports, caches, the forwarder's connections and the allocator settle first.
            for server in (bare, hook, alone):
                load.round(server.url, requests, WARMUP_SECONDS, connections)
            for _ in range(rounds):
                base.append(load.round(bare.url, requests, seconds, connections))
                mine.append(load.round(hook.url, requests, seconds, connections))
                plain.append(load.round(alone.url, requests, seconds, connections))
    latencies = [m.p50_ms / b.p50_ms for b, m in zip(base, mine, strict=True)]
    rates = [m.requests_per_second / b.requests_per_second for b, m in zip(base, mine, strict=True)]
    latency_ratio, rate_ratio = statistics.median(latencies), statistics.median(rates)

    def median(results: list[Round], name: str) -> float:
        return statistics.median(getattr(result, name) for result in results)

    loaded = f"requests/s ({connections} connections)"
    figures = [
        Figure("bare app p50 (1 connection)", median(base, "p50_ms"), "ms"),
        Figure(f"bare app {loaded}", median(base, "requests_per_second"), "req/s"),
        Figure("forwarded p50 (1 connection)", median(mine, "p50_ms"), "ms"),
        Figure(f"forwarded {loaded}", median(mine, "requests_per_second"), "req/s"),
        Figure("hookcatcher alone p50 (1 connection)", median(plain, "p50_ms"), "ms"),
        Figure(f"hookcatcher alone {loaded}", median(plain, "requests_per_second"), "req/s"),
        Figure(
            "p50 ratio (forwarded / bare app)", latency_ratio, "x", "<= 1.5", latency_ratio <= 1.5
        ),
        Figure(
            "requests/s ratio (forwarded / bare app)", rate_ratio, "x", ">= 0.5", rate_ratio >= 0.5
        ),
    ]
    generator = "wrk" if load.wrk else "Python load generator"
    title = (
        f"forward: {FIXTURE} straight to the bare app vs through `serve --forward-to` to it, "
        f"{rounds} rounds ({requests} sequential POSTs, then {seconds:g} s at "
        f"{connections} connections, {generator})"
    )
    result = report(title, figures)
    print(
        f"  p50 ratio per round: {' '.join(f'{r:.2f}' for r in latencies)}\n"
        f"  requests/s ratio per round: {' '.join(f'{r:.2f}' for r in rates)} "
        f"(range {min(rates):.2f}-{max(rates):.2f})"
    )
    result["rounds"] = [
        {"bare": vars_of(b), "forwarded": vars_of(m), "hookcatcher_alone": vars_of(p)}
        for b, m, p in zip(base, mine, plain, strict=True)
    ]
    result["load_generator"] = generator
    return result


def vars_of(result: Round) -> dict[str, float]:
    return {"p50_ms": result.p50_ms, "requests_per_second": result.requests_per_second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=16,
        help="seconds of throughput load on each side, split over the rounds",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--requests", type=int, default=400, help="sequential POSTs per round for the p50"
    )
    args = parser.parse_args()
    run(args.duration, args.connections, args.rounds, args.requests)


if __name__ == "__main__":
    main()

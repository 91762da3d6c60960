"""Ingest throughput: hookcatcher with validation on against a bare Starlette app, both loaded
by wrk with the same typical messages.upsert body, duration and connections.

    python bench/ingest.py [--duration 16] [--connections 32] [--rounds 16]

Both servers run side by side, pinned to the same CPU, and wrk loads them in turn: `rounds`
short runs each, baseline then hookcatcher, so that both see the same moments of a shared,
noisy machine. Each figure is the median over the rounds, and each ratio is the median of
the rounds' ratios (their range is printed too).

Targets (ratios from one run): at least 0.75 of the baseline's requests/s, p99 at most twice
the baseline's.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from common import (
    Figure,
    Server,
    WrkResult,
    fixture,
    report,
    serve_bare,
    serve_hookcatcher,
    write_wrk_body,
    wrk,
)

__all__ = ["run"]

FIXTURE = "evolution/v2/messages.upsert.text"
WARMUP_SECONDS = 2


def warm(server: Server, body_file: Path, path: str, connections: int) -> None:
    """Imports, caches and the allocator settle before anything is measured."""
    wrk(server.url + path, body_file, WARMUP_SECONDS, connections)


def run(duration: float = 16, connections: int = 32, rounds: int = 16) -> dict[str, Any]:
    headers, body = fixture(FIXTURE)
    seconds = max(1.0, duration / rounds)
    base: list[WrkResult] = []
    mine: list[WrkResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        body_file = write_wrk_body(Path(tmp) / "body", headers, json.dumps(body).encode())
        with serve_bare() as bare, serve_hookcatcher() as hook:
            warm(bare, body_file, "/webhook", connections)
            warm(hook, body_file, "/webhook", connections)
            for _ in range(rounds):
                base.append(wrk(bare.url + "/webhook", body_file, seconds, connections))
                mine.append(wrk(hook.url + "/webhook", body_file, seconds, connections))
    rates = [m.requests_per_second / b.requests_per_second for b, m in zip(base, mine, strict=True)]
    tails = [m.p99_ms / b.p99_ms for b, m in zip(base, mine, strict=True)]
    rate_ratio, p99_ratio = statistics.median(rates), statistics.median(tails)

    def median(results: list[WrkResult], field: str) -> float:
        return statistics.median(getattr(result, field) for result in results)

    figures = [
        Figure("baseline requests/s", median(base, "requests_per_second"), "req/s"),
        Figure("baseline p50", median(base, "p50_ms"), "ms"),
        Figure("baseline p99", median(base, "p99_ms"), "ms"),
        Figure("hookcatcher requests/s", median(mine, "requests_per_second"), "req/s"),
        Figure("hookcatcher p50", median(mine, "p50_ms"), "ms"),
        Figure("hookcatcher p99", median(mine, "p99_ms"), "ms"),
        Figure(
            "requests/s ratio (hookcatcher / baseline)",
            rate_ratio,
            "x",
            ">= 0.75",
            rate_ratio >= 0.75,
        ),
        Figure("p99 ratio (hookcatcher / baseline)", p99_ratio, "x", "<= 2", p99_ratio <= 2),
    ]
    title = (
        f"ingest: {FIXTURE}, {rounds} rounds of {seconds:g} s each, {connections} connections, wrk"
    )
    result = report(title, figures)
    print(
        f"  requests/s ratio per round: {' '.join(f'{r:.2f}' for r in rates)} "
        f"(range {min(rates):.2f}-{max(rates):.2f})"
    )
    result["rounds"] = [
        {"baseline": _fields(b), "hookcatcher": _fields(m)} for b, m in zip(base, mine, strict=True)
    ]
    result["errors"] = {
        "baseline": [b.errors for b in base if b.errors],
        "hookcatcher": [m.errors for m in mine if m.errors],
    }
    for name, errors in result["errors"].items():
        if errors:
            print(f"  {name}: {errors[0]}")
    return result


def _fields(result: WrkResult) -> dict[str, Any]:
    return {
        "requests_per_second": result.requests_per_second,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=16,
        help="seconds of load on each server, split over the rounds",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=16)
    args = parser.parse_args()
    run(args.duration, args.connections, args.rounds)


if __name__ == "__main__":
    main()

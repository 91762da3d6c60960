"""Ingest throughput: hookcatcher with validation on against a bare Starlette app, both loaded
by wrk with the same typical messages.upsert body, duration and connections.

    python bench/ingest.py [--duration 10] [--connections 32]

Targets (ratios from one run): at least 0.75 of the baseline's requests/s, p99 at most twice
the baseline's.
"""

from __future__ import annotations

import argparse
import json
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

__all__ = ["load", "run"]

FIXTURE = "evolution/v2/messages.upsert.text"
WARMUP_SECONDS = 2


def load(server: Server, body_file: Path, path: str, seconds: float,
         connections: int) -> WrkResult:
    """A warm-up run first (imports, caches, the allocator), then the measured one."""
    wrk(server.url + path, body_file, WARMUP_SECONDS, connections)
    return wrk(server.url + path, body_file, seconds, connections)


def run(duration: float = 10, connections: int = 32) -> dict[str, Any]:
    headers, body = fixture(FIXTURE)
    with tempfile.TemporaryDirectory() as tmp:
        body_file = write_wrk_body(Path(tmp) / "body", headers, json.dumps(body).encode())
        with serve_bare() as bare:
            base = load(bare, body_file, "/webhook", duration, connections)
        with serve_hookcatcher() as hook:
            mine = load(hook, body_file, "/webhook", duration, connections)
    rate_ratio = mine.requests_per_second / base.requests_per_second
    p99_ratio = mine.p99_ms / base.p99_ms
    figures = [
        Figure("baseline requests/s", base.requests_per_second, "req/s"),
        Figure("baseline p50", base.p50_ms, "ms"),
        Figure("baseline p99", base.p99_ms, "ms"),
        Figure("hookcatcher requests/s", mine.requests_per_second, "req/s"),
        Figure("hookcatcher p50", mine.p50_ms, "ms"),
        Figure("hookcatcher p99", mine.p99_ms, "ms"),
        Figure("requests/s ratio (hookcatcher / baseline)", rate_ratio, "x", ">= 0.75",
               rate_ratio >= 0.75),
        Figure("p99 ratio (hookcatcher / baseline)", p99_ratio, "x", "<= 2", p99_ratio <= 2),
    ]
    result = report(f"ingest: {FIXTURE}, {duration:g} s, {connections} connections, wrk", figures)
    result["errors"] = {"baseline": base.errors, "hookcatcher": mine.errors}
    for name, errors in result["errors"].items():
        if errors:
            print(f"  {name}: {errors}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    run(args.duration, args.connections)


if __name__ == "__main__":
    main()

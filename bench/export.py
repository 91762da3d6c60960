"""The API export of a full store: how long it takes, how long a health check waits while it
runs, and the resident memory the server keeps once it is over.

    python bench/export.py [--captures 10000] [--padding 8000] [--format har]

The store is filled with typical messages.upsert captures (each with an `apikey`, so the
export redacts every one), padded to about `--padding` bytes of text each.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from typing import Any

import httpx
from common import (
    Figure,
    fixture,
    post_many,
    report,
    serve_hookcatcher,
    settled_rss,
    wait_healthy,
)

__all__ = ["run"]

MB = 1024 * 1024


def health_waits(url: str, stop: threading.Event, waits: list[float]) -> None:
    """Health checks one after another until `stop`: each one's answer time."""
    with httpx.Client(timeout=120) as http:
        while not stop.is_set():
            started = time.monotonic()
            http.get(url + "/_hookcatcher/health")
            waits.append(time.monotonic() - started)
            time.sleep(0.01)


def run(captures: int = 10_000, padding: int = 8_000, kind: str = "har") -> dict[str, Any]:
    headers, body = fixture("evolution/v2/messages.upsert.text")
    body["apikey"] = "BENCH-INSTANCE-TOKEN-123456"
    body["data"]["message"]["conversation"] = "x" * padding
    raw = json.dumps(body).encode()
    with serve_hookcatcher("--max-events", str(captures)) as hook:
        wait_healthy(hook.url, "/_hookcatcher/health")
        post_many(hook.url, headers, raw, captures)
        stored = httpx.get(hook.url + "/_hookcatcher/api/stats").json()
        before = settled_rss(hook.pid)
        stop, waits = threading.Event(), []
        checker = threading.Thread(target=health_waits, args=(hook.url, stop, waits))
        checker.start()
        time.sleep(0.2)
        started = time.monotonic()
        size = 0
        with httpx.stream(
            "GET", hook.url + "/_hookcatcher/api/export", params={"format": kind}, timeout=300
        ) as answer:
            for chunk in answer.iter_bytes():
                size += len(chunk)
        took = time.monotonic() - started
        stop.set()
        checker.join()
        after = settled_rss(hook.pid)
    stored_bytes = len(raw) * captures
    return report(
        f"export: {kind} of {captures:,} stored captures of {len(raw):,} bytes",
        [
            Figure("export time", took, "s"),
            Figure("export size", size / MB, "MB"),
            Figure("health check, worst wait during the export", max(waits) * 1000, "ms"),
            Figure("health checks answered during the export", len(waits), ""),
            Figure("RSS before the export", before / MB, "MB"),
            Figure("RSS after the export", after / MB, "MB"),
            Figure(
                "RSS kept after the export / stored bytes", (after - before) / stored_bytes, "x"
            ),
        ],
    ) | {"stats": stored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--padding", type=int, default=8_000)
    parser.add_argument("--format", default="har", choices=("har", "jsonl", "curl"))
    args = parser.parse_args()
    run(args.captures, args.padding, args.format)


if __name__ == "__main__":
    main()

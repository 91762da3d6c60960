"""Memory per stored capture: the resident memory a `hookcatcher serve` gains while it stores
10,000 typical messages.upsert captures (its default ring holds exactly that many).

    python bench/memory.py [--captures 10000]
"""

from __future__ import annotations

import argparse
import json
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


def run(captures: int = 10_000) -> dict[str, Any]:
    headers, body = fixture("evolution/v2/messages.upsert.text")
    raw = json.dumps(body).encode()
    with serve_hookcatcher("--max-events", str(max(captures, 10_000))) as hook:
        wait_healthy(hook.url, "/_hookcatcher/health")
        post_many(hook.url, headers, raw, 100)  # warm-up: imports, schemas, first captures
        before = settled_rss(hook.pid)
        post_many(hook.url, headers, raw, captures)
        after = settled_rss(hook.pid)
        stored = httpx.get(hook.url + "/_hookcatcher/api/stats").json()
    grown = after - before
    per = grown / captures
    return report(
        f"memory: {captures:,} stored captures of a {len(raw):,}-byte body",
        [
            Figure("RSS after start and 100 captures", before / MB, "MB"),
            Figure(f"RSS after {captures:,} more", after / MB, "MB"),
            Figure(f"growth for {captures:,} captures", grown / MB, "MB"),
            Figure("per capture", per / 1024, "KiB"),
            Figure("per capture / body size", per / len(raw), "x"),
        ],
    ) | {"stats": stored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=10_000)
    run(parser.parse_args().captures)


if __name__ == "__main__":
    main()

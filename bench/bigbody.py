"""Large bodies: a messages.upsert carrying ~20 MB of base64 media, and a messages.set history
sync of 5,000 messages; each the time to a 2xx answer, next to the bare app's time for the
same body.

    python bench/bigbody.py [--megabytes 20] [--messages 5000] [--repeat 3]

Each media post goes to a fresh `hookcatcher serve`, so its peak resident memory (VmHWM) is
that of one such body: target 2xx in < 300 ms and peak RSS < 3x the body + 100 MB.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import time
from collections.abc import Sequence
from typing import Any

import httpx
from common import (
    Figure,
    Server,
    fixture,
    peak_rss,
    report,
    serve_bare,
    serve_hookcatcher,
)

__all__ = ["history_body", "media_body", "run"]

MB = 1024 * 1024


def media_body(megabytes: float) -> tuple[list[tuple[str, str]], bytes]:
    """The bundled image message with `data.message.base64` grown to about `megabytes`."""
    headers, body = fixture("evolution/v2/messages.upsert.image")
    raw = os.urandom(int(megabytes * MB * 3 / 4))
    body["data"]["message"]["base64"] = base64.b64encode(raw).decode()
    return headers, json.dumps(body).encode()


def history_body(messages: int) -> tuple[list[tuple[str, str]], bytes]:
    """The bundled messages.set with its messages repeated to `messages`, each id unique."""
    headers, body = fixture("evolution/v2/messages.set")
    given = body["data"]
    grown = []
    for index in range(messages):
        message = json.loads(json.dumps(given[index % len(given)]))
        message["key"]["id"] = f"3EB0{index:016X}"
        grown.append(message)
    body["data"] = grown
    return headers, json.dumps(body).encode()


def post_time(url: str, headers: Sequence[tuple[str, str]], raw: bytes) -> float:
    """Seconds from starting the request to a 2xx answer, on a fresh connection."""
    with httpx.Client(timeout=60) as http:
        started = time.perf_counter()
        answer = http.post(url + "/webhook", content=raw, headers=list(headers))
        took = time.perf_counter() - started
    if not answer.is_success:
        raise RuntimeError(
            f"{url} answered {answer.status_code} to a {len(raw):,}-byte body: {answer.text[:200]}"
        )
    return took


def media(megabytes: float, repeat: int) -> list[Figure]:
    headers, raw = media_body(megabytes)
    times, peaks = [], []
    for _ in range(repeat):
        with serve_hookcatcher() as hook:
            times.append(post_time(hook.url, headers, raw))
            peaks.append(peak_rss(hook.pid))
    with serve_bare() as bare:
        base = statistics.median(post_time(bare.url, headers, raw) for _ in range(repeat))
    took, peak = statistics.median(times), max(peaks)
    limit = 3 * len(raw) + 100 * MB
    return [
        Figure(f"{len(raw) / MB:.1f} MB media body: baseline time to 2xx", base * 1000, "ms"),
        Figure(
            f"{len(raw) / MB:.1f} MB media body: time to 2xx (median)",
            took * 1000,
            "ms",
            "< 300 ms",
            took < 0.3,
        ),
        Figure("media body: ratio to baseline", took / base, "x"),
        Figure(
            "media body: peak RSS of the server",
            peak / MB,
            "MB",
            f"< {limit / MB:.0f} MB (3x body + 100 MB)",
            peak < limit,
        ),
    ]


def history(messages: int, repeat: int) -> list[Figure]:
    headers, raw = history_body(messages)

    def median_on(server: Server) -> float:
        post_time(server.url, headers, raw)  # warm-up
        return statistics.median(post_time(server.url, headers, raw) for _ in range(repeat))

    with serve_bare() as bare:
        base = median_on(bare)
    with serve_hookcatcher() as hook:
        took = median_on(hook)
    return [
        Figure(
            f"messages.set x{messages:,} ({len(raw) / MB:.1f} MB): baseline time to 2xx",
            base * 1000,
            "ms",
        ),
        Figure(f"messages.set x{messages:,}: time to 2xx (median)", took * 1000, "ms"),
        Figure("messages.set: ratio to baseline", took / base, "x"),
    ]


def run(megabytes: float = 20, messages: int = 5000, repeat: int = 3) -> dict[str, Any]:
    return report("large bodies", media(megabytes, repeat) + history(messages, repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=20)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.megabytes, args.messages, args.repeat)


if __name__ == "__main__":
    main()

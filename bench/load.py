"""The long load run: many senders at once, then an audit of what the server kept (the
check of tests/receive/test_load.py, at any size), and the answer times the senders saw.

    python bench/load.py [--senders 100] [--captures 200000] [--ring 5000] [--padding 0]
                         [--stalled 0] [--listeners 0]

A real server on a free loopback port in this process (its own thread), the senders on
keep-alive connections from an event loop. `--stalled N` first runs the same load without
them as a baseline, then with N stream clients that never read, and prints both answer-time
profiles: a stalled client must not slow the receiver. `--listeners N` keeps N stream
clients reading during the run; each must be told about every capture (received, or named
in a `lost` message). This machine is shared and noisy: compare figures from one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.rawhttp import SSEClient, address_of  # noqa: E402
from helpers.senders import audit, send_concurrently  # noqa: E402

from hookcatcher.receive.app import create_app  # noqa: E402
from hookcatcher.receive.runner import BackgroundServer  # noqa: E402
from hookcatcher.receive.store import Store  # noqa: E402


def told_ids(messages: list[dict[str, Any]]) -> list[int]:
    ids = []
    for message in messages:
        if message["event"] == "lost":
            ids.extend(range(message["data"]["from_id"], message["data"]["to_id"] + 1))
        elif message["event"] == "capture":
            ids.append(int(message["id"]))
    return ids


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def one_run(args: argparse.Namespace, stalled: int) -> list[float]:
    """One server, one load; prints the audit and returns every answer time (s)."""
    with BackgroundServer(create_app(Store(max_events=args.ring))) as server:
        stuck = [SSEClient(server.url, receive_buffer=4096).open() for _ in range(stalled)]
        listeners = [
            SSEClient(server.url, "view=summary", timeout=600).open() for _ in range(args.listeners)
        ]
        heard: list[list[int]] = [[] for _ in listeners]

        def listen(client: SSEClient, into: list[int]) -> None:
            last = str(args.captures)
            into.extend(
                told_ids(
                    client.read_until(
                        lambda message: (
                            message.get("id") == last
                            or message["event"] == "lost"
                            and message["data"]["to_id"] == args.captures
                        ),
                        timeout=600,
                    )
                )
            )

        threads = [
            threading.Thread(target=listen, args=pair, daemon=True)
            for pair in zip(listeners, heard, strict=True)
        ]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        logs = send_concurrently(address_of(server.url), args.senders, args.captures, args.padding)
        seconds = time.monotonic() - started
        for thread in threads:
            thread.join(600)
        result = audit(logs, server.url)
        for client in [*stuck, *listeners]:
            client.close()

    stats = result.stats
    times = [answer for log in logs for answer in log.seconds]
    print(
        f"{args.senders} senders, {args.captures:,} captures in {seconds:.1f} s "
        f"({args.captures / seconds:,.0f}/s); ring {args.ring:,}; "
        f"{stalled} stalled and {args.listeners} reading stream clients"
    )
    print(
        "answers: "
        + ", ".join(f"{status} x{count:,}" for status, count in sorted(result.statuses.items()))
        + f"; 5xx seen: {result.server_errors}"
    )
    print(
        f"ids unique: {'yes' if result.ids_unique else 'NO'}; in each sender's order: "
        f"{'yes' if result.ids_in_send_order else 'NO'}"
    )
    adds_up = stats["received"] == stats["stored"] + stats["evicted"] + stats["cleared"]
    print(
        f"received {stats['received']:,} = stored {stats['stored']:,} + evicted "
        f"{stats['evicted']:,} + cleared {stats['cleared']:,}: {'yes' if adds_up else 'NO'}"
    )
    print(
        f"stored captures checked byte for byte: {len(result.stored_ids):,}, wrong: "
        f"{len(result.wrong_bytes)}; captures lost: {result.lost}"
    )
    for index, ids in enumerate(heard):
        whole = ids == list(range(1, args.captures + 1))
        print(
            f"stream client {index + 1}: told about every capture once, in order: "
            f"{'yes' if whole else 'NO'} ({len(ids):,} ids)"
        )
    print(
        f"answer time: median {statistics.median(times) * 1000:.1f} ms, p99 "
        f"{percentile(times, 0.99) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
    )
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=100)
    parser.add_argument("--captures", type=int, default=200_000)
    parser.add_argument("--ring", type=int, default=5_000, help="the server's --max-events")
    parser.add_argument("--padding", type=int, default=0, help="extra bytes per body")
    parser.add_argument(
        "--stalled",
        type=int,
        default=0,
        help="stream clients that never read (after a baseline run)",
    )
    parser.add_argument(
        "--listeners", type=int, default=0, help="stream clients that read everything"
    )
    args = parser.parse_args()
    if args.stalled:
        print("-- baseline: no stalled client")
        baseline = percentile(one_run(args, 0), 0.99)
        print(f"-- with {args.stalled} stalled stream clients")
        loaded = percentile(one_run(args, args.stalled), 0.99)
        print(f"p99 answer time, stalled / baseline: {loaded / baseline:.2f}")
    else:
        one_run(args, 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The long fuzz run: the strategies and checks of tests/receive/test_fuzz.py, with many more cases
and a fresh random seed each run (or the one given, to repeat a run).

    python bench/fuzz.py [--examples 20000] [--malformed 5000] [--api 5000] [--seed N]

A real server on a free loopback port, fuzzed over sockets. The first failing case is
shrunk to its smallest form and printed with the seed; otherwise the figures: cases run,
answers by status, 5xx seen, acknowledged requests and how many of them were not stored
exactly as sent (lost).
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.fuzzing import Target, api_queries, break_request, malformed, requests  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hookcatcher.receive.app import create_app  # noqa: E402
from hookcatcher.receive.runner import BackgroundServer  # noqa: E402


def run(
    name: str,
    examples: int,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    run_seed: int,
) -> None:
    @seed(run_seed)
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def case(value: Any) -> None:
        check(value)

    started = time.monotonic()
    case()
    print(f"{name:<10} {examples:>7,} cases passed in {time.monotonic() - started:6.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20_000, help="valid requests")
    parser.add_argument("--malformed", type=int, default=5_000, help="malformed requests")
    parser.add_argument("--api", type=int, default=5_000, help="read-API queries")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    run_seed = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"seed {run_seed} (repeat with --seed {run_seed})")

    with BackgroundServer(create_app()) as server:
        # Errors only: a warning per malformed request would bury the figures.
        logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
        target = Target(server.url)
        passed = False
        try:
            run("valid", args.examples, requests(), target.send, run_seed)
            run(
                "malformed",
                args.malformed,
                malformed,
                lambda broken: target.send_malformed(break_request(*broken)),
                run_seed,
            )
            target.api.post("/webhook", content=b'{"event":"messages.upsert","data":{}}')
            run("api", args.api, api_queries, lambda query: target.query(*query), run_seed)
            passed = True
        finally:
            statuses = ", ".join(
                f"{status or 'closed'} x{count:,}"
                for status, count in sorted(target.statuses.items(), key=lambda s: s[0] or 0)
            )
            server_errors = sum(
                count for status, count in target.statuses.items() if status and status >= 500
            )
            print(f"requests answered: {statuses}; 5xx seen: {server_errors}")
            print(
                f"cases run: {target.cases:,}; acknowledged: {target.acknowledged:,}; "
                + (
                    "lost: 0 (each read back byte for byte)"
                    if passed
                    else f"a case failed (above; seed {run_seed})"
                )
            )
            target.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

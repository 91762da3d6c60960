"""Startup: seconds from spawning `hookcatcher serve --port 0` to its first 200 on
/_hookcatcher/health, next to the same for the bare app (median of 5 each).

    python bench/startup.py [--repeat 5]

Target: under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from common import Figure, Server, report, serve_bare, serve_hookcatcher, wait_healthy

__all__ = ["run"]


def first_answer(server: Server) -> float:
    with server:
        wait_healthy(server.url, "/_hookcatcher/health")
        return time.monotonic() - server.spawned


def run(repeat: int = 5) -> dict[str, Any]:
    base = statistics.median(first_answer(serve_bare()) for _ in range(repeat))
    mine = statistics.median(first_answer(serve_hookcatcher()) for _ in range(repeat))
    return report(
        f"startup to first answer (median of {repeat})",
        [
            Figure("baseline (bare app)", base * 1000, "ms"),
            Figure("hookcatcher serve", mine * 1000, "ms", "< 1000 ms", mine < 1),
            Figure("ratio to baseline", mine / base, "x"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    run(parser.parse_args().repeat)


if __name__ == "__main__":
    main()

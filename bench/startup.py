"""Startup: seconds from spawning `hookcatcher serve --port 0` to its first 200 on
/_hookcatcher/health, next to the same for the bare app (median of 5 each); and how long
`hookcatcher validate --help` (and `serve --help`, `--help`) take to answer, next to the
least any click command line takes (python, click, one command's --help).

    python bench/startup.py [--repeat 5]

Targets: the server under 1 s; `validate --help` under 300 ms.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from typing import Any

from common import Figure, Server, report, serve_bare, serve_hookcatcher, wait_healthy

__all__ = ["run"]


def first_answer(server: Server) -> float:
    with server:
        wait_healthy(server.url, "/_hookcatcher/health")
        return time.monotonic() - server.spawned


BARE_CLICK = "import click; click.command()(lambda: None)(['--help'])"
HELP = "from hookcatcher.cli.main import main; main({argv!r})"


def answered(code: str) -> float:
    """Seconds for a fresh interpreter to run `code` (its output thrown away)."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=60)
    return time.monotonic() - started


def run(repeat: int = 5) -> dict[str, Any]:
    base = statistics.median(first_answer(serve_bare()) for _ in range(repeat))
    mine = statistics.median(first_answer(serve_hookcatcher()) for _ in range(repeat))
    bare = statistics.median(answered(BARE_CLICK) for _ in range(repeat))
    helps = {
        " ".join(argv): statistics.median(answered(HELP.format(argv=argv)) for _ in range(repeat))
        for argv in (["validate", "--help"], ["serve", "--help"], ["--help"])
    }
    validate = helps["validate --help"]
    return report(
        f"startup to first answer (median of {repeat})",
        [
            Figure("baseline (bare app)", base * 1000, "ms"),
            Figure("hookcatcher serve", mine * 1000, "ms", "< 1000 ms", mine < 1),
            Figure("ratio to baseline", mine / base, "x"),
            Figure("baseline (a bare click command's --help)", bare * 1000, "ms"),
            Figure(
                "hookcatcher validate --help", validate * 1000, "ms", "< 300 ms", validate < 0.3
            ),
            Figure("ratio to baseline", validate / bare, "x"),
            Figure("hookcatcher serve --help", helps["serve --help"] * 1000, "ms"),
            Figure("hookcatcher --help", helps["--help"] * 1000, "ms"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    run(parser.parse_args().repeat)


if __name__ == "__main__":
    main()

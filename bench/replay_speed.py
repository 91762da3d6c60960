"""Replay throughput: `hookcatcher replay` of the bundled Evolution fixtures, repeated, into a
bare local app, at concurrency 1 and 8; the baseline is wrk's rate into the same app.

    python bench/replay_speed.py [--repeat 20] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from common import (
    FIXTURES,
    ROOT,
    Figure,
    client_cpus,
    fixture,
    report,
    run_pinned,
    serve_bare,
    write_wrk_body,
    wrk,
)

__all__ = ["run"]

SOURCE = FIXTURES / "evolution" / "v2"


def replay_rate(url: str, repeat: int, concurrency: int) -> tuple[float, int]:
    """Requests a second the CLI achieved, and how many it sent, from its JSON summary."""
    out = run_pinned(
        [
            sys.executable,
            "-m",
            "hookcatcher",
            "replay",
            str(SOURCE),
            "--to",
            url + "/webhook",
            "--repeat",
            str(repeat),
            "--concurrency",
            str(concurrency),
            "--json",
        ],
        client_cpus(),
    )
    summary = json.loads(out.strip().splitlines()[-1])["summary"]
    if summary["ok"] != summary["sent"]:
        raise RuntimeError(f"replay into the bare app did not get 2xx for every request: {summary}")
    return summary["sent"] / summary["seconds"], summary["sent"]


def run(repeat: int = 20, seconds: float = 5, connections: int = 8) -> dict[str, Any]:
    headers, body = fixture("evolution/v2/messages.upsert.text")
    with tempfile.TemporaryDirectory() as tmp, serve_bare() as bare:
        body_file = write_wrk_body(Path(tmp) / "body", headers, json.dumps(body).encode())
        wrk(bare.url + "/webhook", body_file, 1, connections)  # warm-up
        base = wrk(bare.url + "/webhook", body_file, seconds, connections).requests_per_second
        replay_rate(bare.url, 1, 1)  # warm-up
        one, sent = replay_rate(bare.url, repeat, 1)
        eight, _ = replay_rate(bare.url, repeat, 8)
    return report(
        f"replay: {sent:,} requests ({SOURCE.relative_to(ROOT)} x{repeat}) into the bare app",
        [
            Figure(f"wrk into the bare app, {connections} connections", base, "req/s"),
            Figure("hookcatcher replay, concurrency 1", one, "req/s"),
            Figure("hookcatcher replay, concurrency 8", eight, "req/s"),
            Figure("concurrency 1 / wrk", one / base, "x"),
            Figure("concurrency 8 / wrk", eight / base, "x"),
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    run(args.repeat, args.seconds)


if __name__ == "__main__":
    main()

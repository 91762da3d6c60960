"""The benchmark suite, in one go on this machine: every scenario prints its figures, its
target and PASS or MISS, and the whole run is written to bench/results/<time>.json (and
latest.json).

    python bench/run.py [--quick] [--only NAME ...] [--duration S] [--connections N]

Scenarios: ingest (wrk, hookcatcher against a bare Starlette app), forward (the bare app
straight, and through `serve --forward-to` into it), bigbody (20 MB media body,
5,000-message messages.set), sse (delivery latency at 1,000 captures/s), tui (open with
10,000 captures, filter change), memory (per 10,000 stored captures), replay (replay
throughput into a bare app), startup (to the first answer). Each is also a script of its own
in bench/. Figures from different runs or machines do not compare; ratios within one run do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import bigbody
import forward
import ingest
import memory
import replay_speed
import sse
import startup
import streams
from common import BENCH, ROOT, Figure, report, wrk_path

__all__ = ["SCENARIOS", "main"]

RESULTS = BENCH / "results"


def tui(quick: bool) -> dict[str, Any]:
    """bench/tui.py in its own process (it runs the inspector headless), its figures read
    from what it prints."""
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "tui.py"),
            "--captures",
            "10000",
            "--seconds",
            "2" if quick else "5",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"bench/tui.py failed:\n{out.stderr[-2000:]}")
    text = out.stdout
    opened = re.search(r"open, ([\d,]+) captures stored: (\d+) ms \(empty server (\d+) ms", text)
    change = re.search(
        r"filter change over \d+ changes: median ([\d.]+) ms, worst ([\d.]+) ms", text
    )
    if not opened or not change:
        raise RuntimeError(f"bench/tui.py printed something unexpected:\n{text}")
    open_ms, empty_ms = float(opened.group(2)), float(opened.group(3))
    median, worst = float(change.group(1)), float(change.group(2))
    result = report(
        f"TUI: {opened.group(1)} captures stored",
        [
            Figure("open, empty server", empty_ms, "ms"),
            Figure("open", open_ms, "ms", "< 2000 ms", open_ms < 2000),
            Figure("filter change, median", median, "ms", "< 100 ms", median < 100),
            Figure("filter change, worst", worst, "ms"),
        ],
    )
    return result | {"output": text}


def scenarios(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    quick = args.quick
    duration = args.duration or (4 if quick else 16)
    return {
        "ingest": lambda: ingest.run(duration, args.connections, 4 if quick else 16),
        "forward": lambda: forward.run(
            duration, args.connections, 2 if quick else 8, 200 if quick else 400
        ),
        "bigbody": lambda: bigbody.run(20, 5000, 1 if quick else 5),
        "sse": lambda: sse.run(1000, 2 if quick else 5),
        "tui": lambda: tui(quick),
        "memory": lambda: memory.run(10_000),
        "replay": lambda: replay_speed.run(5 if quick else 20, 2 if quick else 5),
        "startup": lambda: startup.run(3 if quick else 5),
        "streams": lambda: streams.run(
            500, 30, 5_000 if quick else 20_000, 1 if quick else 3, 1 if quick else 3
        ),
    }


SCENARIOS = ["ingest", "forward", "bigbody", "sse", "tui", "memory", "replay", "startup", "streams"]


def machine() -> dict[str, Any]:
    wrk_version = (
        subprocess.run(
            [shutil.which("wrk") or "wrk", "-v"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[:1]
        if shutil.which("wrk")
        else []
    )
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": len(os.sched_getaffinity(0)),
        "wrk": wrk_version[0] if wrk_version else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shorter runs and fewer repeats: a smoke test, not figures to quote",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SCENARIOS,
        metavar="NAME",
        help=f"run only these scenarios ({', '.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds of wrk load per server, split into rounds (default 16, 4 with --quick)",
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    args = parser.parse_args()
    chosen = args.only or SCENARIOS
    if {"ingest", "replay"} & set(chosen):
        wrk_path()  # exits with how to install it
    started = datetime.now(timezone.utc)
    run: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "arguments": vars(args),
        "machine": machine(),
        "scenarios": {},
    }
    available = scenarios(args)
    for name in chosen:
        began = time.monotonic()
        try:
            result = available[name]()
        except Exception as exc:  # one broken scenario must not lose the others' figures
            print(f"{name}: FAILED: {exc}")
            result = {"error": str(exc), "traceback": traceback.format_exc()}
        result["seconds"] = round(time.monotonic() - began, 1)
        run["scenarios"][name] = result
        print()
    misses = [
        f"{name}: {figure['name']}"
        for name, result in run["scenarios"].items()
        for figure in result.get("figures", [])
        if figure["passed"] is False
    ]
    failed = [name for name, result in run["scenarios"].items() if "error" in result]
    run["missed"], run["failed"] = misses, failed
    RESULTS.mkdir(exist_ok=True)
    written = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    text = json.dumps(run, indent=2) + "\n"
    written.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"targets missed: {len(misses)}" + "".join(f"\n  {miss}" for miss in misses))
    if failed:
        print(f"scenarios that failed: {', '.join(failed)}")
    print(f"figures written to {written.relative_to(ROOT)} and bench/results/latest.json")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

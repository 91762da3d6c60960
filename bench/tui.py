"""How fast the inspector is with many captures: opening on 10,000, changing the filter, and
staying responsive while 1,000 captures a second arrive.

    python bench/tui.py [--captures 10000] [--rate 1000] [--seconds 5]

Runs the TUI headless (Textual's Pilot, 120x40) against a real server on a free loopback
port. This machine is shared and noisy, so every figure is printed next to a baseline
measured in the same run: opening is compared with opening on an empty server, a filter
change with the bare API request that answers it, and key handling under load with key
handling at rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any, Callable

import httpx

from hookcatcher.ingest import build_capture
from hookcatcher.resources import data_dir
from hookcatcher.runner import BackgroundServer
from hookcatcher.server import create_app
from hookcatcher.store import Store
from hookcatcher.tui import InspectorApp
from hookcatcher.validation import Validator

SIZE = (120, 40)
MIX = [
    "evolution/v2/messages.upsert.text", "evolution/v2/messages.update.read",
    "evolution/v2/send.message.text", "evolution/v2/presence.update.composing",
    "whapi/messages.post.text", "whapi/statuses.post.read", "codechat/v2/messages.upsert.text",
    "evolution/v2/connection.update.open",
]


def bodies() -> list[tuple[list[tuple[str, str]], bytes]]:
    found = []
    for name in MIX:
        document = json.loads((data_dir("fixtures") / f"{name}.json").read_text())
        found.append(([tuple(h) for h in document["headers"]],
                      json.dumps(document["body"]).encode()))
    return found


def filled(validator: Validator, count: int) -> Store:
    store = Store(max_events=max(count, 10_000))
    mix = bodies()
    for index in range(count):
        headers, raw = mix[index % len(mix)]
        store.add(build_capture(validator, "POST", "/webhook", "", headers, "127.0.0.1:1", raw))
    return store


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the inspector did not get there in time")
        await asyncio.sleep(0.001)


async def open_time(url: str, count: int, tmp: Path) -> float:
    """Seconds from starting the app to its list showing every stored capture, the newest
    selected and its detail on screen."""
    started = time.perf_counter()
    app = InspectorApp(url, save_dir=tmp, config_dir=tmp)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.loaded.is_set() and len(app.capture_list.rows) == count
                    and (count == 0 or app.detail.capture is not None))
        return time.perf_counter() - started


async def filter_times(url: str, queries: list[str], tmp: Path) -> list[float]:
    """Seconds from Enter in the filter bar to the list holding the new result."""
    app = InspectorApp(url, save_dir=tmp, config_dir=tmp)
    times = []
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loaded.is_set)
        for query in queries:
            bar = app.query_one("#filter")
            bar.value = query
            bar.focus()
            started = time.perf_counter()
            await pilot.press("enter")
            await until(pilot, lambda: app.filter_text == query)
            await pilot.pause()  # and drawn
            times.append(time.perf_counter() - started)
    return times


def api_times(url: str, queries: list[str]) -> list[float]:
    times = []
    with httpx.Client(base_url=url) as http:
        for query in queries:
            started = time.perf_counter()
            http.get("/_hookcatcher/api/events",
                     params={"q": query, "view": "summary", "limit": 1_000_000_000}).json()
            times.append(time.perf_counter() - started)
    return times


class Sender(threading.Thread):
    """Posts captures at a steady rate from its own thread, as a gateway would."""

    def __init__(self, url: str, rate: int, seconds: float) -> None:
        super().__init__(daemon=True)
        self.url, self.rate, self.seconds = url, rate, seconds
        self.sent = 0
        self.last_id = 0

    def run(self) -> None:
        mix = bodies()
        with httpx.Client(base_url=self.url) as http:
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < self.seconds:
                due = int(elapsed * self.rate)
                while self.sent < due:
                    headers, raw = mix[self.sent % len(mix)]
                    answer = http.post("/webhook", content=raw, headers=headers)
                    self.last_id = answer.json()["id"]
                    self.sent += 1
                time.sleep(0.001)


async def key_latencies(app: InspectorApp, pilot: Any, presses: int) -> list[float]:
    """Seconds from a key press to the selection having moved."""
    times = []
    for index in range(presses):
        key = "up" if index % 2 == 0 else "down"
        before = app.capture_list.cursor
        started = time.perf_counter()
        await pilot.press(key)
        await until(pilot, lambda: app.capture_list.cursor != before, timeout=10)
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.05)
    return times


async def under_load(url: str, rate: int, seconds: float, tmp: Path) -> dict[str, float]:
    app = InspectorApp(url, save_dir=tmp, config_dir=tmp)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loaded.is_set)
        app.capture_list.select_index(max(0, len(app.capture_list.rows) - 2))
        rest = await key_latencies(app, pilot, 20)
        sender = Sender(url, rate, seconds)
        sender.start()
        await asyncio.sleep(0.5)
        loaded = await key_latencies(app, pilot, 20)
        await asyncio.to_thread(sender.join)
        caught_up = time.perf_counter()
        await until(pilot, lambda: app.last_id >= sender.last_id, timeout=30)
        lag = time.perf_counter() - caught_up
        return {"sent": sender.sent, "achieved_rate": sender.sent / seconds,
                "key_rest_median": statistics.median(rest),
                "key_load_median": statistics.median(loaded),
                "key_load_max": max(loaded), "catch_up": lag,
                "shown": len(app.capture_list.rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    tmp = Path(".bench-tui")
    tmp.mkdir(exist_ok=True)
    validator = Validator()
    queries = ["event:messages.upsert", "provider:whapi", "valid:no", "data.key.fromMe:true",
               "-event:presence.update", ""]

    with BackgroundServer(create_app(Store(), validator)) as empty:
        empty_open = statistics.median(asyncio.run(open_time(empty.url, 0, tmp)) for _ in range(3))
    store = filled(validator, args.captures)
    with BackgroundServer(create_app(store, validator)) as full:
        full_open = statistics.median(
            asyncio.run(open_time(full.url, args.captures, tmp)) for _ in range(3))
        tui_filter = asyncio.run(filter_times(full.url, queries, tmp))
        api_filter = api_times(full.url, queries)
    print(f"open, {args.captures:,} captures stored: {full_open * 1000:.0f} ms "
          f"(empty server {empty_open * 1000:.0f} ms, ratio {full_open / empty_open:.2f}; "
          f"target < 2000 ms)")
    for query, tui_s, api_s in zip(queries, tui_filter, api_filter):
        print(f"filter {query or '(none)'!r:28} {tui_s * 1000:6.1f} ms in the TUI, "
              f"{api_s * 1000:6.1f} ms for the API request alone (ratio {tui_s / api_s:.2f})")
    print(f"filter change, worst: {max(tui_filter) * 1000:.1f} ms (target < 100 ms)")

    with BackgroundServer(create_app(filled(validator, 1000), validator)) as live:
        load = asyncio.run(under_load(live.url, args.rate, args.seconds, tmp))
    print(f"under load: {load['sent']:,} captures in {args.seconds:.0f} s "
          f"({load['achieved_rate']:.0f}/s), list shows {load['shown']:,}")
    print(f"key press to moved selection: {load['key_rest_median'] * 1000:.1f} ms at rest, "
          f"{load['key_load_median'] * 1000:.1f} ms median under load "
          f"(ratio {load['key_load_median'] / load['key_rest_median']:.2f}), "
          f"worst {load['key_load_max'] * 1000:.1f} ms")
    print(f"list caught up with the last capture {load['catch_up'] * 1000:.0f} ms after the "
          "sender stopped")


if __name__ == "__main__":
    main()

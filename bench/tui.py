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
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from textual.geometry import Region

from hookcatcher.check.validation import Validator
from hookcatcher.core.resources import data_dir
from hookcatcher.receive.app import create_app
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.tui import InspectorApp

SIZE = (120, 40)
REPEAT = 5  # each filter is applied this many times; the median and the worst are shown
MIX = [
    "evolution/v2/messages.upsert.text",
    "evolution/v2/messages.update.read",
    "evolution/v2/send.message.text",
    "evolution/v2/presence.update.composing",
    "whapi/messages.post.text",
    "whapi/statuses.post.read",
    "codechat/v2/messages.upsert.text",
    "evolution/v2/connection.update.open",
]


def bodies() -> list[tuple[list[tuple[str, str]], bytes]]:
    found = []
    for name in MIX:
        document = json.loads((data_dir("fixtures") / f"{name}.json").read_text())
        found.append(
            ([tuple(h) for h in document["headers"]], json.dumps(document["body"]).encode())
        )
    return found


def filled(validator: Validator, count: int) -> Store:
    store = Store(max_events=max(count, 10_000))
    mix = bodies()
    for index in range(count):
        headers, raw = mix[index % len(mix)]
        capture = store.add(
            build_capture(validator, "POST", "/webhook", "", headers, "127.0.0.1:1", raw)
        )
        capture.release_body()  # as the server keeps them: bytes, parsed again when asked
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
        await until(
            pilot,
            lambda: (
                app.loaded.is_set()
                and len(app.capture_list.rows) == count
                and (count == 0 or app.detail.capture is not None)
            ),
        )
        return time.perf_counter() - started


async def filter_times(url: str, queries: list[str], tmp: Path) -> list[tuple[float, float]]:
    """For each filter: seconds from applying it (what Enter in the filter bar does) to the
    list holding the new result, and seconds to draw the list's visible lines after."""
    app = InspectorApp(url, save_dir=tmp, config_dir=tmp)
    times = []
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loaded.is_set)
        await pilot.pause()
        for query in [q for q in queries for _ in range(REPEAT)]:
            away = "instance:bench-elsewhere" if query else "provider:whapi"
            app.apply_filter(away)  # a change each time: from another result to this one
            await until(pilot, lambda away=away: app.filter_text == away and app.loaded.is_set())
            await pilot.pause()
            started = time.perf_counter()
            app.apply_filter(query)
            await until(pilot, lambda query=query: app.filter_text == query and app.loaded.is_set())
            updated = time.perf_counter()
            widget = app.capture_list
            widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
            drawn = time.perf_counter()
            times.append((updated - started, drawn - updated))
            await pilot.pause()
    return times


def api_times(url: str, queries: list[str]) -> list[float]:
    times = []
    with httpx.Client(base_url=url) as http:
        for query in [q for q in queries for _ in range(REPEAT)]:
            started = time.perf_counter()
            http.get(
                "/_hookcatcher/api/events",
                params={"q": query, "view": "summary", "limit": 1_000_000_000},
            ).json()
            times.append(time.perf_counter() - started)
    return times


SENDER = """
import asyncio, json, sys, time
from urllib.parse import urlsplit
url, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
host, port = urlsplit(url).hostname, urlsplit(url).port
# Raw HTTP/1.1 on kept-alive connections: a Python HTTP client costs more per request
# than the server does, and would measure itself instead of the inspector.
requests = []
for headers, body in json.loads(sys.stdin.read()):
    lines = ["POST /webhook HTTP/1.1", f"Host: {host}:{port}"]
    lines.append(f"Content-Length: {len(body.encode())}")
    skip = ("host", "content-length")
    lines += [f"{name}: {value}" for name, value in headers if name.lower() not in skip]
    requests.append(("\\r\\n".join(lines) + "\\r\\n\\r\\n").encode() + body.encode())
state = {"sent": 0, "last": 0}

async def worker(started):
    reader, writer = await asyncio.open_connection(host, port)
    while (elapsed := time.perf_counter() - started) < seconds:
        if state["sent"] >= int(elapsed * rate):
            await asyncio.sleep(0.0005)
            continue
        writer.write(requests[state["sent"] % len(requests)])
        state["sent"] += 1
        head = await reader.readuntil(b"\\r\\n\\r\\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\\r\\n")[0])
        answer = json.loads(await reader.readexactly(length))
        state["last"] = max(state["last"], answer["id"])
    writer.close()

async def main():
    started = time.perf_counter()
    await asyncio.gather(*(worker(started) for _ in range(8)))
    took = time.perf_counter() - started
    print(json.dumps({"sent": state["sent"], "last_id": state["last"], "seconds": took}))

asyncio.run(main())
"""


def start_sender(url: str, rate: int, seconds: float) -> subprocess.Popen[str]:
    """A gateway in another process, posting at a steady rate, so its own work does not
    compete with the inspector's for this process's interpreter."""
    process = subprocess.Popen(
        [sys.executable, "-c", SENDER, url, str(rate), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps([[headers, raw.decode()] for headers, raw in bodies()]))
    process.stdin.close()
    return process


async def loop_lag(seconds: float, tick: float = 0.01) -> list[float]:
    """How late the inspector's event loop wakes for a 10 ms timer, again and again: the
    delay any key press or redraw would wait for at that moment."""
    lags = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        before = time.perf_counter()
        await asyncio.sleep(tick)
        lags.append(time.perf_counter() - before - tick)
    return lags


async def under_load(url: str, rate: int, seconds: float, tmp: Path) -> dict[str, Any]:
    app = InspectorApp(url, save_dir=tmp, config_dir=tmp)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loaded.is_set)
        await pilot.pause()
        rest = await loop_lag(2.0)
        sender = start_sender(url, rate, seconds)
        busy = await loop_lag(seconds - 0.5)
        out = await asyncio.to_thread(sender.stdout.read)  # type: ignore[union-attr]
        sender.wait()
        report = json.loads(out)
        stopped = time.perf_counter()
        await until(pilot, lambda: app.last_id >= report["last_id"], timeout=60)
        return {
            **report,
            "rest": rest,
            "busy": busy,
            "catch_up": time.perf_counter() - stopped,
            "shown": len(app.capture_list.rows),
        }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    tmp = Path(".bench-tui")
    tmp.mkdir(exist_ok=True)
    validator = Validator()
    queries = [
        "event:messages.upsert",
        "provider:whapi",
        "valid:no",
        "data.key.fromMe:true",
        "-event:presence.update",
        "",
    ]

    with BackgroundServer(create_app(Store(), validator)) as empty:
        empty_open = statistics.median(asyncio.run(open_time(empty.url, 0, tmp)) for _ in range(3))
    store = filled(validator, args.captures)
    with BackgroundServer(create_app(store, validator)) as full:
        full_open = statistics.median(
            asyncio.run(open_time(full.url, args.captures, tmp)) for _ in range(3)
        )
        tui_filter = asyncio.run(filter_times(full.url, queries, tmp))
        api_filter = api_times(full.url, queries)
    print(
        f"open, {args.captures:,} captures stored: {full_open * 1000:.0f} ms "
        f"(empty server {empty_open * 1000:.0f} ms, ratio {full_open / empty_open:.2f}; "
        f"target < 2000 ms)"
    )
    for index, query in enumerate(queries):
        runs = tui_filter[index * REPEAT : (index + 1) * REPEAT]
        shown = [tui + draw for tui, draw in runs]
        api = statistics.median(api_filter[index * REPEAT : (index + 1) * REPEAT])
        print(
            f"filter {query or '(none)'!r:26} to the new list drawn: median "
            f"{statistics.median(shown) * 1000:5.1f} ms, worst {max(shown) * 1000:5.1f} ms; "
            f"API request alone {api * 1000:5.1f} ms (ratio {statistics.median(shown) / api:.2f})"
        )
    every = [tui + draw for tui, draw in tui_filter]
    print(
        f"filter change over {len(every)} changes: "
        f"median {statistics.median(every) * 1000:.1f} ms, "
        f"worst {max(every) * 1000:.1f} ms (target < 100 ms)"
    )

    with BackgroundServer(create_app(filled(validator, 1000), validator)) as live:
        load = asyncio.run(under_load(live.url, args.rate, args.seconds, tmp))
    rate = load["sent"] / load["seconds"]
    print(
        f"under load: {load['sent']:,} captures in {load['seconds']:.1f} s ({rate:.0f}/s) "
        f"from another process; the list shows {load['shown']:,}, and had the last one "
        f"{load['catch_up'] * 1000:.0f} ms after the sender stopped"
    )
    for name, lags in (("at rest", load["rest"]), ("under load", load["busy"])):
        print(
            f"event-loop lag {name:10}: median {statistics.median(lags) * 1000:5.1f} ms, "
            f"p99 {percentile(lags, 0.99) * 1000:5.1f} ms, worst {max(lags) * 1000:5.1f} ms"
        )
    print(
        f"p99 lag ratio, load / rest: "
        f"{percentile(load['busy'], 0.99) / max(percentile(load['rest'], 0.99), 1e-4):.1f}"
    )


if __name__ == "__main__":
    main()

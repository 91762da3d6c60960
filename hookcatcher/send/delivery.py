"""Delivery: many requests into the user's app, as the gateway would send them.

`replay` and `send` on the command line, `hookcatcher.replay()` in a test suite, and the
inspector's instance delivery all come here. A *planner* turns each capture into the requests
the gateway would make (one to a URL as received or per event; one per matching webhook of an
instance configured through the mock gateway API) and the reasons for any it would not make,
which are reported as skipped, never dropped in silence. Requests go out in order,
`concurrency` at a time, at most `rate` per second; the first refused connection stops the
run, since an app that is not running will refuse the rest too.

The target is a URL, or an ASGI or WSGI app called in this process through an httpx
transport, so a test suite needs no port and no server thread.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from hookcatcher.core.capture import Capture
from hookcatcher.core.overrides import Override, at, parse
from hookcatcher.send.outgoing import Attempt, Outgoing, make_client, request_for, send
from hookcatcher.send.sources import Item, items_of, with_overrides
from hookcatcher.send.webhook import Plan

__all__ = [
    "Planner",
    "Report",
    "Sent",
    "Skipped",
    "areplay",
    "deliver",
    "replay",
    "to_url",
    "transport_for",
]

APP_HOST = "http://testserver"  # the base URL of an app called in-process, as in TestClient

Planner = Callable[[Capture], Plan]


@dataclass(frozen=True, slots=True)
class Sent:
    """One request sent and what came back."""

    item: Item
    attempt: Attempt
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        capture = self.item.capture
        return {
            "label": self.item.label,
            "provider": capture.provider,
            "event": capture.event,
            **self.attempt.to_json(),
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Skipped:
    """A capture the gateway would not have sent, and why (not subscribed, disabled...)."""

    item: Item
    reason: str

    def to_json(self) -> dict[str, Any]:
        capture = self.item.capture
        return {
            "label": self.item.label,
            "provider": capture.provider,
            "event": capture.event,
            "skipped": self.reason,
        }


@dataclass(slots=True)
class Report:
    """Everything a run did, in the order it finished."""

    sent: list[Sent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str | None = None  # why the run ended early

    @property
    def attempts(self) -> list[Attempt]:
        return [sent.attempt for sent in self.sent]

    @property
    def ok(self) -> bool:
        """True when every request got a 2xx answer and nothing stopped the run."""
        return self.stopped is None and all(sent.attempt.ok for sent in self.sent)

    def counts(self) -> dict[str, Any]:
        statuses = Counter(
            sent.attempt.status
            for sent in self.sent
            if sent.attempt.status is not None and not sent.attempt.ok
        )
        return {
            "sent": len(self.sent),
            "ok": sum(sent.attempt.ok for sent in self.sent),
            "not_ok": sum(count for count in statuses.values()),
            "statuses": {str(status): count for status, count in sorted(statuses.items())},
            "unreachable": sum(sent.attempt.status is None for sent in self.sent),
            "skipped": len(self.skipped),
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
        }

    def summary(self) -> str:
        """`12 requests in 0.41 s (29/s): 11 answered 2xx, 1 not 2xx (500 x1), 2 skipped`."""
        counts = self.counts()
        rate = (
            f" ({counts['sent'] / self.seconds:,.0f}/s)"
            if self.seconds > 0 and counts["sent"]
            else ""
        )
        parts = [f"{counts['ok']} answered 2xx"]
        if counts["not_ok"]:
            detail = ", ".join(f"{status} x{count}" for status, count in counts["statuses"].items())
            parts.append(f"{counts['not_ok']} not 2xx ({detail})")
        if counts["unreachable"]:
            parts.append(f"{counts['unreachable']} without an answer")
        if counts["skipped"]:
            parts.append(f"{counts['skipped']} skipped")
        noun = "request" if counts["sent"] == 1 else "requests"
        text = f"{counts['sent']} {noun} in {self.seconds:.2f} s{rate}: {', '.join(parts)}"
        return f"{text}; stopped early: {self.stopped}" if self.stopped else text


def to_url(target: str, by_events: bool = False, whapi_mode: str | None = None) -> Planner:
    """The planner for one URL: each capture once, as received or by the gateway's
    per-event rule."""

    def plan(capture: Capture) -> Plan:
        return Plan((request_for(capture, target, by_events, whapi_mode=whapi_mode),), ())

    return plan


async def deliver(
    items: Iterable[Item],
    planner: Planner,
    client: httpx.AsyncClient,
    *,
    concurrency: int = 1,
    rate: float | None = None,
    repeat: int = 1,
    timeout: float = 10.0,
    on_done: Callable[[Sent | Skipped], None] | None = None,
) -> Report:
    """Send every item `repeat` times (the whole list, in order, again and again)."""
    report = Report()
    jobs: list[tuple[Item, Outgoing]] = []
    for item in list(items) * repeat:
        planned = planner(item.capture)
        for reason in planned.skipped:
            skipped = Skipped(item, reason)
            report.skipped.append(skipped)
            if on_done:
                on_done(skipped)
        jobs.extend((item, outgoing) for outgoing in planned.requests)
    started = time.perf_counter()
    pending = iter(jobs)
    slots = iter(range(len(jobs)))

    async def worker() -> None:
        for item, outgoing in pending:
            if report.stopped:
                return
            if rate:
                delay = started + next(slots) / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            attempt = await send(client, outgoing, item.capture.id, timeout)
            sent = Sent(item, attempt, outgoing.note)
            report.sent.append(sent)
            if on_done:
                on_done(sent)
            if attempt.refused and not report.stopped:
                report.stopped = attempt.error

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(jobs) or 1)))))
    report.seconds = time.perf_counter() - started
    return report


def transport_for(app: Any) -> httpx.AsyncBaseTransport:
    """An httpx transport that calls `app` in this process: ASGI apps (an `async`
    callable, such as Starlette or FastAPI) directly, WSGI apps (Flask, Django) on a worker
    thread. An exception that escapes the app comes out of the replay call, as with a test
    client (Flask turns its own into a 500 unless `app.testing` is set)."""
    if isinstance(app, httpx.AsyncBaseTransport):
        return app
    if not callable(app) or isinstance(app, type):
        raise TypeError(
            f"cannot replay into a {type(app).__name__}: give a URL, an ASGI app or a WSGI app"
        )
    call = app if inspect.isroutine(app) else type(app).__call__
    if inspect.iscoroutinefunction(call):
        return httpx.ASGITransport(app=app)
    return _WSGITransport(app)


class _WSGITransport(httpx.AsyncBaseTransport):
    """httpx's WSGI transport is synchronous; this runs it on a thread for the async client,
    reading the app's answer there so nothing sync is left for the event loop."""

    def __init__(self, app: Any) -> None:
        self._transport = httpx.WSGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        copy = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=content,
            extensions=request.extensions,
        )
        return await asyncio.to_thread(self._call, copy)

    def _call(self, request: httpx.Request) -> httpx.Response:
        response = self._transport.handle_request(request)
        try:
            body = b"".join(response.stream)  # type: ignore[arg-type]
        finally:
            response.close()
        return httpx.Response(response.status_code, headers=response.headers, content=body)


def _overrides(given: Iterable[Override | str] | dict[str, Any] | None) -> list[Override]:
    if not given:
        return []
    if isinstance(given, dict):
        return [at(path, value) for path, value in given.items()]
    return [entry if isinstance(entry, Override) else parse(entry) for entry in given]


async def areplay(
    target: Any,
    source: Any,
    *,
    by_events: bool = False,
    path: str = "/",
    overrides: dict[str, Any] | Iterable[str] | None = None,
    whapi_mode: str | None = None,
    concurrency: int = 1,
    rate: float | None = None,
    repeat: int = 1,
    timeout: float = 10.0,
) -> Report:
    """`replay` for async code (an async test): the same arguments, awaited."""
    items = list(with_overrides(items_of(source), _overrides(overrides)))
    if isinstance(target, str):
        url, transport = target, None
    else:
        url, transport = APP_HOST + "/" + path.lstrip("/"), transport_for(target)
    async with make_client(transport, concurrency) as client:
        return await deliver(
            items,
            to_url(url, by_events, whapi_mode),
            client,
            concurrency=concurrency,
            rate=rate,
            repeat=repeat,
            timeout=timeout,
        )


def replay(
    target: Any,
    source: Any,
    *,
    by_events: bool = False,
    path: str = "/",
    overrides: dict[str, Any] | Iterable[str] | None = None,
    whapi_mode: str | None = None,
    concurrency: int = 1,
    rate: float | None = None,
    repeat: int = 1,
    timeout: float = 10.0,
) -> Report:
    """Send fixtures or captures into `target` as the gateway would, and report.

    `target` is a URL (`http://127.0.0.1:3000/webhook`) or an ASGI or WSGI app, called in
    this process at `path`. `source` is a fixture or body file, a folder, a bundled fixture
    or event name (`messages.upsert`, `evolution/v2/messages.upsert.text`), a Fixture, a
    Capture, or a list of them. `by_events` uses the gateway's per-event URLs; `overrides`
    change the body first (`{"data.key.fromMe": True}` or `["data.key.fromMe=true"]`).
    Returns a `Report`: `report.ok` is True when every answer was 2xx."""

    def run() -> Report:
        return asyncio.run(
            areplay(
                target,
                source,
                by_events=by_events,
                path=path,
                overrides=overrides,
                whapi_mode=whapi_mode,
                concurrency=concurrency,
                rate=rate,
                repeat=repeat,
                timeout=timeout,
            )
        )

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    # Called from code already inside an event loop: that loop cannot be blocked on, so the
    # replay gets a loop of its own on a worker thread (`await areplay(...)` avoids this).
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()

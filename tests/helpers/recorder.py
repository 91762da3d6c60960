"""A stand-in for the user's app: a small Starlette app that records every request it gets
(method, path, query, headers in order, exact body) and answers 200, or what a test tells it.
Served by uvicorn on a free loopback port, or called in-process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from .ports import free_socket


@dataclass(frozen=True)
class Arrival:
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Recorder:
    """ASGI app: `arrivals` in the order they came; `status` decides the answer by path."""

    arrivals: list[Arrival] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    url: str = ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        self.arrivals.append(
            Arrival(
                request.method,
                request.url.path,
                scope.get("query_string", b"").decode(),
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
                body,
            )
        )
        status = self.statuses.get(request.url.path, 200)
        response: Response = JSONResponse({"path": request.url.path}, status_code=status)
        await response(scope, receive, send)


@contextmanager
def serving(app: Recorder, timeout: float = 10.0) -> Iterator[Recorder]:
    """The app on a free loopback port for the duration of the block; `app.url` is set."""
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test app did not start"
        time.sleep(0.01)
    app.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()

"""Running the app on a socket: in the foreground for the CLI, or on a background thread for
tests and scripts. The socket is bound before uvicorn starts, so the real port (also for
--port 0) is known and a port in use is a clear error, not a log line."""

from __future__ import annotations

import asyncio
import errno
import gc
import socket
import threading
import time

import uvicorn

from hookcatcher.receive.app import Hookcatcher
from hookcatcher.receive.connections import (
    HEAD_CEILING,
    ConnectionLimits,
    Registry,
    protocol_for,
    resolved,
)
from hookcatcher.remote import API_PREFIX

__all__ = ["bind", "PortError", "run", "BackgroundServer", "HEAD_CEILING"]

GRACEFUL_SHUTDOWN_SECONDS = 3
# uvicorn's own end of the graceful window comes this much later: by then every connection
# still open has been dropped (_Server.shutdown), so its tasks have ended and none is
# cancelled mid-request (a CancelledError traceback on stderr).
CANCEL_BACKSTOP_SECONDS = 2
STREAM_PATH = f"{API_PREFIX}/stream"
LISTEN_BACKLOG = 2048  # connections the kernel holds until they are accepted


class PortError(Exception):
    """The address cannot be listened on; the message says which and what to do."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then, and
    # without it every answer waits ~40 ms on delayed ACKs.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortError(
                f"port {port} on {host} is already in use: "
                "choose another with --port (or --port 0 for any free one)"
            ) from None
        raise PortError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(LISTEN_BACKLOG)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


FREEZE_EVERY = 1_000  # captures
THAW_EVERY = 50  # freezes: one full collection per 50,000 captures


class CollectorPacer:
    """Keeps Python's cycle collector from pausing the process for 100 ms and more.

    With 10,000 parsed bodies stored, a full collection walks every one of their objects,
    and at 1,000 captures a second one comes every few seconds: the receiver stalls and the
    inspector (same process under `hookcatcher`) freezes on screen. Captures hold no
    reference cycles, so they need no cycle collection; reference counting frees them when
    the ring evicts them. So every 1,000 captures whatever is alive is moved out of the
    collector's sight (gc.freeze); every 50 freezes everything is handed back and collected
    once, so cyclic garbage that was alive at a freeze is still reclaimed, late."""

    def __init__(self) -> None:
        self.captures = 0
        self.freezes = 0

    def __call__(self, _capture: object) -> None:
        self.captures += 1
        if self.captures % FREEZE_EVERY:
            return
        self.freezes += 1
        if self.freezes % THAW_EVERY == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()


class _Server(uvicorn.Server):
    """uvicorn's server, ending open SSE streams first so shutdown does not wait on them.

    A stream whose client stopped reading cannot end by itself: what was sent waits for the
    socket to drain, which it never will, and uvicorn would wait out the whole graceful
    window for it and then cancel it with a traceback (or, on a background thread, leave
    its socket open after the server is gone). Its connection is dropped instead: the
    server is going away, and the client resumes with Last-Event-ID as after any other
    drop. Requests in flight (a body still arriving, an answer waiting out --delay) get
    the graceful window; what is still open at its end is dropped too, so the app sees its
    sender gone and ends quietly instead of being cancelled with a traceback."""

    def __init__(
        self,
        app: Hookcatcher,
        quiet: bool = False,
        pace_collector: bool = True,
        limits: ConnectionLimits | None = None,
    ) -> None:
        # Quiet under the TUI: a log line on stderr would be drawn over the screen.
        # h11 even when httptools is installed: the timeouts, the connection bound and the
        # exact head ceiling are a subclass of uvicorn's h11 protocol (connections.py).
        # No proxy headers: a capture's remote is the peer that connected, and an
        # X-Forwarded-For it sent stays a header of the capture, as sent.
        limits = resolved(limits or ConnectionLimits())
        self.registry = Registry(limits)
        config = uvicorn.Config(
            app,
            log_level="critical" if quiet else "warning",
            access_log=False,
            proxy_headers=False,
            timeout_graceful_shutdown=(GRACEFUL_SHUTDOWN_SECONDS + CANCEL_BACKSTOP_SECONDS),
            timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]
            backlog=limits.backlog or LISTEN_BACKLOG,
            lifespan="off",
            http=protocol_for(self.registry),
            h11_max_incomplete_event_size=HEAD_CEILING,
        )
        super().__init__(config)
        self.app = app
        if pace_collector:
            app.store.subscribe(CollectorPacer())
            gc.freeze()  # what is loaded by now (schemas, a reloaded store) stays loaded

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # asyncio listens with uvicorn's backlog, which is also how many connections it
        # accepts at one turn of the loop, kept small when the open-file limit is tight
        # (connections.room_for_connections); the kernel's queue of connections waiting to
        # be accepted goes back to its full length, so a burst is not made to retry.
        for sock in sockets or ():
            sock.listen(LISTEN_BACKLOG)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.app.hub.close()
        for connection in list(self.server_state.connections):
            if _stalled_stream(connection):
                connection.transport.abort()  # close() would wait for a drain first
        window_end = asyncio.get_running_loop().call_later(
            GRACEFUL_SHUTDOWN_SECONDS, self._drop_unfinished
        )
        try:
            await super().shutdown(sockets)
        finally:
            window_end.cancel()
            self.registry.close()
            self.app.workers.close()
            if self.app.forwarder is not None:
                await self.app.forwarder.close()  # its connections to the app

    def _drop_unfinished(self) -> None:
        """The graceful window is over: every connection still open (a body still coming,
        an answer still held) is dropped, as if its sender had hung up."""
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None and not transport.is_closing():
                transport.abort()


def _stalled_stream(connection: object) -> bool:
    """Whether a uvicorn connection serves the stream to a client that is not taking
    what was sent (bytes wait in the transport: the socket's buffers are full)."""
    transport = getattr(connection, "transport", None)
    scope = getattr(connection, "scope", None) or {}
    return bool(
        transport is not None
        and scope.get("path") == STREAM_PATH
        and not transport.is_closing()
        and transport.get_write_buffer_size() > 0
    )


def run(app: Hookcatcher, sock: socket.socket, limits: ConnectionLimits | None = None) -> None:
    """Serve until SIGINT/SIGTERM."""
    _Server(app, limits=limits).run(sockets=[sock])


class BackgroundServer:
    """`with BackgroundServer(app) as server: server.url` serves on a free loopback port
    (or on a socket already bound with `bind`)."""

    def __init__(
        self,
        app: Hookcatcher,
        host: str = "127.0.0.1",
        port: int = 0,
        sock: socket.socket | None = None,
        quiet: bool = False,
        pace_collector: bool = True,
        limits: ConnectionLimits | None = None,
    ) -> None:
        """`pace_collector=False` for a server inside someone else's process (a test
        suite): freezing the heap there would keep the host's reference cycles alive.
        `limits`: the connection timeouts and bound (the defaults of the flags if None)."""
        self.app = app
        self.sock = sock if sock is not None else bind(host, port)
        self.url = url_of(self.sock)
        self._server = _Server(app, quiet, pace_collector, limits)
        self.registry = self._server.registry
        self._thread = threading.Thread(target=self._serve, name="hookcatcher-server", daemon=True)

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("hookcatcher's server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10) -> bool:
        """Shut down gracefully; whether the server thread ended within `timeout` seconds."""
        self._server.should_exit = True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

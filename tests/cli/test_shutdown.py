"""`hookcatcher serve --save F` stopped by SIGTERM or SIGINT while requests are in flight:
answers held by --delay and a body still arriving are finished and answered 2xx, an open
stream (even a stalled one) does not hold the process, it exits 0 within the graceful
window, and F holds every acknowledged capture and ends with a whole line. And a signal
that comes as soon as the banner says the server is ready stops it cleanly too."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from helpers.process import Running
from helpers.rawhttp import SSEClient, address_of, exchange, read_reply, request_bytes

from hookcatcher.cli import main as cli
from hookcatcher.files.session import load
from hookcatcher.receive import printer, runner
from hookcatcher.receive.runner import GRACEFUL_SHUTDOWN_SECONDS

DELAY_MS = 800


@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(*args: str) -> Running:
        process = Running("serve", "--port", "0", *args)
        started.append(process)
        return process.started()

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(timeout=10)


def posted(body: bytes) -> bytes:
    return request_bytes(
        b"POST",
        b"/webhook",
        [(b"Host", b"test"), (b"Content-Length", str(len(body)).encode())],
        body,
    )


def drained(lines: queue.Queue[str]) -> list[str]:
    found = []
    while not lines.empty():
        found.append(lines.get_nowait())
    return found


@pytest.mark.slow
@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_requests_in_flight_are_answered_and_saved(serve, tmp_path: Path, stop_with) -> None:
    saved = tmp_path / "session.jsonl"
    server = serve("--save", str(saved), "--delay", str(DELAY_MS))
    address = address_of(server.url)
    stalled = SSEClient(server.url, receive_buffer=4096).open()
    reading = SSEClient(server.url).open()
    bodies = [json.dumps({"n": n, "pad": "x" * 20_000}).encode() for n in range(4)]
    with ThreadPoolExecutor(4) as pool:
        # Three answers waiting out the delay (stored, and printed, before it).
        waiting = [pool.submit(exchange, address, posted(body), 15) for body in bodies[:3]]
        for _ in range(3):
            server.read_until(r"#\d+ ")
        # One body half sent.
        arriving = socket.create_connection(address, timeout=15)
        request = posted(bodies[3])
        arriving.sendall(request[: len(request) // 2])

        started = time.monotonic()
        server.process.send_signal(stop_with)
        # The shutdown has begun when the open stream ends (cleanly: no reset).
        assert [int(message["id"]) for message in reading.read(3)] == [1, 2, 3]
        with pytest.raises(AssertionError, match="the server closed the stream"):
            reading.read(1)
        arriving.sendall(request[len(request) // 2 :])
        with arriving.makefile("rb") as reader:
            last = read_reply(reader)
        arriving.close()
        answers = [future.result() for future in waiting] + [last]

    assert [answer.status if answer else None for answer in answers] == [200] * 4
    assert server.process.wait(timeout=GRACEFUL_SHUTDOWN_SECONDS + 5) == 0
    assert time.monotonic() - started < GRACEFUL_SHUTDOWN_SECONDS + 2
    reading.close()
    stalled.close()
    assert "ERROR" not in "".join(drained(server.lines["stderr"]))

    acknowledged = {answer.json()["id"]: body for answer, body in zip(answers, bodies, strict=True)}
    assert saved.read_bytes().endswith(b"\n")
    session = load(str(saved))
    assert {capture.id: capture.raw for capture in session.captures} == acknowledged


@pytest.mark.slow
@pytest.mark.parametrize("held", ["half a body", "an answer held by --delay"])
def test_what_the_graceful_window_cannot_finish_is_dropped_without_a_traceback(held: str) -> None:
    """A body that stops half way, or an answer held past the window: at its end the
    connection is dropped (the sender sees it go), the process exits 0 and stderr stays
    clean. Old code cancelled the request's task: "Cancel 1 running task(s)" and a
    CancelledError traceback on stderr."""
    delay = ["--delay", "60000"] if held != "half a body" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "hookcatcher", "serve", "--port", "0", *delay],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = _served_at(process)
        request = posted(b'{"event": "messages.upsert", "pad": "' + b"x" * 1000 + b'"}')
        sock = socket.create_connection(address_of(url), timeout=15)
        if held == "half a body":
            sock.sendall(request[: len(request) // 2])
            # Answered after the server read what came before it: the request is under way.
            assert httpx.get(url + "/_hookcatcher/health").status_code == 200
        else:
            sock.sendall(request)
            deadline = time.monotonic() + 10
            while not httpx.get(url + "/_hookcatcher/api/events").json()["events"]:
                assert time.monotonic() < deadline, "the webhook was not stored"
                time.sleep(0.02)  # stored: its answer is being held
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=GRACEFUL_SHUTDOWN_SECONDS + 5)
        assert process.returncode == 0
        assert time.monotonic() - started < GRACEFUL_SHUTDOWN_SECONDS + 2
        # Dropped unanswered: nothing to read, or a reset.
        with sock, sock.makefile("rb") as reader, contextlib.suppress(ConnectionResetError):
            assert read_reply(reader) is None
        assert "Traceback" not in errors and "CancelledError" not in errors
        assert "ERROR" not in errors
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _served_at(process: subprocess.Popen) -> str:
    """The URL serve's banner gives (its first line)."""
    found = re.search(r"http://\S+", process.stdout.readline())
    assert found, f"serve ended before its banner: {process.stderr.read()}"
    return found.group(0)


@pytest.fixture
def sigterm_restored() -> Iterator[None]:
    """`serve` sets the process's SIGTERM handler; the test process gets its own back."""
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


def test_the_banner_comes_when_a_signal_would_stop_the_server_cleanly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sigterm_restored: None
) -> None:
    """The banner says the server is ready, so a supervisor may stop it at once. Today
    SIGTERM still has its default action then (the process dies with -15) and Ctrl+C
    raises outside serve's `try` (-2 and a traceback): seen from outside as a rare race,
    made certain here by stopping the server exactly as the banner is printed."""
    handlers = []

    def banner_then_ctrl_c(*args: object, **kwargs: object) -> str:
        handlers.append(signal.getsignal(signal.SIGTERM))
        raise KeyboardInterrupt

    # serve takes both from their modules as it starts
    monkeypatch.setattr(printer, "banner", banner_then_ctrl_c)
    monkeypatch.setattr(runner, "run", lambda *args: pytest.fail("served after Ctrl+C"))
    saved = tmp_path / "session.jsonl"
    try:
        status = cli.main(["serve", "--port", "0", "--save", str(saved)])
    except KeyboardInterrupt:  # caught here, or it would stop the whole test run
        pytest.fail("Ctrl+C as the banner was printed escaped serve (exit -2, a traceback)")
    assert status == 0
    assert handlers and handlers[0] is not signal.SIG_DFL, "SIGTERM unhandled at the banner"
    assert saved.read_bytes().endswith(b"\n")  # the session's header, whole

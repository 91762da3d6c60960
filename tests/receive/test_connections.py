"""Connections that take too long, and too many connections, through real sockets: a
connection that sends nothing, half a head or half a body is closed after its timeout; a
body that crawls under the minimum rate too; a request that arrived whole and waits on the
app (--delay, a stream) never is; at the connection bound the longest idle connection makes
room for a webhook; a head over 1 MiB is refused at the HTTP layer; and the flags reach the
server. Timeouts here are half a second, so every test ends in a few seconds; old code,
which closed nothing, fails them at their deadlines."""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from helpers.process import Running
from helpers.rawhttp import Reply, SSEClient, address_of, exchange, read_reply, request_bytes

from hookcatcher.check.validation import Validator
from hookcatcher.cli.main import main
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import create_app
from hookcatcher.receive.connections import HEAD_CEILING, ConnectionLimits, room_for_connections
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store

EVENTS = "/_hookcatcher/api/events"
SHORT = 0.5  # seconds: the timeouts of the servers here
DEADLINE = 5.0  # seconds a test waits for what should take SHORT (and old code never did)
QUICK = ConnectionLimits(
    head_timeout=SHORT, body_timeout=SHORT, min_body_rate=1000, keep_alive=SHORT
)


@pytest.fixture
def serve(validator: Validator) -> Iterator[Callable[..., BackgroundServer]]:
    """Servers with the connection limits (and answer rules) a test gives."""
    started: list[BackgroundServer] = []

    def start(
        limits: ConnectionLimits = QUICK,
        answers: Answers | None = None,
    ) -> BackgroundServer:
        app = create_app(Store(), validator, answers)
        server = BackgroundServer(app, quiet=True, pace_collector=False, limits=limits)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


def connect(server: BackgroundServer) -> socket.socket:
    sock = socket.create_connection(address_of(server.url), timeout=DEADLINE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def closed_within(sock: socket.socket, seconds: float = DEADLINE) -> bytes:
    """What the server sent before closing the connection; fails if it is still open
    after `seconds`."""
    received = b""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(
        f"the connection is still open after {seconds} s (received {received[:200]!r})"
    )


def still_open(sock: socket.socket) -> bool:
    """Whether the server has neither closed the connection nor sent anything on it."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def webhook(body: bytes = b'{"event":"messages.upsert"}') -> bytes:
    return request_bytes(
        b"POST",
        b"/webhook",
        [
            (b"Host", b"test"),
            (b"Content-Type", b"application/json"),
            (b"Content-Length", str(len(body)).encode()),
        ],
        body,
    )


def stored(server: BackgroundServer) -> list[str]:
    return [
        event["path"] for event in httpx.get(server.url + EVENTS, timeout=DEADLINE).json()["events"]
    ]


# --- timeouts -----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(serve) -> None:
    server = serve()
    with connect(server) as idle:
        opened = time.monotonic()
        assert closed_within(idle) == b""  # nothing was asked: nothing to answer
        assert time.monotonic() - opened >= SHORT
    assert server.registry.timed_out == 1
    assert httpx.post(server.url + "/after", content=b"{}").status_code == 200


@pytest.mark.slow
def test_a_connection_idle_after_an_answer_is_closed(serve) -> None:
    """Kept alive after an answer, then silent: closed (--keep-alive; --head-timeout counts
    from the answer too)."""
    server = serve(ConnectionLimits(head_timeout=SHORT, keep_alive=60))
    with connect(server) as kept, kept.makefile("rb") as reader:
        kept.sendall(webhook())
        assert read_reply(reader).status == 200
        assert closed_within(kept, 3.0) == b""  # (uvicorn's own keep-alive was 5 s)


def test_a_half_sent_head_is_answered_408_and_closed(serve) -> None:
    server = serve()
    with connect(server) as slow:
        slow.sendall(b"POST /webhook HTTP/1.1\r\nHost: test\r\nContent-Type: applic")
        answer = closed_within(slow)
    assert status_of(answer) == 408
    assert answer.endswith(b"the request head did not arrive whole within 0.5 s (--head-timeout)\n")
    assert stored(server) == []


@pytest.mark.slow
def test_a_head_sent_a_byte_at_a_time_is_closed_at_the_head_timeout(serve) -> None:
    """Each byte in time for any pause rule; the head as a whole is not."""
    server = serve()
    request = webhook()
    with connect(server) as slow:
        started = time.monotonic()
        for byte in request:
            slow.sendall(bytes([byte]))
            if not still_open(slow) or time.monotonic() - started > DEADLINE:
                break
            time.sleep(SHORT / 10)  # the sender's pace
        answer = closed_within(slow)
    assert status_of(answer) == 408 and b"--head-timeout" in answer
    assert stored(server) == []


def test_a_half_sent_body_is_answered_408_closed_and_not_stored(serve) -> None:
    server = serve()
    with connect(server) as half:
        half.sendall(
            request_bytes(
                b"POST",
                b"/webhook",
                [(b"Host", b"test"), (b"Content-Length", b"100")],
                b'{"event": ',
            )
        )
        answer = closed_within(half)
    assert status_of(answer) == 408
    assert answer.endswith(b"the request body stopped: nothing came for 0.5 s (--body-timeout)\n")
    assert stored(server) == []
    assert server.registry.timed_out == 1


@pytest.mark.slow
def test_a_body_trickling_under_the_minimum_rate_is_closed(serve) -> None:
    """Five bytes every 50 ms: never a pause of --body-timeout, but 100 bytes a second,
    under --min-body-rate 1000 once --body-timeout has passed."""
    server = serve()
    with connect(server) as trickle:
        trickle.sendall(
            request_bytes(
                b"POST", b"/webhook", [(b"Host", b"test"), (b"Content-Length", b"100000")]
            )
        )
        started = time.monotonic()
        while still_open(trickle) and time.monotonic() - started < DEADLINE:
            trickle.sendall(b"x" * 5)
            select.select([trickle], [], [], 0.05)
        answer = closed_within(trickle)
        took = time.monotonic() - started
    assert status_of(answer) == 408
    assert re.search(
        rb"the request body came too slowly: [\d,]+ bytes in [\d.]+ s, under "
        rb"1,000 bytes a second \(--min-body-rate\)\n$",
        answer,
    )
    assert took >= SHORT
    assert stored(server) == []


@pytest.mark.slow
def test_a_body_that_keeps_coming_is_not_cut_however_long_it_takes(serve) -> None:
    """Over twice --body-timeout at 20 KB a second, over the minimum rate: taken. (A
    --body-timeout of 1 s: a pause of half a second on a busy machine is not a stall.)"""
    server = serve(ConnectionLimits(body_timeout=1.0, min_body_rate=1000))
    body = json.dumps({"pad": "x" * 44_000}).encode()
    with connect(server) as steady, steady.makefile("rb") as reader:
        steady.sendall(
            request_bytes(
                b"POST",
                b"/webhook",
                [(b"Host", b"test"), (b"Content-Length", str(len(body)).encode())],
            )
        )
        started = time.monotonic()
        for offset in range(0, len(body), 2000):
            steady.sendall(body[offset : offset + 2000])
            if offset + 2000 < len(body):  # after the last piece, the answer may be there
                assert still_open(steady), f"cut while the body was coming: {steady.recv(999)!r}"
            time.sleep(0.1)  # the sender's pace
        assert time.monotonic() - started > 2.0
        assert read_reply(reader).status == 200
    assert stored(server) == ["/webhook"]


@pytest.mark.slow
def test_an_answer_held_by_delay_is_not_cut(serve) -> None:
    """The request came whole: waiting on the app is not the sender's doing. An idle
    connection opened after it is closed first, so the timeouts had their chance."""
    server = serve(answers=Answers.from_flags(None, ["1500"], None))
    address = address_of(server.url)
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(exchange, address, webhook(), DEADLINE)
        deadline = time.monotonic() + DEADLINE
        while stored(server) == [] and time.monotonic() < deadline:
            time.sleep(0.01)
        with connect(server) as idle:
            closed_within(idle)
        assert not held.done()
        answer = held.result(timeout=DEADLINE)
    assert answer is not None and answer.status == 200


@pytest.mark.slow
def test_a_stream_is_not_cut(serve) -> None:
    server = serve()
    with SSEClient(server.url) as stream:
        with connect(server) as idle:  # opened after the stream: timed out after it would be
            closed_within(idle)
        assert httpx.post(server.url + "/later", content=b"{}").status_code == 200
        [message] = stream.read(1, timeout=DEADLINE)
        assert message["data"]["path"] == "/later"


# --- the connection bound ---------------------------------------------------------------


def test_at_the_bound_idle_connections_make_room_for_a_webhook(serve) -> None:
    server = serve(ConnectionLimits(max_connections=20))  # default (long) timeouts
    idle = [connect(server) for _ in range(40)]
    try:
        started = time.monotonic()
        answer = httpx.post(server.url + "/webhook", content=b"{}", timeout=DEADLINE)
        took = time.monotonic() - started
        assert answer.status_code == 200 and took < 2
        for sock in idle[:20]:  # the oldest made room for the newer
            assert closed_within(sock) == b""
        assert all(still_open(sock) for sock in idle[-10:])
        assert len(server.registry.open) <= 20
    finally:
        for sock in idle:
            sock.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE} s: {what}"
        time.sleep(0.01)


@pytest.mark.slow
def test_busy_connections_are_never_evicted_and_a_full_house_says_503(serve) -> None:
    """Bound 2: a request waiting on --delay stays; the idle connection goes; once both
    are busy a new connection is told why it is turned away. (The store is read in
    process: a request to the API would take a connection too.)"""
    server = serve(ConnectionLimits(max_connections=2), Answers.from_flags(None, ["2500"], None))
    address, store = address_of(server.url), server.app.store
    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(exchange, address, webhook(), 2 * DEADLINE)
        wait_for(lambda: len(store) == 1, "the first webhook stored")
        with connect(server) as idle:
            wait_for(lambda: len(server.registry.open) == 2, "the idle connection taken")
            second = pool.submit(exchange, address, webhook(), 2 * DEADLINE)
            assert closed_within(idle) == b""  # made room for the second webhook
            wait_for(lambda: len(store) == 2, "the second webhook stored")
        with connect(server) as third:
            answer = closed_within(third)
        assert not held.done(), "the test was too slow to see a full house"
        assert status_of(answer) == 503
        assert answer.endswith(
            b"hookcatcher holds 2 connections, each busy with a request "
            b"(--max-connections): try again\n"
        )
        assert [held.result().status, second.result().status] == [200, 200]
    assert server.registry.evicted == 1 and server.registry.refused == 1


def test_a_bound_the_open_file_limit_cannot_hold_is_a_clear_error() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard open-file limit here")
    with pytest.raises(ValueError) as error:
        room_for_connections(hard + 1)
    assert str(error.value).startswith(
        f"{hard + 1:,} connections need {hard + 1 + 128 + 64:,} open files (128 kept for "
        "files and the inspector, 64 for connections being accepted), and this process may "
        f"open {hard:,}: at most {hard - 128 - 64:,} here"
    )
    assert "raise `ulimit -n`, or lower it" in str(error.value)


# --- the head ceiling ---------------------------------------------------------------------


def _head_of(size: int) -> bytes:
    """A request head of exactly `size` bytes (request line, headers, blank line)."""
    start, end = b"POST /big HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n", b"\r\n"
    filler = size - len(start) - len(end)
    lines = [b"x-pad-%d: %s\r\n" % (n, b"v" * 900) for n in range(filler // 1000)]
    head = start + b"".join(lines)
    last = size - len(head) - len(end) - len(b"x-end: \r\n")
    return head + b"x-end: " + b"v" * last + b"\r\n" + end


def _send_head(server: BackgroundServer, head: bytes) -> bytes:
    """What the server answers to `head` before it closes the connection."""
    with connect(server) as sock:
        # Refused before all of it was taken: the answer is read below.
        with contextlib.suppress(OSError):
            sock.sendall(head + b"{}")
        return closed_within(sock)


@pytest.mark.parametrize(
    "size", [HEAD_CEILING + 1, HEAD_CEILING + 100 * 1024], ids=["1MiB+1", "1.1MiB"]
)
def test_a_head_over_1_MiB_is_refused_431_and_not_stored(serve, size: int) -> None:
    server = serve(ConnectionLimits())
    head = _head_of(size)
    assert len(head) == size
    answer = _send_head(server, head)
    assert status_of(answer) == 431
    assert answer.endswith(b"the request head (request line and headers) is over 1 MiB: refused\n")
    assert stored(server) == []  # it never reached the app
    assert httpx.post(server.url + "/after", content=b"{}").status_code == 200


def test_a_head_of_exactly_1_MiB_reaches_the_app(serve) -> None:
    """The ceiling is the HTTP layer's; the app's own header limits answer it (in JSON,
    and record it)."""
    server = serve(ConnectionLimits())
    with connect(server) as sock, sock.makefile("rb") as reader:
        sock.sendall(_head_of(HEAD_CEILING) + b"{}")
        reply: Reply | None = read_reply(reader)
    assert reply is not None and reply.status == 431
    assert reply.json()["error"] == "1,051 headers, over the limit of 100"
    assert stored(server) == ["/big"]


# --- the flags ----------------------------------------------------------------------------


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(*args: str, **options: Any) -> Running:
        started.append(Running(*args, **options))
        return started[-1]

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait(timeout=10)


@pytest.mark.slow
def test_the_flags_reach_the_server(running) -> None:
    server = running(
        "serve", "--port", "0", "--head-timeout", "0.5", "--body-timeout", "0.5"
    ).started()
    address = address_of(server.url)
    with socket.create_connection(address, timeout=DEADLINE) as idle:
        assert closed_within(idle) == b""
    with socket.create_connection(address, timeout=DEADLINE) as half:
        half.sendall(
            request_bytes(b"POST", b"/x", [(b"Host", b"test"), (b"Content-Length", b"9")], b"{")
        )
        assert b"the request body stopped: nothing came for 0.5 s" in closed_within(half)
    assert server.stop() == 0


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--head-timeout", "0"], {}, "'--head-timeout': '0' must be more than 0"),
        (["--body-timeout", "soon"], {}, "'--body-timeout': 'soon' is not a number"),
        (["--min-body-rate", "1kb/s"], {}, "'--min-body-rate': '1kb/s' is not a size"),
        (["--max-connections", "0"], {}, "'--max-connections': '0' must be at least 1"),
        ([], {"HOOKCATCHER_KEEP_ALIVE": "-1"}, "HOOKCATCHER_KEEP_ALIVE: '-1' must be more than 0"),
        (
            ["--max-connections", "100000000"],
            {},
            "--max-connections: 100,000,000 connections need 100,000,192 open files",
        ),
    ],
    ids=["head-zero", "body-word", "rate-unit", "max-zero", "env-keep-alive", "max-too-many"],
)
def test_a_bad_connection_flag_is_a_usage_error(monkeypatch, capsys, args, env, message) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--port", "0", *args]) == 2
    assert message in capsys.readouterr().err


# --- the old failure: 1,100 idle connections under a 1,024 file limit ----------------------

SERVE_UNDER_1024 = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
from hookcatcher.cli.main import main
sys.exit(main(["serve", "--port", "0"]))
"""


@pytest.mark.slow
def test_1100_idle_connections_under_a_1024_file_limit_do_not_stop_webhooks(tmp_path) -> None:
    """Old code: accept() failed with "Too many open files" (a traceback on stderr each
    time, hundreds of thousands of them) and the webhook timed out."""
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1300:
        if hard != resource.RLIM_INFINITY and hard < 1300:
            pytest.skip("this process may not open 1,300 files")
        resource.setrlimit(resource.RLIMIT_NOFILE, (1300, hard))
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_UNDER_1024],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    idle: list[socket.socket] = []
    try:
        line = process.stdout.readline()
        while "http://" not in line:
            assert line, f"serve ended: {errors.read_text()}"
            line = process.stdout.readline()
        url = "http://" + line.split("http://", 1)[1].split()[0]
        address = address_of(url)
        for _ in range(1100):
            idle.append(socket.create_connection(address, timeout=DEADLINE))
        started = time.monotonic()
        answer = httpx.post(url + "/webhook", content=b"{}", timeout=DEADLINE)
        assert answer.status_code == 200 and time.monotonic() - started < DEADLINE
        assert "Too many open files" not in errors.read_text()
    finally:
        for sock in idle:
            sock.close()
        process.kill()
        process.wait(timeout=10)

"""HTTP/1.1 over plain sockets, for the tests that must send exactly the bytes they mean
(odd methods, invalid headers, a body cut in two) and read the stream the way a slow or
broken client would (a few bytes, then nothing; half a message, then gone).

httpx normalises what it sends and reads whole messages, so it cannot play those clients.
Every read here has a timeout: a server that stops answering fails the test, it never hangs.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

__all__ = [
    "Reply",
    "address_of",
    "request_bytes",
    "exchange",
    "read_reply",
    "aread_reply",
    "SSEClient",
    "parse_sse",
]

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def json(self) -> Any:
        return json.loads(self.body)


def address_of(url: str) -> Address:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


def request_bytes(
    method: bytes,
    target: bytes,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    version: bytes = b"HTTP/1.1",
) -> bytes:
    """The request as it goes on the wire; Content-Length is the caller's to add (or not)."""
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return method + b" " + target + b" " + version + b"\r\n" + head + b"\r\n" + body


def _parse_head(head: bytes) -> tuple[int, list[tuple[bytes, bytes]]]:
    status_line, *lines = head.split(b"\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", status_line)
    if match is None:
        raise AssertionError(f"not an HTTP status line: {status_line[:200]!r}")
    headers = []
    for line in lines:
        name, _, value = line.partition(b":")
        headers.append((name.strip(), value.strip()))
    return int(match.group(1)), headers


def read_reply(reader: Any, head_only: bool = False) -> Reply | None:
    """One answer from a file made with `socket.makefile("rb")`; None when the server
    closed the connection without answering."""
    lines = []
    while (line := reader.readline(65536)) not in (b"\r\n", b"\n"):
        if not line:
            if lines:
                raise AssertionError(f"the connection closed inside an answer: {lines!r}")
            return None
        lines.append(line.rstrip(b"\r\n"))
    status, headers = _parse_head(b"\r\n".join(lines))
    if status == 100:  # Expect: 100-continue; the real answer follows
        return read_reply(reader, head_only)
    reply = Reply(status, headers, b"")
    if head_only or status in (204, 304):
        return reply
    length = reply.header(b"content-length")
    if length is not None:
        body = reader.read(int(length))
    elif (reply.header(b"transfer-encoding") or b"").lower() == b"chunked":
        body = _read_chunks(reader)
    else:
        body = reader.read()  # delimited by the end of the connection
    return Reply(status, headers, body)


def _read_chunks(reader: Any) -> bytes:
    parts = []
    while (size := int(reader.readline().split(b";")[0], 16)) > 0:
        parts.append(reader.read(size))
        reader.readline()
    while reader.readline() not in (b"\r\n", b"\n", b""):
        pass  # trailers
    return b"".join(parts)


def exchange(
    address: Address,
    data: bytes,
    timeout: float = 10,
    head_only: bool = False,
    finish: bool = False,
) -> Reply | None:
    """Send `data` on a new connection and read one answer (None: closed unanswered).
    `finish` closes the sending side after `data`, as a sender that gives up mid-request
    does; the server then sees the end of the request bytes."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(data)
            if finish:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered (400) and closed before taking it all: read that
        with sock.makefile("rb") as reader:
            try:
                return read_reply(reader, head_only)
            except ConnectionResetError:
                return None


async def aread_reply(reader: asyncio.StreamReader) -> Reply:
    """One answer on a keep-alive connection (answers with Content-Length only: the
    receiver's and the API's)."""
    status, headers = _parse_head((await reader.readuntil(b"\r\n\r\n"))[:-4])
    length = next(int(value) for name, value in headers if name.lower() == b"content-length")
    return Reply(status, headers, await reader.readexactly(length))


_MESSAGE_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_LINE_END = re.compile(rb"\r\n|\n|\r")


def parse_sse(data: bytes) -> tuple[list[dict[str, Any]], bytes]:
    """Whole SSE messages in `data` as {event, id, data} (comments skipped, `data` parsed
    as JSON), and the bytes of the message not yet complete."""
    messages = []
    start = 0
    for end in _MESSAGE_END.finditer(data):
        message: dict[str, Any] = {}
        for line in _LINE_END.split(data[start : end.start()]):
            if not line or line.startswith(b":"):
                continue
            field, _, value = line.decode("utf-8").partition(":")
            value = value[1:] if value.startswith(" ") else value
            message[field] = message[field] + "\n" + value if field in message else value
        start = end.end()
        if "data" in message:
            message["data"] = json.loads(message["data"])
            messages.append(message)
    return messages, data[start:]


class SSEClient:
    """A stream client on its own socket. HTTP/1.0, so the body is the SSE text itself (no
    chunk framing) until the server closes. `receive_buffer` shrinks the socket's receive
    buffer before connecting, so a client that stops reading stalls the server soon."""

    def __init__(
        self,
        url: str,
        query: str = "",
        last_event_id: str | None = None,
        receive_buffer: int | None = None,
        timeout: float = 10,
    ) -> None:
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(address_of(url))
        headers = [(b"Accept", b"text/event-stream")]
        if last_event_id is not None:
            headers.append((b"Last-Event-ID", last_event_id.encode("latin-1")))
        target = b"/_hookcatcher/stream" + (b"?" + query.encode() if query else b"")
        self.sock.sendall(request_bytes(b"GET", target, headers, version=b"HTTP/1.0"))
        self.pending = b""
        self.queue: deque[dict[str, Any]] = deque()

    def open(self) -> SSEClient:
        """Wait for the answer's head: from then on the server has this client's cursor."""
        while b"\r\n\r\n" not in self.pending:
            self._receive()
        head, self.pending = self.pending.split(b"\r\n\r\n", 1)
        status, _ = _parse_head(head)
        assert status == 200, f"the stream answered {status}: {self.pending[:300]!r}"
        return self

    def _receive(self) -> None:
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise EOFError("the server closed the stream")
        self.pending += chunk

    def _next(self, deadline: float) -> dict[str, Any]:
        """The next message, receiving more bytes as needed until `deadline`; raises
        EOFError, TimeoutError or ConnectionResetError when none comes."""
        while not self.queue:
            messages, self.pending = parse_sse(self.pending)
            self.queue.extend(messages)
            if self.queue:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("no message in time")
            self._receive()
        return self.queue.popleft()

    def read(self, count: int, timeout: float | None = None) -> list[dict[str, Any]]:
        """The next `count` messages (fails after `timeout` seconds saying how many came)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        found: list[dict[str, Any]] = []
        try:
            while len(found) < count:
                found.append(self._next(deadline))
        except (EOFError, TimeoutError, ConnectionResetError) as exc:
            raise AssertionError(
                f"{exc!r} while waiting for message {len(found) + 1} of "
                f"{count} (last: {found[-1:]})"
            ) from None
        return found

    def read_until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """Messages up to and including the first that satisfies `predicate`."""
        deadline = time.monotonic() + (timeout or self.timeout)
        found: list[dict[str, Any]] = []
        try:
            while not found or not predicate(found[-1]):
                found.append(self._next(deadline))
        except (EOFError, TimeoutError, ConnectionResetError) as exc:
            raise AssertionError(
                f"{exc!r} while waiting for the awaited message after "
                f"{len(found)} (last: {found[-1:]})"
            ) from None
        return found

    def read_bytes(self, size: int) -> bytes:
        """At least one byte and at most `size`: a client reading a little at a time."""
        chunk = self.sock.recv(size)
        if not chunk:
            raise EOFError("the server closed the stream")
        return chunk

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> SSEClient:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

"""A lean HTTP/1.1 client for forwarding: one kept-alive connection pool per target origin,
each request written in one go and its answer read with h11 (which the receiver's server
already uses). httpx spends about 1.5 ms of CPU per request on its own machinery, which
forwarding every capture would add to every webhook; this does the same exchange in a tenth.

It sends an `Outgoing` exactly as `outgoing.send` does (the headers in their order, Host
first, the bytes as they are) and reports an `Attempt` with the same words for failures."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import defaultdict
from datetime import datetime, timezone
from urllib.parse import urlsplit

import h11

from hookcatcher.send.outgoing import Attempt, Outgoing, shown_body, wire

__all__ = ["KeepAlive"]

READ = 65536
IDLE_KEPT = 32  # idle connections kept per origin


class _Connection:
    __slots__ = ("reader", "writer", "h11")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.h11 = h11.Connection(our_role=h11.CLIENT)


class KeepAlive:
    """Connections to the app, reused between requests; `close()` ends them."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = defaultdict(list)

    async def send(self, outgoing: Outgoing, capture_id: int, timeout: float) -> Attempt:
        at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        started = time.perf_counter()

        def failed(error: str, refused: bool = False) -> Attempt:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            return Attempt(
                capture_id, at, outgoing.method, outgoing.url, None, elapsed,
                error=error, refused=refused,
            )  # fmt: skip

        try:
            status, headers, content = await asyncio.wait_for(self._exchange(outgoing), timeout)
        except asyncio.TimeoutError:
            return failed(f"no answer from {outgoing.url} within {timeout:g} s")
        except ConnectionRefusedError:
            return failed(f"connection refused to {outgoing.url}: is your app running?", True)
        except OSError as exc:
            return failed(f"request to {outgoing.url} failed: {exc.strerror or exc}")
        except (h11.ProtocolError, ValueError) as exc:
            return failed(f"request to {outgoing.url} failed: {exc}")
        elapsed = round((time.perf_counter() - started) * 1000, 3)
        return Attempt(
            capture_id, at, outgoing.method, outgoing.url, status, elapsed, headers,
            shown_body(content), content=content,
        )  # fmt: skip

    async def _exchange(self, outgoing: Outgoing) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        parts = urlsplit(outgoing.url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if secure else 80)
        origin = (parts.scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        netloc = parts.netloc.rpartition("@")[2]
        headers = [(b"Host", netloc.encode("idna")), *(
            (wire(name), wire(value)) for name, value in outgoing.headers
        ), (b"Content-Length", str(len(outgoing.content)).encode())]  # fmt: skip
        reused = bool(self._idle[origin])
        connection = self._idle[origin].pop() if reused else await _open(host, port, secure)
        try:
            return await self._over(connection, origin, outgoing, target, headers)
        except (OSError, h11.ProtocolError, asyncio.IncompleteReadError):
            connection.writer.close()
            if not reused:
                raise
        # A kept connection the app had closed meanwhile: once more on a new one.
        connection = await _open(host, port, secure)
        return await self._over(connection, origin, outgoing, target, headers)

    async def _over(
        self,
        connection: _Connection,
        origin: tuple[str, str, int],
        outgoing: Outgoing,
        target: str,
        headers: list[tuple[bytes, bytes]],
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        conn = connection.h11
        request = h11.Request(method=outgoing.method, target=target, headers=headers)
        data = conn.send(request) or b""
        data += conn.send(h11.Data(data=outgoing.content)) or b"" if outgoing.content else b""
        data += conn.send(h11.EndOfMessage()) or b""
        connection.writer.write(data)
        await connection.writer.drain()
        status, body = 0, bytearray()
        answer_headers: tuple[tuple[str, str], ...] = ()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = await connection.reader.read(READ)
                if not chunk:
                    raise asyncio.IncompleteReadError(bytes(body), None)
                conn.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
                answer_headers = tuple(
                    (name.decode("latin-1"), value.decode("latin-1"))
                    for name, value in event.headers
                )
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            if len(self._idle[origin]) < IDLE_KEPT:
                self._idle[origin].append(connection)
            else:
                connection.writer.close()
        else:
            connection.writer.close()
        return status, answer_headers, bytes(body)

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.writer.close()
        self._idle.clear()


async def _open(host: str, port: int, secure: bool) -> _Connection:
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    return _Connection(reader, writer)

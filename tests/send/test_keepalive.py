"""The forwarding client: the request as the app receives it, connections kept and reused,
an app that closed a kept connection, and failures in the words replay uses."""

from __future__ import annotations

import asyncio
import socket
import threading

from helpers.ports import unused_port
from helpers.recorder import Recorder, serving

from hookcatcher.send.keepalive import KeepAlive
from hookcatcher.send.outgoing import Outgoing


def post(url: str, body: bytes = b'{"a":1}') -> Outgoing:
    headers = (("Content-Type", "application/json"), ("X-One", "1"), ("x-two", "2"))
    return Outgoing("POST", url, headers, body)


def test_requests_arrive_whole_in_order_and_share_one_connection() -> None:
    async def go(url: str) -> list[int | None]:
        client = KeepAlive()
        try:
            statuses = []
            for n in range(3):
                attempt = await client.send(post(f"{url}/p?q={n}", b"x" * n), n, 5.0)
                statuses.append(attempt.status)
            assert sum(len(idle) for idle in client._idle.values()) == 1
            return statuses
        finally:
            await client.close()

    with serving(Recorder()) as app:
        assert asyncio.run(go(app.url)) == [200, 200, 200]
    assert [(a.path, a.query, a.body) for a in app.arrivals] == [
        ("/p", "q=0", b""),
        ("/p", "q=1", b"x"),
        ("/p", "q=2", b"xx"),
    ]
    names = [name for name, _ in app.arrivals[1].headers]
    assert names[:4] == ["host", "content-type", "x-one", "x-two"]


def closing_server() -> tuple[socket.socket, threading.Thread]:
    """Answers each request and closes the connection without saying so."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                connection.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_a_kept_connection_the_app_closed_is_replaced() -> None:
    listener, thread = closing_server()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"

    async def go() -> list[int | None]:
        client = KeepAlive()
        try:
            first = await client.send(post(url, b""), 1, 5.0)
            await asyncio.sleep(0.05)  # the app has closed it by now
            second = await client.send(post(url, b""), 2, 5.0)
            return [first.status, second.status]
        finally:
            await client.close()

    with listener:
        assert asyncio.run(go()) == [201, 201]
        thread.join(5)


def test_failures_are_said_in_words() -> None:
    async def go() -> None:
        client = KeepAlive()
        down = await client.send(post(f"http://127.0.0.1:{unused_port()}/"), 1, 5.0)
        assert down.status is None and down.refused
        assert down.error is not None and "refused" in down.error
        silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
        with silent:
            late = await client.send(post(f"http://127.0.0.1:{silent.getsockname()[1]}/"), 2, 0.2)
        assert late.status is None and late.error is not None and "within 0.2 s" in late.error
        await client.close()

    asyncio.run(go())

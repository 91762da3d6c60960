"""The stream when clients misbehave: one stops reading while thousands of captures arrive,
one hangs up in the middle of a message, some come back with a Last-Event-ID that is stale,
bogus or from another run, fifty read at once. The receiver acknowledges everything, and
each client is told exactly where it stands: the captures it missed, or a `lost` message
naming the ones it never can have, or a `notice` saying how its resume was read."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from helpers.fuzzing import ServerErrors
from helpers.rawhttp import SSEClient, address_of, parse_sse
from helpers.senders import send_concurrently

from hookcatcher.receive.runner import GRACEFUL_SHUTDOWN_SECONDS, BackgroundServer


def post(server: BackgroundServer, count: int, padding: int = 0, senders: int = 1) -> None:
    logs = send_concurrently(address_of(server.url), senders, count, padding)
    statuses = [status for log in logs for status in log.statuses]
    assert statuses == [200] * count


def ids_of(messages: list[dict[str, Any]]) -> list[int]:
    return [int(message["id"]) for message in messages if message["event"] == "capture"]


def accounted(messages: list[dict[str, Any]]) -> list[int]:
    """Every id a client was told about, in order: the captures it got and the ids its
    `lost` messages name."""
    told = []
    for message in messages:
        if message["event"] == "lost":
            told.extend(range(message["data"]["from_id"], message["data"]["to_id"] + 1))
        elif message["event"] == "capture":
            told.append(int(message["id"]))
    return told


def wait_for_clients(server: BackgroundServer, count: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while server.app.hub.clients != count:
        assert time.monotonic() < deadline, (
            f"{server.app.hub.clients} streams open, expected {count}"
        )
        time.sleep(0.02)


@pytest.mark.slow
def test_a_stalled_client_gets_the_rest_in_order_and_what_it_lost(
    make_server: Callable[..., BackgroundServer],
) -> None:
    server = make_server(max_events=500)
    with (
        SSEClient(server.url, receive_buffer=4096, timeout=30) as stalled,
        SSEClient(server.url, "view=summary", timeout=30) as reading,
        ThreadPoolExecutor(1) as pool,
    ):
        heard = pool.submit(reading.read, 2_000)  # a client that keeps up, meanwhile
        post(server, 2_000, padding=8_000, senders=10)  # ~16 MB of stream it does not read
        # Everything was acknowledged while it stalled; the other client has it all.
        assert ids_of(heard.result()) == list(range(1, 2_001))
        told = stalled.read_until(lambda message: message.get("id") == "2000")
    lost = [message for message in told if message["event"] == "lost"]
    assert lost, "the client never fell behind: the test did not stall it"
    assert accounted(told) == list(range(1, 2_001))  # each id once, in order, none missing
    for message in lost:
        data = message["data"]
        assert f"captures {data['from_id']}..{data['to_id']} were evicted" in data["message"]
        assert data["to_id"] <= 1_500  # only what the ring had pushed out
    assert server.app.store.evicted == 1_500


def test_a_client_that_hangs_up_mid_message_resumes_with_exactly_the_rest(server) -> None:
    with SSEClient(server.url) as first:
        post(server, 6, padding=3_000)
        received = b""
        while True:  # a little at a time, until two whole messages and part of the third
            received += first.read_bytes(500)
            messages, partial = parse_sse(received)
            if len(messages) >= 2 and partial:
                break
    whole = ids_of(messages)
    assert whole == list(range(1, len(whole) + 1)) and len(whole) < 6
    wait_for_clients(server, 0)  # the server noticed, and no longer wakes it
    with SSEClient(server.url, last_event_id=str(whole[-1])) as again:
        missing = again.read(6 - len(whole))
        post(server, 2)  # and live ones after
        live = again.read(2)
    assert ids_of(missing) == list(range(len(whole) + 1, 7))
    assert ids_of(live) == [7, 8]


def test_a_stale_last_event_id_gets_lost_then_every_stored_capture(make_server) -> None:
    server = make_server(max_events=10)
    post(server, 30)
    with SSEClient(server.url, last_event_id="5") as stale:
        lost, *stored = stale.read(11)
        post(server, 1)
        (live,) = stale.read(1)
    assert lost["event"] == "lost"
    assert (lost["data"]["from_id"], lost["data"]["to_id"]) == (6, 20)
    assert ids_of(stored) == list(range(21, 31)) and ids_of([live]) == [31]


@pytest.mark.parametrize(
    "header", ["abc", "-1", "+3", "1_0", "1.5", "0x10", "", "\u00b2", "7; drop"]
)
def test_a_bogus_last_event_id_gets_a_notice_and_new_captures(server, header: str) -> None:
    post(server, 3)
    with SSEClient(server.url, last_event_id=header) as bogus:
        (notice,) = bogus.read(1)
        post(server, 1)
        (capture,) = bogus.read(1)
    assert notice["event"] == "notice"
    assert notice["data"]["message"] == (
        f"Last-Event-ID {header!r} is not a capture id (ids are whole numbers from 1); "
        "streaming new captures only"
    )
    assert ids_of([capture]) == [4]


@pytest.mark.parametrize(
    "header, shown",
    [
        ("9", "9"),
        ("99999999999999999999999", "99999999999999999999999"),
        ("9" * 5_000, "9" * 40 + "..."),  # past what int() reads; quoted short
    ],
    ids=["past the newest", "past 2**64", "5000 digits"],
)
def test_an_id_from_another_run_resends_every_stored_capture(
    make_server, header: str, shown: str
) -> None:
    server = make_server(max_events=3)
    post(server, 5)  # 1 and 2 evicted: no concern of a client from another run
    with SSEClient(server.url, last_event_id=header) as other:
        notice, *stored = other.read(4)
    assert notice["event"] == "notice"
    assert notice["data"]["message"] == (
        f"Last-Event-ID {shown} is not from this server run "
        "(newest id is 5); resending every stored capture"
    )
    assert [message["event"] for message in stored] == ["capture"] * 3
    assert ids_of(stored) == [3, 4, 5]


@pytest.mark.slow
def test_fifty_clients_at_once_each_get_every_capture_in_order(server) -> None:
    clients = [
        SSEClient(server.url, "view=summary" if index % 2 else "").open() for index in range(50)
    ]
    try:
        wait_for_clients(server, 50)
        post(server, 200, senders=5)
        for client in clients:
            assert ids_of(client.read(200)) == list(range(1, 201))
    finally:
        for client in clients:
            client.close()
    wait_for_clients(server, 0)


@pytest.mark.slow
def test_shutdown_ends_every_stream_at_once_even_a_stalled_one(
    make_server: Callable[..., BackgroundServer],
) -> None:
    """A client that stopped reading does not hold the server for the graceful window
    (uvicorn would wait it out, then cancel the stream with a logged traceback)."""
    server = make_server()
    errors = ServerErrors()
    logging.getLogger("uvicorn.error").addHandler(errors)
    try:
        stalled = SSEClient(server.url, receive_buffer=4096).open()
        readers = [SSEClient(server.url).open() for _ in range(3)]
        post(server, 1_000, padding=8_000, senders=3)  # ~8 MB the stalled one never takes
        for reader in readers:
            reader.read(1_000)
        started = time.monotonic()
        assert server.stop(timeout=GRACEFUL_SHUTDOWN_SECONDS + 5)
        assert time.monotonic() - started < GRACEFUL_SHUTDOWN_SECONDS
    finally:
        logging.getLogger("uvicorn.error").removeHandler(errors)
    assert errors.seen == []
    for client in [*readers, stalled]:  # each sees its stream end (the stalled one: reset)
        with pytest.raises(AssertionError, match="closed the stream|reset"):
            while True:
                client.read(1, timeout=5)
        client.close()

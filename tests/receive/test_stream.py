"""The SSE stream through a real server: ids, filters, resuming with Last-Event-ID, and a
stalled client that must not hold up the receiver."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest
from helpers.api import TIMEOUT, sse_events
from helpers.bundled import body_of

STREAM = "/_hookcatcher/stream"


def test_each_capture_is_one_message_with_its_id(server, client) -> None:
    client.post("/before", content=b"{}")  # already stored: not sent without Last-Event-ID
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as listener,
        listener.stream("GET", STREAM) as stream,
    ):
        assert stream.headers["content-type"].startswith("text/event-stream")
        client.post(
            "/webhook/messages-upsert", content=body_of("evolution/v2/messages.upsert.text")
        )
        client.post("/webhook", content=b"broken")
        first, second = sse_events(stream.iter_lines(), 2)
    assert (first["event"], first["id"]) == ("capture", "2")
    assert first["data"]["event"] == "messages.upsert"
    assert first["data"]["route"]["mode"] == "by-events"
    assert (second["id"], second["data"]["validation"]["status"]) == ("3", "not-json")
    assert second["data"]["raw"] == "broken"


def test_reconnect_with_last_event_id_misses_nothing(server, client) -> None:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as listener:
        with listener.stream("GET", STREAM) as stream:
            for _ in range(3):
                client.post("/", content=b"{}")
            seen = sse_events(stream.iter_lines(), 3)
        last = seen[-1]["id"]
        for _ in range(3):  # while the client is away
            client.post("/", content=b"{}")
        with listener.stream("GET", STREAM, headers={"Last-Event-ID": last}) as stream:
            for _ in range(2):  # live again
                client.post("/", content=b"{}")
            resumed = sse_events(stream.iter_lines(), 5)
    assert [m["id"] for m in seen] == ["1", "2", "3"]
    assert [m["id"] for m in resumed] == ["4", "5", "6", "7", "8"]


def test_filtered_stream(server, client) -> None:
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as listener,
        listener.stream("GET", STREAM, params={"q": "provider:whapi"}) as stream,
    ):
        client.post("/", content=body_of("evolution/v2/messages.upsert.text"))
        client.post("/", content=body_of("whapi/messages.post.text"))
        (only,) = sse_events(stream.iter_lines(), 1)
    assert (only["id"], only["data"]["provider"]) == ("2", "whapi")


def test_bad_filter_on_the_stream_is_400(client) -> None:
    answer = client.get(STREAM, params={"q": "valid:sometimes"})
    assert answer.status_code == 400
    assert answer.json()["term"] == "valid:sometimes"


def test_last_event_id_from_another_run_resends_what_is_stored(server, client) -> None:
    client.post("/", content=b"{}")
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as listener,
        listener.stream("GET", STREAM, headers={"Last-Event-ID": "9000"}) as stream,
    ):
        notice, capture = sse_events(stream.iter_lines(), 2)
    assert notice["event"] == "notice"
    assert "not from this server run" in notice["data"]["message"]
    assert capture["id"] == "1"


@pytest.mark.slow
def test_stalled_client_does_not_hold_up_captures_and_is_told_what_it_lost(make_server) -> None:
    server = make_server(max_events=20)
    address = urlparse(server.url)
    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.settimeout(10)
    stalled.connect((address.hostname, address.port))
    stalled.sendall(f"GET {STREAM} HTTP/1.1\r\nHost: {address.netloc}\r\n\r\n".encode())
    body = json.dumps({"padding": "x" * 32_000}).encode()
    started = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=httpx.Timeout(5.0)) as sender:
        for _ in range(400):  # ~13 MB of SSE for a client that reads nothing
            assert sender.post("/", content=body).status_code == 200
        stats = sender.get("/_hookcatcher/api/stats").json()
    acknowledged_in = time.monotonic() - started
    assert stats["received"] == 400 and stats["evicted"] == 380
    assert acknowledged_in < 60
    # Now the client reads: it gets what it was being sent, then the truth about the gap.
    received = b""
    deadline = time.monotonic() + 20

    def has_whole_lost_message() -> bool:
        return b"event: lost" in received and b"\r\n\r\n" in received.split(b"event: lost", 1)[1]

    while not has_whole_lost_message() and time.monotonic() < deadline:
        chunk = stalled.recv(1 << 20)
        if not chunk:
            break
        received += chunk
    stalled.close()
    assert has_whole_lost_message(), received[-500:]
    lost_line = received.split(b"event: lost", 1)[1].split(b"data: ", 1)[1].split(b"\r\n", 1)[0]
    lost = json.loads(lost_line)
    assert lost["to_id"] == 380 and lost["from_id"] < 380
    assert "fell behind" in lost["message"]


def test_stream_names_the_server_run_before_any_message(server, client) -> None:
    """A client that reconnects can tell a restarted server (ids begin again) at once."""
    run = client.get("/_hookcatcher/health").json()["run"]
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as listener,
        listener.stream("GET", STREAM) as stream,
    ):
        assert stream.headers["x-hookcatcher-run"] == run


def test_summary_stream_sends_list_rows(server, client) -> None:
    with (
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as listener,
        listener.stream("GET", STREAM, params={"view": "summary"}) as stream,
    ):
        client.post("/", content=body_of("whapi/messages.post.text"))
        (row,) = sse_events(stream.iter_lines(), 1)
    listed = client.get("/_hookcatcher/api/events", params={"view": "summary"}).json()["events"]
    assert row["data"] == listed[0] and row["data"]["provider"] == "whapi"
    assert "body" not in row["data"]
    assert client.get(STREAM, params={"view": "nope"}).status_code == 400

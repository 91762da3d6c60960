"""Requests that cost the server a lot of work must not cost everyone else their answers:
heavy bodies are handled off the event loop, the mocks take bounded bodies and explain a
bounded number of problems, and stream clients cost a bounded amount however many there
are and whatever arrives."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from helpers.api import TIMEOUT
from helpers.bundled import fixture
from helpers.rawhttp import SSEClient

from hookcatcher.receive.app import MOCK_MAX_BODY
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.stream import STREAM_BODY_BYTES, WAKE_NOW

SMALL = json.dumps(fixture("evolution/v2/messages.upsert.text")["body"]).encode()


def whapi_body(messages: int) -> bytes:
    """A Whapi messages/post batch of `messages` messages (about 250 bytes each)."""
    document = fixture("whapi/messages.post.text")["body"]
    message = document["messages"][0]
    document["messages"] = [{**message, "id": f"m{i}"} for i in range(messages)]
    return json.dumps(document).encode()


def multipart_body(parts: int) -> tuple[bytes, str]:
    boundary = "hookcatcher-test-boundary"
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv{i}\r\n'
        for i in range(parts)
    ]
    body = ("".join(chunks) + f"--{boundary}--\r\n").encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.slow
def test_heavy_bodies_do_not_hold_other_senders(server: BackgroundServer) -> None:
    """A 20 MB Whapi batch (80,000 messages, each one invalid: seconds of validation) and a
    40,000-part multipart form are processed while small webhooks keep being answered."""
    big = whapi_body(80_000)
    assert len(big) > 19_000_000
    form, form_type = multipart_body(40_000)
    heavy: list[int] = []

    def send(content: bytes, content_type: str) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            heavy.append(
                http.post(
                    "/heavy", content=content, headers={"content-type": content_type}
                ).status_code
            )

    senders = [
        threading.Thread(target=send, args=(big, "application/json")),
        threading.Thread(target=send, args=(form, form_type)),
    ]
    waits: list[float] = []
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        http.post("/warm", content=SMALL)
        for thread in senders:
            thread.start()
        started = time.monotonic()
        while any(thread.is_alive() for thread in senders):
            sent = time.perf_counter()
            assert http.post("/webhook", content=SMALL).status_code == 200
            waits.append(time.perf_counter() - sent)
            assert time.monotonic() - started < 120
    assert heavy == [200, 200]
    assert len(waits) >= 10, "the heavy requests were done before the test could measure"
    waits.sort()
    # Under the old code every one of them waited for the whole of the heavy work (10 s).
    assert waits[len(waits) // 2] < 0.1, waits[-10:]
    assert waits[-1] < 1.0, waits[-10:]
    stored = {event["path"]: event for event in http_events(server.url, "path:/heavy")}
    assert stored["/heavy"]["validation"]["status"] in ("invalid", "form")


def http_events(url: str, query: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        return http.get("/_hookcatcher/api/events", params={"q": query}).json()["events"]


def test_a_heavy_body_keeps_its_arrival_time(server: BackgroundServer) -> None:
    """Built on a worker, a capture still says when it came in, not when its turn came."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        before = time.time()
        http.post("/heavy", content=whapi_body(5_000))
    (event,) = http_events(server.url, "path:/heavy")
    stamp = time.mktime(time.strptime(event["received_at"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert stamp - time.timezone <= before + 1


@pytest.mark.parametrize("chunked", [False, True])
def test_a_mock_takes_at_most_a_mebibyte(client: httpx.Client, chunked: bool) -> None:
    body = b'{"webhook": {"url": "' + b"x" * (MOCK_MAX_BODY + 10) + b'"}}'
    content: Any = (
        iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    )
    answer = client.post("/_gateway/evolution/webhook/set/sales", content=content)
    assert answer.status_code == 413
    assert (
        "over the 1 MiB that a mocked gateway's configuration request may bring"
        in answer.json()["error"]
    )
    assert client.get("/_hookcatcher/api/instances").json() == {"instances": []}
    fine = client.post(
        "/_gateway/evolution/webhook/set/sales",
        json={
            "webhook": {
                "enabled": True,
                "url": "http://127.0.0.1:3000/app",
                "events": ["MESSAGES_UPSERT"],
            }
        },
    )
    assert fine.status_code == 201


def test_a_mock_explains_fifty_problems_of_fifty_thousand(client: httpx.Client) -> None:
    """50,000 misspelt events once took 11 s to explain (and 100,000 a 58 MB answer)."""
    events = [f"MSGS_UPSERT{i}" for i in range(50_000)]
    body = json.dumps(
        {"webhook": {"enabled": True, "url": "http://127.0.0.1:3000/app", "events": events}},
        separators=(",", ":"),
    ).encode()
    assert len(body) < MOCK_MAX_BODY
    started = time.monotonic()
    answer = client.post("/_gateway/evolution/webhook/set/sales", content=body)
    elapsed = time.monotonic() - started
    assert answer.status_code == 400
    messages = answer.json()["response"]["message"]
    assert len(messages) == 51
    assert messages[-1] == "more problems follow; the first 50 are listed"
    assert "(did you mean MESSAGES_UPSERT?)" in messages[0]
    assert len(answer.content) < 100_000
    assert elapsed < 5, f"{elapsed:.1f} s"


@pytest.mark.parametrize("text", ["١", "٣", "1_0", " 1", "+1", "-1"])
def test_ids_and_numbers_are_ascii_digits(client: httpx.Client, text: str) -> None:
    client.post("/webhook", content=SMALL)
    answer = client.get(f"/_hookcatcher/api/events/{text}")
    assert answer.status_code == 404
    assert "capture ids are whole numbers" in answer.json()["error"]
    listed = client.get("/_hookcatcher/api/events", params={"limit": text})
    assert listed.status_code == 400
    assert "is not a whole number" in listed.json()["error"]


def test_the_full_stream_leaves_a_large_body_out(
    server: BackgroundServer, client: httpx.Client
) -> None:
    """A stream client is never sent (nor made to hold) a whole large capture: it gets the
    record without the body, and GET /api/events/{id} has it."""
    large = (
        b'{"event":"messages.upsert","instance":"big","data":{"x":"'
        + b"A" * STREAM_BODY_BYTES
        + b'"}}'
    )
    with SSEClient(server.url) as stream:
        client.post("/webhook", content=large)
        client.post("/webhook", content=SMALL)
        first, second = stream.read(2)
    whole = first["data"]
    assert whole["body_omitted"] is True and whole["body"] is None and "raw" not in whole
    assert whole["size"] == len(large) and whole["event"] == "messages.upsert"
    assert second["data"]["body"] == json.loads(SMALL)
    kept = client.get(f"/_hookcatcher/api/events/{whole['id']}").json()
    assert kept["body"]["data"]["x"] == "A" * STREAM_BODY_BYTES


@pytest.mark.slow
@pytest.mark.parametrize("view", ["summary", "full"])
def test_many_clients_are_each_told_every_capture(
    server: BackgroundServer, client: httpx.Client, view: str
) -> None:
    """With more clients than are woken at once, they are woken together, paced, and each
    still gets every capture, in order, when the ring keeps them."""
    count = WAKE_NOW * 3
    streams = [SSEClient(server.url, query=f"view={view}").open() for _ in range(count)]
    try:
        ids = [client.post("/webhook", content=SMALL).json()["id"] for _ in range(300)]
        for stream in streams:
            told = [int(message["id"]) for message in stream.read(300, timeout=30)]
            assert told == ids
    finally:
        for stream in streams:
            stream.close()


def test_an_answer_changed_after_storing_is_streamed_as_changed(
    make_server: Callable[..., BackgroundServer],
) -> None:
    """The stream encodes a capture once: a capture whose answer changed (a session write
    that failed) is encoded again, so clients are never told the old answer."""
    server = make_server()
    hub = server.app.hub
    with SSEClient(server.url) as stream, httpx.Client(base_url=server.url) as http:
        http.post("/webhook", content=SMALL)
        (message,) = stream.read(1)
    capture = server.app.store.get(int(message["id"]))
    assert capture is not None
    assert (capture.id, False) in hub._encoded
    hub.forget(capture)
    assert (capture.id, False) not in hub._encoded


def test_a_large_body_read_again_is_not_kept(
    server: BackgroundServer, client: httpx.Client
) -> None:
    """A filter over a body field reads every stored body: a large one is parsed for the
    reading and let go again, so filtering a store of large captures does not hold ten
    times their bytes in parsed form."""
    client.post("/webhook", content=whapi_body(1_000))  # about 250 KB
    client.post("/webhook", content=SMALL)
    assert (
        len(
            client.get("/_hookcatcher/api/events", params={"q": "messages.from_me:false"}).json()[
                "events"
            ]
        )
        == 1
    )
    assert (
        len(
            client.get("/_hookcatcher/api/events", params={"q": "data.key.fromMe:false"}).json()[
                "events"
            ]
        )
        == 1
    )
    large, small = server.app.store
    assert len(large.raw) > 200_000
    assert large._body is not None and not isinstance(large._body, dict)  # released
    assert isinstance(small._body, dict)  # small: kept parsed once read


def test_a_stream_filter_reads_a_large_body_off_the_loop(
    server: BackgroundServer, client: httpx.Client
) -> None:
    """Twenty clients with one body filter: a large capture is judged once, on a worker,
    and every client is told; a small one is judged in place."""
    streams = [SSEClient(server.url, query="q=messages.from_me:false").open() for _ in range(20)]
    try:
        large = whapi_body(2_000)
        client.post("/webhook", content=large)
        client.post("/webhook", content=SMALL)  # not a Whapi body: not taken
        client.post("/webhook", content=whapi_body(1))
        for stream in streams:
            first, second = stream.read(2)
            assert first["data"]["size"] == len(large)
            assert second["data"]["size"] < 2_000
    finally:
        for stream in streams:
            stream.close()
    assert len(server.app.hub._verdicts) == 1

"""Replaying a capture into the user's app: the request is built by each gateway's rules, arrives
byte for byte (checked by a real hookcatcher server standing in for the app), network failures
become messages a user understands, and the curl command sends exactly the same request."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.bundled import fixture
from helpers.ports import unused_port

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Capture
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.send.outgoing import (
    Attempt,
    Outgoing,
    ReplayError,
    curl,
    make_client,
    request_for,
    send,
    with_headers,
)

APP = "http://127.0.0.1:3000/webhook"
GATEWAY_HEADERS = [
    ("host", "hookcatcher.example:8787"),
    ("user-agent", "axios/1.7.9"),
    ("Content-Type", "application/json"),
    ("connection", "keep-alive, x-hop"),
    ("x-hop", "named by connection"),
    ("Content-Length", "999"),
    ("transfer-encoding", "chunked"),
    ("keep-alive", "timeout=5"),
    ("te", "trailers"),
    ("trailer", "x-checksum"),
    ("upgrade", "h2c"),
    ("proxy-authorization", "Basic eDp5"),
    ("apikey", "B1C2-EXAMPLE"),
    ("x-dup", "first"),
    ("x-dup", "second"),
    ("x-hookcatcher-token", "ingest-token-for-hookcatcher"),
]
FORWARDED = (
    ("user-agent", "axios/1.7.9"),
    ("Content-Type", "application/json"),
    ("apikey", "B1C2-EXAMPLE"),
    ("x-dup", "first"),
    ("x-dup", "second"),
)


def capture_of(
    validator: Validator,
    name: str | None = None,
    *,
    raw: bytes | None = None,
    method: str = "POST",
    path: str = "/",
    query: str = "",
    headers: list[tuple[str, str]] | None = None,
) -> Capture:
    """A real capture, as the server builds it, of a bundled fixture (or of `raw`)."""
    item = fixture(name) if name else {"headers": [], "body": None}
    if raw is None:
        raw = json.dumps(item["body"]).encode()
    if headers is None:
        headers = [(key, value) for key, value in item["headers"]]
    return build_capture(validator, method, path, query, headers, "127.0.0.1:40001", raw)


def odd_json(name: str) -> bytes:
    """A fixture body as a sloppy sender might write it: CRLFs, tabs, spaces before commas,
    non-ASCII text, a trailing blank line."""
    body = fixture(name)["body"]
    body["data"]["pushName"] = "José 'Zé' ✓"
    text = json.dumps(body, indent="\t", separators=(" ,", " :  "), ensure_ascii=False)
    return ("\r\n" + text.replace("\n", "\r\n") + "\n\n ").encode("utf-8")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy settings would take loopback requests elsewhere, from httpx and curl alike."""
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)


def send_now(outgoing: Outgoing, **options: Any) -> Attempt:
    async def go() -> Attempt:
        async with make_client() as http:
            return await send(http, outgoing, **options)

    return asyncio.run(go())


def last_arrival(client: httpx.Client) -> Capture:
    events = client.get("/_hookcatcher/api/events", params={"raw": 1}).json()["events"]
    return Capture.from_json(events[-1])


def bash(*arguments: str) -> bytes:
    done = subprocess.run(["bash", *arguments], capture_output=True, timeout=10)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@contextmanager
def raw_app(reply: bytes | None) -> Iterator[str]:
    """An app on a free port that reads one request and answers `reply` verbatim, then
    closes; with None it never answers (the connection stays open until the test ends)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    held: list[socket.socket] = []

    def receive(conn: socket.socket) -> bytes:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the client hung up")
        return chunk

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            held.append(conn)
            if reply is None:
                return
            conn.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                data += receive(conn)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length:
                body += receive(conn)
            conn.sendall(reply)
            conn.close()
        except OSError:
            return  # the test sees what its client got

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes an accept() still waiting
        listener.close()
        for conn in held:
            conn.close()
        thread.join(10)


# Building the request


def test_as_received_keeps_method_body_and_headers_in_order(validator: Validator) -> None:
    capture = capture_of(
        validator,
        "evolution/v2/messages.upsert.text",
        raw=odd_json("evolution/v2/messages.upsert.text"),
        path="/hooks",
        headers=GATEWAY_HEADERS,
    )
    outgoing = request_for(capture, APP)
    assert outgoing == Outgoing("POST", APP, FORWARDED, capture.raw, None)


def test_the_target_is_used_exactly_as_given(validator: Validator) -> None:
    capture = capture_of(validator, "evolution/v2/messages.upsert.text")
    for target in (
        "http://127.0.0.1:3000/api//hook/",
        "https://app.example/x?token=abc",
        "http://[::1]:3000",
    ):
        assert request_for(capture, target).url == target


def test_the_captured_query_goes_along(validator: Validator) -> None:
    """CodeChat v1.2.0-1.2.6 names the account only in `?owner=`: the app needs it."""
    capture = capture_of(
        validator,
        "codechat/v1.0-1.2/messages.upsert.text",
        query="owner=5511900000000%40s.whatsapp.net",
        headers=[("content-type", "application/json")],
    )
    assert capture.provider == "codechat"
    assert request_for(capture, APP).url == f"{APP}?owner=5511900000000%40s.whatsapp.net"
    assert (
        request_for(capture, f"{APP}?token=abc", by_events=True).url
        == f"{APP}?token=abc&owner=5511900000000%40s.whatsapp.net"
    )


@pytest.mark.parametrize(
    "name, suffix",
    [
        ("evolution/v2/messages.upsert.text", "messages-upsert"),
        ("evolution/v2/group-participants.update.add", "group-participants-update"),
        ("evolution/v2/typebot.change-status", "typebot-change-status"),
        ("evolution/v1/messages.upsert.text", "messages-upsert"),
    ],
)
def test_evolution_per_event_appends_its_suffix(
    validator: Validator, name: str, suffix: str
) -> None:
    capture = capture_of(validator, name)
    for target in (APP, APP + "/"):
        outgoing = request_for(capture, target, by_events=True)
        assert (outgoing.method, outgoing.url, outgoing.note) == ("POST", f"{APP}/{suffix}", None)
        assert outgoing.content == capture.raw
    assert (
        request_for(capture, "http://127.0.0.1:3000", by_events=True).url
        == f"http://127.0.0.1:3000/{suffix}"
    )


def test_evolution_events_without_a_suffix_go_to_the_plain_url(validator: Validator) -> None:
    jwt = capture_of(validator, "evolution/v1/new.jwt", query="owner=5511900000000")
    outgoing = request_for(jwt, APP, by_events=True)
    assert outgoing.url == f"{APP}?owner=5511900000000"
    assert outgoing.note == "new.jwt always goes to the plain URL, with no per-event path."
    error = request_for(capture_of(validator, "evolution/v2/error"), APP, by_events=True)
    assert (error.method, error.url) == ("POST", APP)


def test_a_suffix_the_gateway_put_in_the_query_is_not_data(validator: Validator) -> None:
    capture = capture_of(
        validator, "evolution/v2/messages.upsert.text", path="/hook", query="t=1/messages-upsert"
    )
    assert capture.route.base == "/hook?t=1"
    assert request_for(capture, "http://127.0.0.1:3000/app").url == "http://127.0.0.1:3000/app"
    # Evolution's own rule, plain concatenation, puts it back inside the target's query.
    assert (
        request_for(capture, "http://127.0.0.1:3000/app?t=1", by_events=True).url
        == "http://127.0.0.1:3000/app?t=1/messages-upsert"
    )


def test_whapi_per_event_uses_path_mode_unless_it_came_by_method(validator: Validator) -> None:
    body_mode = capture_of(validator, "whapi/messages.post.text", path="/webhook")
    legacy_path = capture_of(validator, "whapi/messages.post.text", path="/hooks/message/post")
    method_mode = capture_of(
        validator, "whapi/messages.patch", method="PATCH", path="/hooks/messages"
    )
    assert (legacy_path.route.mode, method_mode.route.mode) == ("path", "method")
    for capture in (body_mode, legacy_path):
        outgoing = request_for(capture, APP, by_events=True)
        assert (outgoing.method, outgoing.url, outgoing.note) == (
            "POST",
            f"{APP}/messages/post",
            None,
        )
    outgoing = request_for(method_mode, APP + "/", by_events=True)
    assert (outgoing.method, outgoing.url, outgoing.note) == ("PATCH", f"{APP}/messages", None)
    assert (request_for(method_mode, APP).method, request_for(method_mode, APP).url) == (
        "PATCH",
        APP,
    )


def test_whapi_mode_can_be_chosen(validator: Validator) -> None:
    capture = capture_of(validator, "whapi/messages.patch", path="/webhook")
    by_method = request_for(capture, APP, by_events=True, whapi_mode="method")
    assert (by_method.method, by_method.url) == ("PATCH", f"{APP}/messages")
    by_path = request_for(capture, APP, by_events=True, whapi_mode="path")
    assert (by_path.method, by_path.url) == ("POST", f"{APP}/messages/patch")


def test_exact_keeps_the_trailing_slash_as_the_gateway_does(validator: Validator) -> None:
    capture = capture_of(validator, "evolution/v2/messages.upsert.text")
    assert (
        request_for(capture, APP + "/", by_events=True, exact=True).url == f"{APP}//messages-upsert"
    )
    assert request_for(capture, APP, by_events=True, exact=True).url == f"{APP}/messages-upsert"


def test_added_headers_replace_those_of_the_same_name(validator: Validator) -> None:
    outgoing = request_for(capture_of(validator, raw=b"{}", headers=list(GATEWAY_HEADERS)), APP)
    changed = with_headers(outgoing, [("APIKEY", "secret"), ("x-extra", "1")])
    assert changed.headers == (
        ("user-agent", "axios/1.7.9"),
        ("Content-Type", "application/json"),
        ("x-dup", "first"),
        ("x-dup", "second"),
        ("APIKEY", "secret"),
        ("x-extra", "1"),
    )
    assert with_headers(outgoing, []) is outgoing


@pytest.mark.parametrize(
    "name, raw, note",
    [
        (
            "codechat/v2/messages.upsert.text",
            None,
            "CodeChat has no per-event URLs: sent as received.",
        ),
        (
            "codechat/2026/messages.upsert.text",
            None,
            "CodeChat has no per-event URLs: sent as received.",
        ),
        (
            "codechat/v1.0-1.2/messages.upsert.text",
            None,
            "CodeChat has no per-event URLs: sent as received.",
        ),
        (
            None,
            b'{"hello": "world"}',
            "The sender was not recognised, so there is no per-event URL: sent as received.",
        ),
        (
            None,
            b'{"event": "shop.order", "instance": "sales", "data": {}}',
            "shop.order is not in the catalog, so its per-event URL is unknown: sent as received.",
        ),
    ],
)
def test_without_a_per_event_mode_it_is_sent_as_received_with_a_note(
    validator: Validator, name: str | None, raw: bytes | None, note: str
) -> None:
    capture = capture_of(validator, name, raw=raw, path="/in")
    outgoing = request_for(capture, APP, by_events=True)
    assert outgoing == Outgoing("POST", APP, outgoing.headers, capture.raw, note)
    assert request_for(capture, APP).note is None


@pytest.mark.parametrize(
    "target, message",
    [
        ("", "no target URL given: use http://host:port/path"),
        (
            "localhost:3000/hook",
            "target URL 'localhost:3000/hook' must start with http:// or https://",
        ),
        ("127.0.0.1:3000", "target URL '127.0.0.1:3000' must start with http:// or https://"),
        (
            "ftp://example.com/x",
            "target URL 'ftp://example.com/x' must start with http:// or https://",
        ),
        (
            " http://127.0.0.1:3000/",
            "target URL ' http://127.0.0.1:3000/' must start with http:// or https://",
        ),
        ("http:///hook", "target URL 'http:///hook' has no host"),
        (
            "http://127.0.0.1:99999/",
            "target URL 'http://127.0.0.1:99999/' has port 99999, outside 1-65535",
        ),
        (
            "http://127.0.0.1:3000/#top",
            "target URL 'http://127.0.0.1:3000/#top' has a #fragment, which is never sent: "
            "leave it out",
        ),
    ],
)
def test_an_unusable_target_is_a_clear_error(
    validator: Validator, target: str, message: str
) -> None:
    capture = capture_of(validator, "evolution/v2/messages.upsert.text")
    with pytest.raises(ReplayError) as caught:
        request_for(capture, target)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


# Sending for real


def test_a_replay_arrives_byte_for_byte(
    validator: Validator, server: BackgroundServer, client: httpx.Client
) -> None:
    raw = odd_json("evolution/v2/messages.upsert.text")
    capture = capture_of(
        validator, "evolution/v2/messages.upsert.text", raw=raw, headers=GATEWAY_HEADERS
    )
    capture.id = 7
    attempt = send_now(request_for(capture, f"{server.url}/app/webhook"), capture_id=7)

    got = last_arrival(client)
    assert (got.method, got.path, got.query, got.raw) == ("POST", "/app/webhook", "", raw)
    # Exactly the captured headers, in order, and the two that describe this connection.
    assert got.headers == [
        ("host", server.url.removeprefix("http://")),
        *((name.lower(), value) for name, value in FORWARDED),
        ("content-length", str(len(raw))),
    ]
    assert (got.provider, got.event, got.validation.status) == (
        "evolution",
        "messages.upsert",
        "valid",
    )

    assert attempt.ok and attempt.status == 200 and attempt.error is None
    assert attempt.response_body == f'{{"ok":true,"id":{got.id}}}'
    assert ("content-type", "application/json") in attempt.response_headers
    assert (attempt.capture_id, attempt.method, attempt.url) == (
        7,
        "POST",
        f"{server.url}/app/webhook",
    )
    assert attempt.at.endswith("Z") and len(attempt.at) == len(capture.received_at)
    assert 0 < attempt.elapsed_ms < 10_000
    assert json.loads(json.dumps(attempt.to_json())) == {
        "capture_id": 7,
        "at": attempt.at,
        "method": "POST",
        "url": f"{server.url}/app/webhook",
        "status": 200,
        "ok": True,
        "elapsed_ms": attempt.elapsed_ms,
        "response_headers": [list(pair) for pair in attempt.response_headers],
        "response_body": attempt.response_body,
        "error": None,
        "refused": False,
    }


def test_per_event_replays_arrive_where_the_gateway_would_send(
    validator: Validator, server: BackgroundServer, client: httpx.Client
) -> None:
    evolution = capture_of(validator, "evolution/v2/messages.upsert.text")
    assert send_now(request_for(evolution, f"{server.url}/hooks", by_events=True)).ok
    got = last_arrival(client)
    assert (got.method, got.path, got.raw) == ("POST", "/hooks/messages-upsert", evolution.raw)
    assert (got.route.mode, got.route.suffix, got.warnings) == ("by-events", "messages-upsert", [])

    whapi = capture_of(validator, "whapi/messages.patch", method="PATCH", path="/in/messages")
    assert send_now(request_for(whapi, f"{server.url}/hooks", by_events=True)).ok
    got = last_arrival(client)
    assert (got.method, got.path, got.event, got.route.mode) == (
        "PATCH",
        "/hooks/messages",
        "messages/patch",
        "method",
    )


def test_a_cookie_an_app_set_does_not_ride_along(
    validator: Validator, server: BackgroundServer, client: httpx.Client
) -> None:
    capture = capture_of(validator, "whapi/messages.post.text")
    answer = b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\nContent-Length: 0\r\n\r\n"

    async def twice(app: str) -> None:
        async with make_client() as http:
            assert (await send(http, request_for(capture, app))).ok
            assert (await send(http, request_for(capture, f"{server.url}/next"))).ok

    with raw_app(answer) as app:
        asyncio.run(twice(app))  # same host, another port: a cookie jar would send it here
    got = last_arrival(client)
    assert got.path == "/next" and got.header("cookie") is None


def test_a_body_that_is_not_utf8_arrives_exactly(
    validator: Validator, server: BackgroundServer, client: httpx.Client
) -> None:
    raw = b"\x80\xff\x00 not json \r\n\t%s \\ ' \xc3"
    capture = capture_of(
        validator, raw=raw, method="PUT", headers=[("content-type", "application/octet-stream")]
    )
    assert capture.validation.status == "not-json"
    assert send_now(request_for(capture, f"{server.url}/bin")).ok
    got = last_arrival(client)
    assert (got.method, got.path, got.raw) == ("PUT", "/bin", raw)
    assert got.header("content-type") == "application/octet-stream"


def test_a_refused_connection_is_explained(validator: Validator) -> None:
    url = f"http://127.0.0.1:{unused_port()}/x"
    attempt = send_now(request_for(capture_of(validator, "whapi/messages.post.text"), url))
    assert attempt.error == f"connection refused to {url}: is your app running?"
    assert (attempt.status, attempt.ok, attempt.response_body) == (None, False, "")


def test_an_app_that_never_answers_times_out(validator: Validator) -> None:
    capture = capture_of(validator, "whapi/messages.post.text")
    with raw_app(None) as url:
        attempt = send_now(request_for(capture, url), timeout=0.5)
    assert attempt.error == f"no answer from {url} within 0.5 s"
    assert attempt.status is None and 450 <= attempt.elapsed_ms < 5000


def test_an_app_that_hangs_up_is_explained(validator: Validator) -> None:
    capture = capture_of(validator, "whapi/messages.post.text")
    with raw_app(b"") as url:
        attempt = send_now(request_for(capture, url))
    assert (
        attempt.error == f"request to {url} failed: Server disconnected without sending a response."
    )


def test_a_redirect_is_shown_not_followed(validator: Validator) -> None:
    capture = capture_of(validator, "whapi/messages.post.text")
    moved = (
        b"HTTP/1.1 308 Permanent Redirect\r\nLocation: http://127.0.0.1:9/elsewhere\r\n"
        b"Content-Length: 5\r\nConnection: close\r\n\r\nmoved"
    )
    with raw_app(moved) as url:
        attempt = send_now(request_for(capture, url))
    assert (attempt.status, attempt.ok, attempt.error) == (308, False, None)
    assert ("location", "http://127.0.0.1:9/elsewhere") in attempt.response_headers
    assert attempt.response_body == "moved"


def test_a_long_answer_that_is_not_utf8_is_cut_and_sized(validator: Validator) -> None:
    body = b"\xff" + "é".encode() * 40_000  # 80,001 bytes; byte 65,536 splits an é
    answer = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    with raw_app(answer) as url:
        attempt = send_now(request_for(capture_of(validator, "whapi/messages.post.text"), url))
    assert (attempt.status, attempt.ok) == (500, False)
    assert (
        attempt.response_body
        == "\ufffd" + "é" * 32_767 + "\n[cut at 64 KiB: the answer has 80,001 bytes]"
    )


# curl


def test_curl_command_for_a_text_body() -> None:
    outgoing = Outgoing(
        "POST",
        "http://127.0.0.1:3000/hook?a=1",
        (("content-type", "application/json"), ("x-empty", "")),
        b'{"name": "it\'s"}',
    )
    assert curl(outgoing) == (
        "curl -X POST 'http://127.0.0.1:3000/hook?a=1' -H 'content-type: application/json' "
        "-H 'x-empty;' --data-binary '{\"name\": \"it'\"'\"'s\"}'"
    )


def test_curl_command_for_other_bodies() -> None:
    binary = curl(Outgoing("POST", "http://h/x", (("content-type", "image/png"),), b"\x89P%\\\n"))
    assert (
        binary == r"printf '\211P\045\134\012' | curl -X POST http://h/x "
        r"-H 'content-type: image/png' --data-binary @-"
    )
    at_sign = curl(Outgoing("POST", "http://h/x", (), b"@/etc/passwd"))
    assert (
        at_sign == "printf @/etc/passwd | curl -X POST http://h/x -H Content-Type: --data-binary @-"
    )
    assert (
        curl(Outgoing("GET", "http://h/x?a[]=1", (), b""))
        == "curl --globoff -X GET 'http://h/x?a[]=1'"
    )
    dash = curl(Outgoing("POST", "http://h/x", (), b"-v \xff"))
    assert dash.startswith(r"printf '\055v \377' | curl")


@needs_curl
@pytest.mark.parametrize(
    "raw, headers",
    [
        (
            odd_json("evolution/v2/messages.upsert.text"),
            [
                ("user-agent", "axios/1.7.9"),
                ("content-type", "application/json"),
                ("x-dup", "first"),
                ("x-dup", "second"),
                ("x-empty", ""),
            ],
        ),
        (b"\x00\x80%s%%\\n\\\\ '\"$HOME `id` \xff\n" * 3, [("x-kind", "binary")]),
        (b"@/etc/hostname", [("content-type", "text/plain")]),
    ],
    ids=["odd-json", "not-utf8", "at-sign"],
)
def test_the_curl_command_sends_the_same_request(
    validator: Validator,
    server: BackgroundServer,
    client: httpx.Client,
    raw: bytes,
    headers: list[tuple[str, str]],
) -> None:
    capture = capture_of(validator, raw=raw, headers=[("host", "elsewhere:1"), *headers])
    command = curl(request_for(capture, f"{server.url}/app/hook?list[]=1&x=%20y"))
    answer = bash("-c", command)

    got = last_arrival(client)
    assert answer == f'{{"ok":true,"id":{got.id}}}'.encode()
    assert (got.method, got.path, got.query, got.raw) == (
        "POST",
        "/app/hook",
        "list[]=1&x=%20y",
        raw,
    )
    sent = {name for name, _ in headers}
    assert [pair for pair in got.headers if pair[0] in sent] == headers
    assert got.header("host") == server.url.removeprefix("http://")
    assert got.header("content-type") == dict(headers).get("content-type")


@needs_curl
def test_curl_pipes_a_large_body_in(
    validator: Validator, server: BackgroundServer, client: httpx.Client, tmp_path: Path
) -> None:
    """Inline, 300 KB would be one argument to curl, which exec refuses. The command goes
    through a script file here because `bash -c` would hit the same limit itself."""
    raw = json.dumps({"text": "Olá, " * 60_000}, ensure_ascii=False).encode()
    capture = capture_of(validator, raw=raw, headers=[("content-type", "application/json")])
    command = curl(request_for(capture, f"{server.url}/big"))
    assert command.startswith("printf ")
    script = tmp_path / "replay.sh"
    script.write_text(command + "\n", encoding="utf-8")
    bash(str(script))
    assert last_arrival(client).raw == raw


@needs_curl
def test_curl_per_event_command_uses_the_gateway_method(
    validator: Validator, server: BackgroundServer, client: httpx.Client
) -> None:
    capture = capture_of(validator, "whapi/messages.patch", method="PATCH", path="/in/messages")
    command = curl(request_for(capture, f"{server.url}/hooks", by_events=True))
    bash("-c", command)
    got = last_arrival(client)
    assert (got.method, got.path, got.event, got.raw) == (
        "PATCH",
        "/hooks/messages",
        "messages/patch",
        capture.raw,
    )

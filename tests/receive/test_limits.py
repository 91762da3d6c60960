"""Limits and hostile content through a real server: bodies over --max-body (declared and
chunked) answered 413 and recorded without their bytes, header limits answered 431, gzip and
deflate bodies (and a decompression bomb), forms, byte order marks, JSON nested too deep for
the screens, duplicate keys; and every reader of a capture (API, stream, summary, exports,
session file, inspector) safe on what got in."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import socket
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.api import TIMEOUT, sse_events
from helpers.bundled import body_of
from rich.console import Console

from hookcatcher.check.validation import Validator
from hookcatcher.cli.main import main
from hookcatcher.cli.serve import command as serve_command
from hookcatcher.core.body import MAX_DEPTH
from hookcatcher.core.capture import Capture
from hookcatcher.core.redact import redacted
from hookcatcher.core.summary import summary
from hookcatcher.files.session import load
from hookcatcher.files.session_writer import SessionWriter
from hookcatcher.receive.app import create_app
from hookcatcher.receive.ingest import Limits, build_capture
from hookcatcher.receive.runner import HEAD_CEILING, BackgroundServer
from hookcatcher.receive.store import Store
from hookcatcher.send.outgoing import request_for
from hookcatcher.tui.detail import body_note, headers_table, validation_heading
from hookcatcher.tui.json_view import render_body

EVENTS = "/_hookcatcher/api/events"
LIMIT = 4096  # --max-body of the servers here: small, so over-limit bodies are cheap to send


def _start(
    validator: Validator,
    max_body: int = LIMIT,
    session: SessionWriter | None = None,
    store: Store | None = None,
) -> BackgroundServer:
    app = create_app(store or Store(), validator, session=session, limits=Limits(max_body=max_body))
    return BackgroundServer(app, quiet=True, pace_collector=False).start()


@pytest.fixture(scope="module")
def shared(validator: Validator) -> Iterator[BackgroundServer]:
    """One server for the tests that need no other: starting one per test is most of the
    time they would take."""
    server = _start(validator)
    yield server
    server.stop()


@pytest.fixture
def serve(validator: Validator) -> Iterator[Callable[..., BackgroundServer]]:
    """Servers with other limits, a session or a store of their own."""
    started: list[BackgroundServer] = []

    def start(**options: Any) -> BackgroundServer:
        started.append(_start(validator, **options))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def http(shared: BackgroundServer) -> Iterator[httpx.Client]:
    """A client of the shared server, emptied first."""
    with httpx.Client(base_url=shared.url, timeout=TIMEOUT) as client:
        client.delete(EVENTS)
        yield client


def stored(client: httpx.Client, answer: httpx.Response) -> dict[str, Any]:
    return client.get(f"{EVENTS}/{answer.json()['id']}").json()


def exchange(server: BackgroundServer, request: bytes) -> bytes:
    """One raw request on its own connection; the answer's head and body."""
    host, port = server.sock.getsockname()[:2]
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < _length(data):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def _length(data: bytes) -> int:
    found = re.search(rb"content-length: (\d+)", data.partition(b"\r\n\r\n")[0], re.I)
    return int(found.group(1)) if found else 0


# --- bodies over --max-body -----------------------------------------------------------------


def test_declared_body_over_the_limit_is_413_recorded_without_its_bytes(http) -> None:
    body = b'{"event": "messages.upsert"}'.ljust(LIMIT + 1)
    answer = http.post(
        "/webhook/messages-upsert?x=1",
        content=body,
        headers={"content-type": "application/json", "apikey": "k"},
    )
    assert answer.status_code == 413
    assert answer.json() == {
        "ok": False,
        "id": answer.json()["id"],
        "status": 413,
        "error": f"body of {LIMIT + 1:,} bytes (its Content-Length) is over the --max-body "
        "limit of 4 KiB; raise it with --max-body",
    }
    capture = stored(http, answer)
    assert (capture["method"], capture["path"], capture["query"]) == (
        "POST",
        "/webhook/messages-upsert",
        "x=1",
    )
    assert ["apikey", "k"] in capture["headers"]
    assert (capture["size"], capture["raw"], capture["body"]) == (LIMIT + 1, "", None)
    assert capture["validation"]["status"] == "too-large"
    assert capture["validation"]["errors"][0]["message"] == answer.json()["error"]
    assert capture["answer"]["status"] == 413
    assert capture["event"] == "messages.upsert"  # the path still names it
    # The rest of the body was drained: the same connection takes the next request.
    after = http.post("/next", content=b"{}")
    assert after.status_code == 200
    assert stored(http, after)["remote"] == capture["remote"]


def test_a_declared_length_is_refused_before_any_body_is_sent(http, shared) -> None:
    server = shared
    answer = exchange(
        server, b"POST /huge HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000000000\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"1,000,000,000,000 bytes (its Content-Length)" in answer
    listed = httpx.get(server.url + EVENTS).json()["events"]
    assert [(c["path"], c["size"]) for c in listed] == [("/huge", 10**12)]


def test_chunked_body_is_counted_as_it_comes(http) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(4):
            yield b"x" * 2048

    answer = http.post("/chunked", content=chunks())
    assert answer.status_code == 413
    error = answer.json()["error"]
    seen = int(re.search(r"at least ([\d,]+) bytes", error).group(1).replace(",", ""))
    assert LIMIT < seen <= 4 * 2048
    capture = stored(http, answer)
    assert capture["size"] == seen and capture["raw"] == ""
    assert ["transfer-encoding", "chunked"] in capture["headers"]
    assert http.post("/next", content=b"{}").status_code == 200


def test_a_body_at_the_limit_is_taken(http) -> None:
    answer = http.post("/", content=b"[" + b" " * (LIMIT - 2) + b"]")
    assert answer.status_code == 200
    assert stored(http, answer)["validation"]["status"] == "no-schema"


def test_refused_bodies_are_saved_and_read_back(serve, tmp_path: Path) -> None:
    store = Store()
    session = SessionWriter(tmp_path / "s.jsonl", store.run)
    server = serve(session=session, store=store)
    assert httpx.post(server.url + "/big", content=b"x" * (LIMIT + 10)).status_code == 413
    session.close()
    (capture,) = load(tmp_path / "s.jsonl").captures
    assert (capture.size, capture.raw, capture.refused_size) == (LIMIT + 10, b"", LIMIT + 10)
    assert capture.validation.status == "too-large" and capture.answer.status == 413


# --- header limits ----------------------------------------------------------------------------


def test_too_many_headers_is_431_and_recorded(http) -> None:
    answer = http.post("/many", content=b"{}", headers={f"x-h{i}": "v" for i in range(120)})
    assert answer.status_code == 431
    message = answer.json()["error"]
    assert re.fullmatch(r"1\d\d headers, over the limit of 100", message)
    capture = stored(http, answer)
    assert len(capture["headers"]) == 100 and capture["validation"]["status"] == "too-large"
    assert capture["answer"] == {"status": 431, "delay_ms": 0, "reason": message}
    assert http.post("/next", content=b"{}").status_code == 200


def test_one_huge_header_is_431(http) -> None:
    answer = http.post("/big-header", content=b"{}", headers={"x-big": "a" * 100_000})
    assert answer.status_code == 431
    assert re.fullmatch(
        r"headers of [\d,]+ bytes, over the limit of 64 KiB", answer.json()["error"]
    )
    capture = stored(http, answer)
    assert "x-big" not in [name for name, _ in capture["headers"]]  # over the limit: left out
    assert http.post("/next", content=b"{}").status_code == 200


def test_a_head_past_the_ceiling_is_cut_off_and_the_server_goes_on(http, shared) -> None:
    server = shared
    host, port = server.sock.getsockname()[:2]
    lines = b"".join(b"x-h%d: %s\r\n" % (i, b"v" * 1000) for i in range(HEAD_CEILING // 1000 + 50))
    with socket.create_connection((host, port), timeout=10) as conn:
        # Closed while we were still sending: the answer is read below.
        with contextlib.suppress(OSError):
            conn.sendall(b"POST / HTTP/1.1\r\nhost: x\r\n" + lines)
        answer = conn.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert answer.endswith(b"the request head (request line and headers) is over 1 MiB: refused\n")
    assert httpx.post(server.url + "/next", content=b"{}").status_code == 200
    assert [c["path"] for c in httpx.get(server.url + EVENTS).json()["events"]] == ["/next"]


# --- Content-Encoding -------------------------------------------------------------------------


def test_gzip_body_is_parsed_kept_as_sent_and_replayed_as_sent(serve) -> None:
    first, second = serve(max_body=1024 * 1024), serve(max_body=1024 * 1024)
    plain = body_of("evolution/v2/messages.upsert.text")
    packed = gzip.compress(plain)
    answer = httpx.post(
        first.url + "/webhook",
        content=packed,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    capture = Capture.from_json(httpx.get(f"{first.url}{EVENTS}/1").json())
    assert answer.status_code == 200
    assert capture.validation.status == "valid" and capture.event == "messages.upsert"
    assert (capture.raw, capture.size, capture.decoded_size) == (packed, len(packed), len(plain))
    assert capture.body == json.loads(plain)
    # Listed without raw=1, a compressed body still carries its bytes.
    listed = httpx.get(first.url + EVENTS).json()["events"][0]
    assert Capture.from_json(listed).raw == packed
    outgoing = request_for(capture, second.url + "/again")
    assert ("content-encoding", "gzip") in outgoing.headers and outgoing.content == packed
    assert (
        httpx.post(
            outgoing.url, content=outgoing.content, headers=list(outgoing.headers)
        ).status_code
        == 200
    )
    again = httpx.get(f"{second.url}{EVENTS}/1").json()
    assert again["validation"]["status"] == "valid" and again["decoded_size"] == len(plain)


def raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper (zlib.compress takes wbits only from Python 3.11)."""
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    "coding, pack",
    [
        ("deflate", zlib.compress),
        ("deflate", raw_deflate),  # raw, as some send
        ("x-gzip", gzip.compress),
        ("gzip, identity", gzip.compress),
    ],
)
def test_other_codings(http, coding: str, pack: Callable[[bytes], bytes]) -> None:
    answer = http.post("/", content=pack(b'{"a": [1, 2]}'), headers={"content-encoding": coding})
    assert stored(http, answer)["body"] == {"a": [1, 2]}


def test_bodies_that_do_not_decode_say_why(http) -> None:
    cases = {
        "gzip": (
            b"not gzip at all",
            "the body is not valid gzip data (Error -3 while decompressing data: incorrect "
            "header check): kept as received, not parsed",
        ),
        "br": (
            b"\x1b\x03",
            "Content-Encoding br is not supported (gzip and deflate are): kept "
            "as received, not parsed",
        ),
    }
    for coding, (raw, message) in cases.items():
        capture = stored(http, http.post("/", content=raw, headers={"content-encoding": coding}))
        assert capture["validation"] == {
            "status": "not-json",
            "schema": None,
            "errors": [{"path": "$", "message": message}],
        }
    cut = stored(
        http,
        http.post(
            "/", content=gzip.compress(b'{"a": 1}')[:-12], headers={"content-encoding": "gzip"}
        ),
    )
    assert cut["validation"]["errors"][0]["message"].startswith("the gzip body is cut short")
    broken = stored(
        http,
        http.post("/", content=gzip.compress(b'{"a": }'), headers={"content-encoding": "gzip"}),
    )
    assert (
        broken["validation"]["errors"][0]["message"]
        == "broken JSON at line 1, column 7: Expecting value (in the body as gzip decodes it)"
    )


def test_a_decompression_bomb_is_refused_at_the_limit(serve) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    bomb = b"".join(packer.compress(bytes(1 << 20)) for _ in range(16)) + packer.flush()
    assert len(bomb) < 64 * 1024  # 16 MiB of zeros
    http = httpx.Client(base_url=serve(max_body=64 * 1024).url, timeout=TIMEOUT)
    answer = http.post("/bomb", content=bomb, headers={"content-encoding": "gzip"})
    assert answer.status_code == 413
    assert (
        answer.json()["error"] == "the gzip body decodes to more than the --max-body "
        "limit of 64 KiB; raise it with --max-body"
    )
    capture = Capture.from_json(stored(http, answer))
    assert capture.raw == bomb and capture.body is None and capture.decoded_size is None
    assert capture.validation.status == "too-large" and capture.answer.status == 413


def test_a_body_of_many_gzip_members_is_413_at_once(serve) -> None:
    """240,000 empty members (4.8 MB, under --max-body) held the server 18 s; real senders
    write one member."""
    many = gzip.compress(b"") * 240_000 + gzip.compress(b"{}")
    http = httpx.Client(base_url=serve(max_body=64 * 1024 * 1024).url, timeout=TIMEOUT)
    answer = http.post("/many", content=many, headers={"content-encoding": "gzip"})
    assert answer.status_code == 413
    assert (
        answer.json()["error"] == "the gzip body holds more than 1,000 gzip members one "
        "after another, over the limit of 1,000 members (a sender writes one)"
    )
    capture = Capture.from_json(stored(http, answer))
    assert capture.raw == many and capture.validation.status == "too-large"
    normal = http.post("/webhook", json={"event": "messages.upsert"})
    assert normal.status_code == 200


def test_a_decoded_body_counts_against_max_bytes(validator: Validator) -> None:
    plain = json.dumps({"text": "x" * 600_000}).encode()
    store = Store(max_bytes=1_000_000)
    for _ in range(2):
        store.add(
            build_capture(
                validator, "POST", "/", "", [("content-encoding", "gzip")], "", gzip.compress(plain)
            )
        )
    assert [capture.id for capture in store] == [2] and store.evicted == 1
    (kept,) = store
    assert kept.weight == len(kept.raw) + len(plain) + len("content-encoding") + len("gzip") + 4


# --- forms ------------------------------------------------------------------------------------


def test_form_body_is_shown_as_fields(http) -> None:
    answer = http.post("/form", data={"From": "+5511900000001", "Body": "oi", "tag": ["a", "b"]})
    capture = stored(http, answer)
    assert answer.status_code == 200
    assert capture["validation"] == {"status": "form", "schema": None, "errors": []}
    assert capture["body"] == {"From": "+5511900000001", "Body": "oi", "tag": ["a", "b"]}
    assert capture["raw"] == "From=%2B5511900000001&Body=oi&tag=a&tag=b"
    rows = http.get(EVENTS, params={"view": "summary", "q": "status:form"}).json()["events"]
    assert [row["status"] for row in rows] == ["form"]
    assert http.get(EVENTS, params={"q": "valid:no From:*5511*"}).json()["events"]


def test_multipart_body_lists_its_parts(http) -> None:
    answer = http.post(
        "/upload",
        data={"caption": "Zé"},
        files={"file": ("pic.jpg", b"\xff\xd8\xff" * 100, "image/jpeg")},
    )
    capture = stored(http, answer)
    assert capture["validation"]["status"] == "form"
    assert capture["body"] == {
        "caption": "Zé",
        "file": {"filename": "pic.jpg", "content_type": "image/jpeg", "size": 300},
    }
    assert capture["raw_encoding"] == "base64"  # the JPEG bytes are kept exactly


def test_json_sent_as_a_form_is_still_json(http) -> None:
    """`curl -d '{...}'` labels JSON as a form: it is judged as JSON, broken or not."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    good = stored(
        http, http.post("/", content=body_of("evolution/v2/messages.upsert.text"), headers=form)
    )
    assert good["validation"]["status"] == "valid"
    broken = stored(http, http.post("/", content=b'{"event": "x",, }', headers=form))
    assert broken["validation"]["errors"][0]["message"].startswith("broken JSON at line 1")


def test_multipart_without_a_boundary(http) -> None:
    capture = stored(
        http, http.post("/", content=b"a=1", headers={"content-type": "multipart/form-data"})
    )
    assert capture["validation"]["errors"][0]["message"] == (
        "multipart/form-data body without a boundary in its Content-Type: its parts cannot be "
        "told apart"
    )


# --- text encodings, NaN, duplicate keys --------------------------------------------------------


def test_byte_order_mark_is_parsed_and_warned(http) -> None:
    raw = b"\xef\xbb\xbf" + body_of("whapi/messages.post.text")
    capture = stored(http, http.post("/", content=raw))
    assert capture["validation"]["status"] == "valid"
    assert capture["warnings"] == [
        "body starts with a UTF-8 byte order mark; some parsers reject it"
    ]
    assert capture["raw_encoding"] == "utf-8" and capture["raw"].startswith("\ufeff")


def test_utf16_json_is_parsed_and_warned(http) -> None:
    capture = stored(http, http.post("/", content='{"a": "é"}'.encode("utf-16")))
    assert capture["body"] == {"a": "é"}
    assert capture["warnings"][0].startswith("body is UTF-16 text, not UTF-8")


def test_nan_is_refused_with_its_place(http) -> None:
    raw = b'{"s": "NaN here",\n "n": [1, NaN]}'
    capture = stored(http, http.post("/", content=raw))
    assert (
        capture["validation"]["errors"][0]["message"]
        == "not valid JSON at line 2, column 11: NaN is not allowed in JSON"
    )


def test_duplicate_keys_are_warned_with_their_path(http) -> None:
    body = json.loads(body_of("evolution/v2/messages.upsert.text"))
    text = json.dumps(body).replace('"fromMe": false', '"fromMe": true, "fromMe": false')
    capture = stored(http, http.post("/", content=text.encode()))
    assert capture["validation"]["status"] == "valid"
    assert capture["body"]["data"]["key"]["fromMe"] is False
    assert capture["warnings"] == ['duplicate key "fromMe" at $.data.key: the last value is used']
    row = http.get(EVENTS, params={"view": "summary"}).json()["events"][0]
    assert row["warnings"] == 1


# --- JSON nested deep -------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """Objects and arrays in turn, `depth` levels, a secret at the bottom: the shape that
    costs recursive readers the most frames per level."""
    opens = "".join('{"a":' if level % 2 == 0 else "[" for level in range(depth - 1))
    closes = "".join("}" if level % 2 == 0 else "]" for level in reversed(range(depth - 1)))
    return f'{opens}{{"token": "s3cret"}}{closes}'.encode()


def test_deepest_accepted_body_is_safe_everywhere(http) -> None:
    raw = nested(MAX_DEPTH)
    assert json.loads(raw) and raw.count(b"{") + raw.count(b"[") == MAX_DEPTH
    envelope = (
        b'{"event": "messages.upsert", "instance": "x", "data": {"message": '
        + nested(MAX_DEPTH - 3)
        + b"}}"
    )
    with http.stream("GET", "/_hookcatcher/stream", params={"view": "summary"}) as stream:
        plain = stored(http, http.post("/", content=raw))
        valid = stored(http, http.post("/", content=envelope))
        rows = sse_events(stream.iter_lines(), 2)
    assert plain["validation"]["status"] == "no-schema" and plain["body"] == json.loads(raw)
    assert valid["validation"]["status"] == "invalid"  # judged; the schema reaches its depth
    assert [row["data"]["id"] for row in rows] == [plain["id"], valid["id"]]
    _readers_are_safe(http)


def test_deeper_bodies_are_kept_unparsed(serve) -> None:
    http = httpx.Client(base_url=serve(max_body=1024 * 1024).url, timeout=TIMEOUT)
    for depth in (MAX_DEPTH + 1, 900, 5000):  # 5,000 is past what json.loads itself parses
        raw = nested(depth)
        capture = stored(http, http.post("/", content=raw))
        assert capture["body"] is None and capture["raw"] == raw.decode()
        assert capture["validation"]["errors"] == [
            {
                "path": "$",
                "message": (
                    "JSON nested more than 128 levels deep: kept as received, not parsed or "
                    "validated"
                ),
            }
        ]
    _readers_are_safe(http)


def _readers_are_safe(http: httpx.Client) -> None:
    """Every way a capture is read, on every stored capture; secrets hidden at any depth."""
    count = len(http.get(EVENTS).json()["events"])
    assert len(http.get(EVENTS, params={"raw": "1"}).json()["events"]) == count
    assert len(http.get(EVENTS, params={"view": "summary"}).json()["events"]) == count
    for query in ("a.a.a.token:*", "a:1", "status:not-json", "token"):
        assert http.get(EVENTS, params={"q": query}).status_code == 200
    with http.stream("GET", "/_hookcatcher/stream", headers={"Last-Event-ID": "0"}) as stream:
        assert len(sse_events(stream.iter_lines(), count)) == count
    for kind in ("har", "jsonl", "curl"):
        exported = http.get("/_hookcatcher/api/export", params={"format": kind})
        assert exported.status_code == 200 and "s3cret" not in exported.text
    console = Console(width=120, file=io.StringIO())
    for data in http.get(EVENTS).json()["events"]:
        capture = Capture.from_json(http.get(f"{EVENTS}/{data['id']}").json())
        shown = redacted(capture)
        if shown.is_json:
            assert "s3cret" not in render_body(shown.body).text.plain
        console.print(headers_table(shown), validation_heading(shown))
        assert summary(capture)["id"] == capture.id


# --- the record, the inspector, the flags ---------------------------------------------------


def test_refused_capture_reads_back_from_its_json_form() -> None:
    from hookcatcher.receive.ingest import refused_capture

    capture = refused_capture("POST", "/w", "", [("a", "b")], "127.0.0.1:1", 99, 413, "why")
    capture.id = 3
    back = Capture.from_json(capture.to_json(include_raw=False))
    assert back == capture and back.size == 99 and not back.is_json


def test_inspector_says_what_a_refused_capture_is(validator: Validator) -> None:
    capture = build_capture(
        validator,
        "POST",
        "/",
        "",
        [("content-encoding", "gzip")],
        "",
        gzip.compress(bytes(5000)),
        max_body=1024,
    )
    assert body_note(capture).plain == (
        "Too large: the gzip body decodes to more than the --max-body limit of 1 KiB; raise it "
        "with --max-body. The Raw tab shows the bytes as received."
    )
    assert validation_heading(capture).plain == "over a limit: answered 413"
    from hookcatcher.receive.ingest import refused_capture

    refused = refused_capture("POST", "/", "", [], "", 10**9, 413, "too big")
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(headers_table(refused))
    assert "1000000000 bytes (not kept)" in console.export_text()
    assert "not kept; the Headers tab" in body_note(refused).plain


def test_max_body_flag_and_environment(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def max_body(*argv: str) -> int:
        with serve_command.make_context("serve", list(argv)) as ctx:
            return int(ctx.params["max_body"])

    assert max_body() == 64 * 1024 * 1024
    assert max_body("--max-body", "1KiB") == 1024
    monkeypatch.setenv("HOOKCATCHER_MAX_BODY", "200MB")
    assert max_body() == 200_000_000
    assert main(["serve", "--max-body", "0"]) == 2
    assert "Invalid value for '--max-body': '0' must be at least 1 byte" in capsys.readouterr().err
    monkeypatch.setenv("HOOKCATCHER_MAX_BODY", "lots")
    assert main(["serve"]) == 2
    assert "HOOKCATCHER_MAX_BODY: 'lots' is not a size" in capsys.readouterr().err

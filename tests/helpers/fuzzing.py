"""Generated requests for the fuzz tests (tests/receive/test_fuzz.py) and the long fuzz run
(bench/fuzz.py), and the checks each one must pass against a real server.

Two kinds of request. `requests()` stays inside HTTP/1.1's grammar (any method token, any
visible path and query with percent escapes, headers by RFC 9110's token and field-value
rules, any body, sent with Content-Length or chunked): the receiver must answer 200 and
store it exactly as sent (CONNECT may be refused with a 4xx instead: no tunnels here).
`malformed` breaks the grammar in one place: the answer must be 400 or a closed connection
(or 200 and a capture, where the HTTP parser is lenient), never a 5xx, and the server must
go on serving. `api_queries` are any parameters on the read API: never a 5xx either. And in
every case the server must log no exception.
"""

from __future__ import annotations

import json
import logging
import string
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import httpx
from hypothesis import strategies as st

from hookcatcher.core.capture import decode_raw
from hookcatcher.files.fixtures import bundled
from hookcatcher.remote import SyncRemote

from .rawhttp import Address, Reply, SSEClient, exchange, request_bytes

__all__ = [
    "Sent",
    "requests",
    "malformed",
    "break_request",
    "api_queries",
    "ServerErrors",
    "Target",
]

TOKEN = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters
VISIBLE = bytes(range(0x21, 0x7F))  # what h11 allows in a request target
FIELD_BYTES = bytes(range(0x21, 0x7F)) + bytes(range(0x80, 0x100))  # field-vchar, obs-text
# Headers that frame or steer the connection: the generator sets them itself (or not at all).
FRAMING = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "expect",
    "keep-alive",
    "te",
    "trailer",
    "proxy-connection",
    "http2-settings",
}
RESERVED = ("/_hookcatcher", "/_gateway")


@dataclass(frozen=True, slots=True)
class Sent:
    """A request as the fuzzer sends it, and what the store must then hold."""

    method: bytes
    path: bytes
    query: bytes | None
    headers: tuple[tuple[bytes, bytes], ...]  # without the framing ones
    body: bytes
    chunks: tuple[int, ...] | None  # chunk sizes when sent chunked, else Content-Length
    version: bytes = b"HTTP/1.1"

    def wire_headers(self) -> list[tuple[bytes, bytes]]:
        framing = (
            [(b"Transfer-Encoding", b"chunked")]
            if self.chunks is not None
            else [(b"Content-Length", str(len(self.body)).encode())]
        )
        return [(b"Host", b"fuzz.test"), *self.headers, *framing]

    def wire(self) -> bytes:
        target = self.path + (b"?" + self.query if self.query is not None else b"")
        return request_bytes(
            self.method, target, self.wire_headers(), self._framed_body(), self.version
        )

    def _framed_body(self) -> bytes:
        if self.chunks is None:
            return self.body
        parts, start = [], 0
        for size in (*self.chunks, len(self.body)):  # the last chunk takes the rest
            piece = self.body[start : start + size]
            if not piece:
                break
            parts.append(b"%x\r\n%s\r\n" % (len(piece), piece))
            start += len(piece)
        return b"".join(parts) + b"0\r\n\r\n"

    def stored_headers(self) -> list[list[str]]:
        """The headers as the capture keeps them: names in lower case (HTTP/1.1 names are
        case-insensitive and the server hands them on lowered), values without the optional
        whitespace around them, which is not part of the value; order and repeats kept."""
        return [
            [name.decode("latin-1").lower(), value.strip(b" \t").decode("latin-1")]
            for name, value in self.wire_headers()
        ]

    def stored_path(self) -> str:
        """The path as an ASGI server gives it: percent escapes decoded (as UTF-8)."""
        return unquote(self.path.decode("ascii"))


# --- valid requests ----------------------------------------------------------------------

methods = st.one_of(
    st.sampled_from(
        [
            "POST",
            "PUT",
            "PATCH",
            "GET",
            "DELETE",
            "OPTIONS",
            "HEAD",
            "post",
            "M-SEARCH",
            "PROPFIND",
            "BREW",
            "X",
            "CONNECT",
            "TRACE",
        ]
    ),
    st.text(TOKEN, min_size=1, max_size=24),
).map(str.encode)

_escape = st.one_of(
    st.integers(0, 255).map(lambda byte: b"%%%02X" % byte),  # any byte, escaped
    st.sampled_from([b"%", b"%G1", b"%2", b"%%", b"%2F", b"%00", b"%C3%A9", b"%ED%A0%80"]),
)
_path_text = st.lists(
    st.one_of(
        st.binary(min_size=1, max_size=12).map(
            lambda raw: bytes(VISIBLE[byte % len(VISIBLE)] for byte in raw).replace(b"?", b"")
        ),
        _escape,
    ),
    max_size=12,
).map(b"".join)


def _path(raw: bytes, long: int) -> bytes:
    path = b"/" + raw + b"a" * long
    return path if not unquote(path.decode("ascii")).startswith(RESERVED) else b"/x" + path


paths = st.builds(_path, _path_text, st.sampled_from([0, 0, 0, 0, 300, 8_000]))
queries = st.one_of(
    st.none(),
    st.just(b""),
    st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=12).map(
                lambda raw: bytes(VISIBLE[byte % len(VISIBLE)] for byte in raw)
            ),
            _escape,
            st.sampled_from([b"=", b"&", b"?", b"token=abc", b"a[]=1"]),
        ),
        max_size=10,
    ).map(b"".join),
)

header_names = (
    st.text(TOKEN, min_size=1, max_size=30)
    .filter(lambda name: name.lower() not in FRAMING)
    .map(str.encode)
)


def _field_value(raw: bytes, spaces: list[int]) -> bytes:
    """A field-value: visible or obs-text bytes, with single spaces or tabs inside (never
    leading or trailing, where they are not part of the value)."""
    value = bytearray(FIELD_BYTES[byte % len(FIELD_BYTES)] for byte in raw)
    for position in spaces:
        if 0 < position < len(value):
            value[position:position] = b" " if position % 2 else b"\t"
    return bytes(value)


header_values = st.one_of(
    st.builds(_field_value, st.binary(max_size=40), st.lists(st.integers(1, 40), max_size=3)),
    st.sampled_from(
        [b"", b"application/json", b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", b"caf\xe9", b"a" * 3_000]
    ),
)
headers = st.lists(st.tuples(header_names, header_values), max_size=12).map(tuple)

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def _fixture_bodies() -> list[bytes]:
    return [fixture.raw() for fixture in bundled()]


bodies = st.one_of(
    st.binary(max_size=600),
    st.builds(
        lambda value, indent, ascii_only: json.dumps(
            value, indent=indent, ensure_ascii=ascii_only
        ).encode("utf-8"),
        _json_values,
        st.sampled_from([None, 0, 2]),
        st.booleans(),
    ),
    st.sampled_from(_fixture_bodies()),
    st.integers(1, 3_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 1_500).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(1, 6_000).map(lambda digits: b"1" * digits),
    st.sampled_from(
        [
            b"1e400",
            b"-1e400",
            b"1e-400",
            b"NaN",
            b"Infinity",
            b"-Infinity",
            b'{"n":NaN}',
            b"-0",
            b"0.1e1",
            b"18446744073709551616",
            b'"\\ud800"',
            b'{"a":"\\udc00x"}',
            b'"\\u0000"',
            b"\xef\xbb\xbf{}",
            '{"a":"é"}'.encode("utf-16"),
            b"\xff\xfe\x00",
            b"",
            b" ",
            b"\r\n",
            b"\x00" * 64,
            '{"emoji":"😀"}'.encode(),
            b"\xed\xa0\x80",
        ]
    ),
    st.integers(0, 300_000).map(lambda size: b"x" * size),
)


@st.composite
def requests(draw: st.DrawFn) -> Sent:
    body = draw(bodies)
    chunked = draw(st.booleans())
    chunks = tuple(draw(st.lists(st.integers(1, 5_000), max_size=6))) if chunked else None
    return Sent(
        draw(methods),
        draw(paths),
        draw(queries),
        draw(headers),
        body,
        chunks,
        draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0"])),
    )


# --- malformed requests --------------------------------------------------------------------


def _pick(choices: bytes, junk: bytes) -> bytes:
    return bytes([choices[junk[0] % len(choices)]])


def break_request(sent: Sent, how: str, junk: bytes) -> bytes:
    """The request's bytes with one part made invalid."""
    good = sent.wire()
    head, _, body = good.partition(b"\r\n\r\n")
    request_line, *header_lines = head.split(b"\r\n")
    match how:
        case "header name":
            bad = b"Bad" + _pick(b' ():;,"/[]{}\x7f\x80', junk) + b"Name: v"
            return b"\r\n".join([request_line, bad, *header_lines]) + b"\r\n\r\n" + body
        case "header value":
            bad = b"X-Bad: a" + _pick(b"\x00\r\n", junk) + b"b"
            return b"\r\n".join([request_line, bad, *header_lines]) + b"\r\n\r\n" + body
        case "no colon":
            return b"\r\n".join([request_line, b"NoColonHere", *header_lines]) + b"\r\n\r\n" + body
        case "target":
            method, target, version = request_line.split(b" ")
            bad = target + _pick(b" \x00\x01\x7f\x80\xff", junk) + b"x"
            return (
                b" ".join([method, bad, version])
                + b"\r\n"
                + b"\r\n".join(header_lines)
                + b"\r\n\r\n"
                + body
            )
        case "method":
            return b"P(ST" + good[good.index(b" ") :]
        case "version":
            return good.replace(sent.version, b"HTTP/" + junk[:3].hex().encode(), 1)
        case "content length":
            value = [b"abc", b"-1", b"1 2", b"99999999999999999999999"][junk[0] % 4]
            return request_bytes(
                sent.method, sent.path, [(b"Host", b"x"), (b"Content-Length", value)]
            )
        case "two lengths":
            return request_bytes(
                sent.method,
                sent.path,
                [(b"Host", b"x"), (b"Content-Length", b"1"), (b"Content-Length", b"2")],
                b"ab",
            )
        case "chunk size":
            return request_bytes(
                sent.method,
                sent.path,
                [(b"Host", b"x"), (b"Transfer-Encoding", b"chunked")],
                b"zz\r\nab\r\n0\r\n\r\n",
            )
        case "transfer coding":
            return request_bytes(
                sent.method, sent.path, [(b"Host", b"x"), (b"Transfer-Encoding", b"gzip")], b""
            )
        case "no host":
            return request_bytes(sent.method, sent.path, [(b"Content-Length", b"0")])
        case "two hosts":
            return request_bytes(
                sent.method,
                sent.path,
                [(b"Host", b"a"), (b"Host", b"b"), (b"Content-Length", b"0")],
            )
        case "garbage":
            return junk
        case "cut short":  # the sender stops mid-request and closes
            return good[: max(1, len(good) * (junk[0] % 100) // 100)]
    raise AssertionError(how)


HOW = [
    "header name",
    "header value",
    "no colon",
    "target",
    "method",
    "version",
    "content length",
    "two lengths",
    "chunk size",
    "transfer coding",
    "no host",
    "two hosts",
    "garbage",
    "cut short",
]
malformed = st.tuples(requests(), st.sampled_from(HOW), st.binary(min_size=8, max_size=64))


# --- API queries -----------------------------------------------------------------------------

_numbers = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "2",
            "1e3",
            "0x10",
            " 1",
            "1.5",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551616",
            "9" * 40,
            "1" * 5_000,
        ]
    ),
    st.integers().map(str),
)
_words = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "1",
            "0",
            "true",
            "no",
            "summary",
            "full",
            "har",
            "jsonl",
            "curl",
            '"',
            "-",
            "event:*",
            "valid:maybe",
            "data.a:1",
            "*" * 200,
            "http://127.0.0.1:1/x",
            "ftp://x",
        ]
    ),
)


def _params(**values: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional=values)


api_queries = st.one_of(
    st.tuples(
        st.just("/_hookcatcher/api/events"),
        _params(q=_words, limit=_numbers, after=_numbers, raw=_words, view=_words),
    ),
    st.tuples(
        st.one_of(_numbers, _words).map(
            lambda capture_id: "/_hookcatcher/api/events/" + quote(capture_id, safe="")
        ),
        _params(raw=_words),
    ),
    st.tuples(
        st.just("/_hookcatcher/api/export"),
        _params(format=_words, q=_words, redact=_words, target=_words, by_events=_words),
    ),
    st.tuples(
        st.sampled_from(
            [
                "/_hookcatcher/api/stats",
                "/_hookcatcher/health",
                "/_hookcatcher/api/catalog",
                "/_hookcatcher/api/instances",
            ]
        ),
        _params(q=_words, limit=_numbers),
    ),
)


# --- checks --------------------------------------------------------------------------------


class ServerErrors(logging.Handler):
    """What the server logs at ERROR while it is fuzzed: an exception in the app is a bug
    even when the sender got an answer (or the answer went out before it)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        self.seen.append(f"{record.getMessage()} {error!r}" if error else record.getMessage())


class Target:
    """A running server under fuzzing: sends each request and checks what the store made
    of it, through the API, the export and the stream a client has open all along.
    Start it after the server: uvicorn's logging set-up drops handlers added before.
    `api` is raw httpx, since the checks read the API's own JSON and fuzz its parameters;
    `remote`, hookcatcher's client, reads the counters and the health."""

    def __init__(self, url: str) -> None:
        self.errors = ServerErrors()
        logging.getLogger("uvicorn.error").addHandler(self.errors)
        self.url = url
        self.api = httpx.Client(base_url=url, timeout=30)
        self.remote = SyncRemote(url, timeout=30)
        address = self.api.base_url
        self.address: Address = (address.host, address.port or 80)
        self.stream = SSEClient(url, timeout=30).open()
        self.acknowledged = 0  # answered 2xx
        self.refused = 0  # valid requests answered 4xx (CONNECT: no tunnel here)
        self.cases = 0
        self.statuses: dict[int | None, int] = {}

    def close(self) -> None:
        logging.getLogger("uvicorn.error").removeHandler(self.errors)
        self.stream.close()
        self.api.close()
        self.remote.close()

    def _no_errors(self) -> None:
        errors, self.errors.seen[:] = list(self.errors.seen), []
        assert not errors, f"the server logged: {errors}"

    def _count(self, reply: Reply | None) -> None:
        self.cases += 1
        status = reply.status if reply is not None else None
        self.statuses[status] = self.statuses.get(status, 0) + 1
        assert status is None or status < 500, f"the server answered {status}: {reply}"

    def _api(self, path: str, **params: Any) -> httpx.Response:
        answer = self.api.get(path, params=params)
        assert answer.status_code < 500, f"GET {path} {params}: {answer.status_code}"
        return answer

    def send(self, sent: Sent) -> None:
        """A valid request must be answered 200 and stored as sent, and every way out of
        the store (API, list rows, exports, the stream) must carry it."""
        self.errors.seen.clear()  # what a case that failed early left behind
        self.api.delete("/_hookcatcher/api/events")  # each export then holds this one only
        head = sent.method == b"HEAD"
        reply = exchange(self.address, sent.wire(), head_only=head)
        self._count(reply)
        assert reply is not None, f"no answer to {sent}"
        declared = reply.header(b"content-length")
        assert head or declared is None or int(declared) == len(reply.body), reply
        if sent.method == b"CONNECT" and 400 <= reply.status < 500:
            self.refused += 1  # refusing to open a tunnel is an answer too
            self._no_errors()
            return
        assert reply.status == 200, (sent, reply)
        self.acknowledged += 1
        capture_id = self._acknowledged_id(reply, head)
        stored = self._api(f"/_hookcatcher/api/events/{capture_id}")
        assert stored.status_code == 200, stored.text
        capture = stored.json()
        assert decode_raw(capture["raw"], capture["raw_encoding"]) == sent.body
        assert capture["method"] == sent.method.decode("ascii")
        assert capture["path"] == sent.stored_path()
        assert capture["query"] == (sent.query or b"").decode("latin-1")
        assert capture["headers"] == sent.stored_headers()
        row = self._api(
            "/_hookcatcher/api/events", after=capture_id - 1, limit=1, view="summary"
        ).json()["events"]
        assert [r["id"] for r in row] == [capture_id] and row[0]["size"] == len(sent.body)
        exported = self._api("/_hookcatcher/api/export", format="jsonl", redact="0")
        (line,) = exported.content.rstrip(b"\n").split(b"\n")  # JSON Lines: \n ends a line
        record = json.loads(line)
        assert decode_raw(record["raw"], record["raw_encoding"]) == sent.body
        for kind in ("har", "curl"):
            assert self._api("/_hookcatcher/api/export", format=kind).status_code == 200
        message = self._streamed(capture_id)
        assert message["data"]["headers"] == sent.stored_headers()
        self._no_errors()

    def _acknowledged_id(self, reply: Reply, head: bool) -> int:
        if head:  # no body in the answer to a HEAD: the newest capture is this one
            return self._api("/_hookcatcher/api/events", limit=1).json()["last_id"]
        answer = reply.json()
        assert answer["ok"] is True, answer
        return answer["id"]

    def _streamed(self, capture_id: int) -> dict[str, Any]:
        """The stream's message for this capture. Before it may come captures of requests
        that were never answered (a sender that hung up after its body was read)."""
        messages = self.stream.read_until(lambda message: message["id"] == str(capture_id))
        ids = [int(message["id"]) for message in messages]
        assert ids == sorted(set(ids)) and all(
            message["event"] == "capture" for message in messages
        ), messages
        return messages[-1]

    def send_malformed(self, data: bytes) -> None:
        """A request outside the grammar: 400 or a closed connection (or, where the HTTP
        parser is lenient, a capture that is then stored; or a 4xx from the receiver);
        never a 5xx; the server goes on serving."""
        self.errors.seen.clear()
        before = self.remote.stats()["received"]
        head = data.startswith(b"HEAD ")
        reply = exchange(self.address, data, finish=True, head_only=head)
        self._count(reply)
        if reply is not None and reply.status == 200:
            self.acknowledged += 1
            capture_id = self._acknowledged_id(reply, head)
            assert self._api(f"/_hookcatcher/api/events/{capture_id}").status_code == 200
            self._streamed(capture_id)
        else:
            assert reply is None or 400 <= reply.status < 500, reply
            if reply is not None and reply.status == 400:  # the HTTP parser's: not stored
                received = self.remote.stats()["received"]
                assert received == before, "a request answered 400 was stored"
        assert self.remote.health()["status"] == "ok"
        self._no_errors()

    def query(self, path: str, params: dict[str, str]) -> None:
        """Any query parameters on the read API: an answer, 400 at worst, never a 5xx."""
        self.errors.seen.clear()
        answer = self.api.get(path, params=params)
        self.cases += 1
        assert answer.status_code < 500, (path, params, answer.status_code, answer.text[:300])
        self._no_errors()

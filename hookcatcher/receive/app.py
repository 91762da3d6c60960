"""The server: every request outside /_hookcatcher/ and /_gateway/ is a capture; the first
prefix is hookcatcher's own API (receive/api.py), the second the mocked gateway
configuration APIs (their bodies read whole first, at most MOCK_MAX_BODY).

Captures skip Starlette's router: the request path is the one hot path, so it is a bare ASGI
callable that reads the body, ingests it, stores it and answers 200 (or, when answer rules
were given, what they say). With a session file, the capture's line is handed to the OS
before the answer goes out, and a capture that could not be saved is not answered 2xx. A
request over a limit (`ingest.Limits`: --max-body, the header limits) is answered 413 or 431
and recorded without its body; reading stops at the limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import PLAIN_ANSWER, Answer, Capture
from hookcatcher.files.session_writer import SessionWriteError, SessionWriter
from hookcatcher.mock import Gateways
from hookcatcher.receive.access import Access, Guard
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.api import method_not_allowed, not_found, routes
from hookcatcher.receive.forwarder import Forwarder, Relayed, not_forwarded
from hookcatcher.receive.ingest import Limits, build_capture, received_now, refused_capture
from hookcatcher.receive.store import Store
from hookcatcher.receive.stream import Hub
from hookcatcher.receive.workers import INLINE_BYTES, Workers
from hookcatcher.remote import API_PREFIX, GATEWAY_PREFIX

__all__ = ["create_app", "Hookcatcher", "API_PREFIX", "GATEWAY_PREFIX"]

MOCK_MAX_BODY = 1024 * 1024  # a gateway configuration body is a few hundred bytes


class Hookcatcher:
    """The ASGI application: captures on every path but the two reserved prefixes."""

    def __init__(
        self,
        store: Store,
        validator: Validator,
        answers: Answers | None = None,
        session: SessionWriter | None = None,
        access: Access | None = None,
        limits: Limits | None = None,
        forwarder: Forwarder | None = None,
    ) -> None:
        self.store = store
        self.forwarder = forwarder  # --forward-to: None, captures stay here
        if forwarder is not None:
            forwarder.on_delivered = self._delivered
        self.limits = limits or Limits()  # what one request may bring
        self.validator = validator
        self.answers = answers or None  # None: no rules, the plain 200 path
        self.session = session
        self.workers = Workers()  # heavy work, off the event loop
        self.hub = Hub(store, self.workers)
        self.gateways = Gateways()
        self.guard = Guard(access or Access(), API_PREFIX, GATEWAY_PREFIX)
        self.api = Starlette(
            routes=routes(), exception_handlers={404: not_found, 405: method_not_allowed}
        )
        self.api.state.store = store
        self.api.state.validator = validator
        self.api.state.answers = self.answers
        self.api.state.hub = self.hub
        self.api.state.gateways = self.gateways
        self.api.state.guard = self.guard
        self.api.state.workers = self.workers
        self.api.state.forwarder = forwarder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _reserved(scope["path"]):
            if self.guard.captures_open or await self.guard.admit_capture(scope, send):
                await self._capture(scope, receive, send)
        else:
            admitted = await self.guard.admit(scope, send)  # Host, origin, --token
            if admitted is None:
                return
            if admitted["type"] == "http" and _under(admitted["path"], GATEWAY_PREFIX):
                buffered = await _mock_body(admitted, receive, send)
                if buffered is None:
                    return
                receive = buffered
            await self.api(admitted, receive, send)

    async def _capture(self, scope: Scope, receive: Receive, send: Send) -> None:
        limits = self.limits
        over: _OverLimit | None = None
        try:
            raw = await _read_body(scope, receive, limits)
        except _OverLimit as exc:
            over, raw = exc, b""
        if raw is None:
            return  # the sender gave up before the body was complete: nothing to answer
        client = scope.get("client")
        method, path = scope["method"], scope["path"]
        query = scope.get("query_string", b"").decode("latin-1")
        headers = _text_headers(scope["headers"])
        remote = f"{client[0]}:{client[1]}" if client else ""
        if over is not None:
            await self._refuse(
                refused_capture(
                    method,
                    path,
                    query,
                    limits.headers_kept(headers),
                    remote,
                    over.size,
                    over.status,
                    over.reason,
                ),
                send,
            )
            return
        if len(raw) > INLINE_BYTES or _encoded(scope["headers"]):
            # Seconds of CPU for some bodies (20 MB of messages, a gzip that decodes to 64 MB,
            # 40,000 form parts): off the loop, so every other sender is answered meanwhile.
            capture = await self.workers.run(
                _build_heavy,
                self.validator,
                method,
                path,
                query,
                headers,
                remote,
                raw,
                limits.max_body,
                received_now(),
            )
        else:
            capture = build_capture(
                self.validator, method, path, query, headers, remote, raw, max_body=limits.max_body
            )
        if capture.validation.status == "too-large":  # it decodes to more than --max-body
            await self._refuse(capture, send)
            return
        if method == "CONNECT":
            # A 2xx to CONNECT turns the connection into a tunnel, which carries no answer
            # body: the request is kept like any other and refused in words.
            capture.answer = Answer(405, 0, _NO_TUNNEL)
            await self._refuse(capture, send)
            return
        if self.answers is not None or self.session is not None or self.forwarder is not None:
            await self._answer(capture, receive, send)
        else:
            self.store.add(capture)
            payload = b'{"ok":true,"id":%d}' % capture.id
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(payload)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
        # Kept as bytes from here on; whoever asks for the body gets it parsed again.
        capture.release_body()

    async def _refuse(self, capture: Capture, send: Send) -> None:
        """A request over a limit (kept as a record: headers, size, no body) or a CONNECT:
        answered with its `answer` status and a body that says why. Not left to answer
        rules; and not held up by --fsync, since nothing was accepted."""
        self.store.add(capture)
        if self.session is not None:
            # A failed write: the writer has said so on stderr; the answer is the limit's all
            # the same.
            with contextlib.suppress(SessionWriteError):
                self.session.append(capture)
        payload = json.dumps(
            {
                "ok": False,
                "id": capture.id,
                "status": capture.answer.status,
                "error": capture.answer.reason,
            }
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": capture.answer.status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _answer(self, capture: Capture, receive: Receive, send: Send) -> None:
        """The answer when rules or a session file have a say in it."""
        if self.answers is not None:
            # Chosen before storing, so the stored capture says what it is answered; stored
            # before the delay, so it shows at once and is kept if the sender hangs up.
            capture.answer = self.answers.decide(capture)
        self.store.add(capture)
        relayed = await self._forward(capture) if self.forwarder is not None else None
        if self.session is not None:
            try:
                self.session.append(capture)  # after forwarding: the line holds the deliveries
                if self.session.fsync:
                    await self.session.sync()
            except SessionWriteError as exc:
                # Kept in memory all the same; the sender sees a failure and will retry.
                capture.answer = Answer(exc.status, 0, str(exc))
                capture.row = None
                self.hub.forget(capture)
                relayed = None
        if relayed is not None:
            headers = [*relayed.headers, (b"content-length", str(len(relayed.body)).encode())]
            await send(
                {"type": "http.response.start", "status": relayed.status, "headers": headers}
            )
            await send({"type": "http.response.body", "body": relayed.body})
            return
        answer = capture.answer
        if answer.delay_ms and await _hung_up(receive, answer.delay_ms / 1000):
            return
        headers, payload = answer.message(capture.id)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _forward(self, capture: Capture) -> Relayed | None:
        """Passthrough: the app's answer becomes the gateway's, unless an answer rule
        (--respond, --delay, --fail-first) decided it first; then the capture stays here."""
        assert self.forwarder is not None
        if capture.answer is not PLAIN_ANSWER:
            if self.forwarder.targets(capture):
                capture.forwards.append(not_forwarded(capture))
            return None
        if self.forwarder.mode == "detach":
            self.forwarder.enqueue(capture)
            return None
        relayed = await self.forwarder.deliver(capture)
        if capture.forwards:
            self._delivered(capture)
        return relayed

    def _delivered(self, capture: Capture) -> None:
        capture.row = None  # its list row now says how the app answered
        self.hub.forget(capture)
        self.store.delivered(capture)


def create_app(
    store: Store | None = None,
    validator: Validator | None = None,
    answers: Answers | None = None,
    session: SessionWriter | None = None,
    access: Access | None = None,
    limits: Limits | None = None,
    forwarder: Forwarder | None = None,
) -> Hookcatcher:
    """`session`: append every capture to this file before answering it (`--save`);
    `access`: the tokens `--token` and `--ingest-token` require; `limits`: what one request
    may bring (`--max-body`)."""
    return Hookcatcher(
        Store() if store is None else store,
        Validator() if validator is None else validator,
        answers,
        session,
        access,
        limits,
        forwarder,
    )


class _OverLimit(Exception):
    """A request past one of the limits: its answer's status, why, and the body's size as
    far as known (declared, or seen before reading stopped)."""

    def __init__(self, status: int, reason: str, size: int) -> None:
        super().__init__(reason)
        self.status, self.reason, self.size = status, reason, size


async def _read_body(scope: Scope, receive: Receive, limits: Limits) -> bytes | None:
    """The request body, or None when the sender hung up before it was complete.

    A request past a limit raises _OverLimit as soon as that is known: headers past the
    header limits, or a Content-Length past --max-body, before any of the body is read; a
    body without a length (chunked) once more than --max-body has come, so memory never
    holds more than the limit. The HTTP layer reads and drops what is left after the
    answer, and the connection goes on to its next request."""
    declared = _declared_size(scope["headers"])
    if (reason := limits.headers_over(scope["headers"])) is not None:
        raise _OverLimit(431, reason, declared)
    if declared > limits.max_body:
        raise _OverLimit(413, limits.body_over(declared, declared=True), declared)
    try:
        return await _body_up_to(receive, limits.max_body)
    except _PastLimit as exc:
        raise _OverLimit(413, limits.body_over(exc.size, declared=False), exc.size) from None


class _PastLimit(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


async def _body_up_to(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when the sender hung up before it was complete; _PastLimit
    (with the bytes seen) as soon as more than `limit` came, so memory never holds more."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _PastLimit(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _encoded(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the body comes with a Content-Encoding: a few bytes may decode to --max-body."""
    return any(name == b"content-encoding" for name, _ in headers)


def _build_heavy(
    validator: Validator,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    remote: str,
    raw: bytes,
    max_body: int,
    received_at: str,
) -> Capture:
    """build_capture on a worker thread. The bytes' hash is worked out here too: bytes keep
    it, so the store's retry check on the loop does not pass over 20 MB again."""
    hash(raw)
    return build_capture(
        validator,
        method,
        path,
        query,
        headers,
        remote,
        raw,
        max_body=max_body,
        received_at=received_at,
    )


def _text_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The headers as text. A gateway sends the same few headers with every request, so
    each short pair is decoded once and its tuple shared by every capture that has it: a
    stored capture then holds one list of shared pairs instead of a tuple and two strings
    per header, which is less to allocate on the request path and less memory per capture."""
    cache = _HEADER_TEXT
    text = []
    for pair in headers:
        if type(pair) is not tuple:  # ASGI allows any iterable pair; uvicorn sends tuples
            name, value = pair
            pair = (name, value)
        found = cache.get(pair)
        if found is None:
            name, value = pair
            found = (name.decode("latin-1"), value.decode("latin-1"))
            if len(value) <= _SHARED_HEADER_BYTES:
                if len(cache) >= _SHARED_HEADERS:
                    cache.clear()  # a sender that varies its headers: start over
                cache[(name, value)] = found
        text.append(found)
    return text


_HEADER_TEXT: dict[tuple[bytes, bytes], tuple[str, str]] = {}
_SHARED_HEADERS = 4096
_SHARED_HEADER_BYTES = 256


def _declared_size(headers: list[tuple[bytes, bytes]]) -> int:
    """The Content-Length (0 without one: a chunked body is counted as it comes)."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


async def _hung_up(receive: Receive, seconds: float) -> bool:
    """Wait `seconds`, or less when the sender hangs up (then True): an abandoned request
    does not keep a coroutine alive for up to ten minutes."""

    async def disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(disconnect(), seconds)
    except asyncio.TimeoutError:
        return False
    return True


async def _mock_body(scope: Scope, receive: Receive, send: Send) -> Receive | None:
    """A mocked gateway's request body, read whole up to MOCK_MAX_BODY, as a `receive` for
    the route; None once a larger body was answered 413 (or the sender hung up). A
    webhook configuration is a few hundred bytes; unbounded, one request could fill memory."""
    declared = _declared_size(scope["headers"])
    if declared > MOCK_MAX_BODY:
        await _too_large_for_mock(send, declared)
        return None
    try:
        body = await _body_up_to(receive, MOCK_MAX_BODY)
    except _PastLimit as exc:
        await _too_large_for_mock(send, exc.size)
        return None
    if body is None:
        return None
    first: Message | None = {"type": "http.request", "body": body, "more_body": False}

    async def replay() -> Message:
        nonlocal first
        if first is None:
            return await receive()  # the disconnect, when the route waits for it
        message, first = first, None
        return message

    return replay


async def _too_large_for_mock(send: Send, size: int) -> None:
    payload = json.dumps(
        {
            "error": (
                f"the body ({size:,} bytes so far) is over the {MOCK_MAX_BODY // 1024 // 1024} MiB "
                "that a mocked gateway's configuration request may bring"
            )
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _reserved(path: str) -> bool:
    """Whether a path is hookcatcher's own (asked on every request: the cheap test first)."""
    return path.startswith(_PREFIXES) and any(
        path == prefix or path.startswith(prefix + "/") for prefix in _PREFIXES
    )


_PREFIXES = (API_PREFIX, GATEWAY_PREFIX)


_NO_TUNNEL = (
    "CONNECT asks for a tunnel, which a webhook receiver does not open; the request is recorded"
)

"""The capture record: one received request, as every part of hookcatcher sees it.

The server builds it, the store keeps it, the API, the stream and the CLI print it; they all
go through `Capture.to_json` so a capture looks the same wherever it is read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import InitVar, dataclass, field, fields
from itertools import chain
from typing import Any, AnyStr, TypeGuard

__all__ = [
    "Capture",
    "headers_size",
    "Route",
    "Validation",
    "Problem",
    "Answer",
    "PLAIN_ANSWER",
    "STATUSES",
    "NOT_JSON_STATUSES",
]

# Every validation status, in the order screens explain them.
STATUSES = ("valid", "invalid", "no-schema", "not-json", "form", "too-large")
# Statuses whose `body` is no parsed JSON body: the bytes in `raw` are the whole truth.
NOT_JSON_STATUSES = frozenset({"not-json", "form", "too-large"})


def headers_size(headers: Iterable[tuple[AnyStr, AnyStr]]) -> int:
    """Headers' size as on the wire (`name: value` and CRLF): what --max-bytes and the
    header limit count. Summed in C, since every request pays for it."""
    pairs = headers if isinstance(headers, list) else list(headers)
    return sum(map(len, chain.from_iterable(pairs))) + 4 * len(pairs)


@dataclass(frozen=True, slots=True)
class Forward:
    """One delivery of a capture to the app: the rule's URL (`target`), the URL called, and
    the app's answer (its first 64 KiB, `response_size` the whole) or why there was none."""

    target: str
    url: str
    at: str
    status: int | None
    elapsed_ms: float
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: str = ""
    response_size: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "url": self.url,
            "at": self.at,
            "status": self.status,
            "ok": self.ok,
            "elapsed_ms": self.elapsed_ms,
            "response_headers": [[name, value] for name, value in self.response_headers],
            "response_body": self.response_body,
            "response_size": self.response_size,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Forward:
        return cls(
            target=str(data.get("target", "")),
            url=str(data.get("url", "")),
            at=str(data.get("at", "")),
            status=data.get("status"),
            elapsed_ms=float(data.get("elapsed_ms") or 0.0),
            response_headers=tuple(
                (str(name), str(value)) for name, value in data.get("response_headers", [])
            ),
            response_body=str(data.get("response_body", "")),
            response_size=int(data.get("response_size") or 0),
            error=data.get("error"),
        )


@dataclass(slots=True, frozen=True)
class Route:
    """How a request was recognised: the gateway's delivery mode and the parts of its URL."""

    mode: str  # single | by-events | path | method
    base: str  # the path the user configured in the gateway
    suffix: str | None = None  # the per-event part the gateway appended, if any

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "base": self.base, "suffix": self.suffix}


@dataclass(slots=True, frozen=True)
class Problem:
    """One way a body breaks its schema, located by a JSON path such as `$.data.key.fromMe`."""

    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(slots=True, frozen=True)
class Validation:
    """The verdict on a body (one of STATUSES), and why.

    `form`: a form-encoded or multipart body, its fields in `body`, not validated (gateways
    send JSON). `too-large`: a request over a limit (--max-body, the header limits), answered
    413 or 431 and kept without its body."""

    status: str
    schema: str | None = None
    errors: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "schema": self.schema,
            "errors": [problem.to_json() for problem in self.errors],
        }


@dataclass(slots=True, frozen=True)
class Answer:
    """What the receiver answered a request: the status, after how long, and why, when a rule
    (--respond, --delay, --fail-first) made it other than the plain 200 at once."""

    status: int = 200
    delay_ms: int = 0
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "delay_ms": self.delay_ms, "reason": self.reason}

    def message(self, capture_id: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The headers and body sent with this answer: the usual body for 2xx, none for 204
        and 304, and for the rest a body that says why, for the sender's logs."""
        if self.status in (204, 304):
            return [], b""
        if self.status < 300:
            payload = b'{"ok":true,"id":%d}' % capture_id
        else:
            payload = json.dumps(
                {"ok": False, "id": capture_id, "status": self.status, "reason": self.reason},
                ensure_ascii=False,
            ).encode("utf-8")
        return [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ], payload


PLAIN_ANSWER = Answer()


@dataclass(slots=True, eq=False)
class _CaptureFields:
    """Capture's fields and constructor. `body` is given to the constructor (an InitVar)
    and kept as `_body`; Capture reads it through a property. The property lives on the
    subclass because in this class's body the dataclass would take it for the InitVar's
    default."""

    received_at: str
    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    remote: str
    raw: bytes
    # The parsed body (JSON, or a form's fields; None when there is none). A property: see
    # `release_body`. Given to the constructor like any other field.
    body: InitVar[Any]
    provider: str
    event: str | None
    instance: str | None
    route: Route
    validation: Validation
    warnings: list[str] = field(default_factory=list)
    id: int = 0  # given by the store when the capture is kept
    retry_of: int | None = None  # the first stored capture with the same bytes (the store)
    answer: Answer = PLAIN_ANSWER
    # The body's size when `raw` does not hold it: a body over --max-body is kept without its
    # bytes, and this says how many it declared (Content-Length) or came with before reading
    # stopped. None: `raw` is the whole body.
    refused_size: int | None = None
    # The body's size once its Content-Encoding (gzip, deflate) was undone, None when it came
    # unencoded: `raw` stays as received, `body` is what it decodes to.
    decoded_size: int | None = None
    # Its deliveries to the user's app (--forward-to), in the order they were made.
    forwards: list[Forward] = field(default_factory=list)
    # Its list row, encoded once (summary.row_json): a capture does not change once kept,
    # and a 10,000-row listing then costs a join instead of 10,000 encodings.
    row: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _body: Any = field(default=None, init=False, repr=False, compare=False)
    _weight: int = field(default=-1, init=False, repr=False, compare=False)
    # The chat it is about, once conversation.chat_of has worked it out (UNKNOWN before):
    # ingest asks while the parsed body is at hand, so a list row never needs it again.
    _chat: Any = field(default=None, init=False, repr=False, compare=False)
    # How to get the body back from `raw` once released (ingest.build_capture sets it).
    _parse: Callable[[Capture], Any] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self, body: Any) -> None:
        self._body = body
        self._chat = UNKNOWN


class Capture(_CaptureFields):
    """One request exactly as received, plus what hookcatcher made of it."""

    __slots__ = ()

    @property
    def body(self) -> Any:
        """The parsed body (JSON, or a form's fields; None when there is none), parsed again
        from `raw` if it was released (see `release_body`)."""
        body = self._body
        if body is _RELEASED:
            assert self._parse is not None
            body = self._parse(self)
            if len(self.raw) <= KEEP_PARSED_BYTES:
                self._body = body  # kept: a filter or a screen may well ask again
        return body

    @body.setter
    def body(self, body: Any) -> None:
        self._body = body

    def release_body(self) -> None:
        """Let go of the parsed body; it is parsed again from `raw` when next asked for.

        A parsed body holds 5 to 10 times its bytes in Python objects, and a stored capture
        is mostly asked for its list row, its validation and its bytes. Keeping only the
        bytes means a store of 10,000 captures holds about their size, and the receiver
        allocates nothing per request that outlives it (fresh memory for every kept object
        was a tenth of ingest throughput). Only a capture that knows how to parse its bytes
        again (one built by ingest) lets go."""
        if self._parse is not None:
            self._body = _RELEASED

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Capture):
            return NotImplemented
        return (
            all(getattr(self, name) == getattr(other, name) for name in _COMPARED)
            and self.body == other.body
        )

    @property
    def size(self) -> int:
        """The body's size as sent (what the sender declared, for a body not kept)."""
        return len(self.raw) if self.refused_size is None else self.refused_size

    @property
    def is_json(self) -> bool:
        return self.validation.status not in NOT_JSON_STATUSES

    @property
    def weight(self) -> int:
        """Bytes this capture counts for against --max-bytes: body and headers as received,
        plus the decoded body of a compressed one (its parsed form is held too, and a small
        gzip body can decode to megabytes)."""
        if self._weight < 0:  # worked out once: the store asks on keeping and on evicting
            self._weight = len(self.raw) + (self.decoded_size or 0) + headers_size(self.headers)
        return self._weight

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def to_json(self, include_raw: bool = True, include_body: bool = True) -> dict[str, Any]:
        """The capture as JSON. `raw` is left out when the body is JSON as sent and the
        caller does not ask for it, since the parsed body already carries the same content
        (not so for a compressed body: its bytes are not the body's JSON). Without
        `include_body`, neither body nor raw is there (nor parsed to be left out)."""
        data: dict[str, Any] = {
            "id": self.id,
            "received_at": self.received_at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": [[name, value] for name, value in self.headers],
            "remote": self.remote,
            "size": self.size,
            "decoded_size": self.decoded_size,
            "body": self.body if include_body else None,
            "provider": self.provider,
            "event": self.event,
            "instance": self.instance,
            "route": self.route.to_json(),
            "validation": self.validation.to_json(),
            "warnings": list(self.warnings),
            "retry_of": self.retry_of,
            "answer": self.answer.to_json(),
            "forwards": [forward.to_json() for forward in self.forwards],
        }
        if include_body and (include_raw or not self.is_json or self.decoded_size is not None):
            data.update(encode_raw(self.raw))
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Capture:
        """A capture read back from its JSON form (the API, the stream, a saved session).

        Without `raw` the bytes are rebuilt from the parsed body, which is what the sender
        sent up to whitespace and key order; ask the API for `raw=1` when bytes matter."""
        if "raw" in data:
            raw = decode_raw(data["raw"], data.get("raw_encoding", "utf-8"))
        else:
            raw = json.dumps(data.get("body"), ensure_ascii=False).encode("utf-8")
        route = data.get("route") or {}
        validation = data.get("validation") or {}
        size, decoded_size = data.get("size"), data.get("decoded_size")
        answer = data.get("answer") or {}
        return cls(
            received_at=data["received_at"],
            method=data["method"],
            path=data["path"],
            query=data.get("query", ""),
            headers=[(name, value) for name, value in data.get("headers", [])],
            remote=data.get("remote", ""),
            raw=raw,
            body=data.get("body"),
            provider=data.get("provider", "unknown"),
            event=data.get("event"),
            instance=data.get("instance"),
            route=Route(
                route.get("mode", "single"), route.get("base", data["path"]), route.get("suffix")
            ),
            validation=Validation(
                validation.get("status", "no-schema"),
                validation.get("schema"),
                tuple(Problem(e["path"], e["message"]) for e in validation.get("errors", [])),
            ),
            warnings=list(data.get("warnings", [])),
            id=data.get("id", 0),
            retry_of=data.get("retry_of"),
            answer=Answer(
                answer.get("status", 200), answer.get("delay_ms", 0), answer.get("reason")
            )
            if answer
            else PLAIN_ANSWER,
            # Only a body that was not kept is larger than its bytes.
            refused_size=size if not raw and _whole(size) and size > 0 else None,
            decoded_size=decoded_size if _whole(decoded_size) else None,
            forwards=[Forward.from_json(item) for item in data.get("forwards") or ()],
        )


_RELEASED = object()
# A released body larger than this is parsed again each time it is asked for, never kept:
# a filter over body fields reads every stored capture, and keeping 256 MiB of large bodies
# parsed would hold ten times that.
KEEP_PARSED_BYTES = 64 * 1024
UNKNOWN = object()  # a derived value not worked out yet
_COMPARED = tuple(f.name for f in fields(Capture) if f.compare)


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def decode_raw(text: str, encoding: str) -> bytes:
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")


def encode_raw(raw: bytes) -> dict[str, str]:
    """Raw bytes as JSON: text when they are UTF-8, base64 otherwise, and which one it is."""
    try:
        return {"raw": raw.decode("utf-8"), "raw_encoding": "utf-8"}
    except UnicodeDecodeError:
        return {"raw": base64.b64encode(raw).decode("ascii"), "raw_encoding": "base64"}

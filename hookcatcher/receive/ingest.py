"""Ingest: the request path's work, from the bytes a gateway sent to a Capture.

Undo a Content-Encoding, parse the body once, classify, validate, and nothing else: this runs
before the sender gets its answer, so it stays small (the store and the stream only take
references). Whatever arrives ends as a capture whose status says what it is: JSON judged
against its schema, the fields of a form, a request over the limits, or bytes that are no
usable JSON, with the reason and the place.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hookcatcher.check.validation import Validator
from hookcatcher.check.verdict import judge
from hookcatcher.core.body import DEFAULT_MAX_BODY, JSON, TOO_LARGE, read_body
from hookcatcher.core.capture import Answer, Capture, Problem, Validation, headers_size
from hookcatcher.core.chats import chat_of
from hookcatcher.core.classify import classify
from hookcatcher.core.units import limit_text

__all__ = [
    "build_capture",
    "received_now",
    "refused_capture",
    "Limits",
    "DEFAULT_MAX_HEADERS",
    "DEFAULT_MAX_HEADER_BYTES",
]

# A gateway sends about ten headers; a webhook configured with its own adds a few more.
DEFAULT_MAX_HEADERS = 100
DEFAULT_MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may bring. Past a limit it is answered 413 or 431 with a message
    that names the limit, and kept as a capture without its body."""

    max_body: int = DEFAULT_MAX_BODY
    max_headers: int = DEFAULT_MAX_HEADERS
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES

    def headers_over(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """Why these headers are refused, or None when they are within the limits."""
        if len(headers) > self.max_headers:
            return f"{len(headers):,} headers, over the limit of {self.max_headers}"
        size = headers_size(headers)
        if size > self.max_header_bytes:
            return (
                f"headers of {size:,} bytes, over the limit of {limit_text(self.max_header_bytes)}"
            )
        return None

    def headers_kept(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The first headers of a refused request, as many as the limits allow."""
        kept, size = [], 0
        for name, value in headers[: self.max_headers]:
            size += len(name) + len(value) + 4
            if size > self.max_header_bytes:
                break
            kept.append((name, value))
        return kept

    def body_over(self, size: int, declared: bool) -> str:
        """The 413 message for a body of `size` bytes (declared, or seen so far)."""
        how = f"{size:,} bytes (its Content-Length)" if declared else f"at least {size:,} bytes"
        return (
            f"body of {how} is over the --max-body limit of {limit_text(self.max_body)}; "
            "raise it with --max-body"
        )


def build_capture(
    validator: Validator,
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    remote: str,
    raw: bytes,
    *,
    max_body: int = DEFAULT_MAX_BODY,
    received_at: str | None = None,
) -> Capture:
    """`max_body` bounds what a compressed body may decode to; `received_at` is when the
    request came in, for a capture built later on a worker thread."""
    received_at = received_at or _now()
    parsed = read_body(raw, headers, max_body)
    if parsed.status == JSON:
        found, validation = judge(validator, method, path, query, headers, parsed.body)
    else:
        found = classify(method, path, query, headers, None)
        validation = Validation(parsed.status, None, (parsed.problem,) if parsed.problem else ())
    capture = Capture(
        received_at=received_at,
        method=method,
        path=path,
        query=query,
        headers=headers,
        remote=remote,
        raw=raw,
        body=parsed.body,
        provider=found.provider,
        event=found.event,
        instance=found.instance,
        route=found.route,
        validation=validation,
        warnings=[*found.warnings, *parsed.warnings],
        decoded_size=parsed.decoded_size,
    )
    if parsed.status == TOO_LARGE and parsed.problem is not None:
        capture.answer = Answer(413, 0, parsed.problem.message)
    elif parsed.body is not None:
        capture._parse = _parse_again
        chat_of(capture)  # while the body is at hand: a list row needs it, not the body
    return capture


def _parse_again(capture: Capture) -> Any:
    """A released body, from the bytes it was parsed from (Capture.release_body)."""
    limit = max(len(capture.raw), capture.decoded_size or 0)
    return read_body(capture.raw, capture.headers, limit).body


def refused_capture(
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    remote: str,
    size: int,
    status: int,
    reason: str,
) -> Capture:
    """The record of a request refused before its body was read (over --max-body, or over
    the header limits): who sent what where, the size it came with, and the answer."""
    found = classify(method, path, query, headers, None)
    return Capture(
        received_at=_now(),
        method=method,
        path=path,
        query=query,
        headers=headers,
        remote=remote,
        raw=b"",
        body=None,
        provider=found.provider,
        event=found.event,
        instance=found.instance,
        route=found.route,
        validation=Validation(TOO_LARGE, None, (Problem("$", reason),)),
        warnings=list(found.warnings),
        answer=Answer(status, 0, reason),
        refused_size=size or None,
    )


def received_now() -> str:
    """The time of arrival as a capture records it."""
    return _now()


def _now() -> str:
    """The time as the capture record has it (`2026-01-02T03:04:05.123456Z`). The date and
    time up to the second are formatted once a second: strftime took a tenth of the capture's
    own cost. One tuple holds the second and its text, so threads never mix two seconds."""
    global _second
    now = time.time()
    whole = int(now)
    second = _second
    if second[0] != whole:
        second = _second = (
            whole,
            datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
        )
    return f"{second[1]}.{int((now - whole) * 1_000_000):06d}Z"


_second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

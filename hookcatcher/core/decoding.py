"""A body's bytes before they are JSON: Content-Encoding undone (gzip, deflate; bounded in
decoded size and in gzip members, since a small body can decode to gigabytes) and a form's
fields read (urlencoded or multipart). Apart from core/body's JSON parse because redaction
undoes the same codings to hide secrets in the bytes, and the bounds here are their own
story."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from typing import Any, cast
from urllib.parse import parse_qsl

from hookcatcher.core.units import limit_text

__all__ = [
    "FORM_TYPES",
    "MAX_MEMBERS",
    "FormError",
    "Undecodable",
    "content_codings",
    "decode_content",
    "form_fields",
]


_INFLATE = {
    "gzip": (16 + zlib.MAX_WBITS,),
    "x-gzip": (16 + zlib.MAX_WBITS,),
    # RFC 9110 deflate is zlib-wrapped; some senders send it raw.
    "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS),
}


# gzip allows members one after another; a sender writes one. Each member costs a fresh
# inflater, so a body of 20-byte empty members would make a 40 MB body two million of them.
MAX_MEMBERS = 1000


# Compressed input is fed in steps of this size: what follows a member's end is copied once
# by zlib (unused_data), so a step bounds that copy instead of the rest of the body.
_INFLATE_STEP = 64 * 1024


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Undecodable(Exception):
    """A Content-Encoding that could not be undone; `too_large` when a bound was crossed
    (the body is then too large, not just unreadable)."""

    def __init__(self, message: str, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


class FormError(ValueError):
    """A body labelled as a form whose fields cannot be read, and why."""


def content_codings(header: str) -> list[str]:
    """The codings applied, in order, without `identity` (which changes nothing)."""
    return [
        coding
        for part in header.split(",")
        if (coding := part.strip().lower()) and coding != "identity"
    ]


def decode_content(raw: bytes, codings: list[str], limit: int) -> bytes:
    """The bytes with every coding undone, the last applied first."""
    data = raw
    for coding in reversed(codings):
        if coding not in _INFLATE:
            raise Undecodable(
                f"Content-Encoding {coding} is not supported (gzip and "
                "deflate are): kept as received, not parsed"
            )
        data = _inflated(data, coding, limit)
    return data


def _inflated(data: bytes, coding: str, limit: int) -> bytes:
    """One coding undone, never to more than `limit` bytes: a small body can decode to
    gigabytes, so it is inflated in one bounded step, not trusted."""
    error: zlib.error | None = None
    for wbits in _INFLATE[coding]:
        try:
            return _inflate(data, wbits, coding, limit)
        except zlib.error as exc:
            error = error or exc
    raise Undecodable(
        f"the body is not valid {coding} data ({error}): kept as received, not parsed"
    )


def _inflate(data: bytes, wbits: int, coding: str, limit: int) -> bytes:
    """Members decoded in one pass over the input (offsets into it, never a copy of the rest
    per member), to at most `limit` bytes and MAX_MEMBERS members: over either the body is
    too large, and the message names which bound it crossed."""
    view, size = memoryview(data), len(data)
    out: list[bytes] = []
    total = position = members = 0
    while True:
        members += 1
        if members > MAX_MEMBERS:
            raise Undecodable(
                f"the {coding} body holds more than {MAX_MEMBERS:,} {coding} "
                f"members one after another, over the limit of "
                f"{MAX_MEMBERS:,} members (a sender writes one)",
                too_large=True,
            )
        inflater = zlib.decompressobj(wbits)
        while not inflater.eof:
            if position >= size:
                raise Undecodable(
                    f"the {coding} body is cut short (its data ends "
                    "mid-stream): kept as received, not parsed"
                )
            step = view[position : position + _INFLATE_STEP]
            chunk = inflater.decompress(step, limit + 1 - total)
            total += len(chunk)
            if total > limit:
                raise Undecodable(
                    f"the {coding} body decodes to more than the --max-body "
                    f"limit of {limit_text(limit)}; raise it with --max-body",
                    too_large=True,
                )
            out.append(chunk)
            position += len(step) - len(inflater.unused_data) - len(inflater.unconsumed_tail)
        if position >= size or wbits != _INFLATE["gzip"][0]:
            return b"".join(out)  # gzip may hold several members, one after another


def form_fields(data: bytes, media: str, content_type: str) -> dict[str, Any]:
    """A form's fields by name (a repeated name: the list of its values); a file part as
    its filename, type and size. FormError says why there are none."""
    if media == "multipart/form-data":
        return _multipart(data, content_type)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormError(f"form-encoded body is not UTF-8 text (byte {exc.start})") from None
    return _fields(parse_qsl(text, keep_blank_values=True))


def _multipart(data: bytes, content_type: str) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    # compat32: the modern policy parses each part's headers into objects, 190 us a part
    # (8 s for a form of 40,000 parts); this one reads them as text, eight times faster.
    message = BytesParser(policy=policy.compat32).parsebytes(head + data)
    if message.get_boundary() is None:
        raise FormError(
            "multipart/form-data body without a boundary in its Content-Type: "
            "its parts cannot be told apart"
        )
    if not message.is_multipart():
        raise FormError(
            f"multipart/form-data body without a part delimited by its boundary "
            f"{message.get_boundary()!r}"
        )
    pairs: list[tuple[str, Any]] = []
    # A multipart message's payload is the list of its parts.
    parts = cast(list[Message], message.get_payload())
    for index, part in enumerate(parts, 1):
        name = part.get_param("name", header="content-disposition")
        name = collapse_rfc2231_value(name) if name is not None else f"(part {index})"
        filename = part.get_filename()
        # Decoded: bytes, or None for a part that is itself multipart (typeshed's type also
        # allows a Message, which decoding never gives).
        payload = cast("bytes | None", part.get_payload(decode=True)) or b""
        if filename is None and part.get_content_maintype() == "text":
            try:
                pairs.append((name, payload.decode(part.get_content_charset() or "utf-8")))
                continue
            except (UnicodeDecodeError, LookupError):
                pass
        pairs.append(
            (
                name,
                {
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "size": len(payload),
                },
            )
        )
    return _fields(pairs)


def _fields(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    grouped: dict[str, list[Any]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}

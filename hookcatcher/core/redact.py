"""A captured request with its secrets hidden: headers, body, raw bytes and messages.

Every export (HAR, JSON Lines, curl scripts, fixture files), serve's printed lines and every
screen of the inspector read a capture through `redacted()`, so a shared HAR, a pasted curl
command, a terminal log or a committed fixture does not carry a gateway's credentials. The
stored capture keeps the real bytes, and replays and deliveries send them: redaction is for
what people read, never for what is sent. Which values are secrets is core/secrets.py's
rule; this module applies it to a whole capture.

How: the value becomes `[redacted]`; an authorization scheme stays readable
(`Bearer [redacted]`). `null`, booleans and empty strings are left as they are: there is
nothing in them to hide, and the body keeps its shape. A JSON body stays valid JSON with the
same keys: the hidden strings are swapped in place, so the sender's layout and key order
survive, and when that cannot be done exactly the body is written again as compact JSON
(repeated keys kept). A compressed body (gzip, deflate) is redacted as it decodes: the copy
carries the decoded, redacted bytes and no Content-Encoding, since the encoding no longer
describes them; one with nothing to hide keeps its bytes as received. Validation messages
and warnings lose any secret they quote, in any spelling a message uses.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import orjson

from hookcatcher.core.body import DEFAULT_MAX_BODY, parse_body
from hookcatcher.core.capture import Answer, Capture, Forward, Problem, Route, Validation
from hookcatcher.core.decoding import Undecodable, content_codings, decode_content
from hookcatcher.core.secrets import (
    MARKER,
    header_value,
    hidden,
    is_secret_name,
    redacted_text,
    scrubbed,
)

__all__ = ["redacted"]

_PART_NAME = re.compile(rb'(?:^|[;\s])name="([^"\r\n]*)"', re.IGNORECASE)
_PLAIN_PART = re.compile(rb"name\*|=\?|content-transfer-encoding|multipart/", re.IGNORECASE)


def _raw_text(raw: bytes) -> bytes:
    """Bytes redacted as free text, every byte that is no secret kept as it was."""
    text = raw.decode("latin-1")
    shown = redacted_text(text)
    return raw if shown == text else shown.encode("latin-1")


# -- a whole capture


def redacted(capture: Capture) -> Capture:
    """A copy of the capture with its secrets hidden, or the capture itself when it has
    none. The capture given is never changed."""
    headers = [(redacted_text(name), header_value(name, value)) for name, value in capture.headers]
    swaps: dict[Any, str] = {}
    status = capture.validation.status
    if capture.is_json or status == "form":
        body = _value(capture.body, None, swaps)
    else:
        body = capture.body
    raw, decoded_size = capture.raw, capture.decoded_size
    plain = _decoded_raw(capture)
    shown = _raw_shown(capture, plain if plain is not None else raw, body, swaps)
    if plain is not None and shown != plain:
        # Compressed bytes cannot be edited: the copy carries the body decoded and redacted,
        # and drops the Content-Encoding that no longer describes it.
        raw, decoded_size = shown, None
        headers = [(n, v) for n, v in headers if n.lower() != "content-encoding"]
    elif plain is None:
        raw = shown
    texts = {
        name: redacted_text(getattr(capture, name))
        for name in ("method", "path", "query", "provider")
    }
    event, instance = (
        None if value is None else redacted_text(value)
        for value in (capture.event, capture.instance)
    )
    route = Route(
        capture.route.mode,
        redacted_text(capture.route.base),
        None if capture.route.suffix is None else redacted_text(capture.route.suffix),
    )
    secrets = {str(old): MARKER for old in swaps}
    validation = capture.validation
    problems = tuple(
        Problem(redacted_text(p.path), scrubbed(p.message, secrets)) for p in validation.errors
    )
    warnings = [scrubbed(warning, secrets) for warning in capture.warnings]
    answer = capture.answer
    if answer.reason is not None:
        answer = Answer(answer.status, answer.delay_ms, redacted_text(answer.reason))
    forwards = [_forward(forward, secrets) for forward in capture.forwards]
    if (
        not swaps
        and headers == capture.headers
        and raw == capture.raw
        and all(texts[name] == getattr(capture, name) for name in texts)
        and (event, instance, route) == (capture.event, capture.instance, capture.route)
        and problems == validation.errors
        and warnings == capture.warnings
        and answer == capture.answer
        and forwards == capture.forwards
    ):
        return capture
    return replace(
        capture,
        headers=headers,
        raw=raw,
        body=body,
        route=route,
        event=event,
        instance=instance,
        decoded_size=decoded_size,
        answer=answer,
        forwards=forwards,
        validation=Validation(status, validation.schema, problems),
        warnings=warnings,
        method=texts["method"],
        path=texts["path"],
        query=texts["query"],
        provider=texts["provider"],
    )


def _forward(forward: Forward, secrets: dict[str, str]) -> Forward:
    """A delivery to the app with the secrets hidden: in the URL (the capture's query rides
    along), the app's answer headers and its body (an app may echo what it was sent)."""
    return replace(
        forward,
        target=redacted_text(forward.target),
        url=redacted_text(forward.url),
        response_headers=tuple(
            (name, header_value(name, value)) for name, value in forward.response_headers
        ),
        response_body=scrubbed(redacted_text(forward.response_body), secrets),
        error=None if forward.error is None else redacted_text(forward.error),
    )


def _decoded_raw(capture: Capture) -> bytes | None:
    """The body with its Content-Encoding undone, as ingest undoes it; None when it has
    none, or one that cannot be undone (then its bytes are shown as any binary body is)."""
    coding = None
    for name, value in capture.headers:
        if name.lower() == "content-encoding":
            coding = value
    codings = content_codings(coding) if coding and capture.raw else []
    if not codings or capture.validation.status == "too-large":
        return None  # nothing to undo, or it decodes past the limit (a bomb is not opened)
    try:
        return decode_content(capture.raw, codings, capture.decoded_size or DEFAULT_MAX_BODY)
    except Undecodable:
        return None


def _raw_shown(capture: Capture, data: bytes, body: Any, swaps: dict[Any, str]) -> bytes:
    """The (decoded) body bytes with their secrets hidden; `data` itself when none are."""
    if capture.is_json:
        pairs = _repeated_keys(data, capture.body)
        if not swaps and pairs is None:
            return data
        if pairs is not None:
            pairs = _value(pairs, None, swaps)
        return _json_bytes(data, body, swaps, pairs)
    media = (capture.header("content-type") or "").partition(";")[0].strip().lower()
    if media == "multipart/form-data":
        data = _multipart_hidden(data, capture.header("content-type") or "")
    elif media == "application/x-www-form-urlencoded" and capture.validation.status == "form":
        data = _form_hidden(data)
    return _raw_text(data)


def _value(value: Any, secret: str | None, swaps: dict[Any, str]) -> Any:
    """`value` with secrets hidden; `secret` is the name of the secret field it lies under.
    Each replaced value or key is noted in `swaps` (old -> new) to edit the raw bytes with.
    An object read with its repeated keys (`_Pairs`) keeps them."""
    if isinstance(value, _Pairs):
        return _Pairs(
            (_key(key, swaps), _value(item, key if is_secret_name(key) else secret, swaps))
            for key, item in value
        )
    if isinstance(value, dict):
        return {
            _key(key, swaps): _value(item, key if is_secret_name(key) else secret, swaps)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_value(item, secret, swaps) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if secret is not None and isinstance(value, (str, int, float)):
        new = hidden(secret, str(value))
    elif isinstance(value, str):
        return _text(value, swaps)
    else:
        return value
    if new != value:
        swaps[value] = new
    return new


def _text(value: str, swaps: dict[Any, str]) -> str:
    new = redacted_text(value)
    if new != value:
        swaps[value] = new
    return new


def _key(key: str, swaps: dict[Any, str]) -> str:
    new = _key_text(key)
    if new != key:
        swaps[key] = new
    return new


_key_text = lru_cache(maxsize=4096)(redacted_text)  # keys repeat, values seldom do


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs in order, a repeated key included."""


def _repeated_keys(raw: bytes, body: Any) -> _Pairs | None:
    """The body read again with repeated keys kept, when it has any (their earlier values
    are in the bytes though not in the parsed body); else None. Counting colons settles it
    for most bodies (as ingest's fast parse does): without `\\u` escapes, the parsed body
    written out has as many as the bytes exactly when no key was repeated."""
    if b"\\u" not in raw:
        try:
            if raw.count(b":") == orjson.dumps(body).count(b":"):
                return None
        except (TypeError, orjson.JSONEncodeError):
            pass  # an integer past 64 bits: read it the careful way
    try:
        pairs = json.loads(raw, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return None
    return pairs if _repeats(pairs) else None


def _repeats(node: Any) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, _Pairs):
            if len({key for key, _ in item}) != len(item):
                return True
            stack.extend(value for _, value in item)
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _json_bytes(raw: bytes, body: Any, swaps: dict[Any, str], pairs: _Pairs | None) -> bytes:
    """The raw JSON with the hidden values swapped in place, checked by parsing it back
    (repeated keys and all); compact JSON when a swap could not be exact (an escaped
    secret, a secret that also appears inside another value)."""
    try:
        edited: str | None = raw.decode("utf-8")
    except UnicodeDecodeError:  # UTF-16 or UTF-32 JSON, which json.loads also reads
        edited = None
    if edited is not None:
        for old, new in swaps.items():
            edited = edited.replace(
                json.dumps(old, ensure_ascii=False), json.dumps(new, ensure_ascii=False)
            )
        candidate = edited.encode("utf-8")
        parsed, problem = parse_body(candidate)
        if (
            problem is None
            and parsed == body
            and (pairs is None or json.loads(candidate, object_pairs_hook=_Pairs) == pairs)
        ):
            return candidate
    return _compact(pairs if pairs is not None else body).encode("utf-8")


def _compact(value: Any) -> str:
    if isinstance(value, _Pairs):
        return (
            "{"
            + ",".join(
                f"{json.dumps(key, ensure_ascii=False)}:{_compact(item)}" for key, item in value
            )
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_compact(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _form_hidden(raw: bytes) -> bytes:
    """A urlencoded form: a secret field's value hidden, and every other value decoded,
    redacted as text and encoded again (`url=...%3Ftoken%3D...` hides the token)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    fields = text.split("&")
    for index, field in enumerate(fields):
        name, equals, value = field.partition("=")
        if not equals or not value:
            continue
        if is_secret_name(unquote_plus(name)):
            fields[index] = f"{name}={MARKER}"
            continue
        decoded = unquote_plus(value)
        hidden = redacted_text(decoded)
        if hidden != decoded:
            fields[index] = f"{name}={quote_plus(hidden, safe='[]')}"
    return "&".join(fields).encode("utf-8")


def _multipart_hidden(raw: bytes, content_type: str) -> bytes:
    """A multipart body with the content of each secret-named part hidden, and of each
    part whose transfer encoding (base64, quoted-printable) would hide a secret from the
    text pass; nested multipart parts likewise."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_boundary()
    if not boundary:
        return raw
    delimiter = b"--" + boundary.encode("latin-1", "replace")
    pieces = raw.split(delimiter)
    return delimiter.join([pieces[0], *(_part_hidden(piece) for piece in pieces[1:])])


def _part_hidden(piece: bytes) -> bytes:
    """One part, from just after its delimiter to just before the next."""
    if piece.startswith(b"--"):
        return piece  # the closing delimiter, then the epilogue
    line_end = piece.find(b"\n") + 1
    if line_end == 0:
        return piece
    rest = piece[line_end:]
    if rest.startswith((b"\r\n", b"\n")):  # a part without headers
        head, start = b"", line_end + (2 if rest.startswith(b"\r\n") else 1)
    else:
        found, size = rest.find(b"\r\n\r\n"), 4
        if found < 0:
            found, size = rest.find(b"\n\n"), 2
        if found < 0:
            return piece
        head, start = rest[:found], line_end + found + size
    content = piece[start:]
    tail = 2 if content.endswith(b"\r\n") else 1 if content.endswith(b"\n") else 0
    content = content[: len(content) - tail]
    if not content:
        return piece
    if _PLAIN_PART.search(head) is None:
        named = _PART_NAME.search(head)
        name = named.group(1).decode("utf-8", "replace") if named else None
        if name is None or not is_secret_name(name):
            return piece
        return piece[:start] + MARKER.encode() + piece[len(piece) - tail :]
    part = BytesParser(policy=policy.HTTP).parsebytes(head + b"\r\n\r\n" + content)
    name = part.get_param("name", header="content-disposition")
    name = collapse_rfc2231_value(name) if name is not None else None
    if name is not None and is_secret_name(name):
        content = MARKER.encode()
    elif part.get_content_maintype() == "multipart":
        content = _multipart_hidden(content, part.get("content-type", ""))
    elif part.get("content-transfer-encoding") is not None:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and _raw_text(payload) != payload:
            content = MARKER.encode()
    return piece[:start] + content + piece[len(piece) - tail :]

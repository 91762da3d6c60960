"""Secrets in a captured request: which values are secrets, and how they are hidden.

Every export (HAR, JSON Lines, curl scripts, fixture files) and every screen of the inspector
reads a capture through `redacted()`, so a shared HAR, a pasted curl command or a committed
fixture does not carry a gateway's credentials. The stored capture keeps the real bytes, and
replays and deliveries send them: redaction is for what people read, never for what is sent.

What is a secret:

- Header values of `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, and of any
  header whose name contains `token`, `secret`, `password`, `apikey`, `api-key`, `api_key`
  or `auth` (`apikey`, `x-api-key`, `x-token`, `x-auth-token`...): the custom headers an
  Evolution or Whapi webhook is configured with carry credentials under names the user chose,
  and Evolution's `jwt_key` becomes `Authorization: Bearer <jwt>`.
- Body fields, at any depth, and query parameters whose name is one of `SECRET_NAMES`
  (compared without case, `-` and `_`: `apikey`, `api_key` and `apiKey` are one name):
  Evolution's `apikey` (the instance token) and its error webhook's `api_key`, `jwt` (new.jwt),
  CodeChat v1.3's renewed `auth`, and the usual `token`, `password`, `secret`... Query
  parameters are also hidden inside URLs in the body (a webhook URL configured with
  `?token=`). WhatsApp's own `mediaKey` and `messageSecret` are message data, not
  credentials for anything the app talks to, and stay visible.
- JWTs anywhere: three base64url parts, the first starting `eyJ`.

How: the value becomes `[redacted]`; an authorization scheme stays readable
(`Bearer [redacted]`). `null`, booleans and empty strings are left as they are: there is
nothing in them to hide, and the body keeps its shape. A JSON body stays valid JSON with the
same keys: the hidden strings are swapped in place, so the sender's layout and key order
survive, and when that cannot be done exactly the body is written again as compact JSON.
Bytes that are not JSON are redacted by pattern (`name=value`, `"name": "value"`, JWTs).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Callable
from urllib.parse import unquote

from .capture import Capture, Problem, Validation
from .ingest import parse_body

__all__ = ["MARKER", "SECRET_NAMES", "header_value", "is_secret_header", "is_secret_name",
           "redacted", "redacted_text"]

MARKER = "[redacted]"
SECRET_NAMES = frozenset({
    "apikey", "token", "accesstoken", "refreshtoken", "jwt", "jwtkey", "auth", "authorization",
    "password", "passwd", "secret", "clientsecret",
})
_HEADER_PARTS = ("token", "secret", "password", "apikey", "api-key", "api_key", "auth")
_COOKIES = frozenset({"cookie", "set-cookie"})
_SCHEMED = frozenset({"authorization", "proxyauthorization"})

# Written once as text, compiled for str (body values, headers) and for bytes (raw bodies
# that are not JSON, which may not even be UTF-8). Every delimiter is an ASCII character,
# so a multi-byte UTF-8 character is never cut in two.
_JWT = r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
_PARAM = r"(^|[^A-Za-z0-9_.~%-])([A-Za-z0-9_.~%-]+)=([^&;#\s\"'<>]*)"
_PAIR = r"\"([^\"\\]{1,100})\"([ \t\r\n]*:[ \t\r\n]*)(\"(?:[^\"\\]|\\.)*\"|-?[0-9][0-9.eE+-]*)"
_JWT_TEXT, _JWT_BYTES = re.compile(_JWT), re.compile(_JWT.encode())
_PARAM_TEXT, _PARAM_BYTES = re.compile(_PARAM), re.compile(_PARAM.encode())
_PAIR_BYTES = re.compile(_PAIR.encode())
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9._~+-]*) +\S")


def is_secret_name(name: str) -> bool:
    """A body field or query parameter that holds a secret."""
    return _normal(name) in SECRET_NAMES


def is_secret_header(name: str) -> bool:
    """By parts of the name, not a list: custom webhook headers are named by the user."""
    lowered = name.lower()
    return lowered in _COOKIES or any(part in lowered for part in _HEADER_PARTS)


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _hidden(name: str, value: str) -> str:
    """A secret's value as shown: the marker, after the scheme of an authorization value."""
    if not value:
        return value
    scheme = _SCHEME.match(value) if _normal(name) in _SCHEMED else None
    return f"{scheme.group(1)} {MARKER}" if scheme else MARKER


def header_value(name: str, value: str) -> str:
    """A header's value as exports and screens show it."""
    return _hidden(name, value) if is_secret_header(name) else redacted_text(value)


def redacted_text(value: str) -> str:
    """Free text (a header, a query string, a string in a body) with its JWTs and secret
    `name=value` parameters hidden."""
    if "=" in value:
        value = _PARAM_TEXT.sub(_param(MARKER), value)
    return _JWT_TEXT.sub(MARKER, value) if "eyJ" in value else value


def _param(marker: Any) -> Callable[[re.Match[Any]], Any]:
    def swap(match: re.Match[Any]) -> Any:
        lead, name, value = match.groups()
        raw_name = name.decode("latin-1") if isinstance(name, bytes) else name
        if not value or not is_secret_name(unquote(raw_name)):
            return match.group(0)
        return lead + name + b"=" + marker if isinstance(name, bytes) else f"{lead}{name}={marker}"
    return swap


def redacted(capture: Capture) -> Capture:
    """A copy of the capture with its secrets hidden, or the capture itself when it has
    none. The capture given is never changed."""
    headers = [(name, header_value(name, value)) for name, value in capture.headers]
    swaps: dict[Any, str] = {}
    decoded_size = capture.decoded_size
    if capture.is_json:
        body = _value(capture.body, None, swaps)
        raw = capture.raw
        if swaps and decoded_size is None:
            raw = _json_bytes(capture.raw, body, swaps)
        elif swaps:
            # Compressed bytes cannot be edited in place: the copy carries the body as plain
            # JSON, and drops the Content-Encoding that no longer describes it.
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers = [(n, v) for n, v in headers if n.lower() != "content-encoding"]
            decoded_size = None
    elif capture.validation.status == "form":  # its fields are in `body` as well as in raw
        body, raw = _value(capture.body, None, swaps), _raw_text(capture.raw)
    else:
        body, raw = capture.body, _raw_text(capture.raw)
    query, path = redacted_text(capture.query), redacted_text(capture.path)
    route = replace(capture.route, base=redacted_text(capture.route.base))
    if (not swaps and headers == capture.headers and raw == capture.raw
            and query == capture.query and path == capture.path and route == capture.route):
        return capture
    validation = capture.validation
    problems = tuple(Problem(p.path, _scrubbed(p.message, swaps)) for p in validation.errors)
    return replace(
        capture, headers=headers, query=query, path=path, raw=raw, body=body, route=route,
        decoded_size=decoded_size,
        validation=Validation(validation.status, validation.schema, problems),
        warnings=[_scrubbed(warning, swaps) for warning in capture.warnings],
    )


def _value(value: Any, secret: str | None, swaps: dict[Any, str]) -> Any:
    """`value` with secrets hidden; `secret` is the name of the secret field it lies under.
    Each replaced value is noted in `swaps` (old -> new) to edit the raw bytes with."""
    if isinstance(value, dict):
        return {key: _value(item, key if is_secret_name(key) else secret, swaps)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_value(item, secret, swaps) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if secret is not None and isinstance(value, (str, int, float)):
        new = _hidden(secret, str(value))
    elif isinstance(value, str):
        new = redacted_text(value)
    else:
        return value
    if new != value:
        swaps[value] = new
    return new


def _json_bytes(raw: bytes, body: Any, swaps: dict[Any, str]) -> bytes:
    """The raw JSON with the hidden values swapped in place, checked by parsing it back;
    compact JSON when a swap could not be exact (an escaped secret, a secret that also
    appears as a key or inside another value)."""
    try:
        edited = raw.decode("utf-8")
    except UnicodeDecodeError:  # UTF-16 or UTF-32 JSON, which json.loads also reads
        edited = None
    if edited is not None:
        for old, new in swaps.items():
            edited = edited.replace(json.dumps(old, ensure_ascii=False),
                                    json.dumps(new, ensure_ascii=False))
        candidate = edited.encode("utf-8")
        parsed, problem = parse_body(candidate)
        if problem is None and parsed == body:
            return candidate
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _raw_text(raw: bytes) -> bytes:
    """Bytes that are not JSON: secret `name=value` pairs (a form body, a query), secret
    `"name": value` pairs (broken JSON) and JWTs hidden; every other byte kept."""
    marker = MARKER.encode()
    if b"=" in raw:
        raw = _PARAM_BYTES.sub(_param(marker), raw)
    if b'"' in raw:
        raw = _PAIR_BYTES.sub(_pair(marker), raw)
    return _JWT_BYTES.sub(marker, raw) if b"eyJ" in raw else raw


def _pair(marker: bytes) -> Callable[[re.Match[bytes]], bytes]:
    def swap(match: re.Match[bytes]) -> bytes:
        name, between, value = match.groups()
        if value == b'""' or not is_secret_name(name.decode("latin-1")):
            return match.group(0)
        return b'"' + name + b'"' + between + b'"' + marker + b'"'
    return swap


def _scrubbed(message: str, swaps: dict[Any, str]) -> str:
    """A validation message or warning without the secrets it may quote (`got string
    "..."`, cut at 57 characters). Values under 4 characters are left: `1` would also hit
    `$.messages[1]`, and a secret that short hides nothing anyway."""
    for old in swaps:
        shown = str(old)
        if len(shown) >= 4:
            message = message.replace(shown if len(shown) <= 60 else shown[:57], MARKER)
    return redacted_text(message)

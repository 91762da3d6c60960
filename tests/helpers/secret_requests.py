"""One body full of secrets, sent in every form hookcatcher reads: for the tests that every
export, printed line and screen hides them all (tests/test_redaction_everywhere.py,
tests/tui/test_redaction.py).

Each secret is a distinct string, so a leak says which rule failed. `disclosed` undoes what
an output may wrap a body in (base64, printf escapes, gzip, deflate, percent-encoding), so
a secret cannot hide from the check by being encoded."""

from __future__ import annotations

import base64
import gzip
import json
import re
import shlex
import zlib
from collections.abc import Iterable
from urllib.parse import quote, quote_plus


def _b64(text: str, padded: bool) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if padded else encoded.rstrip("=")


def _jwt(header: str, payload: str, signature: str, padded: bool) -> str:
    return ".".join(_b64(part, padded) for part in (header, payload, signature))


# A JWT whose header has a space after the brace (`eyAi`), padded: the instance name.
INSTANCE_JWT = _jwt(
    '{ "alg": "HS256", "typ": "JWT" }',
    '{ "sub": "owner-4411", "n": 1 }',
    "signature-of-the-instance-jwt",
    padded=True,
)
BEARER_JWT = _jwt(
    '{"alg":"HS256","typ":"JWT"}',
    '{"app":"evolution","action":"webhook"}',
    "signature-of-the-bearer-jwt",
    padded=False,
)
TEXT_JWT = _jwt('{"alg":"none"}', '{"who":"text-body"}', "signature-of-the-text-jwt", padded=True)
NON_ASCII_JWT = "sécrèt-jwt-çãõ-0009"
WHAPI_CHANNEL = "whapi-channel-token-0023-abcdef"
WEBHOOK_TOKEN = "webhook-url-token-0024"

SECRETS: tuple[str, ...] = (
    INSTANCE_JWT,
    BEARER_JWT,
    TEXT_JWT,
    NON_ASCII_JWT,
    "dup-first-apikey-0001",
    "dup-last-apikey-0002",
    "deep-token-object-0003",
    "deep-token-list-0004",
    "api-token-field-0005",
    "secret-key-field-0006",
    "url-query-token-0007",
    "json-in-string-0008",
    "query-token-0010",
    "query-api-token-0011",
    "x-api-key-header-0012",
    "multipart-apikey-0013",
    "multipart-data-apikey-0014",
    "multipart-list-apikey-0015",
    "multipart-json-token-0016",
    "gzip-form-apikey-0017",
    "gzip-form-bracket-0018",
    "gzip-form-nested-0019",
    "gzip-form-url-token-0020",
    "text-apikey-list-0021",
    "text-token-object-0022",
    "deflate-json-token-0025",
    WHAPI_CHANNEL,
    WEBHOOK_TOKEN,
)
# The parts of each JWT too: half a JWT hidden is a JWT shown.
_PIECES = tuple(
    part
    for jwt in (INSTANCE_JWT, BEARER_JWT, TEXT_JWT)
    for part in jwt.split(".")
    if len(part) >= 12
)

_JSON = (
    "{\n"
    '  "event": "new.jwt",\n'
    f'  "instance": "{INSTANCE_JWT}",\n'
    '  "apikey": "dup-first-apikey-0001",\n'
    f'  "data": {{"jwt": {json.dumps(NON_ASCII_JWT, ensure_ascii=False)},'
    ' "instanceName": "support"},\n'
    '  "token": {"value": "deep-token-object-0003", "list": ["deep-token-list-0004", true]},\n'
    '  "api_token": "api-token-field-0005",\n'
    '  "secret_key": "secret-key-field-0006",\n'
    '  "destination": "https://app.example/hook?token=url-query-token-0007&x=1",\n'
    '  "note": "{\\"apikey\\": [\\"json-in-string-0008\\"]}",\n'
    '  "apikey": "dup-last-apikey-0002"\n'
    "}\n"
).encode()

_MULTIPART = (
    b'--XyZ\r\nContent-Disposition: form-data; name="apikey"\r\n\r\n'
    b"multipart-apikey-0013\r\n"
    b'--XyZ\r\nContent-Disposition: form-data; name="data[apikey]"\r\n\r\n'
    b"multipart-data-apikey-0014\r\n"
    b'--XyZ\r\nContent-Disposition: form-data; name="apikey[]"\r\n\r\n'
    b"multipart-list-apikey-0015\r\n"
    b'--XyZ\r\nContent-Disposition: form-data; name="payload"\r\n'
    b"Content-Type: application/json\r\n\r\n"
    b'{"token": {"value": "multipart-json-token-0016"}}\r\n'
    b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
    b"--XyZ--\r\n"
)

_FORM = gzip.compress(
    b"apikey=gzip-form-apikey-0017&apikey%5B%5D=gzip-form-bracket-0018"
    b"&data[apikey]=gzip-form-nested-0019"
    b"&url=https%3A%2F%2Fapp.example%2F%3Ftoken%3Dgzip-form-url-token-0020"
    b"&name=Ana"
)

_TEXT = (
    b'broken {"apikey": ["text-apikey-list-0021", {"x": 1}], '
    b'"token": {"a": ["text-token-object-0022"]}, "jwt": "' + TEXT_JWT.encode() + b'" ...'
)

_DEFLATED = zlib.compress(b'{"event": "custom.event", "token": "deflate-json-token-0025"}')

# (method, path with query, headers, raw body)
REQUESTS: tuple[tuple[str, str, list[tuple[str, str]], bytes], ...] = (
    (
        "POST",
        "/webhook?owner=5511999990000%40s.whatsapp.net&token=query-token-0010"
        "&api_token=query-api-token-0011",
        [
            ("content-type", "application/json"),
            ("authorization", f"Bearer {BEARER_JWT}"),
            ("x-api-key", "x-api-key-header-0012"),
        ],
        _JSON,
    ),
    ("POST", "/webhook", [("content-type", "multipart/form-data; boundary=XyZ")], _MULTIPART),
    (
        "POST",
        "/webhook",
        [("content-type", "application/x-www-form-urlencoded"), ("content-encoding", "gzip")],
        _FORM,
    ),
    ("POST", "/webhook", [("content-type", "text/plain")], _TEXT),
    (
        "POST",
        "/webhook",
        [("content-type", "application/json"), ("content-encoding", "deflate")],
        _DEFLATED,
    ),
)


def spellings(secret: str) -> set[str]:
    """The ways a secret can be written in an output."""
    return {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)}


def leaked(text: str) -> list[str]:
    """The secrets (or JWT parts) `text` shows, in any spelling."""
    return [
        secret
        for secret in (*SECRETS, *_PIECES)
        if any(spelling in text for spelling in spellings(secret))
    ]


def _unpacked(data: bytes) -> bytes:
    """Bytes with a gzip or deflate layer undone, when they have one."""
    for undo in (gzip.decompress, zlib.decompress, lambda b: zlib.decompress(b, -15)):
        try:
            return data + b"\n" + undo(data)
        except (OSError, zlib.error, EOFError):
            continue
    return data


def _text_of(data: bytes) -> str:
    return _unpacked(data).decode("utf-8", "replace")


def disclosed_har(text: str) -> str:
    """A HAR's text with every request body as a reader would get it back."""
    out = [text]
    for entry in json.loads(text)["log"]["entries"]:
        post = entry["request"].get("postData")
        if post is not None:
            data = (
                base64.b64decode(post["text"])
                if post.get("_encoding") == "base64"
                else post["text"].encode()
            )
            out.append(_text_of(data))
    return "\n".join(out)


def disclosed_jsonl(text: str) -> str:
    out = [text]
    for line in text.splitlines():
        item = json.loads(line)
        if "raw" in item:
            data = (
                base64.b64decode(item["raw"])
                if item["raw_encoding"] == "base64"
                else item["raw"].encode()
            )
            out.append(_text_of(data))
    return "\n".join(out)


def disclosed_curl(script: str) -> str:
    """A curl script with each body as the bytes it sends (printf's escapes undone)."""
    out = [script]
    words = shlex.split(script, comments=True)
    for word, following in zip(words, words[1:], strict=False):  # each word and the next
        if word == "printf":
            out.append(
                _text_of(
                    re.sub(
                        rb"\\([0-7]{3})",
                        lambda m: bytes([int(m.group(1), 8)]),
                        following.encode("latin-1", "replace"),
                    )
                )
            )
        elif word == "--data-binary" and following != "@-":
            out.append(_text_of(following.encode()))
    return "\n".join(out)


def assert_hidden(texts: Iterable[tuple[str, str]]) -> None:
    """Each (where, text): no secret in it."""
    found = {where: leaked(text) for where, text in texts}
    assert not any(found.values()), {where: secrets for where, secrets in found.items() if secrets}

"""What is a secret in a captured request, and hiding it in a name, a header's value or free
text: the rules that `core/redact.py` applies to whole captures (bodies, raw bytes,
messages), and that the inspector and serve's printed lines use on single values. The rules
live here and nowhere else.

What is a secret:

- Header values of `Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, and of any
  header whose name contains `token`, `secret`, `password`, `apikey`, `api-key`, `api_key`
  or `auth` (`apikey`, `x-api-key`, `x-token`, `x-auth-token`...): the custom headers an
  Evolution or Whapi webhook is configured with carry credentials under names the user chose,
  and Evolution's `jwt_key` becomes `Authorization: Bearer <jwt>`.
- Values under a name that is one of `SECRET_NAMES` (compared without case, `-` and `_`:
  `apikey`, `api_key` and `apiKey` are one name), wherever names are: JSON fields at any
  depth (every value of a repeated key, everything inside an object or array under the
  name), form and multipart fields, query parameters, `name=value` and `"name": value` in
  any text (a URL configured with `?token=`, JSON inside a string, a body that is not JSON).
  A bracketed or dotted name is a secret when one of its parts is (`apikey[]`,
  `data[apikey]`, `auth.user`). WhatsApp's own `mediaKey` and `messageSecret` are message
  data, not credentials for anything the app talks to, and stay visible.
- JWTs anywhere (the instance name, the path, a header, a body): base64url parts joined by
  dots, the first being a JSON object's (`eyJ` for `{"`, `eyAi` for `{ "`...), padded or not.
- A Whapi channel's name, which is its token (`instance_name`).

How: the value becomes `[redacted]`; an authorization scheme stays readable
(`Bearer [redacted]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import unquote

__all__ = [
    "MARKER",
    "SECRET_NAMES",
    "header_value",
    "hidden",
    "instance_name",
    "is_secret_header",
    "is_secret_name",
    "redacted_text",
    "scrubbed",
]

MARKER = "[redacted]"
SECRET_NAMES = frozenset(
    {
        "apikey",
        "apitoken",
        "token",
        "accesstoken",
        "refreshtoken",
        "authtoken",
        "idtoken",
        "sessiontoken",
        "jwt",
        "jwtkey",
        "auth",
        "authorization",
        "password",
        "passwd",
        "secret",
        "secretkey",
        "clientsecret",
        "privatekey",
    }
)
_HEADER_PARTS = ("token", "secret", "password", "apikey", "api-key", "api_key", "auth")
_COOKIES = frozenset({"cookie", "set-cookie"})
_SCHEMED = frozenset({"authorization", "proxyauthorization"})
_NAME_PARTS = re.compile(r"[\[\].]+")

# Text patterns. Bytes are read as Latin-1 (one character per byte, so nothing is lost or
# cut) and go through the same patterns; every delimiter is ASCII, so a multi-byte UTF-8
# character is never split, and re.ASCII keeps `\s` from matching a UTF-8 continuation byte.
# Each pattern starts its matches only where they can begin (a run's first character, a
# quote), so a hostile body costs linear time.
_PARAM = re.compile(r"(^|[^A-Za-z0-9_.~%\[\]-])([A-Za-z0-9_.~%\[\]-]+)=([^&;#\s\"'<>]*)", re.ASCII)
_KEY = re.compile(r'"([^"\\]{1,100})"[ \t\r\n]*:[ \t\r\n]*')
_STRING_REST = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BARE = re.compile(r"[^\s,\]}]+", re.ASCII)
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]|[^"\[\]{}]+', re.DOTALL)
_LITERALS = ("true", "false", "null")
# A JWT's first part is a JSON object in base64url: `{"` is eyJ, `{ "` eyAi, `{  ` eyAg,
# `{\n"` ewoi, `{\n ` ewog, `{\n\t` ewoJ, `{\r\n` ew0K, `{\t"` ewki, `{\t\t` ewkJ.
_JWT_START = re.compile(r"eyJ|eyA[ig]|ewo[igJ]|ew0K|ewk[iJ]")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_JWT_HEADER = 10  # shortest first part taken for a JWT's (`{"alg":"none"}` is 20)
_JWT_PARTS = 5  # a JWE has five

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9._~+-]*) +\S")


@lru_cache(maxsize=4096)  # a body repeats its keys: 5,000 messages, the same few dozen
def is_secret_name(name: str) -> bool:
    """A field, parameter or key whose value is a secret (`apikey`, `data[apikey]`)."""
    if _normal(name) in SECRET_NAMES:
        return True
    return ("[" in name or "." in name) and any(
        _normal(part) in SECRET_NAMES for part in _NAME_PARTS.split(name) if part
    )


def is_secret_header(name: str) -> bool:
    """By parts of the name, not a list: custom webhook headers are named by the user."""
    lowered = name.lower()
    return lowered in _COOKIES or any(part in lowered for part in _HEADER_PARTS)


def _normal(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def hidden(name: str, value: str) -> str:
    """A secret's value as shown: the marker, after the scheme of an authorization value."""
    if not value:
        return value
    scheme = _SCHEME.match(value) if _normal(name) in _SCHEMED else None
    return f"{scheme.group(1)} {MARKER}" if scheme else MARKER


def header_value(name: str, value: str) -> str:
    """A header's value as exports and screens show it."""
    return hidden(name, value) if is_secret_header(name) else redacted_text(value)


def instance_name(provider: str, name: str) -> str:
    """An instance's name as shown. A Whapi channel is named by its token, so it shows as
    `[redacted …5b2d]`: the last characters tell channels apart and open none."""
    if provider == "whapi" and name != "default":
        return f"[redacted …{name[-4:]}]" if len(name) >= 16 else MARKER
    return redacted_text(name)


def redacted_text(value: str) -> str:
    """Free text (a header, a query string, a string in a body, a name) with its JWTs and
    secret `name=value` and `"name": value` pairs hidden."""
    if "=" in value:
        value = _PARAM.sub(_param, value)
    if '"' in value and ":" in value:
        value = _pairs_hidden(value)
    return _jwts_hidden(value) if "." in value else value


def scrubbed(text: str, secrets: Mapping[str, str]) -> str:
    """`text` with each secret (a key of `secrets`) replaced by what it shows as, in every
    spelling a message may quote it (as is, JSON-escaped, repr'd, cut at 57 characters),
    then redacted as free text. Secrets under 4 characters are left: `1` would also hit
    `$.messages[1]`, and a secret that short hides nothing anyway."""
    spelled = {
        spelling: shown for secret, shown in secrets.items() for spelling in _spellings(secret)
    }
    for spelling in sorted(spelled, key=len, reverse=True):
        if spelling in text:
            text = text.replace(spelling, spelled[spelling])
    return redacted_text(text)


def _spellings(secret: str) -> set[str]:
    found: set[str] = set()
    for cut in (secret, secret[:57]):
        found.update(
            (cut, json.dumps(cut)[1:-1], json.dumps(cut, ensure_ascii=False)[1:-1], repr(cut)[1:-1])
        )
    return {spelling for spelling in found if len(spelling) >= 4}


def _param(match: re.Match[str]) -> str:
    lead, name, value = match.groups()
    if not value or not is_secret_name(unquote(name)):
        return match.group(0)
    return f"{lead}{name}={MARKER}"


def _pairs_hidden(text: str) -> str:
    """`"name": value` pairs with a secret name, in text that may not be JSON at all: the
    value (a string, a number, an array or object to its closing bracket, or to the end when
    it never closes) becomes `"[redacted]"`."""
    pieces: list[str] = []
    done = at = 0
    while (key := _KEY.search(text, at)) is not None:
        at = key.end()
        if not is_secret_name(key.group(1)):
            continue
        end = _value_end(text, at)
        if end > at:
            pieces += [text[done:at], f'"{MARKER}"']
            done = at = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _value_end(text: str, start: int) -> int:
    """Where the value starting at `start` ends; `start` itself when there is nothing to
    hide in it (`""`, true, false, null, nothing)."""
    first = text[start : start + 1]
    if first == '"':
        rest = _STRING_REST.match(text, start + 1)
        end = rest.end() if rest else len(text)
        return start if end == start + 2 else end
    if first in ("[", "{"):
        depth = 0
        for token in _TOKENS.finditer(text, start):
            mark = token.group()
            if mark in ("[", "{"):
                depth += 1
            elif mark in ("]", "}"):
                depth -= 1
                if depth == 0:
                    return token.end()
        return len(text)
    bare = _BARE.match(text, start)
    if bare is None or bare.group() in _LITERALS:
        return start
    return bare.end()


def _jwts_hidden(text: str) -> str:
    """Every JWT in the text replaced by the marker. Driven by where a first part can
    begin, and each base64url run is read once, so no text takes more than linear time."""
    pieces: list[str] = []
    done = at = 0
    while (start := _JWT_START.search(text, at)) is not None:
        begin = start.start()
        run = _BASE64URL.match(text, begin)
        assert run is not None  # the pattern matches the empty string: it never fails
        end = run.end()
        at = end + 1  # a later start in the same run ends in the same place: skip it
        if end - begin < _JWT_HEADER:
            continue
        parts = 1
        while parts < _JWT_PARTS and text.startswith(".", end):
            run = _BASE64URL.match(text, end + 1)
            assert run is not None
            after = run.end()
            if parts >= 3 and after == end + 1:
                break  # a JWE's fourth and fifth parts are never empty: a full stop
            end, parts = after, parts + 1
        if parts < 3:
            continue
        pieces += [text[done:begin], MARKER]
        done = at = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)

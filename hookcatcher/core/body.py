"""A request body as its sender meant it: Content-Encoding undone and a form's fields read
(core/decoding), then JSON (orjson when nothing needs the careful parse; the stdlib's, with
located problems and warnings, otherwise). Pure: the receiver, redaction, fixtures, the
mocks and `validate` all read bodies here."""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from hookcatcher.core.capture import Problem
from hookcatcher.core.decoding import (
    FORM_TYPES,
    FormError,
    Undecodable,
    content_codings,
    decode_content,
    form_fields,
)
from hookcatcher.core.jsonpath import json_path

__all__ = [
    "DEFAULT_MAX_BODY",
    "FORM",
    "JSON",
    "MAX_DEPTH",
    "NOT_JSON",
    "TOO_LARGE",
    "Parsed",
    "parse_body",
    "parse_json",
    "read_body",
]


# Media bodies carry their file as base64: Evolution's own server takes 136 MB of JSON, and a
# video of 15 MB arrives as about 21 MB.
DEFAULT_MAX_BODY = 64 * 1024 * 1024


# Deeper JSON is kept as bytes, not parsed: screens, redaction, filters and exports walk a
# body recursively (up to three Python frames a level), and 128 levels leave them far from
# Python's recursion limit. Gateway bodies are about 15 levels deep; serde_json's default
# limit is 128 too.
MAX_DEPTH = 128


SHOWN_DUPLICATES = 10  # duplicate keys warned about one by one, before "and N more"


JSON, NOT_JSON, FORM, TOO_LARGE = "json", "not-json", "form", "too-large"


_TOO_DEEP = (
    f"JSON nested more than {MAX_DEPTH} levels deep: kept as received, not parsed or validated"
)


_CONTAINERS = (dict, list)


_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'


@dataclass(frozen=True, slots=True)
class Parsed:
    """A body as hookcatcher reads it: `status` json (to be judged against its schema),
    form, not-json or too-large; `problem` says why it is not JSON."""

    status: str
    body: Any = None
    problem: Problem | None = None
    warnings: tuple[str, ...] = ()
    decoded_size: int | None = None


def read_body(
    raw: bytes, headers: Iterable[tuple[str, str]], max_body: int = DEFAULT_MAX_BODY
) -> Parsed:
    """The body as its sender meant it: Content-Encoding undone (to at most `max_body`
    bytes), then JSON, or the fields of a form when the Content-Type says form and the
    bytes are not JSON. `curl -d '{...}'` posts JSON labelled as a form, so JSON comes first,
    and a body that starts like JSON keeps its JSON error."""
    coding = content_type = None
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-encoding":
            coding = value
        elif lowered == "content-type":
            content_type = value
    data, decoded_size = raw, None
    codings = content_codings(coding) if coding and raw else []
    if codings:
        try:
            data = decode_content(raw, codings, max_body)
        except Undecodable as exc:
            status = TOO_LARGE if exc.too_large else NOT_JSON
            return Parsed(status, problem=Problem("$", str(exc)))
        decoded_size = len(data)
    parsed = parse_json(data)
    media = (content_type or "").partition(";")[0].strip().lower()
    if (
        parsed.status == NOT_JSON
        and media in FORM_TYPES
        and data.strip()
        and data.lstrip()[:1] not in (b"{", b"[")
    ):
        try:
            parsed = Parsed(FORM, form_fields(data, media, content_type or ""))
        except FormError as exc:
            parsed = _not_json(str(exc))
    if decoded_size is None:
        return parsed
    problem = parsed.problem and Problem(
        "$", f"{parsed.problem.message} (in the body as {coding} decodes it)"
    )
    return Parsed(parsed.status, parsed.body, problem, parsed.warnings, decoded_size)


def parse_body(raw: bytes) -> tuple[Any, Problem | None]:
    """The body as JSON, or None and a Problem that says where parsing stopped."""
    parsed = parse_json(raw)
    return parsed.body, parsed.problem


def parse_json(raw: bytes) -> Parsed:
    """The bytes as JSON, with warnings for what parses here but not everywhere (a byte
    order mark, UTF-16 or UTF-32, duplicate keys); or a Problem that says what and where."""
    if not raw or raw.isspace():
        return Parsed(
            NOT_JSON, problem=Problem("$", "empty body" if not raw else "body is only whitespace")
        )
    body = _plain_json(raw)
    if body is not _CAREFUL:
        return Parsed(JSON, body)
    duplicated: list[tuple[dict[str, Any], list[tuple[str, Any]]]] = []
    try:
        body = json.loads(
            raw,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_objects(duplicated),
        )
    except json.JSONDecodeError as exc:
        return _not_json(f"broken JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")
    except UnicodeDecodeError as exc:
        return _not_json(f"body is not UTF-8 text (byte {exc.start}): not JSON")
    except RecursionError:
        return _not_json(_TOO_DEEP)
    except _Refused as exc:
        return _not_json(f"not valid JSON{_where(raw, exc.token)}: {exc}")
    except ValueError as exc:  # an integer past Python's digit limit, for one
        return _not_json(f"not valid JSON: {exc}")
    if isinstance(body, _CONTAINERS) and _deeper_than(body, MAX_DEPTH, raw):
        return _not_json(_TOO_DEEP)
    warnings = _encoding_warnings(raw)
    if duplicated:
        warnings += _duplicate_warnings(body, duplicated)
    if _SURROGATE_ESCAPE.search(raw):
        body, replaced = _whole_characters(body)
        if replaced:
            warnings += (
                f"{replaced} lone UTF-16 surrogate escape(s) (\\ud800-\\udfff "
                "without its pair) shown as U+FFFD; the raw bytes keep them",
            )
    return Parsed(JSON, body, warnings=warnings)


def _plain_json(raw: bytes) -> Any:
    """The body parsed by orjson, when nothing in it needs the careful parse below (about
    a tenth of its cost); else _CAREFUL.

    orjson refuses what the careful parse has words for (NaN, 1e400, a byte order mark,
    UTF-16, a lone surrogate escape, nesting past 1,024) and reads integers past 64 bits as
    floats, so bodies with 19 digits in a row go the careful way too. Duplicate keys are
    ruled out by counting colons: each member of an object has one, a string may hold
    more. Without `\\u` escapes (which could spell a colon) the parsed body, written out
    again, has as many colons as the bytes exactly when no member was dropped, and fewer
    when a repeated key dropped one."""
    if (
        len(raw) > PLAIN_JSON_BYTES
        or b"\\u" in raw
        or _NINETEEN_DIGITS in raw.translate(_DIGITS_AS_ZERO)
    ):
        return _CAREFUL
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _CAREFUL
    if isinstance(body, _CONTAINERS) and _deeper_than(body, MAX_DEPTH, raw):
        return _CAREFUL  # which says so; orjson.dumps would not go that deep
    if raw.count(b":") != orjson.dumps(body).count(b":"):
        return _CAREFUL
    return body


_CAREFUL = object()


# Larger bodies are parsed on a worker thread (workers.py) by the careful parse: it calls
# Python for every object, so the event loop's thread gets the interpreter lock every few
# milliseconds, where orjson would hold it for the whole parse (about a second for 20 MB).
PLAIN_JSON_BYTES = 1024 * 1024


# 19 digits in a row, found by a translation and a substring search (a regex took most of
# the fast parse's time)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")


_NINETEEN_DIGITS = b"0" * 19


# `\ud800`-`\udfff` escapes: JSON allows a lone one, but no UTF-8 text (an API answer, a
# screen, a session line) can hold the character it makes, so the parsed body gets U+FFFD.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole_characters(value: Any) -> tuple[Any, int]:
    """The value with each lone surrogate replaced, and how many there were (bodies are at
    most MAX_DEPTH deep here, so recursion is safe)."""
    if isinstance(value, str):
        fixed, count = _LONE_SURROGATE.subn("\ufffd", value)
        return fixed, count
    if isinstance(value, list):
        items = [_whole_characters(item) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(value, dict):
        total, mapping = 0, {}
        for key, item in value.items():
            new_key, in_key = _whole_characters(key)
            mapping[new_key], in_item = _whole_characters(item)
            total += in_key + in_item
        return mapping, total
    return value, 0


def _not_json(message: str) -> Parsed:
    return Parsed(NOT_JSON, problem=Problem("$", message))


def _objects(
    duplicated: list[tuple[dict[str, Any], list[tuple[str, Any]]]],
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """json.loads' object builder, noting each object that repeats a key. Where it is, is
    found only when there is one: this runs for every object of every body."""

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        made = dict(pairs)
        if len(made) != len(pairs):
            duplicated.append((made, pairs))
        return made

    return build


def _duplicate_warnings(
    body: Any, duplicated: list[tuple[dict[str, Any], list[tuple[str, Any]]]]
) -> tuple[str, ...]:
    """`duplicate key "fromMe" at $.data.key: the last value is used`, for each repeat."""
    paths = _paths_of(body, {id(made) for made, _ in duplicated})
    found: list[tuple[str, str]] = []
    for made, pairs in duplicated:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                found.append((paths.get(id(made), "$"), key))
            seen.add(key)
    # By path, as validation errors are (objects are built innermost first).
    found.sort(key=lambda item: item[0])
    warnings = [
        f"duplicate key {json.dumps(key, ensure_ascii=False)} at {path}: the last value is used"
        for path, key in found
    ]
    if len(warnings) > SHOWN_DUPLICATES:
        more = len(warnings) - SHOWN_DUPLICATES
        warnings[SHOWN_DUPLICATES:] = [f"... and {more:,} more duplicate keys"]
    return tuple(warnings)


def _paths_of(body: Any, wanted: set[int]) -> dict[int, str]:
    """The JSON path of each object in `wanted` (by identity), walking without recursion."""
    found: dict[int, str] = {}
    stack: list[tuple[Any, tuple[Any, ...]]] = [(body, ())]
    while stack and len(found) < len(wanted):
        node, parts = stack.pop()
        if id(node) in wanted:
            found[id(node)] = json_path(parts)
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend(
            (child, parts + (key,)) for key, child in items if isinstance(child, _CONTAINERS)
        )
    return found


def _deeper_than(body: Any, limit: int, raw: bytes) -> bool:
    """Whether containers nest more than `limit` deep. Fewer brackets than that in the
    bytes settle it at once (every typical body); otherwise a walk without recursion."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if type(node) is dict else node:
            if type(child) is dict or type(child) is list:
                stack.append((child, depth + 1))
    return False


def _encoding_warnings(raw: bytes) -> tuple[str, ...]:
    if raw[:1] in (b"{", b"["):
        return ()  # UTF-8 without a mark: almost every body
    if raw.startswith(codecs.BOM_UTF8):
        return ("body starts with a UTF-8 byte order mark; some parsers reject it",)
    encoding = json.detect_encoding(raw)
    if encoding.startswith("utf-8"):
        return ()
    name = encoding.upper().removesuffix("-LE").removesuffix("-BE")
    return (
        f"body is {name} text, not UTF-8: JSON between systems must be UTF-8 "
        "(RFC 8259), and most parsers reject anything else",
    )


class _Refused(ValueError):
    """A token json.loads reads but JSON has no room for (NaN, Infinity, 1e400)."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(reason)
        self.token = token


def _reject_constant(name: str) -> Any:
    raise _Refused(name, f"{name} is not allowed in JSON")


def _finite_float(text: str) -> float:
    """1e400 would parse as infinity, which no JSON answer can carry back out."""
    value = float(text)
    if math.isinf(value):
        raise _Refused(text, f"number {text} is too large for a double")
    return value


def _where(raw: bytes, token: str) -> str:
    """` at line L, column C` of the first `token` outside a string (json.loads names no
    place for a value it was told to refuse), or nothing when it cannot be found."""
    text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    pattern = re.compile(f"{_STRING}|(?<![\\w.+-])({re.escape(token)})(?![\\w.])")
    for match in pattern.finditer(text):
        if match.group(1) is not None:
            at = match.start(1)
            line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
            return f" at line {line}, column {column}"
    return ""

"""The filter language, one implementation for the API, the stream, the TUI and replay.

    event:messages.*  provider:whapi  -instance:test  valid:no  method:PATCH  path:/webhook*
    retry:yes  forward:failed  forward.status:5*  data.key.fromMe:true  "free text"

Terms are separated by spaces and must all hold; `-term` negates; `*` is a wildcard; quotes
group words. A term that cannot be understood raises FilterError naming it, so a typo never
looks like "no captures".

Matching takes time linear in what is searched, whatever the pattern: a filter runs on the
server's event loop, for anyone who can send `?q=`, against bodies of up to --max-body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from hookcatcher.core.capture import NOT_JSON_STATUSES, STATUSES, Capture

__all__ = ["Filter", "FilterError", "parse", "selector_query", "FIELDS", "MAX_QUERY", "MAX_TERMS"]

Predicate = Callable[[Capture], bool]
_Searched = TypeVar("_Searched", str, bytes)

FIELDS: dict[str, str] = {
    "event": "the gateway's event name (messages.upsert, messages/post)",
    "provider": "evolution, codechat, whapi or unknown",
    "instance": "instance name, instance id or Whapi channel id",
    "valid": "yes (valid) or no (invalid, not JSON, a form or too large)",
    "status": f"validation status: {', '.join(STATUSES)}",
    "method": "HTTP method",
    "path": "request path",
    "mode": "route mode: single, by-events, path, method",
    "retry": "yes (the body repeats an earlier capture's, byte for byte) or no",
    "forward": "ok (every delivery to the app answered 2xx), failed (one did not, or was "
    "not made) or none (no delivery)",
    "forward.status": "the HTTP status of a delivery to the app (5*, 404)",
}
_FORWARD = ("ok", "failed", "none")
_BOOLEAN = {"yes": True, "true": True, "no": False, "false": False}
_FAILED = frozenset({"invalid"} | NOT_JSON_STATUSES)
# A filter a person types is a few terms; these leave room for scripts and stop a query from
# costing more than a few passes over each capture.
MAX_QUERY = 1000  # characters
MAX_TERMS = 32
_SHOWN = 40  # characters of an over-long query repeated in its error


class FilterError(ValueError):
    """A term that cannot be understood; `term` is the offending text as the user typed it."""

    def __init__(self, term: str, reason: str) -> None:
        super().__init__(f"bad filter term {term!r}: {reason}")
        self.term = term
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed query; call it on a capture. The empty query matches everything."""

    query: str
    terms: tuple[Predicate, ...]
    # Whether a term reads the body (a body path or free text): on a large capture that
    # is real work, which the stream does off the event loop.
    reads_body: bool = False

    def __call__(self, capture: Capture) -> bool:
        return all(term(capture) for term in self.terms)


def selector_query(text: str) -> str:
    """A rule's selector (`--respond`, `--forward-to`) as a query: a filter, or a lone event
    name or glob (`messages.*`; `-name` excludes it)."""
    if not any(char in text for char in ':"') and not any(char.isspace() for char in text):
        negate = text.startswith("-")
        return ("-" if negate else "") + "event:" + text.removeprefix("-")
    return text


def parse(query: str | None) -> Filter:
    query = query or ""
    if len(query) > MAX_QUERY:
        raise FilterError(
            query[:_SHOWN] + "...",
            f"the filter is {len(query):,} characters "
            f"long, over the limit of {MAX_QUERY:,} characters",
        )
    fields: list[Predicate] = []
    texts: list[_Text] = []
    for count, (text, raw) in enumerate(_tokens(query), 1):
        if count > MAX_TERMS:
            raise FilterError(
                raw, f"a filter holds at most {MAX_TERMS} terms; this is term {count}"
            )
        term = _term(text, raw)
        if isinstance(term, _Text):
            texts.append(term)
        else:
            fields.append(term)
    if texts:  # after the fields: they are cheap, and a capture they refuse is not searched
        fields.append(_texts_predicate(texts))
    reads_body = bool(texts) or any(_body_term(text) for text, _ in _tokens(query))
    return Filter(query, tuple(fields), reads_body)


def _body_term(text: str) -> bool:
    """Whether a (parsed, unquoted) field term is a dotted path into the body."""
    key, sep, _ = text.removeprefix("-").partition(":")
    return bool(sep) and key not in FIELDS


def _tokens(query: str) -> Iterator[tuple[str, str]]:
    """Split on spaces outside quotes; yield (term without quotes, term as typed)."""
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start, text, quoted = i, [], False
        while i < n and (quoted or not query[i].isspace()):
            char = query[i]
            if char == '"':
                quoted = not quoted
            elif char == "\\" and quoted and i + 1 < n:
                i += 1
                text.append(query[i])
            else:
                text.append(char)
            i += 1
        raw = query[start:i]
        if quoted:
            raise FilterError(raw, "the quote is not closed")
        yield "".join(text), raw


def _term(text: str, raw: str) -> Predicate | _Text:
    free = raw.lstrip("-").startswith('"')  # a quoted phrase is free text, colon or not
    negate = text.startswith("-")
    if negate:
        text = text[1:]
    if not text:
        raise FilterError(raw, "nothing to match after '-'" if negate else "empty term")
    key, sep, value = text.partition(":")
    if free or not sep:
        return _text(text, negate)
    if not key:
        raise FilterError(raw, "missing field name before ':'")
    if not value:
        hint = f"e.g. {key}:value" if key not in FIELDS else f"{key} is {FIELDS[key]}"
        raise FilterError(raw, f"missing value after '{key}:' ({hint})")
    predicate = _field(key, value, raw)
    return (lambda capture: not predicate(capture)) if negate else predicate


def _glob(pattern: str) -> Callable[[str], bool]:
    """Whether a whole text matches `pattern`, ignoring case; `*` stands for any run of
    characters. Not a regex of `.*` joins: that backtracks (`path:*a*a*a*b` on a path of
    1,000 characters took 227 s); this is one pass over the text."""
    pieces = pattern.lower().split("*")
    if len(pieces) == 1:
        whole = pieces[0]
        return lambda text: text.lower() == whole
    head, middle, tail = pieces[0], pieces[1:-1], pieces[-1]

    def matches(text: str) -> bool:
        text = text.lower()
        end = len(text) - len(tail)
        return (
            end >= len(head)
            and text.startswith(head)
            and text.endswith(tail)
            and _in_order(text, middle, len(head), end)
        )

    return matches


def _in_order(text: _Searched, pieces: list[_Searched], start: int, end: int) -> bool:
    """Whether `pieces` occur in text[start:end] one after another, without overlapping.
    Taking each at the first place it occurs leaves the most room for the rest, so no choice
    is ever revisited and each character is looked at about once."""
    for piece in pieces:
        found = text.find(piece, start, end)
        if found < 0:
            return False
        start = found + len(piece)
    return True


def _field(key: str, value: str, raw: str) -> Predicate:
    if key == "valid":
        if value.lower() not in _BOOLEAN:
            raise FilterError(raw, "valid takes yes or no")
        wanted = _BOOLEAN[value.lower()]
        if wanted:
            return lambda c: c.validation.status == "valid"
        return lambda c: c.validation.status in _FAILED
    if key == "retry":
        if value.lower() not in _BOOLEAN:
            raise FilterError(raw, "retry takes yes or no")
        if _BOOLEAN[value.lower()]:
            return lambda c: c.retry_of is not None
        return lambda c: c.retry_of is None
    if key == "forward":
        return _forward(value.lower(), raw)
    if key == "forward.status":
        if not all(char.isdigit() or char == "*" for char in value) or len(value) > 3:
            raise FilterError(raw, "forward.status takes an HTTP status or a glob (5*, 404)")
        matches = _glob(value)
        return lambda c: any(
            forward.status is not None and matches(str(forward.status)) for forward in c.forwards
        )
    if key == "status":
        matches = _glob(value)
        if not any(matches(status) for status in STATUSES):
            raise FilterError(raw, f"status is one of {', '.join(STATUSES)}")
        return lambda c: matches(c.validation.status)
    attribute: Callable[[Capture], str | None] | None = {
        "event": lambda c: c.event,
        "provider": lambda c: c.provider,
        "instance": lambda c: c.instance,
        "method": lambda c: c.method,
        "path": lambda c: c.path,
        "mode": lambda c: c.route.mode,
    }.get(key)
    if attribute is not None:
        matches = _glob(value)
        return lambda c: (text := attribute(c)) is not None and matches(text)
    return _body_path(key, value, raw)


def _forward(value: str, raw: str) -> Predicate:
    """How the app answered the capture's deliveries (--forward-to). A record of a capture an
    answer rule kept from the app counts as a failed delivery: the app never saw it."""
    if value == "ok":
        return lambda c: bool(c.forwards) and all(forward.ok for forward in c.forwards)
    if value == "failed":
        return lambda c: any(not forward.ok for forward in c.forwards)
    if value == "none":
        return lambda c: not c.forwards
    raise FilterError(raw, f"forward takes {', '.join(_FORWARD)}")


def _body_path(key: str, value: str, raw: str) -> Predicate:
    """`data.key.fromMe:true`: a dotted path into the JSON body; numbers index arrays, and an
    array met without an index matches if any element does."""
    steps = key.split(".")
    if any(not step for step in steps):
        raise FilterError(
            raw,
            f"'{key}' is not a field ({', '.join(FIELDS)}) nor a dotted "
            "path into the body (data.key.fromMe)",
        )
    matches = _value_matcher(value)
    keys = [
        json.dumps(step, ensure_ascii=False).encode("utf-8") for step in steps if not step.isdigit()
    ]

    def predicate(capture: Capture) -> bool:
        if _keys_missing(capture, keys):
            return False  # without parsing: a stored capture's body is parsed on demand
        return any(matches(found) for found in _walk(capture.body, steps))

    return predicate


def _keys_missing(capture: Capture, keys: list[bytes]) -> bool:
    """Whether the raw JSON surely lacks one of the path's keys. Only said of UTF-8 JSON
    text as received with no backslash in it: there a key can only be written one way,
    `"fromMe"`. (A digit step may be an array index, so it is not looked for.)"""
    raw = capture.raw
    return (
        bool(keys)
        and capture.is_json
        and capture.decoded_size is None
        and raw[:1] in (b"{", b"[")
        and raw[1:2] != b"\x00"
        and b"\\" not in raw
        and not all(key in raw for key in keys)
    )


def _walk(node: Any, steps: list[str]) -> Iterator[Any]:
    if not steps:
        yield node
        return
    step, rest = steps[0], steps[1:]
    if isinstance(node, dict):
        if step in node:
            yield from _walk(node[step], rest)
    elif isinstance(node, list):
        if step.isdigit():
            index = int(step)
            if index < len(node):
                yield from _walk(node[index], rest)
        else:
            for item in node:
                yield from _walk(item, steps)


def _value_matcher(value: str) -> Callable[[Any], bool]:
    if value == "*":
        return lambda found: True
    literal: Any
    try:
        literal = json.loads(value)
    except ValueError:
        literal = None
    else:
        if isinstance(literal, (bool, int, float)) or literal is None:
            # true matches true, 5 matches 5 and "5", null matches null.
            want = literal
            return lambda found: (
                found is want
                if isinstance(want, bool) or want is None
                else (not isinstance(found, bool) and found == want) or found == value
            )
    matches = _glob(value)
    return lambda found: (
        isinstance(found, (str, int, float)) and not isinstance(found, bool) and matches(str(found))
    )


@dataclass(frozen=True, slots=True)
class _Text:
    """A free-text term: its pieces around `*` in lower case, as text and as bytes (None when
    they are not ASCII: an ASCII body cannot hold them)."""

    pieces: list[str]
    ascii_pieces: list[bytes] | None
    negate: bool

    def found_in(self, body: str | bytes) -> bool:
        """Anywhere in the body (in lower case already), the pieces one after another."""
        if isinstance(body, bytes):
            return self.ascii_pieces is not None and _in_order(
                body, self.ascii_pieces, 0, len(body)
            )
        return _in_order(body, self.pieces, 0, len(body))


def _text(text: str, negate: bool) -> _Text:
    pieces = text.lower().split("*")
    ascii_pieces = (
        [piece.encode("ascii") for piece in pieces]
        if all(piece.isascii() for piece in pieces)
        else None
    )
    return _Text(pieces, ascii_pieces, negate)


def _texts_predicate(texts: list[_Text]) -> Predicate:
    """Every free-text term of a query, anywhere in the raw body, ignoring case: the body is
    lowered once for all of them."""

    def predicate(capture: Capture) -> bool:
        body = _lowered(capture.raw)
        return all(text.found_in(body) != text.negate for text in texts)

    return predicate


def _lowered(raw: bytes) -> str | bytes:
    """The raw body in lower case, as free text is searched. Most bodies are ASCII: those are
    lowered as bytes, the same letters as decoding first would give, at a fraction of the
    cost (a 20 MB body)."""
    if raw.isascii():
        return raw.lower()
    return raw.decode("utf-8", "replace").lower()

"""The filter language: what each term matches, and a clear error for every bad term."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from conftest import body_of

from hookcatcher.filters import FilterError, parse
from hookcatcher.ingest import build_capture
from hookcatcher.validation import Validator


@pytest.fixture(scope="module")
def captures() -> list:
    validator = Validator()
    sent = [
        ("POST", "/webhook/messages-upsert", body_of("evolution/v2/messages.upsert.text")),
        ("POST", "/webhook", body_of("evolution/v2/messages.update.read")),
        ("POST", "/wh/messages/post", body_of("whapi/messages.post.text")),
        ("PATCH", "/wh/messages", json.dumps({"messages_updates": [], "channel_id": "X"}).encode()),
        ("POST", "/other", b"not json at all"),
        ("POST", "/stripe", b'{"hello": "world"}'),
    ]
    made = [build_capture(validator, method, path, "", [], "127.0.0.1:1", raw)
            for method, path, raw in sent]
    for number, capture in enumerate(made, 1):
        capture.id = number
    return made


def ids(query: str, captures: list) -> list[int]:
    matches = parse(query)
    return [c.id for c in captures if matches(c)]


@pytest.mark.parametrize("query, expected", [
    ("", [1, 2, 3, 4, 5, 6]),
    ("event:messages.*", [1, 2]),
    ("event:messages/*", [3, 4]),
    ("EVENT:messages.UPSERT", []),  # field names are lower case
    ("event:MESSAGES.UPSERT", [1]),  # values ignore case
    ("provider:whapi", [3, 4]),
    ("-provider:whapi", [1, 2, 5, 6]),
    ("instance:sales", [1, 2]),
    ("instance:EXAMPLE-*", [3]),
    ("valid:yes", [1, 2, 3, 4]),
    ("valid:no", [5]),
    ("status:no-schema", [6]),
    ("provider:unknown", [5, 6]),
    ("hello:world", [6]),
    ("status:not-*", [5]),
    ("method:patch", [4]),
    ("path:/webhook*", [1, 2]),
    ("mode:by-events", [1]),
    ("mode:method", [4]),
    ("data.key.fromMe:false", [1]),
    ("data.fromMe:true", [2]),
    ("data.messageTimestamp:1763712000", [1]),
    ("data.messageTimestamp:*", [1]),
    ("messages.from_me:false", [3]),
    ("messages.0.text.body:*saturdays*", [3]),
    ("channel_id:X", [4]),
    ("data.contextInfo:null", [1]),
    ('"order on its way"', [1]),
    ("saturdays", [3]),
    ('"NOT JSON"', [5]),
    ("-valid:no provider:evolution event:*update", [2]),
    ('"http://localhost:8080"', [1, 2]),  # quoted: free text, colon or not
    ('data.key.id:"3EB0C4F1A2B3C4D5E6F7"', [1]),
])
def test_terms(captures: list, query: str, expected: list[int]) -> None:
    assert ids(query, captures) == expected


@pytest.mark.parametrize("query, term, reason", [
    ("valid:maybe", "valid:maybe", "valid takes yes or no"),
    ("provider:whapi event:", "event:", "missing value after 'event:'"),
    ('"unclosed phrase', '"unclosed phrase', "the quote is not closed"),
    (":foo", ":foo", "missing field name before ':'"),
    ("-", "-", "nothing to match after '-'"),
    ("data..key:1", "data..key:1", "is not a field"),
    ("status:broken", "status:broken",
     "status is one of valid, invalid, no-schema, not-json, form, too-large"),
])
def test_bad_terms_are_named(query: str, term: str, reason: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse(query)
    assert caught.value.term == term
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"bad filter term {term!r}")


def test_retry_term(captures: list) -> None:
    marked = [replace(capture, retry_of=1, body=capture.body) if capture.id in (3, 5) else capture
              for capture in captures]
    assert ids("retry:yes", marked) == [3, 5]
    assert ids("retry:no", marked) == [1, 2, 4, 6]
    assert ids("-retry:yes provider:whapi", marked) == [4]
    with pytest.raises(FilterError) as caught:
        parse("retry:maybe")
    assert str(caught.value) == "bad filter term 'retry:maybe': retry takes yes or no"


@pytest.mark.parametrize("headers, raw", [
    ([], b'{"data": {"key": {"fromMe": true}}}'),
    ([], b'{"data": {"key": {"from\\u004de": true}}}'),  # the key written with an escape
    ([], b'  {"data": [{"key": {"fromMe": true}}]}'),
    ([("Content-Encoding", "gzip")], __import__("gzip").compress(b'{"data": {"key": {"fromMe": true}}}')),
    ([], '{"data": {"key": {"fromMe": true}}}'.encode("utf-16")),
    ([], '{"data": {"key": {"fromMe": true}}}'.encode("utf-16-le")),
])
def test_a_body_path_matches_however_the_key_was_written(headers, raw) -> None:
    """Captures are checked against the raw bytes first (a key that is not there cannot
    match); that shortcut must never hide a match."""
    capture = build_capture(Validator(), "POST", "/w", "", headers, "", raw)
    capture.release_body()
    assert parse("data.key.fromMe:true")(capture), raw
    assert not parse("data.key.fromMe:false")(capture)
    assert not parse("data.key.notThere:*")(capture)


def test_a_body_path_on_a_form() -> None:
    """A form's fields are its body: `qty=2` in the bytes, never `"qty"`."""
    capture = build_capture(Validator(), "POST", "/w", "",
                            [("Content-Type", "application/x-www-form-urlencoded")], "",
                            b"order=A1&qty=2")
    assert capture.validation.status == "form"
    assert parse("qty:2")(capture)
    assert not parse("qty:3")(capture)

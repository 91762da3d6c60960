"""The filter language: what each term matches, and a clear error for every bad term."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import replace

import pytest
from helpers.bundled import body_of

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Forward
from hookcatcher.core.filters import MAX_QUERY, MAX_TERMS, FilterError, parse
from hookcatcher.receive.ingest import build_capture


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
    made = [
        build_capture(validator, method, path, "", [], "127.0.0.1:1", raw)
        for method, path, raw in sent
    ]
    for number, capture in enumerate(made, 1):
        capture.id = number
    return made


def ids(query: str, captures: list) -> list[int]:
    matches = parse(query)
    return [c.id for c in captures if matches(c)]


@pytest.mark.parametrize(
    "query, expected",
    [
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
    ],
)
def test_terms(captures: list, query: str, expected: list[int]) -> None:
    assert ids(query, captures) == expected


@pytest.mark.parametrize(
    "query, term, reason",
    [
        ("valid:maybe", "valid:maybe", "valid takes yes or no"),
        ("provider:whapi event:", "event:", "missing value after 'event:'"),
        ('"unclosed phrase', '"unclosed phrase', "the quote is not closed"),
        (":foo", ":foo", "missing field name before ':'"),
        ("-", "-", "nothing to match after '-'"),
        ("data..key:1", "data..key:1", "is not a field"),
        (
            "status:broken",
            "status:broken",
            "status is one of valid, invalid, no-schema, not-json, form, too-large",
        ),
    ],
)
def test_bad_terms_are_named(query: str, term: str, reason: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse(query)
    assert caught.value.term == term
    assert reason in str(caught.value)
    assert str(caught.value).startswith(f"bad filter term {term!r}")


def test_retry_term(captures: list) -> None:
    marked = [
        replace(capture, retry_of=1, body=capture.body) if capture.id in (3, 5) else capture
        for capture in captures
    ]
    assert ids("retry:yes", marked) == [3, 5]
    assert ids("retry:no", marked) == [1, 2, 4, 6]
    assert ids("-retry:yes provider:whapi", marked) == [4]
    with pytest.raises(FilterError) as caught:
        parse("retry:maybe")
    assert str(caught.value) == "bad filter term 'retry:maybe': retry takes yes or no"


def _delivery(status: int | None, error: str | None = None) -> Forward:
    return Forward("http://app/", "http://app/", "t", status, 1.0, error=error)


@pytest.fixture
def delivered(captures: list) -> list:
    """1: no delivery; 2: 200; 3: 200 and 503; 4: no answer; 5: kept by an answer rule;
    6: 204 and 201."""
    deliveries = {
        2: [_delivery(200)],
        3: [_delivery(200), _delivery(503)],
        4: [_delivery(None, "no answer within 10 s")],
        5: [_delivery(None, "not forwarded: answered 500 by an answer rule (--respond)")],
        6: [_delivery(204), _delivery(201)],
    }
    return [
        replace(capture, forwards=deliveries.get(capture.id, []), body=capture.body)
        for capture in captures
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("forward:ok", [2, 6]),
        ("forward:OK", [2, 6]),
        ("forward:failed", [3, 4, 5]),
        ("forward:none", [1]),
        ("-forward:none", [2, 3, 4, 5, 6]),
        ("-forward:failed", [1, 2, 6]),
        ("forward.status:5*", [3]),
        ("forward.status:2*", [2, 3, 6]),
        ("forward.status:204", [6]),
        ("forward.status:*", [2, 3, 6]),  # a delivery with an answer
        ("-forward.status:5*", [1, 2, 4, 5, 6]),
        ("forward.status:2* forward:failed", [3]),
    ],
)
def test_forward_terms(delivered: list, query: str, expected: list[int]) -> None:
    assert ids(query, delivered) == expected
    assert not parse(query).reads_body


@pytest.mark.parametrize(
    "query, reason",
    [
        ("forward:maybe", "forward takes ok, failed, none"),
        ("forward.status:abc", "forward.status takes an HTTP status or a glob"),
        ("forward.status:5000", "forward.status takes an HTTP status or a glob"),
    ],
)
def test_bad_forward_terms_are_named(query: str, reason: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse(query)
    assert caught.value.term == query
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    "headers, raw",
    [
        ([], b'{"data": {"key": {"fromMe": true}}}'),
        ([], b'{"data": {"key": {"from\\u004de": true}}}'),  # the key written with an escape
        ([], b'  {"data": [{"key": {"fromMe": true}}]}'),
        (
            [("Content-Encoding", "gzip")],
            __import__("gzip").compress(b'{"data": {"key": {"fromMe": true}}}', mtime=0),
        ),
        ([], '{"data": {"key": {"fromMe": true}}}'.encode("utf-16")),
        ([], '{"data": {"key": {"fromMe": true}}}'.encode("utf-16-le")),
    ],
)
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
    capture = build_capture(
        Validator(),
        "POST",
        "/w",
        "",
        [("Content-Type", "application/x-www-form-urlencoded")],
        "",
        b"order=A1&qty=2",
    )
    assert capture.validation.status == "form"
    assert parse("qty:2")(capture)
    assert not parse("qty:3")(capture)


# --- wildcards in linear time, and a filter's size bounded -----------------------------------


def _reference(pattern: str, text: str, anchored: bool) -> bool:
    """What `*` meant when it became a regex: the meaning the matcher must keep."""
    joined = ".*".join(map(re.escape, pattern.lower().split("*")))
    regex = re.compile(f"^{joined}$" if anchored else joined, re.DOTALL)
    return bool(regex.search(text.lower()))


def test_wildcards_mean_what_they_meant(validator: Validator) -> None:
    """Every pattern of up to 4 of `a`, `B`, `*` against every text of up to 5 of `a`, `b`,
    `A`: a field value matches whole, free text anywhere, case ignored."""
    patterns = ["".join(p) for n in range(1, 5) for p in itertools.product("aB*", repeat=n)]
    texts = ["".join(t) for n in range(6) for t in itertools.product("abA", repeat=n)]
    captures = {
        text: build_capture(validator, "POST", "/" + text, "", [], "", text.encode() or b" ")
        for text in texts
    }
    for pattern in patterns:
        field, free = parse(f"path:/{pattern}"), parse(pattern)
        for text, capture in captures.items():
            assert field(capture) == _reference("/" + pattern, "/" + text, True), (pattern, text)
            assert free(capture) == _reference(pattern, text or " ", False), (pattern, text)


def test_free_text_in_bodies_that_are_not_ascii() -> None:
    capture = build_capture(
        Validator(), "POST", "/w", "", [], "", '{"text": "Olá, JOSÉ! 😀 Straße"}'.encode()
    )
    assert ids('"josé*straße" olá', [capture]) == [capture.id]
    assert ids("OLÁ*😀", [capture]) == [capture.id]
    assert ids("jos*é*olá", [capture]) == []
    assert ids("-straße", [capture]) == []
    ascii_body = build_capture(Validator(), "POST", "/w", "", [], "", b'{"text": "jose"}')
    assert ids("josé", [ascii_body]) == [] and ids("JO*E", [ascii_body]) == [ascii_body.id]


def _within(seconds: float, code: str) -> list:
    """Run `code` in a child interpreter that prints a JSON list; a child still running after
    `seconds` is killed and the test fails, so a hang costs the bound, not the hang."""
    try:
        child = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=seconds,
            check=True,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"not answered within {seconds} s")
    return json.loads(child.stdout)


# Each took from 6 s to minutes when `*` was a backtracking regex.
PATHOLOGICAL = [
    ("a*a*a*b", {"raw": "a" * 1000}, False),
    ("a*a*a*a*b", {"raw": "a" * 500}, False),
    ("a*a*a*a", {"raw": "a" * 1000}, True),
    ("path:*a*a*a*b", {"path": "/" + "a" * 1000}, False),
    ("-path:/*a*a*a*b*", {"path": "/" + "a" * 1000}, True),
    ("text:*a*a*a*b", {"raw": json.dumps({"text": "a" * 1000})}, False),
    ("data.0.text:*a*a*a*b", {"raw": json.dumps({"data": [{"text": "a" * 1000}]})}, False),
]


@pytest.mark.slow
@pytest.mark.parametrize("query, sent, expected", PATHOLOGICAL)
def test_wildcards_answer_at_once_on_inputs_that_made_the_regex_backtrack(
    query: str, sent: dict, expected: bool
) -> None:
    assert _within(
        5,
        f"""
        import json
        from hookcatcher.core.filters import parse
        from hookcatcher.receive.ingest import build_capture
        from hookcatcher.check.validation import Validator
        sent = {sent!r}
        capture = build_capture(Validator(), "POST", sent.get("path", "/w"), "", [], "",
                                sent.get("raw", "{{}}").encode())
        print(json.dumps([parse({query!r})(capture)]))
    """,
    ) == [expected]


@pytest.mark.slow
def test_any_filter_against_a_20_mb_body_answers_at_once() -> None:
    """Free text, fields and body paths, with and without wildcards, several free-text terms
    at once, against 20 MB of ASCII and 20 MB that is not: each well under a second (here
    the 16 matches and making the two captures together under 10 s)."""
    queries = [
        "a*a*a*b",
        "a*a*a*a",
        '"aaaab"',
        '"a*a*a*b" aaaaab -zz "é*b"',
        "x:*a*a*a*b",
        "x:a*a*a*a",
        "path:*a*a*a*b",
        "-x:*b",
    ]
    found = _within(
        10,
        f"""
        import json
        from hookcatcher.core.filters import parse
        from hookcatcher.receive.ingest import build_capture
        from hookcatcher.check.validation import Validator
        answers = []
        for lead in ("", "é"):
            raw = ('{{"x": "' + lead + "a" * 20_000_000 + '"}}').encode()
            capture = build_capture(Validator(), "POST", "/" + "a" * 1000, "", [], "", raw)
            answers.append([parse(query)(capture) for query in {queries!r}])
        print(json.dumps(answers))
    """,
    )
    assert found == [
        [False, True, False, False, False, True, False, True],
        [False, True, False, False, False, False, False, True],
    ]


def test_a_filter_has_bounded_size() -> None:
    at_the_bound = " ".join(f"t{n}" for n in range(1, MAX_TERMS + 1))
    assert parse(at_the_bound).query == at_the_bound
    with pytest.raises(FilterError) as caught:
        parse(" ".join(f"t{n}" for n in range(1, MAX_TERMS + 2)))
    assert (
        str(caught.value) == "bad filter term 't33': a filter holds at most 32 terms; "
        "this is term 33"
    )
    assert parse("a" * MAX_QUERY).query == "a" * MAX_QUERY
    with pytest.raises(FilterError) as caught:
        parse("a*" * 600)
    assert (
        str(caught.value) == f"bad filter term '{'a*' * 20}...': the filter is 1,200 "
        "characters long, over the limit of 1,000 characters"
    )


def test_a_filter_over_a_bound_is_400_from_the_api_and_the_stream(client) -> None:
    for path in ("/_hookcatcher/api/events", "/_hookcatcher/stream"):
        answer = client.get(path, params={"q": " ".join(["x"] * 40)})
        assert answer.status_code == 400
        assert answer.json() == {
            "error": "bad filter term 'x': a filter holds at most 32 terms; this is term 33",
            "term": "x",
        }
        answer = client.get(path, params={"q": "x" * 5000})
        assert answer.status_code == 400
        assert (
            "the filter is 5,000 characters long, over the limit of 1,000 characters"
            in answer.json()["error"]
        )

"""Ingest: a body that is not JSON is kept, with a message that says where parsing stopped;
encodings, forms and what parses here but not everywhere."""

from __future__ import annotations

import gzip
import json
import random
import time
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hookcatcher.check.validation import Validator
from hookcatcher.core import body as body_module
from hookcatcher.core import decoding
from hookcatcher.core.body import Parsed, parse_body, parse_json, read_body
from hookcatcher.core.decoding import MAX_MEMBERS
from hookcatcher.core.resources import data_dir
from hookcatcher.core.units import limit_text
from hookcatcher.receive.ingest import Limits, build_capture


def test_parse_body_says_where() -> None:
    assert parse_body(b'{"a": 1}') == ({"a": 1}, None)
    assert parse_body(b"   ")[1].message == "body is only whitespace"
    assert (
        parse_body(b'{"a":\n  tru}')[1].message
        == "broken JSON at line 2, column 3: Expecting value"
    )
    assert (
        parse_body(b'{"a": NaN}')[1].message
        == "not valid JSON at line 1, column 7: NaN is not allowed in JSON"
    )
    assert (
        parse_body(b'{"a": 1e400}')[1].message
        == "not valid JSON at line 1, column 7: number 1e400 is too large for a double"
    )
    assert parse_body(b'{"a": 1.5e3}') == ({"a": 1500.0}, None)
    assert (
        parse_body(b"[" * 100_000)[1].message
        == "JSON nested more than 128 levels deep: kept as received, not parsed or validated"
    )


def test_build_capture_classifies_and_validates() -> None:
    capture = build_capture(
        Validator(),
        "POST",
        "/w/qrcode-updated",
        "",
        [],
        "127.0.0.1:9",
        b'{"event": "qrcode.updated", "instance": "s", "data": {}}',
    )
    assert (capture.provider, capture.event, capture.route.mode) == (
        "evolution",
        "qrcode.updated",
        "by-events",
    )
    assert capture.validation.status == "invalid"
    assert capture.id == 0  # the store gives ids


def test_parse_json_warns_about_what_other_parsers_refuse() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": 1}').warnings == (
        "body starts with a UTF-8 byte order mark; some parsers reject it",
    )
    assert (
        parse_json('{"a": 1}'.encode("utf-32-be"))
        .warnings[0]
        .startswith("body is UTF-32 text, not UTF-8")
    )
    repeated = parse_json(b'{"k": 1, "k": 2, "l": [{"m": 1, "m": 2}]}')
    assert repeated.body == {"k": 2, "l": [{"m": 2}]}
    assert repeated.warnings == (
        'duplicate key "k" at $: the last value is used',
        'duplicate key "m" at $.l[0]: the last value is used',
    )
    many = parse_json(("{" + ",".join(f'"k{i}": 1, "k{i}": 2' for i in range(15)) + "}").encode())
    assert len(many.warnings) == 11 and many.warnings[-1] == "... and 5 more duplicate keys"
    assert parse_json(b'{"a": 1}').warnings == ()


def test_parse_json_locates_refused_numbers_outside_strings() -> None:
    assert (
        parse_json(b'{"Infinity": "-Infinity",\n"v": -Infinity}').problem.message
        == "not valid JSON at line 2, column 6: -Infinity is not allowed in JSON"
    )
    assert (
        parse_json(b"[11e400, 1e400]").problem.message
        == "not valid JSON at line 1, column 2: number 11e400 is too large for a double"
    )


def test_depth_limit_counts_levels() -> None:
    assert parse_json(b"[" * 128 + b"]" * 128).status == "json"
    assert parse_json(b"[" * 129 + b"]" * 129).status == "not-json"
    # Brackets inside strings do not make a body deep.
    assert parse_json(json.dumps(["[" * 500]).encode()).status == "json"


def test_read_body_undoes_content_encodings() -> None:
    gz = [("Content-Encoding", "gzip")]
    assert read_body(gzip.compress(b'{"a": 1}'), gz) == Parsed("json", {"a": 1}, decoded_size=8)
    twice = gzip.compress(zlib.compress(b"[1]"))
    assert read_body(twice, [("content-encoding", "deflate, gzip")]).body == [1]
    members = gzip.compress(b'{"a": ') + gzip.compress(b"2}")  # gzip allows several
    assert read_body(members, gz).body == {"a": 2}
    assert read_body(b"", gz).problem.message == "empty body"
    over = read_body(gzip.compress(bytes(2048)), gz, max_body=1024)
    assert (over.status, over.problem.message) == (
        "too-large",
        (
            "the gzip body decodes to more than the --max-body limit of 1 KiB; raise it with "
            "--max-body"
        ),
    )


GZIP = [("Content-Encoding", "gzip")]
EMPTY_MEMBER = gzip.compress(b"")  # 20 bytes
MEMBERS_OVER = (
    "the gzip body holds more than 1,000 gzip members one after another, over the "
    "limit of 1,000 members (a sender writes one)"
)


def test_gzip_members_decode_up_to_the_bound_and_one_more_is_too_large() -> None:
    three = gzip.compress(b'{"a": ') + EMPTY_MEMBER + gzip.compress(b"[1]}")
    assert read_body(three, GZIP) == Parsed("json", {"a": [1]}, decoded_size=10)
    assert MAX_MEMBERS == 1000
    at_the_bound = EMPTY_MEMBER * (MAX_MEMBERS - 1) + gzip.compress(b"[2]")
    assert read_body(at_the_bound, GZIP).body == [2]
    over = read_body(EMPTY_MEMBER + at_the_bound, GZIP)
    assert (over.status, over.problem.message) == ("too-large", MEMBERS_OVER)


def test_members_that_straddle_the_input_steps_decode_whole() -> None:
    """The input is read in steps; a member may end anywhere in one, and a long one spans
    many."""
    rng = random.Random(15)
    plain = [rng.randbytes(size) for size in (70_000, 1, 0, 200_000, 65_536, 3)]
    packed = b"".join(gzip.compress(part) for part in plain)
    assert decoding.decode_content(packed, ["gzip"], 1 << 20) == b"".join(plain)
    cut = read_body(packed[:-8], GZIP)
    assert cut.problem.message.startswith("the gzip body is cut short")
    long = zlib.compress(b"".join(plain))
    assert read_body(long, [("Content-Encoding", "deflate")]).decoded_size == 335_540
    over = read_body(packed, GZIP, max_body=335_539)
    assert over.problem.message.startswith("the gzip body decodes to more than")


def test_many_gzip_members_are_refused_at_once() -> None:
    """240,000 empty members (4.8 MB) took 18 s: each member copied the rest of the body."""
    raw = EMPTY_MEMBER * 240_000 + gzip.compress(b"[1]")
    started = time.monotonic()
    parsed = read_body(raw, GZIP, max_body=64 * 1024 * 1024)
    assert time.monotonic() - started < 2
    assert (parsed.status, parsed.problem.message) == ("too-large", MEMBERS_OVER)


def test_gzip_members_decode_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the member bound too, the work grows with the body, not its square."""
    monkeypatch.setattr(decoding, "MAX_MEMBERS", 10**9)
    raw = EMPTY_MEMBER * 240_000 + gzip.compress(b"[1]")
    started = time.monotonic()
    assert read_body(raw, GZIP, max_body=64 * 1024 * 1024).body == [1]
    assert time.monotonic() - started < 5


def test_read_body_reads_forms_only_when_they_are_not_json() -> None:
    form = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")]
    assert read_body(b"a=1&b=&a=%C3%A9", form) == Parsed("form", {"a": ["1", "é"], "b": ""})
    assert read_body(b"[1]", form).body == [1]
    assert (
        read_body(b"a=\xff", form).problem.message == "form-encoded body is not UTF-8 text (byte 2)"
    )
    assert read_body(b"a=1", []).status == "not-json"  # no Content-Type: no form


def test_limits_messages() -> None:
    limits = Limits(max_body=64 * 1024 * 1024, max_headers=2, max_header_bytes=20)
    assert limits.body_over(70_000_000, declared=True) == (
        "body of 70,000,000 bytes (its Content-Length) is over the --max-body limit of 64 MiB; "
        "raise it with --max-body"
    )
    assert (
        limits.headers_over([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
        == "3 headers, over the limit of 2"
    )
    assert (
        limits.headers_over([(b"a", b"x" * 20)])
        == "headers of 25 bytes, over the limit of 20 bytes"
    )
    assert limits.headers_over([(b"a", b"1")]) is None
    assert limits.headers_kept([("a", "1"), ("b", "x" * 30), ("c", "1")]) == [("a", "1")]
    assert [limit_text(n) for n in (1500, 1024, 3 * 1024**3)] == ["1,500 bytes", "1 KiB", "3 GiB"]


# The common case is parsed by orjson (body_module._plain_json), anything it might read otherwise
# by the careful parse; both must give the same body, status and warnings.

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=25,
)


def _careful(raw: bytes) -> Parsed:
    original = body_module._plain_json
    body_module._plain_json = lambda _raw: body_module._CAREFUL  # type: ignore[assignment]
    try:
        return parse_json(raw)
    finally:
        body_module._plain_json = original


def _same(raw: bytes) -> None:
    fast, careful = parse_json(raw), _careful(raw)
    assert (fast.status, fast.problem, fast.warnings) == (
        careful.status,
        careful.problem,
        careful.warnings,
    ), raw[:200]
    # repr tells 1 from 1.0 and True from 1, which == does not
    assert repr(fast.body) == repr(careful.body), raw[:200]


@pytest.mark.slow
@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(_JSON, st.booleans(), st.sampled_from([(",", ":"), (", ", ": "), (",", " : ")]))
def test_fast_and_careful_parse_agree(value, ascii_only, separators) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only, separators=separators).encode()
    _same(raw)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1, "a": 2}',
        b'{"a": {"b": 1, "b": 1}}',
        b'[{"x": "y:z", "x": 1}]',
        b'{"a:b": 1, "a:b": 2}',
        b'{"k": "\\u003a", "k": 1}',
        b'{"big": 123456789012345678901}',
        b'{"n": -9223372036854775809}',
        b'{"f": 1e400}',
        b'{"f": NaN}',
        b'\xef\xbb\xbf{"a": 1}',
        '{"a": 1}'.encode("utf-16"),
        b'{"s": "\\ud800"}',
        b'{"s": "\\ud83d\\ude00"}',
        b"[" * 200 + b"]" * 200,
        b"[" * 2000 + b"]" * 2000,
        b'{"a": 1.0, "b": -0.0, "c": 1E2}',
        b'  {"a": [1, 2, {"b": null}]}  ',
        b'"just a string"',
        b"42",
        b"{}",
        b"[]",
    ],
)
def test_fast_and_careful_parse_agree_on_edges(raw: bytes) -> None:
    _same(raw)


def test_fast_and_careful_parse_agree_on_every_fixture() -> None:
    for path in sorted(data_dir("fixtures").rglob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))["body"]
        for raw in (json.dumps(body).encode(), json.dumps(body, ensure_ascii=False).encode()):
            _same(raw)

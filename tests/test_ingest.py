"""Ingest: a body that is not JSON is kept, with a message that says where parsing stopped."""

from __future__ import annotations

from hookcatcher.ingest import build_capture, parse_body
from hookcatcher.validation import Validator


def test_parse_body_says_where() -> None:
    assert parse_body(b'{"a": 1}') == ({"a": 1}, None)
    assert parse_body(b"   ")[1].message == "body is only whitespace"
    assert parse_body(b'{"a":\n  tru}')[1].message == \
        "broken JSON at line 2, column 3: Expecting value"
    assert parse_body(b'{"a": NaN}')[1].message == "not valid JSON: NaN is not allowed in JSON"
    assert parse_body(b'{"a": 1e400}')[1].message == \
        "not valid JSON: number 1e400 is too large for a double"
    assert parse_body(b'{"a": 1.5e3}') == ({"a": 1500.0}, None)
    assert parse_body(b"[" * 100_000)[1].message == "JSON nested too deeply to parse"


def test_build_capture_classifies_and_validates() -> None:
    capture = build_capture(Validator(), "POST", "/w/qrcode-updated", "", [], "127.0.0.1:9",
                            b'{"event": "qrcode.updated", "instance": "s", "data": {}}')
    assert (capture.provider, capture.event, capture.route.mode) == \
        ("evolution", "qrcode.updated", "by-events")
    assert capture.validation.status == "invalid"
    assert capture.id == 0  # the store gives ids

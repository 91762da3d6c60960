"""The capture record's JSON form, shared by the API, the stream and `serve --json`."""

from __future__ import annotations

import base64

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Answer, Capture
from hookcatcher.receive.ingest import build_capture

VALIDATOR = Validator()


def test_json_body_leaves_raw_out_unless_asked() -> None:
    capture = build_capture(
        VALIDATOR,
        "POST",
        "/",
        "a=1",
        [("content-type", "application/json")],
        "127.0.0.1:5",
        b'{"a": 1}',
    )
    short = capture.to_json(include_raw=False)
    assert "raw" not in short and short["body"] == {"a": 1}
    assert short["headers"] == [["content-type", "application/json"]]
    assert capture.to_json()["raw"] == '{"a": 1}'
    assert capture.header("Content-Type") == "application/json"
    assert capture.received_at.endswith("Z") and len(capture.received_at) == 27


def test_non_json_always_carries_raw() -> None:
    capture = build_capture(VALIDATOR, "POST", "/", "", [], "", b"\x80abc")
    data = capture.to_json(include_raw=False)
    assert data["raw_encoding"] == "base64" and base64.b64decode(data["raw"]) == b"\x80abc"
    assert data["validation"]["errors"][0]["message"] == "body is not UTF-8 text (byte 0): not JSON"


def test_json_form_reads_back_into_the_same_capture() -> None:
    for raw in (
        b'{"event": "messages.upsert",  "instance": "x", "data": {}}',
        b"\x80\x81 not json",
    ):
        capture = build_capture(
            VALIDATOR,
            "PATCH",
            "/hooks/messages-upsert",
            "k=v",
            [("X-A", "1"), ("x-a", "2")],
            "127.0.0.1:9",
            raw,
        )
        capture.id = 42
        back = Capture.from_json(capture.to_json())
        assert back == capture
        assert back.raw == raw  # byte-exact, whitespace and all


def test_json_form_without_raw_rebuilds_the_bytes_from_the_body() -> None:
    capture = build_capture(VALIDATOR, "POST", "/", "", [], "", b'{"a":   [1, 2]}')
    back = Capture.from_json(capture.to_json(include_raw=False))
    assert back.body == {"a": [1, 2]} and back.raw == b'{"a": [1, 2]}'


def test_retry_mark_and_answer_in_the_json_form_and_back() -> None:
    capture = build_capture(VALIDATOR, "POST", "/", "", [], "", b'{"a": 1}')
    data = capture.to_json()
    assert (data["retry_of"], data["answer"]) == (
        None,
        {"status": 200, "delay_ms": 0, "reason": None},
    )
    capture.retry_of = 4
    capture.answer = Answer(500, 1500, "--fail-first 2: failure 2 of 2 for this body")
    data = capture.to_json(include_raw=False)
    assert data["retry_of"] == 4
    assert data["answer"] == {
        "status": 500,
        "delay_ms": 1500,
        "reason": "--fail-first 2: failure 2 of 2 for this body",
    }
    assert Capture.from_json(data) == capture


def test_json_from_before_answers_existed_reads_back() -> None:
    capture = build_capture(VALIDATOR, "POST", "/", "", [], "", b'{"a": 1}')
    data = capture.to_json()
    del data["retry_of"], data["answer"]
    back = Capture.from_json(data)
    assert (back.retry_of, back.answer) == (None, Answer(200, 0, None))


def test_a_released_body_comes_back_the_same() -> None:
    """A stored capture keeps its bytes and parses them again when its body is asked for:
    plain JSON, escapes and lone surrogates, a gzip body, a form."""
    import gzip

    from hookcatcher.check.validation import Validator
    from hookcatcher.receive.ingest import build_capture

    validator = Validator()
    cases = [
        ([], b'{"event": "messages.upsert", "instance": "s", "data": {"n": 1.0}}'),
        ([], b'{"text": "caf\\u00e9 \\ud800", "dup": 1, "dup": 2}'),
        ([("Content-Encoding", "gzip")], gzip.compress(b'{"a": [1, 2, {"b": null}]}')),
        ([("Content-Type", "application/x-www-form-urlencoded")], b"a=1&b=two"),
    ]
    for headers, raw in cases:
        capture = build_capture(validator, "POST", "/w", "", headers, "", raw)
        before, twin = (
            repr(capture.body),
            build_capture(validator, "POST", "/w", "", headers, "", raw),
        )
        twin.received_at = capture.received_at
        capture.release_body()
        assert repr(capture.body) == before, raw
        assert capture == twin
        assert capture.to_json()["body"] == twin.to_json()["body"]


def test_a_capture_made_by_hand_keeps_its_body() -> None:
    """Only a capture that can parse its bytes again lets go of its body."""
    capture = Capture.from_json(
        {
            "received_at": "2026-01-01T00:00:00.000000Z",
            "method": "POST",
            "path": "/",
            "body": {"a": 1},
        }
    )
    capture.release_body()
    assert capture.body == {"a": 1}

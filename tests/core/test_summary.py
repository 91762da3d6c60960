"""List rows: one capture in the few fields a list column needs, encoded once per capture, and
joined into a JSON array without decoding anything again."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from helpers.bundled import fixture

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Answer, Capture
from hookcatcher.core.summary import row_json, rows_json, summary
from hookcatcher.receive.ingest import build_capture

FIELDS = [
    "id",
    "received_at",
    "method",
    "path",
    "provider",
    "event",
    "instance",
    "chat",
    "status",
    "errors",
    "warnings",
    "size",
    "retry_of",
    "answered",
    "app",
]


def captured(
    validator: Validator,
    name: str,
    path: str = "/webhook",
    change: Callable[[dict[str, Any]], None] | None = None,
    capture_id: int = 1,
) -> Capture:
    document = fixture(name)
    if change is not None:
        change(document["body"])
    capture = build_capture(
        validator,
        "POST",
        path,
        "",
        [tuple(h) for h in document["headers"]],
        "127.0.0.1:1",
        json.dumps(document["body"], ensure_ascii=False).encode(),
    )
    capture.id = capture_id
    return capture


def test_summary_of_a_valid_message(validator: Validator) -> None:
    capture = captured(validator, "evolution/v2/messages.upsert.text", capture_id=12)
    row = summary(capture)
    assert list(row) == FIELDS
    assert row["id"] == 12 and row["received_at"] == capture.received_at
    assert (row["method"], row["path"], row["provider"], row["event"], row["instance"]) == (
        "POST",
        "/webhook",
        "evolution",
        "messages.upsert",
        "sales",
    )
    assert row["chat"] == capture.body["data"]["key"]["remoteJid"]
    assert (row["status"], row["errors"], row["warnings"]) == ("valid", 0, 0)
    assert row["size"] == len(capture.raw)
    assert (row["retry_of"], row["answered"]) == (None, 200)


def test_summary_counts_errors_and_warnings(validator: Validator) -> None:
    def break_it(body: dict[str, Any]) -> None:
        body["data"]["key"]["fromMe"] = "no"
        body["data"]["key"]["id"] = 5

    capture = captured(validator, "evolution/v2/messages.upsert.text", change=break_it)
    capture.warnings = ["first", "second"]
    row = summary(capture)
    assert row["status"] == "invalid"
    assert row["errors"] == len(capture.validation.errors) == 2
    assert row["warnings"] == 2


def test_summary_of_something_that_is_no_message(validator: Validator) -> None:
    capture = build_capture(validator, "PUT", "/anything", "a=1", [], "127.0.0.1:1", b"\xffnope")
    row = summary(capture)
    assert (row["provider"], row["event"], row["instance"], row["chat"]) == (
        "unknown",
        None,
        None,
        None,
    )
    assert (row["status"], row["errors"], row["size"], row["method"]) == ("not-json", 1, 5, "PUT")


def test_row_json_is_the_summary_encoded_once(validator: Validator) -> None:
    capture = captured(validator, "whapi/messages.post.text", capture_id=3)
    assert capture.row is None
    first = row_json(capture)
    assert capture.row is first
    assert json.loads(first) == summary(capture)
    assert b", " not in first and b'": ' not in first  # compact: no spaces between tokens
    # A kept capture does not change, so the second call must not encode again.
    capture.id = 99
    again = row_json(capture)
    assert again is first and json.loads(again)["id"] == 3


def test_row_json_keeps_non_ascii_text_as_utf8(validator: Validator) -> None:
    capture = captured(
        validator,
        "evolution/v2/messages.upsert.text",
        change=lambda body: body.update(instance="vendas São Paulo 👋"),
    )
    row = row_json(capture)
    assert summary(capture)["instance"] == "vendas São Paulo 👋"
    assert "São Paulo 👋".encode() in row and b"\\u" not in row
    assert json.loads(row.decode("utf-8")) == summary(capture)


def test_rows_json_is_a_json_array_of_the_summaries(validator: Validator) -> None:
    captures = [
        captured(validator, "evolution/v2/messages.upsert.text", capture_id=1),
        captured(validator, "whapi/messages.post.text", capture_id=2),
        captured(validator, "codechat/v2/messages.upsert.text", capture_id=3),
    ]
    captures[1].row = None
    encoded = rows_json(captures)
    assert json.loads(encoded) == [summary(capture) for capture in captures]
    # The rows are cached on the way, and reused by the next listing.
    assert all(capture.row is not None for capture in captures)
    cached = [capture.row for capture in captures]
    assert rows_json(iter(captures)) == encoded
    assert [capture.row for capture in captures] == cached
    assert all(a is b for a, b in zip((c.row for c in captures), cached, strict=True))


def test_rows_json_of_nothing_is_an_empty_array() -> None:
    assert rows_json([]) == b"[]"
    assert json.loads(rows_json(iter(()))) == []


def test_summary_says_what_it_repeats_and_how_it_was_answered(validator: Validator) -> None:
    capture = captured(validator, "whapi/messages.post.text", capture_id=3)
    capture.retry_of = 1
    capture.answer = Answer(503, 250, "--respond 503; --delay 250")
    row = summary(capture)
    assert (row["retry_of"], row["answered"]) == (1, 503)
    assert json.loads(row_json(capture))["answered"] == 503

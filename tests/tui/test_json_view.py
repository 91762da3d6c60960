"""The Body tab's printer: every JSON path starts on a known line (the Validation tab jumps
there), paths are written as the validator writes them, and long base64 folds to one line
that still says how big it was."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from helpers.bundled import fixture

from hookcatcher.check.validation import Validator
from hookcatcher.core.jsonpath import json_path
from hookcatcher.receive.ingest import build_capture
from hookcatcher.tui.json_view import FOLD_OVER, fold, line_of, render_body


def shown_lines(body: Any) -> list[str]:
    return render_body(body).text.plain.split("\n")


def every_path(value: Any, parts: tuple[Any, ...] = ()) -> dict[str, Any]:
    """Each JSON path of `value` (written by jsonpath.json_path) and the value there."""
    found = {json_path(parts): value}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(every_path(item, parts + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.update(every_path(item, parts + (index,)))
    return found


BODY = {
    "event": "messages.upsert",
    "odd key": {"with.dot": [1, {"deep": []}], "x[0]": "bracket"},
    "café": "olá 👋",
    "empty_object": {},
    "empty_list": [],
    "matrix": [[1, 2], [], [[True, None]]],
    "data": {"key": {"fromMe": False, "id": "3EB0"}, "n": 1.5},
}


def test_the_text_is_pretty_json_that_parses_back_to_the_body() -> None:
    view = render_body(BODY)
    assert json.loads(view.text.plain) == BODY
    assert view.line_count == len(view.text.plain.split("\n"))
    # Non-ASCII is shown as typed, not as \u escapes.
    assert any('"café": "olá 👋",' in line for line in shown_lines(BODY))


def test_every_path_maps_to_the_line_where_its_value_starts() -> None:
    view = render_body(BODY)
    lines = view.text.plain.split("\n")
    expected = every_path(BODY)
    assert set(view.lines) == set(expected)
    for path, value in expected.items():
        line = lines[view.lines[path]].strip()
        if path == "$":
            assert view.lines[path] == 0 and line == "{"
            continue
        head = json.dumps(value, ensure_ascii=False)
        if isinstance(value, dict) and value:
            head = "{"
        elif isinstance(value, list) and value:
            head = "["
        assert line.rstrip(",").endswith(head), (path, line)


def test_keys_that_are_not_identifiers_are_written_like_the_validator_writes_them() -> None:
    view = render_body(BODY)
    lines = view.text.plain.split("\n")
    assert '$["odd key"]' in view.lines
    assert '$["odd key"]["with.dot"][1].deep' in view.lines
    assert '$["odd key"]["x[0]"]' in view.lines
    assert json_path(["café"]) in view.lines
    assert lines[view.lines['$["odd key"]["x[0]"]']].strip() == '"x[0]": "bracket"'
    assert lines[view.lines["$.data.key.fromMe"]].strip() == '"fromMe": false,'


def test_nested_arrays_and_empty_containers() -> None:
    view = render_body(BODY)
    lines = view.text.plain.split("\n")
    assert lines[view.lines["$.empty_object"]].strip() == '"empty_object": {},'
    assert lines[view.lines["$.empty_list"]].strip() == '"empty_list": [],'
    assert lines[view.lines["$.matrix[1]"]].strip() == "[],"
    assert lines[view.lines["$.matrix[2][0][1]"]].strip() == "null"
    assert view.lines["$.matrix[0][0]"] == view.lines["$.matrix[0]"] + 1
    assert lines[view.lines["$.matrix[0][1]"]] == " " * 6 + "2"  # three levels of two spaces


@pytest.mark.parametrize(
    "body, text",
    [
        ({}, "{}"),
        ([], "[]"),
        ("héllo", '"héllo"'),
        (None, "null"),
        (0, "0"),
    ],
)
def test_a_body_that_is_empty_or_a_scalar_is_one_line(body: Any, text: str) -> None:
    view = render_body(body)
    assert view.text.plain == text
    assert view.lines == {"$": 0} and view.line_count == 1


def test_a_missing_path_falls_back_to_its_nearest_existing_parent() -> None:
    view = render_body(BODY)
    assert line_of(view, "$.data.key.fromMe") == view.lines["$.data.key.fromMe"]
    assert line_of(view, "$.data.key.remoteJid") == view.lines["$.data.key"]
    assert line_of(view, "$.data.key.a.b.c") == view.lines["$.data.key"]
    assert line_of(view, "$.matrix[2][5]") == view.lines["$.matrix[2]"]
    assert line_of(view, "$.matrix[9].x") == view.lines["$.matrix"]
    assert (
        line_of(view, '$["odd key"]["with.dot"][1].missing')
        == view.lines['$["odd key"]["with.dot"][1]']
    )
    assert line_of(view, '$["odd key"]["no.such"]') == view.lines['$["odd key"]']
    assert line_of(view, "$.nothing") == 0
    assert line_of(view, "$") == 0


def test_a_validation_error_path_lands_on_the_offending_line(validator: Validator) -> None:
    document = fixture("evolution/v2/messages.upsert.text")
    document["body"]["data"]["key"]["fromMe"] = "no"
    capture = build_capture(
        validator,
        "POST",
        "/webhook",
        "",
        [tuple(h) for h in document["headers"]],
        "127.0.0.1:1",
        json.dumps(document["body"]).encode(),
    )
    (problem,) = capture.validation.errors
    view = render_body(capture.body)
    line = view.text.plain.split("\n")[line_of(view, problem.path)]
    assert line.strip().startswith('"fromMe": "no"')


# -- folding


def b64(size: int) -> str:
    return base64.b64encode(bytes(range(256)) * (size // 256) + bytes(size % 256)).decode()


def test_a_long_base64_string_folds_with_its_decoded_size() -> None:
    value = b64(3000)
    assert fold(value) == f"{value[:24]}… [2.9 KB base64, folded]"
    assert fold(b64(150)) == f"{b64(150)[:24]}… [150 B base64, folded]"
    assert fold(b64(3 * 1024 * 1024)).endswith("… [3.0 MB base64, folded]")


def test_the_folded_size_does_not_count_the_padding() -> None:
    # 121 bytes encode to 164 characters ending in "==": the thumbnail is 121 B, not 123 B.
    value = b64(121)
    assert value.endswith("==")
    assert fold(value) == f"{value[:24]}… [121 B base64, folded]"


def test_a_data_url_keeps_its_prefix_and_counts_only_the_payload() -> None:
    payload = b64(6000)
    folded = fold("data:image/png;base64," + payload)
    assert folded == f"data:image/png;base64,{payload[:24]}… [5.9 KB base64, folded]"


def test_url_safe_base64_folds_too() -> None:
    value = base64.urlsafe_b64encode(bytes(range(256)) * 2).decode()
    assert "-" in value and "_" in value
    assert fold(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        b64(90)[:FOLD_OVER],  # exactly at the limit
        "QUJD",
        "a sentence long enough to pass the limit but full of spaces, so it is text " * 3,
        "https://example.com/media/" + "a" * 200 + ".jpg",
        "data:text/plain,just some text " + "x" * 200,
        b64(200) + "!",
        "",
    ],
)
def test_short_or_non_base64_strings_do_not_fold(value: str) -> None:
    assert fold(value) is None


def test_render_body_shows_the_folded_form_on_one_line_but_keeps_the_path() -> None:
    thumb = b64(40_000)
    body = {"message": {"imageMessage": {"jpegThumbnail": thumb, "caption": "hi"}}}
    view = render_body(body)
    line = view.text.plain.split("\n")[view.lines["$.message.imageMessage.jpegThumbnail"]]
    assert line.strip() == f'"jpegThumbnail": "{thumb[:24]}… [39.1 KB base64, folded]",'
    assert thumb not in view.text.plain
    assert view.line_count == 8

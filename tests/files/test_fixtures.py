"""The bundled knowledge is complete and right: every catalog event has a schema and a
fixture, every fixture is valid and classified as its own event (posted to `/` and to its
per-event path), and breaking a fixture is reported at the JSON path that was broken."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hookcatcher.check.validation import Validator
from hookcatcher.core import catalog
from hookcatcher.files.fixtures import Fixture, bundled
from hookcatcher.receive.app import create_app
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store

FIXTURES = list(bundled())
IDS = [f.name for f in FIXTURES]
EVENTS = [e for p in catalog.PROVIDERS.values() for e in p.events]


def _event_id(event: catalog.Event) -> str:
    return f"{event.provider}:{event.name}"


@pytest.mark.parametrize("event", EVENTS, ids=_event_id)
def test_every_catalog_event_has_a_schema(validator: Validator, event: catalog.Event) -> None:
    assert event.schema_id in validator.schema_ids, f"no schemas/{event.schema_id}.json"
    document = validator.document(event.schema_id)
    assert document.get("title") and document.get("description")


@pytest.mark.parametrize("event", EVENTS, ids=_event_id)
def test_every_catalog_event_has_a_fixture(event: catalog.Event) -> None:
    assert any(
        f.provider == event.provider and catalog.find(f.provider, f.event) == event
        for f in FIXTURES
    ), f"no fixture for {event.provider} {event.name}"


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_fixture_is_valid(validator: Validator, fixture: Fixture) -> None:
    result = validator.check(fixture.provider, fixture.event, fixture.body)
    assert result.errors == () and result.status == "valid"


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(Store(max_events=100_000))) as running:
        yield running


def _deliveries(fixture: Fixture) -> list[tuple[str, str]]:
    """(method, path) the gateway may use for this event: single URL, then per-event."""
    event = catalog.find(fixture.provider, fixture.event)
    found = [("POST", "/")]
    if event is not None and event.suffix and fixture.provider == "evolution":
        found.append(("POST", f"/hooks/{event.suffix}"))
    if event is not None and fixture.provider == "whapi":
        kind, method = event.suffix.split("/")
        found += [("POST", f"/hooks/{kind}/{method}"), (method.upper(), f"/hooks/{kind}")]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_fixture_is_classified_as_its_own_event(server: BackgroundServer, fixture: Fixture) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for method, path in _deliveries(fixture):
            answer = http.request(
                method, path, content=fixture.raw(), headers=dict(fixture.headers)
            )
            assert answer.status_code == 200
            capture = http.get(f"/_hookcatcher/api/events/{answer.json()['id']}").json()
            where = f"{method} {path}"
            assert (capture["provider"], capture["event"]) == (fixture.provider, fixture.event), (
                where
            )
            assert capture["validation"]["status"] == "valid", (where, capture["validation"])
            assert capture["warnings"] == [], where


def _paths(node: Any, at: tuple = ()) -> Iterator[tuple]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield at + (key,)
            yield from _paths(value, at + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node[:2]):
            yield at + (index,)
            yield from _paths(value, at + (index,))


def _json_path(parts: tuple) -> str:
    from hookcatcher.core.jsonpath import json_path

    return json_path(parts)


def _mutated(body: Any, parts: tuple, change) -> Any:
    copied = copy.deepcopy(body)
    node = copied
    for part in parts[:-1]:
        node = node[part]
    change(node, parts[-1])
    return copied


def _other_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return "12345x"
    if isinstance(value, str):
        return 12345
    if value is None:
        return {"unexpected": True}
    return "not-a-container"


def _has_error_at(result, path: str) -> bool:
    return any(problem.path == path for problem in result.errors)


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_mutations_are_reported_where_they_were_made(
    validator: Validator, fixture: Fixture
) -> None:
    """Remove a field, change its type, put a value outside its enum: whenever that makes the
    body invalid, an error names the JSON path that was changed. Each fixture must have at least
    one required field and one typed field that the schema notices."""
    noticed = {"removed": 0, "retyped": 0}
    for parts in _paths(fixture.body):
        path = _json_path(parts)
        if isinstance(parts[-1], str):
            result = validator.check(
                fixture.provider,
                fixture.event,
                _mutated(fixture.body, parts, lambda n, k: n.pop(k)),
            )
            if result.errors:
                noticed["removed"] += 1
                assert _has_error_at(result, path), (path, "removed", result.errors)
        result = validator.check(
            fixture.provider,
            fixture.event,
            _mutated(fixture.body, parts, lambda n, k: n.__setitem__(k, _other_type(n[k]))),
        )
        if result.errors:
            noticed["retyped"] += 1
            assert _has_error_at(result, path), (path, "retyped", result.errors)
        result = validator.check(
            fixture.provider,
            fixture.event,
            _mutated(
                fixture.body,
                parts,
                lambda n, k: n.__setitem__(k, "NOT-IN-ANY-ENUM") if isinstance(n[k], str) else None,
            ),
        )
        if result.errors:
            assert _has_error_at(result, path), (path, "out of enum", result.errors)
    assert noticed["removed"] > 0 and noticed["retyped"] > 0, noticed


def test_out_of_enum_values_are_caught_somewhere() -> None:
    """At least the status enums: a sanity check that enum mutation is not vacuous."""
    validator = Validator()
    body = next(f for f in FIXTURES if f.name == "evolution/v2/messages.update.read").body
    broken = copy.deepcopy(body)
    broken["data"]["status"] = "NOT-IN-ANY-ENUM"
    assert _has_error_at(validator.check("evolution", "messages.update", broken), "$.data.status")


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_fixture_file_is_well_formed(fixture: Fixture) -> None:
    assert fixture.title and fixture.version
    assert fixture.provider in catalog.PROVIDERS
    assert catalog.find(fixture.provider, fixture.event) is not None
    stem = fixture.path.name.removesuffix(".json")
    assert stem.startswith(catalog.file_stem(fixture.event)), stem
    assert all(char not in fixture.path.name for char in ':*?"<>|\\'), "not a portable file name"
    assert fixture.path.parts[-2 if fixture.provider == "whapi" else -3] == fixture.provider
    assert ("content-type", "application/json") in [(k.lower(), v) for k, v in fixture.headers]
    json.dumps(fixture.body)


# Saving a capture as a fixture file: what the TUI's "save" writes must load back, and
# `hookcatcher validate` must read it as a fixture.

from pathlib import Path  # noqa: E402

from helpers.bundled import body_of  # noqa: E402

from hookcatcher.core.capture import Capture  # noqa: E402
from hookcatcher.files import checking as offline  # noqa: E402
from hookcatcher.files import fixtures  # noqa: E402
from hookcatcher.receive.ingest import build_capture  # noqa: E402

GATEWAY_HEADERS = [
    ("host", "hookcatcher.example:8787"),
    ("content-length", "1234"),
    ("connection", "keep-alive"),
    ("user-agent", "axios/1.7.9"),
    ("content-type", "application/json"),
    ("transfer-encoding", "chunked"),
    ("apikey", "B1C2-EXAMPLE"),
]
KEPT_HEADERS = [
    ["user-agent", "axios/1.7.9"],
    ["content-type", "application/json"],
    ["apikey", "B1C2-EXAMPLE"],
]


def _captured(
    validator: Validator, raw: bytes, headers: list[tuple[str, str]] | None = None
) -> Capture:
    capture = build_capture(
        validator, "POST", "/hooks", "", headers or GATEWAY_HEADERS, "127.0.0.1:40001", raw
    )
    capture.id = 12
    return capture


def test_document_of_a_capture(validator: Validator) -> None:
    capture = _captured(validator, body_of("evolution/v2/messages.upsert.text"))
    assert fixtures.document_of(capture) == {
        "title": f"captured messages.upsert from sales at {capture.received_at}",
        "provider": "evolution",
        "version": "captured",  # v1 and v2 both send messages.upsert
        "event": "messages.upsert",
        "headers": KEPT_HEADERS,
        "body": json.loads(body_of("evolution/v2/messages.upsert.text")),
    }
    assert fixtures.document_of(capture, "a sale")["title"] == "a sale"


@pytest.mark.parametrize(
    "name, version",
    [
        ("whapi/messages.post.text", "1.8"),
        ("evolution/v2/messages.edited.edit", "v2"),
        ("codechat/2026/history.sync", "2026"),
    ],
)
def test_document_version_when_only_one_version_sends_the_event(
    validator: Validator, name: str, version: str
) -> None:
    assert fixtures.document_of(_captured(validator, body_of(name)))["version"] == version


def test_document_of_an_unrecognised_body(validator: Validator) -> None:
    capture = _captured(validator, b'{"hello": "world"}', [("content-type", "text/plain")])
    document = fixtures.document_of(capture)
    assert (document["provider"], document["event"], document["version"]) == (
        "unknown",
        None,
        "captured",
    )
    assert document["title"] == f"captured request at {capture.received_at}"


def test_a_body_that_is_not_json_cannot_be_a_fixture(validator: Validator, tmp_path: Path) -> None:
    capture = _captured(validator, b'{"event": "messages.upsert",')
    message = (
        "capture 12 cannot be a fixture: its body is not JSON (broken JSON at line 1, "
        "column 29: Expecting property name enclosed in double quotes)"
    )
    with pytest.raises(fixtures.FixtureError, match=r"^capture 12 ") as caught:
        fixtures.save(capture, tmp_path)
    assert str(caught.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_saved_capture_loads_back_and_validates_as_a_fixture(
    validator: Validator, tmp_path: Path
) -> None:
    body = json.loads(body_of("evolution/v2/messages.upsert.text"))
    body["data"]["pushName"] = "José ✓"
    raw = ("  " + json.dumps(body, indent="\t", ensure_ascii=False) + "\r\n").encode()
    capture = _captured(validator, raw)
    assert capture.body == body

    path = fixtures.save(capture, tmp_path / "saved")
    assert path == tmp_path / "saved" / "evolution" / "messages.upsert.12.json"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "title": "captured messages.upsert') and text.endswith("}\n")
    assert '"pushName": "José ✓"' in text  # written as text, not \u escapes
    loaded = fixtures.load(path)
    assert (loaded.provider, loaded.event, loaded.body) == ("evolution", "messages.upsert", body)
    assert [list(pair) for pair in loaded.headers] == KEPT_HEADERS

    [result] = offline.check_files(validator, [str(path)])
    assert (result.status, result.provider, result.event, result.errors) == (
        "valid",
        "evolution",
        "messages.upsert",
        [],
    )
    # Read as a fixture, so its declared event is held against the body.
    document = json.loads(text)
    document["event"] = "messages.update"
    path.write_text(json.dumps(document), encoding="utf-8")
    [result] = offline.check_files(validator, [str(path)])
    assert result.status == "invalid"
    assert result.errors[0].message == (
        "the fixture says evolution messages.update but the body is evolution messages.upsert"
    )


def test_save_never_overwrites(validator: Validator, tmp_path: Path) -> None:
    capture = _captured(validator, body_of("whapi/messages.post.text"))
    first = fixtures.save(capture, tmp_path)
    second = fixtures.save(capture, tmp_path, title="again")
    third = fixtures.save(capture, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in (first, second, third)] == [
        "whapi/messages.post.12.json",
        "whapi/messages.post.12.2.json",
        "whapi/messages.post.12.3.json",
    ]
    assert fixtures.load(first).title.startswith("captured messages/post from EXAMPLE-M72HC")
    assert fixtures.load(second).title == "again"


@pytest.mark.parametrize(
    "raw, where",
    [
        (
            body_of("codechat/v2/group.participants.update"),
            "codechat/group.participants.update.12.json",
        ),
        (b'{"hello": "world"}', "unknown/capture.12.json"),
        # Event names come from the sender: nothing in one may leave the folder.
        (b'{"event": "../../../x y\\\\z", "instance": "a", "data": {}}', "evolution/x_y_z.12.json"),
        (b'{"event": "...", "instance": "a", "data": {}}', "evolution/capture.12.json"),
    ],
)
def test_saved_file_names(validator: Validator, tmp_path: Path, raw: bytes, where: str) -> None:
    path = fixtures.save(_captured(validator, raw), tmp_path)
    assert path.relative_to(tmp_path).as_posix() == where


def test_a_folder_that_cannot_be_written_is_a_clear_error(
    validator: Validator, tmp_path: Path
) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file, not a folder")
    with pytest.raises(fixtures.FixtureError) as caught:
        fixtures.save(_captured(validator, body_of("whapi/messages.post.text")), blocker)
    assert str(caught.value) == f"{blocker / 'whapi'}: cannot write: Not a directory"


@pytest.mark.parametrize(
    "name, options, chosen",
    [
        ("messages.upsert", {}, "evolution/v2/messages.upsert.text"),
        ("messages.upsert", {"version": "v1"}, "evolution/v1/messages.upsert.text"),
        ("messages.upsert", {"variant": "image"}, "evolution/v2/messages.upsert.image"),
        ("messages.upsert", {"provider": "codechat"}, "codechat/2026/messages.upsert.text"),
        ("codechat/messages.upsert", {"version": "v2"}, "codechat/v2/messages.upsert.text"),
        ("evolution/v1/messages.upsert", {}, "evolution/v1/messages.upsert.text"),
        ("whapi/messages/post", {"variant": "image"}, "whapi/messages.post.image"),
        ("messages/post", {}, "whapi/messages.post.text"),
        ("messages.post", {"variant": "poll"}, "whapi/messages.post.poll"),
        ("connection.update", {}, "evolution/v2/connection.update.close"),  # by name
        ("evolution/v1/messages.upsert.image", {}, "evolution/v1/messages.upsert.image"),
    ],
)
def test_pick_a_fixture_by_event_or_name(name: str, options: dict[str, str], chosen: str) -> None:
    assert fixtures.pick(name, **options).name == chosen


@pytest.mark.parametrize(
    "name, options, message",
    [
        (
            "messages.upsrt",
            {},
            "no bundled fixture for 'messages.upsrt' (did you mean "
            "messages.upsert?); `hookcatcher send --list` shows them all",
        ),
        (
            "messages.upsert",
            {"version": "v9"},
            "no bundled fixture for messages.upsert with --version v9; there are: "
            "codechat/2026/messages.upsert.group-lid, ",
        ),
    ],
)
def test_pick_says_what_there_is(name: str, options: dict[str, str], message: str) -> None:
    with pytest.raises(fixtures.FixtureError) as caught:
        fixtures.pick(name, **options)
    assert str(caught.value).startswith(message)


def test_variant_is_what_the_file_name_adds() -> None:
    assert fixtures.pick("evolution/v2/messages.upsert.image").variant == "image"
    assert fixtures.pick("evolution/v2/send.message.update").variant == ""
    assert fixtures.pick("whapi/groups.put.add").variant == "add"

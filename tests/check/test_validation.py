"""Validation errors as a developer reads them: a JSON path, what was expected, what came."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from helpers.bundled import fixture

from hookcatcher.check.validation import SchemaError, Validator
from hookcatcher.core.capture import Problem
from hookcatcher.core.jsonpath import json_path
from hookcatcher.core.resources import data_dir

FIXTURES = [
    "evolution/v2/messages.upsert.text",
    "evolution/v2/messages.update.read",
    "evolution/v2/connection.update.open",
    "evolution/v2/qrcode.updated",
    "evolution/v1/messages.upsert.text",
]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_are_valid(validator: Validator, name: str) -> None:
    item = fixture(name)
    result = validator.check(item["provider"], item["event"], item["body"])
    assert (result.status, result.errors) == ("valid", ())
    assert result.schema == f"{item['provider']}/{item['event']}"


def upsert() -> dict:
    return copy.deepcopy(fixture("evolution/v2/messages.upsert.text")["body"])


def test_wrong_type_missing_field_bad_enum_bad_jid(validator: Validator) -> None:
    body = upsert()
    body["data"]["key"]["remoteJid"] = "5511900000001"
    body["data"]["messageTimestamp"] = "yesterday"
    del body["data"]["key"]["id"]
    body["data"]["source"] = "blackberry"
    errors = validator.check("evolution", "messages.upsert", body).errors
    assert errors == (
        Problem("$.data.key.id", "required field is missing"),
        Problem("$.data.key.remoteJid", 'expected a WhatsApp JID, got string "5511900000001"'),
        Problem(
            "$.data.messageTimestamp", 'expected a Unix time in seconds, got string "yesterday"'
        ),
        Problem(
            "$.data.source",
            'expected one of "ios", "web", "android", "desktop", "unknown", '
            'got string "blackberry"',
        ),
    )


def test_versions_are_tolerated_not_rejected(validator: Validator) -> None:
    body = upsert()
    body["data"]["messageTimestamp"] = {"low": 1763712000, "high": 0, "unsigned": True}
    body["data"]["key"].update(
        remoteJidAlt="5511900000001@s.whatsapp.net",
        addressingMode="lid",
        remoteJid="123456789012345@lid",
    )
    del body["sender"]  # before the first connection
    assert validator.check("evolution", "messages.upsert", body).status == "valid"


def test_envelope_errors_come_with_event_errors(validator: Validator) -> None:
    body = upsert()
    body["instance"] = 42
    body["apikey"] = False
    errors = validator.check("evolution", "messages.upsert", body).errors
    assert errors == (
        Problem("$.apikey", "expected a string or null, got boolean false"),
        Problem("$.instance", "expected a string, got number 42"),
    )


def test_messages_update_needs_an_id_of_either_version(validator: Validator) -> None:
    body = copy.deepcopy(fixture("evolution/v2/messages.update.read")["body"])
    del body["data"]["keyId"]
    assert validator.check("evolution", "messages.update", body).errors == (
        Problem("$.data.keyId", "required field is missing (one of: keyId | id)"),
    )
    body["data"]["id"] = "3EB0"  # the v1 name
    assert validator.check("evolution", "messages.update", body).status == "valid"


def test_unknown_event_of_a_known_gateway_is_invalid(validator: Validator) -> None:
    body = upsert()
    body["event"] = "messages.upserted"
    result = validator.check("evolution", "messages.upserted", body)
    assert result.status == "invalid"
    assert result.errors[0] == Problem(
        "$.event",
        "unknown Evolution API event 'messages.upserted': not in the catalog "
        "(see /_hookcatcher/api/catalog)",
    )


def test_known_event_without_its_own_schema_checks_the_envelope(tmp_path: Path) -> None:
    """An installation whose schemas lack an event still checks the gateway's envelope."""
    folder = tmp_path / "evolution"
    folder.mkdir()
    for name in ("envelope.json", "defs.json"):
        (folder / name).write_text((data_dir("schemas") / "evolution" / name).read_text())
    partial = Validator(tmp_path)
    result = partial.check("evolution", "call", {"event": "call", "instance": "s", "data": {}})
    assert (result.status, result.schema) == ("no-schema", "evolution/envelope")
    broken = partial.check("evolution", "call", {"event": "call", "data": {}})
    assert broken.status == "invalid"
    assert broken.errors == (Problem("$.instance", "required field is missing"),)


def test_unknown_provider_has_no_schema(validator: Validator) -> None:
    assert validator.check("unknown", None, {"a": 1}).status == "no-schema"


def test_json_path_spelling() -> None:
    assert json_path([]) == "$"
    assert json_path(["data", "key", "fromMe"]) == "$.data.key.fromMe"
    assert json_path(["messages", 0, "id"]) == "$.messages[0].id"
    assert json_path(["odd key", "x.y"]) == '$["odd key"]["x.y"]'


def test_broken_schema_fails_at_start_with_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "evolution"
    folder.mkdir()
    (folder / "envelope.json").write_text(
        json.dumps(
            {
                "$id": "https://hookcatcher.invalid/schemas/evolution/envelope.json",
                "properties": {"data": {"$ref": "missing.json"}},
            }
        )
    )
    with pytest.raises(
        SchemaError, match=r"evolution/envelope.json: \$ref 'missing.json' does not resolve"
    ):
        Validator(tmp_path)
    (folder / "envelope.json").write_text("{not json")
    with pytest.raises(SchemaError, match="envelope.json"):
        Validator(tmp_path)


def test_field_descriptions_by_path(validator: Validator) -> None:
    fields = validator.fields("evolution/messages.upsert")
    assert fields["$.data"] == "The message, as Evolution's prepareMessage builds it."
    assert "idempotent" in fields["$.data.key.id"]
    assert validator.describe("evolution/messages.upsert", "$.data.key.fromMe").startswith(
        "true when"
    )
    assert validator.describe("whapi/envelope", "$.errors[3].code") is None
    assert validator.describe("whapi/envelope", "$.event.type").startswith("The kind of entity")


# The fast check (fastcheck.py) says "holds" for a valid body; anything it rejects goes to
# jsonschema. It must never hold where jsonschema finds an error, nor miss a valid body.

from files.test_fixtures import FIXTURES as BUNDLED  # noqa: E402
from files.test_fixtures import _mutated, _other_type, _paths  # noqa: E402


@pytest.fixture(scope="module")
def reference() -> Validator:
    """A Validator whose fast check never holds: every answer is jsonschema's."""
    only_jsonschema = Validator()
    only_jsonschema.holds = lambda schema_id, body: False  # type: ignore[method-assign]
    return only_jsonschema


def _variants(body: object) -> list[object]:
    """The body, and the mutations tests/files/test_fixtures.py makes: each field removed, retyped
    and set to a value outside any enum."""
    found = [body]
    for parts in _paths(body):
        if isinstance(parts[-1], str):
            found.append(_mutated(body, parts, lambda n, k: n.pop(k)))
        found.append(_mutated(body, parts, lambda n, k: n.__setitem__(k, _other_type(n[k]))))
        found.append(
            _mutated(
                body,
                parts,
                lambda n, k: n.__setitem__(k, "NOT-IN-ANY-ENUM") if isinstance(n[k], str) else None,
            )
        )
    return found


@pytest.mark.slow
def test_fast_check_agrees_with_jsonschema_on_every_fixture_and_mutation(
    validator: Validator, reference: Validator
) -> None:
    checked = disagreements = 0
    for item in BUNDLED:
        for body in _variants(item.body):
            expected = reference.check(item.provider, item.event, body)
            assert expected.schema is not None
            holds = validator.holds(expected.schema, body)
            checked += 1
            if holds != (expected.errors == ()):
                disagreements += 1
                assert not holds, (item.name, body, expected.errors)
            assert validator.check(item.provider, item.event, body) == expected, item.name
    assert checked > 5_000 and disagreements == 0, (checked, disagreements)


def test_every_bundled_schema_has_a_fast_check(validator: Validator) -> None:
    """A schema without one would quietly cost a jsonschema walk for every body."""
    for schema_id in validator.schema_ids:
        validator.holds(schema_id, None)
    assert [s for s in validator.schema_ids if validator._fast[s] is None] == []


def test_fast_check_holds_for_valid_bodies_only(validator: Validator) -> None:
    body = upsert()
    assert validator.holds("evolution/messages.upsert", body)
    body["data"]["key"]["fromMe"] = "yes"
    assert not validator.holds("evolution/messages.upsert", body)
    assert not validator.holds("evolution/no-such-schema", upsert())


def test_a_schema_the_fast_check_cannot_compile_is_checked_by_jsonschema(tmp_path: Path) -> None:
    """A cycle between two files stays a `$ref` after inlining; the fast check would have to
    fetch it, refuses, and jsonschema checks that schema alone, with the same answers."""
    folder = tmp_path / "evolution"
    folder.mkdir()
    base = "https://hookcatcher.invalid/schemas/evolution"
    (folder / "messages.upsert.json").write_text(
        json.dumps(
            {
                "$id": f"{base}/messages.upsert.json",
                "type": "object",
                "required": ["data"],
                "properties": {"data": {"$ref": "tree.json"}},
            }
        )
    )
    (folder / "tree.json").write_text(
        json.dumps(
            {
                "$id": f"{base}/tree.json",
                "type": "object",
                "properties": {"child": {"$ref": "tree.json"}},
            }
        )
    )
    validator = Validator(tmp_path)
    valid = {"event": "messages.upsert", "data": {"child": {"child": {}}}}
    assert not validator.holds("evolution/messages.upsert", valid)
    assert validator.check("evolution", "messages.upsert", valid).status == "valid"
    broken = {"event": "messages.upsert", "data": {"child": {"child": 5}}}
    result = validator.check("evolution", "messages.upsert", broken)
    assert result.errors == (Problem("$.data.child.child", "expected an object, got number 5"),)


def test_every_bundled_schema_is_a_valid_json_schema() -> None:
    # The server skips this check at start-up (it costs most of a second); this test keeps it.
    assert len(Validator(check_schemas=True).schema_ids) == len(Validator().schema_ids) > 100

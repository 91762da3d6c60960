"""Validation: every body checked against its gateway's JSON Schema (draft 2020-12).

Schemas are read and compiled once, when the server starts. Errors are reported the way a
developer fixes them: a JSON path (`$.data.key.fromMe`), what was expected and what came.

Almost every body is valid, and jsonschema walks one in about 120 µs (300 ms for a messages.set
of 5,000 messages), most of a capture's cost. So each schema also gets a fast check
(fastcheck.py, compiled when its first body comes), which says "holds" in a few µs; only a
body it rejects goes through jsonschema, whose errors are the ones reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as SchemaValidationError
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from hookcatcher.check.fastcheck import Check, compile_check
from hookcatcher.core import catalog
from hookcatcher.core.capture import Problem, Validation
from hookcatcher.core.jsonpath import described, field_key, json_path
from hookcatcher.core.resources import data_dir

__all__ = ["SchemaError", "Validator"]

ID_BASE = "https://hookcatcher.invalid/schemas/"
MAX_ERRORS = 50
_ERRORS_READ = 4 * MAX_ERRORS  # some repeat, and are shown once


class SchemaError(Exception):
    """A bundled schema is broken: the installation cannot validate anything."""


class Validator:
    """All bundled schemas, compiled; `check` gives a body's Validation."""

    def __init__(self, schema_dir: Path | None = None, check_schemas: bool | None = None) -> None:
        """`check_schemas` validates each schema against the JSON Schema meta-schema: by
        default only for a schema folder given here. The bundled ones are checked by the test
        suite, and checking them costs most of a second at every start."""
        root = schema_dir or data_dir("schemas")
        if check_schemas is None:
            check_schemas = schema_dir is not None
        documents: dict[str, dict[str, Any]] = {}
        for file in sorted(root.glob("*/*.json")):
            try:
                document = json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SchemaError(f"{file}: {exc}") from exc
            schema_id = f"{file.parent.name}/{file.stem}"
            expected = f"{ID_BASE}{schema_id}.json"
            if document.get("$id") != expected:
                raise SchemaError(f"{file}: $id must be {expected!r}")
            documents[schema_id] = document
        registry: Registry = Registry().with_resources(
            (f"{ID_BASE}{schema_id}.json", DRAFT202012.create_resource(document))
            for schema_id, document in documents.items()
        )
        self._validators: dict[str, Draft202012Validator] = {}
        self._fields: dict[str, dict[str, str]] = {}
        self._fast: dict[str, Check | None] = {}
        self._valid = {schema_id: Validation("valid", schema_id) for schema_id in documents}
        for schema_id, document in documents.items():
            try:
                if check_schemas:
                    Draft202012Validator.check_schema(document)
            except SchemaValidationError as exc:
                raise SchemaError(
                    f"schemas/{schema_id}.json: not a valid JSON Schema: {exc.message}"
                ) from exc
            inlined = _inline(document, schema_id, documents, ())
            self._validators[schema_id] = Draft202012Validator(inlined, registry=registry)
            self._fields[schema_id] = _fields(inlined, "$", {})
        self._documents = documents

    @property
    def schema_ids(self) -> list[str]:
        return sorted(self._validators)

    def holds(self, schema_id: str, body: Any) -> bool:
        """Whether the fast check (fastcheck.py) accepts the body; False also when the schema
        has none, so that jsonschema decides. Each schema's check is compiled when first
        needed: a server sees a handful of events."""
        if schema_id not in self._fast and schema_id in self._validators:
            self._fast[schema_id] = compile_check(self._validators[schema_id].schema)
        fast = self._fast.get(schema_id)
        return fast is not None and fast(body)

    def document(self, schema_id: str) -> dict[str, Any] | None:
        return self._documents.get(schema_id)

    def fields(self, schema_id: str) -> dict[str, str]:
        """Each field's description by JSON path (`$.data.key.fromMe`, arrays as `[]`), so the
        API and the TUI can explain a field, or the place an error points at."""
        return self._fields.get(schema_id, {})

    def describe(self, schema_id: str, path: str) -> str | None:
        """The description of the field at a concrete path such as `$.messages[0].id`."""
        return self.fields(schema_id).get(field_key(path))

    def check(self, provider: str, event: str | None, body: Any) -> Validation:
        """Validate a parsed JSON body for the provider and event it was classified as.

        The event's own schema when one ships; otherwise the provider's envelope, with status
        no-schema when the envelope holds (the event's data was not checked)."""
        if provider not in catalog.PROVIDERS:
            return Validation("no-schema")
        known = catalog.find(provider, event)
        if known is not None and self.holds(known.schema_id, body):
            return self._valid[known.schema_id]  # almost every body: one shared verdict
        problems: list[Problem] = []
        if known is None:
            problems.append(Problem("$.event", _unknown_event(provider, event)))
        schema_id = known.schema_id if known else None
        if schema_id not in self._validators:
            schema_id = f"{provider}/envelope"
        validator = self._validators.get(schema_id)
        already_refused = known is not None and schema_id == known.schema_id
        if validator is not None and (already_refused or not self.holds(schema_id, body)):
            # The first errors in the body's order: a body of 150,000 wrong messages has as
            # many errors, and explaining each took seconds to show fifty.
            problems.extend(_problems(islice(validator.iter_errors(body), _ERRORS_READ)))
        if problems:
            return Validation("invalid", schema_id, tuple(problems[:MAX_ERRORS]))
        if known is not None and schema_id == known.schema_id:
            return Validation("valid", schema_id)
        return Validation("no-schema", schema_id)


_ANNOTATIONS = {"title", "description", "$comment", "examples", "default"}


def _inline(node: Any, base: str, documents: dict[str, Any], seen: tuple[str, ...]) -> Any:
    """The schema with every `$ref` to a bundled document replaced by what it points at.

    jsonschema resolves a `$ref` on every use, which was most of the cost of checking a body
    (about 220 µs of a typical messages.upsert, against about 40 µs inlined). The schemas keep
    their `$ref`s on disk, for reading; a cycle is left as a `$ref` for the registry. A `$ref`
    that points nowhere fails here, at start-up, never on a request."""
    if isinstance(node, list):
        return [_inline(item, base, documents, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if not isinstance(ref, str) or ref in seen:
        return {key: _inline(value, base, documents, seen) for key, value in node.items()}
    target_id, target = _lookup(ref, base, documents)
    target = (
        {k: v for k, v in target.items() if k not in ("$id", "$schema")}
        if isinstance(target, dict)
        else target
    )
    resolved = _inline(target, target_id, documents, seen + (ref,))
    siblings = {
        key: _inline(value, base, documents, seen) for key, value in node.items() if key != "$ref"
    }
    if not isinstance(resolved, dict):
        return resolved
    if set(siblings) & set(resolved) - _ANNOTATIONS:
        return {"allOf": [resolved], **siblings}
    return {**resolved, **siblings}


def _fields(node: Any, path: str, found: dict[str, str]) -> dict[str, str]:
    if not isinstance(node, dict):
        return found
    if path != "$" and isinstance(node.get("description"), str):
        found.setdefault(path, node["description"])
    # The event's own words first; an envelope it builds on (allOf) only fills in the rest.
    for name, child in node.get("properties", {}).items():
        _fields(child, json_path([name]).replace("$", path, 1), found)
    if isinstance(node.get("items"), dict):
        _fields(node["items"], f"{path}[]", found)
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in node.get(keyword, []):
            _fields(branch, path, found)
    for keyword in ("then", "else"):
        _fields(node.get(keyword), path, found)
    return found


def _lookup(ref: str, base: str, documents: dict[str, Any]) -> tuple[str, Any]:
    """`defs.json#/$defs/jid` seen from `evolution/x` -> ("evolution/defs", that node)."""
    file, _, pointer = ref.partition("#")
    file = file.removeprefix(ID_BASE).removesuffix(".json")
    if not file:
        target_id = base  # "#/$defs/x": the same document
    elif "/" in file:
        target_id = file  # "evolution/defs": from the schemas folder
    else:
        target_id = f"{base.rsplit('/', 1)[0]}/{file}"  # "defs": next to this one
    if target_id not in documents:
        raise SchemaError(f"schemas/{base}.json: $ref {ref!r} does not resolve")
    node: Any = documents[target_id]
    for part in filter(None, pointer.split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"schemas/{base}.json: $ref {ref!r} does not resolve")
        node = node[part]
    return target_id, node


def _unknown_event(provider: str, event: str | None) -> str:
    title = catalog.PROVIDERS[provider].title
    if event is None:
        return f"no event: expected one of {title}'s events (see /_hookcatcher/api/catalog)"
    return f"unknown {title} event {event!r}: not in the catalog (see /_hookcatcher/api/catalog)"


def _problems(errors: Iterable[ValidationError]) -> list[Problem]:
    unique = list(dict.fromkeys(_problem(error) for error in errors))
    return sorted(unique, key=lambda problem: problem.path)


def _problem(error: ValidationError) -> Problem:
    parts = list(error.absolute_path)
    got = described(error.instance)
    kind = error.validator
    if kind in ("anyOf", "oneOf") and error.context:
        if any(list(sub.relative_path) for sub in error.context):
            # Some branch fits this value's shape and fails deeper: report that failure.
            return _problem(best_match(error.context))
        if all(sub.validator == "required" for sub in error.context):
            options = list(dict.fromkeys(", ".join(_missing(sub)) for sub in error.context))
            first = _missing(error.context[0])[0]
            return Problem(
                json_path(parts + [first]),
                f"required field is missing (one of: {' | '.join(options)})",
            )
        title = error.schema.get("title") if isinstance(error.schema, dict) else None
        if title:
            return Problem(json_path(parts), f"expected a {title}, got {got}")
        shaped = [sub for sub in error.context if sub.validator not in ("type", "const")]
        if shaped:
            # The value has the right type for a branch but breaks it otherwise.
            return _problem(best_match(shaped))
        options = [_branch(sub) for sub in error.context]
        return Problem(
            json_path(parts), f"expected {' or '.join(dict.fromkeys(options))}, got {got}"
        )
    if kind == "required":
        return Problem(json_path(parts + [_missing_one(error)]), "required field is missing")
    if kind == "additionalProperties":
        return Problem(json_path(parts), f"unexpected field: {error.message}")
    if kind == "type":
        return Problem(json_path(parts), f"expected {_types(error.validator_value)}, got {got}")
    if kind == "enum":
        listed = ", ".join(json.dumps(v) for v in _keyword_list(error))
        return Problem(json_path(parts), f"expected one of {listed}, got {got}")
    if kind == "const":
        return Problem(json_path(parts), f"expected {json.dumps(error.validator_value)}, got {got}")
    if kind == "pattern":
        title = error.schema.get("title") if isinstance(error.schema, dict) else None
        what = f"a {title}" if title else f"a string matching /{error.validator_value}/"
        return Problem(json_path(parts), f"expected {what}, got {got}")
    if kind == "minLength" and error.validator_value == 1:
        return Problem(json_path(parts), f"expected a non-empty string, got {got}")
    return Problem(json_path(parts), error.message)


def _branch(error: ValidationError) -> str:
    if error.validator == "type":
        return _types(error.validator_value)
    if error.validator == "const":
        return json.dumps(error.validator_value)
    return error.message


def _missing_one(error: ValidationError) -> str:
    """jsonschema gives one `required` error per absent name, named only in its message."""
    for name in _missing(error):
        if error.message.startswith(repr(name)):
            return name
    return _missing(error)[0]


def _missing(error: ValidationError) -> list[str]:
    """The required names a `required` error found absent."""
    present = error.instance if isinstance(error.instance, dict) else {}
    return [name for name in _keyword_list(error) if name not in present] or list(
        _keyword_list(error)
    )


def _keyword_list(error: ValidationError) -> list[Any]:
    """The failed keyword's value in the schema, a list for `enum` and `required`. Every
    error that validation raises has it; the stubs also allow jsonschema's "unset" marker,
    which only an error built by hand carries."""
    return cast(list[Any], error.validator_value)


def _types(value: Any) -> str:
    names = [value] if isinstance(value, str) else list(value)
    article = {"array": "an array", "object": "an object", "integer": "an integer", "null": "null"}
    return " or ".join(article.get(name, f"a {name}") for name in names)

"""The fast check says what jsonschema says, keyword by keyword, on the values where JSON
and Python disagree (true is not 1, 1.0 is an integer) and on each keyword's edge."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hookcatcher.check.fastcheck import compile_check

CASES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, 1.5, True, "1", None]),
    ({"type": "number"}, [1, 2.5, True, False, "2", None]),
    ({"type": "boolean"}, [True, 0, "true"]),
    ({"type": "null"}, [None, 0, ""]),
    ({"type": ["string", "null"]}, ["a", None, 1, [], {}]),
    ({"type": "object"}, [{}, [], "x"]),
    ({"type": "array"}, [[], {}, "x"]),
    ({"enum": ["a", "b"]}, ["a", "c", 1, None]),
    (
        {"enum": [1, True, None, [1], {"a": 1}]},
        [1, 1.0, True, False, 0, None, [1], [True], {"a": 1}, {"a": True}, "1"],
    ),
    ({"const": False}, [False, 0, None, "false"]),
    ({"const": 0}, [0, 0.0, False, "0"]),
    (
        {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}},
        [{}, {"a": "x"}, {"a": 1}, {"b": True}, {"b": 2.0}, {"c": 1}, [], "not an object"],
    ),
    ({"type": "object", "required": ["a"]}, [{"a": None}, {}, [], "a"]),
    ({"required": ["a"]}, [{"a": 1}, {}, ["a"], 5]),
    (
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        [{"a": "x"}, {"a": "x", "b": 1}, {}],
    ),
    (
        {
            "properties": {"a": {}},
            "patternProperties": {"^x-": {"type": "string"}},
            "additionalProperties": {"type": "integer"},
        },
        [{"x-1": "s"}, {"x-1": 1}, {"b": 2}, {"b": "s"}, {"a": "anything"}, {"ax-": "s"}],
    ),
    ({"dependentSchemas": {"a": {"required": ["b"]}}}, [{"a": 1, "b": 2}, {"a": 1}, {"b": 1}]),
    ({"minProperties": 1, "maxProperties": 2}, [{}, {"a": 1}, {"a": 1, "b": 2, "c": 3}]),
    (
        {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        [[], ["a"], ["a", 1], ["a", "b", "c"], "ab", {}],
    ),
    ({"items": {"type": "integer"}}, [[1, 2.0], [1, True], "x"]),
    (
        {"type": "string", "minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"},
        ["ab", "a", "abcd", "aB", "ab\n", 12, None],
    ),
    ({"minLength": 2}, ["ab", "é", "éé", 5]),
    ({"pattern": "b"}, ["abc", "ac", 1]),
    ({"minimum": 1, "maximum": 3}, [1, 3, 0, 4, 2.5, True, "5"]),
    ({"exclusiveMinimum": 1, "exclusiveMaximum": 3}, [1, 2, 3, 1.5]),
    ({"allOf": [{"type": "integer"}, {"minimum": 2}]}, [2, 1, "2"]),
    ({"anyOf": [{"type": "string"}, {"const": 1}]}, ["x", 1, True, 2]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 2}]}, [1, 3, 2.5, "x"]),
    ({"not": {"type": "string"}}, ["x", 1]),
    # allOf branches folded into one pass over the keys: conflicting property schemas both
    # hold, required keys of each, the object type of a branch
    (
        {
            "properties": {"a": {"type": "integer"}},
            "allOf": [
                {
                    "type": "object",
                    "required": ["b"],
                    "properties": {"a": {"minimum": 2}, "b": {"type": "string"}},
                },
                {"properties": {"c": {"const": 1}}, "required": ["c"]},
            ],
        },
        [
            {"a": 2, "b": "x", "c": 1},
            {"a": 1, "b": "x", "c": 1},
            {"a": 2.5, "b": "x", "c": 1},
            {"b": "x", "c": 1},
            {"a": 2, "c": 1},
            {"a": 2, "b": 1, "c": 1},
            {"a": 2, "b": "x"},
            [],
            "x",
            None,
        ],
    ),
    ({"type": "array", "allOf": [{"type": "object"}]}, [[], {}]),
    (
        {
            "additionalProperties": False,
            "properties": {"a": {}},
            "allOf": [{"properties": {"b": {}}}],
        },
        [{"a": 1}, {"b": 1}],
    ),
    (
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]},
            ]
        },
        [{"a": "x"}, {"b": 1}, {"a": 1}, {}, "s"],
    ),
    (
        {
            "if": {"properties": {"t": {"const": "a"}}},
            "then": {"required": ["a"]},
            "else": {"required": ["b"]},
        },
        [{"t": "a", "a": 1}, {"t": "a"}, {"t": "b", "b": 1}, {"t": "b"}, {}],
    ),
    ({"then": {"required": ["a"]}}, [{}, {"a": 1}]),
    (
        {"title": "only words", "description": "nothing to check", "format": "date-time"},
        ["not a date", 1],
    ),
]


@pytest.mark.parametrize("schema, values", CASES, ids=[str(schema) for schema, _ in CASES])
def test_agrees_with_jsonschema(schema: dict[str, Any], values: list[Any]) -> None:
    check = compile_check(schema)
    assert check is not None
    reference = Draft202012Validator(schema)
    for value in values:
        assert check(value) == reference.is_valid(value), value


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "other.json"},
        {"uniqueItems": True},
        {"prefixItems": [{"type": "string"}]},
        {"multipleOf": 0.1},
        {"properties": {"a": {"propertyNames": {"maxLength": 3}}}},
        {"type": "decimal"},
    ],
)
def test_a_keyword_it_does_not_know_leaves_the_schema_to_jsonschema(schema: dict[str, Any]) -> None:
    assert compile_check(schema) is None


def test_boolean_schemas() -> None:
    assert compile_check(True)("anything")  # type: ignore[misc]
    check = compile_check({"properties": {"gone": False}})
    assert check is not None and check({}) and not check({"gone": 1})

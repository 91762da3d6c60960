"""The fast check: whether a body holds against a schema, yes or no, in a few microseconds.

jsonschema is the reference: it finds every error and says where. But almost every body a
gateway sends is valid, and for those the only question is yes or no. This module compiles
a schema (with its `$ref`s already inlined, see validation.py) into nested closures that
answer it. They walk the body, not the schema: an object's check looks up each key the body
has among the properties the schema names, so a body with ten keys costs ten lookups
whatever the schema declares (a message schema names dozens of message types; fastjsonschema,
used before, tested each one and was three times slower on a typical messages.upsert).

It knows the keywords the bundled schemas use, with jsonschema's meaning of each (draft
2020-12; `format` is an annotation, as jsonschema treats it without a format checker). A
schema with any other keyword, or a `$ref` left by a cycle, gets no fast check (None) and is
checked by jsonschema alone. A "no" from here is never reported: jsonschema then looks again
and gives the errors. The test suite holds both to the same verdict on every fixture and
thousands of mutations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Check", "compile_check"]

Check = Callable[[Any], bool]

# Keywords that say nothing about validity.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "examples",
        "default",
        "$id",
        "$schema",
        "$defs",
        "definitions",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "contentEncoding",
        "contentMediaType",
    }
)


class _Unsupported(Exception):
    """A keyword this module does not check: the schema is left to jsonschema."""


def compile_check(schema: Any) -> Check | None:
    """The schema's check, or None when it uses something this module does not know."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _always(_value: Any) -> bool:
    return True


def _never(_value: Any) -> bool:
    return False


def _compile(node: Any) -> Check:
    if node is True:
        return _always
    if node is False:
        return _never
    if not isinstance(node, dict):
        raise _Unsupported(f"schema {node!r}")
    unknown = set(node) - _ANNOTATIONS - _KEYWORDS
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    if "allOf" in node:
        node = _merged(node)
    parts: list[Check] = []
    wanted = node.get("type")
    # A single type is checked by the keywords of that type (one call, not two), which
    # otherwise let every other type pass.
    strict = (
        {"object": _OBJECT_KEYWORDS, "array": _ARRAY_KEYWORDS, "string": _STRING_KEYWORDS}.get(
            wanted
        )
        if isinstance(wanted, str)
        else None
    )
    if strict is not None and node.keys() & strict:
        wanted = None
    elif wanted is not None:
        parts.append(_type(wanted))
    if "enum" in node:
        parts.append(_enum(node["enum"]))
    if "const" in node:
        parts.append(_enum([node["const"]]))
    if node.keys() & _OBJECT_KEYWORDS:
        parts.append(_object(node, strict=strict is _OBJECT_KEYWORDS))
    if node.keys() & _ARRAY_KEYWORDS:
        parts.append(_array(node, strict=strict is _ARRAY_KEYWORDS))
    if node.keys() & _STRING_KEYWORDS:
        parts.append(_string(node, strict=strict is _STRING_KEYWORDS))
    if node.keys() & _NUMBER_KEYWORDS:
        parts.append(_number(node))
    parts.extend(_combined(node))
    return _all(parts)


def _merged(node: dict[str, Any]) -> dict[str, Any]:
    """The node with the allOf branches that only name properties, required keys and the
    object type folded into its own: an event schema is its gateway's envelope (a branch)
    plus its own fields, and one pass over the body's keys then checks both. Exact: an
    object holds both branches when each key holds both property schemas, every required
    key of either is there, and the object type of either holds."""
    if node.keys() & {"additionalProperties", "patternProperties"}:
        return node  # these depend on which properties the node itself names
    kept: list[Any] = []
    properties = dict(node.get("properties", {}))
    required = list(node.get("required", []))
    wanted = node.get("type")
    for branch in node["allOf"]:
        if (
            not isinstance(branch, dict)
            or set(branch) - _ANNOTATIONS - _FOLDABLE
            or branch.get("type", "object") != "object"
            or wanted not in (None, "object")
        ):
            kept.append(branch)
            continue
        for name, schema in branch.get("properties", {}).items():
            properties[name] = (
                {"allOf": [properties[name], schema]} if name in properties else schema
            )
        required.extend(name for name in branch.get("required", []) if name not in required)
        if "type" in branch:
            wanted = "object"
    merged = {key: value for key, value in node.items() if key != "allOf"}
    if kept:
        merged["allOf"] = kept
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    if wanted is not None:
        merged["type"] = wanted
    return merged


_FOLDABLE = frozenset({"type", "properties", "required"})


def _simple(node: Any) -> tuple[type, ...] | None:
    """The Python types of a schema that is only a type (`{"type": "string"}`), checked
    with isinstance where it is used, without a call: most leaves of a schema are these."""
    if not isinstance(node, dict) or set(node) - _ANNOTATIONS != {"type"}:
        return None
    names = [node["type"]] if isinstance(node["type"], str) else node["type"]
    if not isinstance(names, list) or not names or any(n not in _PYTHON for n in names):
        return None
    return tuple(_PYTHON[name] for name in names)


# Types whose isinstance check is exact for JSON values (not integer or number: a bool is
# an int to Python, not to JSON).
_PYTHON: dict[str, type] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _all(parts: list[Check]) -> Check:
    if not parts:
        return _always
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        first, second = parts
        return lambda value: first(value) and second(value)

    def every(value: Any) -> bool:
        # A loop, not all() over a generator: 160 ns against 380 for four parts, on the
        # path every body takes.
        for part in parts:  # noqa: SIM110
            if not part(value):
                return False
        return True

    return every


# --- type, enum, const -----------------------------------------------------------------------


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _instance_of(kind: type) -> Check:
    return lambda value: isinstance(value, kind)


_TYPES: dict[str, Check] = {
    **{name: _instance_of(kind) for name, kind in _PYTHON.items()},
    "integer": _is_integer,
    "number": _is_number,
}


def _type(wanted: Any) -> Check:
    names = [wanted] if isinstance(wanted, str) else wanted
    if not isinstance(names, list) or any(name not in _TYPES for name in names):
        raise _Unsupported(f"type {wanted!r}")
    checks = [_TYPES[name] for name in names]
    if len(checks) == 1:
        return checks[0]
    if all(name in _PYTHON for name in names):
        kinds = tuple(_PYTHON[name] for name in names)
        return lambda value: isinstance(value, kinds)

    def any_type(value: Any) -> bool:
        for check in checks:  # noqa: SIM110 (a loop is twice as fast as any() here)
            if check(value):
                return True
        return False

    return any_type


def _enum(values: Any) -> Check:
    if not isinstance(values, list):
        raise _Unsupported("enum that is not a list")
    if all(isinstance(value, str) for value in values):
        allowed = frozenset(values)
        return lambda value: isinstance(value, str) and value in allowed
    return lambda value: any(_equal(value, each) for each in values)


def _equal(one: Any, two: Any) -> bool:
    """Equality as JSON means it, and as jsonschema decides it: true is not 1, 1 is 1.0."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return bool(one == two)


# --- objects ---------------------------------------------------------------------------------

_OBJECT_KEYWORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "dependentSchemas",
        "minProperties",
        "maxProperties",
    }
)


def _object(node: dict[str, Any], strict: bool) -> Check:
    """One pass over the body's keys for properties, patternProperties and
    additionalProperties; the rest as written. `strict`: anything but an object fails
    (`"type": "object"`); otherwise it passes, as these keywords only speak of objects."""
    properties: dict[str, Any] = {
        name: _simple(schema) or _compile(schema)
        for name, schema in node.get("properties", {}).items()
    }
    patterns = [
        (re.compile(pattern), _compile(schema))
        for pattern, schema in node.get("patternProperties", {}).items()
    ]
    additional = _compile(node["additionalProperties"]) if "additionalProperties" in node else None
    required = tuple(node.get("required", ()))
    dependent = [
        (name, _compile(schema)) for name, schema in node.get("dependentSchemas", {}).items()
    ]
    fewest, most = node.get("minProperties"), node.get("maxProperties")
    walk = bool(patterns) or additional is not None
    lookup = properties.get

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return not strict
        for name in required:
            if name not in value:
                return False
        if fewest is not None and len(value) < fewest:
            return False
        if most is not None and len(value) > most:
            return False
        if walk:
            for key, item in value.items():
                named = properties.get(key)
                if named is not None and not _holds(named, item):
                    return False
                matched = False
                for pattern, sub in patterns:
                    if pattern.search(key):
                        matched = True
                        if not sub(item):
                            return False
                if (
                    named is None
                    and not matched
                    and additional is not None
                    and not additional(item)
                ):
                    return False
        else:
            for key, item in value.items():
                named = lookup(key)
                if named is None:
                    continue
                if named.__class__ is tuple:
                    if not isinstance(item, named):
                        return False
                elif not named(item):
                    return False
        for name, sub in dependent:  # noqa: SIM110 (a loop is twice as fast as all() here)
            if name in value and not sub(value):
                return False
        return True

    return check


def _holds(spec: Check | tuple[type, ...], value: Any) -> bool:
    return isinstance(value, spec) if isinstance(spec, tuple) else spec(value)


# --- arrays ----------------------------------------------------------------------------------

_ARRAY_KEYWORDS = frozenset({"items", "minItems", "maxItems"})


def _array(node: dict[str, Any], strict: bool) -> Check:
    if "prefixItems" in node or isinstance(node.get("items"), list):
        raise _Unsupported("prefixItems")
    items = (_simple(node["items"]) or _compile(node["items"])) if "items" in node else None
    fewest, most = node.get("minItems"), node.get("maxItems")

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return not strict
        if fewest is not None and len(value) < fewest:
            return False
        if most is not None and len(value) > most:
            return False
        if items is not None:
            for item in value:
                if not _holds(items, item):
                    return False
        return True

    return check


# --- strings and numbers ---------------------------------------------------------------------

_STRING_KEYWORDS = frozenset({"minLength", "maxLength", "pattern"})


def _string(node: dict[str, Any], strict: bool) -> Check:
    shortest, longest = node.get("minLength"), node.get("maxLength")
    pattern = re.compile(node["pattern"]) if "pattern" in node else None

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return not strict
        if shortest is not None and len(value) < shortest:
            return False
        if longest is not None and len(value) > longest:
            return False
        return pattern is None or pattern.search(value) is not None

    return check


_NUMBER_KEYWORDS = frozenset(
    {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
)


def _number(node: dict[str, Any]) -> Check:
    if "multipleOf" in node:
        raise _Unsupported("multipleOf")  # float division as jsonschema does it: not here
    low, high = node.get("minimum"), node.get("maximum")
    above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")

    def check(value: Any) -> bool:
        if not _is_number(value):
            return True
        return not (
            (low is not None and value < low)
            or (high is not None and value > high)
            or (above is not None and value <= above)
            or (below is not None and value >= below)
        )

    return check


# --- combinations ----------------------------------------------------------------------------


def _combined(node: dict[str, Any]) -> list[Check]:
    parts: list[Check] = []
    if "allOf" in node:
        parts.append(_all([_compile(schema) for schema in node["allOf"]]))
    if "anyOf" in node:
        branches = [_compile(schema) for schema in node["anyOf"]]

        def any_of(value: Any) -> bool:
            for branch in branches:  # noqa: SIM110 (a loop is twice as fast as any() here)
                if branch(value):
                    return True
            return False

        parts.append(any_of)
    if "oneOf" in node:
        choices = [_compile(schema) for schema in node["oneOf"]]
        parts.append(lambda value: sum(1 for choice in choices if choice(value)) == 1)
    if "not" in node:
        negated = _compile(node["not"])
        parts.append(lambda value: not negated(value))
    if "if" in node:
        condition = _compile(node["if"])
        then = _compile(node["then"]) if "then" in node else _always
        otherwise = _compile(node["else"]) if "else" in node else _always
        parts.append(lambda value: then(value) if condition(value) else otherwise(value))
    return parts


_KEYWORDS = (
    frozenset({"type", "enum", "const", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"})
    | _OBJECT_KEYWORDS
    | _ARRAY_KEYWORDS
    | _STRING_KEYWORDS
    | _NUMBER_KEYWORDS
)

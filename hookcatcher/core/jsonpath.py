"""JSON paths as every message writes them (`$.data.key.fromMe`, `$.messages[0].id`), and
values described in words (`string "yes"`, `an array of 2`): the validator, the mocks, the
inspector and `--set` all point at a place in a body the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["described", "field_key", "json_path"]


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def field_key(path: str) -> str:
    """A concrete path as `fields()` names it: every array index becomes `[]`."""
    return re.sub(r"\[\d+\]", "[]", path)


def json_path(parts: Iterable[Any]) -> str:
    """`$.data.key.fromMe`, `$.messages[0].id`, `$["odd key"]`."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part)}]")
    return "".join(out)


def described(value: Any) -> str:
    """A value as a message shows it: `string "yes"`, `number 1`, `an array of 2`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"string {json.dumps(shown)}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    return "an object"

"""Body overrides: `--set data.key.remoteJid=5511900000009@s.whatsapp.net`, like `stripe trigger`.

A fixture is realistic but fixed; a developer needs the same event for their own test chat,
with `fromMe` true, or with a field broken on purpose. An override names a place in the body
by the JSON path the validator reports (`data.key.fromMe`, `$.messages[0].text.body`) and
a value read as JSON when it is JSON (`true`, `3`, `null`, `{"a": 1}`, `"007"`) and as text
otherwise, so `--set data.pushName=Ana` needs no quoting games.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Override", "OverrideError", "apply", "at", "parse"]

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


class OverrideError(ValueError):
    """An override that cannot be used; the message names it and where the path stopped."""


@dataclass(frozen=True, slots=True)
class Override:
    text: str  # as the user wrote it, for messages
    steps: tuple[str | int, ...]
    value: Any


def parse(text: str) -> Override:
    """`PATH=VALUE` into an Override. The path ends at the first `=`: keys rarely hold one,
    values (base64, URLs with queries) often do."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise OverrideError(f"--set {text}: expected PATH=VALUE, e.g. data.key.fromMe=true")
    steps = _steps(path.strip(), text)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return Override(text, steps, value)


def at(path: str, value: Any) -> Override:
    """An override from Python: the path as for --set, the value as it is (no JSON reading)."""
    return Override(f"{path}={json.dumps(value, default=str)}", _steps(path.strip(), path), value)


def _steps(path: str, text: str) -> tuple[str | int, ...]:
    rest = path.removeprefix("$").removeprefix(".") if path.startswith("$") else path
    steps: list[str | int] = []
    position = 0
    while position < len(rest):
        match = _STEP.match(rest, position)
        if match is None:
            raise OverrideError(
                f"--set {text}: cannot read the path {path!r} at "
                f"{rest[position:]!r}; write keys with dots and indexes "
                "in brackets, e.g. messages[0].text.body"
            )
        key, index = match.groups()
        steps.append(int(index) if index is not None else key)
        position = match.end()
    if not steps:
        raise OverrideError(f"--set {text}: the path is empty; name a field, e.g. data.key.id")
    return tuple(steps)


def apply(body: Any, overrides: Iterable[Override]) -> Any:
    """A copy of `body` with every override applied in order. The last key of a path may be
    new (it is added); anything before it must exist, so a typo is an error, not a body
    that silently grew a branch."""
    result = copy.deepcopy(body)
    for override in overrides:
        result = _set(result, override)
    return result


def _set(body: Any, override: Override) -> Any:
    parent = body
    for depth, step in enumerate(override.steps[:-1]):
        parent = _child(parent, step, override, depth)
    last = override.steps[-1]
    _fits(parent, last, override, len(override.steps) - 1)
    parent[last] = override.value
    return body


def _child(parent: Any, step: str | int, override: Override, depth: int) -> Any:
    _fits(parent, step, override, depth)
    if isinstance(step, str) and step not in parent:
        keys = ", ".join(sorted(parent)) or "none"
        raise OverrideError(
            f"--set {override.text}: {_where(override.steps[:depth])} has no "
            f"key {step!r} (its keys: {keys})"
        )
    return parent[step]


def _fits(parent: Any, step: str | int, override: Override, depth: int) -> None:
    """`step` can be taken from `parent`: an index of an array it does not run past, or a key
    of an object (which may be new)."""
    where = _where(override.steps[:depth])
    wanted = (list, "an array") if isinstance(step, int) else (dict, "an object")
    if not isinstance(parent, wanted[0]):
        raise OverrideError(f"--set {override.text}: {where} is {_kind(parent)}, not {wanted[1]}")
    if isinstance(step, int) and step >= len(parent):
        raise OverrideError(
            f"--set {override.text}: {where} has {len(parent)} item(s); [{step}] is past the end"
        )


def _where(steps: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in steps)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    kinds: dict[type, str] = {dict: "an object", list: "an array", str: "a string"}
    return kinds.get(type(value), "a number")

"""Bundled fixtures: realistic bodies for every event, with the headers the gateway sends.

A fixture file is JSON: `{title, provider, version, event, headers: [[name, value]...], body}`,
named `fixtures/<provider>/[<version>/]<event>[.<variant>].json`. Tests, `validate`, and later
`send` and `replay`, read them through this module."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .ingest import parse_body
from .resources import data_dir

__all__ = ["Fixture", "FixtureError", "load", "bundled", "is_fixture"]

_KEYS = ("title", "provider", "version", "event", "headers", "body")


class FixtureError(ValueError):
    """A fixture file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Fixture:
    path: Path
    title: str
    provider: str
    version: str
    event: str
    headers: tuple[tuple[str, str], ...]
    body: Any

    @property
    def name(self) -> str:
        """`evolution/v2/messages.upsert.text`: the path below fixtures/, without .json."""
        try:
            relative = self.path.relative_to(data_dir("fixtures"))
        except ValueError:
            relative = Path(self.path.name)
        return relative.with_suffix("").as_posix()

    def raw(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def is_fixture(document: Any) -> bool:
    return isinstance(document, dict) and all(key in document for key in _KEYS)


def load(path: Path) -> Fixture:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror}") from None
    document, problem = parse_body(raw)
    if problem is not None:
        raise FixtureError(f"{path}: {problem.message}")
    if not is_fixture(document):
        missing = [key for key in _KEYS if not isinstance(document, dict) or key not in document]
        raise FixtureError(f"{path}: not a fixture: missing {', '.join(missing)}")
    headers = document["headers"]
    if not isinstance(headers, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in headers
    ):
        raise FixtureError(f"{path}: headers must be a list of [name, value] strings")
    return Fixture(path, document["title"], document["provider"], document["version"],
                   document["event"], tuple((name, value) for name, value in headers),
                   document["body"])


def bundled() -> Iterator[Fixture]:
    """Every fixture that ships with hookcatcher, in name order."""
    for path in sorted(data_dir("fixtures").rglob("*.json")):
        yield load(path)

"""What `replay` and `send` send: fixture files and folders, bundled fixtures by name, body
files, and the captures of a running hookcatcher server.

Everything becomes a `Capture` (the one record), labelled for the output lines, so replay
builds every request the same way: `outgoing.request_for` on a capture.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hookcatcher.core.body import parse_body
from hookcatcher.core.capture import Capture, Problem, Validation
from hookcatcher.core.classify import classify
from hookcatcher.core.overrides import Override, apply
from hookcatcher.core.resources import data_dir
from hookcatcher.files import fixtures
from hookcatcher.files.fixtures import Fixture, FixtureError
from hookcatcher.files.session import MARK, SessionError
from hookcatcher.files.session import load as load_session

__all__ = [
    "Item",
    "SourceError",
    "from_paths",
    "item_of",
    "items_of",
    "with_overrides",
]


class SourceError(ValueError):
    """A source that cannot be read; the message names the file, fixture or server."""


@dataclass(frozen=True, slots=True)
class Item:
    """One request to send: the capture, and how the output lines name it."""

    label: str
    capture: Capture


def item_of(fixture: Fixture) -> Item:
    """A fixture as the capture the gateway's request would have made, posted to `/`."""
    return Item(
        fixture.name,
        _capture(
            fixture.raw(), list(fixture.headers), fixture.body, fixture.provider, fixture.event
        ),
    )


def _capture(
    raw: bytes,
    headers: list[tuple[str, str]],
    body: Any,
    provider: str | None = None,
    event: str | None = None,
    problem: Problem | None = None,
) -> Capture:
    """Not validated: replay sends bytes, and says nothing about their contract."""
    found = classify("POST", "/", "", headers, body)
    validation = Validation("not-json", None, (problem,)) if problem else Validation("no-schema")
    return Capture(
        received_at="",
        method="POST",
        path="/",
        query="",
        headers=headers,
        remote="",
        raw=raw,
        body=body,
        provider=provider or found.provider,
        event=event or found.event,
        instance=found.instance,
        route=found.route,
        validation=validation,
    )


def from_paths(
    paths: Iterable[str | Path], on_problem: Callable[[str], None] | None = None
) -> list[Item]:
    """Fixture files, folders of them (every `*.json` below, by name), plain body files,
    session files saved with --save (every capture in them), and bundled fixtures named as
    `send` names them (`evolution/v2/messages.upsert.text`). A session line that cannot be
    read is told to `on_problem` (by file and line; a warning without one) and skipped."""
    items: list[Item] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted(path.rglob("*.json"))
            if not files:
                raise SourceError(f"{path}: no .json files in this folder")
            items.extend(_file(file) for file in files)
        elif path.exists() and _is_session(path):
            items.extend(_session(path, on_problem))
        elif path.exists():
            items.append(_file(path))
        else:
            items.append(_bundled(str(given)))
    return items


def _is_session(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            first = file.readline(4096)
    except OSError:
        return False
    return first.lstrip().startswith(b'{"' + MARK.encode() + b'"')


def _session(path: Path, on_problem: Callable[[str], None] | None) -> list[Item]:
    try:
        loaded = load_session(path)
    except SessionError as exc:
        raise SourceError(str(exc)) from None
    for problem in loaded.problems:
        if on_problem is None:
            warnings.warn(str(problem), stacklevel=3)
        else:
            on_problem(str(problem))
    return [Item(_label(capture), capture) for capture in loaded.captures]


def _file(path: Path) -> Item:
    """A fixture file, or a bare body: then its bytes go exactly as they are in the file,
    as JSON, since that is what a developer saved from a log."""
    try:
        raw, document = fixtures.read_json_file(path)
        fixture = (
            fixtures.from_document(path, document) if fixtures.is_fixture(document) else None
        )  # read and parsed once
    except FixtureError as exc:
        raise SourceError(str(exc)) from None
    if fixture is not None:
        return Item(fixture.name if _inside_bundle(path) else str(path), item_of(fixture).capture)
    return Item(str(path), _capture(raw, [("content-type", "application/json")], document))


def _inside_bundle(path: Path) -> bool:
    try:
        path.resolve().relative_to(data_dir("fixtures").resolve())
    except ValueError:
        return False
    return True


def _bundled(name: str) -> Item:
    try:
        return item_of(fixtures.pick(name))
    except FixtureError as exc:
        raise SourceError(f"{name}: no such file or folder, and {exc}") from None


# moves to hookcatcher.remote: the CLI switches to SyncRemote
def _label(capture: Capture) -> str:
    """`#12 evolution messages.upsert`: a capture by its id, and what it is."""
    return f"#{capture.id} {capture.provider} {capture.event or '(no event)'}"


def items_of(source: Any) -> list[Item]:
    """Whatever the Python API was given: a path or fixture name, a Fixture, a Capture, an
    Item, raw body bytes, or a list of any of these."""
    if isinstance(source, (str, Path)):
        return from_paths([source])
    if isinstance(source, Item):
        return [source]
    if isinstance(source, Fixture):
        return [item_of(source)]
    if isinstance(source, Capture):
        return [Item(_label(source), source)]
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
        body, problem = parse_body(raw)
        return [
            Item(
                "body", _capture(raw, [("content-type", "application/json")], body, problem=problem)
            )
        ]
    if isinstance(source, Iterable):
        return [item for part in source for item in items_of(part)]
    raise SourceError(
        f"cannot replay a {type(source).__name__}: give a fixture or body file, "
        "a folder, a fixture name, a Fixture, a Capture, or a list of them"
    )


def with_overrides(items: list[Item], overrides: Iterable[Override]) -> Iterator[Item]:
    """The items with their bodies changed: the body is written again as compact JSON, so
    overridden bytes are no longer the original ones (that is the point)."""
    changes = list(overrides)
    for item in items:
        if not changes:
            yield item
            continue
        if not item.capture.is_json:
            raise SourceError(f"{item.label}: --set needs a JSON body, and this one is not JSON")
        body = apply(item.capture.body, changes)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        yield Item(item.label, _replace_body(item.capture, body, raw))


def _replace_body(capture: Capture, body: Any, raw: bytes) -> Capture:
    found = classify(capture.method, capture.path, capture.query, capture.headers, body)
    return Capture(
        received_at=capture.received_at,
        method=capture.method,
        path=capture.path,
        query=capture.query,
        headers=capture.headers,
        remote=capture.remote,
        raw=raw,
        body=body,
        provider=found.provider,
        event=found.event,
        instance=found.instance,
        route=capture.route,
        validation=Validation("no-schema"),
        id=capture.id,
    )

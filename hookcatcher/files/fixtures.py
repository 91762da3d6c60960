"""Bundled fixtures: realistic bodies for every event, with the headers the gateway sends.

A fixture file is JSON: `{title, provider, version, event, headers: [[name, value]...], body}`,
named `fixtures/<provider>/[<version>/]<event>[.<variant>].json`. Tests, `validate`, and later
`send` and `replay`, read them through this module; a capture can be saved as one."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hookcatcher.core import catalog
from hookcatcher.core.body import parse_body
from hookcatcher.core.capture import Capture
from hookcatcher.core.headers import forwardable
from hookcatcher.core.resources import data_dir
from hookcatcher.files.write import safe_name, write_new

__all__ = [
    "Fixture",
    "FixtureError",
    "bundled",
    "document_of",
    "from_document",
    "is_fixture",
    "load",
    "pick",
    "save",
]

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
            relative = self.path.resolve().relative_to(data_dir("fixtures").resolve())
        except ValueError:
            relative = Path(self.path.name)
        return relative.with_suffix("").as_posix()

    @property
    def variant(self) -> str:
        """What the file name adds after the event (`text` in messages.upsert.text.json)."""
        stem, base = self.path.stem, catalog.file_stem(self.event)
        return stem[len(base) + 1 :] if stem.startswith(base + ".") else ""

    def raw(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


def is_fixture(document: Any) -> bool:
    return isinstance(document, dict) and all(key in document for key in _KEYS)


def load(path: Path) -> Fixture:
    return from_document(path, read_json_file(path)[1])


def read_json_file(path: Path) -> tuple[bytes, Any]:
    """A file's bytes and their JSON; FixtureError naming the file when either fails."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read: {exc.strerror}") from None
    document, problem = parse_body(raw)
    if problem is not None:
        raise FixtureError(f"{path}: {problem.message}")
    return raw, document


def from_document(path: Path, document: Any) -> Fixture:
    """A fixture from a file already read and parsed (`path` names it in errors)."""
    if not is_fixture(document):
        missing = [key for key in _KEYS if not isinstance(document, dict) or key not in document]
        raise FixtureError(f"{path}: not a fixture: missing {', '.join(missing)}")
    headers = document["headers"]
    if not isinstance(headers, list) or not all(
        isinstance(h, list) and len(h) == 2 and all(isinstance(x, str) for x in h) for h in headers
    ):
        raise FixtureError(f"{path}: headers must be a list of [name, value] strings")
    return Fixture(
        path,
        document["title"],
        document["provider"],
        document["version"],
        document["event"],
        tuple((name, value) for name, value in headers),
        document["body"],
    )


def bundled() -> Iterator[Fixture]:
    """Every fixture that ships with hookcatcher, in name order."""
    for path in sorted(data_dir("fixtures").rglob("*.json")):
        yield load(path)


def pick(
    name: str, provider: str | None = None, version: str | None = None, variant: str | None = None
) -> Fixture:
    """The bundled fixture `send` uses for `name`: a fixture name
    (`evolution/v2/messages.upsert.text`) or an event name (`messages.upsert`,
    `messages/post`), optionally after the gateway and version (`evolution/v1/messages.upsert`).
    When several fit, the first gateway in the catalog's order wins (Evolution, CodeChat,
    Whapi), then its newest version, then the plain variant (no suffix), then `text`, then by
    name: the most common case."""
    everything = list(bundled())
    exact = [fixture for fixture in everything if fixture.name == name]
    if exact:
        return exact[0]
    head, _, rest = name.partition("/")
    if head in catalog.PROVIDERS and rest and provider in (None, head):
        provider, name = head, rest
        release, _, event = rest.partition("/")
        if release in catalog.PROVIDERS[head].versions and event and version in (None, release):
            version, name = release, event
    named = [
        fixture
        for fixture in everything
        if name in (fixture.event, catalog.file_stem(fixture.event))
    ]
    if not named:
        known = sorted({fixture.event for fixture in everything})
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise FixtureError(
            f"no bundled fixture for {name!r}{hint}; `hookcatcher send --list` shows them all"
        )
    chosen = [
        fixture
        for fixture in named
        if provider in (None, fixture.provider)
        and version in (None, fixture.version)
        and variant in (None, fixture.variant)
    ]
    if not chosen:
        wanted = ", ".join(
            f"{flag} {value}"
            for flag, value in (
                ("--provider", provider),
                ("--version", version),
                ("--variant", variant),
            )
            if value is not None
        )
        there = ", ".join(fixture.name for fixture in named)
        raise FixtureError(f"no bundled fixture for {name} with {wanted}; there are: {there}")
    return min(chosen, key=_preference)


def _preference(fixture: Fixture) -> tuple[int, int, int, str]:
    providers = list(catalog.PROVIDERS)
    versions = catalog.PROVIDERS[fixture.provider].versions
    newest_first = -versions.index(fixture.version) if fixture.version in versions else 0
    plain = 0 if not fixture.variant else 1 if fixture.variant == "text" else 2
    return providers.index(fixture.provider), newest_first, plain, fixture.variant


def document_of(capture: Capture, title: str | None = None) -> dict[str, Any]:
    """A capture in the fixture-file form. The version is the catalog's when only one version
    sends the event; otherwise the body cannot say which one did, and it is `captured`."""
    if not capture.is_json:
        reason = capture.validation.errors[0].message if capture.validation.errors else "not JSON"
        raise FixtureError(
            f"capture {capture.id} cannot be a fixture: its body is not JSON ({reason})"
        )
    event = catalog.find(capture.provider, capture.event)
    version = event.versions[0] if event is not None and len(event.versions) == 1 else "captured"
    if title is None:
        sender = f" from {capture.instance}" if capture.instance else ""
        title = f"captured {capture.event or 'request'}{sender} at {capture.received_at}"
    return {
        "title": title,
        "provider": capture.provider,
        "version": version,
        "event": capture.event,
        "headers": [[name, value] for name, value in forwardable(capture.headers)],
        "body": capture.body,
    }


def save(capture: Capture, folder: Path, title: str | None = None) -> Path:
    """Write a capture as `<folder>/<provider>/<event>.<id>.json` and return the path. An
    existing file is never replaced: a counter is added (`.<id>.2.json`, ...). The provider,
    event and id come from whoever sent the request (or wrote the session file it was read
    from), so each is reduced to a safe name, and nothing is written outside `folder`."""
    text = json.dumps(document_of(capture, title), indent=2, ensure_ascii=False) + "\n"
    where = folder / safe_name(capture.provider, "unknown")
    name = f"{_stem(capture.event)}.{safe_name(str(capture.id), '0')}.json"
    try:
        return write_new(where, name, text, inside=folder)
    except OSError as exc:
        raise FixtureError(f"{exc.filename or where}: cannot write: {exc.strerror}") from None


def _stem(event: str | None) -> str:
    """The event as a file name: Whapi's `/` and CodeChat's `:` as dots, then made safe
    (and short enough that the id and `.json` still fit)."""
    return "capture" if event is None else safe_name(catalog.file_stem(event)[:60])

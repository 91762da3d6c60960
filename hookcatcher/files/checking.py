"""Body and fixture files checked offline, as the server would check the same bytes: what
`hookcatcher validate` reports. A file is a body exactly as a gateway posts it, or a
bundled-style fixture (`{title, provider, version, event, headers, body}`), whose headers
help classify it and whose declared event must be what the body says."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hookcatcher.check.validation import Validator
from hookcatcher.check.verdict import judge
from hookcatcher.core.body import parse_body
from hookcatcher.core.capture import Problem
from hookcatcher.files.fixtures import is_fixture

__all__ = ["Result", "check_files", "check_one", "summary"]


@dataclass(slots=True)
class Result:
    file: str
    status: str  # valid | invalid | no-schema | not-json | unreadable
    provider: str | None = None
    event: str | None = None
    schema: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status in ("invalid", "not-json", "unreadable")

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "status": self.status,
            "provider": self.provider,
            "event": self.event,
            "schema": self.schema,
            "errors": [e.to_json() for e in self.errors],
            "warnings": self.warnings,
        }


def _files(names: Iterable[str]) -> Iterable[tuple[str, Path | None]]:
    for name in names:
        if name == "-":
            yield "-", None
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                yield name, path  # reported: a folder with nothing to check
            for file in found:
                yield str(file), file
        else:
            yield name, path


def check_one(validator: Validator, name: str, raw: bytes) -> Result:
    document, problem = parse_body(raw)
    if problem is not None:
        return Result(name, "not-json", errors=[problem])
    headers: list[tuple[str, str]] = []
    declared: tuple[str, str] | None = None
    body = document
    if is_fixture(document):
        body = document["body"]
        headers = [tuple(pair) for pair in document.get("headers", []) if len(pair) == 2]
        declared = (document["provider"], document["event"])
    found, checked = judge(validator, "POST", "/", "", headers, body)
    result = Result(
        name,
        checked.status,
        found.provider,
        found.event,
        checked.schema,
        list(checked.errors),
        list(found.warnings),
    )
    if declared is not None and declared != (found.provider, found.event):
        result.status = "invalid"
        result.errors.insert(
            0,
            Problem(
                "$.body",
                f"the fixture says {declared[0]} {declared[1]} "
                f"but the body is {found.provider} {found.event}",
            ),
        )
    return result


def check_files(
    validator: Validator, names: Iterable[str], stdin: bytes | None = None
) -> list[Result]:
    results = []
    for name, path in _files(names):
        if path is None:
            results.append(check_one(validator, "<stdin>", stdin or b""))
            continue
        if path.is_dir():
            results.append(
                Result(name, "unreadable", errors=[Problem("$", "no .json files in this folder")])
            )
            continue
        try:
            raw = path.read_bytes()
        except OSError as exc:
            results.append(
                Result(name, "unreadable", errors=[Problem("$", f"cannot read: {exc.strerror}")])
            )
            continue
        results.append(check_one(validator, name, raw))
    return results


def summary(results: list[Result]) -> dict[str, int]:
    counts = {"files": len(results)}
    for status in ("valid", "invalid", "no-schema", "not-json", "unreadable"):
        counts[status] = sum(r.status == status for r in results)
    return counts

"""Exports: captures in forms other tools read, with secrets redacted unless asked otherwise.

- HAR 1.2, which browser devtools and HAR viewers open. One entry per capture: the request as
  it reached hookcatcher (its URL rebuilt on a base URL), the answer hookcatcher gave, and
  hookcatcher's verdict under `_hookcatcher` (the spec's rule for custom fields: a leading
  underscore). HAR 1.2 has no encoding for request bodies (`postData.encoding` is only a 1.3
  proposal, which a strict 1.2 reader may refuse), so a body that is not UTF-8 is given as
  base64 in `postData.text` with the custom `_encoding: "base64"` and a comment saying so: a
  reader that does not know the field shows base64, and no byte is lost.
- JSON Lines: each capture's API JSON form (raw bytes included) on one line, which
  `Capture.from_json` reads back.
- A curl script: `#!/bin/sh`, then one `outgoing.curl` command per capture, aimed at a target
  as received or per event, or without a target at hookcatcher itself.
- Fixture files, as the inspector's `s` saves them, into a folder.

Each takes captures and `redact=True`; the API route, the `export` command (cli/export.py)
and the inspector's `x` all go through them. The one-file formats are written piece by piece
(`chunks`): the API route streams them from a worker thread, so an export of a full store
neither holds up the event loop nor builds one document of hundreds of megabytes, and a
stored capture whose body was parsed for it lets go of that body again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from hookcatcher import __version__
from hookcatcher.core.capture import Capture
from hookcatcher.core.controls import escaped
from hookcatcher.core.headers import forwardable
from hookcatcher.core.paths import DEFAULT_URL
from hookcatcher.core.redact import redacted
from hookcatcher.files import fixtures
from hookcatcher.send.outgoing import Outgoing, ReplayError, check_target, curl, request_for

__all__ = [
    "FORMATS",
    "Saved",
    "chunks",
    "curl_script",
    "file_name",
    "fixture_files",
    "har",
    "jsonl",
    "received_request",
]

FORMATS = ("har", "jsonl", "curl", "fixtures")
# The formats that are one file: (media type, file name suffix).
FILES = {
    "har": ("application/json", "har"),
    "jsonl": ("application/x-ndjson", "jsonl"),
    "curl": ("text/x-shellscript; charset=utf-8", "sh"),
}
YES, NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
CHUNK_BYTES = 256 * 1024  # what the API route hands the loop at a time


def _shown(capture: Capture, redact: bool) -> Capture:
    return redacted(capture) if redact else capture


def received_request(capture: Capture, base_url: str = DEFAULT_URL) -> Outgoing:
    """The request exactly as it reached hookcatcher at `base_url`: its method, path, whole
    query and forwardable headers. (A replay's `request_for` leaves out a query that held
    Evolution's per-event suffix; arriving at hookcatcher again, it belongs.)"""
    return Outgoing(
        capture.method, _url(base_url, capture), forwardable(capture.headers), capture.raw
    )


def _url(base_url: str, capture: Capture) -> str:
    """ASGI gives the path percent-decoded; a URL needs it encoded again."""
    path = quote(capture.path, safe="/:@!$&'()*+,;=~")
    return f"{base_url.rstrip('/')}{path}{'?' + capture.query if capture.query else ''}"


# -- HAR


def har(captures: Iterable[Capture], *, base_url: str = DEFAULT_URL, redact: bool = True) -> str:
    """A HAR 1.2 log of the captures, oldest first, as UTF-8 JSON text."""
    return "".join(_har_parts(captures, base_url=base_url, redact=redact))


def _har_parts(captures: Iterable[Capture], *, base_url: str, redact: bool) -> Iterator[str]:
    """The HAR text in pieces: the log around its entries, then one entry at a time, each
    exactly as `json.dumps(..., indent=2)` writes it inside the whole document."""
    exported_at = _now()
    log: dict[str, Any] = {
        "version": "1.2",
        "creator": {"name": "hookcatcher", "version": __version__},
        "pages": [],
        "entries": _ENTRIES,
    }
    if redact:
        log["comment"] = "Secrets redacted by hookcatcher (export with --no-redact to keep them)."
    head, tail = (json.dumps({"log": log}, indent=2, ensure_ascii=False) + "\n").split(
        json.dumps(_ENTRIES)
    )
    yield head
    first = True
    for capture in captures:
        entry = json.dumps(
            _entry(_shown(capture, redact), base_url, exported_at), indent=2, ensure_ascii=False
        ).replace("\n", "\n      ")
        yield ("[\n      " if first else ",\n      ") + entry
        first = False
    yield ("[]" if first else "\n    ]") + tail


_ENTRIES = "\x00entries\x00"  # where the entries go in the log; no JSON text holds it raw


def _entry(capture: Capture, base_url: str, exported_at: str) -> dict[str, Any]:
    # The receiver's only wait is the answer's --delay; sending and reading take no time
    # it measured, and the spec wants `time` to be the sum of the timings.
    waited = capture.answer.delay_ms
    return {
        "startedDateTime": capture.received_at or exported_at,
        "time": waited,
        "request": _request(capture, base_url),
        "response": _response(capture),
        "cache": {},
        "timings": {"send": 0, "wait": waited, "receive": 0},
        "_hookcatcher": {
            "id": capture.id,
            "provider": capture.provider,
            "event": capture.event,
            "instance": capture.instance,
            "route": capture.route.to_json(),
            "validation": capture.validation.to_json(),
            "warnings": list(capture.warnings),
            "retry_of": capture.retry_of,
            "remote": capture.remote,
            "answer": capture.answer.to_json(),
        },
    }


def _request(capture: Capture, base_url: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": capture.method,
        "url": _url(base_url, capture),
        "httpVersion": "HTTP/1.1",
        "cookies": _cookies(capture.headers),
        "headers": [{"name": name, "value": value} for name, value in capture.headers],
        "queryString": [
            {"name": name, "value": value}
            for name, value in parse_qsl(capture.query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": capture.size,
    }
    if capture.raw:
        post: dict[str, Any] = {
            "mimeType": capture.header("content-type") or "application/octet-stream"
        }
        try:
            post["text"] = capture.raw.decode("utf-8")
        except UnicodeDecodeError:
            post["text"] = base64.b64encode(capture.raw).decode("ascii")
            post["_encoding"] = "base64"
            post["comment"] = "The body is not UTF-8: text holds its bytes in base64."
        request["postData"] = post
    return request


def _cookies(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The Cookie header's pairs (none once redacted: the whole value is hidden)."""
    pairs = [
        part.split("=", 1)
        for header, text in headers
        if header.lower() == "cookie"
        for part in text.split(";")
        if "=" in part
    ]
    return [{"name": name.strip(), "value": value.strip()} for name, value in pairs if name.strip()]


def _response(capture: Capture) -> dict[str, Any]:
    # The server writes the answer; asked here rather than written twice. Imported on use:
    # the server imports this module for its export route.

    headers, payload = capture.answer.message(capture.id)
    pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
    mime = next((value for name, value in pairs if name == "content-type"), "")
    status = capture.answer.status
    content: dict[str, Any] = {"size": len(payload), "mimeType": mime}
    if payload:
        content["text"] = payload.decode("utf-8")
    return {
        "status": status,
        "statusText": _phrase(status),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [{"name": name, "value": value} for name, value in pairs],
        "content": content,
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(payload),
    }


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# -- JSON Lines, curl, fixtures


def jsonl(captures: Iterable[Capture], *, redact: bool = True) -> str:
    """One capture per line in its API JSON form, raw bytes included."""
    return "".join(_jsonl_parts(captures, redact=redact))


def _jsonl_parts(captures: Iterable[Capture], *, redact: bool) -> Iterator[str]:
    for capture in captures:
        yield (
            json.dumps(_shown(capture, redact).to_json(include_raw=True), ensure_ascii=False) + "\n"
        )


def curl_script(
    captures: Iterable[Capture],
    target: str | None = None,
    *,
    by_events: bool = False,
    base_url: str = DEFAULT_URL,
    redact: bool = True,
) -> str:
    """A shell script that sends the captures again with curl, oldest first: to `target`
    (as received, or per event with `by_events`), or without one to hookcatcher at
    `base_url` as they first arrived. It stops at the first request curl cannot make."""
    return "".join(
        _curl_parts(captures, target, by_events=by_events, base_url=base_url, redact=redact)
    )


def _curl_parts(
    captures: Iterable[Capture], target: str | None, *, by_events: bool, base_url: str, redact: bool
) -> Iterator[str]:
    if target is not None:
        check_target(target)
    elif by_events:
        raise ReplayError("per-event URLs need a target URL to build on")
    lines = ["#!/bin/sh", "# Captures from hookcatcher, sent again with curl."]
    if redact:
        lines.append(
            "# Secrets are redacted ([redacted]): export with --no-redact to send the real values."
        )
    lines += ["set -e", ""]
    yield "\n".join(lines)
    for capture in captures:
        shown = _shown(capture, redact)
        outgoing = (
            request_for(shown, target, by_events)
            if target is not None
            else received_request(shown, base_url)
        )
        what = f"#{capture.id} {shown.provider} {shown.event or '(no event)'}"
        lines = [_comment(f"{what} received {capture.received_at or '?'}")]
        if outgoing.note:
            lines.append(_comment(outgoing.note))
        lines += [curl(outgoing), ""]
        yield "\n" + "\n".join(lines)


def _comment(text: str) -> str:
    """A shell comment line. Event names come from whoever sent the request: a line break
    in one would end the comment and run the rest as a command, and a terminal escape
    would act when the script is read."""
    return "# " + escaped(text)


@dataclass(frozen=True, slots=True)
class Saved:
    """What a fixture export wrote, and the captures it could not (and why)."""

    paths: tuple[Path, ...]
    skipped: tuple[str, ...]


def fixture_files(captures: Iterable[Capture], folder: Path, *, redact: bool = True) -> Saved:
    """Each capture as a fixture file under `folder` (`<provider>/<event>.<id>.json`). A body
    that is not JSON cannot be a fixture: it is skipped with the reason."""
    paths: list[Path] = []
    skipped: list[str] = []
    for capture in captures:
        try:
            fixtures.document_of(capture)
        except fixtures.FixtureError as exc:
            skipped.append(str(exc))
            continue
        paths.append(fixtures.save(_shown(capture, redact), folder))
    return Saved(tuple(paths), tuple(skipped))


def chunks(
    kind: str,
    captures: Iterable[Capture],
    *,
    base_url: str = DEFAULT_URL,
    target: str | None = None,
    by_events: bool = False,
    redact: bool = True,
) -> Iterator[str]:
    """A one-file export (har, jsonl, curl) in pieces, one capture at a time: joined, they
    are what `har`, `jsonl` and `curl_script` give."""
    if kind == "har":
        return _har_parts(captures, base_url=base_url, redact=redact)
    if kind == "jsonl":
        return _jsonl_parts(captures, redact=redact)
    return _curl_parts(captures, target, by_events=by_events, base_url=base_url, redact=redact)


def file_name(kind: str) -> str:
    """`hookcatcher-20261121-101500.har`: a download's or an export file's name."""
    return f"hookcatcher-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}.{FILES[kind][1]}"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

"""Session files: every capture of a run as one JSON line, handed to the OS before the sender
gets its answer, so a crash or a kill loses nothing that was acknowledged; read back for
offline inspection and replay.

The format is JSON Lines: a header line per run (`{"hookcatcher_session": 1, ...}`), then one
line per capture in its one JSON form (`Capture.to_json`, raw bytes included, so the bytes
come back exactly). Lines are only ever appended, each with one write on an O_APPEND
descriptor, so after a crash only the last line can be cut short. Reading reports each line
it cannot use, by file and line number, and loads every other one. Writing a run's lines is
files/session_writer.py; this module is the format and reading it back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from hookcatcher.core.capture import Capture

__all__ = [
    "FORMAT",
    "Loaded",
    "LineProblem",
    "SessionError",
    "encode",
    "load",
]

FORMAT = 1  # what this hookcatcher writes and reads; a newer number means another layout
MARK = "hookcatcher_session"
CUT_SHORT = "cut short (the writer stopped mid-line)"
# What a capture line holds: (field, JSON types it may have, required). Checked before
# Capture.from_json, so a hand-edited line is named for the field that is wrong instead of
# failing somewhere later (the store, a filter, the inspector).
_Fields = tuple[tuple[str, tuple[type, ...], bool], ...]
_NULL = type(None)
_CAPTURE: _Fields = (
    ("id", (int,), True),
    ("received_at", (str,), True),
    ("method", (str,), True),
    ("path", (str,), True),
    ("raw", (str,), True),
    ("raw_encoding", (str,), False),
    ("query", (str,), False),
    ("remote", (str,), False),
    ("headers", (list,), False),
    ("provider", (str,), False),
    ("event", (str, _NULL), False),
    ("instance", (str, _NULL), False),
    ("warnings", (list,), False),
    ("retry_of", (int, _NULL), False),
    ("route", (dict,), False),
    ("validation", (dict,), False),
    ("answer", (dict,), False),
)
_PARTS: dict[str, _Fields] = {
    "route": (("mode", (str,), False), ("base", (str,), False), ("suffix", (str, _NULL), False)),
    "validation": (
        ("status", (str,), False),
        ("schema", (str, _NULL), False),
        ("errors", (list,), False),
    ),
    "answer": (
        ("status", (int,), False),
        ("delay_ms", (int,), False),
        ("reason", (str, _NULL), False),
    ),
}
_ERROR: _Fields = (("path", (str,), True), ("message", (str,), True))
_TYPE_NAMES = {
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    str: "text",
    list: "an array",
    dict: "an object",
    _NULL: "null",
}
_UNREADABLE = object()  # what a line that is not JSON parses to (null is a JSON value)


class SessionError(Exception):
    """A session file that cannot be opened, read or written at all; the message names it."""


def encode(capture: Capture) -> bytes:
    """A capture as its session line: compact UTF-8 JSON with the raw bytes, and a newline."""
    data = capture.to_json(include_raw=True)
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A body holding a lone surrogate ("\ud800" is valid JSON) has no UTF-8 form;
        # escaped, it still reads back as the same value.
        return json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n"


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A line of a session file that was not loaded, and why."""

    path: str
    line: int
    message: str
    column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Loaded:
    """A session file read back: its captures in file order, with the ids they are to be
    stored under, and the lines that could not be used."""

    path: str
    captures: tuple[Capture, ...]
    problems: tuple[LineProblem, ...]
    skipped: int  # lines not loaded (blank lines are not counted)
    runs: int  # header lines read
    renumbered: int  # captures given a new id so that ids increase through the file

    def summary(self) -> str:
        """`loaded 1,000 captures from FILE (2 lines skipped)`, as serve's banner says it."""
        text = f"loaded {len(self.captures):,} captures from {self.path}"
        notes = (
            [f"{self.skipped:,} line{'s' * (self.skipped != 1)} skipped"] if self.skipped else []
        )
        if self.renumbered:
            notes.append(f"{self.renumbered:,} renumbered to follow the run before")
        return text + (f" ({'; '.join(notes)})" if notes else "")


def load(path: str | os.PathLike[str]) -> Loaded:
    """Read a session file. Lines that cannot be read are reported and skipped; every good
    line is loaded. Raises SessionError only when the file cannot be read at all."""
    name = os.fspath(path)
    reader = _Reader(name)
    try:
        with open(name, "rb") as file:
            for number, line in enumerate(file, 1):
                reader.read(number, line)
    except FileNotFoundError:
        raise SessionError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise SessionError(f"{name} is a folder, not a session file") from None
    except OSError as exc:
        raise SessionError(f"{name} cannot be read: {exc.strerror}") from None
    return reader.done()


class _Reader:
    """The state of reading one file: ids are scoped by run (each header restarts them), so
    a capture keeps its id while ids increase through the file and moves up (with the
    `retry_of` of its run's retries) just enough when they do not."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.captures: list[Capture] = []
        self.problems: list[LineProblem] = []
        self.skipped = 0
        self.runs = 0
        self.renumbered = 0
        self._last = 0  # the highest id given so far
        self._offset = 0  # what this run's ids are moved up by
        self._run_ids: dict[int, int] = {}  # this run's ids as written -> as loaded
        self._by_id: dict[int, Capture] = {}  # every capture loaded, by its id as loaded
        self._line = 0  # the last line read
        self._newer: tuple[int, str] | None = None  # a run of a newer format: where, why
        self._newer_lines = 0

    def read(self, number: int, line: bytes) -> None:
        self._line = number
        complete = line.endswith(b"\n")
        if not line.strip():
            return
        data = self._parse(number, line, complete)
        if data is _UNREADABLE:
            return
        if isinstance(data, dict) and MARK in data:
            self._start_run(number, data)
        elif self._newer is not None:
            self._newer_lines += 1
            self.skipped += 1
        elif isinstance(data, dict):
            self._capture(number, data)
        else:
            self._problem(number, f"not a capture: {_TYPE_NAMES[type(data)]}, not a JSON object")

    def _parse(self, number: int, line: bytes, complete: bool) -> Any:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._problem(
                number,
                CUT_SHORT
                if not complete  # a cut can split a character
                else f"not UTF-8 text (byte {exc.start + 1})",
            )
            return _UNREADABLE
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if not complete or exc.pos >= len(text.rstrip()):
                self._problem(number, CUT_SHORT)
            else:
                self._problem(number, f"broken JSON at column {exc.colno}: {exc.msg}", exc.colno)
        except RecursionError:
            self._problem(number, "JSON nested too deeply to read")
        return _UNREADABLE

    def _problem(self, number: int, message: str, column: int | None = None) -> None:
        if self._newer is not None:  # inside a run this hookcatcher cannot read: counted there
            self._newer_lines += 1
        else:
            self.problems.append(LineProblem(self.path, number, message, column))
        self.skipped += 1

    def _start_run(self, number: int, data: dict[str, Any]) -> None:
        self._end_newer(number - 1)
        self.runs += 1
        self._offset = 0
        self._run_ids = {}
        found = data[MARK]
        if type(found) is not int or found < 1:
            self._problem(
                number,
                f"a session header whose {MARK} is {json.dumps(found)}, "
                "not a format number; the run's lines are read as format "
                f"{FORMAT}",
            )
        elif found > FORMAT:
            version = data.get("version")
            self._newer = (
                number,
                f"written by hookcatcher {version} with session format "
                f"{found}; this hookcatcher reads format {FORMAT}",
            )
            self._newer_lines = 0

    def _end_newer(self, last_line: int) -> None:
        if self._newer is None:
            return
        number, message = self._newer
        lines = self._newer_lines
        skipped = (
            f"its {lines:,} line{'s' * (lines != 1)} ({number + 1}-{last_line}) are skipped"
            if lines
            else "it has no captures"
        )
        self.problems.append(LineProblem(self.path, number, f"{message}: {skipped}"))
        self._newer = None

    def _capture(self, number: int, data: dict[str, Any]) -> None:
        wrong = _wrong_field(data)
        if wrong is not None:
            return self._problem(number, f"not a capture: {wrong}")
        try:
            capture = Capture.from_json(data)
        except ValueError:  # the only thing left to fail: base64 that is not
            return self._problem(number, "not a capture: raw is not base64")
        written = capture.id
        if written + self._offset <= self._last:
            self._offset = self._last + 1 - written
        capture.id = written + self._offset
        self.renumbered += self._offset != 0
        if capture.retry_of is not None:
            # The run's own capture, or one its server had loaded (whose id is final here
            # too); either way it has the same bytes, or it is not loaded.
            first = self._by_id.get(self._run_ids.get(capture.retry_of, capture.retry_of))
            capture.retry_of = first.id if first is not None and first.raw == capture.raw else None
        self._run_ids[written] = capture.id
        self._by_id[capture.id] = capture
        self._last = capture.id
        self.captures.append(capture)
        return None

    def done(self) -> Loaded:
        self._end_newer(self._line)
        return Loaded(
            self.path,
            tuple(self.captures),
            tuple(self.problems),
            self.skipped,
            self.runs,
            self.renumbered,
        )


def _wrong_field(data: dict[str, Any]) -> str | None:
    """What makes a JSON object not a capture line, or None when nothing does."""
    wrong = _wrong_type(data, _CAPTURE, "")
    if wrong is not None:
        return wrong
    for name, fields in _PARTS.items():
        if name in data and (wrong := _wrong_type(data[name], fields, f"{name}.")) is not None:
            return wrong
    if data.get("raw_encoding", "utf-8") not in ("utf-8", "base64"):
        return f"raw_encoding is {_shown(data['raw_encoding'])}, not utf-8 or base64"
    for pair in data.get("headers", ()):
        if type(pair) is not list or len(pair) != 2 or not all(type(x) is str for x in pair):
            return f"headers holds {_shown(pair)}, not a [name, value] pair of text"
    for warning in data.get("warnings", ()):
        if type(warning) is not str:
            return f"warnings holds {_shown(warning)}, not text"
    for error in data.get("validation", {}).get("errors", ()):
        if type(error) is not dict or _wrong_type(error, _ERROR, "") is not None:
            return f"validation.errors holds {_shown(error)}, not a {{path, message}} object"
    return None


def _wrong_type(data: dict[str, Any], fields: _Fields, prefix: str) -> str | None:
    for name, kinds, required in fields:
        if name not in data:
            if required:
                return f"it has no {prefix + name!r} field"
        elif type(data[name]) not in kinds:
            expected = " or ".join(_TYPE_NAMES[kind] for kind in kinds)
            return f"{prefix + name!r} is {_shown(data[name])}, not {expected}"
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."

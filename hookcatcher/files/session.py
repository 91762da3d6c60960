"""Session files: every capture of a run as one JSON line, handed to the OS before the sender
gets its answer, so a crash or a kill loses nothing that was acknowledged; read back for
offline inspection and replay.

The format is JSON Lines: a header line per run (`{"hookcatcher_session": 1, ...}`), then one
line per capture in its one JSON form (`Capture.to_json`, raw bytes included, so the bytes
come back exactly). Lines are only ever appended, each with one write on an O_APPEND
descriptor, so after a crash only the last line can be cut short. Reading reports each line
it cannot use, by file and line number, and loads every other one.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from hookcatcher import __version__
from hookcatcher.core.capture import Capture

__all__ = [
    "FORMAT",
    "Loaded",
    "LineProblem",
    "SessionError",
    "SessionWriteError",
    "SessionWriter",
    "encode",
    "load",
]

FORMAT = 1  # what this hookcatcher writes and reads; a newer number means another layout
MARK = "hookcatcher_session"
CUT_SHORT = "cut short (the writer stopped mid-line)"
# Errors that mean "no room": answered 507 Insufficient Storage rather than 500.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
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
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
_UNREADABLE = object()  # what a line that is not JSON parses to (null is a JSON value)


class SessionError(Exception):
    """A session file that cannot be opened, read or written at all; the message names it."""


class SessionWriteError(Exception):
    """A capture whose line did not reach the file: its sender must not get a 2xx."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def encode(capture: Capture) -> bytes:
    """A capture as its session line: compact UTF-8 JSON with the raw bytes, and a newline."""
    data = capture.to_json(include_raw=True)
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
    except UnicodeEncodeError:
        # A body holding a lone surrogate ("\ud800" is valid JSON) has no UTF-8 form;
        # escaped, it still reads back as the same value.
        return json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n"


def _header(run: str) -> bytes:
    started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        json.dumps(
            {MARK: FORMAT, "version": __version__, "run": run, "started_at": started},
            separators=(",", ":"),
        ).encode()
        + b"\n"
    )


class SessionWriter:
    """Appends a run's captures to a session file.

    Nothing is buffered in the process: once `append` returns, the line is the kernel's and
    no kill can lose it; `sync` (with `fsync=True`) waits until it is the disk's. An
    existing file is appended to under a new header, never truncated. `say` is told, once
    per change, when saving stops working and when it works again."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        run: str,
        fsync: bool = False,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.run = run
        self.fsync = fsync
        self.failed = 0  # captures whose line did not reach the file
        self._say = say or (lambda message: None)
        self._first_unsaved: int | None = None  # while failing: the first capture not saved
        self._cut = False  # a failed write left part of a line: the next starts a fresh one
        self._appended = 0  # lines handed to the OS
        self._synced = 0  # of those, lines known to be on disk
        self._syncing: asyncio.Task[None] | None = None
        self._fd = -1
        self._file: tuple[int, int] = (0, 0)  # (device, inode) of the open file
        try:
            self._open()
        except OSError as exc:
            raise SessionError(f"cannot save to {self.path}: {exc.strerror}") from None

    def _open(self) -> None:
        """Open the file and write this run's header (after a newline when the file ends in
        a line some crash cut short)."""
        prefix = _ends_mid_line(self.path)
        created = not os.path.exists(self.path)
        fd = os.open(self.path, _FLAGS, 0o644)
        try:
            _write_all(fd, (b"\n" if prefix else b"") + _header(self.run))
            if self.fsync:
                os.fsync(fd)
                if created:  # the new name must survive a power loss too
                    _sync_folder(self.path)
            opened = os.fstat(fd)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd
        self._file = (opened.st_dev, opened.st_ino)
        self._cut = False

    def append(self, capture: Capture) -> None:
        """Hand the capture's line to the OS, or raise SessionWriteError saying why not.

        A file removed, moved away or replaced while it is written to is let go (a removed
        file's disk space only comes back once no descriptor holds it, which matters most
        when the disk is full) and made again under a new header. The check is one stat of
        the path per line, so not one acknowledged line goes into a file nobody can see."""
        line = encode(capture)
        gone: str | None = None  # how the file left its name, when this capture found out
        try:
            if self._fd >= 0:
                gone = self._gone()
                if gone is not None:
                    self._let_go()
            if self._fd < 0:
                self._open()
            data = b"\n" + line if self._cut else line
            self._cut = True  # until the whole line is out (a needless newline is a blank line)
            _write_all(self._fd, data)
        except OSError as exc:
            self.failed += 1
            status = 507 if exc.errno in _NO_ROOM else 500
            first_failure = self._first_unsaved is None
            if first_failure:
                self._first_unsaved = capture.id
            if first_failure or gone is not None:
                problem = (
                    f"{self.path} was {gone} and cannot be made again"
                    if gone
                    else f"cannot save to {self.path}"
                )
                self._say(
                    f"hookcatcher: {problem}: {exc.strerror}; captures are kept in "
                    f"memory and answered {status} until it works again"
                )
            raise SessionWriteError(
                f"capture {capture.id} was not saved to {self.path}: {exc.strerror}", status
            ) from None
        self._cut = False
        self._appended += 1
        missed = ""
        if self._first_unsaved is not None:
            first, last = self._first_unsaved, capture.id - 1
            span = f"#{first}" if first == last else f"#{first} to #{last}"
            missed = f" ({span} not saved)"
            self._first_unsaved = None
            if gone is None:
                self._say(
                    f"hookcatcher: saving to {self.path} again from capture "
                    f"#{capture.id} on{missed}"
                )
        if gone is not None:
            self._say(
                f"hookcatcher: {self.path} was {gone}; saving to a new {self.path} "
                f"from capture #{capture.id} on{missed}"
            )

    def _gone(self) -> str | None:
        """How the open file stopped being the one at its path ("removed", "moved away",
        "replaced"), or None while it still is (or the path cannot be looked at)."""
        try:
            now = os.stat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return "removed" if os.fstat(self._fd).st_nlink == 0 else "moved away"
        except OSError:
            return None  # a folder that cannot be searched: the write says what is wrong
        if (now.st_dev, now.st_ino) == self._file:
            return None
        return "replaced"

    def _let_go(self) -> None:
        """Close the descriptor of a file that lost its name; nothing is owed to it."""
        fd, self._fd = self._fd, -1
        os.close(fd)

    async def sync(self) -> None:
        """Wait until every line appended so far is on disk, or raise SessionWriteError.

        fsync runs on a worker thread, so other requests go on meanwhile, and one at a time:
        each covers every line appended before it began, so concurrent senders share it."""
        wanted = self._appended
        while self._synced < wanted:
            if self._syncing is None:
                self._syncing = asyncio.ensure_future(self._sync_now())
            try:
                await asyncio.shield(self._syncing)
            except OSError as exc:
                self.failed += 1
                raise SessionWriteError(
                    f"{self.path} could not be synced to disk: {exc.strerror}", 500
                ) from None

    async def _sync_now(self) -> None:
        upto, fd = self._appended, self._fd
        try:
            await asyncio.to_thread(os.fsync, fd)
        except OSError as exc:
            if fd != self._fd:  # let go meanwhile: its lines went with the removed file
                self._synced = max(self._synced, upto)
                return
            self._say(
                f"hookcatcher: {self.path} could not be synced to disk: {exc.strerror}; "
                "the captures waiting for it are answered 500"
            )
            raise
        finally:
            self._syncing = None
        self._synced = max(self._synced, upto)

    def close(self) -> None:
        """Sync (with fsync) and close; saying, not raising, what went wrong at the end."""
        if self._fd < 0:
            return
        try:
            if self.fsync:
                os.fsync(self._fd)
        except OSError as exc:
            self._say(f"hookcatcher: {self.path} could not be synced to disk: {exc.strerror}")
        finally:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    """One write, normally; more only when the OS takes part (a disk filling up)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _ends_mid_line(path: str) -> bool:
    try:
        with open(path, "rb") as file:
            if file.seek(0, os.SEEK_END) == 0:
                return False
            file.seek(-1, os.SEEK_END)
            return file.read(1) != b"\n"
    except OSError:
        return False  # a new file, or one only the append below can say more about


def _sync_folder(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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

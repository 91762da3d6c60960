"""Writing a session file (`--save`): each capture's line handed to the OS with one write on
an O_APPEND descriptor before its sender gets an answer, fsync on a worker thread shared by
concurrent requests, and a file removed or replaced meanwhile made again. Apart from
files/session.py (the format and reading it back) because the writer's care is all about
the request path: what a failed write answers (507 or 500) and what it says, once.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
from collections.abc import Callable
from datetime import datetime, timezone

from hookcatcher import __version__
from hookcatcher.core.capture import Capture
from hookcatcher.files.session import FORMAT, MARK, SessionError, encode

__all__ = ["SessionWriteError", "SessionWriter"]

# Errors that mean "no room": answered 507 Insufficient Storage rather than 500.
_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC


class SessionWriteError(Exception):
    """A capture whose line did not reach the file: its sender must not get a 2xx."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


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

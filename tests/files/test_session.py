"""Session files: written line by line as captures are acknowledged, read back with every good
line loaded and every bad one named by file and line; the store takes them back with their ids."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.api import TIMEOUT
from helpers.bundled import body_of

from hookcatcher.check.validation import Validator
from hookcatcher.core.capture import Capture
from hookcatcher.files.session import SessionError, encode, load
from hookcatcher.files.session_writer import SessionWriter
from hookcatcher.receive.app import create_app
from hookcatcher.receive.ingest import build_capture
from hookcatcher.receive.runner import BackgroundServer
from hookcatcher.receive.store import Store

BODIES = [
    body_of("evolution/v2/messages.upsert.text"),
    '{"text": "olá, 😀 ✓"}'.encode(),  # UTF-8, not ASCII
    b"\xff\xfe\x00binary",  # not UTF-8: base64 in the file
    b"",  # empty
    b'{"t": "\\ud800"}',  # valid JSON whose value has no UTF-8 form (a lone surrogate)
    b'  {"spaced" :\t1 }\r\n',  # JSON whose exact bytes differ from any re-encoding
]


def received(validator: Validator, raw: bytes, path: str = "/webhook") -> Capture:
    return build_capture(
        validator,
        "POST",
        path,
        "a=1",
        [("content-type", "application/json"), ("x-note", "é")],
        "127.0.0.1:5000",
        raw,
    )


def save_run(
    path: Path, validator: Validator, bodies: list[bytes], store: Store | None = None
) -> Store:
    """One server run that saves: each capture stored (its id given) and then appended."""
    store = store or Store()
    with SessionWriter(path, store.run) as writer:
        for raw in bodies:
            writer.append(store.add(received(validator, raw)))
    return store


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


def test_round_trip_keeps_every_byte_and_field(tmp_path: Path, validator: Validator) -> None:
    file = tmp_path / "session.jsonl"
    store = save_run(file, validator, BODIES)
    header = json.loads(lines_of(file)[0])
    assert header["hookcatcher_session"] == 1 and header["run"] == store.run
    loaded = load(file)
    assert loaded.problems == () and loaded.skipped == 0 and loaded.runs == 1
    assert [capture.raw for capture in loaded.captures] == BODIES
    assert [capture.to_json() for capture in loaded.captures] == [
        capture.to_json() for capture in store
    ]
    assert loaded.captures[2].validation.status == "not-json"
    assert loaded.captures[4].body == {"t": "\ufffd"}  # shown as U+FFFD; raw keeps the escape
    assert loaded.summary() == f"loaded 6 captures from {file}"


def test_lines_are_compact_utf8(tmp_path: Path, validator: Validator) -> None:
    line = encode(received(validator, BODIES[1]))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert '"raw":"{\\"text\\": \\"olá, 😀 ✓\\"}","raw_encoding":"utf-8"'.encode() in line
    assert b'"raw_encoding":"base64"' in encode(received(validator, BODIES[2]))


def test_an_existing_file_gets_a_new_run_and_loses_nothing(
    tmp_path: Path, validator: Validator
) -> None:
    file = tmp_path / "session.jsonl"
    save_run(file, validator, [b'{"n": 1}', b'{"n": 2}'])
    save_run(file, validator, [b'{"n": 3}', b'{"n": 3}', b'{"n": 4}'])  # ids restart at 1
    loaded = load(file)
    assert loaded.runs == 2 and loaded.problems == ()
    assert [(c.id, c.raw, c.retry_of) for c in loaded.captures] == [
        (1, b'{"n": 1}', None),
        (2, b'{"n": 2}', None),
        (3, b'{"n": 3}', None),
        (4, b'{"n": 3}', 3),
        (5, b'{"n": 4}', None),
    ]
    assert loaded.renumbered == 3
    assert (
        loaded.summary() == f"loaded 5 captures from {file} (3 renumbered to follow the run before)"
    )


def test_a_resumed_run_keeps_its_ids_and_its_retries_of_loaded_captures(
    tmp_path: Path, validator: Validator
) -> None:
    """`serve --load F --save F`: the new run's ids follow the loaded ones, and a retry of a
    loaded capture points at it; reading the file again gives the same ids."""
    file = tmp_path / "session.jsonl"
    save_run(file, validator, [b'{"n": 1}', b'{"n": 2}'])
    save_run(file, validator, [b'{"n": 3}'])  # its id 1 is loaded as 3
    store = Store()
    for capture in load(file).captures:
        store.restore(capture)
    save_run(file, validator, [b'{"n": 2}', b'{"n": 5}'], store)
    assert [(c.id, c.retry_of) for c in store] == [
        (1, None),
        (2, None),
        (3, None),
        (4, 2),
        (5, None),
    ]
    loaded = load(file)
    assert [(c.id, c.retry_of) for c in loaded.captures] == [
        (1, None),
        (2, None),
        (3, None),
        (4, 2),
        (5, None),
    ]
    assert (loaded.runs, loaded.renumbered) == (3, 1)


def test_a_last_line_cut_short_is_said_so_and_the_next_run_starts_on_a_line_of_its_own(
    tmp_path: Path, validator: Validator
) -> None:
    file = tmp_path / "session.jsonl"
    save_run(file, validator, BODIES[:3])
    whole = file.read_bytes()
    file.write_bytes(whole[:-40])  # a power cut in the middle of the last line
    loaded = load(file)
    assert [c.id for c in loaded.captures] == [1, 2]
    assert [str(problem) for problem in loaded.problems] == [
        f"{file}:4: cut short (the writer stopped mid-line)"
    ]
    save_run(file, validator, [b'{"after": "the crash"}'])
    loaded = load(file)
    assert [c.raw for c in loaded.captures][-1] == b'{"after": "the crash"}'
    assert [str(problem) for problem in loaded.problems] == [
        f"{file}:4: cut short (the writer stopped mid-line)"
    ]


def test_unreadable_lines_are_named_and_every_good_line_is_loaded(
    tmp_path: Path, validator: Validator
) -> None:
    store = Store()
    good = [encode(store.add(received(validator, b'{"n": %d}' % n))) for n in range(1, 4)]
    file = tmp_path / "session.jsonl"
    file.write_bytes(
        b"".join(
            [
                good[0],
                b'{"id": 2, "received_at": oops}\n',
                good[1],
                b"[1, 2]\n",
                b"null\n",
                b"\n",
                b'{"id": 7, "method": "POST", "path": "/", "raw": ""}\n',
                b'{"id": "8", "received_at": "x", "method": "POST", "path": "/", "raw": ""}\n',
                b'{"text": "\xff"}\n',
                b'{"id": 9, "received_at": "x", "method": "POST", "path": "/", "raw": "",'
                b' "headers": [["host"]]}\n',
                good[2],
            ]
        )
    )
    loaded = load(file)
    assert [(c.id, c.raw) for c in loaded.captures] == [
        (1, b'{"n": 1}'),
        (2, b'{"n": 2}'),
        (3, b'{"n": 3}'),
    ]
    assert [str(problem) for problem in loaded.problems] == [
        f"{file}:2: broken JSON at column 26: Expecting value",
        f"{file}:4: not a capture: an array, not a JSON object",
        f"{file}:5: not a capture: null, not a JSON object",
        f"{file}:7: not a capture: it has no 'received_at' field",
        f"{file}:8: not a capture: 'id' is \"8\", not a whole number",
        f"{file}:9: not UTF-8 text (byte 11)",
        f'{file}:10: not a capture: headers holds ["host"], not a [name, value] pair of text',
    ]
    assert loaded.problems[0].column == 26
    assert loaded.skipped == 7  # the blank line is no problem
    assert loaded.summary().endswith("(7 lines skipped)")


def test_a_run_of_a_newer_format_is_skipped_with_the_reason(
    tmp_path: Path, validator: Validator
) -> None:
    file = tmp_path / "session.jsonl"
    file.write_text(
        '{"hookcatcher_session": 2, "version": "9.0.0", "run": "r2"}\n'
        '{"id": 1, "layout": "unknown"}\n'
        "not even JSON\n",
        encoding="utf-8",
    )
    save_run(file, validator, [b'{"n": 1}'])
    loaded = load(file)
    assert [c.raw for c in loaded.captures] == [b'{"n": 1}']
    assert [str(problem) for problem in loaded.problems] == [
        f"{file}:1: written by hookcatcher 9.0.0 with session format 2; this hookcatcher "
        "reads format 1: its 2 lines (2-3) are skipped"
    ]
    assert loaded.skipped == 2


def test_a_file_that_cannot_be_read_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match=r"missing\.jsonl: no such file"):
        load(tmp_path / "missing.jsonl")
    with pytest.raises(SessionError, match="is a folder, not a session file"):
        load(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert load(empty).captures == ()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_file_that_cannot_be_written_is_one_clear_error() -> None:
    with pytest.raises(SessionError, match="cannot save to /dev/full: No space left on device"):
        SessionWriter("/dev/full", "run")
    with pytest.raises(SessionError, match="cannot save to /nonexistent/s.jsonl: No such file"):
        SessionWriter("/nonexistent/s.jsonl", "run")


def test_a_removed_file_is_made_again(tmp_path: Path, validator: Validator) -> None:
    file = tmp_path / "session.jsonl"
    said: list[str] = []
    store = Store()
    with SessionWriter(file, store.run, say=said.append) as writer:
        writer.append(store.add(received(validator, b'{"n": 1}')))
        file.unlink()
        writer.append(store.add(received(validator, b'{"n": 2}')))
    assert [(c.id, c.raw) for c in load(file).captures] == [(2, b'{"n": 2}')]
    assert said == [f"hookcatcher: {file} was removed; saving to a new {file} from capture #2 on"]


def test_a_file_moved_away_or_replaced_is_let_go_and_made_again(
    tmp_path: Path, validator: Validator
) -> None:
    """A rename keeps the file's name count at 1, so only the path tells it is no longer
    the one written to: the moved file keeps what it had, the new one gets the rest."""
    file = tmp_path / "session.jsonl"
    archive = tmp_path / "archive.jsonl"
    said: list[str] = []
    store = Store()
    with SessionWriter(file, store.run, say=said.append) as writer:
        writer.append(store.add(received(validator, b'{"n": 1}')))
        file.rename(archive)
        writer.append(store.add(received(validator, b'{"n": 2}')))
        other = tmp_path / "other.jsonl"
        other.write_bytes(b'{"not": "a session"')  # cut short: the header starts a line
        other.replace(file)
        writer.append(store.add(received(validator, b'{"n": 3}')))
    assert [c.raw for c in load(archive).captures] == [b'{"n": 1}']
    replaced = load(file)
    assert [(c.id, c.raw) for c in replaced.captures] == [(3, b'{"n": 3}')]
    assert [str(problem) for problem in replaced.problems] == [
        f"{file}:1: cut short (the writer stopped mid-line)"
    ]
    assert said == [
        f"hookcatcher: {file} was moved away; saving to a new {file} from capture #2 on",
        f"hookcatcher: {file} was replaced; saving to a new {file} from capture #3 on",
    ]


class FullDisk:
    """A disk that is full while the removed session file is still open: every write to a
    regular file fails with ENOSPC until a descriptor of that file is closed, as the kernel
    frees an unlinked file's blocks only then. Sockets are not touched: the server answers."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.filler: tuple[int, int] | None = None  # (device, inode) of the file that fills it
        self._write, self._close = os.write, os.close
        monkeypatch.setattr(os, "write", self.write)
        monkeypatch.setattr(os, "close", self.close)

    def fill(self, path: Path) -> None:
        found = os.stat(path)
        self.filler = (found.st_dev, found.st_ino)

    def write(self, fd: int, data: Any) -> int:
        if self.filler is not None and stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self._write(fd, data)

    def close(self, fd: int) -> None:
        found = os.fstat(fd)
        if (found.st_dev, found.st_ino) == self.filler:
            self.filler = None
        self._close(fd)


def test_a_removed_file_on_a_full_disk_gives_its_space_back_and_saving_goes_on(
    tmp_path: Path, validator: Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15: the removed file's descriptor is closed before a new file is made, so
    the new file has room; before, the new file's header could not be written while the
    old file held the disk, and every capture was answered 507 until a restart."""
    file = tmp_path / "session.jsonl"
    said: list[str] = []
    store = Store()
    disk = FullDisk(monkeypatch)
    with (
        SessionWriter(file, store.run, say=said.append) as writer,
        BackgroundServer(create_app(store, validator, session=writer)) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as http,
    ):
        assert http.post("/webhook", content=b'{"n": 1}').status_code == 200
        disk.fill(file)
        full = http.post("/webhook", content=b'{"n": 2}')
        file.unlink()  # what a user does to get the space back
        after = [http.post("/webhook", content=b'{"n": %d}' % n) for n in (3, 4, 5)]
    assert (full.status_code, full.json()["reason"]) == (
        507,
        f"capture 2 was not saved to {file}: No space left on device",
    )
    assert [answer.status_code for answer in after] == [200, 200, 200]
    loaded = load(file)
    assert [(c.id, c.raw) for c in loaded.captures] == [
        (3, b'{"n": 3}'),
        (4, b'{"n": 4}'),
        (5, b'{"n": 5}'),
    ]
    assert loaded.runs == 1 and loaded.problems == ()
    assert said == [
        f"hookcatcher: cannot save to {file}: No space left on device; captures are kept in "
        "memory and answered 507 until it works again",
        f"hookcatcher: {file} was removed; saving to a new {file} from capture #3 on "
        "(#2 not saved)",
    ]
    assert writer.failed == 1


@pytest.mark.slow
def test_serve_says_on_stderr_that_its_session_file_was_removed(run, tmp_path: Path) -> None:
    file = tmp_path / "session.jsonl"
    server = run("serve", "--port", "0", "--save", str(file)).started()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
        assert http.post("/webhook", content=b'{"n": 1}').json() == {"ok": True, "id": 1}
        file.unlink()
        assert [http.post("/webhook", content=b'{"n": %d}' % n).status_code for n in (2, 3)] == [
            200,
            200,
        ]
        assert (
            server.read_until("removed", stream="stderr")
            == f"hookcatcher: {file} was removed; saving to a new {file} from capture #2 on\n"
        )
    assert server.stop() == 0
    assert [(c.id, c.raw) for c in load(file).captures] == [(2, b'{"n": 2}'), (3, b'{"n": 3}')]


def test_a_capture_that_cannot_be_saved_is_not_acknowledged_and_is_kept(
    tmp_path: Path, validator: Validator
) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    file = folder / "session.jsonl"
    said: list[str] = []
    store = Store()
    with (
        SessionWriter(file, store.run, say=said.append) as writer,
        BackgroundServer(create_app(store, validator, session=writer)) as server,
        httpx.Client(base_url=server.url, timeout=TIMEOUT) as http,
    ):
        assert http.post("/webhook", content=b'{"n": 1}').json() == {"ok": True, "id": 1}
        file.unlink()
        folder.rmdir()  # the file cannot be made again
        refused = [http.post("/webhook", content=b'{"n": %d}' % n) for n in (2, 3)]
        folder.mkdir()
        assert http.post("/webhook", content=b'{"n": 4}').status_code == 200
        stored = http.get("/_hookcatcher/api/events").json()["events"]
    reason = f"capture 2 was not saved to {file}: No such file or directory"
    assert [answer.status_code for answer in refused] == [500, 500]
    assert refused[0].json() == {"ok": False, "id": 2, "status": 500, "reason": reason}
    assert [(event["id"], event["answer"]["status"]) for event in stored] == [
        (1, 200),
        (2, 500),
        (3, 500),
        (4, 200),
    ]
    assert stored[1]["answer"]["reason"] == reason
    assert said == [
        f"hookcatcher: {file} was removed and cannot be made again: No such file or directory; "
        "captures are kept in memory and answered 500 until it works again",
        f"hookcatcher: saving to {file} again from capture #4 on (#2 to #3 not saved)",
    ]
    assert [c.raw for c in load(file).captures] == [b'{"n": 4}']
    assert writer.failed == 2


def test_a_full_disk_cuts_a_line_short_answers_507_and_the_next_line_reads(tmp_path: Path) -> None:
    """A real short write: the file-size limit stops a line part-way, as a full disk does."""
    file = tmp_path / "session.jsonl"
    script = textwrap.dedent(f"""
        import os, resource, signal
        from hookcatcher.core.capture import Capture
        from hookcatcher.files.session_writer import SessionWriter, SessionWriteError
        def capture(n):
            return Capture.from_json({{"id": n, "received_at": "t", "method": "POST",
                                       "path": "/", "raw": "x" * 300}})
        writer = SessionWriter({str(file)!r}, "run")
        writer.append(capture(1))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize({str(file)!r}) + 100, hard))
        try:
            writer.append(capture(2))
        except SessionWriteError as exc:
            print(exc.status, exc)
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        writer.append(capture(3))
        writer.close()
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.stdout == f"507 capture 2 was not saved to {file}: File too large\n", done.stderr
    loaded = load(file)
    assert [c.id for c in loaded.captures] == [1, 3]
    assert [str(problem) for problem in loaded.problems] == [
        f"{file}:3: cut short (the writer stopped mid-line)"
    ]


@pytest.mark.slow
def test_fsync_answers_concurrent_senders_with_every_line_saved(
    tmp_path: Path, validator: Validator
) -> None:
    file = tmp_path / "session.jsonl"
    store = Store()
    with (
        SessionWriter(file, store.run, fsync=True) as writer,
        BackgroundServer(create_app(store, validator, session=writer)) as server,
    ):

        def send(n: int) -> int:
            with httpx.Client(base_url=server.url, timeout=TIMEOUT) as http:
                return sum(
                    http.post("/", content=b'{"n": %d}' % (n * 100 + i)).status_code == 200
                    for i in range(25)
                )

        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(send, range(8))) == 200
    assert sorted(c.raw for c in load(file).captures) == sorted(
        b'{"n": %d}' % (n * 100 + i) for n in range(8) for i in range(25)
    )


def test_the_store_takes_loaded_captures_back_with_their_ids(validator: Validator) -> None:
    store = Store(max_events=3)
    for capture_id, raw in [(2, b'{"a": 1}'), (5, b'{"b": 2}'), (6, b'{"c": 3}'), (9, b'{"a": 1}')]:
        capture = received(validator, raw)
        capture.id = capture_id
        capture.retry_of = 2 if capture_id == 9 else None
        store.restore(capture)
    assert [c.id for c in store] == [5, 6, 9]
    assert store.get(6).id == 6 and store.get(7) is None and store.get(2) is None
    assert store.first_after(6).id == 9 and store.first_after(2).id == 5
    assert [c.id for c in store.after(5)] == [6, 9]
    stats = store.stats()
    assert (
        stats["received"],
        stats["loaded"],
        stats["stored"],
        stats["evicted"],
        stats["retries"],
        stats["first_id"],
        stats["last_id"],
    ) == (4, 4, 3, 1, 1, 5, 9)
    assert stats["received"] == stats["stored"] + stats["evicted"] + stats["cleared"]
    again = store.add(received(validator, b'{"a": 1}'))  # the same bytes once more
    assert (again.id, again.retry_of) == (10, 2)
    assert store.get(10) is again and [c.id for c in store.after(6)] == [9, 10]
    with pytest.raises(ValueError, match="restored ids must increase"):
        store.restore(received(validator, b"{}"))

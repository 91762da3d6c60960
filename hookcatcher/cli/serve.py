"""`hookcatcher` (the server with the inspector), `serve` (headless) and `tui` (the inspector
on a running server or a saved session): the receiver built from the flags, in one place."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hookcatcher import __version__
from hookcatcher.check.validation import Validator
from hookcatcher.cli.options import UsageError, answer_rules, connection_limits
from hookcatcher.files.session import Loaded, load
from hookcatcher.files.session_writer import SessionWriter
from hookcatcher.receive.access import Access, exposure
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import Hookcatcher, create_app
from hookcatcher.receive.connections import (
    ConnectionLimits,
)
from hookcatcher.receive.ingest import Limits
from hookcatcher.receive.printer import LinePrinter, banner
from hookcatcher.receive.runner import BackgroundServer, bind, run, url_of
from hookcatcher.receive.store import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, Store

if TYPE_CHECKING:
    pass


SHOWN_PROBLEMS = 20  # lines of a session file said to be unreadable, before "and N more"


def inspect_server(
    url: str, filter_text: str, redact: bool = True, token: str | None = None
) -> int:
    """The inspector on a running server; it waits (showing "reconnecting") for one to
    answer, so it can be started before the server."""
    from hookcatcher.tui import InspectorApp  # Textual loads only when a screen is wanted

    if not re.match(r"^https?://[^/\s]+", url):
        raise UsageError(f"--connect {url!r} is not a server URL (e.g. http://127.0.0.1:8787)")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "hookcatcher tui needs a terminal to draw on; without one, read the "
            f"server's HTTP API ({url}/_hookcatcher/api/events) instead"
        )
    InspectorApp(url, filter_text=filter_text, redact=redact, token=token).run()
    return 0


def inspect_session(path: str, filter_text: str, redact: bool = True) -> int:
    """A saved session in the inspector: a loopback server in this process holds it, so the
    inspector reads it through the same API as a live one (and replays from it alike)."""
    from hookcatcher.tui import InspectorApp

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "hookcatcher tui needs a terminal to draw on; without one, serve the "
            f"session (hookcatcher serve --load {path}) and read its HTTP API"
        )
    loaded = load(path)
    _say_problems(loaded)
    # Big enough for the whole file: offline, nothing is to be evicted.
    store = Store(
        max_events=max(DEFAULT_MAX_EVENTS, len(loaded.captures)),
        max_bytes=max(DEFAULT_MAX_BYTES, sum(c.weight for c in loaded.captures)),
    )
    for capture in loaded.captures:
        store.restore(capture)
    with BackgroundServer(create_app(store, Validator()), quiet=True) as server:
        InspectorApp(server.url, filter_text=filter_text, redact=redact).run()
    return 0


def _say_problems(loaded: Loaded) -> None:
    """Each line of a session file that was not loaded, on stderr (the first few)."""
    for problem in loaded.problems[:SHOWN_PROBLEMS]:
        print(f"hookcatcher: {problem}", file=sys.stderr, flush=True)
    if len(loaded.problems) > SHOWN_PROBLEMS:
        print(
            f"hookcatcher: ... and {len(loaded.problems) - SHOWN_PROBLEMS:,} more unreadable "
            f"lines ({loaded.skipped:,} lines skipped in all)",
            file=sys.stderr,
            flush=True,
        )


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sessions(
    args: argparse.Namespace, store: Store, say: Callable[[str], None] | None
) -> tuple[SessionWriter | None, list[str]]:
    """--load, then --save: a saved session's captures put back in the store (what cannot
    be read is said on stderr), then the file every new capture is appended to; and the
    lines the banner says about them. --load and --save may name the same file, which
    need not exist yet: one command line starts a session and resumes it."""
    if args.fsync and not args.save:
        raise UsageError("--fsync syncs each line --save writes: give --save FILE too")
    notes = []
    if args.load and not (
        args.save and _same_path(args.load, args.save) and not os.path.exists(args.load)
    ):
        loaded = load(args.load)
        _say_problems(loaded)
        for capture in loaded.captures:
            store.restore(capture)
        notes.append(loaded.summary())
        if store.evicted:
            notes.append(
                f"  (the oldest {store.evicted:,} of them do not fit in --max-events "
                "or --max-bytes: only the newest are kept)"
            )
    if not args.save:
        return None, notes
    session = SessionWriter(args.save, store.run, fsync=args.fsync, say=say)
    notes.append(
        f"saving to {args.save} (each capture before it is answered"
        f"{', synced to disk' if args.fsync else ''})"
    )
    return session, notes


def _access(args: argparse.Namespace) -> Access:
    allowed = [*(args.allow_host or ()), args.host]  # the name it listens on, if one
    return Access(
        token=args.token,
        ingest_token=args.ingest_token,
        allow_hosts=tuple(name.lower() for name in allowed),
    )


def warn_if_exposed(sock: socket.socket, access: Access) -> None:
    """Said on stderr when others on the network can reach the server: what they can do
    without a token, or what the tokens protect."""
    message = exposure(sock.getsockname()[0], access)
    if message is not None:
        print(f"hookcatcher: {message}", file=sys.stderr, flush=True)


def _same_path(first: str, second: str) -> bool:
    return os.path.abspath(first) == os.path.abspath(second)


@dataclass(frozen=True, slots=True)
class Receiver:
    """A server built from the flags, not yet serving: what `hookcatcher` and `serve` share."""

    sock: socket.socket
    store: Store
    session: SessionWriter | None
    notes: list[str]
    answers: Answers
    access: Access
    app: Hookcatcher
    limits: ConnectionLimits


def build_receiver(args: argparse.Namespace, say: Callable[[str], None] | None) -> Receiver:
    answers = answer_rules(args)
    limits = connection_limits(args)
    validator = Validator()
    sock = bind(args.host, args.port)
    store = Store(max_events=args.max_events, max_bytes=args.max_bytes)
    session, notes = _sessions(args, store, say=say)
    access = _access(args)
    app = create_app(store, validator, answers, session, access, Limits(max_body=args.max_body))
    return Receiver(sock, store, session, notes, answers, access, app, limits)


def serve_and_inspect(args: argparse.Namespace) -> int:
    """The main job: the server on a background thread, the inspector in the foreground."""
    from hookcatcher.tui import InspectorApp

    # Quiet: a line on stderr would be drawn over the screen; failures are said at the end.
    receiver = build_receiver(args, say=None)
    store, session = receiver.store, receiver.session
    warn_if_exposed(receiver.sock, receiver.access)  # before the screen hides it
    server = BackgroundServer(
        receiver.app, sock=receiver.sock, quiet=True, limits=receiver.limits
    ).start()
    try:
        InspectorApp(
            server.url, filter_text=args.filter, redact=args.redact, token=args.token
        ).run()
    finally:
        server.stop()
        if session is not None:
            session.close()
    print(
        f"hookcatcher: stopped; {store.received - store.loaded:,} captures received",
        file=sys.stderr,
    )
    if session is not None and session.failed:
        print(
            f"hookcatcher: {session.failed:,} captures could not be saved to "
            f"{session.path} (their senders were answered 5xx)",
            file=sys.stderr,
        )
    return 0


def serve(args: argparse.Namespace) -> int:
    receiver = build_receiver(args, say=say)
    sock, store, session, notes = receiver.sock, receiver.store, receiver.session, receiver.notes
    answers, access, app = receiver.answers, receiver.access, receiver.app
    url = url_of(sock)
    out = sys.stderr if args.json else sys.stdout
    printer = LinePrinter(as_json=args.json, redact=args.redact)
    store.subscribe(printer)
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again; as
    # KeyboardInterrupt, SIGTERM then ends as Ctrl+C does: through the `finally` below. Set
    # before the banner, so a signal sent as soon as the banner is read stops it cleanly too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(banner(url, __version__, answers.describe()), file=out, flush=True)
        if notes:
            print("\n".join(notes) + "\n", file=out, flush=True)
        warn_if_exposed(sock, access)
        run(app, sock, receiver.limits)
    except KeyboardInterrupt:
        pass
    finally:
        printer.close()
        if session is not None:
            session.close()  # after the last request: uvicorn has let them finish
    return 0

"""The receiver as the command line builds it: the options of the commands that run one
(`hookcatcher`, `serve`, `attach`), gathered into `ServerSettings`, and the server made from
them, not yet serving. The HTTP layer loads only when one is built."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from hookcatcher.cli.options import (
    BODY_SIZE,
    HOST,
    PORT,
    POSITIVE_FLOAT,
    POSITIVE_INT,
    RULE,
    SIZE,
    TOKEN,
    UsageError,
    collected,
    option,
)
from hookcatcher.core.body import DEFAULT_MAX_BODY
from hookcatcher.core.forwarding import DEFAULT_FORWARD_TIMEOUT, DEFAULT_QUEUE
from hookcatcher.receive.connection_limits import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEAD_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MIN_BODY_RATE,
    ConnectionLimits,
)
from hookcatcher.receive.store import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, Store
from hookcatcher.remote import DEFAULT_PORT

if TYPE_CHECKING:
    from hookcatcher.files.session import Loaded
    from hookcatcher.files.session_writer import SessionWriter
    from hookcatcher.receive.access import Access
    from hookcatcher.receive.answers import Answers
    from hookcatcher.receive.app import Hookcatcher
    from hookcatcher.receive.forwarder import Forwarder

__all__ = ["Receiver", "ServerSettings", "build_receiver", "server_options", "say"]

SHOWN_PROBLEMS = 20  # lines of a session file said to be unreadable, before "and N more"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Everything a receiver is built from; the defaults are serve's."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    allow_host: tuple[str, ...] = ()
    token: str | None = None
    ingest_token: str | None = None
    max_events: int = DEFAULT_MAX_EVENTS
    max_bytes: int = DEFAULT_MAX_BYTES
    max_body: int = DEFAULT_MAX_BODY
    json: bool = False
    redact: bool = True
    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    min_body_rate: int = DEFAULT_MIN_BODY_RATE
    keep_alive: float = DEFAULT_KEEP_ALIVE
    max_connections: int | None = None
    save: str | None = None
    fsync: bool = False
    load: str | None = None
    respond: tuple[str, ...] = ()
    delay: tuple[str, ...] = ()
    fail_first: tuple[str, ...] = ()
    forward_to: tuple[str, ...] = ()
    forward_timeout: float = DEFAULT_FORWARD_TIMEOUT
    forward_mode: str = "passthrough"
    forward_queue: int = DEFAULT_QUEUE


LISTEN = "where it listens"


def listen_options(default_port: int) -> list[Callable[[Any], Any]]:
    """--host, --port and --allow-host: where a command that runs the receiver listens."""
    shown = f"{default_port}; 0 picks a free one" if default_port else "a free one"
    return [
        option("--host", env="host", default="127.0.0.1", metavar="ADDRESS", section=LISTEN,
               help="address to listen on (default 127.0.0.1)"),
        option("--port", env="port", type=PORT, default=default_port, section=LISTEN,
               help=f"port to listen on (default {shown})"),
        option("--allow-host", env="allow-host", type=HOST, multiple=True, section=LISTEN,
               help="a Host name /_hookcatcher/ and /_gateway/ answer to besides IP addresses "
               "and localhost (repeatable; the variable takes several, comma-separated): other "
               "names are refused, as a page on a DNS-rebinding domain would send them"),
    ]  # fmt: skip


def token_option(section: str, help: str) -> Callable[[Any], Any]:
    """hookcatcher's own token: what its API (and the mocked gateways) require."""
    return option("--token", env="token", type=TOKEN, section=section, help=help)


SERVER = "the server"
CONNECTIONS = "connections (generous for slow links)"
SESSIONS = "sessions (JSON Lines files)"
# Each repeatable; a SELECTOR (an event name or a filter) limits a rule to what it matches.
ANSWERS = "answers, to exercise a sender's retries (SELECTOR: an event name or a filter)"


def _server_options() -> list[Callable[[Any], Any]]:
    return [
        *listen_options(DEFAULT_PORT),
        option("--max-events", env="max-events", type=POSITIVE_INT, default=DEFAULT_MAX_EVENTS,
               section=SERVER,
               help=f"captures kept before the oldest is evicted (default {DEFAULT_MAX_EVENTS:,})"),
        option("--max-bytes", env="max-bytes", type=SIZE, default=DEFAULT_MAX_BYTES,
               section=SERVER,
               help="bytes of captures kept before the oldest is evicted (default 256MiB)"),
        option("--max-body", env="max-body", type=BODY_SIZE, default=DEFAULT_MAX_BODY,
               section=SERVER,
               help="largest request body taken (default 64MiB: media arrive as base64); a "
               "larger one is answered 413 and recorded without its body"),
        option("--json", env="json", is_flag=True, section=SERVER,
               help="print one JSON line per capture instead of a text line"),
        token_option(SERVER,
                     "require this token for /_hookcatcher/ and /_gateway/: Authorization: "
                     "Bearer T, or ?token=T (EventSource); the mocked gateways also take it as "
                     "Evolution's apikey header"),
        option("--ingest-token", env="ingest-token", type=TOKEN, section=SERVER,
               help="require this token on captures too: x-hookcatcher-token: T or "
               "Authorization: Bearer T in the webhook's headers, or ?token=T in its URL; "
               "others are answered 401 and not stored"),
        option("--redact/--no-redact", default=True, section=SERVER,
               help="hide secrets (apikey, Authorization, tokens, JWTs) in printed lines and the "
               "inspector (default); they are stored as received either way"),
        option("--head-timeout", env="head-timeout", type=POSITIVE_FLOAT,
               default=DEFAULT_HEAD_TIMEOUT, section=CONNECTIONS,
               help="close a connection that has not sent a whole request head this long after "
               f"opening or after its last answer (default {DEFAULT_HEAD_TIMEOUT:g})"),
        option("--body-timeout", env="body-timeout", type=POSITIVE_FLOAT,
               default=DEFAULT_BODY_TIMEOUT, section=CONNECTIONS,
               help="close a connection whose request body sends nothing this long (default "
               f"{DEFAULT_BODY_TIMEOUT:g})"),
        option("--min-body-rate", env="min-body-rate", type=SIZE, metavar="BYTES",
               default=DEFAULT_MIN_BODY_RATE, section=CONNECTIONS,
               help="and one whose body averages less than this a second once --body-timeout "
               "has passed (default 1KiB; 0: no minimum)"),
        option("--keep-alive", env="keep-alive", type=POSITIVE_FLOAT, default=DEFAULT_KEEP_ALIVE,
               section=CONNECTIONS,
               help=f"close a connection idle this long after an answer (default "
               f"{DEFAULT_KEEP_ALIVE:g}; --head-timeout ends it anyway)"),
        option("--max-connections", env="max-connections", type=POSITIVE_INT,
               section=CONNECTIONS,
               help="open connections at most; at the bound a new one closes the longest idle "
               "(default: what the open-file limit allows, up to "
               f"{DEFAULT_MAX_CONNECTIONS:,})"),
        option("--save", env="save", metavar="FILE", section=SESSIONS,
               help="append every capture to FILE before it is answered, so a crash loses "
               "nothing that was acknowledged (an existing FILE is added to, never truncated)"),
        option("--fsync", env="fsync", is_flag=True, section=SESSIONS,
               help="with --save: answer only once the line is on disk (power-loss safe; "
               "slower)"),
        option("--load", env="load", metavar="FILE", section=SESSIONS,
               help="start with the captures of a saved session (new ones get the ids after "
               "them); may be the --save FILE"),
        option("--respond", env="respond", type=RULE, multiple=True,
               metavar="[SELECTOR=]STATUS", section=ANSWERS,
               help="answer with this HTTP status instead of 200"),
        option("--delay", env="delay", type=RULE, multiple=True, metavar="[SELECTOR=]MS",
               section=ANSWERS,
               help="answer this many milliseconds late (the capture shows at once)"),
        option("--fail-first", env="fail-first", type=RULE, multiple=True,
               metavar="[SELECTOR=]N", section=ANSWERS,
               help="answer 500 to the first N arrivals of each distinct body"),
    ]  # fmt: skip


FORWARDING = "forwarding to your app"


def forward_options() -> list[Callable[[Any], Any]]:
    return [
        option("--forward-to", env="forward-to", type=RULE, multiple=True,
               metavar="[SELECTOR=]URL", section=FORWARDING,
               help="send every capture (or those SELECTOR matches) on to your app, as the "
               "gateway sent it, keeping the gateway's per-event path and the query; repeatable "
               "(a capture several rules match goes to each, the first one's answer is the "
               "gateway's)"),
        option("--forward-timeout", env="forward-timeout", type=POSITIVE_FLOAT,
               default=DEFAULT_FORWARD_TIMEOUT,
               section=FORWARDING,
               help="wait this long for your app's answer, then answer the gateway 504 "
               "(default 10)"),
        option("--forward-mode", env="forward-mode",
               type=click.Choice(["passthrough", "detach"]), default="passthrough",
               section=FORWARDING,
               help="passthrough: the gateway gets your app's answer (default); detach: the "
               "gateway gets hookcatcher's at once and each target's deliveries follow in order "
               "from a bounded queue"),
        option("--forward-queue", env="forward-queue", type=POSITIVE_INT, default=DEFAULT_QUEUE,
               section=FORWARDING,
               help="detach: deliveries waiting per target; when full the oldest is dropped, "
               "counted and recorded (default 1,000)"),
    ]  # fmt: skip


def server_options(function: Any) -> Any:
    """Every receiver option, given to the command as `server=ServerSettings(...)`."""
    return collected(ServerSettings, "server", [*_server_options(), *forward_options()])(function)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def say_problems(loaded: Loaded) -> None:
    """Each line of a session file that was not loaded, on stderr (the first few)."""
    for problem in loaded.problems[:SHOWN_PROBLEMS]:
        say(f"hookcatcher: {problem}")
    if len(loaded.problems) > SHOWN_PROBLEMS:
        say(
            f"hookcatcher: ... and {len(loaded.problems) - SHOWN_PROBLEMS:,} more unreadable "
            f"lines ({loaded.skipped:,} lines skipped in all)"
        )


def _sessions(
    settings: ServerSettings, store: Store, say: Callable[[str], None] | None
) -> tuple[SessionWriter | None, list[str]]:
    """--load, then --save: a saved session's captures put back in the store (what cannot
    be read is said on stderr), then the file every new capture is appended to; and the
    lines the banner says about them. --load and --save may name the same file, which
    need not exist yet: one command line starts a session and resumes it."""
    from hookcatcher.files.session import load
    from hookcatcher.files.session_writer import SessionWriter

    if settings.fsync and not settings.save:
        raise UsageError("--fsync syncs each line --save writes: give --save FILE too")
    notes = []
    if settings.load and not (
        settings.save
        and _same_path(settings.load, settings.save)
        and not os.path.exists(settings.load)
    ):
        loaded = load(settings.load)
        say_problems(loaded)
        for capture in loaded.captures:
            store.restore(capture)
        notes.append(loaded.summary())
        if store.evicted:
            notes.append(
                f"  (the oldest {store.evicted:,} of them do not fit in --max-events "
                "or --max-bytes: only the newest are kept)"
            )
    if not settings.save:
        return None, notes
    session = SessionWriter(settings.save, store.run, fsync=settings.fsync, say=say)
    notes.append(
        f"saving to {settings.save} (each capture before it is answered"
        f"{', synced to disk' if settings.fsync else ''})"
    )
    return session, notes


def _same_path(first: str, second: str) -> bool:
    return os.path.abspath(first) == os.path.abspath(second)


def _access(settings: ServerSettings) -> Access:
    from hookcatcher.receive.access import Access

    allowed = [*settings.allow_host, settings.host]  # the name it listens on, if one
    return Access(
        token=settings.token,
        ingest_token=settings.ingest_token,
        allow_hosts=tuple(name.lower() for name in allowed),
    )


def warn_if_exposed(sock: socket.socket, access: Access) -> None:
    """Said on stderr when others on the network can reach the server: what they can do
    without a token, or what the tokens protect."""
    from hookcatcher.receive.access import exposure

    message = exposure(sock.getsockname()[0], access)
    if message is not None:
        say(f"hookcatcher: {message}")


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


def _answers(settings: ServerSettings) -> Answers:
    from hookcatcher.receive.answers import Answers

    try:
        return Answers.from_flags(
            list(settings.respond), list(settings.delay), list(settings.fail_first)
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _limits(settings: ServerSettings) -> ConnectionLimits:
    """The connection flags, the bound settled against the open-file limit."""
    from hookcatcher.receive.connection_limits import resolved

    limits = ConnectionLimits(
        head_timeout=settings.head_timeout,
        body_timeout=settings.body_timeout,
        min_body_rate=settings.min_body_rate,
        keep_alive=settings.keep_alive,
        max_connections=settings.max_connections,
    )
    try:
        return resolved(limits)
    except ValueError as exc:
        raise UsageError(f"--max-connections: {exc}") from None


def _forwarder(settings: ServerSettings, sock: socket.socket) -> Forwarder | None:
    """--forward-to's rules, or None; a rule that does not parse, or that points back at this
    server (every capture would come round again), is a usage error naming it."""
    if not settings.forward_to:
        return None
    from urllib.parse import urlsplit

    from hookcatcher.core.forwarding import parse_rule
    from hookcatcher.receive.forwarder import Forwarder

    rules = []
    own_port = sock.getsockname()[1]
    for text in settings.forward_to:
        try:
            rule = parse_rule(text)
        except ValueError as exc:
            raise UsageError(f"--forward-to {exc}") from None
        target = urlsplit(rule.url)
        port = target.port or (443 if target.scheme == "https" else 80)
        if port == own_port and (target.hostname or "") in _LOOPBACK | {settings.host}:
            raise UsageError(
                f"--forward-to {text!r} is this hookcatcher itself (port {own_port}): every "
                "capture would be forwarded to itself again; give your app's URL"
            )
        rules.append(rule)
    return Forwarder(rules, settings.forward_timeout, settings.forward_mode, settings.forward_queue)


_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})


def build_receiver(settings: ServerSettings, say: Callable[[str], None] | None) -> Receiver:
    from hookcatcher.check.validation import Validator
    from hookcatcher.receive.app import create_app
    from hookcatcher.receive.ingest import Limits
    from hookcatcher.receive.runner import bind

    answers = _answers(settings)
    limits = _limits(settings)
    validator = Validator()
    sock = bind(settings.host, settings.port)
    store = Store(max_events=settings.max_events, max_bytes=settings.max_bytes)
    session, notes = _sessions(settings, store, say=say)
    access = _access(settings)
    forwarder = _forwarder(settings, sock)
    if forwarder is not None:
        notes.append(
            f"Forwarding every capture a rule matches to your app ({settings.forward_mode}, "
            f"{settings.forward_timeout:g} s at most):\n"
            + "\n".join(f"  {rule.describe()}" for rule in forwarder.rules)
            + "\n  (a capture no rule matches is answered here)"
        )
    app = create_app(
        store,
        validator,
        answers,
        session,
        access,
        Limits(max_body=settings.max_body),
        forwarder,
    )
    return Receiver(sock, store, session, notes, answers, access, app, limits)

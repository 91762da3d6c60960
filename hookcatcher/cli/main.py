"""The command line. Every flag can also come from the environment as HOOKCATCHER_<NAME>
(HOOKCATCHER_PORT=9000), so a flag given on the command line wins over the environment."""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hookcatcher import __version__
from hookcatcher.check.validation import SchemaError, Validator
from hookcatcher.cli import drive, export
from hookcatcher.cli import validate as offline
from hookcatcher.core import catalog
from hookcatcher.core.body import DEFAULT_MAX_BODY
from hookcatcher.core.units import parse_size
from hookcatcher.files.session import Loaded, SessionError, load
from hookcatcher.files.session_writer import SessionWriter
from hookcatcher.receive.access import Access, check_host, exposure
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.app import Hookcatcher, create_app
from hookcatcher.receive.connections import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEAD_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MIN_BODY_RATE,
    ConnectionLimits,
    resolved,
)
from hookcatcher.receive.ingest import Limits
from hookcatcher.receive.printer import LinePrinter, banner
from hookcatcher.receive.runner import BackgroundServer, PortError, bind, run, url_of
from hookcatcher.receive.store import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, Store
from hookcatcher.remote import DEFAULT_PORT, check_token

if TYPE_CHECKING:
    from hookcatcher.connect.client import GatewayClient

__all__ = ["main"]

SHOWN_PROBLEMS = 20  # lines of a session file said to be unreadable, before "and N more"


class UsageError(Exception):
    """A flag or environment value that cannot be used; the message names it."""


def _body_size(text: str) -> int:
    size = parse_size(text)
    if size < 1:
        raise ValueError(f"{text!r} must be at least 1 byte")
    return size


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{text!r} must be at least 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise ValueError(f"{text!r} is not a port number (0-65535; 0 picks a free one)")
    return value


def _flag(convert: Callable[[str], object], flag: str) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = flag
    return parse


_T = TypeVar("_T")
_D = TypeVar("_D")


def _env(name: str, convert: Callable[[str], _T], default: _D) -> _FromEnvironment[_T] | _D:
    """A flag's default from HOOKCATCHER_<NAME>, read only when the command that runs uses
    the flag: `HOOKCATCHER_PORT=abc hookcatcher validate x.json` is no error, since validate
    listens on no port (Arguments resolves it on first use)."""
    variable = f"HOOKCATCHER_{name.upper().replace('-', '_')}"
    value = os.environ.get(variable)
    if value is None or value == "":
        return default
    return _FromEnvironment(variable, value, convert)


def _env_now(name: str, convert: Callable[[str], _T], default: _D) -> _T | _D:
    """The same, read at once (a repeatable flag's list, which argparse appends to)."""
    value = _env(name, convert, default)
    return value.resolve() if isinstance(value, _FromEnvironment) else value


class _FromEnvironment(Generic[_T]):
    """An environment variable's text, converted (or refused naming the variable) on use."""

    __slots__ = ("variable", "text", "convert")

    def __init__(self, variable: str, text: str, convert: Callable[[str], _T]) -> None:
        self.variable, self.text, self.convert = variable, text, convert

    def resolve(self) -> _T:
        try:
            return self.convert(self.text)
        except ValueError as exc:
            raise UsageError(f"{self.variable}: {exc}") from None


class _Parser(argparse.ArgumentParser):
    """Parses into Arguments, so defaults from the environment are read on use."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[Any, list[str]]:
        return super().parse_known_args(args, Arguments() if namespace is None else namespace)


class Arguments(argparse.Namespace):
    """The parsed command line; a default from the environment is converted when first read."""

    def __getattribute__(self, name: str) -> Any:
        value = super().__getattribute__(name)
        if isinstance(value, _FromEnvironment):
            value = value.resolve()
            setattr(self, name, value)
        return value


def _truthy(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{text!r} is not a yes/no value (1, true, yes, 0, false, no)")


def _common_options() -> _Parser:
    # A _Parser like the commands it is a parent of: typeshed types a command's parents
    # as its own parser class (argparse only copies their options).
    options = _Parser(add_help=False)
    group = options.add_argument_group("server options (also HOOKCATCHER_<NAME>)")
    _listen_options(group, DEFAULT_PORT)
    group.add_argument(
        "--max-events",
        type=_flag(_positive_int, "--max-events"),
        default=_env("max-events", _positive_int, DEFAULT_MAX_EVENTS),
        help=f"captures kept before the oldest is evicted (default {DEFAULT_MAX_EVENTS:,})",
    )
    group.add_argument(
        "--max-bytes",
        type=_flag(parse_size, "--max-bytes"),
        default=_env("max-bytes", parse_size, DEFAULT_MAX_BYTES),
        help="bytes of captures kept before the oldest is evicted (default 256MiB)",
    )
    group.add_argument(
        "--max-body",
        type=_flag(_body_size, "--max-body"),
        default=_env("max-body", _body_size, DEFAULT_MAX_BODY),
        help="largest request body taken (default 64MiB: media arrive as base64); "
        "a larger one is answered 413 and recorded without its body",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=_env("json", _truthy, False),
        help="print one JSON line per capture instead of a text line",
    )
    _server_token_option(
        group,
        "--token",
        "require this token for /_hookcatcher/ and "
        "/_gateway/: Authorization: Bearer T, or ?token=T (EventSource); the "
        "mocked gateways also take it as Evolution's apikey header",
    )
    group.add_argument(
        "--ingest-token",
        metavar="T",
        type=_flag(check_token, "--ingest-token"),
        default=_env("ingest-token", check_token, None),
        help="require this token on captures too: x-hookcatcher-token: T or "
        "Authorization: Bearer T in the webhook's headers, or ?token=T in "
        "its URL; others are answered 401 and not stored",
    )
    group.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        help="show secrets (apikey, Authorization, tokens, JWTs) in printed "
        "lines and the inspector; they are stored as received either way",
    )
    _connection_options(options)
    session = options.add_argument_group("sessions (JSON Lines files; also HOOKCATCHER_<NAME>)")
    session.add_argument(
        "--save",
        metavar="FILE",
        default=_env("save", str, None),
        help="append every capture to FILE before it is answered, so a crash "
        "loses nothing that was acknowledged (an existing FILE is "
        "added to, never truncated)",
    )
    session.add_argument(
        "--fsync",
        action="store_true",
        default=_env("fsync", _truthy, False),
        help="with --save: answer only once the line is on disk (power-loss safe; slower)",
    )
    session.add_argument(
        "--load",
        metavar="FILE",
        default=_env("load", str, None),
        help="start with the captures of a saved session (new ones get the "
        "ids after them); may be the --save FILE",
    )
    answers = options.add_argument_group(
        "answers (to exercise a sender's retries; each repeatable, for every capture or only "
        "those a SELECTOR matches: an event name or a filter, e.g. messages.upsert=503)"
    )
    answers.add_argument(
        "--respond",
        action="append",
        metavar="[SELECTOR=]STATUS",
        default=_env_list("respond"),
        help="answer with this HTTP status instead of 200",
    )
    answers.add_argument(
        "--delay",
        action="append",
        metavar="[SELECTOR=]MS",
        default=_env_list("delay"),
        help="answer this many milliseconds late (the capture shows at once)",
    )
    answers.add_argument(
        "--fail-first",
        action="append",
        metavar="[SELECTOR=]N",
        default=_env_list("fail-first"),
        help="answer 500 to the first N arrivals of each distinct body",
    )
    return options


def _connection_options(options: argparse.ArgumentParser) -> None:
    """How long a sender may take, and how many connections may be open (connections.py)."""
    group = options.add_argument_group(
        "connections (generous for slow links; also HOOKCATCHER_<NAME>)"
    )
    group.add_argument(
        "--head-timeout",
        metavar="SECONDS",
        type=_flag(_positive_float, "--head-timeout"),
        default=_env("head-timeout", _positive_float, DEFAULT_HEAD_TIMEOUT),
        help="close a connection that has not sent a whole request head this "
        f"long after opening or after its last answer (default "
        f"{DEFAULT_HEAD_TIMEOUT:g})",
    )
    group.add_argument(
        "--body-timeout",
        metavar="SECONDS",
        type=_flag(_positive_float, "--body-timeout"),
        default=_env("body-timeout", _positive_float, DEFAULT_BODY_TIMEOUT),
        help="close a connection whose request body sends nothing this long "
        f"(default {DEFAULT_BODY_TIMEOUT:g})",
    )
    group.add_argument(
        "--min-body-rate",
        metavar="BYTES",
        type=_flag(parse_size, "--min-body-rate"),
        default=_env("min-body-rate", parse_size, DEFAULT_MIN_BODY_RATE),
        help="and one whose body averages less than this a second once "
        "--body-timeout has passed (default 1KiB; 0: no minimum)",
    )
    group.add_argument(
        "--keep-alive",
        metavar="SECONDS",
        type=_flag(_positive_float, "--keep-alive"),
        default=_env("keep-alive", _positive_float, DEFAULT_KEEP_ALIVE),
        help="close a connection idle this long after an answer (default "
        f"{DEFAULT_KEEP_ALIVE:g}; --head-timeout ends it anyway)",
    )
    group.add_argument(
        "--max-connections",
        metavar="N",
        type=_flag(_positive_int, "--max-connections"),
        default=_env("max-connections", _positive_int, None),
        help="open connections at most; at the bound a new one closes the "
        "longest idle (default: what the open-file limit allows, up to "
        f"{DEFAULT_MAX_CONNECTIONS:,})",
    )


def _connection_limits(args: argparse.Namespace) -> ConnectionLimits:
    """The connection flags, the bound settled against the open-file limit."""
    limits = ConnectionLimits(
        head_timeout=args.head_timeout,
        body_timeout=args.body_timeout,
        min_body_rate=args.min_body_rate,
        keep_alive=args.keep_alive,
        max_connections=args.max_connections,
    )
    try:
        return resolved(limits)
    except ValueError as exc:
        raise UsageError(f"--max-connections: {exc}") from None


def _listen_options(group: argparse._ActionsContainer, default_port: int) -> None:
    """--host and --port: where a command that runs the receiver listens."""
    group.add_argument(
        "--host",
        default=_env("host", str, "127.0.0.1"),
        help="address to listen on (default 127.0.0.1)",
    )
    shown = f"{default_port}; 0 picks a free one" if default_port else "a free one"
    group.add_argument(
        "--port",
        type=_flag(_port, "--port"),
        default=_env("port", _port, default_port),
        help=f"port to listen on (default {shown})",
    )
    group.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        type=_flag(check_host, "--allow-host"),
        default=_env_now("allow-host", _host_list, None),
        help="a Host name /_hookcatcher/ and /_gateway/ answer to besides IP "
        "addresses and localhost (repeatable; HOOKCATCHER_ALLOW_HOST takes "
        "several, comma-separated): other names are refused, as a page on "
        "a DNS-rebinding domain would send them",
    )


def _server_token_option(group: argparse._ActionsContainer, flag: str, help: str) -> None:
    """The token that guards this receiver's own API (HOOKCATCHER_TOKEN)."""
    group.add_argument(
        flag,
        metavar="T",
        type=_flag(check_token, flag),
        default=_env("token", check_token, None),
        help=help,
    )


def _env_list(name: str) -> list[str] | None:
    """A repeatable flag from the environment: one value (the command line adds more)."""
    value = _env_now(name, str, None)
    return None if value is None else [str(value)]


def _answers(args: argparse.Namespace) -> Answers:
    try:
        return Answers.from_flags(args.respond, args.delay, args.fail_first)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"{text!r} must be more than 0")
    return value


def _delivery_options() -> _Parser:
    """What replay and send share: where to, in which form, how fast."""
    options = _Parser(add_help=False)  # a _Parser: see _common_options
    where = options.add_argument_group("where to")
    where.add_argument(
        "--to",
        metavar="URL",
        default=_env("to", str, None),
        help="your app's webhook URL, as you would configure it in the gateway "
        "(also HOOKCATCHER_TO)",
    )
    where.add_argument(
        "--instance",
        metavar="NAME",
        default=None,
        help="send as the gateway would to an instance your app configured "
        "through hookcatcher's /_gateway/ API: its URL, per-event mode, "
        "headers and subscribed events (provider/NAME if ambiguous)",
    )
    where.add_argument(
        "--server",
        metavar="URL",
        default=_env("server", str, None),
        help="with --instance: the hookcatcher holding that configuration "
        f"(default --from, else http://127.0.0.1:{DEFAULT_PORT}; also "
        "HOOKCATCHER_SERVER)",
    )
    _token_option(where, "the token of the hookcatcher that --from or --server names")
    where.add_argument(
        "--by-events",
        action="store_true",
        help="per-event URLs, by the gateway's own rule: Evolution URL/<suffix>, "
        "Whapi URL/<type>/<method> (CodeChat has none)",
    )
    where.add_argument(
        "--whapi-mode",
        choices=("path", "method"),
        default=None,
        help="Whapi's per-event form with --by-events: path (POST URL/type/method, "
        "the default) or method (the event's method to URL/type)",
    )
    body = options.add_argument_group("what")
    body.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="change the body first (repeatable): data.key.fromMe=true, "
        "messages[0].text.body=hi; VALUE is JSON when it parses, else text",
    )
    pace = options.add_argument_group("how")
    pace.add_argument(
        "--concurrency",
        type=_flag(_positive_int, "--concurrency"),
        default=1,
        help="requests in flight at once (default 1: strictly in order)",
    )
    pace.add_argument(
        "--rate",
        type=_flag(_positive_float, "--rate"),
        default=None,
        metavar="PER_SECOND",
        help="at most this many requests per second",
    )
    pace.add_argument(
        "--repeat",
        type=_flag(_positive_int, "--repeat"),
        default=1,
        help="send the whole list this many times (default 1)",
    )
    pace.add_argument(
        "--timeout",
        type=_flag(_positive_float, "--timeout"),
        default=10.0,
        metavar="SECONDS",
        help="wait this long for each answer (default 10)",
    )
    pace.add_argument(
        "--json",
        action="store_true",
        help='one JSON line per request and a last {"summary": ...} line',
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = _Parser(
        prog="hookcatcher",
        description="Receive, recognise and validate WhatsApp gateway webhooks "
        "(Evolution API, CodeChat, Whapi.Cloud). Without a command: the server with the "
        "inspector open on it.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"hookcatcher {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "serve",
        parents=[common],
        help="headless server; one line per capture on stdout",
        description="Headless server: prints the URLs to point a gateway at, "
        "then one line per capture.",
    )
    tui = commands.add_parser(
        "tui",
        help="the inspector, on a running server or a saved session file",
        description="Open the inspector on a hookcatcher server started elsewhere "
        "(hookcatcher serve), over HTTP and SSE only; or, given a FILE, on a "
        "session saved with --save.",
    )
    tui.add_argument(
        "session",
        nargs="?",
        metavar="FILE",
        help="a session file saved with --save, to inspect offline",
    )
    tui.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        help="show secrets (apikey, Authorization, tokens, JWTs); h toggles it",
    )
    tui.add_argument(
        "--connect",
        metavar="URL",
        default=None,
        help=f"the server's URL (default http://127.0.0.1:{DEFAULT_PORT}; "
        "also HOOKCATCHER_CONNECT)",
    )
    _token_option(tui, "the token that server was started with")
    for command in (parser, tui):
        command.add_argument(
            "--filter",
            metavar="QUERY",
            default=_env("filter", str, ""),
            help="start the inspector with this filter (also HOOKCATCHER_FILTER)",
        )

    delivery = _delivery_options()
    replay = commands.add_parser(
        "replay",
        parents=[delivery],
        help="send fixtures or captured requests into your app, as the gateway would",
        description="Send fixture files, folders of them, or the captures of a running "
        "hookcatcher into your app: each body byte for byte with its headers, in "
        "order. One line per request, then a summary; exits 1 when any answer was "
        "not 2xx or the app could not be reached.",
    )
    replay.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="a fixture or body file, a folder of them, a session file saved "
        "with --save, or a bundled fixture name",
    )
    replay.add_argument(
        "--from",
        dest="source_server",
        metavar="URL",
        default=None,
        help="also replay the captures stored by the hookcatcher at URL",
    )
    replay.add_argument(
        "--filter",
        metavar="QUERY",
        default="",
        help="with --from: only captures matching this filter",
    )
    send = commands.add_parser(
        "send",
        parents=[delivery],
        help="send one bundled fixture (like stripe trigger), with --set overrides",
        description="Send one bundled fixture into your app. EVENT is an event name "
        "(messages.upsert, messages/post) or a fixture name "
        "(evolution/v2/messages.upsert.image); when several fit, Evolution's "
        "newest plain or text variant is used unless --provider/--version/--variant "
        "say otherwise.",
    )
    send.add_argument("event", nargs="?", metavar="EVENT", help="the event or fixture to send")
    send.add_argument(
        "--provider",
        choices=("evolution", "codechat", "whapi"),
        help="the gateway whose fixture to send",
    )
    send.add_argument(
        "--version",
        dest="version",
        metavar="VERSION",
        help="the gateway version (evolution v1|v2; codechat v1.0-1.2|v1.3|v2|2026)",
    )
    send.add_argument(
        "--variant", metavar="NAME", help="the fixture variant (text, image, group...: see --list)"
    )
    send.add_argument(
        "--list",
        action="store_true",
        help="list the bundled fixtures (those of EVENT, if given) and exit",
    )
    exporter = commands.add_parser(
        "export",
        help="write captures as HAR, JSON Lines, a curl script or fixture files",
        description="Write the captures of a running hookcatcher (or of a saved session FILE) "
        "as HAR 1.2, JSON Lines, a curl script or fixture files, secrets redacted "
        "unless --no-redact.",
    )
    export.add_arguments(exporter)
    exporter.set_defaults(token=_env("token", check_token, None))
    _gateway_commands(commands)
    check = commands.add_parser(
        "validate",
        help="validate body or fixture files offline against the schemas",
        description="Validate bodies offline, as the server would: prints provider, event and "
        "each error with its JSON path; exits 1 when any file is invalid or not JSON.",
    )
    check.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="a body or fixture file, a folder of them, or - for stdin",
    )
    check.add_argument("--json", action="store_true", help="print the results as JSON")
    _add_examples(parser, commands.choices)
    return parser


EXAMPLES: dict[str, list[str]] = {
    "hookcatcher": [
        "hookcatcher                              server on 127.0.0.1:8787 and the inspector",
        "hookcatcher --port 9000 --save day.jsonl  keep every capture in a file too",
        "hookcatcher serve --json                 headless, one JSON line per capture",
    ],
    "serve": [
        "hookcatcher serve                        listen on 127.0.0.1:8787",
        "hookcatcher serve --host 0.0.0.0 --token T   reachable from Docker, API behind a token",
        "hookcatcher serve --respond 'event:messages.*=503' --fail-first 2",
        "hookcatcher serve --save day.jsonl --json | jq .event",
    ],
    "tui": [
        "hookcatcher tui                          the inspector on a server already running",
        "hookcatcher tui --connect http://10.0.0.5:8787 --token T",
        "hookcatcher tui day.jsonl                 a saved session",
    ],
    "replay": [
        "hookcatcher replay fixtures/evolution/v2 --to http://127.0.0.1:3000/webhook --by-events",
        "hookcatcher replay day.jsonl --to http://127.0.0.1:3000/webhook --filter 'valid:yes'",
        "hookcatcher replay --from http://127.0.0.1:8787 --to http://127.0.0.1:3000/webhook",
    ],
    "send": [
        "hookcatcher send messages.upsert --to http://127.0.0.1:3000/webhook",
        "hookcatcher send messages.upsert --set data.message.conversation=menu --to URL",
        "hookcatcher send messages.upsert --instance sales   as the mocked gateway would",
        "hookcatcher send --list messages",
    ],
    "export": [
        "hookcatcher export --format har -o day.har",
        "hookcatcher export day.jsonl --format curl --to http://127.0.0.1:3000/hook -o go.sh",
        "hookcatcher export --format fixtures -o my-fixtures --filter 'event:messages.*'",
    ],
    "validate": [
        "hookcatcher validate body.json",
        "hookcatcher validate fixtures/evolution/v2/",
        "curl -s http://127.0.0.1:3000/last-body | hookcatcher validate -",
    ],
    "attach": [
        "hookcatcher attach evolution --api http://127.0.0.1:8080 --apikey K --instance sales",
        "hookcatcher attach whapi --api https://gate.whapi.cloud --token T --no-tui",
        "hookcatcher attach codechat --api http://127.0.0.1:8084 --token JWT --instance sales",
    ],
    "doctor": [
        "hookcatcher doctor evolution --api http://127.0.0.1:8080 --apikey K --instance sales",
        "hookcatcher doctor whapi --api https://gate.whapi.cloud --token T --json",
        "hookcatcher doctor evolution --api URL --apikey K --instance a --expect messages.upsert",
    ],
}


def _add_examples(parser: argparse.ArgumentParser, commands: dict[str, Any]) -> None:
    """Each command's --help ends with a few ways to use it."""
    for name, command in [("hookcatcher", parser), *commands.items()]:
        lines = EXAMPLES.get(name)
        if lines:
            command.formatter_class = argparse.RawDescriptionHelpFormatter
            command.epilog = "examples:\n" + "\n".join(f"  {line}" for line in lines)


GATEWAYS = ("evolution", "codechat", "whapi")


def _gateway_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`attach` and `doctor`: both talk to a gateway's own webhook-configuration API."""

    def gateway_options(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "gateway", choices=GATEWAYS, metavar="GATEWAY", help="evolution, codechat or whapi"
        )
        where = command.add_argument_group("the gateway")
        where.add_argument(
            "--api",
            metavar="URL",
            required=True,
            help="the gateway's API base URL (Evolution: http://localhost:8080; "
            "CodeChat: its server; Whapi: https://gate.whapi.cloud)",
        )
        where.add_argument(
            "--apikey",
            metavar="KEY",
            default=None,
            help="Evolution's API key (global or the instance's), sent as apikey",
        )
        where.add_argument(
            "--token",
            metavar="TOKEN",
            default=None,
            help="CodeChat: the instance's bearer JWT; Whapi: the channel token",
        )
        where.add_argument(
            "--instance",
            metavar="NAME",
            default=None,
            help="the instance (Evolution: its name; CodeChat: its instanceId; "
            "Whapi: not needed, the token names the channel)",
        )
        where.add_argument(
            "--timeout",
            type=_flag(_positive_float, "--timeout"),
            default=10.0,
            metavar="SECONDS",
            help="wait this long for each gateway answer",
        )

    attach = commands.add_parser(
        "attach",
        help="point a gateway's webhook at hookcatcher; put it back on exit",
        description="Read the instance's webhook configuration from the gateway, save it, "
        "point the webhook at this hookcatcher (the events asked for, default "
        "all), run the server and the inspector, and on exit (q, Ctrl-C, SIGTERM) "
        "put the saved configuration back exactly. Prints what it changed and "
        "what it restored; if restoring fails, prints the saved configuration and "
        "the command that restores it.",
    )
    gateway_options(attach)
    attach.add_argument(
        "--events",
        nargs="+",
        metavar="EVENT",
        default=None,
        help="subscribe only these events (messages.upsert, messages/post ...; "
        "default every event the gateway has)",
    )
    attach.add_argument(
        "--by-events",
        action="store_true",
        help="per-event URLs (Evolution byEvents, Whapi path mode)",
    )
    attach.add_argument(
        "--public-url",
        metavar="URL",
        default=None,
        help="the URL to register, when the gateway reaches this machine by "
        "another address (http://host.docker.internal:8787/webhook)",
    )
    here = attach.add_argument_group("this hookcatcher")
    _listen_options(here, 0)
    _server_token_option(
        here,
        "--server-token",
        "require this token for /_hookcatcher/ (what "
        "--token is to hookcatcher serve; also HOOKCATCHER_TOKEN): needed "
        "with --host 0.0.0.0",
    )
    here.add_argument(
        "--save",
        metavar="FILE",
        default=None,
        help="append every capture to FILE (as hookcatcher serve --save)",
    )
    here.add_argument(
        "--no-tui",
        dest="tui",
        action="store_false",
        help="no inspector: print one line per capture (as hookcatcher serve)",
    )
    here.add_argument(
        "--no-redact",
        dest="redact",
        action="store_false",
        help="show secrets in printed lines and the inspector",
    )

    doctor = commands.add_parser(
        "doctor",
        help="say why a gateway's webhooks do not arrive, and what to do",
        description="Read the instance's webhook configuration and connection state from the "
        "gateway, try its webhook URL, and report each problem on one line with "
        "its fix. Exits 0 only when nothing is wrong.",
    )
    gateway_options(doctor)
    doctor.add_argument(
        "--expect",
        nargs="+",
        metavar="EVENT",
        default=(),
        help="events your app handles (messages.upsert ...): each must be subscribed",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON document, for scripts")


def _gateway_key(args: argparse.Namespace) -> str:
    """The credential the gateway's API takes, from the flag that gateway calls it by."""
    if args.gateway == "evolution":
        if not args.apikey:
            raise UsageError(
                f"{args.command} evolution needs --apikey KEY (the gateway's API "
                "key: AUTHENTICATION_API_KEY, or the instance's own)"
            )
        return str(args.apikey)
    if not args.token:
        what = "the instance's bearer JWT" if args.gateway == "codechat" else "the channel token"
        raise UsageError(f"{args.command} {args.gateway} needs --token TOKEN ({what})")
    return str(args.token)


def _gateway_client(args: argparse.Namespace) -> GatewayClient:
    from hookcatcher.connect.client import connect

    if args.gateway != "whapi" and not args.instance:
        raise UsageError(f"{args.command} {args.gateway} needs --instance NAME")
    if not re.match(r"^https?://[^/\s]+", args.api):
        raise UsageError(f"--api {args.api!r} is not a URL (e.g. http://localhost:8080)")
    return connect(
        args.gateway,
        args.api.rstrip("/"),
        key=_gateway_key(args),
        instance=args.instance,
        timeout=args.timeout,
    )


def attach_gateway(args: argparse.Namespace) -> int:
    """`hookcatcher attach`: the gateway pointed here while the server (and inspector) run."""
    from hookcatcher.connect.attach import attached, reachability_warning
    from hookcatcher.connect.client import GatewayError

    if args.tui and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "hookcatcher attach needs a terminal for the inspector; add --no-tui "
            "to print one line per capture instead"
        )
    for event in args.events or ():
        if not any(catalog.find(provider, event) for provider in catalog.PROVIDERS):
            raise UsageError(
                f"--events {event!r} is not an event any gateway sends "
                "(messages.upsert, connection.update, messages/post ...)"
            )
    _gateway_key(args)  # a missing key is a usage error before anything is bound
    if args.public_url is not None and not re.match(r"^https?://[^/\s]+", args.public_url):
        raise UsageError(
            f"--public-url {args.public_url!r} is not a URL the gateway can post "
            "to (e.g. http://host.docker.internal:8787/webhook)"
        )
    settings = {
        **vars(_common_options().parse_args([])),
        **vars(args),
        "token": args.server_token,
        "json": False,
    }
    receiver = _receiver(Arguments(**settings), say=_say)
    url = args.public_url or f"{url_of(receiver.sock)}/webhook"
    warning = reachability_warning(args.api, url)  # said first: it explains what may follow
    if warning is not None:
        _say(f"hookcatcher: {warning}")
    _warn_if_exposed(receiver.sock, receiver.access)
    try:
        client = _gateway_client(args)
    except GatewayError as exc:
        print(f"hookcatcher: {exc}", file=sys.stderr, flush=True)
        return 1
    # SIGTERM, and SIGHUP (the terminal closed), restore the gateway as Ctrl-C does.
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, signal.default_int_handler)
    try:
        with attached(client, url, args.events, args.by_events, say=_say):
            if args.tui:
                _inspect_attached(receiver, args)
            else:
                _serve_attached(receiver, args)
    except GatewayError as exc:
        print(f"hookcatcher: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
        if receiver.session is not None:
            receiver.session.close()
    return 0


def _serve_attached(receiver: _Receiver, args: argparse.Namespace) -> None:
    printer = LinePrinter(redact=args.redact)
    receiver.store.subscribe(printer)
    try:
        print(
            f"hookcatcher {__version__} is listening on {url_of(receiver.sock)} "
            "(Ctrl-C puts the gateway's configuration back)",
            flush=True,
        )
        run(receiver.app, receiver.sock, receiver.limits)
    finally:
        printer.close()


def _inspect_attached(receiver: _Receiver, args: argparse.Namespace) -> None:
    from hookcatcher.tui import InspectorApp

    server = BackgroundServer(
        receiver.app, sock=receiver.sock, quiet=True, limits=receiver.limits
    ).start()
    app = InspectorApp(server.url, redact=args.redact, token=args.server_token)
    # SIGTERM and SIGHUP close the inspector as q does (the terminal is put back), then the
    # caller restores the gateway.
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, lambda *_: app.exit())
    try:
        app.run()
    finally:
        server.stop()


def doctor_command(args: argparse.Namespace) -> int:
    from hookcatcher.connect import doctor
    from hookcatcher.connect.client import GatewayError

    try:
        client: Any = _gateway_client(args)
    except GatewayError as exc:
        client = exc
    try:
        return doctor.run_doctor(
            client,
            expected_events=list(args.expect),
            as_json=args.json,
            api=args.api,
            provider=args.gateway,
            timeout=args.timeout,
        )
    finally:
        if not isinstance(client, GatewayError):
            client.close()


def _refuse_misplaced(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """An option typed before the command is plain hookcatcher's, which the command's own
    defaults would silently replace (`hookcatcher --token T serve` served without a token):
    a usage error that says where it goes."""
    commands = next(
        action.choices
        for action in parser._actions  # argparse keeps its subcommands there
        if isinstance(action, argparse._SubParsersAction)
    )
    before: list[str] = []
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            return
        if not token.startswith("-"):
            if token in commands and before:
                raise UsageError(
                    f"{before[0]} goes after the command: hookcatcher {token} {before[0]} ... "
                    "(options before a command would be ignored)"
                )
            return
        name = token.split("=", 1)[0]
        action = parser._option_string_actions.get(name)
        if action is not None and action.dest not in ("help", "version"):
            before.append(name)
            if "=" not in token and action.nargs != 0:
                index += 1  # its value
        index += 1


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        arguments = list(sys.argv[1:] if argv is None else argv)
        _refuse_misplaced(parser, arguments)
        args = parser.parse_args(arguments)
        if args.command == "validate":
            return offline.run(Validator(), args.files, args.json)
        if args.command == "tui" and args.session is not None:
            if args.connect is not None:
                raise UsageError(
                    f"tui takes a session FILE or --connect URL, not both "
                    f"(got {args.session} and --connect {args.connect})"
                )
            return inspect_session(args.session, args.filter, args.redact)
        if args.command == "tui":
            return inspect_server(
                args.connect or _env_now("connect", str, f"http://127.0.0.1:{DEFAULT_PORT}"),
                args.filter,
                args.redact,
                args.token,
            )
        if args.command == "export":
            return export.export_command(args)
        if args.command == "replay":
            return drive.replay_command(args)
        if args.command == "send":
            return drive.send_command(args)
        if args.command == "attach":
            return attach_gateway(args)
        if args.command == "doctor":
            return doctor_command(args)
        if args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
            return serve_and_inspect(args)
        if args.command is None:
            print(
                "hookcatcher: no terminal to draw the inspector on: running headless "
                "(as hookcatcher serve)",
                file=sys.stderr,
                flush=True,
            )
        return serve(args)
    except (UsageError, SchemaError, FileNotFoundError, drive.CommandError, SessionError) as exc:
        # Bad flags, or an installation whose schemas are missing or broken.
        print(f"hookcatcher: error: {exc}", file=sys.stderr)
        return 2
    except PortError as exc:
        print(f"hookcatcher: error: {exc}", file=sys.stderr)
        return 1


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


def _say(message: str) -> None:
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


def _host_list(text: str) -> list[str]:
    return [check_host(name) for name in text.replace(",", " ").split()]


def _access(args: argparse.Namespace) -> Access:
    allowed = [*(args.allow_host or ()), args.host]  # the name it listens on, if one
    return Access(
        token=args.token,
        ingest_token=args.ingest_token,
        allow_hosts=tuple(name.lower() for name in allowed),
    )


def _warn_if_exposed(sock: socket.socket, access: Access) -> None:
    """Said on stderr when others on the network can reach the server: what they can do
    without a token, or what the tokens protect."""
    message = exposure(sock.getsockname()[0], access)
    if message is not None:
        print(f"hookcatcher: {message}", file=sys.stderr, flush=True)


def _token_option(group: argparse._ActionsContainer, what: str) -> None:
    """`--token T` for a command that reads a hookcatcher server (also HOOKCATCHER_TOKEN,
    the variable that server may have been started with)."""
    group.add_argument(
        "--token",
        metavar="T",
        type=_flag(check_token, "--token"),
        default=_env("token", check_token, None),
        help=f"{what} (also HOOKCATCHER_TOKEN)",
    )


def _same_path(first: str, second: str) -> bool:
    return os.path.abspath(first) == os.path.abspath(second)


@dataclass(frozen=True, slots=True)
class _Receiver:
    """A server built from the flags, not yet serving: what `hookcatcher` and `serve` share."""

    sock: socket.socket
    store: Store
    session: SessionWriter | None
    notes: list[str]
    answers: Answers
    access: Access
    app: Hookcatcher
    limits: ConnectionLimits


def _receiver(args: argparse.Namespace, say: Callable[[str], None] | None) -> _Receiver:
    answers = _answers(args)
    limits = _connection_limits(args)
    validator = Validator()
    sock = bind(args.host, args.port)
    store = Store(max_events=args.max_events, max_bytes=args.max_bytes)
    session, notes = _sessions(args, store, say=say)
    access = _access(args)
    app = create_app(store, validator, answers, session, access, Limits(max_body=args.max_body))
    return _Receiver(sock, store, session, notes, answers, access, app, limits)


def serve_and_inspect(args: argparse.Namespace) -> int:
    """The main job: the server on a background thread, the inspector in the foreground."""
    from hookcatcher.tui import InspectorApp

    # Quiet: a line on stderr would be drawn over the screen; failures are said at the end.
    receiver = _receiver(args, say=None)
    store, session = receiver.store, receiver.session
    _warn_if_exposed(receiver.sock, receiver.access)  # before the screen hides it
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
    receiver = _receiver(args, say=_say)
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
        _warn_if_exposed(sock, access)
        run(app, sock, receiver.limits)
    except KeyboardInterrupt:
        pass
    finally:
        printer.close()
        if session is not None:
            session.close()  # after the last request: uvicorn has let them finish
    return 0

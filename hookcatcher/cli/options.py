"""The flags every command shares, and how they read HOOKCATCHER_* variables: converted
only when the command that runs uses them, and refused naming the flag or the variable."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hookcatcher.core.body import DEFAULT_MAX_BODY
from hookcatcher.core.units import parse_size
from hookcatcher.receive.access import check_host
from hookcatcher.receive.answers import Answers
from hookcatcher.receive.connections import (
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEAD_TIMEOUT,
    DEFAULT_KEEP_ALIVE,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MIN_BODY_RATE,
    ConnectionLimits,
    resolved,
)
from hookcatcher.receive.store import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS
from hookcatcher.remote import DEFAULT_PORT, check_token

if TYPE_CHECKING:
    pass


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


def typed(convert: Callable[[str], object], flag: str) -> Callable[[str], object]:
    """An argparse type that says which flag a bad value was given to."""

    def parse(text: str) -> object:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = flag
    return parse


_T = TypeVar("_T")


_D = TypeVar("_D")


def env(name: str, convert: Callable[[str], _T], default: _D) -> _FromEnvironment[_T] | _D:
    """A flag's default from HOOKCATCHER_<NAME>, read only when the command that runs uses
    the flag: `HOOKCATCHER_PORT=abc hookcatcher validate x.json` is no error, since validate
    listens on no port (Arguments resolves it on first use)."""
    variable = f"HOOKCATCHER_{name.upper().replace('-', '_')}"
    value = os.environ.get(variable)
    if value is None or value == "":
        return default
    return _FromEnvironment(variable, value, convert)


def env_now(name: str, convert: Callable[[str], _T], default: _D) -> _T | _D:
    """The same, read at once (a repeatable flag's list, which argparse appends to)."""
    value = env(name, convert, default)
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


class Parser(argparse.ArgumentParser):
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


def common_options() -> Parser:
    # A Parser like the commands it is a parent of: typeshed types a command's parents
    # as its own parser class (argparse only copies their options).
    options = Parser(add_help=False)
    group = options.add_argument_group("server options (also HOOKCATCHER_<NAME>)")
    listen_options(group, DEFAULT_PORT)
    group.add_argument(
        "--max-events",
        type=typed(_positive_int, "--max-events"),
        default=env("max-events", _positive_int, DEFAULT_MAX_EVENTS),
        help=f"captures kept before the oldest is evicted (default {DEFAULT_MAX_EVENTS:,})",
    )
    group.add_argument(
        "--max-bytes",
        type=typed(parse_size, "--max-bytes"),
        default=env("max-bytes", parse_size, DEFAULT_MAX_BYTES),
        help="bytes of captures kept before the oldest is evicted (default 256MiB)",
    )
    group.add_argument(
        "--max-body",
        type=typed(_body_size, "--max-body"),
        default=env("max-body", _body_size, DEFAULT_MAX_BODY),
        help="largest request body taken (default 64MiB: media arrive as base64); "
        "a larger one is answered 413 and recorded without its body",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=env("json", _truthy, False),
        help="print one JSON line per capture instead of a text line",
    )
    server_token_option(
        group,
        "--token",
        "require this token for /_hookcatcher/ and "
        "/_gateway/: Authorization: Bearer T, or ?token=T (EventSource); the "
        "mocked gateways also take it as Evolution's apikey header",
    )
    group.add_argument(
        "--ingest-token",
        metavar="T",
        type=typed(check_token, "--ingest-token"),
        default=env("ingest-token", check_token, None),
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
        default=env("save", str, None),
        help="append every capture to FILE before it is answered, so a crash "
        "loses nothing that was acknowledged (an existing FILE is "
        "added to, never truncated)",
    )
    session.add_argument(
        "--fsync",
        action="store_true",
        default=env("fsync", _truthy, False),
        help="with --save: answer only once the line is on disk (power-loss safe; slower)",
    )
    session.add_argument(
        "--load",
        metavar="FILE",
        default=env("load", str, None),
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
        type=typed(positive_float, "--head-timeout"),
        default=env("head-timeout", positive_float, DEFAULT_HEAD_TIMEOUT),
        help="close a connection that has not sent a whole request head this "
        f"long after opening or after its last answer (default "
        f"{DEFAULT_HEAD_TIMEOUT:g})",
    )
    group.add_argument(
        "--body-timeout",
        metavar="SECONDS",
        type=typed(positive_float, "--body-timeout"),
        default=env("body-timeout", positive_float, DEFAULT_BODY_TIMEOUT),
        help="close a connection whose request body sends nothing this long "
        f"(default {DEFAULT_BODY_TIMEOUT:g})",
    )
    group.add_argument(
        "--min-body-rate",
        metavar="BYTES",
        type=typed(parse_size, "--min-body-rate"),
        default=env("min-body-rate", parse_size, DEFAULT_MIN_BODY_RATE),
        help="and one whose body averages less than this a second once "
        "--body-timeout has passed (default 1KiB; 0: no minimum)",
    )
    group.add_argument(
        "--keep-alive",
        metavar="SECONDS",
        type=typed(positive_float, "--keep-alive"),
        default=env("keep-alive", positive_float, DEFAULT_KEEP_ALIVE),
        help="close a connection idle this long after an answer (default "
        f"{DEFAULT_KEEP_ALIVE:g}; --head-timeout ends it anyway)",
    )
    group.add_argument(
        "--max-connections",
        metavar="N",
        type=typed(_positive_int, "--max-connections"),
        default=env("max-connections", _positive_int, None),
        help="open connections at most; at the bound a new one closes the "
        "longest idle (default: what the open-file limit allows, up to "
        f"{DEFAULT_MAX_CONNECTIONS:,})",
    )


def connection_limits(args: argparse.Namespace) -> ConnectionLimits:
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


def listen_options(group: argparse._ActionsContainer, default_port: int) -> None:
    """--host and --port: where a command that runs the receiver listens."""
    group.add_argument(
        "--host",
        default=env("host", str, "127.0.0.1"),
        help="address to listen on (default 127.0.0.1)",
    )
    shown = f"{default_port}; 0 picks a free one" if default_port else "a free one"
    group.add_argument(
        "--port",
        type=typed(_port, "--port"),
        default=env("port", _port, default_port),
        help=f"port to listen on (default {shown})",
    )
    group.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        type=typed(check_host, "--allow-host"),
        default=env_now("allow-host", _host_list, None),
        help="a Host name /_hookcatcher/ and /_gateway/ answer to besides IP "
        "addresses and localhost (repeatable; HOOKCATCHER_ALLOW_HOST takes "
        "several, comma-separated): other names are refused, as a page on "
        "a DNS-rebinding domain would send them",
    )


def server_token_option(group: argparse._ActionsContainer, flag: str, help: str) -> None:
    """The token that guards this receiver's own API (HOOKCATCHER_TOKEN)."""
    group.add_argument(
        flag,
        metavar="T",
        type=typed(check_token, flag),
        default=env("token", check_token, None),
        help=help,
    )


def _env_list(name: str) -> list[str] | None:
    """A repeatable flag from the environment: one value (the command line adds more)."""
    value = env_now(name, str, None)
    return None if value is None else [str(value)]


def answer_rules(args: argparse.Namespace) -> Answers:
    try:
        return Answers.from_flags(args.respond, args.delay, args.fail_first)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not value > 0:
        raise ValueError(f"{text!r} must be more than 0")
    return value


def delivery_options() -> Parser:
    """What replay and send share: where to, in which form, how fast."""
    options = Parser(add_help=False)  # a Parser: see common_options
    where = options.add_argument_group("where to")
    where.add_argument(
        "--to",
        metavar="URL",
        default=env("to", str, None),
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
        default=env("server", str, None),
        help="with --instance: the hookcatcher holding that configuration "
        f"(default --from, else http://127.0.0.1:{DEFAULT_PORT}; also "
        "HOOKCATCHER_SERVER)",
    )
    token_option(where, "the token of the hookcatcher that --from or --server names")
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
        type=typed(_positive_int, "--concurrency"),
        default=1,
        help="requests in flight at once (default 1: strictly in order)",
    )
    pace.add_argument(
        "--rate",
        type=typed(positive_float, "--rate"),
        default=None,
        metavar="PER_SECOND",
        help="at most this many requests per second",
    )
    pace.add_argument(
        "--repeat",
        type=typed(_positive_int, "--repeat"),
        default=1,
        help="send the whole list this many times (default 1)",
    )
    pace.add_argument(
        "--timeout",
        type=typed(positive_float, "--timeout"),
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


def _host_list(text: str) -> list[str]:
    return [check_host(name) for name in text.replace(",", " ").split()]


def token_option(group: argparse._ActionsContainer, what: str) -> None:
    """`--token T` for a command that reads a hookcatcher server (also HOOKCATCHER_TOKEN,
    the variable that server may have been started with)."""
    group.add_argument(
        "--token",
        metavar="T",
        type=typed(check_token, "--token"),
        default=env("token", check_token, None),
        help=f"{what} (also HOOKCATCHER_TOKEN)",
    )

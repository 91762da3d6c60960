"""The command line's shape: every command, its flags, its help and its examples; an option
typed before the command is refused rather than silently dropped."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from hookcatcher import __version__
from hookcatcher.cli import export
from hookcatcher.cli.options import (
    Parser,
    UsageError,
    common_options,
    delivery_options,
    env,
    listen_options,
    positive_float,
    server_token_option,
    token_option,
    typed,
)
from hookcatcher.remote import DEFAULT_PORT, check_token

if TYPE_CHECKING:
    pass


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = Parser(
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
    token_option(tui, "the token that server was started with")
    for command in (parser, tui):
        command.add_argument(
            "--filter",
            metavar="QUERY",
            default=env("filter", str, ""),
            help="start the inspector with this filter (also HOOKCATCHER_FILTER)",
        )

    delivery = delivery_options()
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
    exporter.set_defaults(token=env("token", check_token, None))
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
        "hookcatcher attach whapi --api https://gate.whapi.cloud --gateway-token T --no-tui",
        "hookcatcher attach codechat --api http://127.0.0.1:8084 --gateway-token JWT --instance a",
    ],
    "doctor": [
        "hookcatcher doctor evolution --api http://127.0.0.1:8080 --apikey K --instance sales",
        "hookcatcher doctor whapi --api https://gate.whapi.cloud --gateway-token T --json",
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
            "--gateway-token",
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
            type=typed(positive_float, "--timeout"),
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
    listen_options(here, 0)
    server_token_option(
        here,
        "--token",
        "require this token for /_hookcatcher/ (as hookcatcher serve --token; also "
        "HOOKCATCHER_TOKEN): needed with --host 0.0.0.0",
    )
    here.add_argument(
        "--server-token",
        dest="old_server_token",
        metavar="T",
        default=None,
        help=argparse.SUPPRESS,  # 0.1's name for --token, taken this release with a notice
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
        "--token",
        dest="token",
        metavar="TOKEN",
        default=None,
        help=argparse.SUPPRESS,  # 0.1's name for --gateway-token, taken with a notice
    )
    doctor.add_argument(
        "--expect",
        nargs="+",
        metavar="EVENT",
        default=(),
        help="events your app handles (messages.upsert ...): each must be subscribed",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON document, for scripts")


def refuse_misplaced(parser: argparse.ArgumentParser, argv: list[str]) -> None:
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

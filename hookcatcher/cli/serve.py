"""`hookcatcher` (the main job: the server with the inspector open on it) and `hookcatcher
serve` (headless: one line per capture)."""

from __future__ import annotations

import signal
import sys

import click

from hookcatcher import __version__
from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, Command, UsageError, examples, option
from hookcatcher.cli.receiver import (
    ServerSettings,
    build_receiver,
    say,
    server_options,
    warn_if_exposed,
)

__all__ = ["command", "main_job"]


@click.command(
    "hookcatcher",
    cls=Command,
    context_settings={**CONTEXT, "allow_interspersed_args": False},
    hidden=True,
    epilog=examples(
        "hookcatcher                              server on 127.0.0.1:8787 and the inspector",
        "hookcatcher --port 9000 --save day.jsonl  keep every capture in a file too",
        "hookcatcher serve --json                 headless, one JSON line per capture",
    ),
)
@server_options
@option("--filter", env="filter", metavar="QUERY", default="", section="the inspector",
        help="start the inspector with this filter")  # fmt: skip
@click.argument("rest", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def main_job(ctx: click.Context, server: ServerSettings, filter: str, rest: tuple[str, ...]) -> int:
    """The server with the inspector; without a terminal, headless (as serve)."""
    if rest:
        _refuse_misplaced(ctx, rest)
    if sys.stdin.isatty() and sys.stdout.isatty():
        return serve_and_inspect(server, filter)
    say(
        "hookcatcher: no terminal to draw the inspector on: running headless (as hookcatcher serve)"
    )
    return serve(server)


def _refuse_misplaced(ctx: click.Context, rest: tuple[str, ...]) -> None:
    """An option typed before a command belongs to `hookcatcher` itself, and the command
    would run without it (`hookcatcher --token T serve` once served without a token)."""
    typed: list[str] = ctx.meta.get("hookcatcher.argv", [])
    given = [word for word in typed if word.startswith("-")]
    if rest[0] in COMMANDS and given:
        first = given[0].split("=", 1)[0]
        raise UsageError(
            f"{first} goes after the command: hookcatcher {rest[0]} {first} ... "
            "(options before a command would be ignored)"
        )
    raise UsageError(
        f"no such command {rest[0]!r} (the commands: {', '.join(COMMANDS)}; hookcatcher --help)"
    )


@click.command(
    "serve",
    cls=Command,
    context_settings=CONTEXT,
    short_help=COMMANDS["serve"][1],
    epilog=examples(
        "hookcatcher serve                        listen on 127.0.0.1:8787",
        "hookcatcher serve --host 0.0.0.0 --token T   reachable from Docker, API behind a token",
        "hookcatcher serve --respond 'event:messages.*=503' --fail-first 2",
        "hookcatcher serve --save day.jsonl --json | jq .event",
    ),
)
@server_options
def command(server: ServerSettings) -> int:
    """Headless server: prints the URLs to point a gateway at, then one line per capture."""
    return serve(server)


def serve_and_inspect(settings: ServerSettings, filter_text: str) -> int:
    """The main job: the server on a background thread, the inspector in the foreground."""
    from hookcatcher.receive.runner import BackgroundServer
    from hookcatcher.tui import InspectorApp

    # Quiet: a line on stderr would be drawn over the screen; failures are said at the end.
    receiver = build_receiver(settings, say=None)
    store, session = receiver.store, receiver.session
    warn_if_exposed(receiver.sock, receiver.access)  # before the screen hides it
    server = BackgroundServer(
        receiver.app, sock=receiver.sock, quiet=True, limits=receiver.limits
    ).start()
    try:
        InspectorApp(
            server.url, filter_text=filter_text, redact=settings.redact, token=settings.token
        ).run()
    finally:
        server.stop()
        if session is not None:
            session.close()
    say(f"hookcatcher: stopped; {store.received - store.loaded:,} captures received")
    if session is not None and session.failed:
        say(
            f"hookcatcher: {session.failed:,} captures could not be saved to "
            f"{session.path} (their senders were answered 5xx)"
        )
    return 0


def serve(settings: ServerSettings) -> int:
    from hookcatcher.receive.printer import LinePrinter, banner
    from hookcatcher.receive.runner import run, url_of

    receiver = build_receiver(settings, say=say)
    sock, store, session, notes = receiver.sock, receiver.store, receiver.session, receiver.notes
    url = url_of(sock)
    out = sys.stderr if settings.json else sys.stdout
    printer = LinePrinter(as_json=settings.json, redact=settings.redact)
    store.subscribe(printer)
    store.on_delivery(printer.delivered)
    # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again; as
    # KeyboardInterrupt, SIGTERM then ends as Ctrl+C does: through the `finally` below. Set
    # before the banner, so a signal sent as soon as the banner is read stops it cleanly too.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(banner(url, __version__, receiver.answers.describe()), file=out, flush=True)
        if notes:
            print("\n".join(notes) + "\n", file=out, flush=True)
        warn_if_exposed(sock, receiver.access)
        run(receiver.app, sock, receiver.limits)
    except KeyboardInterrupt:
        pass
    finally:
        printer.close()
        if session is not None:
            session.close()  # after the last request: uvicorn has let them finish
    return 0

"""`hookcatcher tui`: the inspector on a server started elsewhere (over its HTTP API and
stream only), or on a session saved with --save."""

from __future__ import annotations

import sys

import click

from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, TOKEN, Command, UsageError, examples, is_url, option
from hookcatcher.cli.receiver import say_problems
from hookcatcher.remote import DEFAULT_URL

__all__ = ["command", "inspect_server", "inspect_session"]


@click.command(
    "tui",
    cls=Command,
    context_settings=CONTEXT,
    short_help=COMMANDS["tui"][1],
    epilog=examples(
        "hookcatcher tui                          the inspector on a server already running",
        "hookcatcher tui --connect http://10.0.0.5:8787 --token T",
        "hookcatcher tui day.jsonl                 a saved session",
    ),
)
@click.argument("session", metavar="[FILE]", required=False)
@option("--connect", env="connect", metavar="URL", help=f"the server's URL (default {DEFAULT_URL})")
@option("--token", env="token", type=TOKEN, help="the token that server was started with")
@option(
    "--filter",
    env="filter",
    metavar="QUERY",
    default="",
    help="start the inspector with this filter",
)
@option(
    "--redact/--no-redact",
    default=True,
    help="hide secrets (apikey, Authorization, tokens, JWTs; default); h toggles it",
)
def command(
    session: str | None, connect: str | None, token: str | None, filter: str, redact: bool
) -> int:
    """Open the inspector on a hookcatcher server started elsewhere (hookcatcher serve),
    over HTTP and SSE only; or, given a FILE, on a session saved with --save."""
    if session is not None and connect is not None:
        raise UsageError(
            f"tui takes a session FILE or --connect URL, not both "
            f"(got {session} and --connect {connect})"
        )
    if session is not None:
        return inspect_session(session, filter, redact)
    return inspect_server(connect or DEFAULT_URL, filter, redact, token)


def inspect_server(
    url: str, filter_text: str, redact: bool = True, token: str | None = None
) -> int:
    """The inspector on a running server; it waits (showing "reconnecting") for one to
    answer, so it can be started before the server."""
    if not is_url(url):
        raise UsageError(f"--connect {url!r} is not a server URL (e.g. http://127.0.0.1:8787)")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "hookcatcher tui needs a terminal to draw on; without one, read the "
            f"server's HTTP API ({url}/_hookcatcher/api/events) instead"
        )
    from hookcatcher.tui import InspectorApp  # Textual loads only when a screen is wanted

    InspectorApp(url, filter_text=filter_text, redact=redact, token=token).run()
    return 0


def inspect_session(path: str, filter_text: str, redact: bool = True) -> int:
    """A saved session in the inspector: a loopback server in this process holds it, so the
    inspector reads it through the same API as a live one (and replays from it alike)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "hookcatcher tui needs a terminal to draw on; without one, serve the "
            f"session (hookcatcher serve --load {path}) and read its HTTP API"
        )
    from hookcatcher.check.validation import Validator
    from hookcatcher.files.session import load
    from hookcatcher.receive.app import create_app
    from hookcatcher.receive.runner import BackgroundServer
    from hookcatcher.receive.store import DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS, Store
    from hookcatcher.tui import InspectorApp

    loaded = load(path)
    say_problems(loaded)
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

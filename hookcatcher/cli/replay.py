"""`hookcatcher replay`: fixture files, folders, session files, bundled fixtures and the
captures of a running hookcatcher, sent into the user's app as the gateway sent them."""

from __future__ import annotations

import sys

import click

from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import CONTEXT, URL, Command, UsageError, examples, option
from hookcatcher.cli.sending import (
    Delivery,
    delivery_options,
    instance_of,
    overridden,
    planner_for,
    run,
    say_problem,
)

__all__ = ["command"]


@click.command(
    "replay",
    cls=Command,
    context_settings=CONTEXT,
    short_help=COMMANDS["replay"][1],
    epilog=examples(
        "hookcatcher replay fixtures/evolution/v2 --to http://127.0.0.1:3000/webhook --by-events",
        "hookcatcher replay day.jsonl --to http://127.0.0.1:3000/webhook --filter 'valid:yes'",
        "hookcatcher replay --from http://127.0.0.1:8787 --to http://127.0.0.1:3000/webhook",
    ),
)
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@option(
    "--from",
    "source_server",
    type=URL,
    metavar="URL",
    section="what",
    help="also replay the captures stored by the hookcatcher at URL",
)
@option(
    "--filter",
    metavar="QUERY",
    default="",
    section="what",
    help="with --from: only captures matching this filter",
)
@delivery_options
def command(
    sources: tuple[str, ...], source_server: str | None, filter: str, delivery: Delivery
) -> int:
    """Send fixture files, folders of them, or the captures of a running hookcatcher into
    your app: each body byte for byte with its headers, in order. One line per request, then
    a summary; exits 1 when any answer was not 2xx or the app could not be reached. SOURCE
    is a fixture or body file, a folder of them, a session file saved with --save, or a
    bundled fixture name."""
    from hookcatcher.remote import RemoteError, SyncRemote
    from hookcatcher.send.sources import Item, SourceError, from_paths, items_of

    if not sources and not source_server:
        raise UsageError(
            "nothing to replay: give fixture files or folders, or --from URL "
            "for the captures of a running hookcatcher"
        )
    items: list[Item] = []
    try:
        items += from_paths(sources, on_problem=say_problem)
        if source_server:
            with SyncRemote(source_server, token=delivery.token, timeout=delivery.timeout) as hc:
                items += items_of(hc.captures(filter))
    except (SourceError, RemoteError) as exc:
        raise UsageError(str(exc)) from None
    planner = planner_for(delivery, instance_of(delivery, source_server))
    if not items:
        print("nothing to replay: no captures matched", file=sys.stderr)
        return 0
    return run(overridden(items, list(delivery.set)), planner, delivery)

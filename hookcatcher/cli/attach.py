"""`hookcatcher attach`: the gateway's webhook pointed at this hookcatcher while the server
(and the inspector) run, and its own configuration put back exactly on exit."""

from __future__ import annotations

import signal
import sys

import click

from hookcatcher import __version__
from hookcatcher.cli.gateway import Gateway, gateway_client, gateway_key, gateway_options
from hookcatcher.cli.main import COMMANDS
from hookcatcher.cli.options import (
    CONTEXT,
    POSITIVE_FLOAT,
    RULE,
    TOKEN,
    Command,
    UsageError,
    examples,
    is_url,
    option,
)
from hookcatcher.cli.receiver import (
    Receiver,
    ServerSettings,
    build_receiver,
    listen_options,
    say,
    warn_if_exposed,
)
from hookcatcher.core.forwarding import DEFAULT_FORWARD_TIMEOUT

__all__ = ["command"]

HERE = "this hookcatcher"
FORWARDING = "forwarding to your app"


def _listen(function: click.decorators.FC) -> click.decorators.FC:
    for add in reversed(listen_options(0)):
        function = add(function)
    return function


@click.command(
    "attach",
    cls=Command,
    context_settings=CONTEXT,
    greedy=("--events",),
    short_help=COMMANDS["attach"][1],
    epilog=examples(
        "hookcatcher attach evolution --api http://127.0.0.1:8080 --apikey K --instance sales",
        "hookcatcher attach whapi --api https://gate.whapi.cloud --gateway-token T --no-tui",
        "hookcatcher attach codechat --api http://127.0.0.1:8084 --gateway-token JWT --instance a",
    ),
)
@gateway_options
@option(
    "--events",
    multiple=True,
    metavar="EVENT",
    section="what it sends",
    help="subscribe only these events (messages.upsert, messages/post ...; several after "
    "one --events; default every event the gateway has)",
)
@option(
    "--by-events",
    is_flag=True,
    section="what it sends",
    help="per-event URLs (Evolution byEvents, Whapi path mode)",
)
@option(
    "--public-url",
    metavar="URL",
    section="what it sends",
    help="the URL to register, when the gateway reaches this machine by another address "
    "(http://host.docker.internal:8787/webhook)",
)
@_listen
@option(
    "--token",
    env="token",
    type=TOKEN,
    section=HERE,
    help="require this token for /_hookcatcher/ (as hookcatcher serve --token): needed "
    "with --host 0.0.0.0",
)
@option("--server-token", "old_server_token", type=TOKEN, hidden=True)  # 0.1's --token
@option(
    "--save",
    metavar="FILE",
    section=HERE,
    help="append every capture to FILE (as hookcatcher serve --save)",
)
@option(
    "--tui/--no-tui",
    default=True,
    section=HERE,
    help="the inspector (default), or one line per capture (as hookcatcher serve)",
)
@option(
    "--redact/--no-redact",
    default=True,
    section=HERE,
    help="hide secrets in printed lines and the inspector (default)",
)
@option(
    "--forward-to",
    multiple=True,
    type=RULE,
    metavar="[SELECTOR=]URL",
    section=FORWARDING,
    help="forward captures here instead of to the instance's own webhook URL",
)
@option(
    "--forward/--no-forward",
    default=True,
    section=FORWARDING,
    help="forward each capture to the webhook URL the instance had (Evolution: attach "
    "replaces it, so your app keeps receiving through hookcatcher; default), or not",
)
@option(
    "--forward-timeout",
    type=POSITIVE_FLOAT,
    default=DEFAULT_FORWARD_TIMEOUT,
    section=FORWARDING,
    help="wait this long for your app's answer (default 10)",
)
def command(
    gateway: Gateway,
    events: tuple[str, ...],
    by_events: bool,
    public_url: str | None,
    host: str,
    port: int,
    allow_host: tuple[str, ...],
    token: str | None,
    old_server_token: str | None,
    save: str | None,
    tui: bool,
    redact: bool,
    forward_to: tuple[str, ...],
    forward: bool,
    forward_timeout: float,
) -> int:
    """Read the instance's webhook configuration from the gateway, save it, point the
    webhook at this hookcatcher (the events asked for, default all), run the server and the
    inspector, and on exit (q, Ctrl-C, SIGTERM) put the saved configuration back exactly.
    Prints what it changed and what it restored; if restoring fails, prints the saved
    configuration and the command that restores it."""
    from hookcatcher.connect.attach import attached, reachability_warning, tap
    from hookcatcher.connect.client import GatewayError
    from hookcatcher.receive.runner import url_of

    if tui and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "hookcatcher attach needs a terminal for the inspector; add --no-tui "
            "to print one line per capture instead"
        )
    _check_events(events)
    key = gateway_key(gateway, "attach", token)  # a missing key is refused before anything is bound
    if public_url is not None and not is_url(public_url):
        raise UsageError(
            f"--public-url {public_url!r} is not a URL the gateway can post "
            "to (e.g. http://host.docker.internal:8787/webhook)"
        )
    token = own_token(token, old_server_token)
    try:
        client = gateway_client(gateway, "attach", key)
        saved = client.read()
    except GatewayError as exc:
        say(f"hookcatcher: {exc}")
        return 1
    targets, per_event = (list(forward_to), False) if forward_to else tap(saved)
    if not forward:
        targets, per_event = [], False
    settings = ServerSettings(
        host=host,
        port=port,
        allow_host=allow_host,
        token=token,
        save=save,
        redact=redact,
        forward_to=tuple(targets),
        forward_timeout=forward_timeout,
    )
    try:
        receiver = build_receiver(settings, say=say)
    except BaseException:
        client.close()
        raise
    url = public_url or f"{url_of(receiver.sock)}/webhook"
    warning = reachability_warning(gateway.api, url)  # said first: it explains what follows
    if warning is not None:
        say(f"hookcatcher: {warning}")
    warn_if_exposed(receiver.sock, receiver.access)
    for target in targets:
        how = " (per event, as the gateway sent it)" if per_event else ""
        say(f"hookcatcher: forwarding every capture to {target}{how}; --no-forward stops it")
    by_events = by_events or per_event
    # SIGTERM, and SIGHUP (the terminal closed), restore the gateway as Ctrl-C does.
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, signal.default_int_handler)
    try:
        with attached(client, url, list(events) or None, by_events, say=say, saved=saved):
            if tui:
                _inspect(receiver, settings)
            else:
                _serve(receiver, settings)
    except GatewayError as exc:
        say(f"hookcatcher: {exc}")
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
        if receiver.session is not None:
            receiver.session.close()
    return 0


def own_token(token: str | None, old_server_token: str | None) -> str | None:
    """hookcatcher's own token: --token, or 0.1's --server-token with a notice."""
    if old_server_token is None:
        return token
    say(
        "hookcatcher: --server-token is now --token (hookcatcher's own token, as in every "
        "command); the old name goes away in the next release"
    )
    return token or old_server_token


def _check_events(events: tuple[str, ...]) -> None:
    from hookcatcher.core import catalog

    for event in events:
        if not any(catalog.find(provider, event) for provider in catalog.PROVIDERS):
            raise UsageError(
                f"--events {event!r} is not an event any gateway sends "
                "(messages.upsert, connection.update, messages/post ...)"
            )


def _serve(receiver: Receiver, settings: ServerSettings) -> None:
    from hookcatcher.receive.printer import LinePrinter
    from hookcatcher.receive.runner import run, url_of

    printer = LinePrinter(redact=settings.redact)
    receiver.store.subscribe(printer)
    receiver.store.on_delivery(printer.delivered)
    try:
        print(
            f"hookcatcher {__version__} is listening on {url_of(receiver.sock)} "
            "(Ctrl-C puts the gateway's configuration back)",
            flush=True,
        )
        run(receiver.app, receiver.sock, receiver.limits)
    finally:
        printer.close()


def _inspect(receiver: Receiver, settings: ServerSettings) -> None:
    from hookcatcher.receive.runner import BackgroundServer
    from hookcatcher.tui import InspectorApp

    server = BackgroundServer(
        receiver.app, sock=receiver.sock, quiet=True, limits=receiver.limits
    ).start()
    app = InspectorApp(server.url, redact=settings.redact, token=settings.token)
    # SIGTERM and SIGHUP close the inspector as q does (the terminal is put back), then the
    # caller restores the gateway.
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, lambda *_: app.exit())
    try:
        app.run()
    finally:
        server.stop()

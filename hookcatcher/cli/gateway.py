"""`attach` and `doctor`: a real gateway's (or the mock's) client from the flags, the
receiver pointed at by the gateway and put back on exit, and the doctor's report."""

from __future__ import annotations

import argparse
import re
import signal
import sys
from typing import TYPE_CHECKING, Any

from hookcatcher import __version__
from hookcatcher.cli.options import Arguments, UsageError, common_options
from hookcatcher.cli.serve import Receiver, build_receiver, say, warn_if_exposed
from hookcatcher.core import catalog
from hookcatcher.receive.printer import LinePrinter
from hookcatcher.receive.runner import BackgroundServer, run, url_of
from hookcatcher.remote import check_token

if TYPE_CHECKING:
    from hookcatcher.connect.client import GatewayClient


def _gateway_key(args: argparse.Namespace) -> str:
    """The credential the gateway's API takes, from the flag that gateway calls it by."""
    if args.gateway == "evolution":
        if not args.apikey:
            raise UsageError(
                f"{args.command} evolution needs --apikey KEY (the gateway's API "
                "key: AUTHENTICATION_API_KEY, or the instance's own)"
            )
        return str(args.apikey)
    if args.gateway_token:
        return str(args.gateway_token)
    if args.command == "doctor" and args.token:
        say(
            "hookcatcher: doctor's --token is now --gateway-token (--token means hookcatcher's "
            "own token everywhere); the old name goes away in the next release"
        )
        return str(args.token)
    what = "the instance's bearer JWT" if args.gateway == "codechat" else "the channel token"
    moved = " (--token is hookcatcher's own token since 0.2.0)" if args.token else ""
    raise UsageError(f"{args.command} {args.gateway} needs --gateway-token TOKEN ({what}){moved}")


def _own_token(args: argparse.Namespace) -> str | None:
    """hookcatcher's own token in attach: --token, or 0.1's --server-token with a notice."""
    if args.old_server_token is not None:
        say(
            "hookcatcher: --server-token is now --token (hookcatcher's own token, as in every "
            "command); the old name goes away in the next release"
        )
        if args.token is None:
            try:
                args.token = check_token(args.old_server_token)
            except ValueError as exc:
                raise UsageError(f"--server-token: {exc}") from None
        args.old_server_token = None  # said once
    token: str | None = args.token
    return token


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
        **vars(common_options().parse_args([])),
        **vars(args),
        "token": _own_token(args),
        "json": False,
    }
    receiver = build_receiver(Arguments(**settings), say=say)
    url = args.public_url or f"{url_of(receiver.sock)}/webhook"
    warning = reachability_warning(args.api, url)  # said first: it explains what may follow
    if warning is not None:
        say(f"hookcatcher: {warning}")
    warn_if_exposed(receiver.sock, receiver.access)
    try:
        client = _gateway_client(args)
    except GatewayError as exc:
        print(f"hookcatcher: {exc}", file=sys.stderr, flush=True)
        return 1
    # SIGTERM, and SIGHUP (the terminal closed), restore the gateway as Ctrl-C does.
    for ending in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(ending, signal.default_int_handler)
    try:
        with attached(client, url, args.events, args.by_events, say=say):
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


def _serve_attached(receiver: Receiver, args: argparse.Namespace) -> None:
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


def _inspect_attached(receiver: Receiver, args: argparse.Namespace) -> None:
    from hookcatcher.tui import InspectorApp

    server = BackgroundServer(
        receiver.app, sock=receiver.sock, quiet=True, limits=receiver.limits
    ).start()
    app = InspectorApp(server.url, redact=args.redact, token=_own_token(args))
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
